//! The crate's one error type.
//!
//! Every fallible call returns [`Result<T>`](Result), whose error is [`Error`]: a
//! `#[non_exhaustive]` enum with one variant per condition a caller may want to branch on
//! (missing token, unauthorized, unsupported provider/task/model, rate limited, timeout, …).
//! HTTP failures carry an [`HttpErrorContext`] with the status, the request id and the server's
//! own message, already extracted from the many error body shapes providers send.
//!
//! No variant ever holds the token: tokens travel in headers, error contexts keep only the
//! response, and URLs are stored with any secret-looking query parameter (`sig`, `token`,
//! `X-Amz-Signature`, …) replaced by `REDACTED`.
//!
//! ```
//! use hf_inference::error::Error;
//!
//! fn explain(err: &Error) -> String {
//!     match err {
//!         Error::RateLimited { retry_after, .. } => format!("slow down ({retry_after:?})"),
//!         Error::Unauthorized(ctx) => format!("check the token (HTTP {})", ctx.status),
//!         other if other.is_retryable() => format!("transient: {other}"),
//!         other => other.to_string(),
//!     }
//! }
//! # let _ = explain;
//! ```

use std::fmt;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Longest body excerpt kept in an error, in bytes.
const BODY_EXCERPT_LEN: usize = 1024;
/// Longest server message kept in an error, in bytes.
const SERVER_MESSAGE_LEN: usize = 2048;
/// What replaces a secret in a URL.
const REDACTED: &str = "REDACTED";

/// Response headers that carry a request id, most specific first.
///
/// `x-request-id` is what the Hugging Face router, TGI, OpenAI-compatible servers and most
/// providers send; the AWS ones come from API Gateway / CloudFront fronted services (the
/// Hugging Face router sits behind CloudFront); `cf-ray` identifies a request on Cloudflare
/// fronted providers.
const REQUEST_ID_HEADERS: &[&str] = &[
    "x-request-id",
    "request-id",
    "x-amzn-requestid",
    "x-amz-request-id",
    "x-fal-request-id",
    "x-amz-cf-id",
    "x-amzn-trace-id",
    "cf-ray",
];

/// Everything that can go wrong in this crate.
///
/// Branch on the variants you care about and treat the rest generically; new variants may be
/// added in minor releases. [`status`](Error::status), [`request_id`](Error::request_id) and
/// [`is_retryable`](Error::is_retryable) answer the common questions without a `match`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No token is configured, and the provider cannot be called without one.
    #[error(
        "no token for provider `{provider}`: pass a Hugging Face token (hf_…) to go through \
         the Hugging Face router, or the provider's own API key"
    )]
    MissingToken {
        /// The provider id, e.g. `"together"`.
        provider: String,
    },

    /// The server answered 401 or 403: the token is missing, invalid, or lacks a permission
    /// (for routed calls: "Make calls to Inference Providers").
    #[error("unauthorized: {0}")]
    Unauthorized(Box<HttpErrorContext>),

    /// The chosen provider does not serve this task.
    #[error(
        "provider `{provider}` does not support task `{task}`; {}",
        list_or("providers that do", "no provider supports it", supported)
    )]
    ProviderNotSupported {
        /// The provider id that was asked for.
        provider: String,
        /// The task id, e.g. `"text-to-image"`.
        task: String,
        /// Provider ids that do support the task.
        supported: Vec<String>,
    },

    /// The model does not support this task (it is mapped for other tasks only).
    #[error(
        "model `{model}` does not support task `{task}`{}; {}",
        on_provider(provider.as_deref()),
        list_or("its tasks", "no supported task is known", supported)
    )]
    TaskNotSupported {
        /// The model id.
        model: String,
        /// The task that was asked for.
        task: String,
        /// The provider, when one was chosen.
        provider: Option<String>,
        /// Task ids the model does support.
        supported: Vec<String>,
    },

    /// The model is not served for this task by the chosen provider (or by any provider).
    #[error(
        "model `{model}` is not available for task `{task}`{}; {}",
        on_provider(provider.as_deref()),
        list_or("providers serving it", "no provider serves it", supported)
    )]
    ModelNotSupported {
        /// The model id.
        model: String,
        /// The task id.
        task: String,
        /// The provider that was asked for; `None` when no provider at all serves the model.
        provider: Option<String>,
        /// Provider ids that do serve the model for this task.
        supported: Vec<String>,
    },

    /// The input was rejected before anything was sent.
    #[error("invalid `{field}`: {message}")]
    InvalidInput {
        /// The input or parameter name, e.g. `"parameters.top_k"`.
        field: String,
        /// What is wrong with it.
        message: String,
    },

    /// Any other non-success HTTP status.
    #[error("{0}")]
    Http(Box<HttpErrorContext>),

    /// The server answered 429 and retrying did not help (or was not allowed).
    #[error("rate limited{}: {context}", retry_hint(*retry_after))]
    RateLimited {
        /// The last 429 response.
        context: Box<HttpErrorContext>,
        /// How long the server asked to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
    },

    /// The request did not complete within the configured timeout.
    #[error("request to {url} timed out after {after:?}")]
    Timeout {
        /// The request URL, secrets redacted.
        url: String,
        /// The timeout that elapsed.
        after: Duration,
    },

    /// A response (or a stream event) could not be decoded into the expected type.
    #[error(
        "could not decode the response as `{target}`: {message}; body starts with: {body_excerpt}"
    )]
    Decode {
        /// Name of the Rust type that was expected.
        target: &'static str,
        /// The decoder's message (line/column and what it expected).
        message: String,
        /// The first kilobyte of what was received.
        body_excerpt: String,
    },

    /// A response body is larger than the client's cap
    /// ([`InferenceClientBuilder::max_response_bytes`](crate::InferenceClientBuilder::max_response_bytes));
    /// it was not read further.
    #[error(
        "the response from {url} is larger than the client's limit of {limit} bytes{}",
        declared.map(|n| format!(" (Content-Length: {n})")).unwrap_or_default()
    )]
    ResponseTooLarge {
        /// The request URL, secrets redacted.
        url: String,
        /// The cap that was exceeded, in bytes.
        limit: usize,
        /// The size the server announced (`Content-Length`), if it did.
        declared: Option<u64>,
    },

    /// A streamed response failed after it had started.
    #[error(transparent)]
    Stream(#[from] StreamError),

    /// An asynchronous job (queue, prediction, polling) finished in a failed state.
    #[error("{provider} job{} failed: {message}", job_id.as_deref().map(|id| format!(" {id}")).unwrap_or_default())]
    JobFailed {
        /// The provider id.
        provider: String,
        /// The failure reason the provider gave.
        message: String,
        /// The provider's job / request id, when known.
        job_id: Option<String>,
    },

    /// An asynchronous job did not finish within the client's timeout (or the default job
    /// timeout); it may still be running at the provider.
    #[error("{provider} job {job_id} did not finish within {after:?}")]
    JobTimeout {
        /// The provider id.
        provider: String,
        /// The provider's job / request id.
        job_id: String,
        /// The time allowed.
        after: Duration,
    },

    /// The request could not be sent or the response could not be read (DNS, connect, TLS,
    /// broken connection). URLs inside are redacted.
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),

    /// The client is misconfigured (bad base URL, invalid header value, …).
    #[error("configuration error: {0}")]
    Config(String),

    /// The provider serves this task, but this version of the SDK does not implement the
    /// provider's wire format for it yet (the support matrix in the crate docs says which pairs
    /// are implemented). Nothing was sent.
    #[error(
        "this SDK version does not implement task `{task}` on provider `{provider}` yet; {}",
        list_or("implemented on", "no provider is implemented for it", implemented)
    )]
    NotImplemented {
        /// The provider id.
        provider: String,
        /// The task id.
        task: String,
        /// Provider ids on which the SDK implements the task.
        implemented: Vec<String>,
    },

    /// An Inference Endpoint reached a failed state (`failed`, `updateFailed`) while it was
    /// waited for ([`InferenceEndpoint::wait`](crate::endpoints::InferenceEndpoint::wait)).
    #[error(
        "inference endpoint `{name}` is in state `{state}`{}",
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
    )]
    EndpointFailed {
        /// The endpoint name.
        name: String,
        /// The state it ended in.
        state: crate::endpoints::EndpointState,
        /// The service's status message (`status.message`), when it gave one.
        message: Option<String>,
    },

    /// An Inference Endpoint was not running (and answering its health route) within the time
    /// allowed; it may still get there.
    #[error("inference endpoint `{name}` was not running within {after:?} (last state `{state}`)")]
    EndpointTimeout {
        /// The endpoint name.
        name: String,
        /// The last state the service reported.
        state: crate::endpoints::EndpointState,
        /// The time allowed.
        after: Duration,
    },
}

/// Why a stream that had started did not finish normally.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The server sent an error event (`{"error": …}` data, or an `event: error`).
    #[error("the server sent an error mid-stream: {message}{}", error_type.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    ServerError {
        /// The server's message.
        message: String,
        /// The error category when the server gave one: TGI's `error_type` (`generation`,
        /// `incomplete_generation`, `overloaded`, `validation`) or an OpenAI-style
        /// `error.type`.
        error_type: Option<String>,
    },

    /// The connection broke while the body was being read.
    #[error("connection lost mid-stream: {0}")]
    ConnectionLost(#[source] reqwest::Error),

    /// No byte arrived for longer than the client's read timeout
    /// ([`InferenceClientBuilder::read_timeout`](crate::InferenceClientBuilder::read_timeout))
    /// while the stream was open: the server stalled. The connection was closed.
    #[error("the stream stalled: no data within the read timeout")]
    Stalled(#[source] reqwest::Error),

    /// The body ended without the end marker (`data: [DONE]`) that the stream required.
    #[error(
        "the stream ended before `data: [DONE]`{}",
        if *dropped_bytes > 0 { format!(" ({dropped_bytes} unterminated bytes dropped)") } else { String::new() }
    )]
    Truncated {
        /// Bytes of an unterminated last event that were discarded.
        dropped_bytes: usize,
    },

    /// One event grew past the client's size cap
    /// ([`InferenceClientBuilder::max_response_bytes`](crate::InferenceClientBuilder::max_response_bytes))
    /// before it was complete (for example a line that never ends). The connection was closed.
    #[error("a stream event is larger than the client's limit of {limit} bytes")]
    EventTooLarge {
        /// The cap that was exceeded, in bytes.
        limit: usize,
    },
}

impl Error {
    /// Turns a non-success response into the matching variant: 401/403 become
    /// [`Unauthorized`](Error::Unauthorized), 429 becomes [`RateLimited`](Error::RateLimited)
    /// (with `retry_after`), everything else [`Http`](Error::Http).
    ///
    /// ```
    /// use hf_inference::error::{Error, HttpErrorContext};
    /// use reqwest::{header::HeaderMap, Method, Url};
    ///
    /// let url = Url::parse("https://router.huggingface.co/v1/chat/completions").unwrap();
    /// let ctx = HttpErrorContext::from_response_parts(
    ///     401, &Method::POST, &url, &HeaderMap::new(), br#"{"error":"Invalid credentials"}"#,
    /// );
    /// let err = Error::from_http_context(ctx, None);
    /// assert!(matches!(err, Error::Unauthorized(_)));
    /// assert_eq!(err.status(), Some(401));
    /// ```
    pub fn from_http_context(context: HttpErrorContext, retry_after: Option<Duration>) -> Error {
        let context = Box::new(context);
        match context.status {
            401 | 403 => Error::Unauthorized(context),
            429 => Error::RateLimited {
                context,
                retry_after,
            },
            _ => Error::Http(context),
        }
    }

    /// The HTTP status, for errors that come from a response.
    pub fn status(&self) -> Option<u16> {
        self.http_context().map(|c| c.status)
    }

    /// The request id the server assigned, for errors that come from a response. Quote it when
    /// reporting a problem to the provider.
    pub fn request_id(&self) -> Option<&str> {
        self.http_context().and_then(|c| c.request_id.as_deref())
    }

    /// The HTTP context, for errors that come from a response.
    pub fn http_context(&self) -> Option<&HttpErrorContext> {
        match self {
            Error::Unauthorized(c) | Error::Http(c) => Some(c),
            Error::RateLimited { context, .. } => Some(context),
            _ => None,
        }
    }

    /// Whether the failure is transient, so that the same request may succeed later: rate
    /// limits, gateway errors (502/503/504), timeouts, connection failures, a connection lost
    /// mid-stream, an `overloaded` error event.
    ///
    /// The client retries some of these by itself before the first body byte (see
    /// [`RetryPolicy`](crate::http::retry::RetryPolicy)); it never retries a stream that has
    /// started, so this is the caller's cue to do it if it wants.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Timeout { .. } => true,
            Error::Http(c) => crate::http::retry::should_retry_status(c.status),
            Error::Transport(e) => e.is_connect() || e.is_timeout(),
            Error::Stream(StreamError::ConnectionLost(_) | StreamError::Stalled(_)) => true,
            Error::Stream(StreamError::ServerError { error_type, .. }) => {
                error_type.as_deref() == Some("overloaded")
            }
            _ => false,
        }
    }

    /// A [`Decode`](Error::Decode) error for type `T` from a decoder failure and the bytes that
    /// failed.
    pub(crate) fn decode<T: ?Sized>(message: impl fmt::Display, body: &[u8]) -> Error {
        Error::Decode {
            target: std::any::type_name::<T>(),
            message: message.to_string(),
            body_excerpt: excerpt(body, BODY_EXCERPT_LEN),
        }
    }
}

impl From<reqwest::Error> for Error {
    /// Wraps a transport error, redacting secret query parameters in the URL it carries
    /// (`reqwest` prints that URL in its `Display`).
    fn from(err: reqwest::Error) -> Self {
        Error::Transport(redact_reqwest_error(err))
    }
}

/// What we know about a failed HTTP exchange.
///
/// Built from the response by [`HttpErrorContext::from_response_parts`], which extracts the
/// request id and the server's message. Displays as
/// `HTTP 422 Unprocessable Entity from POST https://… (request id abc): <server message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpErrorContext {
    /// The HTTP status code.
    pub status: u16,
    /// The request method.
    pub method: Method,
    /// The request URL, with secret-looking query parameters and userinfo redacted.
    pub url: String,
    /// The request id from the response headers (`x-request-id`, `x-amzn-requestid`,
    /// `x-amz-cf-id`, `cf-ray`, …) or, failing that, a top-level `request_id` in a JSON body.
    pub request_id: Option<String>,
    /// The server's own explanation, taken from the `X-Error-Message` header or the body
    /// (`error`, `error.message`, `message`, `detail`, `errors[]`, plain text).
    pub server_message: Option<String>,
    /// The error category when the body gave one: TGI's `error_type` or an OpenAI-style
    /// `error.type` (e.g. `"invalid_request_error"`).
    pub error_type: Option<String>,
    /// The start of the body (about 1 KiB, cut on a character boundary).
    pub body_excerpt: String,
    /// The provider the request went to, when known.
    pub provider: Option<String>,
}

impl HttpErrorContext {
    /// Builds the context of a non-success response from its parts.
    ///
    /// `body` is the response body (or its first part; a megabyte is plenty). The server
    /// message is parsed from JSON bodies of every shape seen in practice and from plain-text
    /// bodies; HTML error pages yield no message.
    ///
    /// ```
    /// use hf_inference::error::HttpErrorContext;
    /// use reqwest::{header::HeaderMap, Method, Url};
    ///
    /// let url = Url::parse("https://api.together.xyz/v1/completions").unwrap();
    /// let body = br#"{"error":{"message":"Invalid request","type":"invalid_request_error","param":"model"}}"#;
    /// let ctx = HttpErrorContext::from_response_parts(400, &Method::POST, &url, &HeaderMap::new(), body);
    /// assert_eq!(ctx.server_message.as_deref(), Some("Invalid request (param `model`)"));
    /// assert_eq!(ctx.error_type.as_deref(), Some("invalid_request_error"));
    /// ```
    pub fn from_response_parts(
        status: u16,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: &[u8],
    ) -> HttpErrorContext {
        let json = parse_json_body(body);
        let header_message = headers
            .get("x-error-message")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        let server_message = header_message
            .or_else(|| match &json {
                Some(value) => message_from_json(value),
                None => message_from_text(body),
            })
            .map(|m| truncate_str(m.trim(), SERVER_MESSAGE_LEN));
        let request_id = REQUEST_ID_HEADERS
            .iter()
            .find_map(|name| headers.get(*name)?.to_str().ok())
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .or_else(|| {
                json.as_ref()?
                    .get("request_id")?
                    .as_str()
                    .map(str::to_owned)
            });
        HttpErrorContext {
            status,
            method: method.clone(),
            url: redact_url(url),
            request_id,
            server_message,
            error_type: json.as_ref().and_then(error_type_from_json),
            body_excerpt: excerpt(body, BODY_EXCERPT_LEN),
            provider: None,
        }
    }

    /// Records which provider the request went to.
    pub fn with_provider(mut self, provider: impl Into<String>) -> HttpErrorContext {
        self.provider = Some(provider.into());
        self
    }
}

impl fmt::Display for HttpErrorContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(reason) = StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
        {
            write!(f, " {reason}")?;
        }
        write!(f, " from {} {}", self.method, self.url)?;
        match (&self.provider, &self.request_id) {
            (Some(p), Some(id)) => write!(f, " (provider {p}, request id {id})")?,
            (Some(p), None) => write!(f, " (provider {p})")?,
            (None, Some(id)) => write!(f, " (request id {id})")?,
            (None, None) => {}
        }
        if let Some(message) = &self.server_message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Display helpers

fn list_or(label: &str, none: &str, items: &[String]) -> String {
    if items.is_empty() {
        none.to_owned()
    } else {
        format!("{label}: {}", items.join(", "))
    }
}

fn on_provider(provider: Option<&str>) -> String {
    provider
        .map(|p| format!(" on provider `{p}`"))
        .unwrap_or_default()
}

fn retry_hint(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|d| format!(" (retry after {d:?})"))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Body parsing

/// Parses a body as JSON when it looks like JSON.
fn parse_json_body(body: &[u8]) -> Option<Value> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if matches!(first, b'{' | b'[' | b'"') {
        serde_json::from_slice(body).ok()
    } else {
        None
    }
}

/// A plain-text body as a message, unless it is empty or an HTML page.
fn message_from_text(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() || text.starts_with('<') {
        return None;
    }
    Some(truncate_str(text, SERVER_MESSAGE_LEN))
}

/// The server's message from a JSON error body (or a JSON stream error event).
///
/// Shapes handled, each seen from a real provider:
/// - `{"error": "text", "error_type": "…"}` (Hugging Face, TGI);
/// - `{"error": {"message": "…", "type": "…", "param": "…"}}` (OpenAI-compatible: Together, …);
/// - `{"error": ["a", "b"]}` (older Hugging Face Inference API);
/// - `{"message": "…"}` (Hyperbolic, Mistral's gateway);
/// - `{"detail": "…", "title": "…"}` (Replicate problem+json, FastAPI `HTTPException`);
/// - `{"detail": [{"loc": […], "msg": "…"}]}` (FastAPI validation: fal.ai, Hyperbolic);
/// - `{"errors": ["…"]}` / `{"errors": [{"message": "…"}]}` (Hub API);
/// - `{"error_description": "…"}` (OAuth);
/// - a bare JSON string.
pub(crate) fn message_from_json(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => non_empty(s),
        Value::Array(items) => join_messages(items),
        Value::Object(map) => {
            if let Some(m) = map.get("error").and_then(message_from_error_field) {
                return Some(m);
            }
            if let Some(m) = map.get("message").and_then(|m| non_empty(m.as_str()?)) {
                return Some(m);
            }
            if let Some(detail) = map.get("detail").and_then(message_from_detail) {
                let title = map.get("title").and_then(|t| non_empty(t.as_str()?));
                return Some(match title {
                    Some(title) if title != detail => format!("{title}: {detail}"),
                    _ => detail,
                });
            }
            if let Some(m) = map.get("errors").and_then(|e| join_messages(e.as_array()?)) {
                return Some(m);
            }
            ["error_description", "msg", "title"]
                .iter()
                .find_map(|k| non_empty(map.get(*k)?.as_str()?))
        }
        _ => None,
    }
}

/// The `error` member of an error body: a string, an object with a message, or a list.
fn message_from_error_field(error: &Value) -> Option<String> {
    match error {
        Value::Null => None,
        Value::String(s) => non_empty(s),
        Value::Array(items) => join_messages(items),
        Value::Object(map) => {
            let message = ["message", "msg", "detail"]
                .iter()
                .find_map(|k| non_empty(map.get(*k)?.as_str()?));
            match message {
                Some(message) => match map.get("param").and_then(Value::as_str) {
                    Some(param) if !param.is_empty() => {
                        Some(format!("{message} (param `{param}`)"))
                    }
                    _ => Some(message),
                },
                // An object without a recognisable message: show it compactly rather than
                // nothing.
                None => Some(error.to_string()),
            }
        }
        other => Some(other.to_string()),
    }
}

/// FastAPI's `detail`: a string, a list of validation errors, or an object.
fn message_from_detail(detail: &Value) -> Option<String> {
    match detail {
        Value::String(s) => non_empty(s.trim()),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|item| {
                    let msg = item.get("msg").and_then(|m| non_empty(m.as_str()?));
                    let loc = item.get("loc").and_then(Value::as_array).map(|loc| {
                        loc.iter()
                            .map(|p| match p {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join(".")
                    });
                    match (loc, msg) {
                        (Some(loc), Some(msg)) if !loc.is_empty() => Some(format!("{loc}: {msg}")),
                        (_, Some(msg)) => Some(msg),
                        (_, None) => message_from_json(item),
                    }
                })
                .collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        Value::Object(_) => message_from_json(detail),
        _ => None,
    }
}

/// Joins a list of messages (strings or objects with a message) with `"; "`.
fn join_messages(items: &[Value]) -> Option<String> {
    let parts: Vec<String> = items
        .iter()
        .filter_map(|item| match item {
            Value::String(s) => non_empty(s),
            other => message_from_json(other),
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// TGI's top-level `error_type`, or an OpenAI-style `error.type`.
pub(crate) fn error_type_from_json(value: &Value) -> Option<String> {
    value
        .get("error_type")
        .and_then(Value::as_str)
        .or_else(|| value.get("error")?.get("type")?.as_str())
        .and_then(non_empty)
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

// ---------------------------------------------------------------------------------------------
// Excerpts and redaction

/// The first `max` bytes of `bytes` as text, cut on a character boundary, with `…` appended
/// when something was cut. Invalid UTF-8 is replaced, never an error.
pub(crate) fn excerpt(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut cut = max;
    // Step back over continuation bytes (at most three) to the start of a character.
    while cut > 0 && max - cut < 3 && bytes[cut] & 0xC0 == 0x80 {
        cut -= 1;
    }
    let mut out = String::from_utf8_lossy(&bytes[..cut]).into_owned();
    out.push('…');
    out
}

fn truncate_str(s: &str, max: usize) -> String {
    excerpt(s.as_bytes(), max)
}

/// Whether a query parameter name looks like it carries a secret.
fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "sig",
        "token",
        "key",
        "secret",
        "password",
        "credential",
        "auth",
    ]
    .iter()
    .any(|s| name.contains(s))
}

/// Redacts userinfo and secret-looking query parameters in place.
fn redact_url_in_place(url: &mut Url) {
    if !url.username().is_empty() {
        let _ = url.set_username(REDACTED);
    }
    if url.password().is_some() {
        let _ = url.set_password(Some(REDACTED));
    }
    if url.query_pairs().any(|(k, _)| is_secret_param(&k)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) {
                    REDACTED.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
}

/// `url` as a string with userinfo and secret-looking query parameters (`sig`, `token`,
/// `X-Amz-Signature`, `api_key`, …) replaced by `REDACTED`.
pub(crate) fn redact_url(url: &Url) -> String {
    let mut url = url.clone();
    redact_url_in_place(&mut url);
    url.into()
}

/// Redacts the URL a `reqwest` error carries (it is printed by its `Display` and `Debug`).
pub(crate) fn redact_reqwest_error(mut err: reqwest::Error) -> reqwest::Error {
    if let Some(url) = err.url_mut() {
        redact_url_in_place(url);
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn ctx(status: u16, body: &str) -> HttpErrorContext {
        HttpErrorContext::from_response_parts(
            status,
            &Method::POST,
            &url("https://router.huggingface.co/v1/chat/completions"),
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    fn msg(status: u16, body: &str) -> Option<String> {
        ctx(status, body).server_message
    }

    /// Path to a conformance tape (shared/ sits beside the repository root).
    fn tape(name: &str) -> serde_json::Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/conformance/tapes")
            .join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap()
    }

    /// The response body of a tape as bytes (`body_json` re-serialized or `body_text`).
    fn tape_body(name: &str) -> (u16, Vec<u8>) {
        let t = tape(name);
        let resp = &t["response"];
        let status = resp["status"].as_u64().unwrap() as u16;
        let body = match (&resp["body_json"], &resp["body_text"]) {
            (Value::Null, Value::String(s)) => s.clone().into_bytes(),
            (json, _) => serde_json::to_vec(json).unwrap(),
        };
        (status, body)
    }

    #[test]
    fn every_real_error_body_yields_the_right_message() {
        let cases: &[(&str, &str)] = &[
            ("fal-ai__text-to-image__7175cf9e3627.json", "404: Not Found"),
            (
                "fal-ai__text-to-image__98c33edc5fe3.json",
                "body.loras.0.path: str type expected",
            ),
            (
                "hf-inference__chat-completion__3a539df70313.json",
                "Failed to deserialize the JSON body into the target type: missing field `inputs` at line 1 column 161",
            ),
            (
                "hyperbolic__text-generation__63ed3f76e28a.json",
                "body.messages: Field required",
            ),
            (
                "openai-compatible__chat-completion__8dfb7e10b7ee.json",
                "no Route matched with those values",
            ),
            (
                "openai-compatible__chat-completion__e01b3c04b2df.json",
                "No API key found in request",
            ),
            (
                "replicate__text-to-speech__53a03fdaf09d.json",
                "Input validation failed: - input: text is required",
            ),
            (
                "together__text-generation__38cc6beb7087.json",
                "Invalid request (param `model`)",
            ),
        ];
        for (name, expected) in cases {
            let (status, body) = tape_body(name);
            let c = HttpErrorContext::from_response_parts(
                status,
                &Method::POST,
                &url("https://example.com/x"),
                &HeaderMap::new(),
                &body,
            );
            assert_eq!(c.server_message.as_deref(), Some(*expected), "{name}");
        }
        // Hyperbolic's long `{"object":"error","message":…}`.
        let (status, body) = tape_body("hyperbolic__text-generation__340a2a0cae06.json");
        let c = HttpErrorContext::from_response_parts(
            status,
            &Method::POST,
            &url("https://api.hyperbolic.xyz/v1/chat/completions"),
            &HeaderMap::new(),
            &body,
        );
        assert!(
            c.server_message
                .unwrap()
                .starts_with("Only Qwen/Qwen2.5-72B-Instruct && ")
        );
    }

    #[test]
    fn all_error_tapes_have_a_message() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/tapes");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let (status, body) = tape_body(&name);
            if status >= 400 {
                seen += 1;
                assert!(
                    msg(status, std::str::from_utf8(&body).unwrap()).is_some(),
                    "{name}"
                );
            }
        }
        assert!(seen >= 13, "only {seen} error tapes");
    }

    #[test]
    fn synthetic_shapes() {
        // TGI / HF string error with error_type.
        let c = ctx(
            424,
            r#"{"error":"Request failed during generation: Server error","error_type":"generation"}"#,
        );
        assert_eq!(
            c.server_message.as_deref(),
            Some("Request failed during generation: Server error")
        );
        assert_eq!(c.error_type.as_deref(), Some("generation"));
        // Old Inference API list of errors.
        assert_eq!(
            msg(400, r#"{"error":["bad a","bad b"]}"#).as_deref(),
            Some("bad a; bad b")
        );
        // Hub `errors[]`.
        assert_eq!(
            msg(400, r#"{"errors":[{"message":"x"},"y"]}"#).as_deref(),
            Some("x; y")
        );
        // FastAPI HTTPException.
        assert_eq!(
            msg(404, r#"{"detail":"Not Found"}"#).as_deref(),
            Some("Not Found")
        );
        // Nested detail object.
        assert_eq!(
            msg(400, r#"{"detail":{"message":"nested"}}"#).as_deref(),
            Some("nested")
        );
        // OAuth.
        assert_eq!(
            msg(401, r#"{"error":null,"error_description":"expired"}"#).as_deref(),
            Some("expired")
        );
        // An error object without a message is shown compactly.
        assert_eq!(
            msg(500, r#"{"error":{"code":7}}"#).as_deref(),
            Some(r#"{"code":7}"#)
        );
        // A bare JSON string.
        assert_eq!(msg(500, r#""boom""#).as_deref(), Some("boom"));
        // HTML and empty bodies give no message.
        assert_eq!(msg(502, "<html><body>Bad Gateway</body></html>"), None);
        assert_eq!(msg(502, "  \n"), None);
        assert_eq!(msg(500, "{}"), None);
        // Truncated JSON falls back to... nothing parsed, so no message from JSON; the raw
        // text is not HTML, so it is the message.
        assert_eq!(
            msg(500, r#"{"error":"cut"#).as_deref(),
            Some(r#"{"error":"cut"#)
        );
    }

    #[test]
    fn header_message_and_request_ids() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-error-message",
            HeaderValue::from_static("Repository not found"),
        );
        headers.insert("x-amz-cf-id", HeaderValue::from_static("cf-123"));
        let c = HttpErrorContext::from_response_parts(
            404,
            &Method::GET,
            &url("https://huggingface.co/api/models/x"),
            &headers,
            br#"{"error":"body message"}"#,
        );
        assert_eq!(c.server_message.as_deref(), Some("Repository not found"));
        assert_eq!(c.request_id.as_deref(), Some("cf-123"));

        // x-request-id wins over the CloudFront id.
        headers.insert("x-request-id", HeaderValue::from_static("req-1"));
        let c = HttpErrorContext::from_response_parts(
            404,
            &Method::GET,
            &url("https://h/"),
            &headers,
            b"",
        );
        assert_eq!(c.request_id.as_deref(), Some("req-1"));

        // Body request_id as fallback (Mistral's gateway).
        let (status, body) = tape_body("openai-compatible__chat-completion__e01b3c04b2df.json");
        let c = HttpErrorContext::from_response_parts(
            status,
            &Method::POST,
            &url("https://api.mistral.ai/v1/chat/completions"),
            &HeaderMap::new(),
            &body,
        );
        assert_eq!(
            c.request_id.as_deref(),
            Some("ab5386689131886ef950356f5333e057")
        );
    }

    #[test]
    fn url_secrets_are_redacted() {
        let u = url(
            "https://user:pass@fal.media/files/a.png?X-Amz-Signature=abc&X-Amz-Credential=def&width=3&token=t0k&sig=s1g",
        );
        let r = redact_url(&u);
        for secret in ["abc", "def", "t0k", "s1g", "user", "pass"] {
            assert!(
                !r.contains(&format!("={secret}")) && !r.contains(&format!("{secret}@")),
                "{r}"
            );
        }
        assert!(r.contains("width=3"), "{r}");
        assert!(r.contains("X-Amz-Signature=REDACTED"), "{r}");
        // URLs without secrets are untouched (encoding preserved).
        let plain = "https://router.huggingface.co/hf-inference/models/a%2Fb?wait=true";
        assert_eq!(redact_url(&url(plain)), plain);
    }

    #[test]
    fn excerpt_cuts_on_char_boundaries() {
        assert_eq!(excerpt(b"short", 10), "short");
        assert_eq!(excerpt(b"abcdef", 3), "abc…");
        // "é" is two bytes; cutting in its middle backs off.
        let s = "aé".repeat(600);
        let e = excerpt(s.as_bytes(), 1024);
        assert!(e.ends_with('…'));
        assert!(e.len() <= 1024 + '…'.len_utf8());
        assert!(!e.contains('\u{FFFD}'));
        for cut in 0..12 {
            let e = excerpt("€€€€".as_bytes(), cut);
            assert!(!e.contains('\u{FFFD}'), "{cut}: {e}");
        }
        // Invalid UTF-8 is replaced, never a panic.
        assert_eq!(excerpt(&[0xff, b'a'], 10), "\u{FFFD}a");
    }

    #[test]
    fn classification_and_helpers() {
        let e = Error::from_http_context(ctx(403, r#"{"error":"no"}"#), None);
        assert!(matches!(e, Error::Unauthorized(_)));
        assert!(!e.is_retryable());
        let e = Error::from_http_context(ctx(429, "slow down"), Some(Duration::from_secs(2)));
        assert!(
            matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(2))
        );
        assert!(e.is_retryable());
        assert_eq!(e.status(), Some(429));
        for (s, retry) in [
            (500, false),
            (502, true),
            (503, true),
            (504, true),
            (400, false),
            (422, false),
        ] {
            let e = Error::from_http_context(ctx(s, ""), None);
            assert!(matches!(e, Error::Http(_)));
            assert_eq!(e.is_retryable(), retry, "{s}");
        }
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", HeaderValue::from_static("r-9"));
        let c = HttpErrorContext::from_response_parts(
            500,
            &Method::POST,
            &url("https://h/"),
            &headers,
            b"",
        );
        assert_eq!(Error::from_http_context(c, None).request_id(), Some("r-9"));
        assert_eq!(Error::Config("x".into()).status(), None);
        let overloaded = Error::Stream(StreamError::ServerError {
            message: "Model is overloaded".into(),
            error_type: Some("overloaded".into()),
        });
        assert!(overloaded.is_retryable());
        assert!(
            Error::Timeout {
                url: "u".into(),
                after: Duration::from_secs(1)
            }
            .is_retryable()
        );
    }

    #[test]
    fn display_of_every_variant() {
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", HeaderValue::from_static("abc"));
        let c = HttpErrorContext::from_response_parts(
            422,
            &Method::POST,
            &url("https://fal.run/fal-ai/flux-lora?sig=secret"),
            &headers,
            br#"{"detail":[{"loc":["body","prompt"],"msg":"field required","type":"value_error.missing"}]}"#,
        )
        .with_provider("fal-ai");
        assert_eq!(
            c.to_string(),
            "HTTP 422 Unprocessable Entity from POST https://fal.run/fal-ai/flux-lora?sig=REDACTED \
             (provider fal-ai, request id abc): body.prompt: field required"
        );
        let plain = ctx(404, "");
        assert_eq!(
            plain.to_string(),
            "HTTP 404 Not Found from POST https://router.huggingface.co/v1/chat/completions"
        );
        assert_eq!(
            Error::from_http_context(c.clone(), None).to_string(),
            c.to_string()
        );

        let cases: Vec<(Error, &str)> = vec![
            (
                Error::MissingToken {
                    provider: "together".into(),
                },
                "no token for provider `together`: pass a Hugging Face token (hf_…) to go through the Hugging Face router, or the provider's own API key",
            ),
            (
                Error::from_http_context(
                    ctx(
                        401,
                        r#"{"error":"Invalid credentials in Authorization header"}"#,
                    ),
                    None,
                ),
                "unauthorized: HTTP 401 Unauthorized from POST https://router.huggingface.co/v1/chat/completions: Invalid credentials in Authorization header",
            ),
            (
                Error::ProviderNotSupported {
                    provider: "cerebras".into(),
                    task: "text-to-image".into(),
                    supported: vec!["fal-ai".into(), "replicate".into()],
                },
                "provider `cerebras` does not support task `text-to-image`; providers that do: fal-ai, replicate",
            ),
            (
                Error::ProviderNotSupported {
                    provider: "x".into(),
                    task: "t".into(),
                    supported: vec![],
                },
                "provider `x` does not support task `t`; no provider supports it",
            ),
            (
                Error::TaskNotSupported {
                    model: "org/m".into(),
                    task: "text-to-image".into(),
                    provider: Some("fal-ai".into()),
                    supported: vec!["image-to-image".into()],
                },
                "model `org/m` does not support task `text-to-image` on provider `fal-ai`; its tasks: image-to-image",
            ),
            (
                Error::ModelNotSupported {
                    model: "org/m".into(),
                    task: "chat-completion".into(),
                    provider: Some("groq".into()),
                    supported: vec!["together".into(), "novita".into()],
                },
                "model `org/m` is not available for task `chat-completion` on provider `groq`; providers serving it: together, novita",
            ),
            (
                Error::ModelNotSupported {
                    model: "org/m".into(),
                    task: "chat-completion".into(),
                    provider: None,
                    supported: vec![],
                },
                "model `org/m` is not available for task `chat-completion`; no provider serves it",
            ),
            (
                Error::InvalidInput {
                    field: "parameters.top_k".into(),
                    message: "must be positive".into(),
                },
                "invalid `parameters.top_k`: must be positive",
            ),
            (
                Error::from_http_context(ctx(500, "Internal error"), None),
                "HTTP 500 Internal Server Error from POST https://router.huggingface.co/v1/chat/completions: Internal error",
            ),
            (
                Error::from_http_context(
                    ctx(429, r#"{"error":"Too many requests"}"#),
                    Some(Duration::from_secs(3)),
                ),
                "rate limited (retry after 3s): HTTP 429 Too Many Requests from POST https://router.huggingface.co/v1/chat/completions: Too many requests",
            ),
            (
                Error::from_http_context(ctx(429, ""), None),
                "rate limited: HTTP 429 Too Many Requests from POST https://router.huggingface.co/v1/chat/completions",
            ),
            (
                Error::Timeout {
                    url: "https://fal.run/x".into(),
                    after: Duration::from_secs(30),
                },
                "request to https://fal.run/x timed out after 30s",
            ),
            (
                Error::decode::<Vec<u8>>("expected value at line 1 column 1", b"<html>"),
                "could not decode the response as `alloc::vec::Vec<u8>`: expected value at line 1 column 1; body starts with: <html>",
            ),
            (
                Error::Stream(StreamError::ServerError {
                    message: "Input validation error".into(),
                    error_type: Some("validation".into()),
                }),
                "the server sent an error mid-stream: Input validation error (validation)",
            ),
            (
                Error::Stream(StreamError::ServerError {
                    message: "boom".into(),
                    error_type: None,
                }),
                "the server sent an error mid-stream: boom",
            ),
            (
                Error::Stream(StreamError::Truncated { dropped_bytes: 12 }),
                "the stream ended before `data: [DONE]` (12 unterminated bytes dropped)",
            ),
            (
                Error::Stream(StreamError::Truncated { dropped_bytes: 0 }),
                "the stream ended before `data: [DONE]`",
            ),
            (
                Error::JobFailed {
                    provider: "replicate".into(),
                    message: "CUDA out of memory".into(),
                    job_id: Some("abc123".into()),
                },
                "replicate job abc123 failed: CUDA out of memory",
            ),
            (
                Error::JobFailed {
                    provider: "fal-ai".into(),
                    message: "failed".into(),
                    job_id: None,
                },
                "fal-ai job failed: failed",
            ),
            (
                Error::Config("invalid base URL".into()),
                "configuration error: invalid base URL",
            ),
        ];
        for (err, expected) in cases {
            assert_eq!(err.to_string(), expected);
        }
    }

    #[test]
    fn error_stays_small() {
        // `Result<T, Error>` is returned everywhere; keep the error a few words wide.
        assert!(
            std::mem::size_of::<Error>() <= 104,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[tokio::test]
    async fn transport_errors_redact_the_url() {
        // A port nobody listens on: bind, read the port, close.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let client = reqwest::Client::new();
        let err = client
            .get(format!(
                "http://127.0.0.1:{port}/file?X-Amz-Signature=s3cr3t&token=t0k3n"
            ))
            .send()
            .await
            .unwrap_err();
        let err = Error::from(err);
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("t0k3n"),
            "{shown}"
        );
        assert!(shown.contains("REDACTED"), "{shown}");
        assert!(err.is_retryable(), "connect errors are transient");
        assert!(std::error::Error::source(&err).is_some());
    }
}
