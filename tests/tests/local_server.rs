//! The client against real server software: llama.cpp's `llama-server` on loopback, serving the
//! tiny generated test model, called through the public API as a user would (the server's URL as
//! the client's model or base URL, no token).
//!
//! The model is a designed stub (`../shared/reference/local-server.md`): every unconstrained reply
//! is `Hello from the tiny test model` (six tokens, then end of sequence), every JSON string it
//! writes is `lorem ipsum`, every integer `1`, and `tool_choice: "required"` yields a real
//! Hermes-style tool call that the server parses. So the tests can assert exact answers.
//!
//! Servers: see `hf_inference_tests::local_llm` (`.ci/run` starts them; without them the tests
//! skip, except under `CI=true`, where they fail).

use futures_util::StreamExt;
use hf_inference::error::Error;
use hf_inference::types::chat_completion::{
    ChatCompletionInputFunctionDefinition, ChatCompletionInputGrammarType,
    ChatCompletionInputMessage, ChatCompletionInputStreamOptions, ChatCompletionInputTool,
    ChatCompletionInputToolChoice, ChatCompletionStreamOutput,
};
use hf_inference::{InferenceClient, Result};
use hf_inference_tests::local_llm::{LocalLlm, local_llm};
use serde_json::{Value, json};

/// The tiny model's whole answer to any prompt.
const REPLY: &str = "Hello from the tiny test model";

macro_rules! servers {
    () => {
        match local_llm() {
            Some(servers) => servers,
            None => return,
        }
    };
}

/// A client the way a user points one at a local server: the URL as the model, no token.
fn client(servers: &LocalLlm) -> InferenceClient {
    InferenceClient::builder()
        .model(servers.url.as_str())
        .build()
        .expect("a URL model and no token is a valid configuration")
}

fn ask() -> Vec<ChatCompletionInputMessage> {
    vec![
        ChatCompletionInputMessage::system("You are a test."),
        ChatCompletionInputMessage::user("Say hello."),
    ]
}

#[tokio::test]
async fn chat_completion_returns_the_models_reply() {
    let servers = servers!();
    let out = client(servers)
        .chat_completion(ask())
        .send()
        .await
        .expect("chat completion");
    assert_eq!(out.choices.len(), 1);
    let choice = &out.choices[0];
    assert_eq!(choice.message.content.as_deref(), Some(REPLY));
    assert_eq!(choice.finish_reason, "stop");
    assert!(choice.message.tool_calls.is_none());
    assert_eq!(out.model, "tiny", "the server's model alias (-a tiny)");
    assert!(!out.id.is_empty());
    // Six words plus the end-of-sequence token, which llama-server counts.
    assert!(out.usage.completion_tokens >= 6, "{:?}", out.usage);
    assert!(out.usage.prompt_tokens > 0, "{:?}", out.usage);
    assert_eq!(
        out.usage.total_tokens,
        out.usage.prompt_tokens + out.usage.completion_tokens
    );
}

#[tokio::test]
async fn a_base_url_client_with_a_per_call_model_name_works_too() {
    let servers = servers!();
    let client = InferenceClient::builder()
        .base_url(servers.url.as_str())
        .build()
        .unwrap();
    let out = client
        .chat_completion(vec![ChatCompletionInputMessage::user("Hi")])
        .model("tiny")
        .send()
        .await
        .expect("chat completion");
    assert_eq!(out.choices[0].message.content.as_deref(), Some(REPLY));
}

async fn collect(
    stream: impl futures_util::Stream<Item = Result<ChatCompletionStreamOutput>>,
) -> Vec<ChatCompletionStreamOutput> {
    let mut chunks = Vec::new();
    let mut stream = std::pin::pin!(stream);
    while let Some(chunk) = stream.next().await {
        chunks.push(chunk.expect("every chunk decodes"));
    }
    chunks
}

fn text_of(chunks: &[ChatCompletionStreamOutput]) -> String {
    chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter_map(|c| c.delta.content.as_deref())
        .collect()
}

#[tokio::test]
async fn streamed_deltas_join_to_the_same_reply_and_end_with_stop() {
    let servers = servers!();
    let chunks = collect(
        client(servers)
            .chat_completion(ask())
            .stream()
            .await
            .expect("stream starts"),
    )
    .await;
    assert_eq!(text_of(&chunks), REPLY);
    let content_chunks = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter(|c| c.delta.content.as_deref().is_some_and(|t| !t.is_empty()))
        .count();
    assert!(
        content_chunks >= 6,
        "one delta per token, got {content_chunks}"
    );
    let finish: Vec<_> = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter_map(|c| c.finish_reason.as_deref())
        .collect();
    assert_eq!(
        finish,
        ["stop"],
        "exactly one finish reason, on the last choice"
    );
    assert!(
        chunks.iter().all(|c| c.usage.is_none()),
        "no usage chunk unless asked for"
    );
}

#[tokio::test]
async fn stream_options_include_usage_adds_a_final_usage_chunk() {
    let servers = servers!();
    let options = ChatCompletionInputStreamOptions {
        include_usage: Some(true),
    };
    let chunks = collect(
        client(servers)
            .chat_completion(ask())
            .stream_options(options)
            .stream()
            .await
            .expect("stream starts"),
    )
    .await;
    assert_eq!(text_of(&chunks), REPLY);
    let last = chunks.last().expect("some chunks");
    assert!(last.choices.is_empty(), "the usage chunk has no choices");
    let usage = last.usage.as_ref().expect("usage in the last chunk");
    assert!(usage.completion_tokens >= 6, "{usage:?}");
    assert_eq!(
        usage.total_tokens,
        usage.prompt_tokens + usage.completion_tokens
    );
    assert_eq!(
        chunks.iter().filter(|c| c.usage.is_some()).count(),
        1,
        "one usage chunk"
    );
}

#[tokio::test]
async fn max_tokens_cuts_the_reply_with_finish_reason_length() {
    let servers = servers!();
    let client = client(servers);
    let out = client
        .chat_completion(ask())
        .max_tokens(3)
        .send()
        .await
        .expect("chat completion");
    assert_eq!(
        out.choices[0].message.content.as_deref(),
        Some("Hello from the")
    );
    assert_eq!(out.choices[0].finish_reason, "length");
    assert_eq!(out.usage.completion_tokens, 3);

    let chunks = collect(
        client
            .chat_completion(ask())
            .max_tokens(2)
            .stream()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(text_of(&chunks), "Hello from");
    let finish: Vec<_> = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter_map(|c| c.finish_reason.as_deref())
        .collect();
    assert_eq!(finish, ["length"]);
}

fn weather_tool() -> ChatCompletionInputTool {
    let mut function = ChatCompletionInputFunctionDefinition::new("get_weather");
    function.description = Some("The weather in a city".into());
    function.parameters = Some(json!({
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["c", "f"]}
        },
        "required": ["city", "unit"]
    }));
    ChatCompletionInputTool::new(function, "function")
}

#[tokio::test]
async fn required_tool_choice_returns_a_typed_tool_call() {
    let servers = servers!();
    let out = client(servers)
        .chat_completion(vec![ChatCompletionInputMessage::user(
            "What is the weather in Paris?",
        )])
        .tools(vec![weather_tool()])
        .tool_choice(ChatCompletionInputToolChoice::Required)
        .send()
        .await
        .expect("tool call");
    let choice = &out.choices[0];
    assert_eq!(choice.finish_reason, "tool_calls");
    let calls = choice
        .message
        .tool_calls
        .as_ref()
        .expect("typed tool calls");
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.type_, "function");
    assert_eq!(call.function.name, "get_weather");
    assert!(!call.id.is_empty());
    let arguments: Value =
        serde_json::from_str(&call.function.arguments).expect("arguments are JSON");
    // Strings are "lorem ipsum" and an enum takes its `f…` option, by the model's design.
    assert_eq!(arguments, json!({"city": "lorem ipsum", "unit": "f"}));
}

#[tokio::test]
async fn a_streamed_tool_call_joins_to_the_same_call() {
    let servers = servers!();
    let chunks = collect(
        client(servers)
            .chat_completion(vec![ChatCompletionInputMessage::user(
                "What is the weather in Paris?",
            )])
            .tools(vec![weather_tool()])
            .tool_choice(ChatCompletionInputToolChoice::Required)
            .stream()
            .await
            .expect("stream starts"),
    )
    .await;
    let (mut ids, mut names, mut arguments) = (Vec::new(), String::new(), String::new());
    for delta in chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter_map(|c| c.delta.tool_calls.as_ref())
        .flatten()
    {
        assert_eq!(delta.index, 0, "one call");
        ids.extend(delta.id.clone());
        if let Some(function) = &delta.function {
            names.push_str(function.name.as_deref().unwrap_or_default());
            arguments.push_str(function.arguments.as_deref().unwrap_or_default());
        }
    }
    assert_eq!(ids.len(), 1, "the id comes once: {ids:?}");
    assert_eq!(names, "get_weather");
    let arguments: Value = serde_json::from_str(&arguments).expect("joined arguments are JSON");
    assert_eq!(arguments, json!({"city": "lorem ipsum", "unit": "f"}));
    let finish: Vec<_> = chunks
        .iter()
        .flat_map(|c| &c.choices)
        .filter_map(|c| c.finish_reason.as_deref())
        .collect();
    assert_eq!(finish, ["tool_calls"]);
}

/// The errors of `value` against the subset of JSON Schema the test schema uses (`type`,
/// `properties`, `required`, `additionalProperties: false`, `items`, `enum`, `minItems`).
fn schema_errors(schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let kind = schema["type"].as_str().unwrap_or_default();
    let type_ok = match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => true,
    };
    if !type_ok {
        return vec![format!("{at}: expected {kind}, got {value}")];
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {options:?}"));
    }
    if let (Some(fields), Some(properties)) = (value.as_object(), schema["properties"].as_object())
    {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !fields.contains_key(name) {
                errors.push(format!("{at}: missing required `{name}`"));
            }
        }
        for (name, field) in fields {
            match properties.get(name) {
                Some(sub) => errors.extend(schema_errors(sub, field, &format!("{at}/{name}"))),
                None if schema["additionalProperties"] == json!(false) => {
                    errors.push(format!("{at}: unexpected `{name}`"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(item_schema)) = (value.as_array(), schema.get("items")) {
        if let Some(min) = schema["minItems"].as_u64()
            && (items.len() as u64) < min
        {
            errors.push(format!("{at}: fewer than {min} items"));
        }
        for (i, item) in items.iter().enumerate() {
            errors.extend(schema_errors(item_schema, item, &format!("{at}/{i}")));
        }
    }
    errors
}

#[test]
fn the_schema_check_rejects_what_it_should() {
    let schema = person_schema();
    let good = json!({"name": "a", "age": 3, "tags": ["x"], "speed": "slow"});
    assert_eq!(schema_errors(&schema, &good, ""), Vec::<String>::new());
    for bad in [
        json!({"name": "a", "age": 3, "tags": ["x"]}),
        json!({"name": 1, "age": 3, "tags": ["x"], "speed": "slow"}),
        json!({"name": "a", "age": 3.5, "tags": ["x"], "speed": "slow"}),
        json!({"name": "a", "age": 3, "tags": [], "speed": "slow"}),
        json!({"name": "a", "age": 3, "tags": [1], "speed": "slow"}),
        json!({"name": "a", "age": 3, "tags": ["x"], "speed": "medium"}),
        json!({"name": "a", "age": 3, "tags": ["x"], "speed": "slow", "extra": 1}),
    ] {
        assert!(!schema_errors(&schema, &bad, "").is_empty(), "{bad}");
    }
}

fn person_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "speed": {"type": "string", "enum": ["slow", "fast"]}
        },
        "required": ["name", "age", "tags", "speed"],
        "additionalProperties": false
    })
}

#[tokio::test]
async fn a_json_schema_response_format_gives_json_that_validates() {
    let servers = servers!();
    let schema = person_schema();
    let out = client(servers)
        .chat_completion(vec![ChatCompletionInputMessage::user("Describe a person.")])
        .response_format(ChatCompletionInputGrammarType::json_schema(
            "person",
            schema.clone(),
        ))
        .send()
        .await
        .expect("structured output");
    let content = out.choices[0].message.content.as_deref().expect("content");
    let value: Value = serde_json::from_str(content).expect("the answer is JSON");
    assert_eq!(schema_errors(&schema, &value, ""), Vec::<String>::new());
    // The model's fixed choices under a grammar: strings "lorem ipsum", integers 1, arrays
    // closed after one item, an enum's `f…` option.
    assert_eq!(
        value,
        json!({"name": "lorem ipsum", "age": 1, "tags": ["lorem ipsum"], "speed": "fast"})
    );
}

#[tokio::test]
async fn text_generation_goes_through_the_completions_route() {
    let servers = servers!();
    // The client's base URL is the server; the call names its OpenAI completions route (the
    // base URL itself would get the TGI format, which llama-server does not speak).
    let completions = format!("{}/completions", servers.url);
    let client = client(servers);
    let out = client
        .text_generation("Once upon a time")
        .model(completions.as_str())
        .max_new_tokens(4)
        .send()
        .await
        .expect("text generation");
    assert_eq!(out.generated_text, "Hello from the tiny");
    assert_eq!(out.extra.get("finish_reason"), Some(&json!("length")));

    let full = client
        .text_generation("Once upon a time")
        .model(completions.as_str())
        .send()
        .await
        .expect("text generation");
    assert_eq!(full.generated_text, REPLY);
    assert_eq!(full.extra.get("finish_reason"), Some(&json!("stop")));

    let mut stream = client
        .text_generation("Once upon a time")
        .model(completions.as_str())
        .stream()
        .await
        .expect("stream starts");
    let mut text = String::new();
    let mut finish = Vec::new();
    while let Some(token) = stream.next().await {
        let token = token.expect("every token decodes");
        text.push_str(&token.token.text);
        finish.extend(token.extra.get("finish_reason").cloned());
    }
    assert_eq!(text, REPLY);
    assert_eq!(finish, [json!("stop")]);
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>() / (norm(a) * norm(b))
}

#[tokio::test]
async fn feature_extraction_returns_one_normalised_vector_per_input() {
    let servers = servers!();
    let embeddings = format!("{}/embeddings", servers.url);
    let client = client(servers);
    let one = client
        .feature_extraction("The quick brown fox")
        .model(embeddings.as_str())
        .send()
        .await
        .expect("embedding");
    let one = one.into_vectors().expect("vectors");
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].len(), 64, "the tiny model's embedding size");
    assert!(
        (norm(&one[0]) - 1.0).abs() < 1e-3,
        "llama-server L2-normalises"
    );

    let two = client
        .feature_extraction(vec![
            "The quick brown fox".to_owned(),
            "jumps over the lazy dog".to_owned(),
        ])
        .model(embeddings.as_str())
        .send()
        .await
        .expect("embeddings");
    let two = two.into_vectors().expect("vectors");
    assert_eq!(two.len(), 2);
    assert!(two.iter().all(|v| v.len() == 64));
    // A batch is computed together, so the same input may differ in the last bits.
    assert!(
        cosine(&two[0], &one[0]) > 0.9999,
        "the same input embeds the same way"
    );
    // The model's designed dimensions are shared, so different inputs stay close (≈ 0.96).
    let different = cosine(&two[0], &two[1]);
    assert!(
        different < 0.999,
        "different inputs, different vectors: {different}"
    );
}

#[tokio::test]
async fn a_prompt_longer_than_the_context_is_a_typed_400_with_the_servers_message() {
    let servers = servers!();
    // Every character is a token for this tokenizer; the server's slots hold 2048.
    let long = "a ".repeat(3000);
    let client = client(servers);
    let check = |err: Error| {
        let Error::Http(context) = &err else {
            panic!("expected Error::Http, got {err:?}");
        };
        assert_eq!(context.status, 400);
        let message = context.server_message.as_deref().unwrap_or_default();
        assert!(
            message.contains("exceeds the available context size"),
            "{message}"
        );
        assert_eq!(
            context.error_type.as_deref(),
            Some("exceed_context_size_error")
        );
        assert!(err.to_string().contains(message), "{err}");
        assert!(!err.is_retryable());
    };
    let err = client
        .chat_completion(vec![ChatCompletionInputMessage::user(long.as_str())])
        .send()
        .await
        .expect_err("too long");
    check(err);
    // A stream is refused the same way, before any event.
    let err = client
        .chat_completion(vec![ChatCompletionInputMessage::user(long.as_str())])
        .stream()
        .await
        .err()
        .expect("too long");
    check(err);
}

#[tokio::test]
async fn a_server_with_an_api_key_answers_401_without_it_and_serves_with_it() {
    let servers = servers!();
    let anonymous = InferenceClient::builder()
        .model(servers.keyed_url.as_str())
        .build()
        .unwrap();
    let err = anonymous
        .chat_completion(ask())
        .send()
        .await
        .expect_err("no key");
    let Error::Unauthorized(context) = &err else {
        panic!("expected Error::Unauthorized, got {err:?}");
    };
    assert_eq!(context.status, 401);
    assert_eq!(context.server_message.as_deref(), Some("Invalid API Key"));
    assert_eq!(context.error_type.as_deref(), Some("authentication_error"));
    assert!(err.to_string().contains("Invalid API Key"), "{err}");

    let wrong_key = "sk-wrong-key-0123456789";
    let wrong = InferenceClient::builder()
        .model(servers.keyed_url.as_str())
        .api_key(wrong_key)
        .build()
        .unwrap();
    let err = wrong
        .chat_completion(ask())
        .send()
        .await
        .expect_err("wrong key");
    assert_eq!(err.status(), Some(401));
    assert!(matches!(err, Error::Unauthorized(_)));
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(wrong_key), "the key leaked: {shown}");

    let keyed = InferenceClient::builder()
        .model(servers.keyed_url.as_str())
        .api_key(&servers.api_key)
        .build()
        .unwrap();
    let out = keyed
        .chat_completion(ask())
        .send()
        .await
        .expect("the right key is accepted");
    assert_eq!(out.choices[0].message.content.as_deref(), Some(REPLY));
}
