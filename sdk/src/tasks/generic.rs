//! The request builder shared by the JSON tasks (text classification, summarization, question
//! answering, embeddings, …): the typed input is the body, the typed output the answer.
//!
//! The task methods and their parameter setters are generated (`sdk/src/generated/tasks.rs`);
//! this is the hand-written engine under them.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use bytes::Bytes;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::binary::{BinaryInput, Blob, sniff_content_type};
use crate::client::{InferenceClient, ProviderChoice};
use crate::error::{Error, Result, redact_url};
use crate::http::transport::{PreparedRequest, RequestPreview, Response};
use crate::providers::adapter;
use crate::providers::jobs::JobOptions;
use crate::providers::{BodyKind, PayloadStyle, Polling, Provider, ResponseStyle, Task, TaskSpec};
use crate::routing::{CallOptions, Target, is_url};
use crate::types::embedding::FeatureExtractionOutput;
use crate::types::embedding_reader::EmbeddingsReader;

use super::{merge_json, to_wire_value};

/// A call of a JSON task being built: the entry method took the required inputs; setters add
/// parameters; [`send`](Self::send) sends it.
///
/// `I` is the task's input type (serialized as the body), `O` its output type.
///
/// ```no_run
/// use hf_inference::InferenceClient;
///
/// # async fn demo() -> hf_inference::Result<()> {
/// let client = InferenceClient::builder().token("hf_xxx").build()?;
/// let labels = client
///     .text_classification("I like you. I love you")
///     .model("distilbert/distilbert-base-uncased-finetuned-sst-2-english")
///     .top_k(2)
///     .send()
///     .await?;
/// for label in labels.iter() {
///     println!("{}: {:.3}", label.label, label.score);
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "a request does nothing until you call `send` or `preview`"]
pub struct TaskRequest<'c, I, O> {
    client: &'c InferenceClient,
    task: Task,
    input: I,
    call: CallOptions,
    extra_body: Map<String, Value>,
    /// Binary inputs and where they go in the JSON input (`/inputs`, `/inputs/image`).
    binary: Vec<(&'static str, BinaryInput)>,
    jobs: JobOptions,
    decode: Decoder<O>,
    decode_streamed: Option<StreamedDecoder<O>>,
    _output: PhantomData<fn() -> O>,
}

/// Turns a successful answer into the task output.
type Decoder<O> = fn(Bytes, Option<String>, ResponseStyle) -> Result<O>;

/// Decodes a plain JSON answer while it arrives, instead of [`Decoder`] once it is all in.
type StreamedDecoder<O> = for<'a> fn(
    &'a InferenceClient,
    reqwest::Response,
) -> Pin<Box<dyn Future<Output = Result<O>> + Send + 'a>>;

impl<I: fmt::Debug, O> fmt::Debug for TaskRequest<'_, I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskRequest")
            .field("task", &self.task)
            .field("input", &self.input)
            .field("call", &self.call)
            .finish_non_exhaustive()
    }
}

impl<I: Clone, O> Clone for TaskRequest<'_, I, O> {
    fn clone(&self) -> Self {
        Self {
            client: self.client,
            task: self.task,
            input: self.input.clone(),
            call: self.call.clone(),
            extra_body: self.extra_body.clone(),
            binary: self.binary.clone(),
            jobs: self.jobs.clone(),
            decode: self.decode,
            decode_streamed: self.decode_streamed,
            _output: PhantomData,
        }
    }
}

/// Whether the SDK speaks this table entry's wire format (the generic formats here, the
/// provider-specific ones in `sdk/src/providers/`). Every served task gets a method; a pair
/// this says no to answers `Error::NotImplemented`.
pub(crate) fn implemented(provider: Provider, spec: &TaskSpec) -> bool {
    if adapter::handles(spec) {
        return adapter::implemented(provider, spec.task);
    }
    spec.polling == Polling::None
        && matches!(
            (spec.body, spec.payload, spec.response),
            (
                BodyKind::Json,
                PayloadStyle::HfInference | PayloadStyle::HfInferenceFlat,
                ResponseStyle::Json | ResponseStyle::Bytes
            ) | (
                BodyKind::Bytes,
                PayloadStyle::HfInferenceBinary,
                ResponseStyle::Json | ResponseStyle::Bytes
            ) | (
                BodyKind::Json,
                PayloadStyle::OpenAiEmbeddings,
                ResponseStyle::OpenAiEmbeddings
            ) | (
                BodyKind::Json,
                PayloadStyle::OpenAiSpeech,
                ResponseStyle::Bytes
            )
        )
}

impl<'c, I: Serialize, O: DeserializeOwned + 'static> TaskRequest<'c, I, O> {
    /// A call whose answer is JSON, decoded as `O`.
    pub(crate) fn new(client: &'c InferenceClient, task: Task, input: I) -> Self {
        Self::with_decoder(client, task, input, decode_json::<O>)
    }
}

impl<'c, I: Serialize> TaskRequest<'c, I, Blob> {
    /// A call whose answer is a file (image, audio, video).
    pub(crate) fn new_file(client: &'c InferenceClient, task: Task, input: I) -> Self {
        Self::with_decoder(client, task, input, decode_file)
    }
}

impl<'c, I: Serialize> TaskRequest<'c, I, FeatureExtractionOutput> {
    /// A feature-extraction call: the vectors are decoded while the answer arrives.
    pub(crate) fn new_embeddings(client: &'c InferenceClient, task: Task, input: I) -> Self {
        let mut request = Self::with_decoder(client, task, input, decode_feature_extraction);
        request.decode_streamed = Some(read_embeddings);
        request
    }
}

impl<'c, I: Serialize, O> TaskRequest<'c, I, O> {
    fn with_decoder(client: &'c InferenceClient, task: Task, input: I, decode: Decoder<O>) -> Self {
        Self {
            client,
            task,
            input,
            call: CallOptions {
                engine_speaks: Some(implemented),
                ..CallOptions::default()
            },
            extra_body: Map::new(),
            binary: Vec::new(),
            jobs: JobOptions::default(),
            decode,
            decode_streamed: None,
            _output: PhantomData,
        }
    }

    /// Attaches a binary input that goes at `pointer` of the JSON input (base64), or is the
    /// whole body where the provider takes raw bytes.
    pub(crate) fn with_binary(mut self, pointer: &'static str, input: BinaryInput) -> Self {
        self.binary.push((pointer, input));
        self
    }

    /// Sets the binary input at `pointer`, replacing one set there before (the setters of
    /// optional files).
    pub(crate) fn set_binary(mut self, pointer: &'static str, input: BinaryInput) -> Self {
        self.binary.retain(|(p, _)| *p != pointer);
        self.binary.push((pointer, input));
        self
    }

    /// The typed input as it stands.
    pub fn input(&self) -> &I {
        &self.input
    }

    pub(crate) fn input_mut(&mut self) -> &mut I {
        &mut self.input
    }

    /// The model: a Hub id, or a URL (Inference Endpoint, local server). Overrides the client's.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.call.model = Some(model.into());
        self
    }

    /// The provider for this call. Overrides the client's.
    pub fn provider(mut self, provider: impl Into<ProviderChoice>) -> Self {
        self.call.provider = Some(provider.into());
        self
    }

    /// Fields merged into the JSON body last (deeply; these win), for options the typed input
    /// does not name.
    pub fn extra_body(mut self, extra: Value) -> Self {
        if let Value::Object(map) = extra {
            merge_json(&mut self.extra_body, map);
        }
        self
    }

    /// Resolves the target and builds the exact request, without sending it (a file or URL
    /// input is read to build the body).
    pub async fn preview(&self) -> Result<RequestPreview> {
        Ok(self.prepare().await?.1.preview())
    }

    /// Sends the request and decodes the answer.
    pub async fn send(self) -> Result<O> {
        Ok(self.send_with_metadata().await?.value)
    }

    /// [`send`](Self::send), keeping the response status, headers and request id.
    pub async fn send_with_metadata(self) -> Result<Response<O>> {
        let (target, request) = self.prepare().await?;
        if target.spec.is_some_and(adapter::handles) {
            // Provider-specific answers (jobs, files behind URLs, base64 in JSON).
            let call = self.adapter_call(&target)?;
            let (body, content_type) = adapter::run(&call, &request).await?.into_body()?;
            let meta = crate::http::transport::ResponseMeta::empty();
            let value = (self.decode)(body, content_type, ResponseStyle::Json)?;
            return Ok(Response { value, meta });
        }
        let response = self.client.execute(&request, false).await?;
        let meta = crate::http::transport::ResponseMeta::from_response(&response);
        let content_type = meta
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let response_style = target.spec.map_or(ResponseStyle::Json, |s| s.response);
        let value = match (self.decode_streamed, response_style) {
            (Some(decode), ResponseStyle::Json) => decode(self.client, response).await?,
            _ => {
                let body = self.client.read_body(response).await?;
                (self.decode)(body, content_type, response_style)?
            }
        };
        Ok(Response { value, meta })
    }

    async fn prepare(&self) -> Result<(Target, PreparedRequest)> {
        let (target, mut request) = self.prepare_request().await?;
        // The Python reference asks for PNG on the tasks it expects images from (text-to-image
        // and image-to-image, `TASKS_EXPECTING_IMAGES`), on every provider, unless the caller
        // set an `Accept` of their own; job polls copy the header, as the reference's do.
        if matches!(self.task, Task::TextToImage | Task::ImageToImage)
            && !request.headers.contains_key(reqwest::header::ACCEPT)
        {
            request.headers.insert(
                reqwest::header::ACCEPT,
                reqwest::header::HeaderValue::from_static("image/png"),
            );
        }
        Ok((target, request))
    }

    async fn prepare_request(&self) -> Result<(Target, PreparedRequest)> {
        self.refuse_unimplemented_early()?;
        self.validate().await?;
        let target = self.client.resolve(self.task, &self.call).await?;
        if let (Some(spec), Some(provider)) = (target.spec, target.provider)
            && !implemented(provider, spec)
        {
            return Err(self.not_implemented(provider));
        }
        if target.spec.is_some_and(adapter::handles) {
            let call = self.adapter_call(&target)?;
            let request = adapter::request(&call).await?;
            return Ok((target, request));
        }
        // A URL model (an Inference Endpoint, a local server) speaks the hf-inference format:
        // raw bytes for a task whose whole input is one file, as the reference sends them.
        let payload = target.spec.map_or_else(
            || {
                if matches!(self.binary.as_slice(), [("/inputs", _)]) {
                    PayloadStyle::HfInferenceBinary
                } else {
                    PayloadStyle::HfInference
                }
            },
            |s| s.payload,
        );
        let mut files = Vec::with_capacity(self.binary.len());
        for (pointer, input) in &self.binary {
            // A URL is downloaded without credentials, through the client's host redirects.
            let endpoints = &self.client.inner.endpoints;
            let load = input
                .clone()
                .map_url(|url| endpoints.redirect(url))
                .load(&self.client.inner.http);
            // A stalled file host must not hang the call: the client's timeout bounds it too.
            let file = match self.client.inner.timeout {
                Some(after) => {
                    tokio::time::timeout(after, load)
                        .await
                        .map_err(|_| Error::Timeout {
                            url: input
                                .url()
                                .and_then(|u| url::Url::parse(u).ok())
                                .map_or_else(|| "binary input".to_owned(), |u| redact_url(&u)),
                            after,
                        })??
                }
                None => load.await?,
            };
            files.push((*pointer, file));
        }
        // hf-inference takes the raw bytes as the body when nothing else is to be sent.
        if payload == PayloadStyle::HfInferenceBinary
            && let [("/inputs", file)] = files.as_slice()
            && self.extra_body.is_empty()
            && self.has_no_options()?
        {
            let request = PreparedRequest::bytes(
                self.client,
                &target,
                file.bytes().clone(),
                file.content_type(),
            )?;
            return Ok((target, request));
        }
        let mut body = self.body(&target)?;
        for (pointer, file) in files {
            if let Some(slot) = body.pointer_mut(pointer) {
                *slot = Value::String(file.to_base64());
            }
        }
        let request = PreparedRequest::json(self.client, &target, &body)?;
        Ok((target, request))
    }

    /// An explicitly chosen provider whose entry the engine does not speak fails here, before
    /// `resolve` can look the model up on the Hub: nothing is sent for a call that cannot be
    /// made. (`auto` and URL models are judged after resolving.)
    fn refuse_unimplemented_early(&self) -> Result<()> {
        let inner = &self.client.inner;
        let ProviderChoice::Provider(provider) = self.call.provider.unwrap_or(inner.provider)
        else {
            return Ok(());
        };
        let url_model = inner.base_url.is_some() || self.call.model.as_deref().is_some_and(is_url);
        match provider.spec().task(self.task) {
            Some(spec) if !url_model && !implemented(provider, spec) => {
                Err(self.not_implemented(provider))
            }
            _ => Ok(()),
        }
    }

    /// The checks of the input that need no network ([`validate`](super::validate)), and the
    /// binary inputs that can be found unreadable without reading them: all before the target
    /// is resolved, which may ask the Hub.
    async fn validate(&self) -> Result<()> {
        let input = to_wire_value(&self.input).map_err(|e| Error::InvalidInput {
            field: "input".into(),
            message: e.to_string(),
        })?;
        let pointers: Vec<&str> = self.binary.iter().map(|(pointer, _)| *pointer).collect();
        super::validate::task_input(&input, &pointers)?;
        for (_, binary) in &self.binary {
            binary.check_readable().await?;
        }
        Ok(())
    }

    fn not_implemented(&self, provider: Provider) -> Error {
        Error::NotImplemented {
            provider: provider.as_str().to_owned(),
            task: self.task.as_str().to_owned(),
            implemented: self
                .task
                .providers()
                .iter()
                .filter(|p| {
                    p.spec()
                        .task(self.task)
                        .is_some_and(|s| implemented(**p, s))
                })
                .map(|p| p.as_str().to_owned())
                .collect(),
        }
    }

    /// The view of this call that provider-specific code gets.
    fn adapter_call<'a>(&'a self, target: &'a Target) -> Result<adapter::Call<'a>> {
        let input = match to_wire_value(&self.input) {
            Ok(Value::Object(map)) => map,
            Ok(_) => Map::new(),
            Err(e) => {
                return Err(Error::InvalidInput {
                    field: "input".into(),
                    message: e.to_string(),
                });
            }
        };
        let mut input = input;
        flatten_generation_parameters(self.task, &mut input);
        merge_json(&mut input, self.extra_body.clone());
        Ok(adapter::Call {
            client: self.client,
            target,
            task: self.task,
            input,
            binary: &self.binary,
            jobs: &self.jobs,
        })
    }

    /// Wait between polls of an asynchronous job (fal queue, Together video, …); default: the
    /// provider's own interval.
    pub fn poll_interval(mut self, interval: std::time::Duration) -> Self {
        self.jobs.poll_interval = Some(interval);
        self
    }

    /// Called with each status an asynchronous job reports (for a progress display).
    pub fn on_status(
        mut self,
        callback: impl Fn(&crate::providers::jobs::JobStatus) + Send + Sync + 'static,
    ) -> Self {
        self.jobs.on_status = Some(std::sync::Arc::new(callback));
        self
    }

    /// Whether the input carries nothing but its binary data (no parameters set).
    fn has_no_options(&self) -> Result<bool> {
        let value = to_wire_value(&self.input).map_err(|e| Error::InvalidInput {
            field: "input".into(),
            message: e.to_string(),
        })?;
        Ok(value
            .as_object()
            .is_some_and(|fields| fields.keys().all(|k| k == "inputs")))
    }

    fn body(&self, target: &Target) -> Result<Value> {
        let Value::Object(mut fields) =
            to_wire_value(&self.input).map_err(|e| Error::InvalidInput {
                field: "input".into(),
                message: e.to_string(),
            })?
        else {
            return Err(Error::InvalidInput {
                field: "input".into(),
                message: "the task input is not a JSON object".into(),
            });
        };
        flatten_generation_parameters(self.task, &mut fields);
        let payload = target.spec.map_or(PayloadStyle::HfInference, |s| s.payload);
        let openai = matches!(
            payload,
            PayloadStyle::OpenAiEmbeddings | PayloadStyle::OpenAiSpeech
        );
        let mut body = if openai {
            // `{"input": text or [texts], ...parameters, "model": provider id}` (embeddings and
            // speech alike).
            let mut body = Map::new();
            // `shift_remove` keeps the order of the remaining fields (the map preserves it).
            if let Some(inputs) = fields.shift_remove("inputs") {
                body.insert("input".into(), inputs);
            }
            if let Some(Value::Object(params)) = fields.shift_remove("parameters") {
                body.extend(params);
            }
            body.extend(fields);
            body
        } else {
            fields
        };
        merge_json(&mut body, self.extra_body.clone());
        if openai && let Some(model) = &target.provider_model_id {
            // Applied last, after `extra_body` too: the provider id is never overridden and
            // closes the body (python-client.md §3.3).
            body.shift_remove("model");
            body.insert("model".into(), Value::String(model.clone()));
        }
        Ok(Value::Object(body))
    }
}

/// Text-to-speech's generation options go flat into `parameters`, as the Python reference
/// sends them (`text_to_speech(…, do_sample=…, temperature=…)` builds
/// `{"inputs", "parameters": {"do_sample", "temperature", …}}`), not nested under the schema's
/// `parameters.generation_parameters`. Options set otherwise in `parameters` (none of the
/// schema's) are kept.
fn flatten_generation_parameters(task: Task, input: &mut Map<String, Value>) {
    if task != Task::TextToSpeech {
        return;
    }
    let Some(Value::Object(parameters)) = input.get_mut("parameters") else {
        return;
    };
    if let Some(Value::Object(generation)) = parameters.shift_remove("generation_parameters") {
        for (key, value) in generation {
            parameters.entry(key).or_insert(value);
        }
    }
}

/// The JSON decoder of a task: OpenAI embeddings lists become vectors; the rest is read
/// leniently.
pub(crate) fn decode_json<O: DeserializeOwned + 'static>(
    body: Bytes,
    _content_type: Option<String>,
    style: ResponseStyle,
) -> Result<O> {
    match style {
        ResponseStyle::OpenAiEmbeddings => decode_embeddings(&body),
        _ => decode_lenient(&body),
    }
}

/// The feature-extraction decoder of a whole body: embeddings are tens of thousands of
/// numbers, read by their own parser (several times faster than serde_json's generic one; same
/// results and errors).
pub(crate) fn decode_feature_extraction(
    body: Bytes,
    _content_type: Option<String>,
    style: ResponseStyle,
) -> Result<FeatureExtractionOutput> {
    match style {
        ResponseStyle::OpenAiEmbeddings => decode_embeddings(&body),
        _ => FeatureExtractionOutput::from_json_slice(&body)
            .map_err(|e| Error::decode::<FeatureExtractionOutput>(e, &body)),
    }
}

/// The feature-extraction decoder of a plain JSON answer, while it arrives: the numbers of one
/// chunk are read while the server sends the next, and the body is never gathered into one
/// buffer.
fn read_embeddings(
    client: &InferenceClient,
    response: reqwest::Response,
) -> Pin<Box<dyn Future<Output = Result<FeatureExtractionOutput>> + Send + '_>> {
    Box::pin(async move {
        let mut reader = EmbeddingsReader::default();
        client
            .read_body_chunks(response, |chunk| reader.feed(chunk))
            .await?;
        reader
            .finish()
            .map_err(|(e, body)| Error::decode::<FeatureExtractionOutput>(e, &body))
    })
}

/// The file decoder: the body itself, which must not be a JSON document (a server that answers
/// JSON where a file was expected has sent an error or a format this SDK does not know).
pub(crate) fn decode_file(
    body: Bytes,
    content_type: Option<String>,
    _style: ResponseStyle,
) -> Result<Blob> {
    let is_json = content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("application/json"));
    if is_json {
        return Err(Error::decode::<Blob>(
            "expected a file, the server answered JSON",
            &body,
        ));
    }
    // A generic or missing type says nothing: the bytes do.
    let generic = content_type.as_deref().is_none_or(|t| {
        let t = t.split(';').next().unwrap_or_default().trim();
        t.is_empty() || t == "application/octet-stream" || t == "binary/octet-stream"
    });
    let content_type = if generic {
        sniff_content_type(&body)
            .map(str::to_owned)
            .or(content_type)
    } else {
        content_type
    };
    Ok(Blob::new(body, content_type))
}

/// Decodes a JSON answer as `O`, accepting the two ways servers disagree with the schemas: one
/// object where the schema says a list (question answering on one question), and a one-element
/// list where it says an object (summarization, translation). The body is parsed once in the
/// common case.
pub(crate) fn decode_lenient<O: DeserializeOwned>(body: &[u8]) -> Result<O> {
    let first_error = match serde_json::from_slice::<O>(body) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    let fail = || Error::decode::<O>(&first_error, body);
    let value: Value = serde_json::from_slice(body).map_err(|_| fail())?;
    let retry = match value {
        Value::Object(_) => Value::Array(vec![value]),
        Value::Array(mut items) if items.len() == 1 => items.swap_remove(0),
        _ => return Err(fail()),
    };
    serde_json::from_value(retry).map_err(|_| fail())
}

/// An OpenAI embeddings answer (`{"data": [{"embedding": [...]}, ...]}`) as the task output:
/// one vector per input.
fn decode_embeddings<O: DeserializeOwned>(body: &[u8]) -> Result<O> {
    #[derive(serde::Deserialize)]
    struct Item {
        embedding: Value,
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        data: Vec<Item>,
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|e| Error::decode::<O>(e, body))?;
    let vectors = Value::Array(answer.data.into_iter().map(|i| i.embedding).collect());
    serde_json::from_value(vectors).map_err(|e| Error::decode::<O>(e, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::question_answering::QuestionAnsweringOutput;
    use crate::types::summarization::SummarizationOutput;

    #[test]
    fn a_file_with_a_generic_type_is_typed_from_its_bytes() {
        let png = Bytes::from_static(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        let blob = decode_file(
            png.clone(),
            Some("application/octet-stream".into()),
            ResponseStyle::Bytes,
        )
        .unwrap();
        assert_eq!(blob.content_type(), Some("image/png"));
        let blob = decode_file(png, Some("image/webp".into()), ResponseStyle::Bytes).unwrap();
        assert_eq!(
            blob.content_type(),
            Some("image/webp"),
            "a specific type is kept"
        );
    }

    #[test]
    fn one_object_reads_as_a_one_element_list() {
        let body = br#"{"answer":"Clara","score":0.9,"start":11,"end":16}"#;
        let out: QuestionAnsweringOutput = decode_lenient(body).unwrap();
        assert_eq!(out[0].answer, "Clara");
    }

    #[test]
    fn one_element_list_reads_as_its_element() {
        let body = br#"[{"summary_text":"Short."}]"#;
        let out: SummarizationOutput = decode_lenient(body).unwrap();
        assert_eq!(out.summary_text, "Short.");
    }

    #[test]
    fn other_shapes_keep_the_first_error() {
        let err = decode_lenient::<SummarizationOutput>(br#"[1, 2]"#).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    }

    #[test]
    fn embeddings_answer_becomes_vectors() {
        let body = br#"{"object":"list","data":[{"embedding":[0.5,1.0],"index":0},{"embedding":[2.0,3.0],"index":1}],"model":"m"}"#;
        let out: crate::types::feature_extraction::FeatureExtractionOutput =
            decode_embeddings(body).unwrap();
        assert_eq!(out.shape(), Some(vec![2, 2]));
    }
}
