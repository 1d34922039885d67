//! Checks across routes once each is parsed.

use crate::ctxt::Ctxt;

use super::ast::{Method, RouteModel};

/// Two routes with the same method and path shape (parameter names aside).
pub(super) fn check_duplicates(cx: &mut Ctxt, routes: &[RouteModel]) {
    // (is an event stream, method, path with parameter names erased)
    let shapes = |route: &RouteModel| {
        let path: Vec<String> = route
            .path
            .split('/')
            .map(|segment| match segment.chars().next() {
                Some(':') => ":".to_owned(),
                Some('*') => "*".to_owned(),
                _ => segment.to_owned(),
            })
            .collect();
        let path = path.join("/");
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
