//! The exact requests of `chat_completion` and `text_generation` on every provider that serves
//! them, routed (`hf_` token, through the router) and direct (the provider's own key), checked
//! against the reference wire formats of python-client.md (§2 routing, §3 wire formats, §6.3
//! test facts).
//!
//! Each (provider, task, mode) has an insta snapshot of its [`RequestPreview`] (method, URL,
//! sorted headers with the token redacted, pretty JSON body). The snapshots alone would only
//! freeze whatever the SDK does, so every key fact of the reference is also asserted: the URL,
//! the body, the `model`, the `response_format` rewrite. The same request is then really sent
//! to a loopback server (router and provider hosts redirected to it) to check what the preview
//! cannot show: the auth scheme (`Bearer …`) and that the preview is byte for byte what goes on
//! the wire.
//!
//! The expected facts are written out from the reference below (`chat_reference`,
//! `text_generation_reference`), not read from `specs/providers.toml`, so a wrong table entry
//! fails here. A provider added to the table without a reference entry fails too.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use hf_inference::tasks::chat_completion::ChatCompletionRequest;
use hf_inference::types::chat_completion::{
    ChatCompletionInputGrammarType, ChatCompletionInputJsonSchemaConfig, ChatCompletionInputMessage,
};
use hf_inference::{Error, InferenceClient, Provider, ProviderChoice, RequestPreview, Task};
use hf_inference_tests::support::{
    ConnectionCounter, Mode, ROUTER, RawRequest, check_preview, read_raw_request, reference_modes,
    render_preview,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Inputs

const HF_TOKEN: &str = "hf_reqSnapshotSecret0123456789abcdef";
const PROVIDER_KEY: &str = "pk-reqSnapshotSecret0123456789abcdef";
const HUB_MODEL: &str = "meta-llama/Llama-3.3-70B-Instruct";
/// The model of `openai`, which has no Hub mapping: sent as given.
const OPENAI_MODEL: &str = "gpt-4o-mini";

const SYSTEM: &str = "You are a concise assistant. Answer in one sentence.";
const USER: &str = "What is the capital of France?";
const PROMPT: &str = "The capital of France is";

/// The provider's own id of [`HUB_MODEL`], pinned with `model_mapping` (distinct from the Hub id
/// so the body shows which one was sent).
fn provider_model_id(provider: Provider) -> String {
    format!("{provider}/llama-3.3-70b-instruct")
}

fn messages() -> Vec<ChatCompletionInputMessage> {
    vec![
        ChatCompletionInputMessage::system(SYSTEM),
        ChatCompletionInputMessage::user(USER),
    ]
}

fn messages_json() -> Value {
    json!([
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": USER},
    ])
}

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "country": {"type": "string"}
        },
        "required": ["city", "country"],
        "additionalProperties": false
    })
}

/// OpenAI structured output: `{"type": "json_schema", "json_schema": {name, schema, strict}}`.
fn json_schema_format(strict: Option<bool>) -> ChatCompletionInputGrammarType {
    let mut config = ChatCompletionInputJsonSchemaConfig::new("capital");
    let Value::Object(schema) = schema() else {
        unreachable!()
    };
    config.schema = Some(schema);
    config.strict = strict;
    ChatCompletionInputGrammarType::JsonSchema {
        json_schema: config,
    }
}

fn json_schema_format_json(strict: Option<bool>) -> Value {
    let mut json_schema = json!({"name": "capital", "schema": schema()});
    if let Some(strict) = strict {
        json_schema["strict"] = json!(strict);
    }
    json!({"type": "json_schema", "json_schema": json_schema})
}

// ---------------------------------------------------------------------------------------------
// The reference (python-client.md §3)

#[derive(Clone, Copy, Debug, PartialEq)]
enum SchemaRewrite {
    /// Unchanged (OpenAI form).
    Unchanged,
    /// `{"type": "json_object", "schema": S}` (cohere, fireworks-ai; §3.2).
    JsonObjectSchema,
    /// `{"type": "json_schema", "schema": S}` (together 2.4.0; §3.6).
    FlatJsonSchema,
    /// `{"type": "json_object", "value": S}` (hf-inference TGI grammar; §3.13).
    JsonObjectValue,
    /// Unchanged plus a top-level `"guided_json": S` (nebius, rc6; §3.14).
    GuidedJson,
    /// Unchanged but `json_schema.strict` forced to `false` (sambanova, rc6; §3.14).
    NonStrict,
}

struct ChatReference {
    /// Reachable through the router (`https://router.huggingface.co/{id}{route}`).
    routed: bool,
    /// The provider's own host, for direct calls.
    direct_base: Option<&'static str>,
    route: String,
    rewrite: SchemaRewrite,
    /// Static headers the provider gets in both modes.
    extra_headers: &'static [(&'static str, &'static str)],
}

fn chat_reference(provider: Provider) -> ChatReference {
    use SchemaRewrite::*;
    let openai_style = |base: &'static str, route: &str| ChatReference {
        routed: true,
        direct_base: Some(base),
        route: route.to_owned(),
        rewrite: Unchanged,
        extra_headers: &[],
    };
    match provider.as_str() {
        // §3.2
        "baseten" => openai_style("https://inference.baseten.co", "/v1/chat/completions"),
        "cerebras" => openai_style("https://api.cerebras.ai", "/v1/chat/completions"),
        "cohere" => ChatReference {
            rewrite: JsonObjectSchema,
            ..openai_style(
                "https://api.cohere.com",
                "/compatibility/v1/chat/completions",
            )
        },
        "fireworks-ai" => ChatReference {
            rewrite: JsonObjectSchema,
            ..openai_style("https://api.fireworks.ai", "/inference/v1/chat/completions")
        },
        "groq" => openai_style("https://api.groq.com", "/openai/v1/chat/completions"),
        "openai" => ChatReference {
            routed: false,
            ..openai_style("https://api.openai.com", "/v1/chat/completions")
        },
        "ovhcloud" => openai_style(
            "https://oai.endpoints.kepler.ai.cloud.ovh.net",
            "/v1/chat/completions",
        ),
        "publicai" => openai_style("https://api.publicai.co", "/v1/chat/completions"),
        // §3.3
        "deepinfra" => openai_style("https://api.deepinfra.com", "/v1/openai/chat/completions"),
        // §3.6
        "together" => ChatReference {
            rewrite: FlatJsonSchema,
            ..openai_style("https://api.together.xyz", "/v1/chat/completions")
        },
        // §3.7 - §3.10
        "novita" => openai_style("https://api.novita.ai", "/v3/openai/chat/completions"),
        "nscale" => openai_style("https://inference.api.nscale.com", "/v1/chat/completions"),
        "scaleway" => openai_style("https://api.scaleway.ai", "/v1/chat/completions"),
        "featherless-ai" => openai_style("https://api.featherless.ai", "/v1/chat/completions"),
        // §3.12
        "zai-org" => ChatReference {
            extra_headers: &[
                ("accept-language", "en-US,en"),
                ("x-source-channel", "hugging_face"),
            ],
            ..openai_style("https://api.z.ai", "/api/paas/v4/chat/completions")
        },
        // §2.4, §3.13: always the router, the Hub id in the path.
        "hf-inference" => ChatReference {
            routed: true,
            direct_base: None,
            route: format!("/models/{HUB_MODEL}/v1/chat/completions"),
            rewrite: JsonObjectValue,
            extra_headers: &[],
        },
        // §3.14 (1.0.0rc6; removed from the router since).
        "hyperbolic" => openai_style("https://api.hyperbolic.xyz", "/v1/chat/completions"),
        "nebius" => ChatReference {
            rewrite: GuidedJson,
            ..openai_style("https://api.studio.nebius.ai", "/v1/chat/completions")
        },
        "sambanova" => ChatReference {
            rewrite: NonStrict,
            ..openai_style("https://api.sambanova.ai", "/v1/chat/completions")
        },
        other => panic!(
            "provider `{other}` serves chat-completion but has no reference entry here; \
             add one from python-client.md §3"
        ),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum TextGenerationBody {
    /// `{"inputs": prompt, "parameters": {...}}` (hf-inference TGI; §3.13).
    Tgi,
    /// `{"prompt", ...params, "model"}` (completions template; §3.0).
    Completions,
    /// Chat endpoint with the prompt as a user message (hyperbolic, rc6; §3.14).
    HyperbolicChat,
}

struct TextGenerationReference {
    direct_base: Option<&'static str>,
    route: String,
    body: TextGenerationBody,
}

fn text_generation_reference(provider: Provider) -> TextGenerationReference {
    use TextGenerationBody::*;
    let completions = |base: &'static str, route: &str| TextGenerationReference {
        direct_base: Some(base),
        route: route.to_owned(),
        body: Completions,
    };
    match provider.as_str() {
        "deepinfra" => completions("https://api.deepinfra.com", "/v1/openai/completions"),
        "featherless-ai" => completions("https://api.featherless.ai", "/v1/completions"),
        "together" => completions("https://api.together.xyz", "/v1/completions"),
        "novita" => completions("https://api.novita.ai", "/v3/openai/completions"),
        "nebius" => completions("https://api.studio.nebius.ai", "/v1/completions"),
        "hyperbolic" => TextGenerationReference {
            body: HyperbolicChat,
            ..completions("https://api.hyperbolic.xyz", "/v1/chat/completions")
        },
        "hf-inference" => TextGenerationReference {
            direct_base: None,
            route: format!("/models/{HUB_MODEL}"),
            body: Tgi,
        },
        other => panic!(
            "provider `{other}` serves text-generation but has no reference entry here; \
             add one from python-client.md §3"
        ),
    }
}

/// The credential of `mode`.
fn token(mode: Mode) -> &'static str {
    mode.pick(HF_TOKEN, PROVIDER_KEY)
}

fn expected_url(provider: Provider, mode: Mode, direct_base: Option<&str>, route: &str) -> String {
    match mode {
        Mode::Routed => format!("{ROUTER}/{provider}{route}"),
        Mode::Direct => format!("{}{route}", direct_base.expect("a direct host")),
    }
}

/// The `model` the body must carry: the mapped provider id, except for the providers the
/// reference does not map (hf-inference: the Hub id; openai: the model as given).
fn expected_model(provider: Provider) -> String {
    match provider {
        Provider::HfInference => HUB_MODEL.to_owned(),
        Provider::Openai => OPENAI_MODEL.to_owned(),
        p => provider_model_id(p),
    }
}

fn model_for(provider: Provider) -> &'static str {
    if provider == Provider::Openai {
        OPENAI_MODEL
    } else {
        HUB_MODEL
    }
}

// ---------------------------------------------------------------------------------------------
// Loopback servers

/// A request as [`CaptureServer`] recorded it.
type Captured = RawRequest;

/// A minimal HTTP/1.1 server that records every request and answers 200 with a body every
/// decoder of this file accepts (a chat completion that also has `choices[0].text` and
/// `generated_text`).
struct CaptureServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Captured>>>,
}

const UNIVERSAL_ANSWER: &str = r#"{"id":"cmpl-1","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":" Paris"},"text":" Paris","finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2},"generated_text":" Paris"}"#;

impl CaptureServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve_one(stream, &log));
            }
        });
        Self { addr, requests }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

/// Reads one request, records it (before answering, so the client never sees the answer of an
/// unrecorded request), answers.
fn serve_one(stream: TcpStream, log: &Mutex<Vec<Captured>>) -> Option<()> {
    let request = read_raw_request(&stream)?;
    log.lock().unwrap().push(request);
    let mut stream = stream;
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{UNIVERSAL_ANSWER}",
        UNIVERSAL_ANSWER.len()
    );
    stream.write_all(answer.as_bytes()).ok()
}

// ---------------------------------------------------------------------------------------------
// Clients

/// A client with the real router and provider hosts (for the previews), the Hub pointed at
/// `hub`, and every provider's id of [`HUB_MODEL`] pinned.
fn preview_client(token: &str, hub: &ConnectionCounter) -> InferenceClient {
    pinned(InferenceClient::builder().token(token).hub_url(hub.url()))
        .build()
        .expect("client")
}

/// The same client with the router and every provider host redirected to `capture`.
fn wire_client(token: &str, hub: &ConnectionCounter, capture: &CaptureServer) -> InferenceClient {
    let mut builder = pinned(
        InferenceClient::builder()
            .token(token)
            .hub_url(hub.url())
            .router_url(capture.url()),
    );
    for provider in Provider::ALL {
        builder = builder.provider_url(*provider, capture.url());
    }
    builder.build().expect("client")
}

fn pinned(
    mut builder: hf_inference::InferenceClientBuilder,
) -> hf_inference::InferenceClientBuilder {
    for provider in Provider::ALL {
        builder = builder.model_mapping(HUB_MODEL, *provider, provider_model_id(*provider));
    }
    builder
}

// ---------------------------------------------------------------------------------------------
// Checks shared by every request

/// Facts every request of this file must satisfy, whatever the provider.
fn check_common(preview: &RequestPreview, token: &str, what: &str) {
    let secrets = [token, "reqSnapshotSecret"];
    check_preview(preview, &secrets, None, "application/json", what);
    let user_agent = preview.header("user-agent").unwrap_or_default();
    assert!(
        user_agent.starts_with("hf-inference-rust/"),
        "{what}: user-agent {user_agent}"
    );
    assert_eq!(
        preview.header("x-hf-bill-to"),
        None,
        "{what}: no bill_to was set"
    );
}

/// Sends the request to the capture server and checks that the wire request is the preview:
/// same method, path and query, body bytes and headers, with the real token as
/// `Authorization: Bearer <token>` (§2.3: Bearer in both modes for these providers; routed
/// always Bearer with the HF token).
fn check_wire(preview: &RequestPreview, captured: &[Captured], token: &str, what: &str) {
    assert_eq!(captured.len(), 1, "{what}: one request on the wire");
    let wire = &captured[0];
    let url = url::Url::parse(&preview.url).expect("preview URL");
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    assert_eq!(wire.method, preview.method, "{what}");
    assert_eq!(wire.target, target, "{what}: path and query on the wire");
    assert_eq!(
        wire.body,
        preview.body.as_deref().unwrap_or_default(),
        "{what}: body on the wire"
    );
    assert_eq!(
        wire.header("authorization"),
        Some(format!("Bearer {token}").as_str()),
        "{what}: auth scheme"
    );
    for (name, value) in &preview.headers {
        if name == "authorization" {
            continue;
        }
        assert_eq!(
            wire.header(name),
            Some(value.as_str()),
            "{what}: header {name}"
        );
    }
}

fn keys(body: &Value) -> Vec<&str> {
    body.as_object()
        .expect("a JSON object body")
        .keys()
        .map(String::as_str)
        .collect()
}

fn key_set(body: &Value) -> BTreeSet<&str> {
    keys(body).into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// chat-completion

#[tokio::test]
async fn chat_completion_on_every_provider_and_mode() {
    let hub = ConnectionCounter::start();
    let capture = CaptureServer::start();
    let providers = Task::ChatCompletion.providers();
    assert!(
        providers.len() >= 15,
        "the reference has 18+ chat providers"
    );
    let mut snapshots = 0;
    for &provider in providers {
        let reference = chat_reference(provider);
        let modes = reference_modes(provider, reference.routed, reference.direct_base.is_some());
        for mode in modes {
            let token = token(mode);
            let what = format!("chat-completion on {provider} ({})", mode.name());
            let client = preview_client(token, &hub);
            let plain_preview = chat_request(&client, provider, false)
                .preview()
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let structured_preview = chat_request(&client, provider, true)
                .preview()
                .await
                .unwrap_or_else(|e| panic!("{what} with response_format: {e}"));

            let url = expected_url(provider, mode, reference.direct_base, &reference.route);
            for preview in [&plain_preview, &structured_preview] {
                check_common(preview, token, &what);
                assert_eq!(preview.url, url, "{what}: URL");
                for (name, value) in reference.extra_headers {
                    assert_eq!(preview.header(name), Some(*value), "{what}: header {name}");
                }
                let body = preview.body_json().expect("JSON body");
                // 2.4.0 serializes `model` first (§3.0) so the router can read it early.
                assert_eq!(keys(&body)[0], "model", "{what}: model first");
                assert_eq!(body["model"], json!(expected_model(provider)), "{what}");
                assert_eq!(body["messages"], messages_json(), "{what}");
                assert_eq!(body["max_tokens"], json!(64), "{what}");
                // Exactly 0.7, as the reference sends a Python float (not the f32 widened to
                // 0.699999988079071).
                assert_eq!(body["temperature"], json!(0.7), "{what}");
            }

            // Deliberate difference: the reference always sends `"stream": false`; we omit it
            // on non-streaming calls (README, "Deliberate differences").
            let plain_body = plain_preview.body_json().unwrap();
            assert_eq!(
                key_set(&plain_body),
                BTreeSet::from(["model", "messages", "max_tokens", "temperature"]),
                "{what}: plain body keys"
            );

            let body = structured_preview.body_json().unwrap();
            let original = json_schema_format_json(Some(true));
            let s = schema();
            let mut expected_keys = BTreeSet::from([
                "model",
                "messages",
                "max_tokens",
                "temperature",
                "response_format",
            ]);
            match reference.rewrite {
                SchemaRewrite::Unchanged => {
                    assert_eq!(body["response_format"], original, "{what}")
                }
                SchemaRewrite::JsonObjectSchema => assert_eq!(
                    body["response_format"],
                    json!({"type": "json_object", "schema": s}),
                    "{what}"
                ),
                SchemaRewrite::FlatJsonSchema => assert_eq!(
                    body["response_format"],
                    json!({"type": "json_schema", "schema": s}),
                    "{what}"
                ),
                SchemaRewrite::JsonObjectValue => assert_eq!(
                    body["response_format"],
                    json!({"type": "json_object", "value": s}),
                    "{what}"
                ),
                SchemaRewrite::GuidedJson => {
                    assert_eq!(body["response_format"], original, "{what}");
                    assert_eq!(body["guided_json"], s, "{what}");
                    expected_keys.insert("guided_json");
                }
                SchemaRewrite::NonStrict => assert_eq!(
                    body["response_format"],
                    json_schema_format_json(Some(false)),
                    "{what}"
                ),
            }
            assert_eq!(key_set(&body), expected_keys, "{what}: body keys");

            insta::assert_snapshot!(
                format!("chat_completion__{provider}__{}", mode.name()),
                format!(
                    "# plain\n{}\n# response_format json_schema\n{}",
                    render_preview(&plain_preview),
                    render_preview(&structured_preview)
                )
            );
            snapshots += 1;

            // On the wire: same request, with `Authorization: Bearer <token>`.
            let wire = wire_client(token, &hub, &capture);
            for (structured, preview) in [(false, &plain_preview), (true, &structured_preview)] {
                let sent = chat_request(&wire, provider, structured).send().await;
                assert!(sent.is_ok(), "{what}: send: {sent:?}");
                check_wire(preview, &capture.take(), token, &what);
            }
        }
    }
    assert!(snapshots >= 30, "{snapshots} chat snapshots");
    assert_eq!(hub.connections(), 0, "pinned mappings: no Hub lookup");
}

/// The realistic chat call of this file: system + user message, `max_tokens`, `temperature`,
/// and (`structured`) an OpenAI `json_schema` response format with `strict: true`.
fn chat_request(
    client: &InferenceClient,
    provider: Provider,
    structured: bool,
) -> ChatCompletionRequest<'_> {
    let request = client
        .chat_completion(messages())
        .model(model_for(provider))
        .provider(provider)
        .max_tokens(64)
        .temperature(0.7);
    if structured {
        request.response_format(json_schema_format(Some(true)))
    } else {
        request
    }
}

/// sambanova (§3.14): `strict` becomes `false` when true or missing; an explicit `false` stays.
#[tokio::test]
async fn sambanova_forces_non_strict_json_schema() {
    let hub = ConnectionCounter::start();
    let client = preview_client(PROVIDER_KEY, &hub);
    for strict in [Some(true), None, Some(false)] {
        let preview = client
            .chat_completion(messages())
            .model(HUB_MODEL)
            .provider(Provider::Sambanova)
            .response_format(json_schema_format(strict))
            .preview()
            .await
            .expect("preview");
        let body = preview.body_json().unwrap();
        assert_eq!(
            body["response_format"],
            json_schema_format_json(Some(false)),
            "strict = {strict:?}"
        );
    }
    // Control: the other providers keep the caller's `strict` as given.
    let preview = client
        .chat_completion(messages())
        .model(HUB_MODEL)
        .provider(Provider::Groq)
        .response_format(json_schema_format(None))
        .preview()
        .await
        .expect("preview");
    assert_eq!(
        preview.body_json().unwrap()["response_format"],
        json_schema_format_json(None)
    );
    assert_eq!(hub.connections(), 0);
}

// ---------------------------------------------------------------------------------------------
// text-generation

fn text_generation_request(
    client: &InferenceClient,
    provider: Provider,
) -> hf_inference::tasks::text_generation::TextGenerationRequest<'_> {
    client
        .text_generation(PROMPT)
        .model(HUB_MODEL)
        .provider(provider)
        .max_new_tokens(20)
        .temperature(0.7)
        .stop(vec!["\n".to_owned()])
}

#[tokio::test]
async fn text_generation_on_every_provider_and_mode() {
    let hub = ConnectionCounter::start();
    let capture = CaptureServer::start();
    let providers = Task::TextGeneration.providers();
    assert!(providers.contains(&Provider::HfInference));
    let mut snapshots = 0;
    for &provider in providers {
        let reference = text_generation_reference(provider);
        // Every text-generation provider is routed.
        for mode in reference_modes(provider, true, reference.direct_base.is_some()) {
            let token = token(mode);
            let what = format!("text-generation on {provider} ({})", mode.name());
            let client = preview_client(token, &hub);
            let preview = text_generation_request(&client, provider)
                .preview()
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            check_common(&preview, token, &what);
            assert_eq!(
                preview.url,
                expected_url(provider, mode, reference.direct_base, &reference.route),
                "{what}: URL"
            );
            let body = preview.body_json().unwrap();
            match reference.body {
                TextGenerationBody::Tgi => {
                    // §3.13: TGI parameters under `parameters`, names unchanged.
                    assert_eq!(
                        body,
                        json!({
                            "inputs": PROMPT,
                            "parameters": {"max_new_tokens": 20, "stop": ["\n"], "temperature": 0.7}
                        }),
                        "{what}"
                    );
                }
                TextGenerationBody::Completions => {
                    // §3.0: `{"prompt", ...params, "model": provider_id}`, model last.
                    // Deliberate difference: the reference renames `max_new_tokens` to
                    // `max_tokens` only for deepinfra and featherless-ai and forwards the TGI
                    // name verbatim to together, novita and nebius (§8.6), which ignore it; we
                    // rename it for every completions provider.
                    assert_eq!(
                        body,
                        json!({
                            "prompt": PROMPT,
                            "max_tokens": 20,
                            "stop": ["\n"],
                            "temperature": 0.7,
                            "model": provider_model_id(provider)
                        }),
                        "{what}"
                    );
                    let keys = keys(&body);
                    assert_eq!(keys.first(), Some(&"prompt"), "{what}: prompt first");
                    assert_eq!(keys.last(), Some(&"model"), "{what}: model last");
                }
                TextGenerationBody::HyperbolicChat => {
                    // Deliberate difference: rc6 sent the prompt string itself as `messages`
                    // (`{"messages": "<prompt>", …}`), which the API rejects and the client
                    // could not parse (§3.14, "effectively broken"); we send it as one user
                    // message, and `max_new_tokens` as `max_tokens`, which Hyperbolic honours
                    // (the JS client's final request; a recorded answer ran past an unrenamed
                    // limit).
                    assert_eq!(
                        body,
                        json!({
                            "messages": [{"content": PROMPT, "role": "user"}],
                            "max_tokens": 20,
                            "stop": ["\n"],
                            "temperature": 0.7,
                            "model": provider_model_id(provider)
                        }),
                        "{what}"
                    );
                    assert_eq!(keys(&body).last(), Some(&"model"), "{what}: model last");
                }
            }
            insta::assert_snapshot!(
                format!("text_generation__{provider}__{}", mode.name()),
                render_preview(&preview)
            );
            snapshots += 1;

            let wire = wire_client(token, &hub, &capture);
            let sent = text_generation_request(&wire, provider).send().await;
            assert_eq!(
                sent.as_ref().map(|o| o.generated_text.as_str()).ok(),
                Some(" Paris"),
                "{what}: send: {sent:?}"
            );
            check_wire(&preview, &capture.take(), token, &what);
        }
    }
    assert!(snapshots >= 10, "{snapshots} text-generation snapshots");
    assert_eq!(hub.connections(), 0, "pinned mappings: no Hub lookup");
}

/// deepinfra and featherless-ai: the reference sends `"max_tokens": null` when
/// `max_new_tokens` is unset (§3.3, §3.10).
#[tokio::test]
async fn completions_without_max_new_tokens_send_no_max_tokens() {
    let hub = ConnectionCounter::start();
    let client = preview_client(PROVIDER_KEY, &hub);
    for provider in [Provider::Deepinfra, Provider::FeatherlessAi] {
        let preview = client
            .text_generation(PROMPT)
            .model(HUB_MODEL)
            .provider(provider)
            .preview()
            .await
            .expect("preview");
        // Deliberate difference: no `"max_tokens": null` (README).
        assert_eq!(
            preview.body_json().unwrap(),
            json!({"prompt": PROMPT, "model": provider_model_id(provider)}),
            "{provider}"
        );
    }
    assert_eq!(hub.connections(), 0);
}

// ---------------------------------------------------------------------------------------------
// Mode exceptions (§2.3)

/// openai is direct only: an `hf_` token is refused before anything is sent.
#[tokio::test]
async fn openai_is_direct_only() {
    let hub = ConnectionCounter::start();
    let client = preview_client(HF_TOKEN, &hub);
    let err = client
        .chat_completion(messages())
        .model(OPENAI_MODEL)
        .provider(Provider::Openai)
        .preview()
        .await
        .expect_err("openai with an hf_ token");
    match &err {
        Error::InvalidInput { field, message } => {
            assert_eq!(field, "token");
            assert!(message.contains("openai"), "{message}");
            assert!(message.contains("router"), "{message}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(!format!("{err:?}").contains(HF_TOKEN));
    assert_eq!(hub.connections(), 0);
}

/// hf-inference is always reached through the router, whatever the key (§2.3); no key at all
/// is allowed (the only provider where it is) and sends no `authorization`.
#[tokio::test]
async fn hf_inference_always_goes_through_the_router() {
    let hub = ConnectionCounter::start();
    let capture = CaptureServer::start();
    let url = format!("{ROUTER}/hf-inference/models/{HUB_MODEL}/v1/chat/completions");
    let client = preview_client(PROVIDER_KEY, &hub);
    let preview = chat_request(&client, Provider::HfInference, false)
        .preview()
        .await
        .expect("preview");
    assert_eq!(preview.url, url);
    check_common(&preview, PROVIDER_KEY, "hf-inference with a provider key");
    let wire = wire_client(PROVIDER_KEY, &hub, &capture);
    chat_request(&wire, Provider::HfInference, false)
        .send()
        .await
        .expect("send");
    check_wire(
        &preview,
        &capture.take(),
        PROVIDER_KEY,
        "hf-inference with a provider key",
    );

    let anonymous = pinned(InferenceClient::builder().hub_url(hub.url()))
        .build()
        .unwrap();
    let preview = chat_request(&anonymous, Provider::HfInference, false)
        .preview()
        .await
        .expect("no token is fine for hf-inference");
    assert_eq!(preview.url, url);
    assert_eq!(preview.header("authorization"), None);
    let preview = anonymous
        .text_generation(PROMPT)
        .model(HUB_MODEL)
        .provider(Provider::HfInference)
        .preview()
        .await
        .expect("no token is fine for hf-inference");
    assert_eq!(
        preview.url,
        format!("{ROUTER}/hf-inference/models/{HUB_MODEL}")
    );
    assert_eq!(preview.header("authorization"), None);
    assert_eq!(hub.connections(), 0);
}

// ---------------------------------------------------------------------------------------------
// Auto-router (§2.1, §3.2, §6.3 "Auto")

#[tokio::test]
async fn auto_provider_chat_goes_to_the_router_with_the_hub_id() {
    let hub = ConnectionCounter::start();
    let capture = CaptureServer::start();
    let client = preview_client(HF_TOKEN, &hub);
    let default_choice = client
        .chat_completion(messages())
        .model(HUB_MODEL)
        .max_tokens(64)
        .temperature(0.7)
        .preview()
        .await
        .expect("auto (default)");
    let explicit = client
        .chat_completion(messages())
        .model(HUB_MODEL)
        .provider(ProviderChoice::Auto)
        .max_tokens(64)
        .temperature(0.7)
        .preview()
        .await
        .expect("auto (explicit)");
    assert_eq!(default_choice, explicit);
    let preview = explicit;
    check_common(&preview, HF_TOKEN, "auto-router");
    assert_eq!(
        preview.url,
        "https://router.huggingface.co/v1/chat/completions"
    );
    let body = preview.body_json().unwrap();
    // The Hub id as given, not any pinned provider id: the router picks the provider.
    assert_eq!(
        body,
        json!({"model": HUB_MODEL, "messages": messages_json(), "max_tokens": 64, "temperature": 0.7})
    );
    assert_eq!(keys(&body)[0], "model");
    insta::assert_snapshot!("chat_completion__auto__routed", render_preview(&preview));

    let wire = wire_client(HF_TOKEN, &hub, &capture);
    wire.chat_completion(messages())
        .model(HUB_MODEL)
        .max_tokens(64)
        .temperature(0.7)
        .send()
        .await
        .expect("send");
    check_wire(&preview, &capture.take(), HF_TOKEN, "auto-router");

    // "Cannot select auto-router when using non-Hugging Face API key."
    let direct = preview_client(PROVIDER_KEY, &hub);
    let err = direct
        .chat_completion(messages())
        .model(HUB_MODEL)
        .preview()
        .await
        .expect_err("auto-router with a provider key");
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "provider"),
        "{err:?}"
    );
    assert!(err.to_string().contains("hf_"), "{err}");
    assert_eq!(
        hub.connections(),
        0,
        "the chat auto-router needs no Hub lookup"
    );
}

// ---------------------------------------------------------------------------------------------
// URL models (§2.4, §6.3)

async fn url_chat_preview(client: &InferenceClient) -> RequestPreview {
    client
        .chat_completion(messages())
        .max_tokens(64)
        .preview()
        .await
        .expect("preview")
}

#[tokio::test]
async fn url_model_chat_url_resolution_the_eleven_reference_cases() {
    // §6.3 "Chat URL resolution (`_build_chat_completion_url`), 11 cases"; "endpoint" is any
    // endpoint URL.
    let endpoint = "https://my-endpoint.us-east-1.aws.endpoints.huggingface.cloud";
    let cases = [
        (
            "https://api-inference.huggingface.co/models/username/repo_name".to_owned(),
            "https://api-inference.huggingface.co/models/username/repo_name/v1/chat/completions"
                .to_owned(),
        ),
        (
            endpoint.to_owned(),
            format!("{endpoint}/v1/chat/completions"),
        ),
        (
            format!("{endpoint}/v1/chat/completions"),
            format!("{endpoint}/v1/chat/completions"),
        ),
        (
            format!("{endpoint}/v1"),
            format!("{endpoint}/v1/chat/completions"),
        ),
        (
            format!("{endpoint}/v1/"),
            format!("{endpoint}/v1/chat/completions"),
        ),
        (
            "http://0.0.0.0:8080/v1".to_owned(),
            "http://0.0.0.0:8080/v1/chat/completions".to_owned(),
        ),
        (
            format!("{endpoint}/v1/chat/completions?api-version=1"),
            format!("{endpoint}/v1/chat/completions?api-version=1"),
        ),
        (
            format!("{endpoint}/chat/completions?api-version=1"),
            format!("{endpoint}/chat/completions?api-version=1"),
        ),
        (
            format!("{endpoint}?api-version=1"),
            format!("{endpoint}/v1/chat/completions?api-version=1"),
        ),
        (
            format!("{endpoint}/v1?api-version=1"),
            format!("{endpoint}/v1/chat/completions?api-version=1"),
        ),
        (
            format!("{endpoint}/?api-version=1"),
            format!("{endpoint}/v1/chat/completions?api-version=1"),
        ),
    ];
    let hub = ConnectionCounter::start();
    for (input, expected) in &cases {
        // As the client's base URL, as the client's model, and as the call's model.
        let by_base = InferenceClient::builder()
            .hub_url(hub.url())
            .base_url(input)
            .build()
            .unwrap();
        let by_model = InferenceClient::builder()
            .hub_url(hub.url())
            .model(input)
            .build()
            .unwrap();
        let per_call = InferenceClient::builder()
            .hub_url(hub.url())
            .build()
            .unwrap()
            .chat_completion(messages())
            .model(input)
            .preview()
            .await
            .expect("preview");
        for preview in [
            url_chat_preview(&by_base).await,
            url_chat_preview(&by_model).await,
            per_call,
        ] {
            assert_eq!(&preview.url, expected, "{input}");
            // The URL is where to send, not a model name: no `model` in the body.
            assert_eq!(preview.body_json().unwrap().get("model"), None, "{input}");
        }
    }
    assert_eq!(hub.connections(), 0);
}

#[tokio::test]
async fn url_model_chat_url_and_payload_model() {
    let hub = ConnectionCounter::start();
    // §6.3 "Chat URL and payload model, 6 cases". Deliberate difference: where the reference
    // sends `"model": "dummy"` we send no `model` at all (README; `dummy` breaks vLLM).
    let cases: [(&str, &str, Option<&str>); 5] = [
        (
            "https://my-custom-endpoint.com/custom_path",
            "https://my-custom-endpoint.com/custom_path/v1/chat/completions",
            None,
        ),
        (
            "https://another-endpoint.com/v1/",
            "https://another-endpoint.com/v1/chat/completions",
            None,
        ),
        (
            "https://my-endpoint.com/v1/chat/completions",
            "https://my-endpoint.com/v1/chat/completions",
            None,
        ),
        (
            "http://localhost:8080",
            "http://localhost:8080/v1/chat/completions",
            None,
        ),
        (
            "http://127.0.0.1:8000/custom/path/v1",
            "http://127.0.0.1:8000/custom/path/v1/chat/completions",
            None,
        ),
    ];
    for (base, url, model) in cases {
        let client = InferenceClient::builder()
            .hub_url(hub.url())
            .base_url(base)
            .build()
            .unwrap();
        let preview = url_chat_preview(&client).await;
        assert_eq!(preview.url, url, "{base}");
        let body = preview.body_json().unwrap();
        assert_eq!(body.get("model").and_then(Value::as_str), model, "{base}");
        assert_eq!(
            body,
            json!({"messages": messages_json(), "max_tokens": 64}),
            "{base}"
        );
        // No token configured: no authorization header.
        assert_eq!(preview.header("authorization"), None, "{base}");
    }
    // The `model="username/repo_name"` + hf-inference case: the router, the Hub id as model.
    let client = InferenceClient::builder()
        .hub_url(hub.url())
        .token(HF_TOKEN)
        .model_mapping(
            "username/repo_name",
            Provider::HfInference,
            "username/repo_name",
        )
        .build()
        .unwrap();
    let preview = client
        .chat_completion(messages())
        .model("username/repo_name")
        .provider(Provider::HfInference)
        .preview()
        .await
        .expect("preview");
    assert_eq!(
        preview.url,
        "https://router.huggingface.co/hf-inference/models/username/repo_name/v1/chat/completions"
    );
    assert_eq!(preview.body_json().unwrap()["model"], "username/repo_name");
    assert_eq!(hub.connections(), 0);
}

/// `base_url("http://localhost:8080")` + a per-call model (the OpenAI-client pattern): the model
/// goes in the body (§2.4 "`chat_completion(..., model="tgi")` sends `"model":"tgi"`"); with a
/// token, it is sent as Bearer to the URL (§2.6); an explicit hf-inference provider is allowed.
#[tokio::test]
async fn url_model_local_server() {
    let hub = ConnectionCounter::start();
    let capture = CaptureServer::start();
    let client = InferenceClient::builder()
        .hub_url(hub.url())
        .token(HF_TOKEN)
        .base_url("http://localhost:8080")
        .build()
        .unwrap();
    let preview = client
        .chat_completion(messages())
        .model("tgi")
        .provider(Provider::HfInference)
        .max_tokens(64)
        .temperature(0.7)
        .preview()
        .await
        .expect("preview");
    assert_eq!(preview.url, "http://localhost:8080/v1/chat/completions");
    check_common(&preview, HF_TOKEN, "local server");
    assert_eq!(
        preview.body_json().unwrap(),
        json!({"model": "tgi", "messages": messages_json(), "max_tokens": 64, "temperature": 0.7})
    );
    insta::assert_snapshot!("chat_completion__url_model", render_preview(&preview));

    let local = InferenceClient::builder()
        .hub_url(hub.url())
        .token(HF_TOKEN)
        .base_url(format!("{}/v1", capture.url()))
        .build()
        .unwrap();
    local
        .chat_completion(messages())
        .model("tgi")
        .max_tokens(64)
        .temperature(0.7)
        .send()
        .await
        .expect("send");
    let captured = capture.take();
    assert_eq!(captured.len(), 1);
    assert_eq!(captured[0].target, "/v1/chat/completions");
    assert_eq!(
        captured[0].header("authorization"),
        Some(format!("Bearer {HF_TOKEN}").as_str())
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&captured[0].body).unwrap(),
        preview.body_json().unwrap()
    );
    assert_eq!(hub.connections(), 0);
}

/// A URL model for text-generation is called exactly as given (§2.4, §6.3:
/// `base_url="http://localhost:8082/v1/"` gives that exact URL), with the TGI body.
#[tokio::test]
async fn url_model_text_generation_keeps_the_url() {
    let hub = ConnectionCounter::start();
    let client = InferenceClient::builder()
        .hub_url(hub.url())
        .base_url("http://localhost:8082/v1/")
        .build()
        .unwrap();
    let preview = client
        .text_generation(PROMPT)
        .max_new_tokens(20)
        .preview()
        .await
        .expect("preview");
    assert_eq!(preview.url, "http://localhost:8082/v1/");
    assert_eq!(
        preview.body_json().unwrap(),
        json!({"inputs": PROMPT, "parameters": {"max_new_tokens": 20}})
    );
    insta::assert_snapshot!("text_generation__url_model", render_preview(&preview));
    assert_eq!(hub.connections(), 0);
}

// ---------------------------------------------------------------------------------------------
// bill_to (§1.2, §2.6, §8.13)

#[tokio::test]
async fn bill_to_sets_the_x_hf_bill_to_header() {
    let hub = ConnectionCounter::start();
    let capture = CaptureServer::start();
    for (token, provider) in [
        (HF_TOKEN, ProviderChoice::Provider(Provider::Together)),
        (HF_TOKEN, ProviderChoice::Auto),
        (HF_TOKEN, ProviderChoice::Provider(Provider::HfInference)),
        // The reference sends it on direct calls too (with a warning that it is ignored).
        (PROVIDER_KEY, ProviderChoice::Provider(Provider::Together)),
    ] {
        let what = format!("bill_to with {provider}");
        let build = |builder: hf_inference::InferenceClientBuilder| {
            pinned(builder.token(token).hub_url(hub.url()).bill_to("my-org"))
        };
        let client = build(InferenceClient::builder()).build().unwrap();
        let preview = client
            .chat_completion(messages())
            .model(HUB_MODEL)
            .provider(provider)
            .preview()
            .await
            .expect("preview");
        assert_eq!(preview.header("x-hf-bill-to"), Some("my-org"), "{what}");

        let mut wire = build(InferenceClient::builder()).router_url(capture.url());
        for p in Provider::ALL {
            wire = wire.provider_url(*p, capture.url());
        }
        wire.build()
            .unwrap()
            .chat_completion(messages())
            .model(HUB_MODEL)
            .provider(provider)
            .send()
            .await
            .expect("send");
        let captured = capture.take();
        assert_eq!(captured.len(), 1, "{what}");
        assert_eq!(captured[0].header("x-hf-bill-to"), Some("my-org"), "{what}");
    }
    // Control: without bill_to, no such header.
    let client = preview_client(HF_TOKEN, &hub);
    let preview = chat_request(&client, Provider::Together, false)
        .preview()
        .await
        .unwrap();
    assert_eq!(preview.header("x-hf-bill-to"), None);
    assert_eq!(hub.connections(), 0);
}
