//! The inbox conformance suite on `MemoryInbox`.

use webhook_guard::inbox::{Inbox, MemoryInbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_inbox_conforms() {
    webhook_guard::testkit::inbox::conformance(async || Inbox::new(MemoryInbox::new())).await;
}
