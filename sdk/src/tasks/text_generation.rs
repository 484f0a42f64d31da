//! `text_generation`: TGI format on hf-inference and endpoints (details, token streaming), the
//! OpenAI completions format elsewhere.

use std::pin::Pin;

use futures_util::{Stream, StreamExt};
use serde_json::{Map, Value};

use crate::client::{InferenceClient, ProviderChoice};
use crate::error::{Error, Result};
use crate::http::sse::json_event_stream;
use crate::http::transport::{PreparedRequest, RequestPreview, Response};
use crate::providers::{PayloadStyle, ResponseStyle, StreamStyle, Task};
use crate::routing::{CallOptions, Mode, Target};
use crate::types::text_generation::{
    TextGenerationInputGenerateParameters, TextGenerationInputGrammarType, TextGenerationOutput,
    TextGenerationStreamOutput, TextGenerationStreamOutputToken,
};

use super::{merge_json, to_wire_value};

/// A boxed stream of generated tokens.
pub type TextGenerationStream =
    Pin<Box<dyn Stream<Item = Result<TextGenerationStreamOutput>> + Send + 'static>>;

/// A text-generation call being built: the prompt, then optional TGI parameters, then
/// [`send`](Self::send) or [`stream`](Self::stream).
///
/// ```no_run
/// use hf_inference::InferenceClient;
///
/// # async fn demo() -> hf_inference::error::Result<()> {
/// let client = InferenceClient::builder().token("hf_xxx").build()?;
/// let out = client
///     .text_generation("The answer to the universe is")
///     .model("openai-community/gpt2")
///     .max_new_tokens(20)
///     .send()
///     .await?;
/// println!("{}", out.generated_text);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until you call `send`, `stream` or `preview`"]
pub struct TextGenerationRequest<'c> {
    client: &'c InferenceClient,
    prompt: String,
    parameters: TextGenerationInputGenerateParameters,
    call: CallOptions,
    extra_body: Map<String, Value>,
}

macro_rules! setters {
    ($( $(#[$doc:meta])* $name:ident : $ty:ty ),* $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: impl Into<$ty>) -> Self {
                self.parameters.$name = Some(value.into());
                self
            }
        )*
    };
}

impl<'c> TextGenerationRequest<'c> {
    /// The model: a Hub id or a URL. Overrides the client's.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.call.model = Some(model.into());
        self
    }

    /// The provider for this call. Overrides the client's.
    pub fn provider(mut self, provider: impl Into<ProviderChoice>) -> Self {
        self.call.provider = Some(provider.into());
        self
    }

    /// All parameters at once.
    pub fn parameters(mut self, parameters: TextGenerationInputGenerateParameters) -> Self {
        self.parameters = parameters;
        self
    }

    setters! {
        /// LoRA adapter id (TGI).
        adapter_id: String,
        /// Generate `best_of` sequences and return the one with the highest log probability.
        best_of: u64,
        /// Return the prompt tokens' details too.
        decoder_input_details: bool,
        /// Return generation details (tokens, finish reason).
        details: bool,
        /// Sample instead of greedy decoding.
        do_sample: bool,
        /// Penalty on tokens already frequent in the text so far.
        frequency_penalty: f32,
        /// Constrain the output with a JSON schema or a regex.
        grammar: TextGenerationInputGrammarType,
        /// The maximum number of tokens to generate.
        max_new_tokens: i32,
        /// Repetition penalty (1.0 = none).
        repetition_penalty: f32,
        /// Prepend the prompt to the generated text.
        return_full_text: bool,
        /// Random seed.
        seed: i64,
        /// Sampling temperature.
        temperature: f32,
        /// Top-k sampling.
        top_k: i32,
        /// Return the most likely tokens at each step.
        top_n_tokens: i32,
        /// Nucleus sampling probability mass.
        top_p: f32,
        /// Truncate the prompt to this many tokens.
        truncate: u64,
        /// Typical decoding mass.
        typical_p: f32,
        /// Watermark the output.
        watermark: bool,
    }

    /// Sequences at which generation stops.
    pub fn stop(mut self, stop: Vec<String>) -> Self {
        self.parameters.stop = stop;
        self
    }

    /// Fields merged into the JSON body last (deeply; these win).
    pub fn extra_body(mut self, extra: Value) -> Self {
        if let Value::Object(map) = extra {
            merge_json(&mut self.extra_body, map);
        }
        self
    }

    /// Resolves the target and builds the exact request, without sending it.
    pub async fn preview(&self) -> Result<RequestPreview> {
        Ok(self.prepare(false).await?.1.preview())
    }

    /// Whether this call's target streams its tokens: hf-inference and URL models (TGI
    /// servers, Inference Endpoints, a server's `/v1/completions`) do; the providers whose
    /// text-generation route the table marks as not streamable do not, so call
    /// [`send`](Self::send) there. Resolves the target (for `auto`, the Hub mapping, looked up
    /// once per client), sends nothing.
    ///
    /// ```
    /// use hf_inference::{InferenceClient, Provider};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> hf_inference::Result<()> {
    /// let local = InferenceClient::builder().model("http://localhost:8080").build()?;
    /// assert!(local.text_generation("Once upon a time").streams().await?);
    ///
    /// let together = InferenceClient::builder()
    ///     .token("hf_xxx")
    ///     .provider(Provider::Together)
    ///     .model_mapping("mistralai/Mixtral-8x7B-v0.1", Provider::Together, "mistralai/Mixtral-8x7B-v0.1")
    ///     .build()?;
    /// let request = together.text_generation("Paris is").model("mistralai/Mixtral-8x7B-v0.1");
    /// assert!(!request.streams().await?);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn streams(&self) -> Result<bool> {
        let target = self
            .client
            .resolve(Task::TextGeneration, &self.call)
            .await?;
        Ok(match target.spec {
            Some(spec) => spec.stream != StreamStyle::None,
            // A URL model that names no OpenAI route: a TGI server or an Inference Endpoint.
            None => true,
        })
    }

    /// The request [`stream`](Self::stream) would send, built without sending it: the body
    /// has `"stream": true` and the headers ask for `text/event-stream`.
    ///
    /// ```
    /// use hf_inference::InferenceClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> hf_inference::Result<()> {
    /// let client = InferenceClient::builder().model("http://localhost:8080").build()?;
    /// let preview = client.text_generation("Once upon a time").preview_stream().await?;
    /// assert_eq!(
    ///     preview.body_json().unwrap(),
    ///     serde_json::json!({"inputs": "Once upon a time", "stream": true})
    /// );
    /// assert_eq!(preview.header("accept"), Some("text/event-stream"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn preview_stream(&self) -> Result<RequestPreview> {
        Ok(self.prepare_stream().await?.1.preview())
    }

    /// Sends the request and returns the generated text (with details when asked and served).
    pub async fn send(self) -> Result<TextGenerationOutput> {
        Ok(self.send_with_metadata().await?.value)
    }

    /// [`send`](Self::send), keeping the response status, headers and request id.
    pub async fn send_with_metadata(self) -> Result<Response<TextGenerationOutput>> {
        let (target, request) = self.prepare(false).await?;
        let (value, meta): (Value, _) = self.client.execute_json(&request).await?;
        let value = parse_output(&target, value)?;
        Ok(Response { value, meta })
    }

    /// Streams the generated tokens as they arrive (TGI format; OpenAI completion chunks are
    /// converted to it).
    pub async fn stream(self) -> Result<TextGenerationStream> {
        let (target, request) = self.prepare_stream().await?;
        let response = self.client.execute(&request, true).await?;
        let max_event_bytes = self.client.inner.max_response_bytes;
        let completions = target
            .spec
            .is_some_and(|s| s.payload == PayloadStyle::OpenAiCompletions);
        if completions {
            let mut index = 0;
            let stream = json_event_stream::<Value, _>(response.bytes_stream())
                .require_done(true)
                .max_event_bytes(max_event_bytes)
                .map(move |event| {
                    let event = event?;
                    index += 1;
                    Ok(completion_chunk_to_token(&event, index))
                });
            Ok(Box::pin(stream))
        } else {
            Ok(Box::pin(
                json_event_stream::<TextGenerationStreamOutput, _>(response.bytes_stream())
                    .max_event_bytes(max_event_bytes),
            ))
        }
    }

    /// The streamed request: the body with `"stream": true`, asking for server-sent events.
    async fn prepare_stream(&self) -> Result<(Target, PreparedRequest)> {
        let (target, mut request) = self.prepare(true).await?;
        super::accept_event_stream(&mut request);
        Ok((target, request))
    }

    async fn prepare(&self, stream: bool) -> Result<(Target, PreparedRequest)> {
        let input = serde_json::json!({
            "inputs": self.prompt,
            "parameters": to_map(&self.parameters)?,
        });
        super::validate::task_input(&input, &[])?;
        let target = self
            .client
            .resolve(Task::TextGeneration, &self.call)
            .await?;
        let body = text_generation_body(
            &target,
            &self.prompt,
            &self.parameters,
            &self.extra_body,
            stream,
        )?;
        let request = PreparedRequest::json(self.client, &target, &body)?;
        Ok((target, request))
    }
}

fn to_map(parameters: &TextGenerationInputGenerateParameters) -> Result<Map<String, Value>> {
    match to_wire_value(parameters) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Ok(Map::new()),
        Err(e) => Err(Error::InvalidInput {
            field: "parameters".into(),
            message: e.to_string(),
        }),
    }
}

/// The body of a text-generation call on a target.
pub(crate) fn text_generation_body(
    target: &Target,
    prompt: &str,
    parameters: &TextGenerationInputGenerateParameters,
    extra: &Map<String, Value>,
    stream: bool,
) -> Result<Value> {
    let mut params = to_map(parameters)?;
    let payload = target
        .spec
        .map(|s| s.payload)
        .unwrap_or(PayloadStyle::HfInference);
    let renames = target.spec.map(|s| s.renames).unwrap_or_default();
    for (from, to) in renames {
        if let Some(v) = params.remove(*from) {
            params.insert((*to).to_owned(), v);
        }
    }
    let mut body = Map::new();
    match payload {
        PayloadStyle::OpenAiCompletions => {
            body.insert("prompt".into(), Value::String(prompt.to_owned()));
            body.extend(params);
            if let Some(model) = &target.provider_model_id {
                body.insert("model".into(), Value::String(model.clone()));
            }
        }
        PayloadStyle::Provider
            if target.provider == Some(crate::providers::Provider::Hyperbolic) =>
        {
            crate::providers::hyperbolic::text_generation_body(&mut body, target, prompt, params);
        }
        _ => {
            body.insert("inputs".into(), Value::String(prompt.to_owned()));
            if !params.is_empty() {
                body.insert("parameters".into(), Value::Object(params));
            }
        }
    }
    if stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    merge_json(&mut body, extra.clone());
    let _ = Mode::Url;
    Ok(Value::Object(body))
}

/// Reads the answer of a text-generation call into the TGI output shape.
pub(crate) fn parse_output(target: &Target, value: Value) -> Result<TextGenerationOutput> {
    let response = target
        .spec
        .map(|s| s.response)
        .unwrap_or(ResponseStyle::Json);
    let decode = |value: Value| {
        let text = value.to_string();
        serde_json::from_value::<TextGenerationOutput>(value)
            .map_err(|e| Error::decode::<TextGenerationOutput>(e, text.as_bytes()))
    };
    match response {
        ResponseStyle::OpenAiCompletions => {
            let choice = value.get("choices").and_then(|c| c.get(0)).ok_or_else(|| {
                Error::decode::<TextGenerationOutput>(
                    "no `choices[0]` in the completion",
                    value.to_string().as_bytes(),
                )
            })?;
            let text = choice.get("text").and_then(Value::as_str).ok_or_else(|| {
                Error::decode::<TextGenerationOutput>(
                    "no `choices[0].text` in the completion",
                    value.to_string().as_bytes(),
                )
            })?;
            let mut out = TextGenerationOutput::new(text);
            if let Some(reason) = choice.get("finish_reason").filter(|v| !v.is_null()) {
                out.extra.insert("finish_reason".into(), reason.clone());
            }
            if let Some(usage) = value.get("usage") {
                out.extra.insert("usage".into(), usage.clone());
            }
            Ok(out)
        }
        ResponseStyle::Provider
            if target.provider == Some(crate::providers::Provider::Hyperbolic) =>
        {
            crate::providers::hyperbolic::text_generation_output(value)
        }
        _ => match value {
            // TGI answers a list with one element per input.
            Value::Array(mut items) if !items.is_empty() => decode(items.swap_remove(0)),
            other => decode(other),
        },
    }
}

/// An OpenAI completion chunk as a TGI token event.
fn completion_chunk_to_token(event: &Value, index: i32) -> TextGenerationStreamOutput {
    let choice = event.get("choices").and_then(|c| c.get(0));
    let text = choice
        .and_then(|c| c.get("text"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut out = TextGenerationStreamOutput {
        details: None,
        generated_text: None,
        index: Some(index),
        token: TextGenerationStreamOutputToken::new(0, false, text),
        top_tokens: Vec::new(),
        extra: Map::new(),
    };
    if let Some(reason) = choice
        .and_then(|c| c.get("finish_reason"))
        .filter(|v| !v.is_null())
    {
        out.extra.insert("finish_reason".into(), reason.clone());
    }
    out
}

impl InferenceClient {
    /// Starts a text-generation call. See [`TextGenerationRequest`].
    pub fn text_generation(&self, prompt: impl Into<String>) -> TextGenerationRequest<'_> {
        TextGenerationRequest {
            client: self,
            prompt: prompt.into(),
            parameters: TextGenerationInputGenerateParameters::default(),
            call: CallOptions::default(),
            extra_body: Map::new(),
        }
    }
}
