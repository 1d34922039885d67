//! Typed path parameters: plain values parsed from the path, and domain values
//! resolved with a lookup.

use std::future::Future;

use justsse_http::HttpError;

use crate::state::AppState;

/// The 400 of a path parameter whose text does not parse.
pub(crate) fn malformed(name: &str, err: impl std::fmt::Display) -> HttpError {
    HttpError::bad_request(format!("path parameter `{name}`: {err}"))
}

/// The 404 of a path parameter that names nothing.
pub(crate) fn not_found(name: &str, text: &str) -> HttpError {
    HttpError::not_found(format!("no {name} `{text}`"))
}

/// A type a `:name` path segment can bind to.
///
/// Implemented for integers, floats, `bool`, `char`, `String` and the IP address
/// types; for your own `FromStr` types through [`from_str_param!`](crate::from_str_param); and for every
/// [`Resolve`] type. A parameter that does not parse is a 400 naming the
/// parameter; a resolver that finds nothing is a 404.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a path parameter",
    note = "implement `justsse::Resolve` for it (a lookup with app state), or call `justsse::from_str_param!({Self})` if it implements `FromStr`"
)]
pub trait PathParam: Sized + Send {
    /// What the path text parses to before any lookup.
    type Raw: Send;

    /// Parses the path text; the error message is shown to the client.
    fn parse(raw: &str) -> Result<Self::Raw, String>;

    /// Turns the parsed value into the argument: `Ok(None)` is a 404.
    fn resolve(
        raw: Self::Raw,
        app: &AppState,
    ) -> impl Future<Output = Result<Option<Self>, HttpError>> + Send;

    /// Declares the app state the parameter needs, checked when the app starts.
    fn require(needs: &mut Needs) {
        let _ = needs;
    }
}

/// What a route needs from the application, collected when it is mounted.
#[derive(Debug)]
pub struct Needs<'a> {
    pub(crate) app: &'a AppState,
    pub(crate) missing: Vec<&'static str>,
    /// The types of the path parameters a `Path` extractor reads, in order.
    pub(crate) path_types: Vec<&'static str>,
}

impl<'a> Needs<'a> {
    pub(crate) fn new(app: &'a AppState) -> Self {
        Self {
            app,
            missing: Vec::new(),
            path_types: Vec::new(),
        }
    }

    /// Records that the next path parameter is read as `P`, for the route table.
    pub(crate) fn path_param<P>(&mut self) {
        let name = std::any::type_name::<P>();
        // `alloc::string::String` is listed `String`, as a controller's is.
        let short = match name.contains('<') {
            true => name,
            false => name.rsplit("::").next().unwrap_or(name),
        };
        self.path_types.push(short);
    }
}

impl Needs<'_> {
    /// Declares that app state of type `T` must be present.
    pub fn state<T: Send + Sync + 'static>(&mut self) {
        if !self.app.contains::<T>() {
            self.missing.push(std::any::type_name::<T>());
        }
    }
}

/// Implements [`PathParam`] for `FromStr` types whose error is `Display`.
///
/// ```
/// use std::str::FromStr;
///
/// /// A ticket number written `T-42`.
/// struct TicketNo(u32);
///
/// impl FromStr for TicketNo {
///     type Err = String;
///     fn from_str(s: &str) -> Result<Self, String> {
///         let n = s.strip_prefix("T-").ok_or("expected T-<number>")?;
///         n.parse().map(TicketNo).map_err(|e| format!("{e}"))
///     }
/// }
///
/// justsse::from_str_param!(TicketNo);
/// ```
#[macro_export]
macro_rules! from_str_param {
    ($($ty:ty),+ $(,)?) => {$(
        impl $crate::extract::PathParam for $ty {
            type Raw = $ty;

            fn parse(raw: &str) -> ::core::result::Result<$ty, ::std::string::String> {
                <$ty as ::core::str::FromStr>::from_str(raw).map_err(|err| err.to_string())
            }

            fn resolve(
                raw: $ty,
                _: &$crate::extract::AppState,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<::core::option::Option<$ty>, $crate::HttpError>,
            > + ::core::marker::Send {
                ::core::future::ready(::core::result::Result::Ok(::core::option::Option::Some(raw)))
            }
        }
    )+};
}

from_str_param!(
    f32,
    f64,
    bool,
    char,
    String,
    std::net::IpAddr,
    std::net::Ipv4Addr,
    std::net::Ipv6Addr,
);

/// Integers parse only in their canonical spelling (no `+`, no leading zeros,
/// no `-0`), so one resource has one path.
macro_rules! integer_param {
    ($signed:literal => $($ty:ty),+) => {$(
        impl PathParam for $ty {
            type Raw = $ty;

            fn parse(raw: &str) -> Result<$ty, String> {
                if !crate::number::is_canonical_integer(raw, $signed) {
                    return Err(if $signed {
                        "expected an integer in decimal digits, without `+` or leading zeros"
                    } else {
                        "expected a non-negative integer in decimal digits, without a sign or leading zeros"
                    }
                    .to_owned());
                }
                raw.parse().map_err(|err: std::num::ParseIntError| err.to_string())
            }

            fn resolve(
                raw: $ty,
                _: &AppState,
            ) -> impl Future<Output = Result<Option<$ty>, HttpError>> + Send {
                std::future::ready(Ok(Some(raw)))
            }
        }
    )+};
}

integer_param!(false => u8, u16, u32, u64, u128, usize);
integer_param!(true => i8, i16, i32, i64, i128, isize);

/// A primitive path parameter: its parsed value is the argument, with no
/// lookup, so generated code takes it without awaiting anything. Only the
/// types below; the controller macro uses it for parameters it sees written
/// as one of their names.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is written like a primitive path parameter but is not one"
)]
pub trait Plain: PathParam<Raw = Self> {}

macro_rules! plain {
    ($($ty:ty),+) => {$(impl Plain for $ty {})+};
}

plain!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64, bool, char, String
);

/// A path parameter that is looked up: the path text parses into a `Key` (400
/// naming the parameter when it does not), then `resolve` finds the value with the
/// app state (`None` is a 404; an error is answered as it is, a 500 logged and
/// shown only as "internal server error").
///
/// ```
/// use std::collections::HashMap;
/// use justsse::{HttpError, Resolve};
///
/// #[derive(Clone)]
/// struct Ticket { id: u64, subject: String }
///
/// #[derive(Default)]
/// struct TicketStore { tickets: std::sync::Mutex<HashMap<u64, Ticket>> }
///
/// impl Resolve for Ticket {
///     type Key = u64;
///     type State = TicketStore;
///
///     async fn resolve(id: u64, store: &TicketStore) -> Result<Option<Self>, HttpError> {
///         let tickets = store.tickets.lock().map_err(|_| HttpError::internal("store poisoned"))?;
///         Ok(tickets.get(&id).cloned())
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a path parameter",
    note = "implement `justsse::Resolve` for it (a lookup with app state), or call `justsse::from_str_param!({Self})` if it implements `FromStr`"
)]
pub trait Resolve: Sized + Send {
    /// What the path text parses to: any plain path parameter type (integers in
    /// their canonical spelling, strings, your `FromStr` types through
    /// [`from_str_param!`](crate::from_str_param)).
    type Key: PathParam<Raw = Self::Key>;
    /// The app state the lookup reads.
    type State: Send + Sync + 'static;

    /// Finds the value for `key`.
    fn resolve(
        key: Self::Key,
        state: &Self::State,
    ) -> impl Future<Output = Result<Option<Self>, HttpError>> + Send;
}

#[diagnostic::do_not_recommend]
impl<T: Resolve> PathParam for T {
    type Raw = T::Key;

    fn parse(raw: &str) -> Result<T::Key, String> {
        <T::Key as PathParam>::parse(raw)
    }

    async fn resolve(key: T::Key, app: &AppState) -> Result<Option<Self>, HttpError> {
        T::resolve(key, app.require::<T::State>()?).await
    }

    fn require(needs: &mut Needs) {
        needs.state::<T::State>();
    }
}
