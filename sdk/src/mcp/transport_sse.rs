//! The legacy HTTP+SSE transport (MCP 2024-11-05) as an rmcp [`Transport`].
//!
//! rmcp dropped its SSE client in 0.11, but many deployed servers (and the reference clients)
//! still speak it: the client GETs an event stream, the server's first `endpoint` event names a
//! URL, the client POSTs each JSON-RPC message there, and every answer arrives as a `message`
//! event on the stream. The protocol itself stays rmcp's; this only moves the bytes.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use rmcp::RoleClient;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use sse_stream::SseStream;
use tokio::sync::mpsc;
use url::Url;

/// A transport error: the POST of a message failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SseTransportError {
    #[error("POST {url}: {message}")]
    Post { url: String, message: String },
}

/// A connected SSE session.
pub(crate) struct SseTransport {
    http: reqwest::Client,
    endpoint: Url,
    headers: HeaderMap,
    incoming: mpsc::Receiver<ServerJsonRpcMessage>,
    reader: tokio::task::JoinHandle<()>,
}

impl SseTransport {
    /// Opens the event stream at `url` and waits (at most `timeout`) for the `endpoint` event.
    pub(crate) async fn connect(
        http: reqwest::Client,
        url: &str,
        headers: HeaderMap,
        timeout: Duration,
    ) -> Result<Self, String> {
        let base = Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
        let open = async {
            let response = http
                .get(base.clone())
                .headers(headers.clone())
                .header(ACCEPT, HeaderValue::from_static("text/event-stream"))
                .send()
                .await
                .map_err(|e| format!("GET {base}: {e}"))?;
            let status = response.status();
            if !status.is_success() {
                let body = response.text().await.unwrap_or_default();
                return Err(format!("GET {base}: HTTP {status}: {}", body.trim()));
            }
            let mut events = SseStream::from_bytes_stream(response.bytes_stream());
            // Per the 2024-11-05 spec the endpoint comes first; anything before it is ignored.
            while let Some(event) = events.next().await {
                let event = event.map_err(|e| format!("reading the event stream: {e}"))?;
                if event.event.as_deref() == Some("endpoint") {
                    let data = event.data.unwrap_or_default();
                    let endpoint = base
                        .join(data.trim())
                        .map_err(|e| format!("bad endpoint `{data}`: {e}"))?;
                    return Ok((endpoint, events));
                }
            }
            Err("the event stream ended before the `endpoint` event".to_owned())
        };
        let (endpoint, mut events) = tokio::time::timeout(timeout, open)
            .await
            .map_err(|_| format!("no `endpoint` event within {timeout:?}"))??;
        let (tx, incoming) = mpsc::channel(64);
        let reader = tokio::spawn(async move {
            while let Some(event) = events.next().await {
                let Ok(event) = event else { break };
                if !matches!(event.event.as_deref(), None | Some("message")) {
                    continue;
                }
                let Some(data) = event.data else { continue };
                match serde_json::from_str::<ServerJsonRpcMessage>(&data) {
                    Ok(message) => {
                        if tx.send(message).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "ignoring an SSE message that is not JSON-RPC")
                    }
                }
            }
            // Dropping `tx` tells rmcp the connection is gone.
        });
        Ok(Self {
            http,
            endpoint,
            headers,
            incoming,
            reader,
        })
    }
}

impl Transport<RoleClient> for SseTransport {
    type Error = SseTransportError;

    fn send(
        &mut self,
        item: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let request = self
            .http
            .post(self.endpoint.clone())
            .headers(self.headers.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .json(&item);
        let url = self.endpoint.to_string();
        async move {
            let failed = |message: String| SseTransportError::Post {
                url: url.clone(),
                message,
            };
            let response = request.send().await.map_err(|e| failed(e.to_string()))?;
            let status = response.status();
            if !status.is_success() {
                let body = response.text().await.unwrap_or_default();
                return Err(failed(format!("HTTP {status}: {}", body.trim())));
            }
            Ok(())
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<ServerJsonRpcMessage>> + Send {
        self.incoming.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.reader.abort();
        self.incoming.close();
        Ok(())
    }
}

impl Drop for SseTransport {
    fn drop(&mut self) {
        self.reader.abort();
    }
}
