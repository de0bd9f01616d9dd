//! [`ActixHeaders`].

use actix_web::http::header::HeaderMap;
use webhook_guard::headers::{HeaderEntry, HeaderName, Headers};

/// actix-web's header map seen through the core's [`Headers`] lookup, borrowed: nothing is
/// copied. A header sent more than once is reported as repeated, which the schemes refuse for
/// the headers they require.
///
/// ```
/// use actix_web::{http::header::HeaderValue, test::TestRequest};
/// use webhook_guard::headers::{HeaderEntry, HeaderName, Headers};
/// use webhook_guard_actix::ActixHeaders;
///
/// let request = TestRequest::default()
///     .insert_header(("Webhook-Id", "msg_1"))
///     .to_http_request();
/// let name = HeaderName::new("webhook-id").unwrap();
/// assert_eq!(ActixHeaders(request.headers()).entry(&name), HeaderEntry::Single(b"msg_1"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ActixHeaders<'a>(pub &'a HeaderMap);

impl Headers for ActixHeaders<'_> {
    fn entry(&self, name: &HeaderName) -> HeaderEntry<'_> {
        // actix keeps names in lowercase, as `HeaderName::as_str` gives them. A scan of the
        // few headers of a request costs less than building an actix name for each lookup.
        let mut found = HeaderEntry::Absent;
        for (key, value) in self.0.iter() {
            if key.as_str() == name.as_str() {
                if found != HeaderEntry::Absent {
                    return HeaderEntry::Repeated;
                }
                found = HeaderEntry::Single(value.as_bytes());
            }
        }
        found
    }
}
