//! The body buffer's bounds: the announced length, the limit, growth, the memory budget.

use super::*;

#[test]
fn an_announced_length_is_reserved_once_and_checked_against_the_limit() {
    let mut buffer = BodyBuffer::new(1000, Some(600)).expect("within the limit");
    buffer.push(b"x").expect("fits");
    assert_eq!(buffer.capacity(), 600);
    for _ in 1..600 {
        buffer.push(b"x").expect("fits");
    }
    assert_eq!(
        buffer.capacity(),
        600,
        "no growth past the announced length"
    );
    assert_eq!(buffer.finish().len(), 600);
    let refused = BodyBuffer::new(1000, Some(1001)).expect_err("over the limit");
    assert_eq!(refused.status(), http::StatusCode::PAYLOAD_TOO_LARGE);
}

#[test]
fn a_large_announced_length_reserves_only_what_arrives() {
    let announced = 5 << 20;
    let mut buffer = BodyBuffer::new(announced, Some(announced as u64)).expect("at the limit");
    buffer.push(b"x").expect("fits");
    assert_eq!(buffer.capacity(), MAX_UPFRONT_RESERVATION, "one byte in");
    let chunk = vec![b'a'; 1500];
    while buffer.len() + chunk.len() <= announced {
        buffer.push(&chunk).expect("fits");
        assert!(
            buffer.capacity() <= buffer.len() + MAX_GROWTH_STEP,
            "capacity {} for {} bytes",
            buffer.capacity(),
            buffer.len()
        );
        assert!(buffer.capacity() <= announced, "past the announced length");
    }
    let rest = announced - buffer.len();
    buffer.push(&chunk[..rest]).expect("the last bytes");
    assert_eq!(
        buffer.capacity(),
        announced,
        "no growth past the announced length"
    );
    assert_eq!(buffer.finish().len(), announced);
}

#[test]
fn an_unannounced_body_holds_at_most_64_kib_beyond_its_length() {
    for chunk in [1_usize, 7, 1000, 70_000] {
        let mut buffer = BodyBuffer::new(8 << 20, None).expect("no length");
        let data = vec![b'a'; chunk];
        while buffer.len() + chunk <= 4 << 20 {
            buffer.push(&data).expect("fits");
            assert!(
                buffer.capacity() <= buffer.len() + MAX_GROWTH_STEP.max(chunk),
                "{chunk}-byte chunks: capacity {} for {} bytes",
                buffer.capacity(),
                buffer.len()
            );
        }
    }
}

#[test]
fn a_body_past_the_limit_is_refused_at_the_chunk_that_passes_it() {
    let mut buffer = BodyBuffer::new(10, None).expect("no length");
    buffer.push(b"0123456789").expect("exactly the limit");
    assert_eq!(buffer.capacity(), 10, "never reserved past the limit");
    let refused = buffer.push(b"!").expect_err("one byte over");
    assert_eq!(
        refused.kind(),
        &RejectionKind::PayloadTooLarge { limit: 10 }
    );
}

#[test]
fn a_whole_first_chunk_is_kept_without_a_copy_and_joined_if_more_comes() {
    let whole = Bytes::from_static(b"0123456789");
    let mut buffer = BodyBuffer::new(100, Some(10)).expect("within the limit");
    buffer.push_buf(whole.clone()).expect("fits");
    let body = buffer.finish();
    assert_eq!(body.as_ptr(), whole.as_ptr(), "the same bytes, not a copy");

    let mut buffer = BodyBuffer::new(100, Some(10)).expect("within the limit");
    buffer.push_buf(whole.clone()).expect("fits");
    buffer.push_buf(&b"!"[..]).expect("fits the limit");
    assert_eq!(buffer.finish(), &b"0123456789!"[..]);

    let mut buffer = BodyBuffer::new(100, Some(10)).expect("within the limit");
    buffer.push_buf(&b"01234"[..]).expect("fits");
    buffer.push_buf(&b"56789"[..]).expect("fits");
    assert_eq!(buffer.capacity(), 10);
    assert_eq!(buffer.finish(), &b"0123456789"[..]);
}

#[test]
fn a_budget_lends_the_growth_and_gets_it_all_back() {
    let budget = MemoryBudget::new(4 * MAX_UPFRONT_RESERVATION * 4);
    let limit = 5 << 20;
    let mut first = BodyBuffer::new(limit, Some(limit as u64))
        .expect("at the limit")
        .with_budget(budget.clone());
    first.push(b"x").expect("fits");
    assert_eq!(budget.in_use(), MAX_UPFRONT_RESERVATION, "one byte in");
    let chunk = vec![b'a'; 4096];
    let refused = loop {
        if let Err(refused) = first.push(&chunk) {
            break refused;
        }
        assert_eq!(
            budget.in_use(),
            first.capacity(),
            "lent exactly what it holds"
        );
    };
    assert_eq!(refused.kind(), &RejectionKind::Overloaded);
    assert_eq!(refused.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        budget.in_use() <= budget.limit() / 4 * 3,
        "a large body stops at 3/4"
    );
    // A small body still fits, and gives everything back when finished.
    let mut small = BodyBuffer::new(limit, Some(1000))
        .expect("small")
        .with_budget(budget.clone());
    small
        .push(&[b'b'; 1000])
        .expect("the last quarter is for small bodies");
    let before = budget.in_use();
    assert_eq!(small.finish().len(), 1000);
    assert_eq!(budget.in_use(), before - 1000);
    // A whole first chunk counts too; a dropped buffer gives back what it held.
    let mut whole = BodyBuffer::new(limit, Some(10))
        .expect("small")
        .with_budget(budget.clone());
    whole
        .push_buf(Bytes::from_static(b"0123456789"))
        .expect("fits");
    assert_eq!(budget.in_use(), before - 1000 + 10);
    drop(whole);
    drop(first);
    assert_eq!(budget.in_use(), 0);
}

#[test]
fn content_length_is_read_only_when_single_and_numeric() {
    assert_eq!(announced_length(&[("Content-Length", "42")]), Some(42));
    assert_eq!(announced_length(&[("content-length", "4x")]), None);
    assert_eq!(
        announced_length(&[("content-length", "1"), ("content-length", "1")]),
        None
    );
    assert_eq!(announced_length(&[("other", "1")]), None);
}
