//! What a JSON body's bytes say about where they come from: as the sender wrote them, or
//! parsed and written again on the way.

/// What a JSON body's bytes say about where they come from.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JsonForm {
    /// Compact, every object's keys in sorted order (more than one key somewhere): what
    /// `serde_json::to_vec(&Value)` and many frameworks write after parsing.
    Rewritten,
    /// Compact, keys in no particular order (`JSON.stringify`, or the sender's own form).
    Compact,
    /// With white space between tokens: as most senders write it.
    AsSent,
}

/// The form of `body`, or `None` if it is not JSON.
pub(crate) fn json_form(body: &[u8]) -> Option<JsonForm> {
    let keys = serde_json::from_slice::<KeyOrder>(body).ok()?;
    if minify(body) != body {
        return Some(JsonForm::AsSent);
    }
    Some(if keys.sorted && keys.pairs > 0 {
        JsonForm::Rewritten
    } else {
        JsonForm::Compact
    })
}

/// Whether the keys of every object of a JSON value are in sorted order, read in the order
/// they were written (`serde_json::Value` would sort them), and how many adjacent pairs were
/// compared.
struct KeyOrder {
    sorted: bool,
    pairs: usize,
}

impl<'de> serde::Deserialize<'de> for KeyOrder {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(KeyOrderVisitor)
    }
}

struct KeyOrderVisitor;

impl<'de> serde::de::Visitor<'de> for KeyOrderVisitor {
    type Value = KeyOrder;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<KeyOrder, A::Error> {
        let mut order = KeyOrder {
            sorted: true,
            pairs: 0,
        };
        let mut last: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            let inner = map.next_value::<KeyOrder>()?;
            order.sorted &= inner.sorted;
            order.pairs += inner.pairs;
            if let Some(last) = &last {
                order.pairs += 1;
                order.sorted &= *last <= key;
            }
            last = Some(key);
        }
        Ok(order)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<KeyOrder, A::Error> {
        let mut order = KeyOrder {
            sorted: true,
            pairs: 0,
        };
        while let Some(inner) = seq.next_element::<KeyOrder>()? {
            order.sorted &= inner.sorted;
            order.pairs += inner.pairs;
        }
        Ok(order)
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<KeyOrder, E> {
        Ok(KeyOrder::LEAF)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<KeyOrder, E> {
        Ok(KeyOrder::LEAF)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<KeyOrder, E> {
        Ok(KeyOrder::LEAF)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<KeyOrder, E> {
        Ok(KeyOrder::LEAF)
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<KeyOrder, E> {
        Ok(KeyOrder::LEAF)
    }
    fn visit_unit<E>(self) -> std::result::Result<KeyOrder, E> {
        Ok(KeyOrder::LEAF)
    }
}

impl KeyOrder {
    /// A value that is not an object or an array.
    const LEAF: Self = Self {
        sorted: true,
        pairs: 0,
    };
}

/// `json` without the whitespace between its tokens, keys in their order.
pub(crate) fn minify(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for &byte in json {
        if in_string {
            out.push(byte);
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
        } else if !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
            if byte == b'"' {
                in_string = true;
            }
            out.push(byte);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_forms_tell_a_rewritten_body_from_one_as_sent() {
        assert_eq!(
            json_form(br#"{"a":1,"b":{"c":[{"d":1,"e":2}]}}"#),
            Some(JsonForm::Rewritten)
        );
        assert_eq!(json_form(br#"{"b":1,"a":2}"#), Some(JsonForm::Compact));
        assert_eq!(json_form(br#"{"a": 1, "b": 2}"#), Some(JsonForm::AsSent));
        assert_eq!(
            json_form(br#"[1,2]"#),
            Some(JsonForm::Compact),
            "no keys to compare"
        );
        assert_eq!(json_form(b"not json"), None);
    }

    #[test]
    fn minify_keeps_strings_and_order() {
        assert_eq!(
            minify(b"{\n  \"b\": \"x y\\\" z\",\n  \"a\": [1, 2]\n}\n"),
            b"{\"b\":\"x y\\\" z\",\"a\":[1,2]}".to_vec()
        );
    }
}
