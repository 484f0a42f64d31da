//! Sending one prepared request: headers (auth only to its own host), retries before any body
//! byte is read, timeouts, the tracing span, and the request preview.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use crate::client::InferenceClient;
use crate::error::{Error, HttpErrorContext, Result, redact_url};
use crate::http::retry::{retry_after_from_headers, should_retry_status};
use crate::routing::Target;

/// Most of an error body we read to build the error context.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// A request ready to send: everything decided, nothing sent.
#[derive(Clone)]
pub(crate) struct PreparedRequest {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    /// For the tracing span and error contexts.
    pub provider: &'static str,
    pub task: &'static str,
    pub model: String,
}

impl PreparedRequest {
    /// A JSON POST to the target, with its auth, the client's headers and the provider's static
    /// headers.
    pub(crate) fn json(
        client: &InferenceClient,
        target: &Target,
        body: &impl Serialize,
    ) -> Result<Self> {
        let body = serde_json::to_vec(body).map_err(|e| Error::InvalidInput {
            field: "body".into(),
            message: format!("cannot serialize the request: {e}"),
        })?;
        let mut request = Self::for_target(client, target, Method::POST)?;
        request.headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        request.body = Some(Bytes::from(body));
        Ok(request)
    }

    /// A POST of raw bytes (an image, audio) to the target, with their content type when known.
    pub(crate) fn bytes(
        client: &InferenceClient,
        target: &Target,
        body: Bytes,
        content_type: Option<&str>,
    ) -> Result<Self> {
        let mut request = Self::for_target(client, target, Method::POST)?;
        if let Some(content_type) = content_type {
            let value = HeaderValue::from_str(content_type).map_err(|_| Error::InvalidInput {
                field: "content_type".into(),
                message: format!("`{content_type}` is not a valid header value"),
            })?;
            request.headers.insert(reqwest::header::CONTENT_TYPE, value);
        }
        request.body = Some(body);
        Ok(request)
    }

    /// A `multipart/form-data` POST to the target: `body` is the encoded form, its parts
    /// separated by `boundary`.
    pub(crate) fn multipart(
        client: &InferenceClient,
        target: &Target,
        boundary: &str,
        body: Bytes,
    ) -> Result<Self> {
        let content_type = format!("multipart/form-data; boundary={boundary}");
        Self::bytes(client, target, body, Some(&content_type))
    }

    /// The common part: method, URL and headers for a target.
    pub(crate) fn for_target(
        client: &InferenceClient,
        target: &Target,
        method: Method,
    ) -> Result<Self> {
        let inner = &client.inner;
        let mut headers = inner.headers.clone();
        if let Some(spec) = target.provider.map(|p| p.spec()) {
            for (name, value) in spec.extra_headers {
                headers.insert(
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                );
            }
        }
        if let Some(bill_to) = &inner.bill_to {
            let value = HeaderValue::from_str(bill_to).map_err(|_| Error::InvalidInput {
                field: "bill_to".into(),
                message: "not a valid header value".into(),
            })?;
            headers.insert(HeaderName::from_static("x-hf-bill-to"), value);
        }
        if let Some((name, value)) = &target.auth {
            headers.insert(name.clone(), value.clone());
        }
        Ok(Self {
            method,
            url: target.url.clone(),
            headers,
            body: None,
            provider: target.provider_label(),
            task: target.task.as_str(),
            model: target.model.clone(),
        })
    }

    /// The request as it would be sent, with secrets redacted.
    pub(crate) fn preview(&self) -> RequestPreview {
        let headers = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if value.is_sensitive() || is_secret_header(name) {
                    "<redacted>".to_owned()
                } else {
                    String::from_utf8_lossy(value.as_bytes()).into_owned()
                };
                (name.as_str().to_owned(), shown)
            })
            .collect();
        RequestPreview {
            method: self.method.as_str().to_owned(),
            url: redact_url(&self.url),
            headers,
            body: self.body.clone(),
        }
    }
}

fn is_secret_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "authorization" | "x-key" | "proxy-authorization" | "cookie"
    )
}

/// The exact HTTP request a call would send, without sending it: method, URL, headers (token
/// redacted) and body. Tests and dry runs use it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestPreview {
    /// `GET` or `POST`.
    pub method: String,
    /// The full URL (query secrets redacted).
    pub url: String,
    /// Headers in send order, lower-case names; credentials shown as `<redacted>`.
    pub headers: Vec<(String, String)>,
    /// The body bytes, if any.
    pub body: Option<Bytes>,
}

impl RequestPreview {
    /// The body parsed as JSON, when it is JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        self.body
            .as_ref()
            .and_then(|b| serde_json::from_slice(b).ok())
    }

    /// The value of a header (first match, case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for RequestPreview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}", self.method, self.url)?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}: {value}")?;
        }
        if let Some(json) = self.body_json() {
            writeln!(f)?;
            write!(
                f,
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            )?;
        } else if let Some(body) = &self.body {
            write!(f, "\n<{} bytes>", body.len())?;
        }
        Ok(())
    }
}

impl fmt::Display for RequestPreview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Maps a `reqwest` send error: timeouts become [`Error::Timeout`], the rest
/// [`Error::Transport`] with the URL redacted. `timeout` is the limit that applied (see
/// [`InferenceClient::timeout_for_errors`]).
pub(crate) fn map_send_error(error: reqwest::Error, url: &Url, timeout: Option<Duration>) -> Error {
    if error.is_timeout() {
        Error::Timeout {
            url: redact_url(url),
            after: timeout.unwrap_or_default(),
        }
    } else {
        Error::from(error)
    }
}

impl InferenceClient {
    /// Sends a request, retrying connection failures and 429/502/503/504 answers before any
    /// body byte is read. Returns the successful response with its body unread; a non-success
    /// status becomes the matching error, with the server's message and request id.
    ///
    /// `streaming`: the timeout then covers only the wait for the response headers.
    pub(crate) async fn execute(
        &self,
        request: &PreparedRequest,
        streaming: bool,
    ) -> Result<reqwest::Response> {
        let span = tracing::info_span!(
            "hf_inference.request",
            provider = request.provider,
            task = request.task,
            model = %request.model,
            method = %request.method,
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
        );
        self.execute_inner(request, streaming)
            .instrument(span)
            .await
    }

    async fn execute_inner(
        &self,
        request: &PreparedRequest,
        streaming: bool,
    ) -> Result<reqwest::Response> {
        let inner = &self.inner;
        let policy = &inner.retry;
        let mut attempt: u32 = 0;
        loop {
            tracing::Span::current().record("attempt", attempt + 1);
            let mut builder = inner
                .http
                .request(request.method.clone(), request.url.clone())
                .headers(request.headers.clone());
            if let Some(body) = &request.body {
                builder = builder.body(body.clone());
            }
            if let (Some(timeout), false) = (inner.timeout, streaming) {
                builder = builder.timeout(timeout);
            }
            let sent = builder.send();
            let result = match (inner.timeout, streaming) {
                (Some(timeout), true) => match tokio::time::timeout(timeout, sent).await {
                    Ok(r) => r,
                    Err(_) => {
                        return Err(Error::Timeout {
                            url: redact_url(&request.url),
                            after: timeout,
                        });
                    }
                },
                _ => sent.await,
            };
            let response = match result {
                Ok(response) => response,
                Err(error) => {
                    if error.is_connect()
                        && let Some(delay) = policy.next_delay(attempt, None)
                    {
                        tracing::debug!(attempt, ?delay, "connection failed; retrying");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(map_send_error(
                        error,
                        &request.url,
                        self.timeout_for_errors(),
                    ));
                }
            };
            let status = response.status();
            tracing::Span::current().record("status", status.as_u16());
            if status.is_success() {
                return Ok(response);
            }
            let retry_after = if should_retry_status(status.as_u16()) {
                retry_after_from_headers(response.headers())
            } else {
                None
            };
            if should_retry_status(status.as_u16())
                && let Some(delay) = policy.next_delay(attempt, retry_after)
            {
                tracing::debug!(attempt, status = status.as_u16(), ?delay, "retrying");
                drop(response);
                tokio::time::sleep(delay).await;
                attempt += 1;
                continue;
            }
            return Err(error_from_response(request, response, retry_after).await);
        }
    }

    /// Sends a request and decodes the JSON answer as `T`.
    pub(crate) async fn execute_json<T: DeserializeOwned>(
        &self,
        request: &PreparedRequest,
    ) -> Result<(T, ResponseMeta)> {
        let response = self.execute(request, false).await?;
        let meta = ResponseMeta::from_response(&response);
        let body = self.read_body(response).await?;
        let value = serde_json::from_slice(&body).map_err(|e| Error::decode::<T>(e, &body))?;
        Ok((value, meta))
    }
}

impl InferenceClient {
    /// Reads a successful response's body, within the client's size cap
    /// ([`Error::ResponseTooLarge`] past it) and mapping a read timeout to [`Error::Timeout`].
    pub(crate) async fn read_body(&self, response: reqwest::Response) -> Result<Bytes> {
        read_body_capped(
            response,
            self.inner.max_response_bytes,
            self.timeout_for_errors(),
        )
        .await
    }

    /// The limit to name in an [`Error::Timeout`]: the shorter of the request timeout and the
    /// read timeout, which is the one that fires first on a silent server.
    pub(crate) fn timeout_for_errors(&self) -> Option<Duration> {
        match (self.inner.timeout, self.inner.read_timeout) {
            (Some(total), Some(read)) => Some(total.min(read)),
            (total, read) => total.or(read),
        }
    }
}

impl InferenceClient {
    /// Hands the body to `sink` chunk by chunk as it arrives, within the same size cap and with
    /// the same errors as [`read_body`](Self::read_body): for answers decoded while they arrive.
    pub(crate) async fn read_body_chunks(
        &self,
        response: reqwest::Response,
        sink: impl FnMut(Bytes),
    ) -> Result<()> {
        read_chunks_capped(
            response,
            self.inner.max_response_bytes,
            self.timeout_for_errors(),
            sink,
        )
        .await
    }
}

/// Reads a body of at most `limit` bytes into `sink`, chunk by chunk. A `Content-Length` above
/// the cap fails before reading; otherwise the body is abandoned (the connection closed) as
/// soon as it passes the cap.
async fn read_chunks_capped(
    mut response: reqwest::Response,
    limit: usize,
    timeout: Option<Duration>,
    mut sink: impl FnMut(Bytes),
) -> Result<()> {
    let url = response.url().clone();
    let too_large = |declared: Option<u64>| Error::ResponseTooLarge {
        url: redact_url(&url),
        limit,
        declared,
    };
    let declared = response.content_length();
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(declared));
    }
    let mut total = 0usize;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return Ok(()),
            Err(error) => return Err(map_send_error(error, &url, timeout)),
        };
        total = total.saturating_add(chunk.len());
        if total > limit {
            return Err(too_large(declared));
        }
        sink(chunk);
    }
}

/// Reads a body of at most `limit` bytes (see [`read_chunks_capped`]). A body that arrives in
/// one chunk is returned without a copy.
pub(crate) async fn read_body_capped(
    response: reqwest::Response,
    limit: usize,
    timeout: Option<Duration>,
) -> Result<Bytes> {
    let declared = response.content_length();
    let mut first: Option<Bytes> = None;
    let mut rest: Option<bytes::BytesMut> = None;
    let mut total = 0usize;
    read_chunks_capped(response, limit, timeout, |chunk| {
        total += chunk.len();
        match (&mut first, &mut rest) {
            (None, _) => first = Some(chunk),
            (Some(head), None) => {
                // Capacity from the announced length when it is sane, else what we have.
                let hint = declared.map_or(total, |n| n as usize).max(total);
                let mut buffer = bytes::BytesMut::with_capacity(hint);
                buffer.extend_from_slice(head);
                buffer.extend_from_slice(&chunk);
                rest = Some(buffer);
            }
            (Some(_), Some(buffer)) => buffer.extend_from_slice(&chunk),
        }
    })
    .await?;
    Ok(match (first, rest) {
        (_, Some(buffer)) => buffer.freeze(),
        (Some(only), None) => only,
        (None, None) => Bytes::new(),
    })
}

/// Builds the error for a non-success response, reading (a bounded part of) its body.
pub(crate) async fn error_from_response(
    request: &PreparedRequest,
    mut response: reqwest::Response,
    retry_after: Option<Duration>,
) -> Error {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let context = HttpErrorContext::from_response_parts(
        status,
        &request.method,
        &request.url,
        &headers,
        &body,
    )
    .with_provider(request.provider);
    Error::from_http_context(context, retry_after)
}

/// What a successful response said besides its body.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The server's request id (`x-request-id` and the like), if it sent one.
    pub request_id: Option<String>,
}

impl ResponseMeta {
    /// Metadata of a call made of several requests (a job): no single response to describe.
    pub(crate) fn empty() -> Self {
        Self {
            status: 200,
            headers: HeaderMap::new(),
            request_id: None,
        }
    }

    pub(crate) fn from_response(response: &reqwest::Response) -> Self {
        let headers = response.headers().clone();
        let request_id = [
            "x-request-id",
            "request-id",
            "x-amzn-requestid",
            "x-fal-request-id",
        ]
        .iter()
        .find_map(|name| headers.get(*name))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
        Self {
            status: response.status().as_u16(),
            headers,
            request_id,
        }
    }
}

/// A decoded value together with the response metadata.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Response<T> {
    /// The decoded body.
    pub value: T,
    /// Status, headers and request id.
    pub meta: ResponseMeta,
}

impl<T> std::ops::Deref for Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Response<T> {
    /// The decoded body.
    pub fn into_inner(self) -> T {
        self.value
    }
}
