//! Reading captured request headers from a file.

use crate::error::{Result, fail};

/// Headers as captured: `Name: value` lines (a request or status line, blank lines and
/// `#` comments are skipped; `curl -v`'s `> ` prefixes are removed), or a JSON object of
/// names to string values. Names are lowercased.
pub(crate) fn parse(text: &[u8]) -> Result<Vec<(String, String)>> {
    let text = std::str::from_utf8(text).map_err(|_| fail("the headers file is not UTF-8"))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(trimmed)
            .map_err(|e| fail(format!("the headers file is not a JSON object: {e}")))?;
        return object
            .into_iter()
            .map(|(name, value)| match value {
                serde_json::Value::String(value) => Ok((name.to_ascii_lowercase(), value)),
                other => Ok((name.to_ascii_lowercase(), other.to_string())),
            })
            .collect();
    }
    let mut headers = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let line = line
            .strip_prefix("> ")
            .or_else(|| line.strip_prefix("< "))
            .unwrap_or(line);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue; // "POST /hook HTTP/1.1", "HTTP/1.1 200 OK"
        };
        if name.contains(' ') {
            continue;
        }
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    if headers.is_empty() {
        return Err(fail("the headers file holds no `Name: value` line"));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_curl_dumps_and_json() {
        let text = b"POST /webhooks/parallel HTTP/1.1\r\n> Webhook-Id: msg_1\r\nwebhook-timestamp:  17 \n\n# note\n";
        assert_eq!(
            parse(text).expect("headers"),
            vec![
                ("webhook-id".to_owned(), "msg_1".to_owned()),
                ("webhook-timestamp".to_owned(), "17".to_owned())
            ]
        );
        assert_eq!(
            parse(br#"{"Webhook-Id": "msg_1"}"#).expect("json"),
            vec![("webhook-id".to_owned(), "msg_1".to_owned())]
        );
        assert!(parse(b"nothing here").is_err());
        assert!(parse(&[0xff, 0xfe]).is_err());
    }
}
