//! [`DurableObjectStore`]: the core's [`DedupStore`] on a Durable Object namespace, one object
//! per delivery key.

use std::{fmt, time::Duration};

use futures_util::future::{Either, select};
use webhook_guard::dedup::{
    Claim, ClaimToken, DedupKey, DedupStore, Record, StoreError, StoreErrorKind, StoreFuture,
};
use worker::{
    Env, Method, ObjectNamespace, Request, RequestInit,
    send::{SendFuture, SendWrapper},
};

use crate::record::{Answer, Call, HeldRecord, Token};

/// How long a store call may take before the receiver answers per its fail mode.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// The address the calls are sent to: an object answers whatever its URL, this one only says
/// what the request is in the object's logs.
const CALL_URL: &str = "https://webhook-guard.dedup/call";

/// Deduplication records in a Durable Object namespace: each delivery key is the name of an
/// object of the class [`DedupObject`](crate::DedupObject), which holds that key's one record.
///
/// A Durable Object runs each of its calls alone and stores strongly consistently, so two
/// Workers claiming the same delivery at once, anywhere, get one `Claimed` and one `InFlight`.
/// **Workers KV must not hold claims:** it is eventually consistent (a write can take 60 s or
/// more to be seen elsewhere), so two copies of a delivery arriving at two locations would
/// both be handled.
///
/// ```no_run
/// # #![allow(dead_code)]
/// # fn build(env: &worker::Env) -> worker::Result<()> {
/// use std::sync::Arc;
/// use webhook_guard::{Receiver, parallel::Parallel};
/// use webhook_guard_worker::DurableObjectStore;
///
/// let store = DurableObjectStore::from_env(env, "WEBHOOK_DEDUP")?;
/// let secret = env.secret("PARALLEL_WEBHOOK_SECRET")?.to_string();
/// let receiver = Receiver::builder(Parallel::new(secret).map_err(|e| e.to_string())?)
///     .store(Arc::new(store))
///     .build()
///     .map_err(|e| e.to_string())?;
/// # let _ = receiver; Ok(()) }
/// ```
pub struct DurableObjectStore {
    // A Worker runs on one thread: the namespace, a JavaScript object, never leaves it.
    namespace: SendWrapper<ObjectNamespace>,
    timeout: Duration,
}

impl DurableObjectStore {
    /// A store on `namespace`, the binding of a Durable Object namespace whose class is
    /// [`DedupObject`](crate::DedupObject).
    #[must_use]
    pub fn new(namespace: ObjectNamespace) -> Self {
        Self {
            namespace: SendWrapper(namespace),
            timeout: DEFAULT_CALL_TIMEOUT,
        }
    }

    /// The store on the Durable Object binding named `binding` in the Worker's `env`.
    ///
    /// # Errors
    /// The Worker has no Durable Object binding of that name.
    pub fn from_env(env: &Env, binding: &str) -> worker::Result<Self> {
        env.durable_object(binding).map(Self::new)
    }

    /// How long one store call may take ([`DEFAULT_CALL_TIMEOUT`] unless set); past it the
    /// call fails with [`StoreErrorKind::Timeout`] and the receiver answers per its fail mode.
    #[must_use]
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn send<'a, T: 'a>(
        &'a self,
        key: &'a DedupKey,
        call: Call,
        read: fn(Answer) -> Option<T>,
    ) -> StoreFuture<'a, T> {
        Box::pin(SendFuture::new(async move {
            let sent = Box::pin(self.exchange(key, call));
            let timer = Box::pin(worker::Delay::from(self.timeout));
            let answer = match select(sent, timer).await {
                Either::Left((answer, _)) => answer?,
                Either::Right(((), _)) => {
                    return Err(StoreError::new(
                        StoreErrorKind::Timeout,
                        format!("no answer from the dedup object in {:?}", self.timeout),
                    ));
                }
            };
            read(answer).ok_or_else(|| {
                StoreError::new(
                    StoreErrorKind::Unavailable,
                    format!("the dedup object answered {answer:?} to {call:?}"),
                )
            })
        }))
    }

    async fn exchange(&self, key: &DedupKey, call: Call) -> Result<Answer, StoreError> {
        let unavailable =
            |error: worker::Error| StoreError::new(StoreErrorKind::Unavailable, error.to_string());
        let stub = self
            .namespace
            .0
            .get_by_name(key.as_str())
            .map_err(unavailable)?;
        let body = serde_json::to_string(&call)
            .map_err(|error| StoreError::new(StoreErrorKind::Unavailable, error.to_string()))?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let request = Request::new_with_init(CALL_URL, &init).map_err(unavailable)?;
        let mut response = stub
            .fetch_with_request(request)
            .await
            .map_err(unavailable)?;
        if response.status_code() != 200 {
            let text = response.text().await.unwrap_or_default();
            return Err(StoreError::new(
                StoreErrorKind::Unavailable,
                format!(
                    "the dedup object answered {}: {text}",
                    response.status_code()
                ),
            ));
        }
        response.json::<Answer>().await.map_err(unavailable)
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn token(token: &ClaimToken) -> Token {
    Token(token.as_u128())
}

fn left(millis: i64) -> Duration {
    Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

impl DedupStore for DurableObjectStore {
    fn claim<'a>(
        &'a self,
        key: &'a DedupKey,
        owner: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, Claim> {
        let call = Call::Claim {
            token: token(owner),
            millis: millis(lease),
        };
        self.send(key, call, |answer| match answer {
            Answer::Claimed => Some(Claim::Claimed),
            Answer::InFlight => Some(Claim::InFlight),
            Answer::Done => Some(Claim::Done),
            _ => None,
        })
    }

    fn renew<'a>(
        &'a self,
        key: &'a DedupKey,
        owner: &'a ClaimToken,
        lease: Duration,
    ) -> StoreFuture<'a, bool> {
        let call = Call::Renew {
            token: token(owner),
            millis: millis(lease),
        };
        self.send(key, call, flag)
    }

    fn complete<'a>(
        &'a self,
        key: &'a DedupKey,
        owner: &'a ClaimToken,
        retention: Duration,
    ) -> StoreFuture<'a, ()> {
        let call = Call::Complete {
            token: token(owner),
            millis: millis(retention),
        };
        self.send(key, call, ok)
    }

    fn release<'a>(&'a self, key: &'a DedupKey, owner: &'a ClaimToken) -> StoreFuture<'a, ()> {
        let call = Call::Release {
            token: token(owner),
        };
        self.send(key, call, ok)
    }

    fn inspect<'a>(&'a self, key: &'a DedupKey) -> StoreFuture<'a, Option<Record>> {
        self.send(key, Call::Inspect, |answer| match answer {
            Answer::Held { record } => Some(record.map(|held| match held {
                HeldRecord::InFlight { left: ms } => Record::InFlight {
                    expires_in: left(ms),
                },
                HeldRecord::Done { left: ms } => Record::Done {
                    expires_in: left(ms),
                },
            })),
            _ => None,
        })
    }

    fn forget<'a>(&'a self, key: &'a DedupKey) -> StoreFuture<'a, bool> {
        self.send(key, Call::Forget, flag)
    }
}

fn flag(answer: Answer) -> Option<bool> {
    match answer {
        Answer::Flag { value } => Some(value),
        _ => None,
    }
}

fn ok(answer: Answer) -> Option<()> {
    matches!(answer, Answer::Ok).then_some(())
}

impl fmt::Debug for DurableObjectStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurableObjectStore")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
