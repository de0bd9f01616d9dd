//! The lenient readers, on bodies that fit and bodies that bend.

use super::*;

#[derive(Debug, Deserialize, Serialize, PartialEq)]
struct Item {
    #[serde(deserialize_with = "text")]
    id: String,
    #[serde(default, deserialize_with = "number_or_none")]
    count: Option<u64>,
    #[serde(default, deserialize_with = "flag_or_none")]
    on: Option<bool>,
    #[serde(default, deserialize_with = "text_or_none")]
    note: Option<String>,
    #[serde(default, deserialize_with = "list_or_null")]
    tags: Vec<String>,
}

#[test]
fn scalars_read_their_lossless_alternatives() {
    let item: Item =
        serde_json::from_str(r#"{"id":10042,"count":"7","on":"true","note":3.5,"tags":null}"#)
            .expect("fits");
    assert_eq!(
        item,
        Item {
            id: "10042".into(),
            count: Some(7),
            on: Some(true),
            note: Some("3.5".into()),
            tags: vec![],
        }
    );
    let odd: Item =
        serde_json::from_str(r#"{"id":"a","count":{"x":[1]},"on":[true],"note":{"n":1}}"#)
            .expect("optional misfits read as absent");
    assert_eq!((odd.count, odd.on, odd.note), (None, None, None));
    let float: Item = serde_json::from_str(r#"{"id":"a","count":7.0}"#).expect("integral");
    assert_eq!(float.count, Some(7));
    for bad in [r#"{"id":"a","count":7.5}"#, r#"{"id":"a","count":-1}"#] {
        let item: Item = serde_json::from_str(bad).expect("absent");
        assert_eq!(item.count, None, "{bad}");
    }
    assert!(serde_json::from_str::<Item>(r#"{"id":{"a":1}}"#).is_err());
    assert!(serde_json::from_str::<Item>(r#"{"id":null}"#).is_err());
}

#[test]
fn a_misfit_keeps_its_text_and_reason_and_strict_mode_fails_instead() {
    let list: Vec<Lenient<Item>> =
        serde_json::from_str(r#"[{"id":"a"}, {"id": [1, 2]}, 5]"#).expect("a list");
    assert_eq!(list[0].typed().map(|i| i.id.as_str()), Some("a"));
    let misfit = list[1].misfit().expect("misfit");
    assert_eq!(misfit.raw.get(), r#"{"id": [1, 2]}"#);
    assert!(
        misfit.error.contains("string or a number"),
        "{}",
        misfit.error
    );
    assert_eq!(list[2].misfit().map(|m| m.raw.get()), Some("5"));
    assert_eq!(
        serde_json::to_string(&list[1]).expect("ser"),
        r#"{"id": [1, 2]}"#
    );
    assert!(strictly(|| serde_json::from_str::<Vec<Lenient<Item>>>(r#"[{"id":"a"}, 5]"#)).is_err());
    // The mode is restored afterwards, also after a panic inside.
    assert!(!is_strict());
    // Where a panic aborts (WebAssembly), there is no "after" to check.
    #[cfg(panic = "unwind")]
    {
        let _ = std::panic::catch_unwind(|| strictly(|| panic!("inside")));
        assert!(!is_strict());
    }
}

#[test]
fn or_none_reads_a_misfit_as_absent() {
    #[derive(Deserialize)]
    struct Outer {
        #[serde(default, deserialize_with = "or_none")]
        item: Option<Item>,
        #[serde(default, deserialize_with = "or_none")]
        other: Option<Item>,
    }
    let outer: Outer = serde_json::from_str(r#"{"item":"x","other":{"id":"b"}}"#).expect("fits");
    assert!(outer.item.is_none());
    assert_eq!(outer.other.map(|i| i.id), Some("b".to_owned()));
    assert!(strictly(|| serde_json::from_str::<Outer>(r#"{"item":"x"}"#)).is_err());
}

#[test]
fn from_json_str_types_or_keeps() {
    assert!(Lenient::<Item>::from_json_str(r#"{"id":"a"}"#).is_typed());
    let kept = Lenient::<Item>::from_json_str(r#"{"id":true}"#);
    assert_eq!(kept.misfit().map(|m| m.raw.get()), Some(r#"{"id":true}"#));
}

thread_local! {
    static READS: Cell<usize> = const { Cell::new(0) };
}

/// An item that counts how often it is read.
#[derive(Debug, PartialEq)]
struct Counted(Item);

impl<'de> Deserialize<'de> for Counted {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        READS.with(|reads| reads.set(reads.get() + 1));
        Item::deserialize(deserializer).map(Self)
    }
}

#[derive(Debug, Deserialize)]
struct Listed {
    #[serde(default, deserialize_with = "records_or_null")]
    items: Vec<Lenient<Counted>>,
}

#[test]
fn two_passes_read_the_records_before_the_odd_one_once() {
    let body = r#"{"items":[{"id":"a"},{"id":"b","count":2},{"id":{"odd":1}},{"id":"d"}]}"#;
    READS.with(|reads| reads.set(0));
    let listed = two_pass(|| serde_json::from_str::<Listed>(body)).expect("bends");
    let ids: Vec<Option<&str>> = listed
        .items
        .iter()
        .map(|item| item.typed().map(|c| c.0.id.as_str()))
        .collect();
    assert_eq!(ids, [Some("a"), Some("b"), None, Some("d")]);
    assert_eq!(
        listed.items[2].misfit().map(|m| m.raw.get()),
        Some(r#"{"id":{"odd":1}}"#)
    );
    // Strict pass: a, b, the odd one (fails). Lenient pass: a and b skipped; the odd one
    // strictly then leniently; d strictly. Without the kept records: 8 (a and b again).
    assert_eq!(READS.with(Cell::get), 6);
    // The same as a lenient read of the whole body, and nothing kept for the next parse.
    let plain: Listed = serde_json::from_str(body).expect("lenient");
    assert_eq!(plain.items, listed.items);
    let again = two_pass(|| serde_json::from_str::<Listed>(r#"{"items":[{"id":"z"}]}"#));
    assert_eq!(again.expect("fits").items.len(), 1);
    // Null and a missing list read as empty; a list of another shape fails both passes.
    for empty in [r#"{"items":null}"#, "{}"] {
        let listed = two_pass(|| serde_json::from_str::<Listed>(empty)).expect("empty");
        assert!(listed.items.is_empty());
    }
    assert!(two_pass(|| serde_json::from_str::<Listed>(r#"{"items":5}"#)).is_err());
}
