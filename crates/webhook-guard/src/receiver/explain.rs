//! Development mode's answers: which check refused a delivery, and the likely fix. Never a
//! secret, a key or an expected signature: only what the request itself showed.

use http::StatusCode;

use super::{Outcome, Rejection, RejectionKind};
use crate::VerifyError;

/// The likely fix of a rejection, for the explained answer.
pub(super) fn hint(rejection: &Rejection) -> &'static str {
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
    }
}

/// The outcomes whose status can be configured, and the statuses they may take.
pub(super) fn check_status(outcome: Outcome, status: StatusCode) -> Result<(), &'static str> {
    match outcome {
        Outcome::Unauthorized
        | Outcome::Malformed
        | Outcome::TooLarge
        | Outcome::TimedOut
        | Outcome::InFlight
        | Outcome::StoreUnavailable
        | Outcome::Overloaded => {}
        Outcome::Duplicate if status.is_success() => {}
        Outcome::Duplicate => {
            return Err("a duplicate must be answered 2xx: the sender would retry it forever");
        }
        _ => return Err("only the status of a rejection can be configured"),
    }
    if status == StatusCode::GONE {
        return Err("410 tells senders to disable the endpoint");
    }
    Ok(())
}

/// The index of a configurable outcome in the table of statuses.
pub(super) fn slot(outcome: Outcome) -> Option<usize> {
    Some(match outcome {
        Outcome::Unauthorized => 0,
        Outcome::Malformed => 1,
        Outcome::TooLarge => 2,
        Outcome::TimedOut => 3,
        Outcome::Duplicate => 4,
        Outcome::InFlight => 5,
        Outcome::StoreUnavailable => 6,
        Outcome::Overloaded => 7,
        _ => return None,
    })
}

/// The statuses configured, by [`slot`].
pub(super) type Statuses = [Option<StatusCode>; 8];
