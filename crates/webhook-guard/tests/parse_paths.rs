//! The envelope parsers take a one-pass path for the common key order and a general path for
//! everything else; both must give the same event for the same JSON value.

use webhook_guard::prelude::*;
use webhook_guard::{event::ParseError, fixtures, parallel, parseflow};

/// Rewrites an envelope object with its keys in `order`, compact.
fn reordered(body: &[u8], order: &[&str]) -> Vec<u8> {
    let value: serde_json::Value = serde_json::from_slice(body).expect("json");
    let object = value.as_object().expect("object");
    let mut out = String::from("{");
    for (i, key) in order.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(key).expect("key"));
        out.push(':');
        out.push_str(&serde_json::to_string(&object[*key]).expect("value"));
    }
    out.push('}');
    out.into_bytes()
}

#[test]
fn key_order_does_not_change_the_event() {
    for fixture in fixtures::of("parallel") {
        let original = parallel::Event::from_json(fixture.body).expect("parses");
        for order in [
            ["type", "timestamp", "data"],
            ["data", "timestamp", "type"],
            ["timestamp", "data", "type"],
        ] {
            let body = reordered(fixture.body, &order);
            assert_eq!(
                parallel::Event::from_json(&body).expect("parses"),
                original,
                "{} {order:?}",
                fixture.name
            );
        }
    }
    // ParseFlow's undocumented payloads keep their raw text, which the rewrite changes: compare
    // the variant and the JSON value they write.
    for fixture in fixtures::of("parseflow") {
        let original = parseflow::Event::from_json(fixture.body).expect("parses");
        let body = reordered(fixture.body, &["data", "event", "timestamp"]);
        let moved = parseflow::Event::from_json(&body).expect("parses");
        assert_eq!(moved.event_type(), original.event_type());
        assert!(!matches!(
            moved,
            parseflow::Event::Unknown(_) | parseflow::Event::Unparsed(_)
        ));
        assert_eq!(
            serde_json::to_value(&moved).expect("ser"),
            serde_json::to_value(&original).expect("ser"),
            "{}",
            fixture.name
        );
    }
}

#[test]
fn escaped_keys_and_types_give_the_same_event() {
    let plain = br#"{"type":"monitor.event.detected","timestamp":"2025-10-27T14:56:05Z","data":{"monitor_id":"m","event":{"event_group_id":"g"}}}"#;
    let escaped = br#"{"t\u0079pe":"monitor\u002eevent.detected","timestamp":"2025-10-27T14:56:05Z","data":{"monitor_id":"m","event":{"event_group_id":"g"}}}"#;
    let a = parallel::Event::from_json(plain).expect("parses");
    let b = parallel::Event::from_json(escaped).expect("parses");
    assert!(matches!(a, parallel::Event::MonitorEventDetected(_)));
    assert_eq!(a, b);
}

#[test]
fn both_paths_refuse_the_same_bodies() {
    let duplicate_type = br#"{"type":"monitor.event.detected","type":"x","timestamp":"2025-10-27T14:56:05Z","data":{}}"#;
    let trailing = br#"{"type":"quota.warning","timestamp":"2026-04-14T10:05:00Z","data":{}} x"#;
    let no_type = br#"{"timestamp":"2026-04-14T10:05:00Z","data":{}}"#;
    assert!(matches!(
        parallel::Event::from_json(duplicate_type),
        Err(ParseError::InvalidJson { .. })
    ));
    assert!(matches!(
        parseflow::Event::from_json(trailing),
        Err(ParseError::InvalidJson { .. })
    ));
    assert!(matches!(
        parseflow::Event::from_json(no_type),
        Err(ParseError::InvalidJson { .. })
    ));
    // A known type missing its data is still delivered, as Unparsed.
    let no_data = br#"{"event":"quota.warning","timestamp":"2026-04-14T10:05:00Z"}"#;
    let event = parseflow::Event::from_json(no_data).expect("delivered");
    assert!(matches!(event, parseflow::Event::Unparsed(_)));
    assert_eq!(event.event_type(), "quota.warning");
}
