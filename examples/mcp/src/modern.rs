//! The stateless revision 2026-07-28: no handshake and no session; each
//! request carries its protocol version in `_meta` and mirrors its method
//! (and tool name or resource URI) in headers, which must match the body; a
//! stream's work ends when the client closes it.

use std::convert::Infallible;

use base64::Engine;
use futures_util::StreamExt;
use justsse::http::{HeaderMap, StatusCode};
use justsse::prelude::*;
use serde_json::{Value, json};

use crate::methods::{Answer, Methods};
use crate::rpc::{
    self, HEADER_MISMATCH, INVALID_REQUEST, METHOD_NOT_FOUND, Message, RpcError,
    UNSUPPORTED_VERSION,
};
use crate::{
    HANDSHAKE_VERSIONS, MODERN_VERSIONS, PROTOCOL_VERSION, accepted, capabilities, header_str,
    json_response, rpc_failure, server_info,
};

/// Where a request carries its protocol version.
const VERSION_META: &str = "io.modelcontextprotocol/protocolVersion";

/// Whether a POST speaks a stateless revision: it says so in its header or
/// its `_meta`, or it is `server/discover`, the probe for one.
pub(crate) fn applies(headers: &HeaderMap, value: &Value) -> bool {
    header_str(headers, PROTOCOL_VERSION).is_some_and(|v| !HANDSHAKE_VERSIONS.contains(&v))
        || value["method"] == "server/discover"
        || value["params"]["_meta"].get(VERSION_META).is_some()
}

/// Every revision spoken, newest first.
fn supported() -> Vec<&'static str> {
    MODERN_VERSIONS
        .into_iter()
        .chain(HANDSHAKE_VERSIONS)
        .collect()
}

fn mismatch(id: &Value, message: String) -> Response {
    rpc_failure(
        StatusCode::BAD_REQUEST,
        id,
        &RpcError::new(HEADER_MISMATCH, message),
    )
}

/// A `Mcp-Name` or `Mcp-Param-*` value as sent: plain, or `=?base64?..?=`.
fn decoded(value: &str) -> Option<String> {
    match value
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
    {
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok()),
        None => Some(value.to_owned()),
    }
}

/// Answers one stateless POST.
pub(crate) async fn post(methods: &Methods, headers: &HeaderMap, value: Value) -> Response {
    let (id, method, params) = match Message::parse(value) {
        Ok(Message::Request { id, method, params }) => (id, method, params),
        Ok(Message::Notification { .. }) => return accepted(),
        Ok(Message::Response) => {
            let error = RpcError::new(INVALID_REQUEST, "clients send no responses at 2026-07-28");
            return rpc_failure(StatusCode::BAD_REQUEST, &Value::Null, &error);
        }
        Err((id, error)) => return rpc_failure(StatusCode::BAD_REQUEST, &id, &error),
    };
    let Some(version) = header_str(headers, PROTOCOL_VERSION) else {
        return mismatch(&id, "MCP-Protocol-Version is required".to_owned());
    };
    if !MODERN_VERSIONS.contains(&version) {
        let error = RpcError {
            data: Some(json!({"supported": supported(), "requested": version})),
            ..RpcError::new(
                UNSUPPORTED_VERSION,
                format!("protocol version {version} is not supported"),
            )
        };
        return rpc_failure(StatusCode::BAD_REQUEST, &id, &error);
    }
    if let Some(mismatched) = check_headers(headers, version, &method, &params) {
        return mismatch(&id, mismatched);
    }
    if method == "server/discover" {
        let result = json!({
            "resultType": "complete",
            "supportedVersions": supported(),
            "capabilities": capabilities(),
            "_meta": {"io.modelcontextprotocol/serverInfo": server_info()},
            "ttlMs": TOOLS_TTL_MS,
            "cacheScope": "public",
        });
        return json_response(StatusCode::OK, &rpc::reply(&id, result));
    }
    if method.starts_with("resources/") && method.ends_with("subscribe") {
        let error = RpcError::new(METHOD_NOT_FOUND, format!("Method not found: {method}"));
        return rpc_failure(StatusCode::NOT_FOUND, &id, &error);
    }
    match methods.call(None, &id, &method, &params).await {
        Answer::Now(Ok(result)) => json_response(
            StatusCode::OK,
            &rpc::reply(&id, cached(&method, complete(result))),
        ),
        Answer::Now(Err(error)) if error.code == METHOD_NOT_FOUND => {
            rpc_failure(StatusCode::NOT_FOUND, &id, &error)
        }
        Answer::Now(Err(error)) => json_response(StatusCode::OK, &error.reply(&id)),
        // Attached: the client closing the stream drops the work.
        Answer::Over(messages) => Sse::new(messages.map(|mut message| {
            if let Some(result) = message.get_mut("result") {
                *result = complete(result.take());
            }
            Ok::<_, Infallible>(Event::new().data(message.to_string()))
        }))
        .into_response(),
    }
}

/// What disagrees between the headers and the body, if anything.
fn check_headers(
    headers: &HeaderMap,
    version: &str,
    method: &str,
    params: &Value,
) -> Option<String> {
    if params["_meta"][VERSION_META] != version {
        return Some(format!(
            "MCP-Protocol-Version {version} does not match _meta's {}",
            params["_meta"][VERSION_META]
        ));
    }
    if header_str(headers, "mcp-method") != Some(method) {
        return Some(format!("Mcp-Method does not match the method {method}"));
    }
    let named = match method {
        "tools/call" | "prompts/get" => params["name"].as_str(),
        "resources/read" => params["uri"].as_str(),
        _ => return None,
    };
    let sent = header_str(headers, "mcp-name").and_then(decoded);
    (sent.as_deref() != named).then(|| "Mcp-Name does not match the body".to_owned())
}

/// How long a client may cache the tools and resources lists, which do not
/// change while the server runs: an hour.
const TOOLS_TTL_MS: u64 = 60 * 60 * 1000;

/// The caching hints 2026-07-28 requires on the results of listings and
/// reads: lists an hour, for anyone; a read (the note changes) not at all.
fn cached(method: &str, mut result: Value) -> Value {
    let (ttl, scope) = match method {
        "tools/list" | "resources/list" => (TOOLS_TTL_MS, "public"),
        "resources/read" => (0, "private"),
        _ => return result,
    };
    if let Some(fields) = result.as_object_mut() {
        fields.insert("ttlMs".to_owned(), json!(ttl));
        fields.insert("cacheScope".to_owned(), json!(scope));
    }
    result
}

/// A result marked complete, as 2026-07-28 requires.
fn complete(mut result: Value) -> Value {
    if let Some(fields) = result.as_object_mut() {
        fields.insert("resultType".to_owned(), json!("complete"));
    }
    result
}
