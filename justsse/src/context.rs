//! The context a mounted route works in, one request.

use std::sync::Arc;

use justsse_http::{Request, RequestHead, Response};

use crate::state::AppState;

/// One request on its way through a route: the request, the application's state,
/// and whatever must live as long as the response.
#[derive(Debug)]
pub struct Context {
    req: Request,
    app: Arc<AppState>,
    held: Option<tokio_util::sync::DropGuard>,
    updates: Option<tokio::sync::mpsc::Receiver<justsse_http::Event>>,
}

impl Context {
    pub(crate) fn new(req: Request, app: Arc<AppState>) -> Self {
        Self {
            req,
            app,
            held: None,
            updates: None,
        }
    }

    /// The request head, as middleware sees it.
    pub fn head(&self) -> &RequestHead {
        self.req.head()
    }

    /// The request.
    pub fn request(&mut self) -> &mut Request {
        &mut self.req
    }

    /// The application's state.
    pub fn app(&self) -> &AppState {
        &self.app
    }

    pub(crate) fn hold_until_response_ends(&mut self, guard: tokio_util::sync::DropGuard) {
        self.held = Some(guard);
    }

    pub(crate) fn set_updates(&mut self, rx: tokio::sync::mpsc::Receiver<justsse_http::Event>) {
        self.updates = Some(rx);
    }

    pub(crate) fn take_updates(
        &mut self,
    ) -> Option<tokio::sync::mpsc::Receiver<justsse_http::Event>> {
        self.updates.take()
    }

    /// Ties what must live as long as the response to its body.
    pub(crate) fn finish(self, mut response: Response) -> Response {
        if let Some(guard) = self.held {
            let body = std::mem::take(response.body_mut());
            *response.body_mut() = body.hold(guard);
        }
        response
    }
}
