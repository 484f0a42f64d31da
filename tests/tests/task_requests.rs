//! The exact requests of the JSON tasks on the generic engine (feature-extraction, fill-mask,
//! question-answering, sentence-similarity, summarization, table-question-answering,
//! text-classification, token-classification, translation, zero-shot-classification) for every
//! (provider, task) pair of the provider table, routed (`hf_` token) and direct (the provider's
//! own key) where the provider supports the mode, checked against the reference wire formats of
//! python-client.md (§2.4 hf-inference URLs, §3.3 / §3.6 / §3.9 / §3.14 OpenAI-style
//! embeddings, §3.13 hf-inference bodies).
//!
//! For each pair and mode:
//! - an insta snapshot of the [`RequestPreview`] (method, URL, sorted headers with the token
//!   redacted, pretty JSON body), with the token asserted absent from every rendering;
//! - the reference facts asserted one by one (URL, body), written out below from the reference,
//!   not read from `specs/providers.toml`, so a wrong table entry fails here (and a provider
//!   added to the table without a reference entry fails too);
//! - the same request really sent to a loopback server: it must be byte for byte the preview,
//!   with `Authorization: Bearer <token>`; the server answers a realistic body (hf-inference:
//!   the answer recorded in the conformance tapes where one exists; OpenAI embeddings: a
//!   `data[*].embedding` list) and the typed output must be that answer as the reference maps
//!   it; an error answer must come back as `Error::Http` with its status and message.
//!
//! Pairs the engine does not implement (nebius feature-extraction, whose rc6 body is
//! provider-specific) must fail with `Error::NotImplemented` naming the implemented providers,
//! before any connection (Hub, router or provider), mapping pinned or not.

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hf_inference::http::retry::RetryPolicy;
use hf_inference::tasks::generic::TaskRequest;
use hf_inference::types::question_answering::QuestionAnsweringInputData;
use hf_inference::types::sentence_similarity::SentenceSimilarityInputData;
use hf_inference::types::table_question_answering::TableQuestionAnsweringInputData;
use hf_inference::{Error, InferenceClient, Provider, RequestPreview, Task};
use hf_inference_tests::expect;
use hf_inference_tests::replay::ReplayServer;
use hf_inference_tests::tapes::{Tape, tapes_dir};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

const HF_TOKEN: &str = "hf_taskReqSecret0123456789abcdef";
const PROVIDER_KEY: &str = "pk-taskReqSecret0123456789abcdef";
/// A fragment of both credentials: must never appear in a preview.
const SECRET_PART: &str = "taskReqSecret";
const ROUTER: &str = "https://router.huggingface.co";
const ROUTER_HOST: &str = "router.huggingface.co";

/// The tasks of this file.
const TASKS: [Task; 10] = [
    Task::FeatureExtraction,
    Task::FillMask,
    Task::QuestionAnswering,
    Task::SentenceSimilarity,
    Task::Summarization,
    Task::TableQuestionAnswering,
    Task::TextClassification,
    Task::TokenClassification,
    Task::Translation,
    Task::ZeroShotClassification,
];

// ---------------------------------------------------------------------------------------------
// Inputs: one realistic call per task

/// The Hub model of each task's call.
fn hub_model(task: Task) -> &'static str {
    match task {
        Task::FeatureExtraction => "facebook/bart-base",
        Task::FillMask => "google-bert/bert-base-uncased",
        Task::QuestionAnswering => "deepset/roberta-base-squad2",
        Task::SentenceSimilarity => "sentence-transformers/paraphrase-xlm-r-multilingual-v1",
        Task::Summarization => "google/pegasus-xsum",
        Task::TableQuestionAnswering => "google/tapas-base-finetuned-wtq",
        Task::TextClassification => "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        Task::TokenClassification => "dslim/bert-base-NER",
        Task::Translation => "google-t5/t5-base",
        Task::ZeroShotClassification => "facebook/bart-large-mnli",
        other => panic!("no call for {other}"),
    }
}

/// The provider's own id of the task's model, pinned with `model_mapping` (distinct from the
/// Hub id so the body shows which one was sent).
fn provider_model_id(provider: Provider) -> String {
    format!("{provider}/embedding-model-v1")
}

const FE_TEXTS: [&str; 2] = ["hello", "That is a happy person"];
const MASKED: &str = "The goal of life is [MASK].";
const QUESTION: &str = "What is the capital of France?";
const CONTEXT: &str = "The capital of France is Paris.";
const SOURCE_SENTENCE: &str = "That is a happy person";
const SENTENCES: [&str; 3] = [
    "That is a happy dog",
    "That is a very happy person",
    "Today is a sunny day",
];
const ARTICLE: &str = "The tower is 324 metres (1,063 ft) tall, about the same height as an \
                       81-storey building, and the tallest structure in Paris.";
const TABLE_QUESTION: &str = "How many stars does the transformers repository have?";
const CLASSIFY: &str = "I like you. I love you";
const NER: &str = "My name is Sarah Jessica Parker but you can call me Jessica";
const TRANSLATE: &str = "My name is Wolfgang and I live in Berlin";
const COMPLAINT: &str = "Hi, I recently bought a device from your company but it is not \
                         working as advertised and I would like to get reimbursed!";
const LABELS: [&str; 3] = ["refund", "legal", "faq"];

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn table() -> indexmap::IndexMap<String, Vec<String>> {
    [
        ("Repository", ["Transformers", "Datasets", "Tokenizers"]),
        ("Stars", ["36542", "4512", "3934"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), strings(&v)))
    .collect()
}

/// The task's input (`inputs`) and parameters as the reference sends them (python-client.md
/// §1.3 parameter names; §3.13 bodies).
fn reference_inputs(task: Task) -> Value {
    match task {
        Task::FeatureExtraction => json!(FE_TEXTS),
        Task::FillMask => json!(MASKED),
        Task::QuestionAnswering => json!({"question": QUESTION, "context": CONTEXT}),
        Task::SentenceSimilarity => {
            json!({"source_sentence": SOURCE_SENTENCE, "sentences": SENTENCES})
        }
        Task::Summarization => json!(ARTICLE),
        // The task schema (and the Hub's API docs, and the JS client) name the question
        // `question`; the Python reference 2.4.0 sends `{"query", "table"}` instead (§3.13) and
        // copies its `model` argument into `parameters.model` (a quirk, not copied; see
        // specs/providers.toml).
        Task::TableQuestionAnswering => json!({
            "question": TABLE_QUESTION,
            "table": {
                "Repository": ["Transformers", "Datasets", "Tokenizers"],
                "Stars": ["36542", "4512", "3934"]
            }
        }),
        Task::TextClassification => json!(CLASSIFY),
        Task::TokenClassification => json!(NER),
        Task::Translation => json!(TRANSLATE),
        Task::ZeroShotClassification => json!(COMPLAINT),
        other => panic!("no call for {other}"),
    }
}

fn reference_parameters(task: Task) -> Option<Value> {
    match task {
        Task::FeatureExtraction => Some(json!({
            "normalize": true,
            "truncate": true,
            "truncation_direction": "left"
        })),
        Task::FillMask => Some(json!({"top_k": 3})),
        Task::QuestionAnswering => Some(json!({"top_k": 2, "handle_impossible_answer": false})),
        // No parameters: the reference sends `"parameters": {}` (§3.13); the SDK leaves an
        // empty `parameters` out (README, "Deliberate differences").
        Task::SentenceSimilarity => None,
        Task::Summarization => Some(json!({
            "clean_up_tokenization_spaces": true,
            "generate_parameters": {"max_length": 60},
            "truncation": "only_first"
        })),
        Task::TableQuestionAnswering => Some(json!({"padding": "longest", "truncation": true})),
        Task::TextClassification => Some(json!({"function_to_apply": "softmax", "top_k": 2})),
        Task::TokenClassification => Some(json!({"aggregation_strategy": "simple"})),
        Task::Translation => Some(json!({"src_lang": "en", "tgt_lang": "de"})),
        Task::ZeroShotClassification => Some(json!({
            "candidate_labels": LABELS,
            "multi_label": false
        })),
        other => panic!("no call for {other}"),
    }
}

/// What one call produced: its preview, and (when sent) the typed output as JSON.
struct Done {
    preview: RequestPreview,
    output: Option<Result<Value, Error>>,
}

async fn exercise<I, O>(request: TaskRequest<'_, I, O>, send: bool) -> Result<Done, Error>
where
    I: Serialize + Clone,
    O: DeserializeOwned + Serialize,
{
    let preview = request.clone().preview().await?;
    let output = if send {
        Some(
            request
                .send()
                .await
                .map(|out| serde_json::to_value(&out).expect("the typed output serializes")),
        )
    } else {
        None
    };
    Ok(Done { preview, output })
}

/// The task's call on `provider` through the public API (generated entry method and setters),
/// previewed, and sent when `send`.
async fn call(
    client: &InferenceClient,
    task: Task,
    provider: Provider,
    send: bool,
) -> Result<Done, Error> {
    let model = hub_model(task);
    macro_rules! go {
        ($request:expr) => {
            exercise($request.model(model).provider(provider), send).await
        };
    }
    match task {
        Task::FeatureExtraction => go!(client
            .feature_extraction(strings(&FE_TEXTS))
            .normalize(true)
            .truncate(true)
            .truncation_direction("left")),
        Task::FillMask => go!(client.fill_mask(MASKED).top_k(3)),
        Task::QuestionAnswering => go!(client
            .question_answering(QuestionAnsweringInputData::new(CONTEXT, QUESTION))
            .top_k(2)
            .handle_impossible_answer(false)),
        Task::SentenceSimilarity => go!(client.sentence_similarity(
            SentenceSimilarityInputData::new(strings(&SENTENCES), SOURCE_SENTENCE)
        )),
        Task::Summarization => {
            let Value::Object(generate) = json!({"max_length": 60}) else {
                unreachable!()
            };
            go!(client
                .summarization(ARTICLE)
                .clean_up_tokenization_spaces(true)
                .generate_parameters(generate)
                .truncation("only_first"))
        }
        Task::TableQuestionAnswering => go!(client
            .table_question_answering(TableQuestionAnsweringInputData::new(
                TABLE_QUESTION,
                table()
            ))
            .padding("longest")
            .truncation(true)),
        Task::TextClassification => go!(client
            .text_classification(CLASSIFY)
            .function_to_apply("softmax")
            .top_k(2)),
        Task::TokenClassification => {
            go!(client
                .token_classification(NER)
                .aggregation_strategy("simple"))
        }
        Task::Translation => go!(client.translation(TRANSLATE).src_lang("en").tgt_lang("de")),
        Task::ZeroShotClassification => go!(client
            .zero_shot_classification(COMPLAINT, strings(&LABELS))
            .multi_label(false)),
        other => panic!("no call for {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The reference

#[derive(Clone, Copy, Debug, PartialEq)]
enum Wire {
    /// `{"inputs": …, "parameters": {…}}` (hf-inference JSON tasks, §3.13).
    HfInference,
    /// `{"inputs": …, …params}` (hf-inference feature-extraction, §3.13).
    HfInferenceFlat,
    /// `{"input": …, …params, "model": provider_id}` (§3.3, §3.6, §3.9, §3.14).
    OpenAiEmbeddings,
    /// A provider-specific body the generic engine does not build: `Error::NotImplemented`.
    NotImplemented,
}

struct Reference {
    routed: bool,
    direct_base: Option<&'static str>,
    /// The route, appended to `router/{provider}` or the direct base.
    route: String,
    wire: Wire,
}

fn reference(task: Task, provider: Provider) -> Reference {
    let embeddings = |base: &'static str, route: &str| Reference {
        routed: true,
        direct_base: Some(base),
        route: route.to_owned(),
        wire: Wire::OpenAiEmbeddings,
    };
    match (provider.as_str(), task) {
        // §2.4: always the router; the Hub id in the path; `/pipeline/{task}` for these two.
        ("hf-inference", Task::FeatureExtraction) => Reference {
            routed: true,
            direct_base: None,
            route: format!("/models/{}/pipeline/feature-extraction", hub_model(task)),
            wire: Wire::HfInferenceFlat,
        },
        ("hf-inference", Task::SentenceSimilarity) => Reference {
            routed: true,
            direct_base: None,
            route: format!("/models/{}/pipeline/sentence-similarity", hub_model(task)),
            wire: Wire::HfInference,
        },
        ("hf-inference", _) => Reference {
            routed: true,
            direct_base: None,
            route: format!("/models/{}", hub_model(task)),
            wire: Wire::HfInference,
        },
        // §3.3
        ("deepinfra", Task::FeatureExtraction) => {
            embeddings("https://api.deepinfra.com", "/v1/openai/embeddings")
        }
        // §3.6
        ("together", Task::FeatureExtraction) => {
            embeddings("https://api.together.xyz", "/v1/embeddings")
        }
        // §3.9
        ("scaleway", Task::FeatureExtraction) => {
            embeddings("https://api.scaleway.ai", "/v1/embeddings")
        }
        // §3.14 (1.0.0rc6; removed from the router since)
        ("sambanova", Task::FeatureExtraction) => {
            embeddings("https://api.sambanova.ai", "/v1/embeddings")
        }
        // §3.14: `{"input", "model"}`, every parameter ignored: not the generic format.
        ("nebius", Task::FeatureExtraction) => Reference {
            wire: Wire::NotImplemented,
            ..embeddings("https://api.studio.nebius.ai", "/v1/embeddings")
        },
        (other, task) => panic!(
            "provider `{other}` serves {task} but has no reference entry here; add one from \
             python-client.md §3"
        ),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Routed,
    Direct,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Routed => "routed",
            Mode::Direct => "direct",
        }
    }

    fn token(self) -> &'static str {
        match self {
            Mode::Routed => HF_TOKEN,
            Mode::Direct => PROVIDER_KEY,
        }
    }
}

/// The modes of a pair per the reference, cross-checked against the table.
fn modes(provider: Provider, reference: &Reference) -> Vec<Mode> {
    let spec = provider.spec();
    assert_eq!(
        spec.is_routed(),
        reference.routed,
        "{provider}: routed support"
    );
    assert_eq!(
        spec.is_direct(),
        reference.direct_base.is_some(),
        "{provider}: direct support"
    );
    let mut modes = Vec::new();
    if reference.routed {
        modes.push(Mode::Routed);
    }
    if reference.direct_base.is_some() {
        modes.push(Mode::Direct);
    }
    modes
}

fn expected_url(provider: Provider, mode: Mode, reference: &Reference) -> String {
    match mode {
        Mode::Routed => format!("{ROUTER}/{provider}{}", reference.route),
        Mode::Direct => format!(
            "{}{}",
            reference.direct_base.expect("a direct host"),
            reference.route
        ),
    }
}

fn expected_body(task: Task, provider: Provider, wire: Wire) -> Value {
    let inputs = reference_inputs(task);
    let params = reference_parameters(task);
    match wire {
        Wire::HfInference => match params {
            Some(p) => json!({"inputs": inputs, "parameters": p}),
            None => json!({"inputs": inputs}),
        },
        Wire::HfInferenceFlat | Wire::OpenAiEmbeddings => {
            let mut body = Map::new();
            let key = if wire == Wire::HfInferenceFlat {
                "inputs"
            } else {
                "input"
            };
            body.insert(key.into(), inputs);
            if let Some(Value::Object(p)) = params {
                body.extend(p);
            }
            if wire == Wire::OpenAiEmbeddings {
                body.insert("model".into(), json!(provider_model_id(provider)));
            }
            Value::Object(body)
        }
        Wire::NotImplemented => unreachable!("no body"),
    }
}

/// The providers whose pair with `task` the engine implements, per the reference.
fn implemented_providers(task: Task) -> BTreeSet<String> {
    task.providers()
        .iter()
        .filter(|p| reference(task, **p).wire != Wire::NotImplemented)
        .map(|p| p.as_str().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Realistic answers and how the reference maps them

/// The shape of a task's typed output.
#[derive(Clone, Copy, Debug, PartialEq)]
enum OutputShape {
    /// One object (summarization, translation: the reference takes the list's first element).
    Object,
    /// A list of objects (a single object from the server is read as a one-element list; the
    /// nested `[[…]]` of hf-inference text classification as its only element).
    ListOfObjects,
    /// Numbers, nested as the server sent them.
    Numbers,
}

fn output_shape(task: Task) -> OutputShape {
    match task {
        Task::Summarization | Task::Translation => OutputShape::Object,
        Task::FeatureExtraction | Task::SentenceSimilarity => OutputShape::Numbers,
        _ => OutputShape::ListOfObjects,
    }
}

/// The typed output an hf-inference answer must produce (python-client.md §1.3 "Returns").
fn expected_hf_output(task: Task, answer: &Value) -> Value {
    match (output_shape(task), answer) {
        (OutputShape::Object, Value::Array(items)) if items.len() == 1 => items[0].clone(),
        (OutputShape::ListOfObjects, Value::Object(_)) => json!([answer]),
        (OutputShape::ListOfObjects, Value::Array(items))
            if items.len() == 1 && items[0].is_array() =>
        {
            items[0].clone()
        }
        _ => answer.clone(),
    }
}

/// A realistic hf-inference answer: the one recorded in a final-spec conformance tape of the
/// task whose input has the shape of this file's call, else a documented answer of the task.
fn hf_answer(task: Task, tapes: &[Tape]) -> (Value, String) {
    let input_kind = |v: &Value| match v {
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        _ => "scalar",
    };
    let ours = input_kind(&reference_inputs(task));
    let recorded = tapes.iter().find(|t| {
        t.provider == "hf-inference"
            && t.task == task.as_str()
            && t.in_final_spec
            && t.response.status == 200
            && t.request
                .body_json
                .as_ref()
                .and_then(|b| b.get("inputs"))
                .is_some_and(|i| input_kind(i) == ours)
    });
    if let Some(tape) = recorded {
        let body = tape.response.body_json.clone().expect("a JSON answer");
        return (body, format!("recorded in {}", tape.file_name));
    }
    // Tasks without a tape: the answer shapes the reference parses (§1.3 and the provider
    // table's notes), with realistic values.
    let body = match task {
        // Nested `[[…]]` for a single input (§1.3: the reference takes `[0]`).
        Task::TextClassification => json!([[
            {"label": "POSITIVE", "score": 0.9998738765716553},
            {"label": "NEGATIVE", "score": 0.00012611268903128803}
        ]]),
        Task::TokenClassification => json!([
            {"entity_group": "PER", "score": 0.9991337060928345, "word": "Sarah Jessica Parker",
             "start": 11, "end": 31},
            {"entity_group": "PER", "score": 0.9979912042617798, "word": "Jessica",
             "start": 52, "end": 59}
        ]),
        // One object (§1.3: `TableQuestionAnsweringOutputElement`).
        Task::TableQuestionAnswering => json!({
            "answer": "AVERAGE > 36542",
            "coordinates": [[0, 1]],
            "cells": ["36542"],
            "aggregator": "AVERAGE"
        }),
        // 2.4.0 expects a list of `{label, score}` (§1.3).
        Task::ZeroShotClassification => json!([
            {"label": "refund", "score": 0.877787709236145},
            {"label": "faq", "score": 0.10522633045911789},
            {"label": "legal", "score": 0.016985949128866196}
        ]),
        other => panic!("no tape and no documented answer for {other}"),
    };
    (body, "documented answer shape".to_owned())
}

/// An OpenAI embeddings answer for the two inputs, and the vectors it maps to (`data[*].embedding`).
fn embeddings_answer(provider: Provider) -> (Value, Value) {
    let vectors = json!([
        [0.0123, -0.0456, 0.0789, 0.1011],
        [-0.5, 0.25, 0.125, -0.0625]
    ]);
    let data: Vec<Value> = vectors
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"object": "embedding", "index": i, "embedding": v}))
        .collect();
    let answer = json!({
        "object": "list",
        "data": data,
        "model": provider_model_id(provider),
        "usage": {"prompt_tokens": 9, "total_tokens": 9}
    });
    (answer, vectors)
}

/// JSON equality for typed outputs: key order does not matter, a `null` member equals an
/// absent one, numbers within 1e-6 relative (embeddings are `f32`).
fn same_json(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let keys: BTreeSet<&String> = e.keys().chain(a.keys()).collect();
            for key in keys {
                let ev = e.get(key).unwrap_or(&Value::Null);
                let av = a.get(key).unwrap_or(&Value::Null);
                same_json(ev, av, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Err(format!(
                    "at {path}: {} elements expected, {} returned",
                    e.len(),
                    a.len()
                ));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                same_json(ev, av, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Number(e), Value::Number(a)) => {
            let (x, y) = (
                e.as_f64().unwrap_or(f64::NAN),
                a.as_f64().unwrap_or(f64::NAN),
            );
            if (x - y).abs() <= 1e-6 * x.abs().max(y.abs()).max(1.0) {
                Ok(())
            } else {
                Err(format!("at {path}: expected {e}, returned {a}"))
            }
        }
        (e, a) if e == a => Ok(()),
        (e, a) => Err(format!(
            "at {path}: expected {}, returned {}",
            expect::show(e),
            expect::show(a)
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Loopback helpers

/// A listener that accepts and immediately closes connections, remembering each one.
struct ConnectionCounter {
    addr: SocketAddr,
    peers: Arc<Mutex<Vec<SocketAddr>>>,
}

impl ConnectionCounter {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let peers = Arc::new(Mutex::new(Vec::new()));
        let seen = peers.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Ok(peer) = stream.peer_addr() {
                    seen.lock().unwrap().push(peer);
                }
            }
        });
        Self { addr, peers }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections made so far. A sentinel connection is made and waited for first: accepts
    /// are in arrival order, so every earlier connection has been counted by then.
    fn connections(&self) -> usize {
        let sentinel = TcpStream::connect(self.addr).expect("connect sentinel");
        let me = sentinel.local_addr().expect("sentinel addr");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let peers = self.peers.lock().unwrap();
            if let Some(pos) = peers.iter().position(|p| *p == me) {
                return peers.iter().enumerate().filter(|(i, _)| *i != pos).count();
            }
            drop(peers);
            assert!(Instant::now() < deadline, "sentinel connection never seen");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A client with the real router and provider hosts (for previews), the Hub at `hub`, and the
/// task's model pinned on every provider.
fn preview_client(token: &str, hub: &ConnectionCounter) -> InferenceClient {
    pinned(InferenceClient::builder().token(token).hub_url(hub.url()))
        .build()
        .expect("client")
}

fn pinned(
    mut builder: hf_inference::InferenceClientBuilder,
) -> hf_inference::InferenceClientBuilder {
    for task in TASKS {
        for provider in task.providers() {
            builder =
                builder.model_mapping(hub_model(task), *provider, provider_model_id(*provider));
        }
    }
    builder
}

/// The same client with the router and the provider's hosts on the replay server.
fn wire_client(
    token: &str,
    hub: &ConnectionCounter,
    server: &ReplayServer,
    provider: Provider,
) -> InferenceClient {
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client");
    let mut builder = pinned(
        InferenceClient::builder()
            .token(token)
            .hub_url(hub.url())
            .router_url(server.url_for_host(ROUTER_HOST))
            .retry_policy(RetryPolicy::disabled())
            .http_client(http),
    );
    for host in provider.spec().hosts {
        let name = url::Url::parse(host.base_url)
            .expect("host URL")
            .host_str()
            .expect("host")
            .to_owned();
        builder = builder.provider_host_url(provider, host.name, server.url_for_host(&name));
    }
    builder.build().expect("client")
}

/// The preview as a snapshot: method and URL, headers sorted by name (the user-agent's version
/// masked), then the pretty JSON body.
fn render(preview: &RequestPreview) -> String {
    let mut headers = preview.headers.clone();
    headers.sort();
    let mut out = format!("{} {}\n", preview.method, preview.url);
    for (name, value) in headers {
        let value = if name == "user-agent" {
            value.replace(env!("CARGO_PKG_VERSION"), "<version>")
        } else {
            value
        };
        out.push_str(&format!("{name}: {value}\n"));
    }
    out.push('\n');
    let body = preview.body_json().expect("a JSON body");
    // The table of table-question-answering keeps its column order (an `IndexMap`): the
    // answer's `coordinates` refer to column indices.
    if let Some(Value::Object(table)) = body.pointer("/inputs/table") {
        let columns: Vec<&String> = table.keys().collect();
        assert_eq!(columns, ["Repository", "Stars"], "column order is kept");
    }
    out.push_str(&serde_json::to_string_pretty(&body).expect("pretty"));
    out.push('\n');
    out
}

/// Facts every preview of this file must satisfy.
fn check_common(preview: &RequestPreview, token: &str, what: &str) {
    for shown in [
        format!("{preview:?}"),
        format!("{preview}"),
        render(preview),
    ] {
        assert!(
            !shown.contains(token),
            "{what}: the raw token appears in the preview:\n{shown}"
        );
        assert!(
            !shown.contains(SECRET_PART),
            "{what}: part of the token appears in the preview:\n{shown}"
        );
    }
    assert_eq!(preview.method, "POST", "{what}");
    assert_eq!(
        preview.header("authorization"),
        Some("<redacted>"),
        "{what}: the token must be sent, and shown redacted"
    );
    assert_eq!(
        preview.header("content-type"),
        Some("application/json"),
        "{what}"
    );
    assert!(
        preview
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("hf-inference-rust/")),
        "{what}: user-agent"
    );
}

// ---------------------------------------------------------------------------------------------
// The test

#[tokio::test]
async fn json_tasks_on_every_provider_and_mode() {
    let tapes_dir = tapes_dir();
    let tapes = Tape::load_dir(&tapes_dir)
        .unwrap_or_else(|e| panic!("load the tapes from {}: {e}", tapes_dir.display()));
    let hub = ConnectionCounter::start();
    let mut snapshots = 0;
    let mut not_implemented = 0;
    for task in TASKS {
        let providers = task.providers();
        assert!(
            providers.contains(&Provider::HfInference),
            "{task}: hf-inference serves every task of this file (§3.1)"
        );
        for &provider in providers {
            let reference = reference(task, provider);
            for mode in modes(provider, &reference) {
                let what = format!("{task} on {provider} ({})", mode.name());
                if reference.wire == Wire::NotImplemented {
                    check_not_implemented(task, provider, mode, &what).await;
                    not_implemented += 1;
                    continue;
                }
                let token = mode.token();
                let client = preview_client(token, &hub);
                let preview = call(&client, task, provider, false)
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {e}"))
                    .preview;
                check_common(&preview, token, &what);
                assert_eq!(
                    preview.url,
                    expected_url(provider, mode, &reference),
                    "{what}: URL"
                );
                let body = preview.body_json().expect("JSON body");
                assert_eq!(
                    body,
                    expected_body(task, provider, reference.wire),
                    "{what}: body"
                );
                if reference.wire == Wire::OpenAiEmbeddings {
                    // §3.3: `model` is applied last (and cannot be overridden).
                    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
                    assert_eq!(keys.first().map(|k| k.as_str()), Some("input"), "{what}");
                    assert_eq!(keys.last().map(|k| k.as_str()), Some("model"), "{what}");
                }
                insta::assert_snapshot!(
                    format!("{task}__{provider}__{}", mode.name()),
                    render(&preview)
                );
                snapshots += 1;

                check_on_the_wire(
                    task, provider, mode, &reference, &preview, &tapes, &hub, &what,
                )
                .await;
            }
        }
        // hf-inference is routed only; a provider key still goes through the router (§2.3).
        let client = preview_client(PROVIDER_KEY, &hub);
        let preview = call(&client, task, Provider::HfInference, false)
            .await
            .unwrap_or_else(|e| panic!("{task} on hf-inference with a provider key: {e}"))
            .preview;
        assert_eq!(
            preview.url,
            expected_url(
                Provider::HfInference,
                Mode::Routed,
                &reference(task, Provider::HfInference)
            ),
            "{task} on hf-inference with a provider key"
        );
    }
    assert_eq!(
        snapshots, 18,
        "snapshots: 9 embeddings pairs x modes + 9 hf-inference tasks"
    );
    assert_eq!(not_implemented, 2, "nebius feature-extraction, both modes");
    assert_eq!(hub.connections(), 0, "pinned mappings: no Hub lookup");
}

/// Sends the call to a replay server answering a realistic body on the reference path, and
/// checks the wire request and the typed output; then an error answer.
#[allow(clippy::too_many_arguments)]
async fn check_on_the_wire(
    task: Task,
    provider: Provider,
    mode: Mode,
    reference: &Reference,
    preview: &RequestPreview,
    tapes: &[Tape],
    hub: &ConnectionCounter,
    what: &str,
) {
    let token = mode.token();
    let url = url::Url::parse(&preview.url).expect("preview URL");
    let host = url.host_str().expect("host").to_owned();
    let path = url.path().to_owned();
    let (answer, expected, source) = match reference.wire {
        Wire::OpenAiEmbeddings => {
            let (answer, vectors) = embeddings_answer(provider);
            (answer, vectors, "an OpenAI embeddings list".to_owned())
        }
        _ => {
            let (answer, source) = hf_answer(task, tapes);
            let expected = expected_hf_output(task, &answer);
            (answer, expected, source)
        }
    };

    let server = ReplayServer::start(Vec::<Tape>::new()).expect("replay server");
    server.add_route(&host, "POST", &path, 200, answer.clone());
    let client = wire_client(token, hub, &server, provider);
    let done = call(&client, task, provider, true)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let output = done
        .output
        .expect("sent")
        .unwrap_or_else(|e| panic!("{what}: the answer ({source}) did not decode: {e}"));
    if let Err(e) = same_json(&expected, &output, "$") {
        panic!(
            "{what}: the typed output of {source} is not the reference mapping: {e}\nanswer: {}\noutput: {}",
            expect::show(&answer),
            expect::show(&output)
        );
    }
    if reference.wire == Wire::OpenAiEmbeddings {
        let out: hf_inference::types::feature_extraction::FeatureExtractionOutput =
            serde_json::from_value(output.clone()).expect("embeddings");
        assert_eq!(
            out.shape(),
            Some(vec![2, 4]),
            "{what}: one vector per input"
        );
    }

    // The wire request is the preview, with the real token.
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{what}: one request on the wire");
    let sent = &requests[0];
    assert_eq!(sent.host, host, "{what}: host");
    assert_eq!(sent.method, "POST", "{what}");
    assert_eq!(sent.path, path, "{what}: path");
    assert_eq!(sent.query, None, "{what}: no query");
    assert_eq!(
        sent.body.as_ref(),
        done.preview.body.as_deref().unwrap_or_default(),
        "{what}: body on the wire"
    );
    // As JSON values (the bytes are compared above).
    assert_eq!(
        done.preview.body_json(),
        preview.body_json(),
        "{what}: the same call previews the same body on both clients"
    );
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {token}").as_str()),
        "{what}: auth scheme"
    );
    assert_eq!(
        sent.header("content-type"),
        Some("application/json"),
        "{what}"
    );

    // An error answer: the typed error with the status and the server's message.
    let message = "Input validation error: `inputs` must be non-empty";
    let error_body = match reference.wire {
        Wire::OpenAiEmbeddings => {
            json!({"error": {"message": message, "type": "invalid_request_error"}})
        }
        _ => json!({"error": message}),
    };
    server.add_route(&host, "POST", &path, 400, error_body);
    server.clear_requests();
    let err = match call(&client, task, provider, true).await {
        Ok(Done {
            output: Some(Err(e)),
            ..
        }) => e,
        Ok(Done { output, .. }) => panic!("{what}: HTTP 400 answered {output:?}"),
        Err(e) => panic!("{what}: {e}"),
    };
    assert!(matches!(err, Error::Http(_)), "{what}: {err:?}");
    assert_eq!(err.status(), Some(400), "{what}");
    assert_eq!(
        err.http_context().and_then(|c| c.server_message.as_deref()),
        Some(message),
        "{what}: the server's message"
    );
    assert_eq!(server.requests().len(), 1, "{what}: no retry of a 400");
}

/// A pair the engine does not implement: `Error::NotImplemented` naming the implemented
/// providers, from `preview` and `send`, with the mapping pinned or not, and no connection to
/// the Hub, the router or the provider.
async fn check_not_implemented(task: Task, provider: Provider, mode: Mode, what: &str) {
    let implemented = implemented_providers(task);
    assert!(!implemented.is_empty(), "{what}");
    for pin in [true, false] {
        let what = format!(
            "{what}, mapping {}",
            if pin { "pinned" } else { "not pinned" }
        );
        let counter = ConnectionCounter::start();
        let mut builder = InferenceClient::builder()
            .token(mode.token())
            .hub_url(counter.url())
            .router_url(counter.url())
            .retry_policy(RetryPolicy::disabled());
        for p in Provider::ALL {
            builder = builder.provider_url(*p, counter.url());
        }
        if pin {
            builder = builder.model_mapping(hub_model(task), provider, provider_model_id(provider));
        }
        let client = builder.build().expect("client");
        for send in [false, true] {
            let err = match call(&client, task, provider, send).await {
                Err(e) => e,
                Ok(Done {
                    output: Some(Err(e)),
                    ..
                }) => e,
                Ok(done) => panic!(
                    "{what}: expected Error::NotImplemented, got a request to {}",
                    done.preview.url
                ),
            };
            match &err {
                Error::NotImplemented {
                    provider: p,
                    task: t,
                    implemented: listed,
                } => {
                    assert_eq!(p, provider.as_str(), "{what}");
                    assert_eq!(t, task.as_str(), "{what}");
                    let listed: BTreeSet<String> = listed.iter().cloned().collect();
                    assert_eq!(listed, implemented, "{what}: implemented providers");
                    let shown = err.to_string();
                    for name in &implemented {
                        assert!(shown.contains(name.as_str()), "{what}: {shown}");
                    }
                }
                other => panic!("{what}: expected Error::NotImplemented, got {other:?}"),
            }
        }
        assert_eq!(counter.connections(), 0, "{what}: no network traffic");
    }
}
