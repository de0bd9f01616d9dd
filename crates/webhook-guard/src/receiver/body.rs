//! The request body: read once, within the limit and the read timeout, into one buffer.

use std::{
    future::{Future, poll_fn},
    pin::pin,
    task::Poll,
};

use bytes::{Buf, Bytes};
use http_body::Body;

use super::{Rejection, RejectionKind};
use crate::headers::{HeaderEntry, HeaderName, Headers};

/// The largest step by which a body of unannounced length grows its buffer: the memory held
/// for a body of `N` bytes stays under `N` + 64 KiB, however it is chunked.
pub const MAX_GROWTH_STEP: usize = 64 * 1024;

/// The first capacity of a body of unannounced length.
const FIRST_CAPACITY: usize = 4 * 1024;

/// One contiguous buffer for a body of at most `limit` bytes.
///
/// With a `Content-Length` the buffer is reserved once at that size (a larger announced length
/// is refused before a byte is read). Without one (chunked transfer) it grows by doubling up to
/// [`MAX_GROWTH_STEP`] and by that step after, so it never holds more than 64 KiB beyond the
/// body. Chunks are copied and dropped as they come: a framework's chunk often shares a larger
/// read buffer, and keeping a million one-byte chunks would keep a million of those alive.
#[derive(Debug)]
pub struct BodyBuffer {
    bytes: Vec<u8>,
    limit: usize,
}

impl BodyBuffer {
    /// A buffer for a body of at most `limit` bytes whose `Content-Length` is `announced`.
    ///
    /// # Errors
    /// A [`PayloadTooLarge`](RejectionKind::PayloadTooLarge) rejection if `announced` is over
    /// the limit.
    pub fn new(limit: usize, announced: Option<u64>) -> Result<Self, Rejection> {
        let bytes = match announced {
            Some(length) if length > limit as u64 => return Err(too_large(limit)),
            // Within the limit, so it fits in a usize.
            Some(length) => Vec::with_capacity(usize::try_from(length).unwrap_or(limit)),
            None => Vec::new(),
        };
        Ok(Self { bytes, limit })
    }

    /// Appends `chunk`.
    ///
    /// # Errors
    /// A [`PayloadTooLarge`](RejectionKind::PayloadTooLarge) rejection as soon as the body
    /// passes the limit; the chunk is not kept.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Rejection> {
        let needed = self.bytes.len() + chunk.len();
        if needed > self.limit {
            return Err(too_large(self.limit));
        }
        if needed > self.bytes.capacity() {
            let capacity = self.bytes.capacity();
            let step = capacity.clamp(FIRST_CAPACITY, MAX_GROWTH_STEP);
            let target = needed.max(capacity + step).min(self.limit);
            self.bytes.reserve_exact(target - self.bytes.len());
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The bytes so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// `true` before the first byte.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The memory the buffer holds, in bytes.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// The whole body. No copy is made: the buffer becomes the [`Bytes`].
    #[must_use]
    pub fn finish(self) -> Bytes {
        Bytes::from(self.bytes)
    }
}

fn too_large(limit: usize) -> Rejection {
    Rejection::new(
        RejectionKind::PayloadTooLarge {
            limit: limit as u64,
        },
        None,
    )
}

/// The `Content-Length` of a request, if it has exactly one that is a number.
pub(crate) fn announced_length<H: Headers + ?Sized>(headers: &H) -> Option<u64> {
    static CONTENT_LENGTH: std::sync::OnceLock<HeaderName> = std::sync::OnceLock::new();
    let name = CONTENT_LENGTH.get_or_init(|| {
        HeaderName::new("content-length").unwrap_or_else(|_| unreachable!("a valid name"))
    });
    match headers.entry(name) {
        HeaderEntry::Single(value) => std::str::from_utf8(value).ok()?.parse().ok(),
        HeaderEntry::Absent | HeaderEntry::Repeated => None,
    }
}

/// Reads `body`'s data frames to its end into one buffer, unless `deadline` comes first.
/// Trailers are skipped.
pub(crate) async fn read<B, D>(
    mut buffer: BodyBuffer,
    body: B,
    deadline: D,
    timeout: std::time::Duration,
) -> Result<Bytes, Rejection>
where
    B: Body,
    D: Future<Output = ()>,
{
    let mut body = pin!(body);
    let mut deadline = pin!(deadline);
    poll_fn(|cx| {
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(Rejection::new(
                RejectionKind::BodyTimeout { after: timeout },
                None,
            )));
        }
        loop {
            match body.as_mut().poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(mut chunk) = frame.into_data() else {
                        continue;
                    };
                    while chunk.has_remaining() {
                        let part = chunk.chunk();
                        let length = part.len();
                        if let Err(rejection) = buffer.push(part) {
                            return Poll::Ready(Err(rejection));
                        }
                        chunk.advance(length);
                    }
                }
                Poll::Ready(Some(Err(_))) => {
                    return Poll::Ready(Err(Rejection::new(RejectionKind::UnreadableBody, None)));
                }
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await?;
    Ok(buffer.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_announced_length_is_reserved_once_and_checked_against_the_limit() {
        let mut buffer = BodyBuffer::new(1000, Some(600)).expect("within the limit");
        assert_eq!(buffer.capacity(), 600);
        for _ in 0..600 {
            buffer.push(b"x").expect("fits");
        }
        assert_eq!(buffer.capacity(), 600, "no growth past the announced length");
        assert_eq!(buffer.finish().len(), 600);
        let refused = BodyBuffer::new(1000, Some(1001)).expect_err("over the limit");
        assert_eq!(refused.status(), http::StatusCode::PAYLOAD_TOO_LARGE);
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
    fn content_length_is_read_only_when_single_and_numeric() {
        assert_eq!(announced_length(&[("Content-Length", "42")]), Some(42));
        assert_eq!(announced_length(&[("content-length", "4x")]), None);
        assert_eq!(
            announced_length(&[("content-length", "1"), ("content-length", "1")]),
            None
        );
        assert_eq!(announced_length(&[("other", "1")]), None);
    }
}
