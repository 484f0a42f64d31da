//! [`InferenceClient`] and its builder.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::config::{self, Endpoints, parse_base, parse_pairs};
use crate::error::{Error, Result};
use crate::http::retry::RetryPolicy;
use crate::providers::{Provider, UnknownProvider};
use crate::routing::{MappingCache, ProviderMappingEntry};
use crate::secret::Token;

/// Default of [`InferenceClientBuilder::read_timeout`]: five minutes without a byte. Long enough
/// for a server that holds the request while it generates (Replicate's `Prefer: wait` holds up
/// to a minute), short enough that a dead connection does not hang a call forever.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(300);

/// Default of [`InferenceClientBuilder::max_response_bytes`]: 512 MiB, above any image, audio
/// clip or short video a provider returns.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 512 << 20;

/// Which provider serves a call: chosen by the Hub (`Auto`, the default) or a given one.
///
/// Parses from the Hub's ids, so a user-supplied string is checked before any network call:
///
/// ```
/// use hf_inference::{ProviderChoice, Provider};
///
/// assert_eq!("auto".parse::<ProviderChoice>().unwrap(), ProviderChoice::Auto);
/// assert_eq!("fal-ai".parse::<ProviderChoice>().unwrap(), ProviderChoice::Provider(Provider::FalAi));
/// assert!("no-such-provider".parse::<ProviderChoice>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProviderChoice {
    /// Chat goes through the router's auto-selection; other tasks take the first provider in the
    /// model's Hub mapping (the user's preference order) that serves the task.
    #[default]
    Auto,
    /// This provider.
    Provider(Provider),
}

impl From<Provider> for ProviderChoice {
    fn from(provider: Provider) -> Self {
        Self::Provider(provider)
    }
}

impl FromStr for ProviderChoice {
    type Err = UnknownProvider;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        if s == "auto" {
            Ok(Self::Auto)
        } else {
            s.parse().map(Self::Provider)
        }
    }
}

impl fmt::Display for ProviderChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Provider(p) => fmt::Display::fmt(p, f),
        }
    }
}

/// The client: cheap to clone (an `Arc` inside), one connection pool shared by every clone.
///
/// ```no_run
/// use hf_inference::{InferenceClient, Provider};
/// use hf_inference::types::chat_completion::ChatCompletionInputMessage;
///
/// # async fn demo() -> hf_inference::error::Result<()> {
/// let client = InferenceClient::builder().token("hf_xxx").build()?;
/// let answer = client
///     .chat_completion(vec![ChatCompletionInputMessage::user("What is the capital of France?")])
///     .model("meta-llama/Llama-3.1-8B-Instruct")
///     .provider(Provider::Together)
///     .max_tokens(64)
///     .send()
///     .await?;
/// println!("{}", answer.choices[0].message.content.as_deref().unwrap_or_default());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct InferenceClient {
    pub(crate) inner: Arc<ClientInner>,
}

pub(crate) struct ClientInner {
    pub(crate) http: reqwest::Client,
    pub(crate) token: Option<Token>,
    pub(crate) model: Option<String>,
    pub(crate) base_url: Option<Url>,
    pub(crate) provider: ProviderChoice,
    pub(crate) timeout: Option<Duration>,
    /// Longest silence while waiting for response bytes (headers, body, stream events); only
    /// enforced on the `reqwest` client this crate builds.
    pub(crate) read_timeout: Option<Duration>,
    /// Largest response body read into memory (success bodies, downloads of produced files).
    pub(crate) max_response_bytes: usize,
    pub(crate) headers: HeaderMap,
    pub(crate) bill_to: Option<String>,
    pub(crate) endpoints: Endpoints,
    pub(crate) retry: RetryPolicy,
    pub(crate) mappings: MappingCache,
    pub(crate) check_model_task: bool,
    pub(crate) url_models: crate::routing::UrlModelCache,
}

impl fmt::Debug for InferenceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("InferenceClient")
            .field("token", &inner.token)
            .field("model", &inner.model)
            .field("base_url", &inner.base_url.as_ref().map(Url::as_str))
            .field("provider", &inner.provider)
            .field("timeout", &inner.timeout)
            .field("read_timeout", &inner.read_timeout)
            .field("max_response_bytes", &inner.max_response_bytes)
            .field("bill_to", &inner.bill_to)
            .field("hub", &inner.endpoints.hub.as_str())
            .field("router", &inner.endpoints.router.as_str())
            .finish_non_exhaustive()
    }
}

impl InferenceClient {
    /// A client with no token and default settings (enough for a local server given by URL).
    ///
    /// # Panics
    ///
    /// If the TLS backend cannot be initialized (as `reqwest::Client::new` does); use
    /// [`builder`](Self::builder) to handle that as an error.
    pub fn new() -> Self {
        Self::builder()
            .build()
            .expect("the default configuration is valid")
    }

    /// Starts a builder.
    pub fn builder() -> InferenceClientBuilder {
        InferenceClientBuilder::default()
    }

    /// The default model of this client, if any.
    pub fn model(&self) -> Option<&str> {
        self.inner.model.as_deref()
    }

    /// The default provider choice of this client.
    pub fn provider(&self) -> ProviderChoice {
        self.inner.provider
    }

    /// The configured endpoints.
    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    /// A client like this one (token, settings, connection pool) bound to the server at `url`
    /// (an Inference Endpoint once it runs).
    pub(crate) fn with_base_url(&self, url: Url) -> InferenceClient {
        let inner = &self.inner;
        InferenceClient {
            inner: Arc::new(ClientInner {
                http: inner.http.clone(),
                token: inner.token.clone(),
                model: None,
                base_url: Some(url),
                // The URL names the server: a provider chosen for the parent does not apply.
                provider: ProviderChoice::Auto,
                timeout: inner.timeout,
                read_timeout: inner.read_timeout,
                max_response_bytes: inner.max_response_bytes,
                headers: inner.headers.clone(),
                bill_to: inner.bill_to.clone(),
                endpoints: inner.endpoints.clone(),
                retry: inner.retry.clone(),
                mappings: MappingCache::default(),
                check_model_task: inner.check_model_task,
                url_models: Default::default(),
            }),
        }
    }
}

impl Default for InferenceClient {
    fn default() -> Self {
        Self::new()
    }
}

/// Builder of [`InferenceClient`]. Every setting is optional.
#[derive(Default)]
pub struct InferenceClientBuilder {
    token: Option<Token>,
    model: Option<String>,
    base_url: Option<String>,
    provider: ProviderChoice,
    timeout: Option<Duration>,
    read_timeout: Option<Option<Duration>>,
    max_response_bytes: Option<usize>,
    headers: Vec<(String, String)>,
    bill_to: Option<String>,
    user_agent: Option<String>,
    http: Option<reqwest::Client>,
    hub_url: Option<String>,
    router_url: Option<String>,
    inference_endpoints_url: Option<String>,
    inference_catalog_url: Option<String>,
    provider_urls: Vec<(Provider, String, String)>,
    host_redirects: Vec<(String, String)>,
    retry: Option<RetryPolicy>,
    mappings: Vec<(String, ProviderMappingEntry)>,
    skip_model_task_check: bool,
    env_error: Option<Error>,
}

impl fmt::Debug for InferenceClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InferenceClientBuilder")
            .field("token", &self.token)
            .field("model", &self.model)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl InferenceClientBuilder {
    /// Reads the environment, as the reference client does: the token (`HF_TOKEN`,
    /// `HUGGING_FACE_HUB_TOKEN`, then the token file), `HF_ENDPOINT`, and this crate's
    /// redirection variables (see [`crate::config`]). Settings made after this call win.
    pub fn from_env() -> Self {
        Self::from_env_with(&|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with a custom variable lookup (for tests and embedding).
    pub fn from_env_with(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut builder = Self::default();
        let token = env("HF_TOKEN")
            .and_then(Token::new)
            .or_else(|| env("HUGGING_FACE_HUB_TOKEN").and_then(Token::new))
            .or_else(|| {
                config::token_file_path(env)
                    .and_then(|p| std::fs::read_to_string(p).ok())
                    .and_then(Token::new)
            });
        builder.token = token;
        if let Some(hub) = env("HF_ENDPOINT").filter(|s| !s.is_empty()) {
            builder.hub_url = Some(hub.trim_end_matches('/').to_owned());
        }
        if let Some(router) = env("HF_INFERENCE_ROUTER_URL").filter(|s| !s.is_empty()) {
            builder.router_url = Some(router);
        }
        if let Some(url) = env("HF_INFERENCE_ENDPOINTS_URL").filter(|s| !s.is_empty()) {
            builder.inference_endpoints_url = Some(url);
        }
        if let Some(url) = env("HF_INFERENCE_CATALOG_URL").filter(|s| !s.is_empty()) {
            builder.inference_catalog_url = Some(url);
        }
        if let Some(provider) = env("HF_INFERENCE_PROVIDER").filter(|s| !s.is_empty()) {
            match provider.parse() {
                Ok(choice) => builder.provider = choice,
                Err(e) => {
                    builder.env_error = Some(Error::Config(format!("HF_INFERENCE_PROVIDER: {e}")))
                }
            }
        }
        if let Some(text) = env("HF_INFERENCE_PROVIDER_URLS") {
            match parse_pairs("HF_INFERENCE_PROVIDER_URLS", &text) {
                Ok(pairs) => {
                    for (name, url) in pairs {
                        let (id, host) = name.split_once('.').unwrap_or((&name, "*"));
                        match id.parse::<Provider>() {
                            Ok(p) => {
                                builder
                                    .provider_urls
                                    .push((p, host.to_owned(), url.to_string()))
                            }
                            Err(e) => {
                                builder.env_error =
                                    Some(Error::Config(format!("HF_INFERENCE_PROVIDER_URLS: {e}")))
                            }
                        }
                    }
                }
                Err(e) => builder.env_error = Some(e),
            }
        }
        if let Some(text) = env("HF_INFERENCE_HOST_REDIRECTS") {
            match parse_pairs("HF_INFERENCE_HOST_REDIRECTS", &text) {
                Ok(pairs) => builder
                    .host_redirects
                    .extend(pairs.into_iter().map(|(h, u)| (h, u.to_string()))),
                Err(e) => builder.env_error = Some(e),
            }
        }
        builder
    }

    /// The token: a Hugging Face token (`hf_…`, calls go through the router and are billed to
    /// your account) or a provider's own API key (calls go straight to the provider).
    pub fn token(mut self, token: impl AsRef<str>) -> Self {
        self.token = Token::new(token);
        self
    }

    /// Alias of [`token`](Self::token), as in the OpenAI clients.
    pub fn api_key(self, key: impl AsRef<str>) -> Self {
        self.token(key)
    }

    /// The default model: a Hub id (`meta-llama/Llama-3.1-8B-Instruct`) or a URL (an Inference
    /// Endpoint, or a local llama.cpp / vLLM / TGI / Ollama server).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        let model = model.into();
        if model.starts_with("http://") || model.starts_with("https://") {
            self.base_url = Some(model);
        } else {
            self.model = Some(model);
        }
        self
    }

    /// The URL of an OpenAI-compatible server or an Inference Endpoint (alias of a URL
    /// [`model`](Self::model)). A model id given per call is then sent as the payload `model`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The default provider.
    pub fn provider(mut self, provider: impl Into<ProviderChoice>) -> Self {
        self.provider = provider.into();
        self
    }

    /// Timeout of each request (for streams: until the response headers arrive).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Longest wait for the next bytes of a response, whether its headers, its body or the
    /// next event of a stream (default [`DEFAULT_READ_TIMEOUT`], five minutes; `None` waits
    /// forever). Unlike [`timeout`](Self::timeout) it also ends a stream that stalls midway,
    /// with [`StreamError::Stalled`](crate::error::StreamError::Stalled), without limiting how
    /// long a live stream may run. Applied to the HTTP client this builder makes; a client
    /// given with [`http_client`](Self::http_client) keeps its own read timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hf_inference::InferenceClient;
    ///
    /// let client = InferenceClient::builder()
    ///     .read_timeout(Some(Duration::from_secs(30)))
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// ```
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// Largest response body the client reads into memory: a JSON answer, a file answer, a
    /// file a provider produced and the client downloads (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`], 512 MiB). A larger body fails with
    /// [`Error::ResponseTooLarge`] as soon as its `Content-Length` or its bytes exceed the cap,
    /// without reading the rest. Streams are read event by event and are not capped as a whole.
    ///
    /// ```
    /// use hf_inference::InferenceClient;
    ///
    /// // Embeddings and labels only: nothing near a megabyte is expected.
    /// let client = InferenceClient::builder().max_response_bytes(1 << 20).build().unwrap();
    /// # let _ = client;
    /// ```
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// A header sent on every inference request (not on file downloads).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Bill an organization instead of your account: sent as `X-HF-Bill-To` on every inference
    /// call (only the Hugging Face router acts on it).
    pub fn bill_to(mut self, organization: impl Into<String>) -> Self {
        self.bill_to = Some(organization.into());
        self
    }

    /// The `User-Agent` header; default `hf-inference-rust/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Use this `reqwest::Client` (its pool, proxy and TLS settings) instead of building one.
    /// Give it a redirect policy that does not follow redirects to other hosts, or a provider
    /// key sent in a custom header could follow one.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The Hub API base (default `https://huggingface.co`).
    pub fn hub_url(mut self, url: impl Into<String>) -> Self {
        self.hub_url = Some(url.into());
        self
    }

    /// The router base (default `https://router.huggingface.co`).
    pub fn router_url(mut self, url: impl Into<String>) -> Self {
        self.router_url = Some(url.into());
        self
    }

    /// The Inference Endpoints API base (default `https://api.endpoints.huggingface.cloud/v2`),
    /// used by [`InferenceClient::inference_endpoints`].
    pub fn inference_endpoints_url(mut self, url: impl Into<String>) -> Self {
        self.inference_endpoints_url = Some(url.into());
        self
    }

    /// The Inference Catalog API base (default
    /// `https://endpoints.huggingface.co/api/v1/catalog`), used by the catalog calls of
    /// [`InferenceClient::inference_endpoints`].
    pub fn inference_catalog_url(mut self, url: impl Into<String>) -> Self {
        self.inference_catalog_url = Some(url.into());
        self
    }

    /// Sends direct-mode calls of `provider` (all its hosts) to `url`.
    pub fn provider_url(mut self, provider: Provider, url: impl Into<String>) -> Self {
        self.provider_urls
            .push((provider, "*".to_owned(), url.into()));
        self
    }

    /// Sends direct-mode calls of one named host of `provider` (e.g. fal-ai's `queue`) to `url`.
    pub fn provider_host_url(
        mut self,
        provider: Provider,
        host: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        self.provider_urls.push((provider, host.into(), url.into()));
        self
    }

    /// Sends every request for `host` (`fal.media`, `api.together.xyz:443`, …), including
    /// follow-up polls and file downloads, to `url` instead.
    pub fn redirect_host(mut self, host: impl Into<String>, url: impl Into<String>) -> Self {
        self.host_redirects.push((host.into(), url.into()));
        self
    }

    /// The retry policy (default: [`RetryPolicy::default`]); [`RetryPolicy::disabled`] turns
    /// retries off.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Pins the provider model id of a Hub model for a provider, skipping the Hub lookup for
    /// that pair (for tests, air-gapped gateways, or a model not yet mapped on the Hub).
    pub fn model_mapping(
        mut self,
        hub_model: impl Into<String>,
        provider: Provider,
        provider_model_id: impl Into<String>,
    ) -> Self {
        self.mappings.push((
            hub_model.into(),
            ProviderMappingEntry::pinned(provider, provider_model_id.into()),
        ));
        self
    }

    /// Whether an hf-inference call on a Hub model first asks the Hub (`GET /api/models/{id}`,
    /// once per model) that the model can do the task, as the reference client does (default
    /// `true`). Turn it off when the Hub is out of reach (tests, gateways); URL models and
    /// models pinned with [`model_mapping`](Self::model_mapping) are never checked.
    pub fn check_model_task(mut self, check: bool) -> Self {
        self.skip_model_task_check = !check;
        self
    }

    /// Builds the client. Fails on an invalid URL or header, naming it.
    pub fn build(self) -> Result<InferenceClient> {
        if let Some(error) = self.env_error {
            return Err(error);
        }
        let mut endpoints = Endpoints::default();
        if let Some(hub) = &self.hub_url {
            endpoints.hub = parse_base(hub.trim_end_matches('/'))?;
        }
        if let Some(router) = &self.router_url {
            endpoints.router = parse_base(router.trim_end_matches('/'))?;
        }
        if let Some(url) = &self.inference_endpoints_url {
            endpoints.inference_endpoints = parse_base(url.trim_end_matches('/'))?;
        }
        if let Some(url) = &self.inference_catalog_url {
            endpoints.inference_catalog = parse_base(url.trim_end_matches('/'))?;
        }
        for (provider, host, url) in &self.provider_urls {
            endpoints
                .provider_hosts
                .insert((*provider, host.clone()), parse_base(url)?);
        }
        for (host, url) in &self.host_redirects {
            endpoints
                .host_redirects
                .insert(host.clone(), parse_base(url)?);
        }
        let base_url = self.base_url.as_deref().map(parse_base).transpose()?;
        let mut headers = HeaderMap::new();
        let user_agent = self
            .user_agent
            .unwrap_or_else(|| format!("hf-inference-rust/{}", env!("CARGO_PKG_VERSION")));
        headers.insert(
            reqwest::header::USER_AGENT,
            HeaderValue::from_str(&user_agent)
                .map_err(|_| Error::Config("invalid user agent".into()))?,
        );
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::Config(format!("invalid header name `{name}`")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| Error::Config(format!("invalid value for header `{name}`")))?;
            headers.insert(name, value);
        }
        let read_timeout = self.read_timeout.unwrap_or(Some(DEFAULT_READ_TIMEOUT));
        let http = match self.http {
            Some(client) => client,
            None => {
                let builder = reqwest::Client::builder().redirect(same_origin_redirects());
                match read_timeout {
                    Some(timeout) => builder.read_timeout(timeout),
                    None => builder,
                }
            }
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?,
        };
        let mappings = MappingCache::default();
        for (model, entry) in self.mappings {
            mappings.pin(model, entry);
        }
        Ok(InferenceClient {
            inner: Arc::new(ClientInner {
                http,
                token: self.token,
                model: self.model,
                base_url,
                provider: self.provider,
                timeout: self.timeout,
                read_timeout,
                max_response_bytes: self
                    .max_response_bytes
                    .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
                headers,
                bill_to: self.bill_to,
                endpoints,
                retry: self.retry.unwrap_or_default(),
                mappings,
                check_model_task: !self.skip_model_task_check,
                url_models: Default::default(),
            }),
        })
    }
}

/// Redirects are followed only within the same origin (scheme, host, port): credentials such as
/// fal-ai's `Key` or Black Forest Labs' `X-Key` header must never reach another host, and
/// `reqwest` only strips `Authorization` on a cross-host redirect. A cross-origin redirect is
/// returned as it is, and the call fails with its status.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= 10 {
            return attempt.error("more than 10 redirects");
        }
        let origin = |u: &Url| {
            (
                u.scheme().to_owned(),
                u.host_str().map(str::to_owned),
                u.port_or_known_default(),
            )
        };
        let same = attempt
            .previous()
            .last()
            .is_some_and(|previous| origin(previous) == origin(attempt.url()));
        if same {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let client = InferenceClient::builder()
            .token("hf_supersecretvalue1234567890")
            .build()
            .unwrap();
        let text = format!("{client:?}");
        assert!(!text.contains("supersecret"), "{text}");
    }

    #[test]
    fn from_env_reads_token_sources_in_order() {
        let env = |k: &str| match k {
            "HUGGING_FACE_HUB_TOKEN" => Some("hf_second".to_owned()),
            "HF_ENDPOINT" => Some("http://127.0.0.1:1/".to_owned()),
            _ => None,
        };
        let b = InferenceClientBuilder::from_env_with(&env);
        assert_eq!(b.token.as_ref().map(Token::expose), Some("hf_second"));
        let client = b.build().unwrap();
        assert_eq!(client.endpoints().hub().as_str(), "http://127.0.0.1:1/");
    }

    #[test]
    fn from_env_rejects_unknown_provider() {
        let env = |k: &str| (k == "HF_INFERENCE_PROVIDER").then(|| "nope".to_owned());
        let err = InferenceClientBuilder::from_env_with(&env)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn url_model_becomes_base_url() {
        let client = InferenceClient::builder()
            .model("http://127.0.0.1:8080/v1")
            .build()
            .unwrap();
        assert!(client.model().is_none());
        assert_eq!(
            client.inner.base_url.as_ref().map(Url::as_str),
            Some("http://127.0.0.1:8080/v1")
        );
    }
}
