//! JSON-RPC 2.0 as MCP uses it: what a POST body holds, and the replies.

use serde_json::{Value, json};

/// `Parse error`: the body is not JSON.
pub(crate) const PARSE_ERROR: i64 = -32700;
/// `Invalid Request`: JSON, but not a JSON-RPC message.
pub(crate) const INVALID_REQUEST: i64 = -32600;
/// `Method not found`.
pub(crate) const METHOD_NOT_FOUND: i64 = -32601;
/// `Invalid params`.
pub(crate) const INVALID_PARAMS: i64 = -32602;
/// `Internal error`.
pub(crate) const INTERNAL_ERROR: i64 = -32603;
/// `Resource not found` (MCP's code for an unknown resource URI).
pub(crate) const RESOURCE_NOT_FOUND: i64 = -32002;
/// `HeaderMismatch` (2026-07-28): the `Mcp-*` headers disagree with the body.
pub(crate) const HEADER_MISMATCH: i64 = -32020;
/// `UnsupportedProtocolVersion` (2026-07-28), with the versions supported.
pub(crate) const UNSUPPORTED_VERSION: i64 = -32022;

/// A JSON-RPC error: its code, message and optional data.
#[derive(Debug, Clone)]
pub(crate) struct RpcError {
    /// One of the codes above.
    pub(crate) code: i64,
    /// Said to the client.
    pub(crate) message: String,
    /// More, in the shape the code defines.
    pub(crate) data: Option<Value>,
}

impl RpcError {
    /// An error with `code` and `message`.
    pub(crate) fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// `Invalid params`, naming what is wrong.
    pub(crate) fn params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }

    /// The error as a JSON-RPC error response to `id` (`null` when unknown).
    pub(crate) fn reply(&self, id: &Value) -> Value {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(data) = &self.data {
            error["data"] = data.clone();
        }
        json!({"jsonrpc": "2.0", "id": id, "error": error})
    }
}

/// A result response to `id`.
pub(crate) fn reply(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// A notification.
pub(crate) fn notification(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

/// Whether `message` answers a request (a result or an error), which ends
/// the stream that carries it.
pub(crate) fn is_response(message: &Value) -> bool {
    message.get("method").is_none()
        && message.get("id").is_some()
        && (message.get("result").is_some() || message.get("error").is_some())
}

/// One JSON-RPC message a client sent.
#[derive(Debug, Clone)]
pub(crate) enum Message {
    /// A call expecting an answer.
    Request {
        /// Its id, a string or a number.
        id: Value,
        /// What is asked.
        method: String,
        /// Its arguments (`{}` when absent).
        params: Value,
    },
    /// A call expecting none.
    Notification {
        /// What is said.
        method: String,
        /// Its arguments (`{}` when absent).
        params: Value,
    },
    /// An answer to a request of the server's.
    Response,
}

impl Message {
    /// Reads one message; `Invalid Request` naming what is wrong otherwise
    /// (with the request's id when it has a usable one).
    pub(crate) fn parse(value: Value) -> Result<Self, (Value, RpcError)> {
        let Value::Object(mut fields) = value else {
            return Err((
                Value::Null,
                RpcError::new(INVALID_REQUEST, "a JSON-RPC message is an object"),
            ));
        };
        let id = fields.remove("id");
        let usable_id = match &id {
            Some(id @ (Value::String(_) | Value::Number(_))) => Some(id.clone()),
            _ => None,
        };
        let invalid = |message: &str| {
            (
                usable_id.clone().unwrap_or(Value::Null),
                RpcError::new(INVALID_REQUEST, message),
            )
        };
        if fields.get("jsonrpc") != Some(&json!("2.0")) {
            return Err(invalid("`jsonrpc` must be \"2.0\""));
        }
        let params = match fields.remove("params") {
            None => json!({}),
            Some(params @ Value::Object(_)) => params,
            Some(_) => return Err(invalid("`params` must be an object")),
        };
        match (fields.remove("method"), id) {
            (Some(Value::String(method)), None) => Ok(Message::Notification { method, params }),
            (Some(Value::String(method)), Some(_)) => match usable_id {
                Some(id) => Ok(Message::Request { id, method, params }),
                None => Err(invalid("`id` must be a string or a number")),
            },
            (Some(_), _) => Err(invalid("`method` must be a string")),
            (None, Some(_)) if fields.contains_key("result") || fields.contains_key("error") => {
                Ok(Message::Response)
            }
            (None, _) => Err(invalid("a request needs a `method`")),
        }
    }
}
