//! Route paths as users write them (`/tickets/:ticket`, `/files/*rest`) and their
//! rewriting into matchit's `{ticket}` / `{*rest}` syntax.

/// Why a route path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path does not start with `/`.
    #[error("route path `{0}` must start with `/`")]
    NoLeadingSlash(String),
    /// Two slashes in a row.
    #[error("route path `{0}` has an empty segment (`//`)")]
    EmptySegment(String),
    /// `:` or `*` not followed by a valid identifier.
    #[error(
        "route path `{path}`: `{segment}` is not a valid parameter (expected `:name` or `*name` with name in [A-Za-z0-9_], not starting with a digit)"
    )]
    InvalidParameter {
        /// The whole path.
        path: String,
        /// The offending segment.
        segment: String,
    },
    /// A catch-all that is not the last segment.
    #[error("route path `{0}`: a `*name` catch-all must be the last segment")]
    CatchAllNotLast(String),
    /// A parameter in another framework's syntax: `{id}` (axum, matchit),
    /// `<id>` (Rocket).
    #[error(
        "route path `{path}`: write `{segment}` as `{suggestion}` (justsse paths name parameters `:name` and `*name`)"
    )]
    ForeignParameter {
        /// The whole path.
        path: String,
        /// The offending segment.
        segment: String,
        /// The same parameter in our syntax.
        suggestion: String,
    },
    /// The same parameter name twice.
    #[error("route path `{path}` names the parameter `{name}` twice")]
    DuplicateParameter {
        /// The whole path.
        path: String,
        /// The repeated name.
        name: String,
    },
}

/// A checked route path: its matchit form and its parameter names in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePath {
    /// The path as written, e.g. `/tickets/:ticket`.
    pub(crate) written: String,
    /// The path in matchit syntax, e.g. `/tickets/{ticket}`.
    pub(crate) matchit: String,
    /// The parameter names, in path order.
    pub(crate) params: Vec<String>,
}

impl RoutePath {
    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.written
    }

    /// The parameter names, in path order.
    pub fn params(&self) -> &[String] {
        &self.params
    }

    /// The path with its parameters' names left out: two routes of one
    /// shape match the same requests.
    ///
    /// ```
    /// use justsse_http::RoutePath;
    ///
    /// let a = RoutePath::parse("/tickets/:ticket/files/*rest").unwrap();
    /// let b = RoutePath::parse("/tickets/:id/files/*path").unwrap();
    /// assert_eq!(a.shape(), "/tickets/:/files/*");
    /// assert_eq!(a.shape(), b.shape());
    /// ```
    pub fn shape(&self) -> String {
        self.written
            .split('/')
            .map(|segment| match segment.as_bytes().first() {
                Some(b':') => ":",
                Some(b'*') => "*",
                _ => segment,
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Checks `path` and rewrites it for matchit.
    ///
    /// ```
    /// use justsse_http::RoutePath;
    ///
    /// let path = RoutePath::parse("/tickets/:ticket/files/*rest").unwrap();
    /// assert_eq!(path.as_str(), "/tickets/:ticket/files/*rest");
    /// assert_eq!(path.params(), ["ticket", "rest"]);
    /// assert!(RoutePath::parse("tickets").is_err());
    /// ```
    pub fn parse(path: &str) -> Result<Self, PathError> {
        let Some(rest) = path.strip_prefix('/') else {
            return Err(PathError::NoLeadingSlash(path.to_owned()));
        };
        let mut matchit = String::with_capacity(path.len() + 8);
        let mut params: Vec<String> = Vec::new();
        let segments: Vec<&str> = rest.split('/').collect();
        let last = segments.len() - 1;
        for (i, segment) in segments.iter().enumerate() {
            matchit.push('/');
            // `/` alone and a trailing slash leave one empty last segment.
            if segment.is_empty() {
                if i == last {
                    continue;
                }
                return Err(PathError::EmptySegment(path.to_owned()));
            }
            if let Some(suggestion) = foreign_parameter(segment) {
                return Err(PathError::ForeignParameter {
                    path: path.to_owned(),
                    segment: (*segment).to_owned(),
                    suggestion,
                });
            }
            let (kind, name) = match segment.as_bytes()[0] {
                b':' => (Param::Named, &segment[1..]),
                b'*' => (Param::CatchAll, &segment[1..]),
                _ => {
                    push_escaped(&mut matchit, segment);
                    continue;
                }
            };
            if !is_identifier(name) {
                return Err(PathError::InvalidParameter {
                    path: path.to_owned(),
                    segment: (*segment).to_owned(),
                });
            }
            if kind == Param::CatchAll && i != last {
                return Err(PathError::CatchAllNotLast(path.to_owned()));
            }
            if params.iter().any(|p| p == name) {
                return Err(PathError::DuplicateParameter {
                    path: path.to_owned(),
                    name: name.to_owned(),
                });
            }
            matchit.push('{');
            if kind == Param::CatchAll {
                matchit.push('*');
            }
            matchit.push_str(name);
            matchit.push('}');
            params.push(name.to_owned());
        }
        Ok(Self {
            written: path.to_owned(),
            matchit,
            params,
        })
    }
}

#[derive(PartialEq, Eq)]
enum Param {
    Named,
    CatchAll,
}

/// `{id}` / `{*rest}` (matchit, axum) and `<id>` / `<rest..>` (Rocket) in our
/// syntax, `:id` / `*rest`; `None` for any other segment.
fn foreign_parameter(segment: &str) -> Option<String> {
    let (open, close) = (segment.as_bytes()[0], segment.as_bytes()[segment.len() - 1]);
    let inner = match (open, close) {
        (b'{', b'}') | (b'<', b'>') if segment.len() > 2 => &segment[1..segment.len() - 1],
        _ => return None,
    };
    let (catch_all, name) = match (inner.strip_prefix('*'), inner.strip_suffix("..")) {
        (Some(name), _) if open == b'{' => (true, name),
        (_, Some(name)) if open == b'<' => (true, name),
        _ => (false, inner),
    };
    if !is_identifier(name) {
        return None;
    }
    Some(format!("{}{name}", if catch_all { '*' } else { ':' }))
}

fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// matchit reads `{` and `}` as parameter syntax; literal braces are doubled.
fn push_escaped(out: &mut String, literal: &str) {
    for c in literal.chars() {
        if c == '{' || c == '}' {
            out.push(c);
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites() {
        let cases = [
            ("/", "/", &[][..]),
            ("/tickets", "/tickets", &[][..]),
            ("/tickets/", "/tickets/", &[][..]),
            ("/tickets/:ticket", "/tickets/{ticket}", &["ticket"][..]),
            ("/t/:a/x/:b_2", "/t/{a}/x/{b_2}", &["a", "b_2"][..]),
            ("/files/*rest", "/files/{*rest}", &["rest"][..]),
            ("/braces/a{x}", "/braces/a{{x}}", &[][..]),
            ("/braces/{}", "/braces/{{}}", &[][..]),
            ("/braces/{1}", "/braces/{{1}}", &[][..]),
            ("/a:b", "/a:b", &[][..]),
        ];
        for (written, expected, params) in cases {
            let path = RoutePath::parse(written).expect(written);
            assert_eq!(path.matchit, expected, "{written}");
            assert_eq!(path.params, params, "{written}");
        }
    }

    #[test]
    fn refuses() {
        let cases = [
            ("", PathError::NoLeadingSlash(String::new())),
            ("tickets", PathError::NoLeadingSlash("tickets".into())),
            ("/a//b", PathError::EmptySegment("/a//b".into())),
            ("//", PathError::EmptySegment("//".into())),
            (
                "/:",
                PathError::InvalidParameter {
                    path: "/:".into(),
                    segment: ":".into(),
                },
            ),
            (
                "/:1a",
                PathError::InvalidParameter {
                    path: "/:1a".into(),
                    segment: ":1a".into(),
                },
            ),
            (
                "/:a-b",
                PathError::InvalidParameter {
                    path: "/:a-b".into(),
                    segment: ":a-b".into(),
                },
            ),
            ("/*rest/x", PathError::CatchAllNotLast("/*rest/x".into())),
            (
                "/:a/:a",
                PathError::DuplicateParameter {
                    path: "/:a/:a".into(),
                    name: "a".into(),
                },
            ),
        ];
        for (written, expected) in cases {
            assert_eq!(RoutePath::parse(written), Err(expected), "{written:?}");
        }
    }

    #[test]
    fn other_frameworks_parameters_get_our_syntax_suggested() {
        let cases = [
            ("/t/{id}", "{id}", ":id"),
            ("/t/{*rest}", "{*rest}", "*rest"),
            ("/t/<id>/x", "<id>", ":id"),
            ("/t/<rest..>", "<rest..>", "*rest"),
        ];
        for (written, segment, suggestion) in cases {
            let err = RoutePath::parse(written).expect_err(written);
            assert_eq!(
                err,
                PathError::ForeignParameter {
                    path: written.into(),
                    segment: segment.into(),
                    suggestion: suggestion.into(),
                }
            );
            assert!(
                err.to_string().contains(&format!("as `{suggestion}`")),
                "{err}"
            );
        }
    }
}
