//! `chat_completion`: the typed request builder, its payload on every provider, and streaming.

use futures_util::Stream;
use serde_json::{Map, Value};

use crate::client::{InferenceClient, ProviderChoice};
use crate::error::{Error, Result};
use crate::http::sse::json_event_stream;
use crate::http::transport::{PreparedRequest, RequestPreview, Response};
use crate::providers::{JsonSchemaFormat, Task};
use crate::routing::{CallOptions, Mode, Target};
use crate::types::chat::{
    ChatCompletionInputGrammarType, ChatCompletionInputMessage, ChatCompletionInputToolChoice,
};
use crate::types::chat_completion::{
    ChatCompletionInput, ChatCompletionInputStreamOptions, ChatCompletionInputTool,
    ChatCompletionOutput, ChatCompletionStreamOutput,
};

use super::{merge_json, to_wire_value};

/// A chat-completion call being built: required messages, then optional settings, then
/// [`send`](Self::send) or [`stream`](Self::stream).
///
/// ```no_run
/// use futures_util::StreamExt;
/// use hf_inference::InferenceClient;
/// use hf_inference::types::chat_completion::ChatCompletionInputMessage;
///
/// # async fn demo() -> hf_inference::error::Result<()> {
/// let client = InferenceClient::builder().token("hf_xxx").build()?;
/// let mut stream = client
///     .chat_completion(vec![ChatCompletionInputMessage::user("Tell me a story")])
///     .model("meta-llama/Llama-3.1-8B-Instruct")
///     .max_tokens(200)
///     .stream()
///     .await?;
/// while let Some(chunk) = stream.next().await {
///     let chunk = chunk?;
///     if let Some(text) = chunk.choices.first().and_then(|c| c.delta.content.as_deref()) {
///         print!("{text}");
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until you call `send`, `stream` or `preview`"]
pub struct ChatCompletionRequest<'c> {
    client: &'c InferenceClient,
    input: ChatCompletionInput,
    call: CallOptions,
    extra_body: Map<String, Value>,
}

macro_rules! setters {
    ($( $(#[$doc:meta])* $name:ident : $ty:ty ),* $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: impl Into<$ty>) -> Self {
                self.input.$name = Some(value.into());
                self
            }
        )*
    };
}

impl<'c> ChatCompletionRequest<'c> {
    pub(crate) fn new(client: &'c InferenceClient, input: ChatCompletionInput) -> Self {
        Self {
            client,
            call: CallOptions {
                model: input.model.clone(),
                ..CallOptions::default()
            },
            input,
            extra_body: Map::new(),
        }
    }

    /// The model: a Hub id, or a URL (Inference Endpoint, local server). Overrides the client's.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        let model = model.into();
        self.input.model = Some(model.clone());
        self.call.model = Some(model);
        self
    }

    /// The provider for this call. Overrides the client's.
    pub fn provider(mut self, provider: impl Into<ProviderChoice>) -> Self {
        self.call.provider = Some(provider.into());
        self
    }

    setters! {
        /// Penalty on tokens already frequent in the text so far (-2.0 to 2.0).
        frequency_penalty: f32,
        /// Whether to return the log probabilities of the output tokens.
        logprobs: bool,
        /// The maximum number of tokens to generate.
        max_tokens: i32,
        /// How many choices to generate.
        n: i32,
        /// Penalty on tokens already present in the text so far (-2.0 to 2.0).
        presence_penalty: f32,
        /// Reasoning effort for reasoning models (`low`, `medium`, `high`, …).
        reasoning_effort: String,
        /// The format the answer must follow (plain text, any JSON, or a JSON schema).
        response_format: ChatCompletionInputGrammarType,
        /// Random seed, for reproducible sampling.
        seed: i64,
        /// Sequences at which generation stops.
        stop: Vec<String>,
        /// Sampling temperature (0 to 2).
        temperature: f32,
        /// Which tool the model may or must call.
        tool_choice: ChatCompletionInputToolChoice,
        /// A prompt appended before the tools (TGI).
        tool_prompt: String,
        /// The tools the model may call.
        tools: Vec<ChatCompletionInputTool>,
        /// How many most likely tokens to return per position (0 to 5), with `logprobs`.
        top_logprobs: i32,
        /// Nucleus sampling probability mass.
        top_p: f32,
        /// Stream options (e.g. ask for a final usage chunk).
        stream_options: ChatCompletionInputStreamOptions,
        /// Token id biases (unused by most servers).
        logit_bias: Vec<f32>,
    }

    /// Fields sent as they are, merged into the JSON body last (deeply; these win). For
    /// provider-specific options the typed input does not name.
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

    /// The request [`stream`](Self::stream) would send, built without sending it: the body
    /// has `"stream": true` and the headers ask for `text/event-stream`. A dry run of a streamed
    /// call shows this one, so the preview is byte for byte what goes out.
    ///
    /// ```
    /// use hf_inference::InferenceClient;
    /// use hf_inference::types::chat_completion::ChatCompletionInputMessage;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> hf_inference::Result<()> {
    /// let client = InferenceClient::builder().model("http://localhost:8080").build()?;
    /// let request = client.chat_completion(vec![ChatCompletionInputMessage::user("Hi")]);
    /// let preview = request.preview_stream().await?;
    /// assert_eq!(preview.body_json().unwrap()["stream"], true);
    /// assert_eq!(preview.header("accept"), Some("text/event-stream"));
    /// assert_eq!(request.preview().await?.body_json().unwrap().get("stream"), None);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn preview_stream(&self) -> Result<RequestPreview> {
        Ok(self.prepare_stream().await?.1.preview())
    }

    /// Sends the request and returns the whole answer.
    pub async fn send(self) -> Result<ChatCompletionOutput> {
        Ok(self.send_with_metadata().await?.value)
    }

    /// [`send`](Self::send), keeping the response status, headers and request id.
    pub async fn send_with_metadata(self) -> Result<Response<ChatCompletionOutput>> {
        let (_, request) = self.prepare(false).await?;
        let (value, meta) = self.client.execute_json(&request).await?;
        Ok(Response { value, meta })
    }

    /// Sends the request and returns the answer as a stream of chunks, decoded as they arrive.
    /// Dropping the stream closes the connection; a stream that breaks ends with an error.
    pub async fn stream(
        self,
    ) -> Result<impl Stream<Item = Result<ChatCompletionStreamOutput>> + Send + 'static + use<>>
    {
        let (target, request) = self.prepare_stream().await?;
        let response = self.client.execute(&request, true).await?;
        // OpenAI-compatible providers always end with `[DONE]`; its absence means the stream
        // was cut. TGI (hf-inference, endpoints, local servers) may not send it.
        let require_done = matches!(target.mode, Mode::Routed | Mode::Direct)
            && target.provider.is_some_and(|p| {
                p != crate::providers::Provider::HfInference
                    && p != crate::providers::Provider::Cerebras
            });
        Ok(
            json_event_stream::<ChatCompletionStreamOutput, _>(response.bytes_stream())
                .require_done(require_done)
                .max_event_bytes(self.client.inner.max_response_bytes)
                .with_decoder(crate::http::chat_chunk::decode_chat_chunk),
        )
    }

    /// The streamed request: the body with `"stream": true`, asking for server-sent events.
    async fn prepare_stream(&self) -> Result<(Target, PreparedRequest)> {
        let (target, mut request) = self.prepare(true).await?;
        super::accept_event_stream(&mut request);
        Ok((target, request))
    }

    async fn prepare(&self, stream: bool) -> Result<(Target, PreparedRequest)> {
        if self.input.messages.is_empty() {
            return Err(Error::InvalidInput {
                field: "messages".into(),
                message: "at least one message is needed".into(),
            });
        }
        let target = self
            .client
            .resolve(Task::ChatCompletion, &self.call)
            .await?;
        let request = if self.extra_body.is_empty() && self.input.response_format.is_none() {
            // The common case, written straight from the typed input (no JSON tree between).
            let body = chat_body_fast(&target, &self.input, stream)?;
            PreparedRequest::bytes(self.client, &target, body.into(), Some("application/json"))?
        } else {
            let body = chat_body(&target, &self.input, &self.extra_body, stream)?;
            PreparedRequest::json(self.client, &target, &body)?
        };
        Ok((target, request))
    }
}

/// The model the body names on a target.
fn body_model(target: &Target, input: &ChatCompletionInput) -> Option<String> {
    match target.mode {
        // The caller's model names the served model, unless it is the server URL itself.
        Mode::Url => input
            .model
            .clone()
            .filter(|m| !m.starts_with("http://") && !m.starts_with("https://"))
            .or_else(|| target.provider_model_id.clone()),
        _ => target.provider_model_id.clone(),
    }
}

/// [`chat_body`] for a call without extra fields or a response format (nothing to merge or
/// rewrite): the same bytes, serialized once from the typed input instead of through a
/// `serde_json::Value` tree (typed → text → tree → text).
fn chat_body_fast(target: &Target, input: &ChatCompletionInput, stream: bool) -> Result<Vec<u8>> {
    let invalid = |e: serde_json::Error| Error::InvalidInput {
        field: "input".into(),
        message: e.to_string(),
    };
    let fields = serde_json::to_vec(input).map_err(invalid)?;
    let mut body = Vec::with_capacity(fields.len() + 64);
    body.push(b'{');
    if let Some(model) = body_model(target, input) {
        body.extend_from_slice(b"\"model\":");
        serde_json::to_writer(&mut body, &model).map_err(invalid)?;
    }
    for (key, value) in top_level_members(&fields) {
        if key == b"\"model\"" || key == b"\"stream\"" {
            continue;
        }
        if body.len() > 1 {
            body.push(b',');
        }
        body.extend_from_slice(key);
        body.push(b':');
        body.extend_from_slice(value);
    }
    if stream {
        if body.len() > 1 {
            body.push(b',');
        }
        body.extend_from_slice(b"\"stream\":true");
    }
    body.push(b'}');
    Ok(body)
}

/// The members of a compact JSON object written by serde_json, as (quoted key, value) byte
/// ranges, in order.
fn top_level_members(object: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut members = Vec::new();
    let mut i = 1; // after `{`
    while i < object.len() && object[i] == b'"' {
        let key_start = i;
        i = skip_string(object, i);
        let key = &object[key_start..i];
        i += 1; // `:`
        let value_start = i;
        let mut depth = 0usize;
        while i < object.len() {
            match object[i] {
                b'"' => {
                    i = skip_string(object, i);
                    continue;
                }
                b'[' | b'{' => depth += 1,
                b']' | b'}' if depth == 0 => break,
                b']' | b'}' => depth -= 1,
                b',' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
        members.push((key, &object[value_start..i]));
        if object.get(i) == Some(&b',') {
            i += 1;
        }
    }
    members
}

/// The index just past the JSON string starting at `start` (a `"`).
fn skip_string(json: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < json.len() {
        match json[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// The JSON body of a chat call on a target: the OpenAI form, `model` first, with the
/// provider's `response_format` spelling and the caller's extra fields merged last.
pub(crate) fn chat_body(
    target: &Target,
    input: &ChatCompletionInput,
    extra: &Map<String, Value>,
    stream: bool,
) -> Result<Value> {
    let Value::Object(fields) = to_wire_value(input).map_err(|e| Error::InvalidInput {
        field: "input".into(),
        message: e.to_string(),
    })?
    else {
        unreachable!("a struct serializes to an object")
    };
    let model = body_model(target, input);
    let mut body = Map::with_capacity(fields.len() + 2);
    if let Some(model) = model {
        body.insert("model".into(), Value::String(model));
    }
    for (key, value) in fields {
        if key != "model" && key != "stream" {
            body.insert(key, value);
        }
    }
    // `"stream": false` is the default everywhere and is not sent (a deliberate difference from
    // the reference, which sends it; see the README).
    if stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    let format = target
        .spec
        .and_then(|s| s.json_schema_format)
        .unwrap_or(JsonSchemaFormat::OpenAi);
    rewrite_response_format(&mut body, format);
    merge_json(&mut body, extra.clone());
    Ok(Value::Object(body))
}

/// Rewrites a `json_schema` response format into the provider's spelling.
fn rewrite_response_format(body: &mut Map<String, Value>, format: JsonSchemaFormat) {
    let Some(Value::Object(rf)) = body.get("response_format") else {
        return;
    };
    if rf.get("type").and_then(Value::as_str) != Some("json_schema") {
        return;
    }
    let schema = rf
        .get("json_schema")
        .and_then(|j| j.get("schema"))
        .cloned()
        .unwrap_or(Value::Null);
    match format {
        JsonSchemaFormat::JsonObject => {
            body.insert(
                "response_format".into(),
                serde_json::json!({"type": "json_object", "schema": schema}),
            );
        }
        JsonSchemaFormat::FlatJsonSchema => {
            body.insert(
                "response_format".into(),
                serde_json::json!({"type": "json_schema", "schema": schema}),
            );
        }
        JsonSchemaFormat::TgiGrammar => {
            body.insert(
                "response_format".into(),
                serde_json::json!({"type": "json_object", "value": schema}),
            );
        }
        JsonSchemaFormat::GuidedJson => {
            body.insert("guided_json".into(), schema);
        }
        JsonSchemaFormat::NonStrict => {
            if let Some(Value::Object(rf)) = body.get_mut("response_format")
                && let Some(Value::Object(js)) = rf.get_mut("json_schema")
                && js.get("strict").and_then(Value::as_bool) != Some(false)
            {
                js.insert("strict".into(), Value::Bool(false));
            }
        }
        _ => {}
    }
}

impl InferenceClient {
    /// Starts a chat-completion call (the `conversational` task), the way the OpenAI clients
    /// shape it. See [`ChatCompletionRequest`].
    pub fn chat_completion(
        &self,
        messages: Vec<ChatCompletionInputMessage>,
    ) -> ChatCompletionRequest<'_> {
        ChatCompletionRequest::new(self, ChatCompletionInput::new(messages))
    }

    /// Starts a chat-completion call from a complete typed input (its `model`, if set, picks the
    /// model).
    pub fn chat_completion_input(&self, input: ChatCompletionInput) -> ChatCompletionRequest<'_> {
        ChatCompletionRequest::new(self, input)
    }

    /// The OpenAI-compatible spelling: `client.chat().completions().create(input)`.
    pub fn chat(&self) -> Chat<'_> {
        Chat { client: self }
    }
}

/// `client.chat()`: the OpenAI-compatible namespace.
#[derive(Debug, Clone, Copy)]
pub struct Chat<'c> {
    client: &'c InferenceClient,
}

impl<'c> Chat<'c> {
    /// `client.chat().completions()`.
    pub fn completions(self) -> Completions<'c> {
        Completions {
            client: self.client,
        }
    }
}

/// `client.chat().completions()`: `create` and `create_stream`, as in the OpenAI clients.
#[derive(Debug, Clone, Copy)]
pub struct Completions<'c> {
    client: &'c InferenceClient,
}

impl Completions<'_> {
    /// Sends a chat-completion request (`input.model` picks the model).
    ///
    /// ```no_run
    /// use hf_inference::InferenceClient;
    /// use hf_inference::types::chat_completion::{ChatCompletionInput, ChatCompletionInputMessage};
    ///
    /// # async fn demo() -> hf_inference::error::Result<()> {
    /// let client = InferenceClient::builder().token("hf_xxx").build()?;
    /// let input = ChatCompletionInput {
    ///     model: Some("openai/gpt-oss-120b".into()),
    ///     max_tokens: Some(100),
    ///     ..ChatCompletionInput::new(vec![ChatCompletionInputMessage::user("Hello!")])
    /// };
    /// let output = client.chat().completions().create(input).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create(self, input: ChatCompletionInput) -> Result<ChatCompletionOutput> {
        self.client.chat_completion_input(input).send().await
    }

    /// Streaming variant of [`create`](Self::create).
    pub async fn create_stream(
        self,
        input: ChatCompletionInput,
    ) -> Result<impl Stream<Item = Result<ChatCompletionStreamOutput>> + Send + 'static + use<>>
    {
        self.client.chat_completion_input(input).stream().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::chat::ChatCompletionInputMessage;

    fn target(mode: Mode, provider_model_id: Option<&str>) -> Target {
        Target {
            provider: None,
            spec: None,
            task: Task::ChatCompletion,
            mode,
            url: url::Url::parse("http://127.0.0.1:8080/v1/chat/completions").unwrap(),
            model: "m".into(),
            provider_model_id: provider_model_id.map(str::to_owned),
            auth: None,
            lora_weights_path: None,
        }
    }

    /// The direct serialization writes exactly the bytes of the `Value` route.
    #[test]
    fn fast_body_is_byte_for_byte_the_general_body() {
        let messages = vec![
            ChatCompletionInputMessage::system("Be \"brief\", {please}: [ok]\n"),
            ChatCompletionInputMessage::user("What is 0.7 + 1e-3? é ✓ \\ \u{1}"),
        ];
        let mut inputs = vec![ChatCompletionInput::new(messages.clone())];
        let mut full = ChatCompletionInput::new(messages);
        full.model = Some("meta-llama/Llama-3.1-8B-Instruct".into());
        full.temperature = Some(0.7);
        full.top_p = Some(0.95);
        full.max_tokens = Some(64);
        full.stop = Some(vec!["}".into(), "\",".into()]);
        full.stream = Some(false);
        full.logit_bias = Some(vec![0.1, -2.5]);
        full.seed = Some(-3);
        inputs.push(full.clone());
        full.model = Some("http://127.0.0.1:8080".into());
        inputs.push(full);
        for input in &inputs {
            for t in [
                target(Mode::Url, None),
                target(Mode::Url, Some("served")),
                target(Mode::Routed, Some("provider/model")),
            ] {
                for stream in [false, true] {
                    let general =
                        serde_json::to_vec(&chat_body(&t, input, &Map::new(), stream).unwrap())
                            .unwrap();
                    let fast = chat_body_fast(&t, input, stream).unwrap();
                    assert_eq!(
                        String::from_utf8(fast).unwrap(),
                        String::from_utf8(general).unwrap()
                    );
                }
            }
        }
    }
}
