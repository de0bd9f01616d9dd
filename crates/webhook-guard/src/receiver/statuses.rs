//! The statuses a receiver may be configured to answer for kinds of rejection
//! (`ReceiverBuilder::rejection_status`), and the checks on them.

use http::StatusCode;

use super::Outcome;

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
        Outcome::Duplicate | Outcome::Queued if status.is_success() => {}
        Outcome::Queued => {
            return Err("a stored delivery must be answered 2xx: the sender would retry it");
        }
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
        Outcome::Queued => 8,
        _ => return None,
    })
}

/// The statuses configured, by [`slot`].
pub(super) type Statuses = [Option<StatusCode>; 9];
