//! Deduplication: a store of delivery ids that are being processed or were processed.
//!
//! The [`Receiver`](crate::Receiver) claims a delivery id only after the signature is verified,
//! completes the claim when the handler answered 2xx, and releases it otherwise, so the
//! provider's retry is processed. A claim carries a lease: if the process dies between claim
//! and complete, the claim can be taken again once the lease has expired.
//!
//! | call | effect |
//! |---|---|
//! | [`claim`](DedupStore::claim) | new key, or expired lease: record it in flight for the caller's owner token, answer [`Claim::Claimed`]; in flight: [`Claim::InFlight`]; completed: [`Claim::Done`] |
//! | [`renew`](DedupStore::renew) | if the token still owns the claim: extend its lease (the receiver renews while the handler runs) |
//! | [`complete`](DedupStore::complete) | if the token still owns the claim: keep the key as done for the retention period |
//! | [`release`](DedupStore::release) | if the token still owns the claim: forget the key |
//!
//! Renew, complete and release compare the owner token, so a late call from a claim whose lease
//! expired and was taken over never touches the new owner's record. The caller chooses the
//! token before it claims: a claim whose call timed out may still have been recorded, and the
//! receiver then releases it with that token once the store answers again.
//!
//! A [`TransactionalStore`] goes further: the claim is written in a database transaction the
//! handler writes in too, committed only when it answers 2xx, so the handler's effects happen
//! once (see the [`transaction`] module's table).
//!
//! Keys are [`DedupKey`]s: a namespace (provider, endpoint, and whether the delivery was signed)
//! and an id. A store bounds its records per namespace, so a flood through one provider cannot
//! evict another's.

mod memory;
pub mod transaction;

use std::{fmt, future::Future, pin::Pin, time::Duration};

pub use memory::{DEFAULT_CAPACITY, MemoryStore, MemoryStoreBuilder};
pub use transaction::{Begin, Transaction, TransactionHandle, TransactionalStore};

/// The future every store method returns: boxed, so the trait is object safe.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A place to record delivery ids. Object safe: the receiver holds an `Arc<dyn DedupStore>`.
pub trait DedupStore: Send + Sync + fmt::Debug + 'static {
    /// Claims `key` for `token`, for `lease`.
    fn claim<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, Claim>;

    /// Extends the lease of `token`'s claim on `key` to `lease` from now. `false` if `token`
    /// no longer owns the claim (it expired and was taken, or was settled).
    fn renew<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, bool>;

    /// Marks the claim of `token` on `key` done, to be remembered for `retention`. Does
    /// nothing if `token` no longer owns the claim.
    fn complete<'a>(
        &'a self,
        key: &'a DedupKey,
        token: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()>;

    /// Forgets the claim of `token` on `key`, so the next delivery of `key` is processed. Does
    /// nothing to a record `token` does not own.
    ///
    /// **Fencing.** A store reached over a network, where a `claim` the caller gave up on (a
    /// time-out) can still be applied later, should *fence* the token when it finds no record
    /// of `key` at all: keep a mark, for a while (the built-in stores: at least 60 s), that
    /// refuses a later `claim` of `key` by this `token` (answered [`Claim::InFlight`]) and
    /// lets any other token claim `key` at once. The receiver releases a claim whose `claim`
    /// call failed until the store answers once; the fence makes the claim that arrives after
    /// that harmless, instead of holding the delivery for a lease. A store whose calls finish
    /// before they answer (as [`MemoryStore`]) needs no fence.
    fn release<'a>(&'a self, key: &'a DedupKey, token: &'a ClaimToken) -> StoreFuture<'a, ()>;

    /// What the store holds for `key`, for operators (`webhook-guard dedup show`): `None`
    /// when nothing, or only a record past its time. The default answers an error: a store
    /// of your own implements it to be inspected.
    fn inspect<'a>(&'a self, key: &'a DedupKey) -> StoreFuture<'a, Option<Record>> {
        let _ = key;
        unsupported("inspect")
    }

    /// Removes whatever the store holds for `key`, a claim or a completed record, so the
    /// next delivery of `key` is processed: for a sender's redelivery after a fix
    /// ([`Receiver::forget`](crate::Receiver::forget)). `true` if there was a record. The
    /// default answers an error: a store of your own implements it to support forgetting.
    fn forget<'a>(&'a self, key: &'a DedupKey) -> StoreFuture<'a, bool> {
        let _ = key;
        unsupported("forget")
    }
}

/// The error of a store call the store does not implement.
pub(crate) fn unsupported<'a, T: Send + 'a>(call: &'static str) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(Err(StoreError::new(
        StoreErrorKind::Unavailable,
        format!("this store does not support `{call}`"),
    ))))
}

/// What a store holds for a key ([`DedupStore::inspect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Record {
    /// A claim in flight: a handler runs (or ran and crashed), its lease ends in `expires_in`.
    InFlight {
        /// How long until the lease ends.
        expires_in: Duration,
    },
    /// A completed delivery, answered as a duplicate for `expires_in` more.
    Done {
        /// How long until the record is forgotten.
        expires_in: Duration,
    },
}

/// The key of a delivery in a store: a namespace and an id, written `namespace:id`.
///
/// The receiver's namespaces are `<provider>:<endpoint>` for signed deliveries and
/// `<provider>:<endpoint>/unsigned` for unsigned ones (names cannot contain `/`), so an
/// unsigned delivery never shares a key with a signed one.
///
/// ```
/// use webhook_guard::dedup::DedupKey;
///
/// let key = DedupKey::new("parallel:main", "whevent_1");
/// assert_eq!(key.as_str(), "parallel:main:whevent_1");
/// assert_eq!(key.namespace(), "parallel:main");
/// assert_eq!(key.id(), "whevent_1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DedupKey {
    text: String,
    namespace: usize,
}

impl DedupKey {
    /// The key of `id` in `namespace`.
    #[must_use]
    pub fn new(namespace: &str, id: &str) -> Self {
        let mut text = String::with_capacity(namespace.len() + 1 + id.len());
        text.push_str(namespace);
        text.push(':');
        text.push_str(id);
        Self {
            text,
            namespace: namespace.len(),
        }
    }

    /// `namespace:id`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The namespace.
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.text[..self.namespace]
    }

    /// The id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.text[self.namespace + 1..]
    }
}

impl fmt::Display for DedupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// The key is now claimed by the caller's token.
    Claimed,
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
    /// process from the OS (on `wasm32-unknown-unknown`, from the host's Web Crypto), plus a
    /// counter. Owner tokens need to be unique, not secret, so
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
            // unique among processes running at once. (WebAssembly has no process ids: a
            // Worker's isolate is the process there, and its Web Crypto does not fail.)
            if getrandom::fill(&mut bytes).is_err() {
                let nanos = web_time::SystemTime::now()
                    .duration_since(web_time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                #[cfg(not(target_family = "wasm"))]
                let process = std::process::id();
                #[cfg(target_family = "wasm")]
                let process = 0_u32;
                return nanos ^ (u128::from(process) << 96);
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
    /// The store (or the key's namespace) is full of in-flight claims and cannot record
    /// another.
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
