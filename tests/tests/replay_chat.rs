//! Replays every `chat-completion` and `text-generation` conformance tape through the public SDK
//! API, on loopback.
//!
//! For each tape (grouped by the spec test that made it) the SDK call is derived from the tape
//! itself, never from its file name: the model and provider from `test.provider_mapping`, the
//! endpoint URL the JS test named (`hf.endpoint("…")` in `test.source`) or the recorded URL; the
//! messages / prompt and parameters from the recorded request body; streaming from `stream: true`
//! or an SSE response. Routed tapes get a fake `hf_` token, direct ones a fake provider key. The
//! client is pointed at a [`ReplayServer`] holding only that tape (router, Hub and every provider
//! host through builder methods), and the provider mapping is pinned with `model_mapping` or
//! served on the Hub listener when the JS client had looked it up.
//!
//! Checks:
//! - **request** (`in_final_spec: true` tapes): the request the SDK sent matched the recording
//!   (method, path, query, JSON body, the explicit headers, the auth scheme), no request went
//!   unanswered, and a Hub lookup happened exactly when the mapping came from the Hub. Where the
//!   body differs only by a documented deliberate difference of our wire format
//!   ([`DELIBERATE`]), the tape is reported `N/A` with `not applicable (request): <reason>` and
//!   its response is served regardless of the body. Legacy tapes (`in_final_spec: false`) are
//!   checked for response parsing only, and say so.
//! - **response**: the SDK's typed result, serialized back, equals the recorded body (chunk by
//!   chunk for streams; `generated_text` for text generation); `test.expected` holds on it; error
//!   statuses come back as the matching typed error with the status and the server's message.
//!
//! Output: one `PASS` / `FAIL` / `N/A` line per tape, then `replay: N passed, N failed, N not
//! applicable`. The test fails if any tape failed. Tapes are read from `HF_INFERENCE_TAPES`
//! (default `../shared/conformance`).
//!
//! Run with `cargo test -p hf-inference-tests --test replay_chat -- --nocapture`.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::StreamExt;
use hf_inference::InferenceClient;
use hf_inference::error::Error;
use hf_inference::providers::{PayloadStyle, Provider, Task, task_spec};
use hf_inference::types::chat_completion::ChatCompletionInput;
use hf_inference::types::text_generation::TextGenerationInputGenerateParameters;
use hf_inference_tests::expect::{self, Actual, Expectation};
use hf_inference_tests::replay::{
    RecordedRequest, ReplayServer, header_mismatches, json_diff, percent_decode, query_pairs,
};
use hf_inference_tests::support::{
    Replayed, RequestCheck, SameJson, Tally, Verdict, auth_problem, check_error_answer,
    combine_checks, fake_token, loopback_builder, provider_hosts_on, replay_call,
};
use hf_inference_tests::tapes::{Tape, group_by_test, tapes_dir};
use regex::Regex;
use serde_json::{Map, Value};

/// `provider` of tapes recorded against a custom OpenAI-compatible server (a URL model).
const OPENAI_COMPATIBLE: &str = "openai-compatible";

/// A documented difference between our wire format (the Python reference 2.4.0, see
/// `shared/reference/python-client.md` and the README's "Deliberate differences") and what the
/// JS client recorded. Each rule explains one top-level body key.
struct Deliberate {
    /// Whether the rule explains a difference on `key`.
    applies: fn(&Ctx<'_>, &str) -> bool,
    /// The reason printed with `not applicable (request)`.
    reason: &'static str,
}

/// What a deliberate-difference rule looks at.
struct Ctx<'a> {
    kind: Kind,
    payload: Option<PayloadStyle>,
    recorded: &'a Map<String, Value>,
    sent: &'a Map<String, Value>,
}

/// The deliberate differences of the request body.
const DELIBERATE: &[Deliberate] = &[Deliberate {
    applies: |ctx, key| {
        key == "inputs"
            && ctx.kind == Kind::TextGeneration
            && ctx.payload == Some(PayloadStyle::OpenAiCompletions)
            && !ctx.sent.contains_key("inputs")
            && ctx.recorded.get("inputs").is_some()
            && ctx.recorded.get("inputs") == ctx.recorded.get("prompt")
            && ctx.recorded.get("prompt") == ctx.sent.get("prompt")
    },
    reason: "the JS client sends the prompt twice, as `inputs` and `prompt`, to OpenAI-style \
                 /v1/completions; the SDK sends `prompt` only, as the Python reference 2.4.0 \
                 completions template does (python-client.md §3.0)",
}];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Chat,
    TextGeneration,
}

impl Kind {
    fn of(task: &str) -> Option<Kind> {
        match task {
            "chat-completion" => Some(Kind::Chat),
            "text-generation" => Some(Kind::TextGeneration),
            _ => None,
        }
    }

    fn task(self) -> Task {
        match self {
            Kind::Chat => Task::ChatCompletion,
            Kind::TextGeneration => Task::TextGeneration,
        }
    }
}

/// Where the SDK call goes.
#[derive(Clone, Debug)]
enum Route {
    /// A Hub model on a provider.
    Hub {
        provider: Provider,
        model: String,
        pin: Option<Pin>,
    },
    /// A URL model (an Inference Endpoint or an OpenAI-compatible server), as the JS test gave
    /// it, with the model sent in the payload, if any.
    Url { base: String, model: Option<String> },
}

/// How the provider mapping is given to the client.
#[derive(Clone, Debug)]
struct Pin {
    provider_model_id: String,
    /// `true`: served on the Hub listener (the JS client looked it up); `false`: pinned with
    /// `model_mapping`.
    via_hub: bool,
}

/// One SDK call, derived from a tape.
#[derive(Clone, Debug)]
struct Call {
    kind: Kind,
    route: Route,
    /// `true`: an `hf_` token (routed mode); `false`: a provider key.
    hf_token: bool,
    stream: bool,
    chat: Option<ChatCompletionInput>,
    prompt: String,
    params: TextGenerationInputGenerateParameters,
    extra_body: Map<String, Value>,
    /// Body keys of a legacy recording the call leaves out (obsolete JS-client fields).
    dropped: Vec<String>,
}

impl Call {
    fn token(&self) -> &'static str {
        fake_token(self.hf_token)
    }

    fn provider(&self) -> Option<Provider> {
        match &self.route {
            Route::Hub { provider, .. } => Some(*provider),
            Route::Url { .. } => None,
        }
    }
}

/// What the SDK returned.
enum Outcome {
    Json(Value),
    Stream {
        events: Vec<Value>,
        error: Option<String>,
    },
    Failed(Error),
}

impl Outcome {
    fn describe(&self) -> String {
        match self {
            Outcome::Json(v) => format!("JSON {}", expect::show(v)),
            Outcome::Stream {
                events,
                error: None,
            } => format!("a stream of {} chunks", events.len()),
            Outcome::Stream {
                events,
                error: Some(e),
            } => format!("a stream of {} chunks that failed: {e}", events.len()),
            Outcome::Failed(e) => format!("the error `{e}`"),
        }
    }
}

fn body_object(tape: &Tape) -> Map<String, Value> {
    match &tape.request.body_json {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    }
}

fn str_field(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The endpoint URL the JS test passed to `hf.endpoint(…)`, if any.
fn source_endpoint(tape: &Tape) -> Option<String> {
    let source = tape.test.source.as_deref()?;
    let re = Regex::new(r#"\.endpoint\(\s*["'`]([^"'`]+)["'`]\s*\)"#).expect("static regex");
    re.captures(source).map(|c| c[1].to_owned())
}

/// A recorded chat URL without the suffix the SDK appends to URL models.
fn strip_chat_suffix(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = base.trim_end_matches('/');
    let base = base
        .strip_suffix("/v1/chat/completions")
        .or_else(|| base.strip_suffix("/chat/completions"))
        .unwrap_or(base);
    match query {
        Some(q) => format!("{base}?{q}"),
        None => base.to_owned(),
    }
}

/// The Hub model id of an hf-inference URL (`…/models/<id>[/v1/chat/completions]`).
fn hf_inference_model(tape: &Tape) -> Option<String> {
    let path = tape.path()?;
    let (_, rest) = path.split_once("/models/")?;
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix("/v1/chat/completions").unwrap_or(rest);
    (!rest.is_empty()).then(|| rest.to_owned())
}

/// The final-spec tape of the same test and task, whose call fills what a legacy recording
/// lacks (a model, the messages).
fn template_for<'a>(tape: &Tape, group: &[&'a Tape]) -> Option<&'a Tape> {
    group
        .iter()
        .copied()
        .find(|t| t.in_final_spec && t.task == tape.task)
}

/// Derives the SDK call from a tape. `Err(Ok(reason))`: the tape cannot be replayed by this SDK
/// (not applicable); `Err(Err(reason))`: the tape lacks something it should have (a failure).
fn derive_call(tape: &Tape, template: Option<&Tape>) -> Result<Call, Result<String, String>> {
    let kind = Kind::of(&tape.task).ok_or_else(|| Ok(format!("task `{}`", tape.task)))?;
    let body = body_object(tape);
    let template_body = template.map(body_object).unwrap_or_default();
    let body_model = str_field(&body, "model");
    let final_spec = tape.in_final_spec;

    // Where the call goes.
    let endpoint = source_endpoint(tape).filter(|x| {
        tape.request.url.starts_with(x.as_str())
            || tape
                .provenance
                .recorded_url
                .as_deref()
                .is_some_and(|u| u.starts_with(x.as_str()))
    });
    let recorded_base = || match kind {
        Kind::Chat => strip_chat_suffix(&tape.request.url),
        Kind::TextGeneration => tape.request.url.clone(),
    };
    let template_mapping = template
        .and_then(|t| t.test.provider_mapping.as_ref())
        .filter(|m| m.provider == tape.provider)
        .filter(|m| {
            body_model
                .as_deref()
                .is_none_or(|b| b == m.provider_model_id)
        });
    let route = if endpoint.is_some() || tape.provider == OPENAI_COMPATIBLE {
        Route::Url {
            base: recorded_base(),
            model: body_model
                .clone()
                .or_else(|| str_field(&template_body, "model")),
        }
    } else {
        let provider: Provider = tape.provider.parse().map_err(|_| {
            Ok(format!(
                "provider `{}` is not in the SDK's provider table (specs/providers.toml)",
                tape.provider
            ))
        })?;
        if task_spec(provider, kind.task()).is_none() {
            return Err(Ok(format!(
                "the SDK's provider table has no `{}` for provider `{provider}`",
                tape.task
            )));
        }
        let hub_mapping = provider.spec().hub_mapping;
        let mapping = tape.test.provider_mapping.as_ref().or(template_mapping);
        match mapping {
            Some(m) => {
                let via_hub = final_spec
                    && m.source
                        .as_deref()
                        .is_some_and(|s| s.contains("Hub lookup"));
                Route::Hub {
                    provider,
                    model: m.hf_model_id.clone(),
                    pin: hub_mapping.then(|| Pin {
                        provider_model_id: m.provider_model_id.clone(),
                        via_hub,
                    }),
                }
            }
            None if provider == Provider::HfInference => Route::Hub {
                provider,
                model: hf_inference_model(tape)
                    .ok_or_else(|| Err(format!("no model id in the URL {}", tape.request.url)))?,
                pin: None,
            },
            None => {
                let model = body_model.clone().ok_or_else(|| {
                    Err(
                        "no model: no provider mapping, no body `model`, and no final tape \
                         of the same test to take one from"
                            .to_owned(),
                    )
                })?;
                Route::Hub {
                    provider,
                    pin: hub_mapping.then(|| Pin {
                        provider_model_id: model.clone(),
                        via_hub: false,
                    }),
                    model,
                }
            }
        }
    };

    let stream = body.get("stream").and_then(Value::as_bool) == Some(true) || tape.response.is_sse;
    let mut call = Call {
        kind,
        hf_token: tape.is_routed(),
        stream,
        chat: None,
        prompt: String::new(),
        params: TextGenerationInputGenerateParameters::default(),
        extra_body: Map::new(),
        dropped: Vec::new(),
        route,
    };

    // The unknown keys of a final-spec body travel in `extra_body`; those of a legacy body are
    // obsolete JS-client fields and are left out.
    let place_unknown = |call: &mut Call, unknown: Map<String, Value>| {
        for (k, v) in unknown {
            if final_spec {
                call.extra_body.insert(k, v);
            } else {
                call.dropped.push(k);
            }
        }
    };

    match kind {
        Kind::Chat => {
            let mut fields = body.clone();
            fields.remove("model");
            fields.remove("stream");
            if !fields.contains_key("messages") {
                let messages = template_body.get("messages").cloned().ok_or_else(|| {
                    Err("no `messages` in the body and no final tape to take them from".to_owned())
                })?;
                fields.insert("messages".into(), messages);
            }
            let input: ChatCompletionInput = serde_json::from_value(Value::Object(fields.clone()))
                .map_err(|e| Err(format!("the body is not a chat input: {e}")))?;
            let known = match serde_json::to_value(&input) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            };
            let unknown = fields
                .into_iter()
                .filter(|(k, _)| !known.contains_key(k))
                .collect();
            place_unknown(&mut call, unknown);
            call.chat = Some(input);
        }
        Kind::TextGeneration => {
            let prompt = str_field(&body, "inputs")
                .or_else(|| str_field(&body, "prompt"))
                .or_else(|| {
                    body.get("messages")
                        .and_then(|m| m.pointer("/0/content"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .or_else(|| str_field(&template_body, "inputs"))
                .ok_or_else(|| Err("no prompt in the body".to_owned()))?;
            call.prompt = prompt;
            let candidates: Map<String, Value> = match body.get("parameters") {
                Some(Value::Object(p)) => p.clone(),
                _ => body
                    .iter()
                    .filter(|(k, _)| {
                        !matches!(
                            k.as_str(),
                            "inputs" | "prompt" | "messages" | "model" | "stream" | "parameters"
                        )
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            // Wire names back to the SDK's (TGI) parameter names: the provider's renames, and
            // `max_tokens`, the OpenAI name of `max_new_tokens` that the JS client sends to
            // OpenAI-style servers.
            let renames = call
                .provider()
                .and_then(|p| task_spec(p, Task::TextGeneration))
                .map(|s| s.renames)
                .unwrap_or_default();
            let mut tgi = Map::new();
            for (key, value) in candidates {
                let name = renames
                    .iter()
                    .find(|(_, wire)| *wire == key)
                    .map(|(ours, _)| (*ours).to_owned())
                    .unwrap_or_else(|| match key.as_str() {
                        "max_tokens" => "max_new_tokens".to_owned(),
                        _ => key.clone(),
                    });
                tgi.insert(name, value);
            }
            let params: TextGenerationInputGenerateParameters =
                serde_json::from_value(Value::Object(tgi.clone()))
                    .map_err(|e| Err(format!("the parameters are not TGI parameters: {e}")))?;
            let known = match serde_json::to_value(&params) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            };
            let unknown = tgi
                .into_iter()
                .filter(|(k, _)| !known.contains_key(k))
                .collect();
            place_unknown(&mut call, unknown);
            call.params = params;
        }
    }
    Ok(call)
}

/// A client pointed at the replay server for `call`.
fn client_for(call: &Call, server: &ReplayServer) -> Result<InferenceClient, String> {
    let mut builder = loopback_builder(call.token(), server).timeout(Duration::from_secs(30));
    match &call.route {
        Route::Hub {
            provider,
            model,
            pin,
        } => {
            builder = provider_hosts_on(builder, *provider, server);
            if let Some(Pin {
                provider_model_id,
                via_hub: false,
            }) = pin
            {
                builder = builder.model_mapping(model.clone(), *provider, provider_model_id);
            }
            if *provider == Provider::HfInference {
                builder = builder.model_mapping(model.clone(), *provider, model.clone());
            }
        }
        Route::Url { base, .. } => {
            builder = builder.base_url(server.rewrite_url(base));
        }
    }
    builder.build().map_err(|e| format!("client: {e}"))
}

/// Sends the call and collects what the SDK returned.
async fn run(call: &Call, client: &InferenceClient) -> Outcome {
    let (model, provider) = match &call.route {
        Route::Hub {
            provider, model, ..
        } => (Some(model.clone()), Some(*provider)),
        Route::Url { model, .. } => (model.clone(), None),
    };
    let extra = (!call.extra_body.is_empty()).then(|| Value::Object(call.extra_body.clone()));
    match call.kind {
        Kind::Chat => {
            let input = call.chat.clone().expect("a chat call has an input");
            let mut request = client.chat_completion_input(input);
            if let Some(m) = model {
                request = request.model(m);
            }
            if let Some(p) = provider {
                request = request.provider(p);
            }
            if let Some(extra) = extra {
                request = request.extra_body(extra);
            }
            if call.stream {
                match request.stream().await {
                    Ok(stream) => collect(stream.map(|item| item.map(serde_json::to_value))).await,
                    Err(e) => Outcome::Failed(e),
                }
            } else {
                match request.send().await {
                    Ok(out) => to_json(&out),
                    Err(e) => Outcome::Failed(e),
                }
            }
        }
        Kind::TextGeneration => {
            let mut request = client
                .text_generation(call.prompt.clone())
                .parameters(call.params.clone());
            if let Some(m) = model {
                request = request.model(m);
            }
            if let Some(p) = provider {
                request = request.provider(p);
            }
            if let Some(extra) = extra {
                request = request.extra_body(extra);
            }
            if call.stream {
                match request.stream().await {
                    Ok(stream) => collect(stream.map(|item| item.map(serde_json::to_value))).await,
                    Err(e) => Outcome::Failed(e),
                }
            } else {
                match request.send().await {
                    Ok(out) => to_json(&out),
                    Err(e) => Outcome::Failed(e),
                }
            }
        }
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Outcome {
    match serde_json::to_value(value) {
        Ok(v) => Outcome::Json(v),
        Err(e) => Outcome::Stream {
            events: Vec::new(),
            error: Some(format!("cannot serialize the output: {e}")),
        },
    }
}

async fn collect<S>(stream: S) -> Outcome
where
    S: futures_util::Stream<Item = hf_inference::Result<serde_json::Result<Value>>>,
{
    let mut stream = std::pin::pin!(stream);
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(Ok(value)) => events.push(value),
            Ok(Err(e)) => {
                return Outcome::Stream {
                    events,
                    error: Some(format!("cannot serialize a chunk: {e}")),
                };
            }
            Err(e) => {
                return Outcome::Stream {
                    events,
                    error: Some(e.to_string()),
                };
            }
        }
    }
    Outcome::Stream {
        events,
        error: None,
    }
}

/// JSON equality of the round trips: numbers within 1e-6 (the SDK keeps some fields as `f32`).
const SAME_JSON: SameJson = SameJson {
    tolerance: 1e-6,
    expected: "recorded",
};

/// The recorded SSE events up to the first error event, and that error's message.
fn recorded_events(text: &str) -> Result<(Vec<Value>, Option<String>), String> {
    let mut events = expect::parse_sse_events(text)?;
    let error_at = events
        .iter()
        .position(|e| e.get("error").is_some_and(|v| !v.is_null()));
    let error = error_at.map(|i| {
        let e = &events[i]["error"];
        e.as_str()
            .map(str::to_owned)
            .or_else(|| e.get("message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| e.to_string())
    });
    if let Some(i) = error_at {
        events.truncate(i);
    }
    Ok((events, error))
}

/// The generated text a text-generation response carries, by its shape: TGI (`[{…}]` or
/// `{generated_text}`), OpenAI completion (`choices[0].text`), chat (`choices[0].message.content`).
fn recorded_generation(body: &Value) -> Option<(Option<Value>, String)> {
    let tgi = match body {
        Value::Array(items) => items.first(),
        other => Some(other),
    };
    if let Some(obj) = tgi.filter(|v| v.get("generated_text").is_some()) {
        let text = obj.get("generated_text")?.as_str()?.to_owned();
        return Some((Some(obj.clone()), text));
    }
    if let Some(text) = body.pointer("/choices/0/text").and_then(Value::as_str) {
        return Some((None, text.to_owned()));
    }
    body.pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .map(|t| (None, t.to_owned()))
}

/// Checks what the SDK returned against the recorded response and `test.expected`. `Ok` says
/// what was checked.
fn check_response(tape: &Tape, call: &Call, outcome: &Outcome) -> Result<String, String> {
    let response = &tape.response;
    let status = response.status;
    if status >= 400 {
        let error = match outcome {
            Outcome::Failed(e) => e,
            other => {
                return Err(format!(
                    "recorded HTTP {status}, but the SDK returned {}",
                    other.describe()
                ));
            }
        };
        return check_error_answer(response, error);
    }

    let mut checked = Vec::new();
    match (call.kind, outcome) {
        (_, Outcome::Failed(e)) => return Err(format!("the call failed: {e}")),
        (Kind::Chat, Outcome::Json(value)) => {
            let recorded = response
                .body_json
                .as_ref()
                .ok_or("the recorded response has no JSON body")?;
            SAME_JSON
                .check(recorded, value, "$")
                .map_err(|e| format!("ChatCompletionOutput differs from the recorded body: {e}"))?;
            checked.push("ChatCompletionOutput equals the recorded body".to_owned());
        }
        (Kind::TextGeneration, Outcome::Json(value)) => {
            let recorded = response
                .body_json
                .as_ref()
                .ok_or("the recorded response has no JSON body")?;
            let (full, text) = recorded_generation(recorded)
                .ok_or("the recorded response has no recognisable generated text")?;
            match full {
                Some(full) => {
                    SAME_JSON.check(&full, value, "$").map_err(|e| {
                        format!("TextGenerationOutput differs from the recorded body: {e}")
                    })?;
                    checked.push("TextGenerationOutput equals the recorded body".to_owned());
                }
                None => {
                    let got = value.get("generated_text").and_then(Value::as_str);
                    if got != Some(text.as_str()) {
                        return Err(format!(
                            "generated_text: recorded {text:?}, returned {got:?}"
                        ));
                    }
                    checked.push("generated_text equals the recorded text".to_owned());
                }
            }
        }
        (kind, Outcome::Stream { events, error }) => {
            let text = response
                .body_text
                .as_deref()
                .ok_or("the recorded response has no SSE body")?;
            let (recorded, recorded_error) = recorded_events(text)?;
            match (&recorded_error, error) {
                (None, Some(e)) => {
                    return Err(format!(
                        "the stream failed after {} of {} recorded chunks: {e}",
                        events.len(),
                        recorded.len()
                    ));
                }
                (Some(r), None) => {
                    return Err(format!(
                        "the recorded stream ends with the error {r:?}; the SDK's stream ended \
                         normally"
                    ));
                }
                (Some(r), Some(e)) if !e.contains(r.as_str()) => {
                    return Err(format!(
                        "the recorded stream ends with the error {r:?}; the SDK's stream error \
                         is {e:?}"
                    ));
                }
                _ => {}
            }
            if events.len() != recorded.len() {
                return Err(format!(
                    "{} chunks recorded (up to [DONE] / the end), {} returned",
                    recorded.len(),
                    events.len()
                ));
            }
            for (i, (r, e)) in recorded.iter().zip(events).enumerate() {
                let completion_chunk =
                    kind == Kind::TextGeneration && r.pointer("/choices/0/text").is_some();
                if completion_chunk {
                    let want = r.pointer("/choices/0/text");
                    let got = e.pointer("/token/text");
                    if want != got {
                        return Err(format!(
                            "chunk {i}: recorded text {want:?}, returned token text {got:?}"
                        ));
                    }
                } else {
                    SAME_JSON
                        .check(r, e, &format!("chunk[{i}]"))
                        .map_err(|e| format!("a streamed chunk differs from the recording: {e}"))?;
                }
            }
            checked.push(format!(
                "{} streamed chunks equal the recorded events",
                events.len()
            ));
        }
    }

    if let Some(expected) = &tape.test.expected {
        let expectation = Expectation::parse(expected)?;
        let actual = match outcome {
            Outcome::Json(v) => Actual::Json(v),
            Outcome::Stream { events, error } => Actual::Stream {
                events,
                error: error.as_deref(),
            },
            Outcome::Failed(_) => unreachable!("handled above"),
        };
        expectation
            .check(actual)
            .map_err(|e| format!("test.expected: {e}"))?;
        checked.push(format!("test.expected `{}` holds", expectation.kind()));
    }
    Ok(checked.join("; "))
}

/// Compares the inference request the SDK sent with the recording.
fn check_request(tape: &Tape, call: &Call, sent: &RecordedRequest) -> RequestCheck {
    let mut problems = Vec::new();
    let matched = sent.matched.as_deref() == Some(tape.file_name.as_str());
    let mut deliberate = Vec::new();
    if !matched {
        if sent.host != tape.host().unwrap_or_default() {
            problems.push(format!(
                "host: recorded {}, sent to {}",
                tape.host().unwrap_or_default(),
                sent.host
            ));
        }
        if sent.method != tape.request.method {
            problems.push(format!(
                "method: recorded {}, sent {}",
                tape.request.method, sent.method
            ));
        }
        let recorded_path = tape.path().unwrap_or_default();
        if percent_decode(&sent.path) != percent_decode(&recorded_path) {
            problems.push(format!(
                "path: recorded {recorded_path}, sent {}",
                sent.path
            ));
        }
        if query_pairs(sent.query.as_deref(), &[]) != query_pairs(tape.query().as_deref(), &[]) {
            problems.push(format!(
                "query: recorded {:?}, sent {:?}",
                tape.query(),
                sent.query
            ));
        }
        match (&tape.request.body_json, sent.json()) {
            (Some(Value::Object(recorded)), Some(Value::Object(body))) => {
                let payload = call
                    .provider()
                    .and_then(|p| task_spec(p, call.kind.task()))
                    .map(|s| s.payload);
                let ctx = Ctx {
                    kind: call.kind,
                    payload,
                    recorded,
                    sent: &body,
                };
                let keys: BTreeSet<&String> = recorded.keys().chain(body.keys()).collect();
                for key in keys {
                    let (r, s) = (recorded.get(key), body.get(key));
                    let differs = match (r, s) {
                        (Some(r), Some(s)) => !json_diff(r, s, 1).is_empty(),
                        _ => true,
                    };
                    if !differs {
                        continue;
                    }
                    match DELIBERATE.iter().find(|d| (d.applies)(&ctx, key)) {
                        Some(d) => {
                            if !deliberate.iter().any(|r| r == d.reason) {
                                deliberate.push(d.reason.to_owned());
                            }
                        }
                        None => problems.push(match (r, s) {
                            (Some(r), None) => {
                                format!("body: `{key}` recorded as {}, not sent", expect::show(r))
                            }
                            (None, Some(s)) => {
                                format!("body: `{key}` sent as {}, not recorded", expect::show(s))
                            }
                            (Some(r), Some(s)) => format!(
                                "body: `{key}` recorded as {}, sent as {}",
                                expect::show(r),
                                expect::show(s)
                            ),
                            (None, None) => unreachable!("a key of one of the two bodies"),
                        }),
                    }
                }
            }
            (Some(recorded), sent_json) => problems.push(format!(
                "body: recorded {}, sent {}",
                expect::show(recorded),
                sent_json
                    .map(|v| expect::show(&v))
                    .unwrap_or_else(|| format!("{} non-JSON bytes", sent.body.len()))
            )),
            (None, _) => {}
        }
        if problems.is_empty() && deliberate.is_empty() {
            let mismatches = sent
                .diagnostic
                .as_ref()
                .and_then(|d| d.pointer("/closest/mismatches"))
                .map(expect::show)
                .unwrap_or_else(|| "no diagnostic".to_owned());
            problems.push(format!("the replay server did not match it: {mismatches}"));
        }
    }
    problems.extend(header_mismatches(tape, sent));
    problems.extend(auth_problem(tape, call.token(), sent));
    RequestCheck::new(problems, deliberate)
}

/// Replays one tape.
async fn replay(tape: &Tape, template: Option<&Tape>) -> Verdict {
    let call = match derive_call(tape, template) {
        Ok(call) => call,
        Err(Ok(reason)) => return Verdict::NotApplicable(reason),
        Err(Err(reason)) => return Verdict::Fail(format!("cannot derive the call: {reason}")),
    };
    let via_hub = matches!(
        &call.route,
        Route::Hub {
            pin: Some(Pin { via_hub: true, .. }),
            ..
        }
    );

    // The server answers only a request that matches the recording; the answer is checked
    // whatever the request.
    let attempt = async |server: &ReplayServer| {
        let client = client_for(&call, server)?;
        Ok(run(&call, &client).await)
    };
    let Replayed {
        sent,
        request_problems,
        outcome,
    } = match replay_call(tape, via_hub, attempt, Outcome::describe).await {
        Ok(replayed) => replayed,
        Err(verdict) => return verdict,
    };
    let request = tape
        .in_final_spec
        .then(|| check_request(tape, &call, &sent));
    let response = check_response(tape, &call, &outcome);
    let (deliberate, checked) = match combine_checks(request_problems, request, response) {
        Ok(checks) => checks,
        Err(verdict) => return verdict,
    };
    if !tape.in_final_spec {
        let dropped = if call.dropped.is_empty() {
            String::new()
        } else {
            format!(
                " (obsolete body fields not sent: {})",
                call.dropped.join(", ")
            )
        };
        return Verdict::NotApplicable(format!(
            "not applicable (request): legacy tape (in_final_spec: false), the recorded request \
             shape is obsolete{dropped}; response parsing only: {checked}"
        ));
    }
    if !deliberate.is_empty() {
        return Verdict::NotApplicable(format!(
            "not applicable (request): {}; response parsing: {checked}",
            deliberate.join("; ")
        ));
    }
    Verdict::Pass(String::new())
}

#[tokio::test]
async fn replay_chat_and_text_generation_tapes() {
    let dir = tapes_dir();
    let tapes = Tape::load_dir(&dir)
        .unwrap_or_else(|e| panic!("load the conformance tapes from {}: {e}", dir.display()));
    let groups = group_by_test(&tapes);

    let mut tally = Tally::default();
    let mut seen = BTreeSet::new();
    for (name, group) in &groups {
        for &tape in group {
            if Kind::of(&tape.task).is_none() || tape.is_inline() {
                continue;
            }
            // A tape listed under several tests is replayed once, under its own test.
            if &tape.test.name != name || !seen.insert(tape.file_name.clone()) {
                continue;
            }
            let template = template_for(tape, group);
            let verdict = replay(tape, template).await;
            tally.record(&tape.file_name, &verdict);
        }
    }
    println!("replay: {tally}");
    assert!(
        tally.total() > 0,
        "no chat-completion or text-generation tape in {}",
        dir.display()
    );
    tally.assert_no_failures();
}
