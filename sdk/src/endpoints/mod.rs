//! Inference Endpoints: create, inspect, pause, resume, scale to zero, update and delete
//! dedicated endpoints, deploy from the Inference Catalog, wait until one runs, and call it with
//! the same client.
//!
//! Reached through [`InferenceClient::inference_endpoints`]. Every call goes to the Inference
//! Endpoints API (`https://api.endpoints.huggingface.cloud/v2`) or the Inference Catalog API
//! (`https://endpoints.huggingface.co/api/v1/catalog`), both redirectable like every URL of the
//! client ([`InferenceClientBuilder::inference_endpoints_url`](crate::InferenceClientBuilder::inference_endpoints_url),
//! `HF_INFERENCE_ENDPOINTS_URL`; `…catalog_url`, `HF_INFERENCE_CATALOG_URL`). They need a Hugging
//! Face token (`hf_…`), which is sent to those two hosts only (and, once an endpoint runs, to the
//! endpoint itself, which requires it).
//!
//! ```no_run
//! use std::time::Duration;
//! use hf_inference::InferenceClient;
//! use hf_inference::types::chat_completion::ChatCompletionInputMessage;
//!
//! # async fn demo() -> hf_inference::Result<()> {
//! let client = InferenceClient::builder().token("hf_xxx").build()?;
//! let endpoints = client.inference_endpoints().namespace("my-org");
//! let mut endpoint = endpoints
//!     .create("my-llm", "Qwen/Qwen2.5-0.5B-Instruct")
//!     .hardware("aws", "us-east-1", "gpu", "nvidia-l4", "x1")
//!     .task("text-generation")
//!     .send()
//!     .await?;
//! endpoint
//!     .wait()
//!     .timeout(Duration::from_secs(1800))
//!     .on_progress(|p| if p.changed() { println!("{}: {}", p.name, p.state) })
//!     .await?;
//! let answer = endpoint
//!     .client()?
//!     .chat_completion(vec![ChatCompletionInputMessage::user("Hello!")])
//!     .send()
//!     .await?;
//! endpoint.pause().await?;
//! # let _ = answer;
//! # Ok(())
//! # }
//! ```
//!
//! Differences from `huggingface_hub` 2.4.0, on purpose: the client (token, settings, connection
//! pool) is carried into every returned [`InferenceEndpoint`]; the default namespace is looked up
//! once per [`InferenceEndpoints`] handle, not once per call; [`wait`](InferenceEndpoint::wait)
//! is bounded by default and treats an unreachable health route as "not ready yet";
//! [`InferenceClient::endpoint_info`] and [`InferenceClient::health_check`] work on any URL
//! client without naming a provider.

mod endpoint;
mod server;
mod types;

use std::sync::Arc;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use tokio::sync::OnceCell;
use url::Url;

use crate::client::InferenceClient;
use crate::config::join_route;
use crate::error::{Error, Result};
use crate::http::transport::PreparedRequest;

pub use endpoint::{
    DEFAULT_WAIT_INTERVAL, DEFAULT_WAIT_TIMEOUT, InferenceEndpoint, ProgressCallback, Wait,
    WaitProgress,
};
pub use types::{
    CatalogModel, CatalogRecipe, EndpointCloud, EndpointCompute, EndpointDetails, EndpointHardware,
    EndpointImage, EndpointModel, EndpointScaling, EndpointServerInfo, EndpointState,
    EndpointStatus, EndpointType, EndpointUser, ScalingMetric,
};

/// The label of control-plane requests in logs and error contexts.
const SERVICE: &str = "inference-endpoints";

impl InferenceClient {
    /// The Inference Endpoints API of this client (its token, settings and connection pool).
    ///
    /// ```no_run
    /// # async fn demo() -> hf_inference::Result<()> {
    /// let client = hf_inference::InferenceClient::builder().token("hf_xxx").build()?;
    /// for endpoint in client.inference_endpoints().list().await? {
    ///     println!("{} {} {:?}", endpoint.name(), endpoint.state(), endpoint.url());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn inference_endpoints(&self) -> InferenceEndpoints {
        InferenceEndpoints {
            client: self.clone(),
            namespace: Arc::new(OnceCell::new()),
        }
    }
}

/// The Inference Endpoints and Inference Catalog APIs, for one namespace (a user or an
/// organization). Cheap to clone.
///
/// Without [`namespace`](Self::namespace), the namespace is the token owner's user name, asked
/// of the Hub (`GET {hub}/api/whoami-v2`) once per handle; an organization token must name its
/// namespace.
#[derive(Clone, Debug)]
pub struct InferenceEndpoints {
    client: InferenceClient,
    namespace: Arc<OnceCell<String>>,
}

impl InferenceEndpoints {
    /// Works in `namespace` (a user or organization name) instead of the token owner's.
    pub fn namespace(self, namespace: impl Into<String>) -> Self {
        let cell = OnceCell::new();
        // A fresh cell: set cannot fail.
        let _ = cell.set(namespace.into());
        Self {
            client: self.client,
            namespace: Arc::new(cell),
        }
    }

    /// The namespace: the one given, else the token owner's (one Hub request, then cached).
    pub async fn resolved_namespace(&self) -> Result<String> {
        let namespace = self
            .namespace
            .get_or_try_init(|| async { self.whoami().await })
            .await?;
        check_segment("namespace", namespace)?;
        Ok(namespace.clone())
    }

    /// The client these calls go through.
    pub fn client(&self) -> &InferenceClient {
        &self.client
    }

    /// Every endpoint of the namespace (`GET {api}/endpoint/{namespace}`).
    pub async fn list(&self) -> Result<Vec<InferenceEndpoint>> {
        #[derive(Deserialize)]
        struct Items {
            #[serde(default)]
            items: Vec<Value>,
        }
        let namespace = self.resolved_namespace().await?;
        let url = self.api_url(&format!("endpoint/{namespace}"));
        let (items, _) = self.send::<Items>(Method::GET, url, None, "").await?;
        items
            .items
            .into_iter()
            .map(|raw| InferenceEndpoint::from_value(self.clone(), namespace.clone(), raw))
            .collect()
    }

    /// Every endpoint the token owner can see: their own, then each of their organizations'
    /// (one Hub request, then one listing per namespace). An organization the token may not
    /// list (401, 403) is skipped; any other error ends the call (`huggingface_hub` also hides
    /// those).
    pub async fn list_all(&self) -> Result<Vec<InferenceEndpoint>> {
        let namespaces = self.whoami_namespaces().await?;
        let mut all = Vec::new();
        for (i, namespace) in namespaces.into_iter().enumerate() {
            match self.clone().namespace(namespace).list().await {
                Ok(found) => all.extend(found),
                Err(Error::Unauthorized(context)) if i > 0 => {
                    tracing::debug!(%context, "organization skipped");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(all)
    }

    /// One endpoint (`GET {api}/endpoint/{namespace}/{name}`).
    pub async fn get(&self, name: &str) -> Result<InferenceEndpoint> {
        self.lifecycle(Method::GET, name, None).await
    }

    /// Starts creating an endpoint named `name` serving the Hub repository `repository`; set
    /// its hardware with [`hardware`](CreateEndpoint::hardware), then
    /// [`send`](CreateEndpoint::send) (`POST {api}/endpoint/{namespace}`).
    pub fn create(&self, name: impl Into<String>, repository: impl Into<String>) -> CreateEndpoint {
        CreateEndpoint::new(self.clone(), name.into(), repository.into())
    }

    /// Starts deploying a model of the Inference Catalog with its default recipe
    /// (`POST {catalog}/model/{repo_id}/deploy`).
    pub fn create_from_catalog(&self, repo_id: impl Into<String>) -> CreateFromCatalog {
        CreateFromCatalog {
            api: self.clone(),
            source: CatalogSource::Model(repo_id.into()),
            name: None,
            accelerator: None,
            gguf_file: None,
        }
    }

    /// Starts deploying one recipe of the Inference Catalog (its id is
    /// [`CatalogRecipe::id`]; `POST {catalog}/recipe/{recipe_id}/deploy`).
    pub fn create_from_recipe(&self, recipe_id: impl Into<String>) -> CreateFromCatalog {
        CreateFromCatalog {
            api: self.clone(),
            source: CatalogSource::Recipe(recipe_id.into()),
            name: None,
            accelerator: None,
            gguf_file: None,
        }
    }

    /// Starts an update of `name`: only the settings given are changed
    /// (`PUT {api}/endpoint/{namespace}/{name}`).
    pub fn update(&self, name: impl Into<String>) -> UpdateEndpoint {
        UpdateEndpoint {
            api: self.clone(),
            name: name.into(),
            body: Map::new(),
            parallelism: Map::new(),
            image: None,
        }
    }

    /// Pauses `name`: no replica, not billed, restarted only by [`resume`](Self::resume)
    /// (`POST {api}/endpoint/{namespace}/{name}/pause`).
    pub async fn pause(&self, name: &str) -> Result<InferenceEndpoint> {
        self.lifecycle(Method::POST, name, Some("pause")).await
    }

    /// Resumes a paused or scaled-to-zero endpoint
    /// (`POST {api}/endpoint/{namespace}/{name}/resume`). An endpoint that is already running
    /// is not an error: the service's "already running" answer is followed by a `get`.
    pub async fn resume(&self, name: &str) -> Result<InferenceEndpoint> {
        match self.lifecycle(Method::POST, name, Some("resume")).await {
            Err(Error::Http(context))
                if context.status == 400
                    && (context.body_excerpt.contains("already running")
                        || context
                            .server_message
                            .as_deref()
                            .is_some_and(|m| m.contains("already running"))) =>
            {
                self.get(name).await
            }
            other => other,
        }
    }

    /// Scales `name` to zero replicas; the next request to its URL starts one again
    /// (`POST {api}/endpoint/{namespace}/{name}/scale-to-zero`).
    pub async fn scale_to_zero(&self, name: &str) -> Result<InferenceEndpoint> {
        self.lifecycle(Method::POST, name, Some("scale-to-zero"))
            .await
    }

    /// Deletes `name`, for good (`DELETE {api}/endpoint/{namespace}/{name}`).
    pub async fn delete(&self, name: &str) -> Result<()> {
        check_segment("name", name)?;
        let namespace = self.resolved_namespace().await?;
        let url = self.api_url(&format!("endpoint/{namespace}/{name}"));
        self.send_raw(Method::DELETE, url, None, name).await?;
        Ok(())
    }

    /// The hardware the namespace can deploy on, with prices, availability and quotas
    /// (`GET {api}/provider/{namespace}`): the values [`CreateEndpoint::hardware`] takes.
    pub async fn hardware(&self) -> Result<Vec<EndpointHardware>> {
        let namespace = self.resolved_namespace().await?;
        let url = self.api_url(&format!("provider/{namespace}"));
        let (listing, _) = self
            .send::<types::HardwareListing>(Method::GET, url, None, "")
            .await?;
        Ok(listing.flatten())
    }

    /// Starts a query of the Inference Catalog (`GET {catalog}/list`), filtered by the settings
    /// given.
    pub fn catalog(&self) -> ListCatalog {
        ListCatalog {
            api: self.clone(),
            filters: Vec::new(),
        }
    }

    /// GET, or a bodiless POST to `action`, on one endpoint.
    async fn lifecycle(
        &self,
        method: Method,
        name: &str,
        action: Option<&str>,
    ) -> Result<InferenceEndpoint> {
        check_segment("name", name)?;
        let namespace = self.resolved_namespace().await?;
        let path = match action {
            Some(action) => format!("endpoint/{namespace}/{name}/{action}"),
            None => format!("endpoint/{namespace}/{name}"),
        };
        let url = self.api_url(&path);
        let (raw, _) = self.send::<Value>(method, url, None, name).await?;
        InferenceEndpoint::from_value(self.clone(), namespace, raw)
    }

    fn api_url(&self, path: &str) -> Url {
        join_route(&self.client.inner.endpoints.inference_endpoints, path, None)
    }

    fn catalog_url(&self, path: &str) -> Url {
        join_route(&self.client.inner.endpoints.inference_catalog, path, None)
    }

    /// The headers of a control-plane request: the user agent and the `hf_` token. Other
    /// configured headers are meant for inference hosts and stay there.
    fn headers(&self) -> Result<HeaderMap> {
        let inner = &self.client.inner;
        let token = inner
            .token
            .as_ref()
            .filter(|t| t.is_hf_token())
            .ok_or_else(|| Error::InvalidInput {
                field: "token".into(),
                message: format!(
                    "the Inference Endpoints API needs a Hugging Face token (hf_…); {}",
                    if inner.token.is_some() {
                        "the configured token is a provider key, which is never sent there"
                    } else {
                        "none is configured (set HF_TOKEN or call `.token(…)`)"
                    }
                ),
            })?;
        let mut headers = HeaderMap::new();
        if let Some(ua) = inner.headers.get(reqwest::header::USER_AGENT) {
            headers.insert(reqwest::header::USER_AGENT, ua.clone());
        }
        headers.insert(
            reqwest::header::AUTHORIZATION,
            token.header_value(Some("Bearer"))?,
        );
        Ok(headers)
    }

    /// Sends one request through the client's transport (retries, timeout, typed errors) and
    /// returns the body.
    async fn send_raw(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        subject: &str,
    ) -> Result<Bytes> {
        let mut headers = self.headers()?;
        let body = match body {
            Some(body) => {
                headers.insert(
                    reqwest::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                Some(Bytes::from(serde_json::to_vec(body).map_err(|e| {
                    Error::InvalidInput {
                        field: "body".into(),
                        message: format!("cannot serialize the request: {e}"),
                    }
                })?))
            }
            None => None,
        };
        let request = PreparedRequest {
            method,
            url: self.client.inner.endpoints.redirect(url),
            headers,
            body,
            provider: SERVICE,
            task: "inference-endpoints",
            model: subject.to_owned(),
        };
        let response = self.client.execute(&request, false).await?;
        response.bytes().await.map_err(|e| {
            crate::http::transport::map_send_error(e, &request.url, self.client.inner.timeout)
        })
    }

    /// [`send_raw`](Self::send_raw), decoding the JSON answer as `T` (and keeping the bytes).
    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        subject: &str,
    ) -> Result<(T, Bytes)> {
        let bytes = self.send_raw(method, url, body, subject).await?;
        let value = serde_json::from_slice(&bytes).map_err(|e| Error::decode::<T>(e, &bytes))?;
        Ok((value, bytes))
    }

    /// The token owner's user name (`GET {hub}/api/whoami-v2`).
    async fn whoami(&self) -> Result<String> {
        Ok(self.whoami_namespaces().await?.remove(0))
    }

    /// The token owner's user name, then their organizations (`GET {hub}/api/whoami-v2`).
    async fn whoami_namespaces(&self) -> Result<Vec<String>> {
        #[derive(Deserialize)]
        struct Org {
            name: String,
        }
        #[derive(Deserialize)]
        struct WhoAmI {
            #[serde(rename = "type")]
            kind: Option<String>,
            name: Option<String>,
            #[serde(default)]
            orgs: Vec<Org>,
        }
        let url = join_route(&self.client.inner.endpoints.hub, "/api/whoami-v2", None);
        let (who, _) = self
            .send::<WhoAmI>(Method::GET, url, None, "whoami")
            .await?;
        match (who.kind.as_deref(), who.name) {
            (Some("user"), Some(name)) => Ok(std::iter::once(name)
                .chain(who.orgs.into_iter().map(|o| o.name))
                .collect()),
            (kind, name) => Err(Error::InvalidInput {
                field: "namespace".into(),
                message: format!(
                    "no namespace given, and the token does not belong to a user (whoami says {} `{}`): \
                     name one with `.namespace(\"org-or-user\")`",
                    kind.unwrap_or("no type"),
                    name.unwrap_or_default()
                ),
            }),
        }
    }
}

/// Rejects a name that would change the URL path: empty, or holding `/`, `?` or `#`.
fn check_segment(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() || value.contains(['/', '?', '#']) {
        return Err(Error::InvalidInput {
            field: field.into(),
            message: format!(
                "`{value}` is not a valid {field} (empty, or contains `/`, `?` or `#`)"
            ),
        });
    }
    Ok(())
}

/// Inserts `value` at `path` (object keys) of `root`, creating the objects on the way.
fn put(root: &mut Map<String, Value>, path: &[&str], value: Value) {
    let (last, parents) = path.split_last().expect("a non-empty path");
    let mut map = root;
    for key in parents {
        let entry = map
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        map = entry.as_object_mut().expect("an object");
    }
    map.insert((*last).to_owned(), value);
}

/// The output-side check of an endpoint type: only the types the service accepts on create.
fn requestable_type(kind: &EndpointType) -> Result<&str> {
    match kind {
        EndpointType::Public | EndpointType::Authenticated | EndpointType::Private => {
            Ok(kind.as_str())
        }
        other => Err(Error::InvalidInput {
            field: "endpoint_type".into(),
            message: format!("`{other}` cannot be requested; use public, authenticated or private"),
        }),
    }
}

/// The output-side check of a scaling metric.
fn requestable_metric(metric: &ScalingMetric) -> Result<&str> {
    match metric {
        ScalingMetric::PendingRequests | ScalingMetric::HardwareUsage => Ok(metric.as_str()),
        other => Err(Error::InvalidInput {
            field: "scaling_metric".into(),
            message: format!(
                "`{other}` is not a scaling metric; use pendingRequests or hardwareUsage"
            ),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Create

/// An endpoint creation being built; see [`InferenceEndpoints::create`].
///
/// The body follows `huggingface_hub` 2.4.0: one replica (`minReplica` 1, `maxReplica` 1),
/// type `authenticated`, the `huggingface` image, framework `pytorch`, unless set otherwise.
#[derive(Clone, Debug)]
#[must_use = "nothing is created until you call `send`"]
pub struct CreateEndpoint {
    api: InferenceEndpoints,
    name: String,
    repository: String,
    framework: String,
    revision: Option<String>,
    task: Option<String>,
    vendor: Option<String>,
    region: Option<String>,
    accelerator: Option<String>,
    instance_type: Option<String>,
    instance_size: Option<String>,
    min_replica: u32,
    max_replica: u32,
    scale_to_zero_timeout: Option<u32>,
    scaling: Option<(ScalingMetric, Option<f64>)>,
    endpoint_type: EndpointType,
    image: Option<EndpointImage>,
    registry: Option<(String, Option<String>)>,
    command: Option<Vec<String>>,
    args: Option<Vec<String>>,
    env: Vec<(String, String)>,
    secrets: Vec<(String, String)>,
    domain: Option<String>,
    path: Option<String>,
    cache_http_responses: Option<bool>,
    tags: Option<Vec<String>>,
    private_link: Option<(String, String)>,
}

impl CreateEndpoint {
    fn new(api: InferenceEndpoints, name: String, repository: String) -> Self {
        Self {
            api,
            name,
            repository,
            framework: "pytorch".into(),
            revision: None,
            task: None,
            vendor: None,
            region: None,
            accelerator: None,
            instance_type: None,
            instance_size: None,
            min_replica: 1,
            max_replica: 1,
            scale_to_zero_timeout: None,
            scaling: None,
            endpoint_type: EndpointType::Authenticated,
            image: None,
            registry: None,
            command: None,
            args: None,
            env: Vec::new(),
            secrets: Vec::new(),
            domain: None,
            path: None,
            cache_http_responses: None,
            tags: None,
            private_link: None,
        }
    }

    /// Where and on what it runs (all required): cloud `vendor` (`aws`), `region`
    /// (`us-east-1`), `accelerator` (`cpu`, `gpu`), `instance_type` (`intel-icl`, `nvidia-l4`)
    /// and `instance_size` (`x1`, `x2`).
    pub fn hardware(
        mut self,
        vendor: impl Into<String>,
        region: impl Into<String>,
        accelerator: impl Into<String>,
        instance_type: impl Into<String>,
        instance_size: impl Into<String>,
    ) -> Self {
        self.vendor = Some(vendor.into());
        self.region = Some(region.into());
        self.accelerator = Some(accelerator.into());
        self.instance_type = Some(instance_type.into());
        self.instance_size = Some(instance_size.into());
        self
    }

    /// The framework (default `pytorch`; `custom` for your own container).
    pub fn framework(mut self, framework: impl Into<String>) -> Self {
        self.framework = framework.into();
        self
    }

    /// The repository revision (default: the service picks the latest).
    pub fn revision(mut self, revision: impl Into<String>) -> Self {
        self.revision = Some(revision.into());
        self
    }

    /// The task, e.g. `text-generation` (default: the repository's).
    pub fn task(mut self, task: impl Into<String>) -> Self {
        self.task = Some(task.into());
        self
    }

    /// Fewest replicas (default 1; 0 lets the endpoint scale to zero).
    pub fn min_replica(mut self, n: u32) -> Self {
        self.min_replica = n;
        self
    }

    /// Most replicas (default 1).
    pub fn max_replica(mut self, n: u32) -> Self {
        self.max_replica = n;
        self
    }

    /// Idle minutes before scaling to zero (with `min_replica(0)`).
    pub fn scale_to_zero_timeout(mut self, minutes: u32) -> Self {
        self.scale_to_zero_timeout = Some(minutes);
        self
    }

    /// What drives autoscaling, and its threshold (`None`: the service's default).
    pub fn scaling(mut self, metric: ScalingMetric, threshold: Option<f64>) -> Self {
        self.scaling = Some((metric, threshold));
        self
    }

    /// Who may call it (default [`EndpointType::Authenticated`]).
    pub fn endpoint_type(mut self, kind: EndpointType) -> Self {
        self.endpoint_type = kind;
        self
    }

    /// The container (default [`EndpointImage::huggingface`]).
    pub fn image(mut self, image: EndpointImage) -> Self {
        self.image = Some(image);
        self
    }

    /// Credentials of the registry of a [`custom`](EndpointImage::custom) image.
    pub fn registry_credentials(
        mut self,
        username: impl Into<String>,
        password: Option<String>,
    ) -> Self {
        self.registry = Some((username.into(), password));
        self
    }

    /// The container command.
    pub fn command<I: IntoIterator<Item = S>, S: Into<String>>(mut self, command: I) -> Self {
        self.command = Some(command.into_iter().map(Into::into).collect());
        self
    }

    /// The container arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args = Some(args.into_iter().map(Into::into).collect());
        self
    }

    /// An environment variable of the container.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// A secret environment variable of the container.
    pub fn secret(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.secrets.push((name.into(), value.into()));
        self
    }

    /// A custom domain.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// A path prefix on the domain.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Whether identical requests may be answered from a cache.
    pub fn cache_http_responses(mut self, cache: bool) -> Self {
        self.cache_http_responses = Some(cache);
        self
    }

    /// Tags.
    pub fn tags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        self.tags = Some(tags.into_iter().map(Into::into).collect());
        self
    }

    /// A private link to your cloud account (with [`EndpointType::Private`]).
    pub fn private_link(
        mut self,
        account_id: impl Into<String>,
        region: impl Into<String>,
    ) -> Self {
        self.private_link = Some((account_id.into(), region.into()));
        self
    }

    /// The request body, checked: what [`send`](Self::send) posts.
    pub fn body(&self) -> Result<Value> {
        check_segment("name", &self.name)?;
        if self.repository.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "repository".into(),
                message: "the repository is empty".into(),
            });
        }
        let missing: Vec<&str> = [
            ("vendor", &self.vendor),
            ("region", &self.region),
            ("accelerator", &self.accelerator),
            ("instance_type", &self.instance_type),
            ("instance_size", &self.instance_size),
        ]
        .iter()
        .filter(|(_, v)| v.as_deref().is_none_or(|v| v.trim().is_empty()))
        .map(|(k, _)| *k)
        .collect();
        if !missing.is_empty() {
            return Err(Error::InvalidInput {
                field: missing.join(", "),
                message: "required to create an endpoint: set them with `.hardware(vendor, region, accelerator, instance_type, instance_size)`".into(),
            });
        }
        if self.min_replica > self.max_replica {
            return Err(Error::InvalidInput {
                field: "min_replica".into(),
                message: format!(
                    "{} is more than max_replica ({})",
                    self.min_replica, self.max_replica
                ),
            });
        }
        let kind = requestable_type(&self.endpoint_type)?;
        let mut image = self
            .image
            .clone()
            .unwrap_or_else(EndpointImage::huggingface);
        if let Some((username, password)) = &self.registry {
            if image.name() != "custom" {
                return Err(Error::InvalidInput {
                    field: "registry_credentials".into(),
                    message: format!(
                        "registry credentials need a custom image (`EndpointImage::custom`), not `{}`",
                        image.name()
                    ),
                });
            }
            let mut credentials = Map::new();
            credentials.insert("username".into(), username.clone().into());
            if let Some(password) = password {
                credentials.insert("password".into(), password.clone().into());
            }
            image
                .settings_mut()
                .insert("credentials".into(), Value::Object(credentials));
        }
        let mut scaling = json!({
            "maxReplica": self.max_replica,
            "minReplica": self.min_replica,
            "scaleToZeroTimeout": self.scale_to_zero_timeout,
        });
        if let Some((metric, threshold)) = &self.scaling {
            let mut measure = Map::new();
            measure.insert(
                requestable_metric(metric)?.to_owned(),
                threshold_value(*threshold),
            );
            scaling["measure"] = Value::Object(measure);
        }
        let mut model = json!({
            "framework": self.framework,
            "repository": self.repository,
            "revision": self.revision,
            "image": image,
        });
        let model_map = model.as_object_mut().expect("an object");
        if let Some(task) = &self.task {
            model_map.insert("task".into(), task.clone().into());
        }
        if let Some(command) = &self.command {
            model_map.insert("command".into(), json!(command));
        }
        if let Some(args) = &self.args {
            model_map.insert("args".into(), json!(args));
        }
        if !self.env.is_empty() {
            model_map.insert("env".into(), pairs(&self.env));
        }
        if !self.secrets.is_empty() {
            model_map.insert("secrets".into(), pairs(&self.secrets));
        }
        let mut body = json!({
            "compute": {
                "accelerator": self.accelerator,
                "instanceSize": self.instance_size,
                "instanceType": self.instance_type,
                "scaling": scaling,
            },
            "model": model,
            "name": self.name,
            "provider": {"region": self.region, "vendor": self.vendor},
            "type": kind,
        });
        let map = body.as_object_mut().expect("an object");
        if let Some((account_id, region)) = &self.private_link {
            map.insert(
                "privateService".into(),
                json!({"accountId": account_id, "region": region}),
            );
        }
        if self.domain.is_some() || self.path.is_some() {
            let mut route = Map::new();
            if let Some(domain) = &self.domain {
                route.insert("domain".into(), domain.clone().into());
            }
            if let Some(path) = &self.path {
                route.insert("path".into(), path.clone().into());
            }
            map.insert("route".into(), Value::Object(route));
        }
        if let Some(cache) = self.cache_http_responses {
            map.insert("cacheHttpResponses".into(), cache.into());
        }
        if let Some(tags) = &self.tags {
            map.insert("tags".into(), json!(tags));
        }
        Ok(body)
    }

    /// Creates the endpoint; it usually starts `pending`: [`wait`](InferenceEndpoint::wait)
    /// for it.
    pub async fn send(self) -> Result<InferenceEndpoint> {
        let body = self.body()?;
        let namespace = self.api.resolved_namespace().await?;
        let url = self.api.api_url(&format!("endpoint/{namespace}"));
        let (raw, _) = self
            .api
            .send::<Value>(Method::POST, url, Some(&body), &self.name)
            .await?;
        InferenceEndpoint::from_value(self.api, namespace, raw)
    }
}

/// A scaling threshold as JSON: whole numbers without a fraction (`80`, not `80.0`), as users
/// write them.
fn threshold_value(threshold: Option<f64>) -> Value {
    match threshold {
        Some(t) if t.fract() == 0.0 && t.abs() < 1e15 => json!(t as i64),
        Some(t) => json!(t),
        None => Value::Null,
    }
}

fn pairs(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Update

/// An endpoint update being built; see [`InferenceEndpoints::update`]. Only the settings given
/// are sent; the others keep their values.
#[derive(Clone, Debug)]
#[must_use = "nothing is updated until you call `send`"]
pub struct UpdateEndpoint {
    api: InferenceEndpoints,
    name: String,
    body: Map<String, Value>,
    /// `tensorParallelSize` / `dataParallelSize`, written into the image variant.
    parallelism: Map<String, Value>,
    image: Option<EndpointImage>,
}

macro_rules! update_setters {
    ($( $(#[$doc:meta])* $name:ident: $ty:ty => [$($path:literal),+] ),* $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: impl Into<$ty>) -> Self {
                let value: $ty = value.into();
                put(&mut self.body, &[$($path),+], json!(value));
                self
            }
        )*
    };
}

impl UpdateEndpoint {
    update_setters! {
        /// The accelerator (`cpu`, `gpu`, …).
        accelerator: String => ["compute", "accelerator"],
        /// The instance size (`x1`, …).
        instance_size: String => ["compute", "instanceSize"],
        /// The instance type (`nvidia-l4`, …).
        instance_type: String => ["compute", "instanceType"],
        /// Fewest replicas.
        min_replica: u32 => ["compute", "scaling", "minReplica"],
        /// Most replicas.
        max_replica: u32 => ["compute", "scaling", "maxReplica"],
        /// Idle minutes before scaling to zero.
        scale_to_zero_timeout: u32 => ["compute", "scaling", "scaleToZeroTimeout"],
        /// The Hub repository.
        repository: String => ["model", "repository"],
        /// The framework.
        framework: String => ["model", "framework"],
        /// The repository revision.
        revision: String => ["model", "revision"],
        /// The task.
        task: String => ["model", "task"],
        /// A custom domain.
        domain: String => ["route", "domain"],
        /// A path prefix on the domain.
        path: String => ["route", "path"],
        /// Whether identical requests may be answered from a cache.
        cache_http_responses: bool => ["cacheHttpResponses"],
    }

    /// What drives autoscaling, and its threshold (`None`: the service's default).
    pub fn scaling(mut self, metric: ScalingMetric, threshold: Option<f64>) -> Self {
        // Checked in `body`, where an error can be returned.
        let mut measure = Map::new();
        measure.insert(metric.as_str().to_owned(), threshold_value(threshold));
        put(
            &mut self.body,
            &["compute", "scaling", "measure"],
            Value::Object(measure),
        );
        self
    }

    /// The container.
    pub fn image(mut self, image: EndpointImage) -> Self {
        self.image = Some(image);
        self
    }

    /// The container command (an empty list clears it).
    pub fn command<I: IntoIterator<Item = S>, S: Into<String>>(mut self, command: I) -> Self {
        let command: Vec<String> = command.into_iter().map(Into::into).collect();
        put(&mut self.body, &["model", "command"], json!(command));
        self
    }

    /// The container arguments (an empty list clears them).
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        let args: Vec<String> = args.into_iter().map(Into::into).collect();
        put(&mut self.body, &["model", "args"], json!(args));
        self
    }

    /// All environment variables (an empty map clears them).
    pub fn env<I: IntoIterator<Item = (K, V)>, K: Into<String>, V: Into<String>>(
        mut self,
        env: I,
    ) -> Self {
        let env: Vec<(String, String)> =
            env.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        put(&mut self.body, &["model", "env"], pairs(&env));
        self
    }

    /// All secret environment variables (an empty map clears them).
    pub fn secrets<I: IntoIterator<Item = (K, V)>, K: Into<String>, V: Into<String>>(
        mut self,
        secrets: I,
    ) -> Self {
        let secrets: Vec<(String, String)> = secrets
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        put(&mut self.body, &["model", "secrets"], pairs(&secrets));
        self
    }

    /// Tags (an empty list clears them).
    pub fn tags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        let tags: Vec<String> = tags.into_iter().map(Into::into).collect();
        put(&mut self.body, &["tags"], json!(tags));
        self
    }

    /// Tensor parallelism of the engine (`vLLM`, `sGLang`). The service needs the whole image:
    /// without [`image`](Self::image), the endpoint's current image is read first (one GET).
    pub fn tensor_parallel_size(mut self, size: u32) -> Self {
        self.parallelism
            .insert("tensorParallelSize".into(), size.into());
        self
    }

    /// Data parallelism of the engine (`vLLM`); see
    /// [`tensor_parallel_size`](Self::tensor_parallel_size).
    pub fn data_parallel_size(mut self, size: u32) -> Self {
        self.parallelism
            .insert("dataParallelSize".into(), size.into());
        self
    }

    /// Sends the update.
    pub async fn send(mut self) -> Result<InferenceEndpoint> {
        check_segment("name", &self.name)?;
        if let Some(measure) = self
            .body
            .get("compute")
            .and_then(|c| c.get("scaling"))
            .and_then(|s| s.get("measure"))
            .and_then(Value::as_object)
        {
            for metric in measure.keys() {
                requestable_metric(&ScalingMetric::from(metric.as_str()))?;
            }
        }
        let mut image = self.image.take();
        if !self.parallelism.is_empty() {
            let mut base = match image {
                Some(image) => image,
                None => current_image(&self.api, &self.name).await?,
            };
            for (key, value) in std::mem::take(&mut self.parallelism) {
                base.settings_mut().insert(key, value);
            }
            image = Some(base);
        }
        if let Some(image) = image {
            put(&mut self.body, &["model", "image"], json!(image));
        }
        let body = Value::Object(self.body);
        let namespace = self.api.resolved_namespace().await?;
        let url = self
            .api
            .api_url(&format!("endpoint/{namespace}/{}", self.name));
        let (raw, _) = self
            .api
            .send::<Value>(Method::PUT, url, Some(&body), &self.name)
            .await?;
        InferenceEndpoint::from_value(self.api, namespace, raw)
    }
}

/// The image an endpoint runs, to be sent back with new settings. Registry credentials come
/// back redacted, and sending them would overwrite the real ones: that is refused.
async fn current_image(api: &InferenceEndpoints, name: &str) -> Result<EndpointImage> {
    let endpoint = api.get(name).await?;
    let image = endpoint
        .details()
        .model
        .image
        .as_ref()
        .and_then(EndpointImage::from_value)
        .ok_or_else(|| Error::InvalidInput {
            field: "image".into(),
            message: format!("endpoint `{name}` reports no image to set the parallelism in; give one with `.image(…)`"),
        })?;
    if image.settings().contains_key("credentials") {
        return Err(Error::InvalidInput {
            field: "image".into(),
            message: "the current image has registry credentials, which the service returns redacted; give the whole image with `.image(…)`".into(),
        });
    }
    Ok(image)
}

// ---------------------------------------------------------------------------------------------
// Catalog

#[derive(Clone, Debug)]
enum CatalogSource {
    Model(String),
    Recipe(String),
}

/// A deployment from the Inference Catalog being built; see
/// [`InferenceEndpoints::create_from_catalog`] and [`InferenceEndpoints::create_from_recipe`].
#[derive(Clone, Debug)]
#[must_use = "nothing is deployed until you call `send`"]
pub struct CreateFromCatalog {
    api: InferenceEndpoints,
    source: CatalogSource,
    name: Option<String>,
    accelerator: Option<String>,
    gguf_file: Option<String>,
}

impl CreateFromCatalog {
    /// The endpoint name (default: the service picks one, e.g. `llama-3-2-3b-instruct-eey`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The accelerator (`cpu`, `gpu`, `neuron`); models only, a recipe fixes it.
    pub fn accelerator(mut self, accelerator: impl Into<String>) -> Self {
        self.accelerator = Some(accelerator.into());
        self
    }

    /// The GGUF file to serve (llama.cpp); models only.
    pub fn gguf_file(mut self, file: impl Into<String>) -> Self {
        self.gguf_file = Some(file.into());
        self
    }

    /// Deploys.
    pub async fn send(self) -> Result<InferenceEndpoint> {
        #[derive(Deserialize)]
        struct Deployed {
            endpoint: Value,
        }
        let path = match &self.source {
            CatalogSource::Model(repo_id) => {
                let parts: Vec<&str> = repo_id.split('/').collect();
                if parts.len() > 2 || parts.iter().any(|p| check_segment("repo_id", p).is_err()) {
                    return Err(Error::InvalidInput {
                        field: "repo_id".into(),
                        message: format!(
                            "`{repo_id}` is not a Hub repository id (`name` or `org/name`)"
                        ),
                    });
                }
                format!("model/{repo_id}/deploy")
            }
            CatalogSource::Recipe(id) => {
                check_segment("recipe_id", id)?;
                if self.accelerator.is_some() || self.gguf_file.is_some() {
                    return Err(Error::InvalidInput {
                        field: "accelerator".into(),
                        message: "a recipe fixes the accelerator and GGUF file; set them only when deploying a model".into(),
                    });
                }
                format!("recipe/{id}/deploy")
            }
        };
        if let Some(name) = &self.name {
            check_segment("name", name)?;
        }
        let namespace = self.api.resolved_namespace().await?;
        let mut body = Map::new();
        body.insert("namespace".into(), namespace.clone().into());
        if let Some(name) = &self.name {
            body.insert("config".into(), json!({"name": name}));
        }
        if let Some(accelerator) = &self.accelerator {
            body.insert("accelerator".into(), accelerator.clone().into());
        }
        if let Some(file) = &self.gguf_file {
            body.insert("ggufFile".into(), file.clone().into());
        }
        let url = self.api.catalog_url(&path);
        let subject = self.name.clone().unwrap_or_default();
        let (deployed, _) = self
            .api
            .send::<Deployed>(Method::POST, url, Some(&Value::Object(body)), &subject)
            .await?;
        InferenceEndpoint::from_value(self.api, namespace, deployed.endpoint)
    }
}

/// A query of the Inference Catalog being built; see [`InferenceEndpoints::catalog`].
#[derive(Clone, Debug)]
#[must_use = "nothing is listed until you call `send`"]
pub struct ListCatalog {
    api: InferenceEndpoints,
    filters: Vec<(&'static str, String)>,
}

impl ListCatalog {
    fn filter(mut self, key: &'static str, value: String) -> Self {
        self.filters.retain(|(k, _)| *k != key);
        self.filters.push((key, value));
        self
    }

    /// Only models with a recipe on this accelerator (`cpu`, `gpu`, `neuron`).
    pub fn accelerator(self, accelerator: impl Into<String>) -> Self {
        self.filter("accelerator", accelerator.into())
    }

    /// Only models with a recipe on this engine (`vllm`, `llamacpp`, `tei`, `sglang`).
    pub fn engine(self, engine: impl Into<String>) -> Self {
        self.filter("engine", engine.into())
    }

    /// Only models under this license.
    pub fn license(self, license: impl Into<String>) -> Self {
        self.filter("license", license.into())
    }

    /// Only models of this task.
    pub fn task(self, task: impl Into<String>) -> Self {
        self.filter("task", task.into())
    }

    /// Only models matching this text.
    pub fn search(self, text: impl Into<String>) -> Self {
        self.filter("search", text.into())
    }

    /// At most this many models.
    pub fn limit(self, limit: u32) -> Self {
        self.filter("limit", limit.to_string())
    }

    /// Lists the models.
    pub async fn send(self) -> Result<Vec<CatalogModel>> {
        #[derive(Deserialize)]
        struct Items {
            #[serde(default)]
            items: Vec<CatalogModel>,
        }
        const ORDER: [&str; 6] = [
            "accelerator",
            "engine",
            "license",
            "task",
            "search",
            "limit",
        ];
        let mut url = self.api.catalog_url("list");
        if !self.filters.is_empty() {
            let mut query = url.query_pairs_mut();
            for key in ORDER {
                if let Some((_, value)) = self.filters.iter().find(|(k, _)| *k == key) {
                    query.append_pair(key, value);
                }
            }
        }
        let (items, _) = self.api.send::<Items>(Method::GET, url, None, "").await?;
        Ok(items.items)
    }
}
