//! The request body: read once, within the limit and the read timeout, into one buffer.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::{Buf, Bytes};
use http_body::Body;

use super::{
    budget::MemoryBudget,
    rejection::{Rejection, RejectionKind},
    settings::Settings,
};
use crate::headers::{HeaderEntry, HeaderName, Headers};

/// The largest step by which a body of unannounced length grows its buffer: the memory held
/// for a body of `N` bytes stays under `N` + 64 KiB, however it is chunked.
pub const MAX_GROWTH_STEP: usize = 64 * 1024;

/// The first capacity of a body of unannounced length.
const FIRST_CAPACITY: usize = 4 * 1024;

/// The most reserved for a body before its bytes arrive, whatever its `Content-Length`
/// announces: a client that announces 5 MiB and sends one byte costs this, not 5 MiB. A body
/// that does arrive grows from here as an unannounced one does, never past its announced
/// length.
pub const MAX_UPFRONT_RESERVATION: usize = 64 * 1024;

/// One contiguous buffer for a body of at most `limit` bytes.
///
/// A `Content-Length` over the limit is refused before a byte is read. Within it, at most
/// [`MAX_UPFRONT_RESERVATION`] is reserved at the first byte (all of a smaller announced body),
/// and the buffer grows as the bytes arrive: by doubling up to [`MAX_GROWTH_STEP`] and by that
/// step after, never past the announced length (without one, never past the limit), so it
/// never holds more than 64 KiB beyond what arrived. Chunks are copied and dropped as they come: a framework's chunk often shares a larger
/// read buffer, and keeping a million one-byte chunks would keep a million of those alive.
///
/// With a [`MemoryBudget`] ([`with_budget`](Self::with_budget)), every growth of the buffer
/// is taken from the budget first, and all of it given back when the buffer is finished or
/// dropped; a growth the budget cannot give is refused with
/// [`Overloaded`](RejectionKind::Overloaded), the chunk not kept (retry it later).
#[derive(Debug)]
pub struct BodyBuffer {
    bytes: Vec<u8>,
    limit: usize,
    announced: Option<usize>,
    /// The first chunk, kept as it is while it is the whole announced body: most bodies
    /// arrive in one chunk, and this saves a copy and an allocation.
    whole: Option<Bytes>,
    /// The budget that lends the buffer its memory: always exactly [`capacity`](Self::capacity).
    budget: Option<MemoryBudget>,
}

impl BodyBuffer {
    /// A buffer for a body of at most `limit` bytes whose `Content-Length` is `announced`.
    ///
    /// # Errors
    /// A [`PayloadTooLarge`](RejectionKind::PayloadTooLarge) rejection if `announced` is over
    /// the limit.
    pub fn new(limit: usize, announced: Option<u64>) -> Result<Self, Rejection> {
        let announced = match announced {
            Some(length) if length > limit as u64 => return Err(too_large(limit)),
            // Within the limit, so it fits in a usize.
            Some(length) => Some(usize::try_from(length).unwrap_or(limit)),
            None => None,
        };
        Ok(Self {
            bytes: Vec::new(),
            limit,
            announced,
            whole: None,
            budget: None,
        })
    }

    /// Takes the buffer's memory from `budget` (see the type's docs).
    #[must_use]
    pub fn with_budget(mut self, budget: MemoryBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Takes from the budget what growing to `capacity` needs.
    fn charge(&self, capacity: usize) -> Result<(), Rejection> {
        let held = self.capacity();
        match &self.budget {
            Some(budget) if capacity > held && !budget.try_take(capacity - held, capacity) => {
                Err(Rejection::new(RejectionKind::Overloaded, None))
            }
            _ => Ok(()),
        }
    }

    /// Appends the chunk `data`. A first chunk that is the whole announced body is kept as
    /// it is (for [`Bytes`], without a copy); every other chunk is copied and dropped.
    ///
    /// # Errors
    /// As [`push`](Self::push). Given `&mut data`, what was not appended stays in `data`.
    pub fn push_buf(&mut self, mut data: impl Buf) -> Result<(), Rejection> {
        if self.bytes.capacity() == 0
            && self.whole.is_none()
            && self.announced == Some(data.remaining())
        {
            self.charge(data.remaining())?;
            self.whole = Some(data.copy_to_bytes(data.remaining()));
            return Ok(());
        }
        while data.has_remaining() {
            let part = data.chunk();
            let length = part.len();
            self.push(part)?;
            data.advance(length);
        }
        Ok(())
    }

    /// Appends `chunk`.
    ///
    /// # Errors
    /// A [`PayloadTooLarge`](RejectionKind::PayloadTooLarge) rejection as soon as the body
    /// passes the limit; an [`Overloaded`](RejectionKind::Overloaded) one when the budget
    /// cannot lend the growth. Either way the chunk is not kept.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Rejection> {
        let needed = self.len() + chunk.len();
        if needed > self.limit {
            return Err(too_large(self.limit));
        }
        if self.whole.is_some() {
            // More than announced (a server that does not enforce Content-Length).
            self.charge(needed)?;
            let whole = self.whole.take().unwrap_or_default();
            self.bytes.reserve_exact(needed);
            self.bytes.extend_from_slice(&whole);
        }
        // Never past what is announced (unless more arrives), nor past the limit.
        let ceiling = self
            .announced
            .map_or(self.limit, |announced| announced.max(needed));
        let mut target = self.bytes.capacity();
        if target == 0
            && let Some(announced) = self.announced
        {
            target = announced.min(MAX_UPFRONT_RESERVATION).max(needed);
        }
        if needed > target {
            let step = target.clamp(FIRST_CAPACITY, MAX_GROWTH_STEP);
            target = needed.max(target + step).min(ceiling);
        }
        if target > self.bytes.capacity() {
            self.charge(target)?;
            self.bytes.reserve_exact(target - self.bytes.len());
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The bytes so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.whole.as_ref().map_or(self.bytes.len(), Bytes::len)
    }

    /// `true` before the first byte.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The memory the buffer itself holds, in bytes (a whole first chunk kept as it is
    /// counts as its length).
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.whole
            .as_ref()
            .map_or(self.bytes.capacity(), Bytes::len)
    }

    /// The whole body. No copy is made: the buffer becomes the [`Bytes`]. Its memory is
    /// given back to the budget (the body is verified next, at once).
    #[must_use]
    pub fn finish(mut self) -> Bytes {
        let bytes = std::mem::take(&mut self.bytes);
        let whole = self.whole.take();
        if let Some(budget) = self.budget.take() {
            budget.give_back(whole.as_ref().map_or(bytes.capacity(), Bytes::len));
        }
        whole.unwrap_or_else(|| Bytes::from(bytes))
    }
}

impl Drop for BodyBuffer {
    fn drop(&mut self) {
        if let Some(budget) = &self.budget {
            budget.give_back(self.capacity());
        }
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

/// How long a body whose buffer cannot grow within the [`MemoryBudget`] waits for other
/// bodies to give memory back before it is answered 503 (`retry-after`): 500 ms, tried again
/// every 25 ms.
pub const BUDGET_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// How often a body waiting for the budget tries again.
const BUDGET_RETRY: std::time::Duration = std::time::Duration::from_millis(25);

pin_project_lite::pin_project! {
    /// The future of [`adapter::read_body`](crate::adapter::read_body): reads a body's data
    /// frames to its end into one [`BodyBuffer`], unless the deadline comes first (trailers
    /// are skipped), and records a rejection where it makes one.
    #[must_use = "futures do nothing unless polled"]
    pub struct ReadBody<B, S, D> {
        #[pin]
        body: B,
        // Started the first time the body is not there yet: a body that arrives with its
        // headers never reads the clock or registers a timer.
        #[pin]
        deadline: Option<D>,
        sleep: S,
        buffer: Result<BodyBuffer, Option<Rejection>>,
        // Only while the budget is short: boxed, so a body that never waits for it does not
        // carry its space.
        waiting: Option<Box<Waiting<D>>>,
        settings: std::sync::Arc<Settings>,
    }
}

/// A body waiting for the budget: the bytes it could not keep yet, and its next try.
struct Waiting<D> {
    pending: Bytes,
    tries: u32,
    timer: Pin<Box<D>>,
}

impl<B, S, D> ReadBody<B, S, D> {
    pub(crate) fn new(
        buffer: Result<BodyBuffer, Rejection>,
        body: B,
        sleep: S,
        settings: std::sync::Arc<Settings>,
    ) -> Self {
        Self {
            body,
            deadline: None,
            sleep,
            buffer: buffer.map_err(Some),
            waiting: None,
            settings,
        }
    }
}

impl<B, S, D> std::fmt::Debug for ReadBody<B, S, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadBody")
            .field("buffer", &self.buffer)
            .field("waiting_for_memory", &self.waiting.is_some())
            .finish_non_exhaustive()
    }
}

impl<B, S, D> Future for ReadBody<B, S, D>
where
    B: Body,
    S: Fn(std::time::Duration) -> D,
    D: Future<Output = ()>,
{
    type Output = Result<Bytes, Rejection>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let mut result = loop {
            if let Some(waiting) = this.waiting.as_mut() {
                if waiting.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let Ok(buffer) = this.buffer.as_mut() else {
                    *this.waiting = None;
                    continue;
                };
                match buffer.push_buf(&mut waiting.pending) {
                    Ok(()) => *this.waiting = None,
                    Err(refused) if *refused.kind() == RejectionKind::Overloaded => {
                        waiting.tries += 1;
                        if BUDGET_RETRY * waiting.tries >= BUDGET_WAIT {
                            let retry_after = Some(this.settings.retry_after);
                            break Err(Rejection::new(RejectionKind::Overloaded, retry_after));
                        }
                        waiting.timer = Box::pin((this.sleep)(BUDGET_RETRY));
                    }
                    Err(rejection) => break Err(rejection),
                }
                continue;
            }
            match poll_read(this.body.as_mut(), this.buffer, cx) {
                Poll::Pending => {
                    let mut deadline = this.deadline.as_mut();
                    if deadline.is_none() {
                        deadline.set(Some((this.sleep)(this.settings.body_timeout)));
                    }
                    match deadline.as_pin_mut().map(|deadline| deadline.poll(cx)) {
                        Some(Poll::Ready(())) => {
                            let kind = RejectionKind::BodyTimeout {
                                after: this.settings.body_timeout,
                            };
                            break Err(Rejection::new(kind, None));
                        }
                        _ => return Poll::Pending,
                    }
                }
                Poll::Ready(Read::Done(result)) => break result,
                Poll::Ready(Read::OutOfBudget(pending)) => {
                    *this.waiting = Some(Box::new(Waiting {
                        pending,
                        tries: 0,
                        timer: Box::pin((this.sleep)(BUDGET_RETRY)),
                    }));
                }
            }
        };
        if let Err(rejection) = &mut result {
            rejection.record(this.settings);
        }
        Poll::Ready(result)
    }
}

/// What [`poll_read`] stopped at.
enum Read {
    /// The whole body, or a rejection.
    Done(Result<Bytes, Rejection>),
    /// The budget could not lend the buffer more: these bytes are still to be kept.
    OutOfBudget(Bytes),
}

/// Reads what the body has now; `Pending` when it needs to wait.
fn poll_read<B: Body>(
    mut body: Pin<&mut B>,
    state: &mut Result<BodyBuffer, Option<Rejection>>,
    cx: &mut Context<'_>,
) -> Poll<Read> {
    let buffer = match state {
        Ok(buffer) => buffer,
        Err(refused) => {
            return refused
                .take()
                .map_or(Poll::Pending, |r| Poll::Ready(Read::Done(Err(r))));
        }
    };
    loop {
        match body.as_mut().poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let Ok(mut data) = frame.into_data() else {
                    continue;
                };
                match buffer.push_buf(&mut data) {
                    Ok(()) => {}
                    Err(refused) if *refused.kind() == RejectionKind::Overloaded => {
                        let pending = data.copy_to_bytes(data.remaining());
                        return Poll::Ready(Read::OutOfBudget(pending));
                    }
                    Err(rejection) => return Poll::Ready(Read::Done(Err(rejection))),
                }
            }
            Poll::Ready(Some(Err(_))) => {
                let rejection = Rejection::new(RejectionKind::UnreadableBody, None);
                return Poll::Ready(Read::Done(Err(rejection)));
            }
            Poll::Ready(None) => {
                let finished = std::mem::replace(state, Err(None));
                let body = finished.map(BodyBuffer::finish).unwrap_or_default();
                return Poll::Ready(Read::Done(Ok(body)));
            }
            Poll::Pending => return Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests;
