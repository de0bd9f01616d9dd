//! Deduplication: a store of delivery ids that are being processed or were processed.
//!
//! The [`Receiver`](crate::Receiver) claims a delivery id only after the signature is verified,
//! completes the claim when the handler answered 2xx, and releases it otherwise, so the
//! provider's retry is processed. A claim carries a lease: if the process dies between claim
//! and complete, the claim can be taken again once the lease has expired.
//!
//! | call | effect |
//! |---|---|
//! | [`claim`](DedupStore::claim) | new id, or expired lease: record it in flight, answer [`Claim::Claimed`] with an owner token; in flight: [`Claim::InFlight`]; completed: [`Claim::Done`] |
//! | [`complete`](DedupStore::complete) | if the token still owns the claim: keep the id as done for the retention period |
//! | [`release`](DedupStore::release) | if the token still owns the claim: forget the id |
//!
//! Complete and release compare the owner token, so a late call from a claim whose lease
//! expired and was taken over never touches the new owner's record.

mod memory;

use std::{fmt, future::Future, pin::Pin, time::Duration};

pub use memory::{DEFAULT_CAPACITY, MemoryStore, MemoryStoreBuilder};

/// The future every store method returns: boxed, so the trait is object safe.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A place to record delivery ids. Object safe: the receiver holds an `Arc<dyn DedupStore>`.
pub trait DedupStore: Send + Sync + fmt::Debug + 'static {
    /// Claims `key` for `lease`.
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Claim>;

    /// Marks the claim of `token` on `key` done, to be remembered for `retention`. Does
    /// nothing if `token` no longer owns the claim.
    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()>;

    /// Forgets the claim of `token` on `key`, so the next delivery of `key` is processed. Does
    /// nothing if `token` no longer owns the claim.
    fn release<'a>(&'a self, key: &'a str, token: &'a ClaimToken) -> StoreFuture<'a, ()>;
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// The id is now claimed by this caller.
    Claimed(ClaimToken),
    /// Another claim on the id is in flight, its lease not expired.
    InFlight,
    /// The id was processed.
    Done,
}

/// The owner token of a claim: 128 random bits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClaimToken(u128);

impl ClaimToken {
    /// A fresh token, unique across processes: a 128-bit random number drawn once per
    /// process from the OS, plus a counter. Owner tokens need to be unique, not secret, so
    /// one system call per process is enough.
    #[must_use]
    pub fn random() -> Self {
        use std::sync::{
            OnceLock,
            atomic::{AtomicU64, Ordering},
        };
        static SEED: OnceLock<u128> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let seed = *SEED.get_or_init(|| {
            let mut bytes = [0_u8; 16];
            // Should the OS generator fail, the time and the process id still make the seed
            // unique among processes running at once.
            if getrandom::fill(&mut bytes).is_err() {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                return nanos ^ (u128::from(std::process::id()) << 96);
            }
            u128::from_le_bytes(bytes)
        });
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        Self(seed.wrapping_add(u128::from(count)))
    }

    /// A token from its 128 bits (stores that keep tokens as text parse them back).
    #[must_use]
    pub fn from_u128(bits: u128) -> Self {
        Self(bits)
    }

    /// The token's bits.
    #[must_use]
    pub fn as_u128(&self) -> u128 {
        self.0
    }
}

impl fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimToken({:032x})", self.0)
    }
}

/// A store call that failed. The receiver answers it per its
/// [`FailMode`](crate::receiver::FailMode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    kind: StoreErrorKind,
    message: String,
}

/// What kind of store failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store could not be reached or answered with an error.
    Unavailable,
    /// The store did not answer in time.
    Timeout,
    /// The store is full of in-flight claims and cannot record another.
    Full,
}

impl StoreError {
    /// A failure of `kind`, with a message for logs.
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// What kind of failure.
    #[must_use]
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            StoreErrorKind::Unavailable => "dedup store unavailable",
            StoreErrorKind::Timeout => "dedup store timed out",
            StoreErrorKind::Full => "dedup store full",
        };
        if self.message.is_empty() {
            f.write_str(kind)
        } else {
            write!(f, "{kind}: {}", self.message)
        }
    }
}

impl std::error::Error for StoreError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_debug_as_hex() {
        let a = ClaimToken::random();
        let b = ClaimToken::random();
        assert_ne!(a, b);
        assert_eq!(
            format!("{:?}", ClaimToken::from_u128(255)),
            format!("ClaimToken({:032x})", 255)
        );
        assert_eq!(ClaimToken::from_u128(a.as_u128()), a);
    }

    #[test]
    fn errors_explain_themselves() {
        let e = StoreError::new(StoreErrorKind::Timeout, "after 250 ms");
        assert_eq!(e.to_string(), "dedup store timed out: after 250 ms");
        assert_eq!(e.kind(), StoreErrorKind::Timeout);
        assert_eq!(
            StoreError::new(StoreErrorKind::Full, "").to_string(),
            "dedup store full"
        );
    }
}
