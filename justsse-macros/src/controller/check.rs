//! Checks across routes once each is parsed.

use justsse_http::RoutePath;

use crate::ctxt::Ctxt;

use super::ast::{Method, RouteModel};

/// Two routes with the same method and path shape (parameter names aside).
pub(super) fn check_duplicates(cx: &mut Ctxt, routes: &[RouteModel]) {
    // (is an event stream, method, path with parameter names erased)
    let shapes = |route: &RouteModel| {
        // Each path was checked when its route was parsed.
        let path = RoutePath::parse(&route.path)
            .map(|path| path.shape())
            .unwrap_or_else(|_| route.path.clone());
        let mut shapes = vec![(
            route.method == Method::Sse,
            route.method.http(),
            path.clone(),
        )];
        if route.progressive {
            shapes.push((true, "GET", path));
        }
        shapes
    };
    for (i, route) in routes.iter().enumerate() {
        let mine = shapes(route);
        if let Some(first) = routes[..i]
            .iter()
            .find(|earlier| shapes(earlier).iter().any(|shape| mine.contains(shape)))
        {
            cx.error_at(
                &route.lit,
                format!(
                    "{} {} is already routed to `{}`",
                    route.method.http(),
                    route.path,
                    first.handler
                ),
            );
        }
    }
}
