//! The data-plane helpers of a URL client: [`InferenceClient::endpoint_info`] and
//! [`InferenceClient::health_check`].

use std::time::Duration;

use reqwest::Method;
use url::Url;

use crate::client::InferenceClient;
use crate::config::join_route;
use crate::error::{Error, Result};
use crate::http::transport::{PreparedRequest, map_send_error};

use super::EndpointServerInfo;

impl InferenceClient {
    /// What the server behind this URL client says about itself (`GET {url}/info`): TGI and
    /// TEI answer with the model, its limits and the server version; other servers may answer
    /// with other fields (kept in [`EndpointServerInfo::extra`]) or nothing.
    ///
    /// Works on any client built with a URL model ([`InferenceEndpoint::client`](super::InferenceEndpoint::client),
    /// `.model("https://…")`), with no provider to name.
    ///
    /// ```no_run
    /// # async fn demo() -> hf_inference::Result<()> {
    /// let client = hf_inference::InferenceClient::builder()
    ///     .model("http://127.0.0.1:8080")
    ///     .build()?;
    /// let info = client.endpoint_info().await?;
    /// println!("{:?} (max {:?} tokens)", info.model_id, info.max_total_tokens);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn endpoint_info(&self) -> Result<EndpointServerInfo> {
        let url = join_route(self.url_model("endpoint_info")?, "info", None);
        let request = self.url_model_request(url)?;
        let response = self.execute(&request, false).await?;
        let body = response
            .bytes()
            .await
            .map_err(|e| map_send_error(e, &request.url, self.inner.timeout))?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(EndpointServerInfo::default());
        }
        serde_json::from_slice(&body).map_err(|e| Error::decode::<EndpointServerInfo>(e, &body))
    }

    /// Whether the server behind this URL client is healthy (`GET {url}/health` answers 200).
    /// Any other status is `Ok(false)`; a server that cannot be reached is an error.
    pub async fn health_check(&self) -> Result<bool> {
        let url = join_route(self.url_model("health_check")?, "health", None);
        let status = probe(self, url, self.inner.timeout).await?;
        Ok(status == 200)
    }

    /// The URL model of this client, or an error naming `method`.
    fn url_model(&self, method: &str) -> Result<&Url> {
        self.inner.base_url.as_ref().ok_or_else(|| Error::InvalidInput {
            field: "model".into(),
            message: format!(
                "`{method}` needs a client bound to a server URL (an Inference Endpoint, TGI or TEI): \
                 build it with `.model(\"https://…\")` or `InferenceEndpoint::client()`"
            ),
        })
    }

    /// A GET to `url` as URL-model calls send it: the client's headers and its token.
    fn url_model_request(&self, url: Url) -> Result<PreparedRequest> {
        let inner = &self.inner;
        let mut headers = inner.headers.clone();
        if let Some(token) = &inner.token {
            headers.insert(
                reqwest::header::AUTHORIZATION,
                token.header_value(Some("Bearer"))?,
            );
        }
        Ok(PreparedRequest {
            method: Method::GET,
            url: inner.endpoints.redirect(url),
            headers,
            body: None,
            provider: "url",
            task: "endpoint-info",
            model: String::new(),
        })
    }
}

/// The status of one GET to `url` (no retry: a probe reports what it sees), bounded by `limit`.
pub(crate) async fn probe(
    client: &InferenceClient,
    url: Url,
    limit: Option<Duration>,
) -> Result<u16> {
    let request = client.url_model_request(url)?;
    let mut builder = client
        .inner
        .http
        .get(request.url.clone())
        .headers(request.headers);
    if let Some(limit) = limit {
        builder = builder.timeout(limit);
    }
    let response = builder
        .send()
        .await
        .map_err(|e| map_send_error(e, &request.url, limit))?;
    Ok(response.status().as_u16())
}
