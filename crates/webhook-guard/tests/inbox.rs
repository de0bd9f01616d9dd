//! The inbox conformance suite on `MemoryInbox`.
// The inbox workers run on a multi-threaded Tokio runtime, which WebAssembly does not have.
#![cfg(not(target_family = "wasm"))]

use webhook_guard::inbox::{Inbox, MemoryInbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_inbox_conforms() {
    webhook_guard::testkit::inbox::conformance(async || Inbox::new(MemoryInbox::new())).await;
}
