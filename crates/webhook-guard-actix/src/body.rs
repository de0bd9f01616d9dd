//! actix-web's payload as an `http_body::Body` for the core, and the payload given back to
//! the handler.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use actix_web::{dev::Payload, error::PayloadError, web::Bytes};
use futures_util::Stream as _;
use http_body::{Body, Frame};

/// The request's payload, read by the core.
pub(crate) struct Chunks(pub(crate) Payload);

impl Body for Chunks {
    type Data = Bytes;
    type Error = PayloadError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, PayloadError>>> {
        let chunk = Pin::new(&mut self.0).poll_next(cx);
        chunk.map(|item| item.map(|chunk| chunk.map(Frame::data)))
    }
}

/// A payload that yields `bytes` again, for handlers that read the raw body.
pub(crate) fn replay(bytes: Bytes) -> Payload {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(bytes);
    Payload::from(payload)
}
