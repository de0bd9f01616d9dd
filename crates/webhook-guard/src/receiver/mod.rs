//! The flow of one delivery, owned by the [`Receiver`] from the first body byte to the
//! handler's answer.
//!
//! ```text
//! body buffer         413 from Content-Length at once, 413 past the limit while streaming,
//!                     408 past the read timeout; one contiguous buffer
//! verify(headers, raw body, now)    401 on failure; nothing stored
//! delivery id, scoped as provider:endpoint:id
//! store.claim(key)                  Claimed | Done -> 200 duplicate | InFlight -> 409
//! parse into the provider's event   unknown type -> Unknown variant; not JSON -> 400 (claim released)
//! the handler runs; its status finishes the claim: 2xx completes, anything else, a panic or a
//! dropped request releases
//! ```
//!
//! With a [`TransactionalStore`](crate::dedup::TransactionalStore)
//! ([`ReceiverBuilder::transactional_store`]) the claim is a database transaction instead of a
//! lease: the handler writes in it, a 2xx commits it, anything else rolls it back, and a
//! failed commit is answered 503 (see [`dedup::transaction`](crate::dedup::transaction)).
//!
//! Every rejection and every outcome is logged and counted here, once. A framework adapter
//! (`webhook-guard-tower`, `webhook-guard-actix`) only translates: it hands the core its
//! request's headers and body through [`adapter::read_body`](crate::adapter::read_body) and
//! [`adapter::accept`](crate::adapter::accept), turns
//! a [`Rejection`] into its framework's response, runs the handler with the [`Delivery`], and
//! finishes the claim with the handler's status.
//!
//! ```
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     let mut f = std::pin::pin!(f);
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! # block_on(async {
//! use webhook_guard::{Receiver, adapter, clock::ManualClock, parallel::{Event, Parallel}};
//! use webhook_guard::receiver::RejectionKind;
//!
//! let parallel = Parallel::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let body = String::from(r#"{"type":"monitor.event.detected","timestamp":"2025-10-27T14:56:05.619331Z",
//!   "data":{"monitor_id":"monitor_1","event":{"event_group_id":"mevtgrp_1"}}}"#);
//! let headers = parallel.sign_headers("whevent_1", 1_761_577_000, body.as_bytes())?.to_header_map();
//! let receiver = Receiver::builder(parallel).clock(ManualClock::at_unix_seconds(1_761_577_000)).build()?;
//! let no_runtime = adapter::Runtime { spawn: drop, background: drop, sleep: |_| Box::pin(std::future::pending()) };
//!
//! let no_timer = |_| std::future::pending::<()>();
//! let read = adapter::read_body(&receiver, &headers, body, no_timer).await?;
//! let accepted = adapter::accept(&receiver, &headers, read.clone(), no_runtime).await?;
//! assert!(matches!(accepted.delivery.event, Event::MonitorEventDetected(_)));
//! accepted.claim.finish(http::StatusCode::OK).await?; // the handler answered 200
//!
//! let again = adapter::accept(&receiver, &headers, read, no_runtime).await;
//! let rejection = again.expect_err("a duplicate");
//! assert_eq!(rejection.kind(), &RejectionKind::Duplicate);
//! assert_eq!(rejection.status(), http::StatusCode::OK);
//! assert_eq!(rejection.headers()["webhook-guard-duplicate"], "true");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! The stages run in this order, each in a module of its own: `body` reads (stage 1),
//! `flow` verifies, identifies and parses (stages 2, 3, 5), `dispatch` claims by the
//! receiver's mode (stage 4), and the [`ClaimGuard`](crate::adapter::ClaimGuard) the adapter
//! runs the handler under is settled by `settle` (stages 6 and 7). This module only wires
//! them together. The map is in `ARCHITECTURE.md` at the repository's root.

pub(crate) mod body;
mod breaker;
mod budget;
mod builder;
pub(crate) mod claim;
mod delivery;
mod dispatch;
mod flow;
pub mod metrics;
#[cfg(all(test, feature = "metrics"))]
mod metrics_tests;
mod missing;
mod outcome;
mod recent;
mod rejection;
mod renewer;
pub(crate) mod runtime;
mod settings;
pub(crate) mod settle;
mod statuses;

pub use breaker::{DEFAULT_BREAKER_PROBE_INTERVAL, DEFAULT_BREAKER_THRESHOLD, Health};
pub use budget::{DEFAULT_MEMORY_BUDGET, MemoryBudget, SMALL_BODY};
pub use builder::ReceiverBuilder;
pub use delivery::{Delivery, DeliveryMeta};
pub use flow::{Accepted, Receiver};
pub use missing::MissingDelivery;
pub use outcome::Outcome;
pub use rejection::{DUPLICATE_HEADER, Rejection, RejectionKind};
pub use settings::{
    DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, DEFAULT_ENDPOINT, DEFAULT_LEASE,
    DEFAULT_REPLAY_HORIZON, DEFAULT_RETENTION, DEFAULT_RETRY_AFTER, FailMode,
};
