//! Choosing where a call goes: the provider (explicit, or `auto` through the Hub mapping), the
//! provider's model id, routed or direct mode, the URL and the credentials.
//!
//! The rules follow the reference client (huggingface_hub 2.4.0); deliberate differences are
//! listed in the crate docs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::OnceCell;
use url::Url;

use crate::client::{InferenceClient, ProviderChoice};
use crate::config::join_route;
use crate::error::{Error, HttpErrorContext, Result};
use crate::providers::{AuthScheme, Provider, ProviderSpec, Task, TaskSpec};

/// One entry of a model's Hub provider mapping.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ProviderMappingEntry {
    /// The provider, when this SDK knows it.
    pub provider: Option<Provider>,
    /// The provider id as the Hub spells it.
    pub provider_name: String,
    /// The model id on the provider's side.
    pub provider_id: String,
    /// `live`, `staging` or `error`.
    pub status: String,
    /// The Hub task id of the mapping (`conversational` for chat).
    pub task: String,
    /// `lora` for a LoRA adapter.
    pub adapter: Option<String>,
    /// Path of the adapter weights inside the repository.
    pub adapter_weights_path: Option<String>,
    /// Pinned by the caller (matches any task).
    pinned: bool,
}

impl ProviderMappingEntry {
    pub(crate) fn pinned(provider: Provider, provider_id: String) -> Self {
        Self {
            provider: Some(provider),
            provider_name: provider.as_str().to_owned(),
            provider_id,
            status: "live".to_owned(),
            task: String::new(),
            adapter: None,
            adapter_weights_path: None,
            pinned: true,
        }
    }

    fn serves(&self, task: Task) -> bool {
        self.pinned || task_matches(&self.task, task)
    }
}

/// Whether a Hub mapping task id names `task` (the Hub says `conversational` for chat).
fn task_matches(hub_task: &str, task: Task) -> bool {
    match hub_task.parse::<Task>() {
        Ok(t) => t == task,
        Err(_) => false,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEntry {
    #[serde(default)]
    provider: Option<String>,
    provider_id: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    task: Option<String>,
    #[serde(default)]
    adapter: Option<String>,
    #[serde(default)]
    adapter_weights_path: Option<String>,
}

/// Parses the `inferenceProviderMapping` value of a model (an object keyed by provider, in the
/// user's preference order, or the list form), skipping providers this SDK does not know.
pub(crate) fn parse_mapping(value: &Value) -> Result<Vec<ProviderMappingEntry>> {
    let pairs: Vec<(String, Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Value::Array(items) => items
            .iter()
            .map(|v| {
                let name = v
                    .get("provider")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                (name.to_owned(), v.clone())
            })
            .collect(),
        _ => {
            return Err(Error::Decode {
                target: "inferenceProviderMapping",
                message: "expected an object or a list".into(),
                body_excerpt: value.to_string().chars().take(200).collect(),
            });
        }
    };
    let mut out = Vec::new();
    for (name, entry) in pairs {
        let wire: WireEntry = match serde_json::from_value(entry) {
            Ok(w) => w,
            Err(e) => {
                tracing::debug!(provider = %name, error = %e, "skipping malformed mapping entry");
                continue;
            }
        };
        let name = if name.is_empty() {
            wire.provider.clone().unwrap_or_default()
        } else {
            name
        };
        let provider = name.parse::<Provider>().ok();
        if provider.is_none() {
            tracing::debug!(provider = %name, "skipping a provider this SDK does not know");
        }
        out.push(ProviderMappingEntry {
            provider,
            provider_name: name,
            provider_id: wire.provider_id,
            status: wire.status.unwrap_or_else(|| "live".into()),
            task: wire.task.unwrap_or_default(),
            adapter: wire.adapter,
            adapter_weights_path: wire.adapter_weights_path,
            pinned: false,
        });
    }
    Ok(out)
}

/// The once-initialized mapping of one model.
type MappingCell = Arc<OnceCell<Arc<Vec<ProviderMappingEntry>>>>;

/// Per-client cache of Hub mappings: one lookup per model, even under concurrency; failures are
/// not cached. It also holds the hf-inference lookups: the recommended models of `/api/tasks`
/// (one lookup per client) and the model infos of the task check (one per model).
#[derive(Default)]
pub(crate) struct MappingCache {
    cells: Mutex<HashMap<String, MappingCell>>,
    pinned: Mutex<HashMap<String, Vec<ProviderMappingEntry>>>,
    recommended: OnceCell<Arc<RecommendedModels>>,
    model_infos: Mutex<HashMap<String, ModelInfoCell>>,
}

/// The first widget model of each task of `GET {hub}/api/tasks`, by Hub task id (tasks without
/// one are left out).
type RecommendedModels = HashMap<String, String>;

/// The once-initialized Hub model info of one model.
type ModelInfoCell = Arc<OnceCell<Arc<HubModelInfo>>>;

/// The fields of `GET {hub}/api/models/{id}` the hf-inference task check reads.
#[derive(Debug, Deserialize)]
struct HubModelInfo {
    #[serde(default)]
    pipeline_tag: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl MappingCache {
    pub(crate) fn pin(&self, model: String, entry: ProviderMappingEntry) {
        self.pinned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(model)
            .or_default()
            .push(entry);
    }

    fn pinned_for(&self, model: &str) -> Vec<ProviderMappingEntry> {
        self.pinned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(model)
            .cloned()
            .unwrap_or_default()
    }

    fn cell(&self, model: &str) -> MappingCell {
        self.cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(model.to_owned())
            .or_default()
            .clone()
    }

    fn model_info_cell(&self, model: &str) -> ModelInfoCell {
        self.model_infos
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(model.to_owned())
            .or_default()
            .clone()
    }
}

impl InferenceClient {
    /// The provider mapping of a Hub model (cached per client): which providers serve it, under
    /// which id, for which task. Entries pinned with
    /// [`model_mapping`](crate::InferenceClientBuilder::model_mapping) come first.
    pub async fn provider_mapping(&self, model: &str) -> Result<Vec<ProviderMappingEntry>> {
        let mut entries = self.inner.mappings.pinned_for(model);
        let fetched = self.fetch_mapping(model).await?;
        entries.extend(fetched.iter().cloned());
        Ok(entries)
    }

    /// The mapping entries to route `model` with: the pinned ones alone when one of them
    /// `fits` (no Hub lookup, as [`model_mapping`](crate::InferenceClientBuilder::model_mapping)
    /// promises), else the pinned ones followed by the Hub's.
    async fn mapping_for(
        &self,
        model: &str,
        fits: impl Fn(&ProviderMappingEntry) -> bool,
    ) -> Result<Vec<ProviderMappingEntry>> {
        let pinned = self.inner.mappings.pinned_for(model);
        if pinned.iter().any(fits) {
            return Ok(pinned);
        }
        self.provider_mapping(model).await
    }

    async fn fetch_mapping(&self, model: &str) -> Result<Arc<Vec<ProviderMappingEntry>>> {
        let cell = self.inner.mappings.cell(model);
        cell.get_or_try_init(|| async {
            let not_found = || Error::ModelNotSupported {
                model: model.to_owned(),
                task: String::new(),
                provider: None,
                supported: Vec::new(),
            };
            let json: Value = self
                .hub_get_json(
                    &format!("/api/models/{model}"),
                    Some("expand=inferenceProviderMapping"),
                    "ModelInfo",
                )
                .await
                .map_err(|e| if_not_found(e, not_found))?;
            let mapping = json.get("inferenceProviderMapping").ok_or_else(not_found)?;
            Ok(Arc::new(parse_mapping(mapping)?))
        })
        .await
        .cloned()
    }

    /// `GET {hub}{path}` with the client's `hf_` token (if any), user agent and timeout, decoded
    /// as JSON (`target` names the type in a decoding error). A failure status is an HTTP error
    /// from `hf-hub`.
    async fn hub_get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: Option<&str>,
        target: &'static str,
    ) -> Result<T> {
        let mut url = join_route(&self.inner.endpoints.hub, path, None);
        url.set_query(query);
        let url = self.inner.endpoints.redirect(url);
        let mut request = self.inner.http.get(url.clone());
        if let Some(token) = self.inner.token.as_ref().filter(|t| t.is_hf_token()) {
            request = request.header(
                reqwest::header::AUTHORIZATION,
                token.header_value(Some("Bearer"))?,
            );
        }
        if let Some(ua) = self.inner.headers.get(reqwest::header::USER_AGENT) {
            request = request.header(reqwest::header::USER_AGENT, ua.clone());
        }
        if let Some(timeout) = self.inner.timeout {
            request = request.timeout(timeout);
        }
        let response = request.send().await.map_err(|e| {
            crate::http::transport::map_send_error(e, &url, self.timeout_for_errors())
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self.read_body(response).await?;
        if !status.is_success() {
            let context = HttpErrorContext::from_response_parts(
                status.as_u16(),
                &reqwest::Method::GET,
                &url,
                &headers,
                &body,
            );
            return Err(Error::from_http_context(
                context.with_provider("hf-hub"),
                None,
            ));
        }
        serde_json::from_slice(&body).map_err(|e| Error::Decode {
            target,
            message: e.to_string(),
            body_excerpt: String::from_utf8_lossy(&body[..body.len().min(1024)]).into_owned(),
        })
    }

    /// The recommended hf-inference model of `task`: the first `widgetModels` entry of
    /// `GET {hub}/api/tasks` (looked up once per client), under the task's Hub id
    /// (`conversational` for chat).
    async fn recommended_model(&self, task: Task) -> Result<String> {
        let models = self
            .inner
            .mappings
            .recommended
            .get_or_try_init(|| async {
                let json: Value = self.hub_get_json("/api/tasks", None, "tasks").await?;
                let Value::Object(tasks) = json else {
                    return Err(Error::Decode {
                        target: "tasks",
                        message: "expected an object keyed by task".into(),
                        body_excerpt: json.to_string().chars().take(200).collect(),
                    });
                };
                let first_widget_model = |details: &Value| {
                    details
                        .get("widgetModels")?
                        .as_array()?
                        .first()?
                        .as_str()
                        .filter(|m| !m.is_empty())
                        .map(str::to_owned)
                };
                Ok(Arc::new(
                    tasks
                        .iter()
                        .filter_map(|(task, details)| {
                            Some((task.clone(), first_widget_model(details)?))
                        })
                        .collect::<RecommendedModels>(),
                ))
            })
            .await?;
        let model = models
            .get(task.mapping_id())
            .cloned()
            .ok_or_else(|| Error::InvalidInput {
                field: "model".into(),
                message: format!(
                    "no model given for `{task}`, and the Hub recommends none for HF Inference \
                 (task `{}` of /api/tasks); a model must be given: set one on the call \
                 (`.model(\"org/name\")`) or on the client",
                    task.mapping_id()
                ),
            })?;
        tracing::info!(model = %model, task = %task, "no model given: using the model the Hub recommends for HF Inference; set one explicitly, as the recommendation may change");
        Ok(model)
    }

    /// The hf-inference model id of a Hub model: the model itself (hf-inference serves Hub
    /// ids; as in the reference, no mapping renames them), once the Hub says it can do `task`.
    /// The check is skipped when it is turned off, or when
    /// [`model_mapping`](crate::InferenceClientBuilder::model_mapping) pins the model for
    /// hf-inference (the caller vouches for it: no Hub lookup).
    async fn hf_inference_model_id(&self, task: Task, model: &str) -> Result<String> {
        let pinned = self
            .inner
            .mappings
            .pinned_for(model)
            .iter()
            .any(|e| e.provider == Some(Provider::HfInference));
        if self.inner.check_model_task && !pinned {
            self.check_hf_inference_task(task, model).await?;
        }
        Ok(model.to_owned())
    }

    /// The reference's task check for hf-inference: `GET {hub}/api/models/{id}` (once per model
    /// and client), then [`hf_inference_serves`] on its `pipeline_tag` and `tags`.
    async fn check_hf_inference_task(&self, task: Task, model: &str) -> Result<()> {
        let cell = self.inner.mappings.model_info_cell(model);
        let info = cell
            .get_or_try_init(|| async {
                let not_found = || Error::ModelNotSupported {
                    model: model.to_owned(),
                    task: task.as_str().to_owned(),
                    provider: Some(Provider::HfInference.as_str().to_owned()),
                    supported: Vec::new(),
                };
                let info: HubModelInfo = self
                    .hub_get_json(&format!("/api/models/{model}"), None, "ModelInfo")
                    .await
                    .map_err(|e| if_not_found(e, not_found))?;
                Ok::<_, Error>(Arc::new(info))
            })
            .await?;
        let pipeline_tag = info.pipeline_tag.as_deref();
        let tags = info.tags.as_deref().unwrap_or_default();
        if hf_inference_serves(task.mapping_id(), pipeline_tag, tags) {
            return Ok(());
        }
        Err(Error::TaskNotSupported {
            model: model.to_owned(),
            task: task.as_str().to_owned(),
            provider: Some(Provider::HfInference.as_str().to_owned()),
            supported: pipeline_tag.map(str::to_owned).into_iter().collect(),
        })
    }
}

/// `not_found()` in place of a 404 from the Hub.
fn if_not_found(error: Error, not_found: impl FnOnce() -> Error) -> Error {
    if error.status() == Some(404) {
        not_found()
    } else {
        error
    }
}

/// The task rules of the reference (2.4.0) for hf-inference, on the Hub task id (`task`;
/// `conversational` for chat) and the model's `pipeline_tag` and `tags`.
fn hf_inference_serves(task: &str, pipeline_tag: Option<&str>, tags: &[String]) -> bool {
    const TEXT_GENERATION: &str = "text-generation";
    const CONVERSATIONAL: &str = "conversational";
    const EMBEDDINGS: [&str; 2] = ["feature-extraction", "sentence-similarity"];
    match pipeline_tag {
        Some(TEXT_GENERATION) if task == TEXT_GENERATION || task == CONVERSATIONAL => true,
        Some("text2text-generation") => task == TEXT_GENERATION,
        Some("image-text-to-text") => task == CONVERSATIONAL,
        Some(tag)
            if EMBEDDINGS.contains(&tag)
                && EMBEDDINGS.contains(&task)
                && tags.iter().any(|t| t == task) =>
        {
            true
        }
        tag => tag == Some(task),
    }
}

/// Routed (through the Hugging Face router, with an `hf_` token) or direct (to the provider's
/// own host, with its key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// Through `router.huggingface.co/<provider>`.
    Routed,
    /// Straight to the provider.
    Direct,
    /// A URL given by the caller (Inference Endpoint or local server).
    Url,
}

/// Where one call goes and with which credentials.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    /// `None` for the auto-router and URL models.
    pub provider: Option<Provider>,
    /// The table entry; `None` for the auto-router and URL models, except a URL that names an
    /// OpenAI completions or embeddings route (see [`openai_route_spec`]).
    pub spec: Option<&'static TaskSpec>,
    pub task: Task,
    pub mode: Mode,
    pub url: Url,
    /// The Hub model id (or URL) that was asked for, for logs and errors.
    pub model: String,
    /// The provider's model id, sent as `model` in OpenAI-style payloads.
    pub provider_model_id: Option<String>,
    /// The authentication header, if any.
    pub auth: Option<(HeaderName, HeaderValue)>,
    /// The LoRA weights file inside the Hub repository, when the mapping says the model is a
    /// LoRA adapter (`adapter: "lora"`, `adapterWeightsPath`).
    pub lora_weights_path: Option<String>,
}

impl Target {
    /// The provider id for logs and error contexts.
    pub(crate) fn provider_label(&self) -> &'static str {
        match (self.provider, self.mode) {
            (Some(p), _) => p.as_str(),
            (None, Mode::Url) => "url",
            (None, _) => "auto",
        }
    }
}

/// What the caller asked for on one call.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallOptions {
    pub model: Option<String>,
    pub provider: Option<ProviderChoice>,
    /// Which table entries the calling engine speaks; `auto` picks only among those.
    pub engine_speaks: Option<fn(Provider, &TaskSpec) -> bool>,
}

/// Whether a model string is a URL (an Inference Endpoint or a local server) rather than a Hub
/// id.
pub(crate) fn is_url(model: &str) -> bool {
    model.starts_with("http://") || model.starts_with("https://")
}

/// The chat-URL suffix rules of the reference: keep `/chat/completions`, append
/// `/chat/completions` after `/v1`, else append `/v1/chat/completions`; the query is kept.
/// A server URL given as the model, with its chat-completion route.
#[derive(Clone, Debug)]
pub(crate) struct UrlModel {
    base: Url,
    chat: Url,
}

impl UrlModel {
    fn new(base: Url) -> Self {
        let chat = chat_completion_url(&base);
        Self { base, chat }
    }
}

/// The URL models a client was last called with, parsed. A client is usually called again and
/// again with the same server URL, and parsing it (and deriving its chat route) costs about as
/// much as the rest of preparing the call.
#[derive(Debug, Default)]
pub(crate) struct UrlModelCache(Mutex<Vec<(Box<str>, UrlModel)>>);

impl UrlModelCache {
    /// Servers remembered; the oldest goes first.
    const CAPACITY: usize = 16;

    fn get(&self, text: &str) -> std::result::Result<UrlModel, url::ParseError> {
        let lock = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, model)) = lock().iter().find(|(key, _)| **key == *text) {
            return Ok(model.clone());
        }
        let model = UrlModel::new(Url::parse(text)?);
        let mut cache = lock();
        if cache.len() >= Self::CAPACITY {
            cache.remove(0);
        }
        cache.push((text.into(), model.clone()));
        Ok(model)
    }
}

pub(crate) fn chat_completion_url(base: &Url) -> Url {
    let path = base.path().trim_end_matches('/');
    let mut url = base.clone();
    if path.ends_with("/chat/completions") {
        url.set_path(path);
    } else if path.ends_with("/v1") {
        url.set_path(&format!("{path}/chat/completions"));
    } else {
        url.set_path(&format!("{path}/v1/chat/completions"));
    }
    url
}

/// The wire format of a URL model that names an OpenAI-compatible route for a non-chat task
/// (`…/v1/completions` for text generation, `…/v1/embeddings` for feature extraction). Such a
/// URL gets the OpenAI body and answer (`prompt` / `input`, `choices` / `data`): no server takes
/// the TGI/hf-inference body there (llama.cpp's `llama-server` has no TGI route at all). Any
/// other URL is called as given, with the hf-inference format, as the reference does.
pub(crate) fn openai_route_spec(task: Task, url: &Url) -> Option<&'static TaskSpec> {
    let path = url.path().trim_end_matches('/');
    match task {
        Task::TextGeneration if path.ends_with("/v1/completions") => Some(&URL_OPENAI_COMPLETIONS),
        Task::FeatureExtraction if path.ends_with("/v1/embeddings") => Some(&URL_OPENAI_EMBEDDINGS),
        _ => None,
    }
}

/// Text generation on a URL model's `/v1/completions` route.
static URL_OPENAI_COMPLETIONS: TaskSpec = TaskSpec {
    task: Task::TextGeneration,
    method: crate::providers::HttpMethod::Post,
    route: "/v1/completions",
    versioned_route: None,
    host: None,
    routed_query: None,
    body: crate::providers::BodyKind::Json,
    payload: crate::providers::PayloadStyle::OpenAiCompletions,
    json_schema_format: None,
    renames: &[("max_new_tokens", "max_tokens")],
    response: crate::providers::ResponseStyle::OpenAiCompletions,
    result_pointer: None,
    polling: crate::providers::Polling::None,
    stream: crate::providers::StreamStyle::OpenAiCompletions,
};

/// Feature extraction on a URL model's `/v1/embeddings` route.
static URL_OPENAI_EMBEDDINGS: TaskSpec = TaskSpec {
    task: Task::FeatureExtraction,
    method: crate::providers::HttpMethod::Post,
    route: "/v1/embeddings",
    versioned_route: None,
    host: None,
    routed_query: None,
    body: crate::providers::BodyKind::Json,
    payload: crate::providers::PayloadStyle::OpenAiEmbeddings,
    json_schema_format: None,
    renames: &[],
    response: crate::providers::ResponseStyle::OpenAiEmbeddings,
    result_pointer: None,
    polling: crate::providers::Polling::None,
    stream: crate::providers::StreamStyle::None,
};

impl InferenceClient {
    /// Resolves a call to its target. Every check that needs no network runs first, so bad
    /// input fails before any traffic.
    pub(crate) async fn resolve(&self, task: Task, call: &CallOptions) -> Result<Target> {
        let inner = &self.inner;
        let choice = call.provider.unwrap_or(inner.provider);

        // A URL model: the URL is the server; the call's model (if any) is the payload model.
        let url_model = match (&inner.base_url, call.model.as_deref()) {
            (_, Some(m)) if is_url(m) => Some((
                inner.url_models.get(m).map_err(|e| Error::InvalidInput {
                    field: "model".into(),
                    message: format!("invalid URL: {e}"),
                })?,
                None,
            )),
            (Some(base), m) => Some((
                inner
                    .url_models
                    .get(base.as_str())
                    .unwrap_or_else(|_| UrlModel::new(base.clone())),
                m.map(str::to_owned),
            )),
            _ => None,
        };
        if let Some((UrlModel { base, chat }, payload_model)) = url_model {
            if let ProviderChoice::Provider(p) = choice
                && p != Provider::HfInference
            {
                return Err(Error::InvalidInput {
                    field: "provider".into(),
                    message: format!(
                        "the model is a URL ({}), which names the server to call; it cannot \
                         also go to provider `{p}`. Drop the provider, or give a Hub model id",
                        crate::error::redact_url(&base)
                    ),
                });
            }
            let (url, spec) = if task == Task::ChatCompletion {
                (chat, None)
            } else {
                (base.clone(), openai_route_spec(task, &base))
            };
            let auth = match &inner.token {
                Some(token) => Some((
                    reqwest::header::AUTHORIZATION,
                    token.header_value(Some("Bearer"))?,
                )),
                None => None,
            };
            return Ok(Target {
                provider: None,
                spec,
                task,
                mode: Mode::Url,
                url: inner.endpoints.redirect(url),
                model: base.to_string(),
                provider_model_id: payload_model,
                auth,
                lora_weights_path: None,
            });
        }

        // No model: hf-inference, when chosen explicitly, takes the Hub's recommended model
        // (looked up once the checks that need no network have passed); the others need one.
        let no_model = || Error::InvalidInput {
            field: "model".into(),
            message: format!(
                "no model given for `{task}`: set one on the call (`.model(\"org/name\")`) or on the client"
            ),
        };
        let model = call.model.clone().or_else(|| inner.model.clone());
        if model.is_none() && choice != ProviderChoice::Provider(Provider::HfInference) {
            return Err(no_model());
        }
        if model.as_deref().is_some_and(|m| m.trim().is_empty()) {
            return Err(Error::InvalidInput {
                field: "model".into(),
                message: "the model id is empty".into(),
            });
        }
        if let Some(model) = &model {
            crate::tasks::validate::model_id(model)?;
        }

        let provider = match (choice, &model) {
            (ProviderChoice::Provider(p), _) => p,
            (ProviderChoice::Auto, None) => return Err(no_model()),
            (ProviderChoice::Auto, Some(model)) if task == Task::ChatCompletion => {
                return self.auto_router_target(task, model.clone());
            }
            // No provider serves the task: say so before asking the Hub anything.
            (ProviderChoice::Auto, Some(_)) if task.providers().is_empty() => {
                return Err(Error::ProviderNotSupported {
                    provider: "auto".into(),
                    task: task.as_str().to_owned(),
                    supported: Vec::new(),
                });
            }
            (ProviderChoice::Auto, Some(model)) => {
                self.auto_provider(task, model, call.engine_speaks).await?
            }
        };

        let spec = provider.spec();
        let task_spec = spec.task(task).ok_or_else(|| Error::ProviderNotSupported {
            provider: provider.as_str().to_owned(),
            task: task.as_str().to_owned(),
            supported: task
                .providers()
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
        })?;

        let token = inner.token.as_ref();
        if token.is_none() && spec.token_required {
            return Err(Error::MissingToken {
                provider: provider.as_str().to_owned(),
            });
        }
        let routed = match token {
            Some(t) if t.is_hf_token() => true,
            Some(_) => false,
            None => true,
        };
        let mode = if routed && spec.is_routed() {
            Mode::Routed
        } else if !routed && spec.is_direct() {
            Mode::Direct
        } else if routed {
            return Err(Error::InvalidInput {
                field: "token".into(),
                message: format!(
                    "provider `{provider}` is not available through the Hugging Face router; \
                     pass its own API key instead of a Hugging Face token"
                ),
            });
        } else {
            // A provider key for a routed-only provider (hf-inference): the router decides.
            Mode::Routed
        };
        if spec.status == crate::providers::ProviderStatus::Removed && mode == Mode::Routed {
            tracing::warn!(provider = %provider, "provider was removed from the Hugging Face router; routed calls are likely to fail");
        }

        let model = match model {
            Some(model) => model,
            None => self.recommended_model(task).await?,
        };

        // The provider's model id.
        let mut lora_weights_path = None;
        let provider_model_id = if spec.hub_mapping {
            let entries = self
                .mapping_for(&model, |e| e.provider == Some(provider) && e.serves(task))
                .await?;
            let entry = entries
                .iter()
                .find(|e| e.provider == Some(provider) && e.serves(task))
                .cloned();
            let Some(entry) = entry else {
                let supported: Vec<String> = entries
                    .iter()
                    .filter(|e| e.serves(task))
                    .filter_map(|e| e.provider.map(|p| p.as_str().to_owned()))
                    .collect();
                if let Some(other) = entries.iter().find(|e| e.provider == Some(provider)) {
                    return Err(Error::TaskNotSupported {
                        model: model.clone(),
                        task: task.as_str().to_owned(),
                        provider: Some(provider.as_str().to_owned()),
                        supported: vec![other.task.clone()],
                    });
                }
                return Err(Error::ModelNotSupported {
                    model: model.clone(),
                    task: task.as_str().to_owned(),
                    provider: Some(provider.as_str().to_owned()),
                    supported,
                });
            };
            match entry.status.as_str() {
                "staging" => {
                    tracing::warn!(model = %model, provider = %provider, "model is in staging mode for this provider; meant for tests only")
                }
                "error" => {
                    tracing::warn!(model = %model, provider = %provider, "the latest health check of this model failed; the call may fail")
                }
                _ => {}
            }
            if entry.adapter.as_deref() == Some("lora") {
                lora_weights_path = entry.adapter_weights_path.clone();
            }
            entry.provider_id.clone()
        } else if provider == Provider::HfInference {
            self.hf_inference_model_id(task, &model).await?
        } else {
            model.clone()
        };

        let (route, versioned) =
            match (task_spec.versioned_route, provider_model_id.split_once(':')) {
                (Some(route), Some(_)) => (route, true),
                _ => (task_spec.route, false),
            };
        let _ = versioned;
        let route = route
            .replace("{provider_id}", &provider_model_id)
            .replace("{model}", &model);
        let url = match mode {
            Mode::Routed => {
                let prefix = spec.routed_prefix.unwrap_or_default();
                let base = join_route(&inner.endpoints.router, prefix, None);
                join_route(&base, &route, task_spec.routed_query)
            }
            _ => {
                let host = task_spec.host.ok_or_else(|| {
                    Error::Config(format!(
                        "provider `{provider}` has no direct host for `{task}`"
                    ))
                })?;
                let base = inner.endpoints.provider_host(spec, host)?;
                join_route(&base, &route, None)
            }
        };
        let auth = match (token, mode) {
            (None, _) => None,
            (Some(t), Mode::Routed) => Some((
                reqwest::header::AUTHORIZATION,
                t.header_value(Some("Bearer"))?,
            )),
            (Some(t), _) => Some(auth_header(spec, t)?),
        };
        Ok(Target {
            provider: Some(provider),
            spec: Some(task_spec),
            task,
            mode,
            url: inner.endpoints.redirect(url),
            model,
            provider_model_id: Some(provider_model_id),
            auth,
            lora_weights_path,
        })
    }

    fn auto_router_target(&self, task: Task, model: String) -> Result<Target> {
        let inner = &self.inner;
        let token = inner.token.as_ref().ok_or_else(|| Error::MissingToken {
            provider: "auto".into(),
        })?;
        if !token.is_hf_token() {
            return Err(Error::InvalidInput {
                field: "provider".into(),
                message: "automatic provider selection for chat goes through the Hugging Face \
                          router and needs a Hugging Face token (hf_…); with a provider's own key, \
                          choose that provider explicitly"
                    .into(),
            });
        }
        let url = join_route(
            &inner.endpoints.router,
            crate::providers::AUTO_ROUTER_CHAT_ROUTE,
            None,
        );
        Ok(Target {
            provider: None,
            spec: None,
            task,
            mode: Mode::Routed,
            url: inner.endpoints.redirect(url),
            provider_model_id: Some(model.clone()),
            model,
            auth: Some((
                reqwest::header::AUTHORIZATION,
                token.header_value(Some("Bearer"))?,
            )),
            lora_weights_path: None,
        })
    }

    /// `auto` for tasks other than chat: the first provider of the model's mapping (the user's
    /// preference order) that this SDK knows and that serves the task.
    async fn auto_provider(
        &self,
        task: Task,
        model: &str,
        engine_speaks: Option<fn(Provider, &TaskSpec) -> bool>,
    ) -> Result<Provider> {
        let usable = |e: &ProviderMappingEntry| {
            e.serves(task)
                && e.provider.is_some_and(|p| {
                    p.spec()
                        .task(task)
                        .is_some_and(|spec| engine_speaks.is_none_or(|speaks| speaks(p, spec)))
                })
        };
        let entries = self.mapping_for(model, usable).await?;
        let chosen = entries.iter().find(|e| usable(e)).and_then(|e| e.provider);
        chosen.ok_or_else(|| Error::ModelNotSupported {
            model: model.to_owned(),
            task: task.as_str().to_owned(),
            provider: None,
            supported: entries
                .iter()
                .filter(|e| e.serves(task))
                .map(|e| e.provider_name.clone())
                .collect(),
        })
    }
}

fn auth_header(
    spec: &ProviderSpec,
    token: &crate::secret::Token,
) -> Result<(HeaderName, HeaderValue)> {
    Ok(match spec.auth {
        AuthScheme::Key => (
            reqwest::header::AUTHORIZATION,
            token.header_value(Some("Key"))?,
        ),
        AuthScheme::XKey => (HeaderName::from_static("x-key"), token.header_value(None)?),
        _ => (
            reqwest::header::AUTHORIZATION,
            token.header_value(Some("Bearer"))?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_models_are_parsed_once_and_remembered_up_to_the_capacity() {
        let cache = UrlModelCache::default();
        let first = cache.get("http://127.0.0.1:8080/v1").unwrap();
        assert_eq!(
            first.chat.as_str(),
            "http://127.0.0.1:8080/v1/chat/completions"
        );
        assert_eq!(first.base.as_str(), "http://127.0.0.1:8080/v1");
        // The same text again: the remembered entry (equal, and no second one).
        let again = cache.get("http://127.0.0.1:8080/v1").unwrap();
        assert_eq!((again.base, again.chat), (first.base, first.chat));
        assert_eq!(cache.0.lock().unwrap().len(), 1);
        // Bad URLs are errors and are not remembered.
        assert!(cache.get("http://[::1").is_err());
        assert_eq!(cache.0.lock().unwrap().len(), 1);
        // Past the capacity the oldest goes; every answer stays right.
        for port in 0..UrlModelCache::CAPACITY as u16 + 3 {
            let url = format!("http://localhost:{}/", 9000 + port);
            assert_eq!(cache.get(&url).unwrap().base.as_str(), url);
        }
        let cached = cache.0.lock().unwrap();
        assert_eq!(cached.len(), UrlModelCache::CAPACITY);
        assert!(cached.iter().all(|(key, _)| !key.contains(":8080")));
    }
    use serde_json::json;

    #[test]
    fn only_the_openai_v1_routes_switch_a_url_model_to_the_openai_format() {
        let spec = |task, url: &str| {
            openai_route_spec(task, &Url::parse(url).unwrap()).map(|s| (s.payload, s.response))
        };
        use crate::providers::{PayloadStyle as P, ResponseStyle as R};
        let completions = Some((P::OpenAiCompletions, R::OpenAiCompletions));
        let embeddings = Some((P::OpenAiEmbeddings, R::OpenAiEmbeddings));
        let tg = Task::TextGeneration;
        let fe = Task::FeatureExtraction;
        assert_eq!(
            spec(tg, "http://127.0.0.1:8080/v1/completions"),
            completions
        );
        assert_eq!(
            spec(tg, "http://127.0.0.1:8080/v1/completions/"),
            completions
        );
        assert_eq!(spec(fe, "http://127.0.0.1:8080/v1/embeddings"), embeddings);
        // Everything else keeps the reference's TGI/hf-inference format at the URL as given.
        for (task, url) in [
            (tg, "http://127.0.0.1:8080/v1/"),
            (tg, "http://127.0.0.1:8080/v1/chat/completions"),
            (tg, "http://127.0.0.1:8080/completions"),
            (tg, "http://127.0.0.1:8080/v1/embeddings"),
            (fe, "http://127.0.0.1:8080/v1"),
            (fe, "http://127.0.0.1:8080/embed"),
            (fe, "http://127.0.0.1:8080/v1/completions"),
            (
                Task::SentenceSimilarity,
                "http://127.0.0.1:8080/v1/embeddings",
            ),
        ] {
            assert_eq!(spec(task, url), None, "{task} {url}");
        }
    }

    #[test]
    fn chat_url_suffix_rules() {
        let cases = [
            (
                "http://localhost:8080",
                "http://localhost:8080/v1/chat/completions",
            ),
            (
                "http://localhost:8080/",
                "http://localhost:8080/v1/chat/completions",
            ),
            (
                "http://localhost:8080/v1",
                "http://localhost:8080/v1/chat/completions",
            ),
            (
                "http://localhost:8080/v1/",
                "http://localhost:8080/v1/chat/completions",
            ),
            (
                "http://localhost:8080/v1/chat/completions",
                "http://localhost:8080/v1/chat/completions",
            ),
            (
                "https://ep.endpoints.huggingface.cloud/",
                "https://ep.endpoints.huggingface.cloud/v1/chat/completions",
            ),
            (
                "https://x/openai/deployments/d",
                "https://x/openai/deployments/d/v1/chat/completions",
            ),
            (
                "https://x/?api-version=1",
                "https://x/v1/chat/completions?api-version=1",
            ),
            (
                "https://x/v1?api-version=1",
                "https://x/v1/chat/completions?api-version=1",
            ),
            ("https://x/chat/completions", "https://x/chat/completions"),
            (
                "https://x/models/m",
                "https://x/models/m/v1/chat/completions",
            ),
        ];
        for (base, expected) in cases {
            assert_eq!(
                chat_completion_url(&Url::parse(base).unwrap()).as_str(),
                expected,
                "{base}"
            );
        }
    }

    #[test]
    fn hf_inference_task_rules_of_the_reference() {
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let none = tags(&[]);
        let both = tags(&["feature-extraction", "sentence-similarity"]);
        let fe_only = tags(&["feature-extraction"]);
        // (task as the Hub names it, pipeline tag, tags, allowed)
        let cases: &[(&str, Option<&str>, &[String], bool)] = &[
            ("text-generation", Some("text-generation"), &none, true),
            ("conversational", Some("text-generation"), &none, true),
            ("summarization", Some("text-generation"), &none, false),
            ("text-generation", Some("text2text-generation"), &none, true),
            ("conversational", Some("text2text-generation"), &none, false),
            (
                "text2text-generation",
                Some("text2text-generation"),
                &none,
                false,
            ),
            ("conversational", Some("image-text-to-text"), &none, true),
            ("text-generation", Some("image-text-to-text"), &none, false),
            (
                "image-text-to-text",
                Some("image-text-to-text"),
                &none,
                false,
            ),
            (
                "sentence-similarity",
                Some("feature-extraction"),
                &both,
                true,
            ),
            (
                "feature-extraction",
                Some("sentence-similarity"),
                &both,
                true,
            ),
            (
                "sentence-similarity",
                Some("feature-extraction"),
                &fe_only,
                false,
            ),
            (
                "feature-extraction",
                Some("feature-extraction"),
                &none,
                true,
            ),
            (
                "text-classification",
                Some("feature-extraction"),
                &both,
                false,
            ),
            ("fill-mask", Some("fill-mask"), &none, true),
            ("fill-mask", Some("text-classification"), &none, false),
            ("fill-mask", None, &none, false),
        ];
        for (task, pipeline_tag, tags, allowed) in cases {
            assert_eq!(
                hf_inference_serves(task, *pipeline_tag, tags),
                *allowed,
                "{task} on a {pipeline_tag:?} model with tags {tags:?}"
            );
        }
    }

    #[test]
    fn mapping_keeps_order_and_skips_unknown_providers() {
        let mapping = json!({
            "some-new-provider": {"providerId": "x", "task": "conversational", "status": "live"},
            "together": {"providerId": "meta/llama", "task": "conversational", "status": "live"},
            "fal-ai": {"providerId": "fal-ai/flux/dev", "task": "text-to-image", "status": "staging",
                       "adapter": "lora", "adapterWeightsPath": "w.safetensors"}
        });
        let entries = parse_mapping(&mapping).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].provider, None);
        assert_eq!(entries[1].provider, Some(Provider::Together));
        assert!(entries[1].serves(Task::ChatCompletion));
        assert!(entries[2].serves(Task::TextToImage));
        assert_eq!(
            entries[2].adapter_weights_path.as_deref(),
            Some("w.safetensors")
        );
        let list = json!([{"provider": "groq", "providerId": "g", "task": "conversational"}]);
        assert_eq!(
            parse_mapping(&list).unwrap()[0].provider,
            Some(Provider::Groq)
        );
    }
}
