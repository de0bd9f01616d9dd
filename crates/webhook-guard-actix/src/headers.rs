//! [`ActixHeaders`].

use std::cell::RefCell;

use actix_web::http::header::{HeaderMap, HeaderName as ActixName};
use webhook_guard::headers::{HeaderEntry, HeaderName, Headers};

/// actix-web's header map seen through the core's [`Headers`](https://docs.rs/webhook-guard/latest/webhook_guard/headers/trait.Headers.html) lookup, borrowed: nothing is
/// copied. A header sent more than once is reported as repeated, which the schemes refuse for
/// the headers they require.
///
/// ```
/// use actix_web::test::TestRequest;
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
        // actix-web 4 names are `http` 0.2 names: converting one per lookup would parse it (and
        // allocate, for a custom name), and scanning the map costs more than a hash lookup. A
        // receiver asks for the same few names on every request, so each thread converts each
        // name once.
        thread_local! {
            static NAMES: RefCell<Vec<(HeaderName, ActixName)>> = const { RefCell::new(Vec::new()) };
        }
        let Some(actix_name) = NAMES.with_borrow_mut(|names| {
            if let Some((_, known)) = names.iter().find(|(core, _)| core == name) {
                return Some(known.clone());
            }
            let converted = ActixName::from_bytes(name.as_str().as_bytes()).ok()?;
            if names.len() < 64 {
                names.push((name.clone(), converted.clone()));
            }
            Some(converted)
        }) else {
            return HeaderEntry::Absent;
        };
        let mut values = self.0.get_all(actix_name);
        match (values.next(), values.next()) {
            (None, _) => HeaderEntry::Absent,
            (Some(value), None) => HeaderEntry::Single(value.as_bytes()),
            (Some(_), Some(_)) => HeaderEntry::Repeated,
        }
    }

    fn each(&self, visit: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in self.0.iter() {
            visit(name.as_str(), value.as_bytes());
        }
    }
}
