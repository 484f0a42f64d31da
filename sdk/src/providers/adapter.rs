//! The seam between the generic task engine and the provider-specific code: building a body the
//! table cannot describe (`payload = "provider"`), following an asynchronous job, and turning
//! the final answer into the task output (base64 in JSON, a file URL to download, or a
//! provider-specific shape).
//!
//! A provider's quirks live in its own file (`fal_ai.rs`, `together.rs`, …); this module only
//! dispatches.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::binary::{BinaryInput, Blob};
use crate::client::InferenceClient;
use crate::error::{Error, Result};
use crate::http::transport::PreparedRequest;
use crate::providers::{BodyKind, PayloadStyle, Polling, Provider, ResponseStyle, Task, TaskSpec};
use crate::routing::Target;

use super::jobs::JobOptions;

/// Everything a provider's code may need to build a request and read its answer.
pub(crate) struct Call<'a> {
    /// The client (HTTP pool, endpoints, timeout).
    pub client: &'a InferenceClient,
    /// Where the call goes.
    pub target: &'a Target,
    /// The task.
    pub task: Task,
    /// The typed input as wire JSON (`{"inputs": …, "parameters": {…}}`), binary fields still
    /// empty.
    pub input: Map<String, Value>,
    /// Binary inputs by JSON pointer, not yet read: a provider that accepts URLs passes an
    /// http(s) URL through instead of downloading it.
    pub binary: &'a [(&'static str, BinaryInput)],
    /// Polling settings of the call.
    pub jobs: &'a JobOptions,
}

impl Call<'_> {
    /// The table entry of the call.
    pub(crate) fn spec(&self) -> Result<&'static TaskSpec> {
        self.target
            .spec
            .ok_or_else(|| Error::Config("a provider call without a table entry".into()))
    }

    /// The provider of the call.
    pub(crate) fn provider(&self) -> Result<Provider> {
        self.target
            .provider
            .ok_or_else(|| Error::Config("a provider call without a provider".into()))
    }

    /// The `inputs` value (a prompt, text).
    pub(crate) fn inputs(&self) -> Option<&Value> {
        self.input.get("inputs")
    }

    /// The parameters object (empty when none were set).
    pub(crate) fn parameters(&self) -> Map<String, Value> {
        match self.input.get("parameters") {
            Some(Value::Object(params)) => params.clone(),
            _ => Map::new(),
        }
    }

    /// The parameters as flat provider bodies spread them: the task's `parameters`, then the
    /// call's `extra_body` fields (everything at the root of the wire input but `inputs` and
    /// `parameters`; these win), with `null`s dropped as the reference's `filter_none` does.
    pub(crate) fn wire_parameters(&self) -> Map<String, Value> {
        let mut params = self.parameters();
        for (key, value) in &self.input {
            if key != "inputs" && key != "parameters" {
                params.insert(key.clone(), value.clone());
            }
        }
        match filter_none(Value::Object(params)) {
            Value::Object(params) => params,
            _ => Map::new(),
        }
    }

    /// The first binary input (the image or audio of the task).
    pub(crate) fn first_binary(&self) -> Option<&BinaryInput> {
        self.binary.first().map(|(_, b)| b)
    }

    /// An http(s) URL passed through, anything else as a `data:` URL.
    pub(crate) async fn binary_as_url(
        &self,
        input: &BinaryInput,
        default_mime: &str,
    ) -> Result<String> {
        input
            .clone()
            .to_url_or_data_url(&self.client.inner.http, default_mime)
            .await
    }

    /// Downloads a file the provider produced: no credentials, host redirects applied.
    pub(crate) async fn download(&self, url: &str) -> Result<Blob> {
        if url.starts_with("data:") {
            return Blob::from_base64(url, None);
        }
        let parsed = url::Url::parse(url).map_err(|e| Error::Decode {
            target: "file URL",
            message: format!("the provider returned an invalid URL: {e}"),
            body_excerpt: url.chars().take(200).collect(),
        })?;
        let redirected = self.client.inner.endpoints.redirect(parsed);
        BinaryInput::from_url(redirected.as_str())?
            .load_capped(
                &self.client.inner.http,
                self.client.inner.max_response_bytes,
            )
            .await
    }
}

/// The reference's `filter_none`: drops `null` members of objects, recursively (through objects
/// and the objects inside lists); `null` list items, `0`, `""`, `[]` and `false` stay.
pub(crate) fn filter_none(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, filter_none(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(filter_none).collect()),
        other => other,
    }
}

/// Whether a table entry goes through this module (rather than the engine's generic formats).
pub(crate) fn handles(spec: &TaskSpec) -> bool {
    spec.payload == PayloadStyle::Provider
        || spec.polling != Polling::None
        || matches!(
            spec.response,
            ResponseStyle::Base64 | ResponseStyle::AssetUrl | ResponseStyle::Provider
        )
}

/// Whether this SDK version has the provider-specific code for the entry.
pub(crate) fn implemented(provider: Provider, task: Task) -> bool {
    match provider {
        Provider::BlackForestLabs => super::black_forest_labs::implements(task),
        Provider::Deepinfra => super::deepinfra::implements(task),
        Provider::FalAi => super::fal_ai::implements(task),
        Provider::Nebius => super::nebius::implements(task),
        Provider::Novita => super::novita::implements(task),
        Provider::Nscale => super::nscale::implements(task),
        Provider::Replicate => super::replicate::implements(task),
        Provider::Together => super::together::implements(task),
        Provider::Wavespeed => super::wavespeed::implements(task),
        Provider::ZaiOrg => super::zai_org::implements(task),
        Provider::Hyperbolic => super::hyperbolic::implements(task),
        _ => false,
    }
}

/// Builds the provider-specific body of a call.
pub(crate) async fn body(call: &Call<'_>) -> Result<Value> {
    match call.provider()? {
        Provider::BlackForestLabs => super::black_forest_labs::body(call).await,
        Provider::Deepinfra => super::deepinfra::body(call).await,
        Provider::FalAi => super::fal_ai::body(call).await,
        Provider::Nebius => super::nebius::body(call).await,
        Provider::Novita => super::novita::body(call).await,
        Provider::Nscale => super::nscale::body(call).await,
        Provider::Replicate => super::replicate::body(call).await,
        Provider::Together => super::together::body(call).await,
        Provider::Wavespeed => super::wavespeed::body(call).await,
        Provider::ZaiOrg => super::zai_org::body(call).await,
        Provider::Hyperbolic => super::hyperbolic::body(call).await,
        other => Err(not_implemented(other, call.task)),
    }
}

/// The first request of a call: the provider's JSON body, or its form for a `body =
/// "multipart"` entry.
pub(crate) async fn request(call: &Call<'_>) -> Result<PreparedRequest> {
    if call.spec()?.body == BodyKind::Multipart {
        let (boundary, form) = match call.provider()? {
            Provider::Deepinfra => super::deepinfra::multipart(call).await?,
            other => return Err(not_implemented(other, call.task)),
        };
        return PreparedRequest::multipart(call.client, call.target, &boundary, form);
    }
    let mut request = PreparedRequest::json(call.client, call.target, &body(call).await?)?;
    if call.provider()? == Provider::FalAi {
        super::fal_ai::adjust_url(call, &mut request);
    }
    Ok(request)
}

/// Sends the first request and follows the job, if any, to the final answer's JSON.
pub(crate) async fn run(call: &Call<'_>, request: &PreparedRequest) -> Result<Answer> {
    let response = call.client.execute(request, false).await?;
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = call.client.read_body(response).await?;
    let is_json = content_type.as_deref().is_some_and(|t| t.contains("json"))
        || (content_type.is_none() && body.first() == Some(&b'{'));
    if !is_json {
        // A file answered directly.
        return Ok(Answer::File(Blob::new(body, content_type)));
    }
    let first: Value =
        serde_json::from_slice(&body).map_err(|e| Error::decode::<Value>(e, &body))?;
    after_first(call, request, first).await
}

/// Everything after the first answer of a call: the job it started, if any, followed to its
/// end, then the entry's response style applied.
pub(crate) async fn after_first(
    call: &Call<'_>,
    request: &PreparedRequest,
    first: Value,
) -> Result<Answer> {
    let spec = call.spec()?;
    let last = match spec.polling {
        // A `prefer: wait` answer may be unfinished or failed: replicate.rs decides.
        Polling::ReplicateWait => super::replicate::settle(call, request, first).await?,
        polling => super::jobs::follow(call, polling, request, first).await?,
    };
    finish(call, spec, last).await
}

/// The answer of a call in the form the engine decodes.
pub(crate) enum Answer {
    /// A JSON document (decoded as the task output type).
    Json(Value),
    /// A file.
    File(Blob),
}

impl Answer {
    /// The answer as body bytes and content type, for the engine's decoder.
    pub(crate) fn into_body(self) -> Result<(Bytes, Option<String>)> {
        match self {
            Answer::Json(value) => Ok((
                Bytes::from(
                    serde_json::to_vec(&value).map_err(|e| Error::decode::<Value>(e, b""))?,
                ),
                Some("application/json".into()),
            )),
            Answer::File(blob) => {
                let content_type = blob.content_type().map(str::to_owned);
                Ok((blob.into_bytes(), content_type))
            }
        }
    }
}

/// Applies the entry's response style to the final JSON.
async fn finish(call: &Call<'_>, spec: &TaskSpec, last: Value) -> Result<Answer> {
    let pointer = spec.result_pointer.unwrap_or("");
    match spec.response {
        ResponseStyle::Base64 => {
            let text = last
                .pointer(pointer)
                .and_then(Value::as_str)
                .ok_or_else(|| missing(call, pointer, &last))?;
            Ok(Answer::File(Blob::from_base64(text, None)?))
        }
        ResponseStyle::AssetUrl => {
            let found = last
                .pointer(pointer)
                .ok_or_else(|| missing(call, pointer, &last))?;
            // Replicate answers a URL or a list of URLs.
            let url = match found {
                Value::String(url) => url.as_str(),
                Value::Array(items) => items
                    .first()
                    .and_then(Value::as_str)
                    .ok_or_else(|| missing(call, pointer, &last))?,
                _ => return Err(missing(call, pointer, &last)),
            };
            Ok(Answer::File(call.download(url).await?))
        }
        ResponseStyle::Provider => match call.provider()? {
            Provider::BlackForestLabs => super::black_forest_labs::answer(call, last).await,
            Provider::Deepinfra => super::deepinfra::answer(call, last).await,
            Provider::FalAi => super::fal_ai::answer(call, last).await,
            Provider::Nebius => super::nebius::answer(call, last).await,
            Provider::Novita => super::novita::answer(call, last).await,
            Provider::Nscale => super::nscale::answer(call, last).await,
            Provider::Replicate => super::replicate::answer(call, last).await,
            Provider::Together => super::together::answer(call, last).await,
            Provider::Wavespeed => super::wavespeed::answer(call, last).await,
            Provider::ZaiOrg => super::zai_org::answer(call, last).await,
            other => Err(not_implemented(other, call.task)),
        },
        // A provider-specific body answered in the OpenAI embeddings format (nebius): the
        // vectors, `data[*].embedding`, as the generic engine reads them.
        ResponseStyle::OpenAiEmbeddings => {
            let vectors = last
                .get("data")
                .and_then(Value::as_array)
                .and_then(|items| {
                    items
                        .iter()
                        .map(|item| item.get("embedding").cloned())
                        .collect::<Option<Vec<Value>>>()
                })
                .ok_or_else(|| missing(call, "/data/*/embedding", &last))?;
            Ok(Answer::Json(Value::Array(vectors)))
        }
        _ => Ok(Answer::Json(last)),
    }
}

fn missing(call: &Call<'_>, pointer: &str, answer: &Value) -> Error {
    Error::Decode {
        target: "provider answer",
        message: format!(
            "{} answered without `{pointer}`",
            call.target.provider_label()
        ),
        body_excerpt: answer.to_string().chars().take(1024).collect(),
    }
}

pub(crate) fn not_implemented(provider: Provider, task: Task) -> Error {
    Error::NotImplemented {
        provider: provider.as_str().to_owned(),
        task: task.as_str().to_owned(),
        implemented: Vec::new(),
    }
}
