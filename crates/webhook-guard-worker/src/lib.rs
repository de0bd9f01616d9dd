#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
// Examples in the docs compile without warnings, as users copy them.
#![doc(test(attr(deny(warnings))))]

mod guard;
mod object;
mod record;
mod runtime;
mod store;

pub use guard::guard;
pub use object::DedupObject;
pub use runtime::WORKERS;
pub use store::{DEFAULT_CALL_TIMEOUT, DurableObjectStore};
