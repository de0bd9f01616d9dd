//! Transactional deduplication: the claim on a delivery and the handler's own writes in one
//! database transaction, so its effects happen once.
//!
//! A [`DedupStore`](super::DedupStore) makes the handler *run* once; a crash after the
//! handler's writes and before the claim is completed leaves the effects done and the claim
//! expiring, and the retry runs them again. A [`TransactionalStore`] closes that window: the
//! receiver [begins](TransactionalStore::begin) a transaction that records the delivery id,
//! the adapter hands the handler that transaction (through a [`TransactionHandle`] in the
//! request), and the handler's status decides:
//!
//! | the handler | the transaction |
//! |---|---|
//! | answers 2xx | [committed](Transaction::commit): the id and the handler's writes together. A commit that fails is answered 503, never 2xx, so the provider retries |
//! | answers anything else, panics, or its request is dropped | [rolled back](Transaction::rollback): neither the id nor the writes remain; the retry is processed |
//! | its process dies | the database rolls back by itself when the connection drops: the retry is processed at once, with no lease to wait for |
//!
//! A duplicate of a delivery whose transaction is still open is answered 409 at once (the
//! store must not wait for the other transaction's locks); one of a committed delivery 200
//! with the duplicate header. `webhook-guard-postgres` implements it for Postgres.

use std::{any::Any, fmt, sync::Arc, time::Duration};

use super::{DedupKey, StoreFuture};

/// A store that claims a delivery inside a transaction the handler writes in.
/// Object safe: the receiver holds an `Arc<dyn TransactionalStore>`.
pub trait TransactionalStore: Send + Sync + fmt::Debug + 'static {
    /// Opens a transaction and records `key` in it, to be remembered for `retention` once
    /// committed. Answers [`Begin::InFlight`] without waiting when another open transaction
    /// holds `key`, and [`Begin::Done`] when a committed one recorded it (and its retention
    /// has not run out). On an error, nothing must stay held.
    fn begin<'a>(&'a self, key: &'a DedupKey, retention: Duration) -> StoreFuture<'a, Begin>;

    /// Removes the committed record of `key`, as [`DedupStore::forget`](super::DedupStore::forget). The default
    /// answers an error.
    fn forget<'a>(&'a self, key: &'a DedupKey) -> StoreFuture<'a, bool> {
        let _ = key;
        super::unsupported("forget")
    }
}

/// What [`TransactionalStore::begin`] found.
#[non_exhaustive]
pub enum Begin {
    /// The key is recorded in this open transaction, for the handler to write in.
    Claimed(Box<dyn Transaction>),
    /// Another open transaction holds the key.
    InFlight,
    /// A committed transaction recorded the key.
    Done,
}

impl fmt::Debug for Begin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Claimed(transaction) => f.debug_tuple("Claimed").field(transaction).finish(),
            Self::InFlight => f.write_str("InFlight"),
            Self::Done => f.write_str("Done"),
        }
    }
}

/// An open transaction holding a delivery's claim.
pub trait Transaction: Send + Sync + fmt::Debug + 'static {
    /// What the adapter puts in the request for the handler's extractor, which downcasts it
    /// to the store's own type.
    fn handle(&self) -> TransactionHandle;

    /// Commits the claim and whatever the handler wrote. An error means the commit may not
    /// have happened: the receiver answers 503 and the provider retries (a retry after a
    /// commit that did happen is then a duplicate).
    fn commit(self: Box<Self>) -> StoreFuture<'static, ()>;

    /// Rolls the transaction back: the claim and the handler's writes are gone.
    fn rollback(self: Box<Self>) -> StoreFuture<'static, ()>;
}

/// The handler's way to its delivery's transaction: a type-erased, shared value that a
/// store's extractor downcasts to its own type. Cheap to clone.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use webhook_guard::dedup::TransactionHandle;
///
/// struct MyTransaction(Mutex<Vec<String>>);
///
/// let handle = TransactionHandle::new(Arc::new(MyTransaction(Mutex::new(Vec::new()))));
/// let mine = handle.downcast::<MyTransaction>().expect("the store's own type");
/// mine.0.lock().unwrap().push("INSERT ...".to_owned());
/// assert!(handle.downcast::<String>().is_none());
/// ```
#[derive(Clone)]
pub struct TransactionHandle(Arc<dyn Any + Send + Sync>);

impl TransactionHandle {
    /// A handle on `value`.
    pub fn new<T: Any + Send + Sync>(value: Arc<T>) -> Self {
        Self(value)
    }

    /// The value, if it is a `T`.
    #[must_use]
    pub fn downcast<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        Arc::clone(&self.0).downcast::<T>().ok()
    }
}

impl fmt::Debug for TransactionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransactionHandle").finish_non_exhaustive()
    }
}
