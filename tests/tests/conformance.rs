//! The conformance suite: every case runs against every adapter over real loopback sockets
//! with a real HTTP client, with the same expectations (the cases are in `cases/`), here on
//! the in-memory store.

#[macro_use]
mod cases;

/// Nothing to set up: the in-memory store.
fn in_memory() {}

every_case!(setup = crate::in_memory);
