//! The traits whose methods most code calls, to import at once:
//! `use webhook_guard::prelude::*;`.
//!
//! ```
//! use webhook_guard::{parallel::Parallel, prelude::*};
//!
//! let parallel = Parallel::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! assert_eq!(parallel.name(), "parallel");
//! # Ok::<(), webhook_guard::ConfigError>(())
//! ```

pub use crate::{
    event::WebhookEvent as _, headers::Headers as _, provider::Authenticator as _,
    provider::Provider as _, scheme::Scheme as _,
};
