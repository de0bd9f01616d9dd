//! Why a delivery was not handed to the handler, and the HTTP answer for it.

use std::{fmt, time::Duration};

use http::{HeaderMap, HeaderValue, StatusCode, header};

use super::{Outcome, settings::Settings, statuses};
use crate::{ParseError, VerifyError, dedup::StoreError};

/// The `content-type` of every rejection's answer.
const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

/// The header set on the answer to a duplicate of a completed delivery.
pub const DUPLICATE_HEADER: &str = "webhook-guard-duplicate";

/// A delivery the handler will not see, with the HTTP answer it gets.
///
/// Every adapter answers with [`status`](Self::status), [`headers`](Self::headers) and
/// [`public_message`](Self::public_message) as the body: the same answers on every framework.
/// The precise reason ([`Display`](fmt::Display), [`kind`](Self::kind)) is for logs only; the
/// receiver logs it (debug level) and counts it once, where the rejection is made.
///
/// | kind | status | headers |
/// |---|---|---|
/// | [`Unauthorized`](RejectionKind::Unauthorized): missing or invalid signature, bad or stale timestamp | 401 | |
/// | [`Malformed`](RejectionKind::Malformed): body or delivery id unreadable | 400 | |
/// | [`UnreadableBody`](RejectionKind::UnreadableBody): the body stopped arriving | 400 | |
/// | [`BodyTimeout`](RejectionKind::BodyTimeout): the body did not arrive within the read timeout | 408 | |
/// | [`PayloadTooLarge`](RejectionKind::PayloadTooLarge) | 413 | |
/// | [`Duplicate`](RejectionKind::Duplicate) of a completed delivery | 200 | `webhook-guard-duplicate: true` |
/// | [`InFlight`](RejectionKind::InFlight): the same delivery is being processed | 409 | `retry-after` |
/// | [`StoreUnavailable`](RejectionKind::StoreUnavailable), fail-closed | 503 | `retry-after` |
/// | [`Overloaded`](RejectionKind::Overloaded): no memory left in the budget for unverified bodies | 503 | `retry-after` |
/// | [`Queued`](RejectionKind::Queued): stored in the receiver's [inbox](crate::inbox), for a worker | 202 | |
///
/// Never 410: senders take it as "disable this endpoint".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    kind: RejectionKind,
    retry_after: Option<Duration>,
    /// The status configured for this kind (`ReceiverBuilder::rejection_status`), if any.
    status: Option<StatusCode>,
    /// Development mode (`ReceiverBuilder::explain_rejections`): the body says why.
    explain: bool,
}

/// The kinds of [`Rejection`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionKind {
    /// The delivery is not authentic.
    Unauthorized(VerifyError),
    /// The delivery is authentic but its body or delivery id cannot be read.
    Malformed(ParseError),
    /// The body could not be read (the connection failed or timed out while sending it).
    UnreadableBody,
    /// The body did not arrive in full within the adapter's read timeout (a slow or stalled
    /// sender).
    BodyTimeout {
        /// The timeout.
        after: Duration,
    },
    /// The body is longer than the limit.
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The delivery was already processed.
    Duplicate,
    /// The same delivery is being processed right now.
    InFlight,
    /// The dedup store failed and the receiver is fail-closed.
    StoreUnavailable(StoreError),
    /// The body could not be buffered within the [`MemoryBudget`](crate::MemoryBudget) of
    /// unverified bodies, even after a short wait (many large bodies arrive at once).
    Overloaded,
    /// Not a refusal: the delivery is committed to the receiver's [inbox](crate::inbox), and
    /// a worker will run the handler.
    Queued,
}

impl Rejection {
    pub(crate) fn new(kind: RejectionKind, retry_after: Option<Duration>) -> Self {
        Self {
            kind,
            retry_after,
            status: None,
            explain: false,
        }
    }

    /// What happened.
    #[must_use]
    pub fn kind(&self) -> &RejectionKind {
        &self.kind
    }

    /// The HTTP status to answer with: the one configured for its kind
    /// (`ReceiverBuilder::rejection_status`), else the default of the table above.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        if let Some(status) = self.status {
            return status;
        }
        match self.kind {
            RejectionKind::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            RejectionKind::Malformed(_) | RejectionKind::UnreadableBody => StatusCode::BAD_REQUEST,
            RejectionKind::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            RejectionKind::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            RejectionKind::Duplicate => StatusCode::OK,
            RejectionKind::Queued => StatusCode::ACCEPTED,
            RejectionKind::InFlight => StatusCode::CONFLICT,
            RejectionKind::StoreUnavailable(_) | RejectionKind::Overloaded => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// The headers to answer with: `content-type: text/plain; charset=utf-8`, the duplicate
    /// header on a [`Duplicate`](RejectionKind::Duplicate), `retry-after` (whole seconds) on
    /// [`InFlight`](RejectionKind::InFlight) and
    /// [`StoreUnavailable`](RejectionKind::StoreUnavailable).
    #[must_use]
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(2);
        headers.insert(header::CONTENT_TYPE, TEXT_PLAIN);
        if self.kind == RejectionKind::Duplicate {
            headers.insert(
                header::HeaderName::from_static(DUPLICATE_HEADER),
                HeaderValue::from_static("true"),
            );
        }
        if let Some(after) = self.retry_after {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(after.as_secs().max(1)),
            );
        }
        headers
    }

    /// A short answer body that says nothing about keys or which check failed.
    #[must_use]
    pub fn public_message(&self) -> &'static str {
        match &self.kind {
            RejectionKind::Unauthorized(e) => e.public_message(),
            RejectionKind::Malformed(e) => e.public_message(),
            RejectionKind::UnreadableBody => "could not read the webhook body",
            RejectionKind::BodyTimeout { .. } => "webhook body not received in time",
            RejectionKind::PayloadTooLarge { .. } => "webhook body too large",
            RejectionKind::Duplicate => "duplicate delivery, already processed",
            RejectionKind::Queued => "accepted, queued for processing",
            RejectionKind::InFlight => "this delivery is being processed, retry later",
            RejectionKind::StoreUnavailable(_) | RejectionKind::Overloaded => {
                "temporarily unavailable, retry later"
            }
        }
    }

    /// The answer's body: [`public_message`](Self::public_message), or in development mode
    /// (`ReceiverBuilder::explain_rejections`) which check failed and the likely fix, never
    /// a secret or an expected signature.
    #[must_use]
    pub fn body(&self) -> std::borrow::Cow<'static, str> {
        if self.explain {
            std::borrow::Cow::Owned(format!("{self}\nlikely fix: {}\n", hint(self)))
        } else {
            std::borrow::Cow::Borrowed(self.public_message())
        }
    }

    /// Logs the precise reason (debug level), counts the outcome, and applies the receiver's
    /// answer settings (status, development mode): the one place every rejection is recorded.
    pub(crate) fn record(&mut self, settings: &Settings) {
        if self.kind == RejectionKind::Queued {
            tracing::debug!("webhook stored in the inbox");
        } else {
            tracing::debug!(reason = %self, "webhook rejected");
        }
        let outcome = self.outcome();
        settings.labels.outcome(outcome);
        self.explain = settings.explain_rejections;
        self.status = statuses::slot(outcome).and_then(|slot| settings.statuses[slot]);
    }

    /// The outcome logged and counted for this rejection.
    #[must_use]
    pub fn outcome(&self) -> Outcome {
        match self.kind {
            RejectionKind::Unauthorized(_) => Outcome::Unauthorized,
            RejectionKind::Malformed(_) | RejectionKind::UnreadableBody => Outcome::Malformed,
            RejectionKind::BodyTimeout { .. } => Outcome::TimedOut,
            RejectionKind::PayloadTooLarge { .. } => Outcome::TooLarge,
            RejectionKind::Duplicate => Outcome::Duplicate,
            RejectionKind::InFlight => Outcome::InFlight,
            RejectionKind::StoreUnavailable(_) => Outcome::StoreUnavailable,
            RejectionKind::Overloaded => Outcome::Overloaded,
            RejectionKind::Queued => Outcome::Queued,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RejectionKind::Unauthorized(e) => write!(f, "rejected: {e}"),
            RejectionKind::Malformed(e) => write!(f, "rejected: {e}"),
            RejectionKind::UnreadableBody => f.write_str("rejected: the body could not be read"),
            RejectionKind::BodyTimeout { after } => write!(
                f,
                "rejected: the body did not arrive within {} ms",
                after.as_millis()
            ),
            RejectionKind::PayloadTooLarge { limit } => {
                write!(f, "rejected: body longer than {limit} bytes")
            }
            RejectionKind::Duplicate => f.write_str("duplicate of a completed delivery"),
            RejectionKind::InFlight => f.write_str("duplicate of a delivery in flight"),
            RejectionKind::StoreUnavailable(e) => write!(f, "refused, fail-closed: {e}"),
            RejectionKind::Overloaded => {
                f.write_str("refused: no memory left in the budget for unverified bodies")
            }
            RejectionKind::Queued => f.write_str("stored in the inbox for a worker"),
        }
    }
}

impl std::error::Error for Rejection {}

/// Development mode's answers: which check refused a delivery, and the likely fix. Never a
/// secret, a key or an expected signature: only what the request itself showed.
/// The likely fix of a rejection, for the explained answer.
fn hint(rejection: &Rejection) -> &'static str {
    match rejection.kind() {
        RejectionKind::Unauthorized(error) => match error {
            VerifyError::MissingHeader { .. } | VerifyError::Unsigned => {
                "the provider's signature header is missing: check that the request comes from the provider and that no proxy drops the header"
            }
            VerifyError::SignatureMismatch => {
                "no signature matches the configured secrets: check the secret (during a rotation, configure the old and the new one), and that the guard sees the raw body as sent, not JSON parsed and written again (`webhook-guard verify` tells them apart)"
            }
            VerifyError::TimestampOutOfTolerance { .. } => {
                "the signed timestamp is outside the tolerance: a replay, a delivery held in a queue, or a clock that is off on either side (check NTP)"
            }
            _ => {
                "a signature header is not in the provider's format: is this endpoint configured for the right provider?"
            }
        },
        RejectionKind::Malformed(_) => {
            "the signature matched, but the body is not the JSON this provider sends, or its delivery id is missing: is the endpoint configured for the right provider?"
        }
        RejectionKind::UnreadableBody => "the connection broke while the body was sent",
        RejectionKind::BodyTimeout { .. } => {
            "the body arrived too slowly: raise `ReceiverBuilder::body_timeout` if the sender is that slow"
        }
        RejectionKind::PayloadTooLarge { .. } => {
            "raise `ReceiverBuilder::body_limit` if the sender's deliveries are this large"
        }
        RejectionKind::Duplicate => {
            "this delivery was processed already; a retry or a replay is answered without running the handler again"
        }
        RejectionKind::InFlight => {
            "the same delivery is being processed now; retry after the time in `retry-after`"
        }
        RejectionKind::StoreUnavailable(_) => {
            "the dedup store did not answer: check its connection (`Receiver::health` reports it)"
        }
        RejectionKind::Overloaded => {
            "too many unverified bodies at once: raise the `MemoryBudget`, or add replicas"
        }
        RejectionKind::Queued => {
            "stored: a worker runs the handler (`webhook-guard inbox list` shows the entry)"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::StoreErrorKind;

    /// Every kind of rejection explains itself in development mode (a reason and a likely
    /// fix) and answers its short generic text otherwise.
    #[test]
    fn every_kind_explains_itself_only_in_development_mode() {
        let not_json = serde_json::from_slice::<serde_json::Value>(b"{").expect_err("not JSON");
        let kinds = [
            RejectionKind::Unauthorized(VerifyError::SignatureMismatch),
            RejectionKind::Unauthorized(VerifyError::Unsigned),
            RejectionKind::Unauthorized(VerifyError::InvalidTimestamp),
            RejectionKind::Unauthorized(VerifyError::TimestampOutOfTolerance {
                skew_seconds: 3600,
                tolerance_seconds: 300,
            }),
            RejectionKind::Malformed(ParseError::invalid_json(&not_json)),
            RejectionKind::UnreadableBody,
            RejectionKind::BodyTimeout {
                after: Duration::from_secs(30),
            },
            RejectionKind::PayloadTooLarge { limit: 10 },
            RejectionKind::Duplicate,
            RejectionKind::InFlight,
            RejectionKind::StoreUnavailable(StoreError::new(StoreErrorKind::Timeout, "slow")),
            RejectionKind::Overloaded,
            RejectionKind::Queued,
        ];
        let mut hints = std::collections::HashSet::new();
        for kind in kinds {
            let mut rejection = Rejection::new(kind, None);
            assert_eq!(rejection.body(), rejection.public_message());
            rejection.explain = true;
            let body = rejection.body();
            let (reason, fix) = body
                .split_once("\nlikely fix: ")
                .expect("a reason and a fix");
            assert_eq!(reason, rejection.to_string());
            assert!(fix.len() > 20, "{body}");
            hints.insert(hint(&rejection));
        }
        assert!(hints.len() >= 11, "a hint of its own for nearly every kind");
    }
}
