//! Reading the request body once, within the limit.

use bytes::Bytes;
use http::HeaderMap;
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// Why the body was not read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Longer than the limit: announced by `Content-Length` or found while streaming.
    TooLarge,
    /// The body failed before its end.
    Failed,
}

/// Reads the whole body if it fits in `limit` bytes. A `Content-Length` over the limit is
/// refused before reading; a streamed body is refused as soon as it passes the limit, without
/// buffering the rest.
pub(crate) async fn read<B>(headers: &HeaderMap, body: B, limit: usize) -> Result<Bytes, ReadError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let announced = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > limit as u64) {
        return Err(ReadError::TooLarge);
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(ReadError::TooLarge),
        Err(_) => Err(ReadError::Failed),
    }
}
