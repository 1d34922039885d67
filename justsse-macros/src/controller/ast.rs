//! The typed model of a controller that parsing builds and expansion reads.

use syn::{Block, Expr, ExprClosure, Ident, ItemImpl, LitStr, Pat, Path, Type};

/// A controller: its type, what applies to every route, and the routes.
pub(crate) struct ControllerModel {
    pub(crate) self_ty: Type,
    /// Middleware and guards of every route, first.
    pub(crate) steps: Vec<Step>,
    /// `#[wrap(..)]` around every route, outermost first.
    pub(crate) wraps: Vec<Path>,
    pub(crate) routes: Vec<RouteModel>,
    /// The impl block without route attributes and without generator handlers,
    /// whose bodies move into functions of their own (`__justsse_gen_*`).
    pub(crate) item: ItemImpl,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Sse,
}

impl Method {
    pub(super) fn from_attr(name: &str) -> Option<Self> {
        Some(match name {
            "get" => Self::Get,
            "post" => Self::Post,
            "put" => Self::Put,
            "patch" => Self::Patch,
            "delete" => Self::Delete,
            "sse" => Self::Sse,
            _ => return None,
        })
    }

    pub(crate) fn http(self) -> &'static str {
        match self {
            Self::Get | Self::Sse => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

pub(crate) enum Step {
    /// `#[uses(path)]`: a middleware whose value joins the chain.
    Use(Path),
    /// `#[guard(...)]`, with the message of its 403 (`message = ".."`).
    Guard(Guard, Option<LitStr>),
}

pub(crate) enum Guard {
    /// `|user: &User| ...`: arguments named after path parameters borrow them;
    /// the others borrow chain values by type.
    Closure {
        closure: ExprClosure,
        args: Vec<(Option<Ident>, Type)>,
    },
    /// `is_admin`: a function of borrowed chain values and path parameters.
    Function(Expr),
}

pub(crate) struct RouteModel {
    pub(crate) method: Method,
    /// `#[get("..", sse)]`: JSON for plain clients, a stream for SSE clients.
    pub(crate) progressive: bool,
    /// A stream that starts with a request (`#[post("..", stream)]`, or a
    /// `stream!` body on a method other than GET).
    pub(crate) stream: bool,
    /// `retry = <ms>`: the reconnection hint sent first.
    pub(crate) retry: Option<u64>,
    /// `keep_alive = off` (0) or `= <ms>`: the stream's keep-alive.
    pub(crate) keep_alive: Option<u64>,
    /// `compress = off` (0) or `= <level>`: the stream's compression.
    pub(crate) compress: Option<u32>,
    /// `events = Type`: the `SseEvent` type the stream sends, for the route table.
    pub(crate) events: Option<Path>,
    /// `responses(409 = Type, 422)`: statuses the handler answers itself
    /// (checked always, written only with the `openapi` feature).
    #[cfg_attr(not(feature = "openapi"), allow(dead_code))]
    pub(crate) responses: Vec<(u16, Option<syn::Type>)>,
    /// The path as written in the attribute, for error spans.
    pub(crate) lit: LitStr,
    pub(crate) path: String,
    pub(crate) params: Vec<String>,
    pub(crate) handler: Ident,
    pub(crate) receiver: bool,
    pub(crate) args: Vec<Arg>,
    pub(crate) steps: Vec<Step>,
    /// `#[wrap(..)]` around this route, outermost first.
    pub(crate) wraps: Vec<Path>,
    /// The body of a generator handler (a streaming method ending in `stream! {}`).
    pub(crate) generator: Option<Block>,
    /// The return type as written; `None` for `()`.
    pub(crate) output: Option<Type>,
    pub(crate) summary: String,
}

pub(crate) struct Arg {
    pub(crate) pat: Pat,
    pub(crate) ty: Type,
    /// Set when the argument binds the path parameter of this name.
    pub(crate) param: Option<Ident>,
}
