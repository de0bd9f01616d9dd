//! Reading the request payload once, within the limit.

use actix_web::{dev::Payload, http::header::HeaderMap};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt as _;

/// Why the body was not read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Longer than the limit: announced by `Content-Length` or found while streaming.
    TooLarge,
    /// The payload failed before its end.
    Failed,
}

/// Reads the whole payload if it fits in `limit` bytes. A `Content-Length` over the limit is
/// refused before reading; a streamed payload is refused as soon as it passes the limit,
/// without buffering the rest.
pub(crate) async fn read(
    headers: &HeaderMap,
    payload: &mut Payload,
    limit: usize,
) -> Result<Bytes, ReadError> {
    let announced = headers
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > limit as u64) {
        return Err(ReadError::TooLarge);
    }
    // The chunks are kept as they come and joined once at the end, so a growing buffer never
    // holds two copies of the body while it is being read.
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut total = 0_usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ReadError::Failed)?;
        total += chunk.len();
        if total > limit {
            return Err(ReadError::TooLarge);
        }
        chunks.push(chunk);
    }
    Ok(match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.swap_remove(0),
        _ => {
            let mut joined = BytesMut::with_capacity(total);
            for chunk in &chunks {
                joined.extend_from_slice(chunk);
            }
            joined.freeze()
        }
    })
}

/// A payload that yields `bytes` again, for handlers that read the raw body.
pub(crate) fn replay(bytes: Bytes) -> Payload {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(bytes);
    Payload::from(payload)
}
