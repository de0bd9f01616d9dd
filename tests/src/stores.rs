//! Stores for the store cases: one that always fails, one that counts claims.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use webhook_guard::dedup::{
    Claim, ClaimToken, DedupKey, DedupStore, MemoryStore, StoreError, StoreErrorKind, StoreFuture,
};

/// A store whose every call fails.
#[derive(Debug, Default)]
pub struct BrokenStore {
    calls: AtomicUsize,
}

impl BrokenStore {
    /// How many claims were tried.
    pub fn claims(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn refused<'a, T: Send + 'a>() -> StoreFuture<'a, T> {
    Box::pin(async {
        Err(StoreError::new(
            StoreErrorKind::Unavailable,
            "connection refused",
        ))
    })
}

impl DedupStore for BrokenStore {
    fn claim<'a>(
        &'a self,
        _key: &'a DedupKey,
        _token: &'a ClaimToken,
        _lease: Duration,
    ) -> StoreFuture<'a, Claim> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        refused()
    }

    fn renew<'a>(
        &'a self,
        _key: &'a DedupKey,
        _token: &'a ClaimToken,
        _lease: Duration,
    ) -> StoreFuture<'a, bool> {
        refused()
    }

    fn complete<'a>(
        &'a self,
        _key: &'a DedupKey,
        _token: &'a ClaimToken,
        _retention: Duration,
    ) -> StoreFuture<'a, ()> {
        refused()
    }

    fn release<'a>(&'a self, _key: &'a DedupKey, _token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        refused()
    }
}

/// A `MemoryStore` that counts claims.
#[derive(Debug, Default)]
pub struct CountingStore {
    inner: MemoryStore,
    claims: AtomicUsize,
}

impl CountingStore {
    /// How many claims were made.
    pub fn claims(&self) -> usize {
        self.claims.load(Ordering::SeqCst)
    }
}

impl DedupStore for CountingStore {
    fn claim<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, Claim> {
        self.claims.fetch_add(1, Ordering::SeqCst);
        self.inner.claim(key, token, lease)
    }

    fn renew<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, bool> {
        self.inner.renew(key, token, lease)
    }

    fn complete<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()> {
        self.inner.complete(key, token, retention)
    }

    fn release<'a>(&'a self, key: &'a DedupKey, token: &'a ClaimToken) -> StoreFuture<'a, ()> {
        self.inner.release(key, token)
    }
}
