//! Reading a request body under its limits: its size (413), the time it may
//! take to arrive (408), and one memory budget that all bodies still arriving
//! share (503), so that slow uploads on many connections cannot fill the memory.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::BodyError;

/// The body limits of one server, shared by its requests.
#[derive(Debug)]
pub(crate) struct BodyLimits {
    limit: usize,
    timeout: Duration,
    /// One permit per byte of a body being read.
    budget: Semaphore,
}

impl BodyLimits {
    /// Bodies of at most `limit` bytes each, arriving within `timeout`,
    /// `memory` bytes of them at once (at least one whole body).
    pub(crate) fn new(limit: usize, memory: usize, timeout: Duration) -> Self {
        let budget = memory.max(limit).min(Semaphore::MAX_PERMITS);
        Self {
            limit,
            timeout,
            budget: Semaphore::new(budget),
        }
    }

    /// Reads `body` whole. `declared` is its `Content-Length`, if any: a body
    /// declared over the limit is refused before a byte of it is read.
    pub(crate) async fn read(
        &self,
        mut body: Incoming,
        declared: Option<u64>,
    ) -> Result<Bytes, BodyError> {
        let limit = self.limit;
        if declared.is_some_and(|len| len > limit as u64) {
            return Err(BodyError::TooLarge { limit });
        }
        if http_body::Body::is_end_stream(&body) {
            return Ok(Bytes::new());
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut held: Option<SemaphorePermit<'_>> = None;
        let mut received = 0;
        // The common body arrives in one frame and is kept as it came; more
        // frames are copied into `rest`, which takes the first one over.
        // Copying (rather than keeping every frame) hands hyper its read buffer
        // back at once. With a declared length, `rest` is allocated once at
        // that size: pages are only resident once bytes fill them, and one
        // allocation per body, instead of a buffer that doubles, leaves the
        // allocator less to keep after many slow bodies (bench's `attack`).
        let mut first = Bytes::new();
        let mut rest = BytesMut::new();
        loop {
            let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
                Err(_elapsed) => {
                    crate::observe::timeout("body");
                    return Err(BodyError::TimedOut {
                        after: self.timeout,
                    });
                }
                Ok(None) => break,
                Ok(Some(Err(err))) => return Err(BodyError::Read(err.into())),
                Ok(Some(Ok(frame))) => frame,
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            received += data.len();
            if received > limit {
                return Err(BodyError::TooLarge { limit });
            }
            let permit = u32::try_from(data.len())
                .ok()
                .and_then(|bytes| self.budget.try_acquire_many(bytes).ok())
                .ok_or(BodyError::Busy)?;
            match &mut held {
                Some(held) => held.merge(permit),
                None => held = Some(permit),
            }
            if received == data.len() {
                first = data;
            } else {
                if !first.is_empty() {
                    let capacity = declared.map_or(0, |len| len as usize);
                    rest.reserve(capacity.max(received));
                    rest.extend_from_slice(&std::mem::take(&mut first));
                }
                rest.extend_from_slice(&data);
            }
        }
        Ok(if rest.is_empty() {
            first
        } else {
            rest.freeze()
        })
    }
}
