use super::*;

const A: Token = Token(0xa);
const B: Token = Token(0xb);

/// Runs calls in order on one object, as its storage would, and returns the answers.
fn run(calls: &[(Call, i64)]) -> Vec<Answer> {
    let mut stored = None;
    calls
        .iter()
        .map(|&(call, now)| {
            let step = apply(stored, call, now);
            match step.keep {
                Keep::Unchanged => {}
                Keep::Write(record) => stored = Some(record),
                Keep::Delete => stored = None,
            }
            step.answer
        })
        .collect()
}

fn claim(token: Token) -> Call {
    Call::Claim {
        token,
        millis: 1_000,
    }
}

#[test]
fn claim_complete_and_the_copies_after() {
    let answers = run(&[
        (claim(A), 0),
        (claim(B), 10),
        (claim(A), 20),
        (
            Call::Complete {
                token: A,
                millis: 5_000,
            },
            30,
        ),
        (claim(B), 40),
        (claim(B), 5_029),
        (claim(B), 5_030),
    ]);
    assert_eq!(
        answers,
        [
            Answer::Claimed,
            Answer::InFlight,
            Answer::Claimed, // the owner's retried claim
            Answer::Ok,
            Answer::Done,
            Answer::Done,
            Answer::Claimed, // retention over
        ]
    );
}

#[test]
fn an_expired_lease_is_taken_over_and_the_old_owner_touches_nothing() {
    let answers = run(&[
        (claim(A), 0),
        (claim(B), 1_000),
        (
            Call::Renew {
                token: A,
                millis: 1_000,
            },
            1_001,
        ),
        (
            Call::Complete {
                token: A,
                millis: 5_000,
            },
            1_002,
        ),
        (Call::Release { token: A }, 1_003),
        (claim(A), 1_004),
        (
            Call::Renew {
                token: B,
                millis: 1_000,
            },
            1_005,
        ),
        (claim(A), 2_004),
    ]);
    assert_eq!(
        answers,
        [
            Answer::Claimed,
            Answer::Claimed,
            Answer::Flag { value: false },
            Answer::Ok,
            Answer::Ok,
            Answer::InFlight,
            Answer::Flag { value: true },
            Answer::InFlight, // renewed to 2_005
        ]
    );
}

#[test]
fn a_lease_that_ran_out_untaken_is_still_completed_by_its_owner() {
    let answers = run(&[
        (claim(A), 0),
        (
            Call::Complete {
                token: A,
                millis: 5_000,
            },
            3_000,
        ),
        (claim(B), 3_001),
    ]);
    assert_eq!(answers, [Answer::Claimed, Answer::Ok, Answer::Done]);
}

#[test]
fn a_release_that_finds_nothing_fences_the_late_claim_of_its_token_only() {
    let answers = run(&[
        (Call::Release { token: A }, 0),
        (claim(A), 10),
        (claim(A), FENCE_MILLIS),
        (Call::Release { token: A }, FENCE_MILLIS + 1),
        (claim(B), FENCE_MILLIS + 2),
    ]);
    assert_eq!(
        answers,
        [
            Answer::Ok,
            Answer::InFlight,
            Answer::Claimed, // the fence is lifted
            Answer::Ok,      // the owner's release
            Answer::Claimed,
        ]
    );
    // Another token is never held up by a fence.
    let answers = run(&[(Call::Release { token: A }, 0), (claim(B), 1)]);
    assert_eq!(answers[1], Answer::Claimed);
}

#[test]
fn release_undoes_only_its_own_claim_never_a_done_record() {
    let answers = run(&[
        (claim(A), 0),
        (Call::Release { token: B }, 1),
        (claim(B), 2),
        (
            Call::Complete {
                token: A,
                millis: 5_000,
            },
            3,
        ),
        (Call::Release { token: A }, 4),
        (claim(B), 5),
    ]);
    assert_eq!(
        answers,
        [
            Answer::Claimed,
            Answer::Ok,
            Answer::InFlight,
            Answer::Ok,
            Answer::Ok,
            Answer::Done,
        ]
    );
}

#[test]
fn inspect_and_forget() {
    let answers = run(&[
        (Call::Inspect, 0),
        (claim(A), 0),
        (Call::Inspect, 400),
        (
            Call::Complete {
                token: A,
                millis: 5_000,
            },
            500,
        ),
        (Call::Inspect, 1_500),
        (Call::Forget, 1_600),
        (Call::Forget, 1_700),
        (claim(B), 1_800),
    ]);
    assert_eq!(
        answers,
        [
            Answer::Held { record: None },
            Answer::Claimed,
            Answer::Held {
                record: Some(HeldRecord::InFlight { left: 600 })
            },
            Answer::Ok,
            Answer::Held {
                record: Some(HeldRecord::Done { left: 4_000 })
            },
            Answer::Flag { value: true },
            Answer::Flag { value: false },
            Answer::Claimed,
        ]
    );
}

#[test]
fn the_wire_form_round_trips_and_refuses_junk() {
    let call = Call::Claim {
        token: Token(u128::MAX),
        millis: 30_000,
    };
    let text = serde_json::to_string(&call).expect("serializes");
    assert_eq!(
        text,
        r#"{"call":"claim","token":"ffffffffffffffffffffffffffffffff","millis":30000}"#
    );
    assert_eq!(serde_json::from_str::<Call>(&text).expect("parses"), call);
    for junk in [
        r#"{"call":"claim","token":"zz","millis":1}"#,
        r#"{"call":"claim","token":"1ffffffffffffffffffffffffffffffff","millis":1}"#,
        r#"{"call":"explode"}"#,
        "[]",
    ] {
        assert!(serde_json::from_str::<Call>(junk).is_err(), "{junk}");
    }
    let record = Record::Fence {
        owner: Token(7),
        until: 9,
    };
    let text = serde_json::to_string(&record).expect("serializes");
    assert_eq!(
        serde_json::from_str::<Record>(&text).expect("parses"),
        record
    );
}
