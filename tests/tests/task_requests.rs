//! Every (provider, task) pair of the provider table but chat completion and text generation
//! (tests/requests.rs, tests/replay_chat.rs), against the reference wire formats of
//! python-client.md (§2.3 modes and auth, §2.4 hf-inference URLs, §3 provider routes and bodies,
//! §3.13 hf-inference bodies). [`COVERAGE`] lists the pairs, written out from the reference;
//! `every_pair_of_the_table_is_covered` fails when the table gains (or loses) a pair the list
//! does not have, when the table's format of a pair disagrees with the reference's kind, or when
//! a task listed as uncallable gains a method.
//!
//! - `json_tasks_on_every_provider_and_mode` (feature-extraction, fill-mask, question-answering,
//!   sentence-similarity, summarization, table-question-answering, text-classification,
//!   token-classification, translation, zero-shot-classification) and
//!   `binary_and_file_tasks_on_every_provider_and_mode` (audio-classification,
//!   automatic-speech-recognition, document-question-answering, image-classification,
//!   image-segmentation, image-to-image, image-to-text, object-detection, text-to-image,
//!   text-to-speech, visual-question-answering, zero-shot-image-classification on hf-inference;
//!   OpenAI speech on deepinfra and together): the generic engine's own formats. For each pair,
//!   mode (routed with an `hf_` token, direct with the provider's key, where the provider
//!   supports it) and body form (binary tasks: raw bytes without parameters, base64 JSON with):
//!   - an insta snapshot of the [`RequestPreview`] (method, URL, sorted headers with the token
//!     redacted, the body; an input file's bytes or base64 compared in full and shown by name),
//!     with the token asserted absent from every rendering;
//!   - the reference facts asserted one by one (URL, body, content type), written out below from
//!     the reference, not read from `specs/providers.toml`;
//!   - the same request really sent to a loopback server: byte for byte the preview, with
//!     `Authorization: Bearer <token>`; the server answers a realistic body (the answer recorded
//!     in the conformance tapes where one exists, raw image / audio bytes for file answers) and
//!     the typed output must be that answer as the reference maps it (a file answer: a `Blob`
//!     with exactly the bytes served and their content type; JSON where a file was expected:
//!     `Error::Decode`); an error answer must come back as `Error::Http` with its status and
//!     message.
//! - `provider_specific_pairs`: the pairs whose body, job or answer is provider code
//!   (`sdk/src/providers/<provider>.rs`, pinned by the provider test files named in
//!   [`COVERAGE`]): each is either refused with `Error::NotImplemented` before any connection,
//!   naming exactly the providers on which the task is implemented, or sent to the reference
//!   route with the reference credentials and static headers.
//! - `url_input_is_downloaded_without_credentials_and_sent_with_them`: an http(s) URL input is
//!   downloaded with none of the client's credentials or headers (also through a host
//!   redirect), then sent to hf-inference with them (two loopback hosts).
//! - `every_input_form_makes_the_same_request`: bytes, path, reader, `data:` URL, http URL and
//!   `Blob` inputs make identical requests.

use std::collections::{BTreeMap, BTreeSet};

use hf_inference::binary::{BinaryInput, Blob};
use hf_inference::http::retry::RetryPolicy;
use hf_inference::providers::{PayloadStyle, Polling, ResponseStyle, TaskSpec, task_spec};
use hf_inference::tasks::generic::TaskRequest;
use hf_inference::types::common::GenerationParameters;
use hf_inference::types::question_answering::QuestionAnsweringInputData;
use hf_inference::types::sentence_similarity::SentenceSimilarityInputData;
use hf_inference::types::table_question_answering::TableQuestionAnsweringInputData;
use hf_inference::{Error, InferenceClient, Provider, RequestPreview, Task};
use hf_inference_tests::expect;
use hf_inference_tests::replay::ReplayServer;
use hf_inference_tests::support::{
    ConnectionCounter, Mode, ROUTER, ROUTER_HOST, SameJson, check_preview, loopback_builder,
    preview_head, provider_hosts_on, reference_modes, render_json,
};
use hf_inference_tests::tapes::{InputCache, Tape, inputs_dir, tapes_dir, workspace_root};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

const HF_TOKEN: &str = "hf_taskReqSecret0123456789abcdef";
const PROVIDER_KEY: &str = "pk-taskReqSecret0123456789abcdef";
/// A fragment of both credentials: must never appear in a preview.
const SECRET_PART: &str = "taskReqSecret";

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
        Task::AudioClassification => "superb/hubert-large-superb-er",
        Task::AutomaticSpeechRecognition => "openai/whisper-large-v3",
        Task::DocumentQuestionAnswering => "impira/layoutlm-document-qa",
        Task::ImageClassification => "google/vit-base-patch16-224",
        Task::ImageSegmentation => "facebook/detr-resnet-50-panoptic",
        Task::ImageToImage => "lllyasviel/sd-controlnet-canny",
        Task::ImageToText => "nlpconnect/vit-gpt2-image-captioning",
        Task::ImageToVideo => "Wan-AI/Wan2.1-I2V-14B-720P",
        Task::ObjectDetection => "facebook/detr-resnet-50",
        Task::TextToImage => "black-forest-labs/FLUX.1-dev",
        Task::TextToSpeech => "hexgrad/Kokoro-82M",
        Task::TextToVideo => "Wan-AI/Wan2.1-T2V-14B",
        Task::VisualQuestionAnswering => "dandelin/vilt-b32-finetuned-vqa",
        Task::ZeroShotImageClassification => "openai/clip-vit-large-patch14-336",
        other => panic!("no call for {other}"),
    }
}

/// The provider's own id of the task's model, pinned with `model_mapping` (distinct from the
/// Hub id so the body shows which one was sent).
fn provider_model_id(provider: Provider) -> String {
    format!("{provider}/embedding-model-v1")
}

/// [`provider_model_id`] for any task: the embeddings id for feature extraction, else one
/// naming the task (`fal-ai/text-to-image-model-v1`).
fn pinned_id(task: Task, provider: Provider) -> String {
    match task {
        Task::FeatureExtraction => provider_model_id(provider),
        _ => format!("{provider}/{task}-model-v1"),
    }
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
        (other, task) => panic!(
            "provider `{other}` serves {task} but has no reference entry here; add one from \
             python-client.md §3"
        ),
    }
}

/// The credential of `mode`.
fn token(mode: Mode) -> &'static str {
    mode.pick(HF_TOKEN, PROVIDER_KEY)
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
    }
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

/// JSON equality of typed outputs: numbers within 1e-6 (embeddings are `f32`).
const SAME_JSON: SameJson = SameJson {
    tolerance: 1e-6,
    expected: "expected",
};

// ---------------------------------------------------------------------------------------------
// Loopback helpers

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
    for (task, provider, cover) in COVERAGE {
        if !matches!(cover, Cover::NoMethod(_)) {
            builder =
                builder.model_mapping(hub_model(*task), *provider, pinned_id(*task, *provider));
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
    // The Hub on the counter, not on the server: every mapping is pinned.
    let builder = pinned(loopback_builder(token, server).hub_url(hub.url()));
    provider_hosts_on(builder, provider, server)
        .build()
        .expect("client")
}

/// The preview as a snapshot: method and URL, headers sorted by name (the user-agent's version
/// masked), then the pretty JSON body.
fn render(preview: &RequestPreview) -> String {
    let body = preview.body_json().expect("a JSON body");
    // The table of table-question-answering keeps its column order (an `IndexMap`): the
    // answer's `coordinates` refer to column indices.
    if let Some(Value::Object(table)) = body.pointer("/inputs/table") {
        let columns: Vec<&String> = table.keys().collect();
        assert_eq!(columns, ["Repository", "Stars"], "column order is kept");
    }
    render_json(preview, &body)
}

/// The Python reference's `_inner_post` adds `Accept: image/png` to the calls of the tasks it
/// expects images from (`TASKS_EXPECTING_IMAGES`: text-to-image, image-to-image), on every
/// provider; no other task gets an `Accept`.
fn assert_accept(preview: &RequestPreview, task: Task, what: &str) {
    let expected = matches!(task, Task::TextToImage | Task::ImageToImage).then_some("image/png");
    assert_eq!(preview.header("accept"), expected, "{what}: Accept");
}

/// Facts every preview of this file must satisfy: the token absent from every rendering
/// (`rendered`: the snapshot text), sent and shown redacted; the body's content type.
fn check_common(
    preview: &RequestPreview,
    token: &str,
    what: &str,
    content_type: &str,
    rendered: &str,
) {
    check_preview(
        preview,
        &[token, SECRET_PART],
        Some(rendered),
        content_type,
        what,
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
    for task in TASKS {
        let providers = task.providers();
        assert!(
            providers.contains(&Provider::HfInference),
            "{task}: hf-inference serves every task of this file (§3.1)"
        );
        for &provider in providers {
            // Provider-specific formats (nebius embeddings): `provider_specific_pairs`.
            if !matches!(cover(task, provider), Cover::Json) {
                continue;
            }
            let reference = reference(task, provider);
            let modes =
                reference_modes(provider, reference.routed, reference.direct_base.is_some());
            for mode in modes {
                let what = format!("{task} on {provider} ({})", mode.name());
                let token = token(mode);
                let client = preview_client(token, &hub);
                let preview = call(&client, task, provider, false)
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {e}"))
                    .preview;
                check_common(
                    &preview,
                    token,
                    &what,
                    "application/json",
                    &render(&preview),
                );
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
    let token = token(mode);
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
    if let Err(e) = SAME_JSON.check(&expected, &output, "$") {
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

// =============================================================================================
// Every (task, provider) pair of the provider table

/// Chat completion and text generation have their own tests (tests/requests.rs,
/// tests/replay_chat.rs), and so have the JS client's image-text tasks, absent from 2.4.0
/// (tests/image_text_tasks.rs, whose table test also names tests/provider_novita.rs for novita's
/// MiniMax video job); every other pair of the table is in [`COVERAGE`].
const ELSEWHERE: [Task; 4] = [
    Task::ChatCompletion,
    Task::TextGeneration,
    Task::ImageTextToImage,
    Task::ImageTextToVideo,
];

/// A provider-specific route of the reference (python-client.md §3); `{id}` stands for the
/// provider's model id.
#[derive(Clone, Copy, Debug)]
struct AdapterRoute {
    route: &'static str,
    /// The provider's own host (direct mode).
    direct_base: &'static str,
    /// The query of routed calls (fal's queue: `_subdomain=queue`).
    routed_query: Option<&'static str>,
    /// Where the reference says so.
    section: &'static str,
    /// The test file (tests/tests/) that pins the pair's body, job and answer.
    tests: &'static str,
}

/// How this file covers a pair.
#[derive(Clone, Copy, Debug)]
enum Cover {
    /// A JSON task of the generic engine: `json_tasks_on_every_provider_and_mode`.
    Json,
    /// A binary-input or file-answer format of the generic engine (hf-inference raw or base64
    /// bodies, file answers, OpenAI speech): `binary_and_file_tasks_on_every_provider_and_mode`.
    Binary,
    /// A provider-specific format (a `provider` payload, a job protocol or a provider-specific
    /// answer, in `sdk/src/providers/<provider>.rs`): `provider_specific_pairs` checks the route,
    /// credentials and refusals here; the body, job and answer are pinned by the provider's own
    /// test file (`AdapterRoute::tests`).
    Adapter(AdapterRoute),
    /// No task method exists: nothing can call the pair.
    NoMethod(&'static str),
}

const fn adapter(
    route: &'static str,
    direct_base: &'static str,
    section: &'static str,
    tests: &'static str,
) -> Cover {
    Cover::Adapter(AdapterRoute {
        route,
        direct_base,
        routed_query: None,
        section,
        tests,
    })
}

/// fal's queue: `queue.fal.run` direct, `?_subdomain=queue` routed (§3.4).
const FAL_QUEUE: Cover = Cover::Adapter(AdapterRoute {
    route: "/{id}",
    direct_base: "https://queue.fal.run",
    routed_query: Some("_subdomain=queue"),
    section: "§3.4",
    tests: "provider_fal_ai.rs",
});
const FAL: Cover = adapter("/{id}", "https://fal.run", "§3.4", "provider_fal_ai.rs");
const REPLICATE: Cover = adapter(
    "/v1/models/{id}/predictions",
    "https://api.replicate.com",
    "§3.5",
    "provider_replicate.rs",
);
const TOGETHER_IMAGES: Cover = adapter(
    "/v1/images/generations",
    "https://api.together.xyz",
    "§3.6",
    "provider_together.rs",
);
const TOGETHER_VIDEOS: Cover = adapter(
    "/v2/videos",
    "https://api.together.xyz",
    "§3.6",
    "provider_together.rs",
);
const WAVESPEED: Cover = adapter(
    "/api/v3/{id}",
    "https://api.wavespeed.ai",
    "§3.11",
    "provider_jobs.rs",
);
const NO_SCHEMA: Cover = Cover::NoMethod(
    "the task has no schema upstream (`extra_tasks` of specs/providers.toml), so no method is \
     generated",
);

/// Every (task, provider) pair of the provider table but chat completion and text generation,
/// written out from the reference (python-client.md §3.1 matrix and §3 routes), not read from
/// the table: [`every_pair_of_the_table_is_covered`] compares the two.
const COVERAGE: &[(Task, Provider, Cover)] = &[
    (
        Task::AudioClassification,
        Provider::HfInference,
        Cover::Binary,
    ),
    (Task::AudioToAudio, Provider::HfInference, NO_SCHEMA),
    (
        Task::AutomaticSpeechRecognition,
        Provider::Deepinfra,
        adapter(
            "/v1/openai/audio/transcriptions",
            "https://api.deepinfra.com",
            "§3.3",
            "provider_jobs.rs",
        ),
    ),
    (Task::AutomaticSpeechRecognition, Provider::FalAi, FAL),
    (
        Task::AutomaticSpeechRecognition,
        Provider::HfInference,
        Cover::Binary,
    ),
    (
        Task::AutomaticSpeechRecognition,
        Provider::Replicate,
        REPLICATE,
    ),
    (
        Task::DocumentQuestionAnswering,
        Provider::HfInference,
        Cover::Binary,
    ),
    (Task::FeatureExtraction, Provider::Deepinfra, Cover::Json),
    (Task::FeatureExtraction, Provider::HfInference, Cover::Json),
    (
        Task::FeatureExtraction,
        Provider::Nebius,
        adapter(
            "/v1/embeddings",
            "https://api.studio.nebius.ai",
            "§3.14",
            "provider_together.rs",
        ),
    ),
    (Task::FeatureExtraction, Provider::Sambanova, Cover::Json),
    (Task::FeatureExtraction, Provider::Scaleway, Cover::Json),
    (Task::FeatureExtraction, Provider::Together, Cover::Json),
    (Task::FillMask, Provider::HfInference, Cover::Json),
    (
        Task::ImageClassification,
        Provider::HfInference,
        Cover::Binary,
    ),
    (Task::ImageSegmentation, Provider::FalAi, FAL_QUEUE),
    (
        Task::ImageSegmentation,
        Provider::HfInference,
        Cover::Binary,
    ),
    (Task::ImageToImage, Provider::FalAi, FAL_QUEUE),
    (Task::ImageToImage, Provider::HfInference, Cover::Binary),
    (Task::ImageToImage, Provider::Replicate, REPLICATE),
    (Task::ImageToImage, Provider::Together, TOGETHER_IMAGES),
    (Task::ImageToImage, Provider::Wavespeed, WAVESPEED),
    (Task::ImageToText, Provider::HfInference, Cover::Binary),
    (Task::ImageToVideo, Provider::FalAi, FAL_QUEUE),
    (Task::ImageToVideo, Provider::Together, TOGETHER_VIDEOS),
    (Task::ImageToVideo, Provider::Wavespeed, WAVESPEED),
    (Task::ObjectDetection, Provider::HfInference, Cover::Binary),
    (Task::QuestionAnswering, Provider::HfInference, Cover::Json),
    (Task::SentenceSimilarity, Provider::HfInference, Cover::Json),
    (Task::Summarization, Provider::HfInference, Cover::Json),
    (
        Task::TableQuestionAnswering,
        Provider::HfInference,
        Cover::Json,
    ),
    (
        Task::TabularClassification,
        Provider::HfInference,
        NO_SCHEMA,
    ),
    (Task::TextClassification, Provider::HfInference, Cover::Json),
    (
        Task::TextToImage,
        Provider::BlackForestLabs,
        adapter(
            "/v1/{id}",
            "https://api.us1.bfl.ai",
            "§3.14",
            "provider_jobs.rs",
        ),
    ),
    (Task::TextToImage, Provider::FalAi, FAL),
    (Task::TextToImage, Provider::HfInference, Cover::Binary),
    (
        Task::TextToImage,
        Provider::Hyperbolic,
        adapter(
            "/v1/images/generations",
            "https://api.hyperbolic.xyz",
            "§3.14",
            "provider_together.rs",
        ),
    ),
    (
        Task::TextToImage,
        Provider::Nebius,
        adapter(
            "/v1/images/generations",
            "https://api.studio.nebius.ai",
            "§3.14",
            "provider_together.rs",
        ),
    ),
    (
        Task::TextToImage,
        Provider::Nscale,
        adapter(
            "/v1/images/generations",
            "https://inference.api.nscale.com",
            "§3.8",
            "provider_together.rs",
        ),
    ),
    (Task::TextToImage, Provider::Replicate, REPLICATE),
    (Task::TextToImage, Provider::Together, TOGETHER_IMAGES),
    (Task::TextToImage, Provider::Wavespeed, WAVESPEED),
    (
        Task::TextToImage,
        Provider::ZaiOrg,
        adapter(
            "/api/paas/v4/async/images/generations",
            "https://api.z.ai",
            "§3.12",
            "provider_jobs.rs",
        ),
    ),
    (Task::TextToSpeech, Provider::Deepinfra, Cover::Binary),
    (Task::TextToSpeech, Provider::FalAi, FAL),
    (Task::TextToSpeech, Provider::HfInference, Cover::Binary),
    (Task::TextToSpeech, Provider::Replicate, REPLICATE),
    (Task::TextToSpeech, Provider::Together, Cover::Binary),
    (Task::TextToVideo, Provider::FalAi, FAL_QUEUE),
    (
        Task::TextToVideo,
        Provider::Novita,
        adapter(
            "/v3/hf/{id}",
            "https://api.novita.ai",
            "§3.7",
            "provider_replicate.rs",
        ),
    ),
    (Task::TextToVideo, Provider::Replicate, REPLICATE),
    (Task::TextToVideo, Provider::Together, TOGETHER_VIDEOS),
    (Task::TextToVideo, Provider::Wavespeed, WAVESPEED),
    (
        Task::TokenClassification,
        Provider::HfInference,
        Cover::Json,
    ),
    (Task::Translation, Provider::HfInference, Cover::Json),
    (
        Task::VisualQuestionAnswering,
        Provider::HfInference,
        Cover::Binary,
    ),
    (
        Task::ZeroShotClassification,
        Provider::HfInference,
        Cover::Json,
    ),
    (
        Task::ZeroShotImageClassification,
        Provider::HfInference,
        Cover::Binary,
    ),
];

/// How [`COVERAGE`] covers a pair.
fn cover(task: Task, provider: Provider) -> Cover {
    COVERAGE
        .iter()
        .find(|(t, p, _)| *t == task && *p == provider)
        .map(|(_, _, c)| *c)
        .unwrap_or_else(|| {
            panic!("{task} on {provider} is in the provider table but not in COVERAGE: add it")
        })
}

/// Whether a table entry is one of the generic engine's own formats (the others go through the
/// provider adapters).
fn generic_format(spec: &TaskSpec) -> bool {
    spec.polling == Polling::None
        && matches!(
            (spec.payload, spec.response),
            (
                PayloadStyle::HfInference
                    | PayloadStyle::HfInferenceFlat
                    | PayloadStyle::HfInferenceBinary,
                ResponseStyle::Json | ResponseStyle::Bytes
            ) | (
                PayloadStyle::OpenAiEmbeddings,
                ResponseStyle::OpenAiEmbeddings
            ) | (PayloadStyle::OpenAiSpeech, ResponseStyle::Bytes)
        )
}

/// Fails when a pair is added to (or removed from) the provider table without being covered
/// here, when the table's format of a pair disagrees with the reference's kind of format, or
/// when a task gains a method while its pairs are listed as uncallable.
#[test]
fn every_pair_of_the_table_is_covered() {
    let name = |t: Task, p: Provider| format!("{t} on {p}");
    let table: BTreeSet<String> = Task::ALL
        .iter()
        .filter(|t| !ELSEWHERE.contains(t))
        .flat_map(|t| t.providers().iter().map(move |p| name(*t, *p)))
        .collect();
    let mut listed = BTreeSet::new();
    for (task, provider, _) in COVERAGE {
        assert!(
            !ELSEWHERE.contains(task),
            "{task}: tested elsewhere, not here"
        );
        assert!(
            listed.insert(name(*task, *provider)),
            "{} is listed twice in COVERAGE",
            name(*task, *provider)
        );
    }
    let missing: Vec<&String> = table.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "pairs of the provider table not covered by this file (add them to COVERAGE from \
         python-client.md §3, and test them): {missing:?}"
    );
    let stale: Vec<&String> = listed.difference(&table).collect();
    assert!(
        stale.is_empty(),
        "pairs of COVERAGE no longer in the provider table: {stale:?}"
    );

    let generated_path = workspace_root().join("sdk/src/generated/tasks.rs");
    let generated = std::fs::read_to_string(&generated_path)
        .unwrap_or_else(|e| panic!("read {}: {e}", generated_path.display()));
    for (task, provider, cover) in COVERAGE {
        let what = name(*task, *provider);
        let method = format!("pub fn {}(", task.as_str().replace('-', "_"));
        let has_method = generated.contains(&method);
        let spec = task_spec(*provider, *task).expect("a pair of the table");
        let generic = generic_format(spec);
        match cover {
            Cover::Json | Cover::Binary => {
                assert_eq!(
                    TASKS.contains(task),
                    matches!(cover, Cover::Json),
                    "{what}: the JSON tasks of this file are TASKS"
                );
                assert!(
                    generic,
                    "{what}: the reference gives it a generic format, the table {:?}/{:?}/{:?}",
                    spec.payload, spec.response, spec.polling
                );
                assert!(has_method, "{what}: no `{method}` generated");
            }
            Cover::Adapter(route) => {
                assert!(
                    !generic,
                    "{what}: the reference format is provider-specific ({}), the table says \
                     {:?}/{:?}",
                    route.section, spec.payload, spec.response
                );
                assert!(has_method, "{what}: no `{method}` generated");
                let path = workspace_root().join("tests/tests").join(route.tests);
                let source = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{what}: read {}: {e}", path.display()));
                for needle in [format!("Provider::{provider:?}"), format!("Task::{task:?}")] {
                    assert!(
                        source.contains(&needle),
                        "{what}: {} does not test it (no `{needle}`)",
                        route.tests
                    );
                }
            }
            Cover::NoMethod(why) => assert!(
                !has_method,
                "{what}: `{method}` is generated now ({why} no longer holds): cover the pair"
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Binary inputs and file answers on the generic engine

/// The input file (conformance `inputs/`) of a task that takes one: the file its conformance
/// tape sent.
fn input_file(task: Task) -> Option<&'static str> {
    match task {
        Task::AudioClassification | Task::AutomaticSpeechRecognition => Some("sample1.flac"),
        Task::DocumentQuestionAnswering => Some("invoice.png"),
        Task::ImageToImage => Some("bird_canny.png"),
        Task::ImageToText | Task::ZeroShotImageClassification => Some("cheetah.png"),
        Task::ImageClassification
        | Task::ImageSegmentation
        | Task::ObjectDetection
        | Task::VisualQuestionAnswering
        | Task::ImageToVideo => Some("cats.png"),
        _ => None,
    }
}

/// The media type the reference sends a file as: guessed from its extension (python-client.md
/// §1.5), the raw body's content type (§2.6).
fn file_mime(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("png") => "image/png",
        Some("flac") => "audio/flac",
        other => panic!("no media type for {other:?}"),
    }
}

fn input_bytes(file: &str) -> Vec<u8> {
    let path = inputs_dir().join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn input_base64(file: &str) -> String {
    InputCache::new(inputs_dir())
        .base64(file)
        .unwrap_or_else(|| panic!("no input file {file}"))
        .to_owned()
}

const DQA_QUESTION: &str = "Invoice number?";
const VQA_QUESTION: &str = "How many cats are lying down?";
const IMAGE_LABELS: [&str; 3] = ["animal", "toy", "car"];
const HYPOTHESIS: &str = "This is a photo of {}.";
const PROMPT: &str = "award winning high resolution photo of a giant tortoise/((ladybird)) hybrid, \
                      [trending on artstation]";
const I2I_PROMPT: &str = "a colourful bird on a branch, photorealistic";
const T2V_PROMPT: &str = "A young man walking on the street";
const SPEECH: &str = "hello there!";
/// The voice of an OpenAI speech call: the provider's own parameter (§3.3, §3.6), not in the
/// task schema, so it goes in `extra_body`.
const VOICE: &str = "af_bella";

/// The two body forms of the hf-inference binary tasks (§3.13): no parameters (raw bytes; or a
/// JSON body without `parameters` for the tasks whose input is an object) and parameters (JSON,
/// base64 `inputs`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Variant {
    Plain,
    Parameters,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Plain => "plain",
            Variant::Parameters => "parameters",
        }
    }
}

/// The variants a pair is checked with. (OpenAI speech on deepinfra and together: no
/// parameters of the schema; hf-inference text-to-speech sends `generation_parameters` flat in
/// `parameters`, as the Python reference does.)
fn variants(task: Task, provider: Provider) -> Vec<Variant> {
    match (task, provider) {
        (Task::TextToSpeech, Provider::HfInference) => vec![Variant::Plain, Variant::Parameters],
        (Task::TextToSpeech, _) => vec![Variant::Plain],
        _ => vec![Variant::Plain, Variant::Parameters],
    }
}

/// The reference parameters of a task's `Parameters` variant (python-client.md §1.3 names).
fn media_parameters(task: Task) -> Value {
    match task {
        Task::AudioClassification => json!({"top_k": 3}),
        Task::AutomaticSpeechRecognition => json!({"return_timestamps": true}),
        Task::DocumentQuestionAnswering => json!({"top_k": 2}),
        Task::ImageClassification => json!({"top_k": 2}),
        Task::ImageSegmentation => json!({"subtask": "panoptic", "threshold": 0.9}),
        Task::ImageToImage => json!({"num_inference_steps": 20, "prompt": I2I_PROMPT}),
        Task::ImageToText => json!({"max_new_tokens": 30}),
        Task::ObjectDetection => json!({"threshold": 0.9}),
        Task::TextToImage => json!({
            "negative_prompt": "blurry",
            "width": 512,
            "height": 128,
            "num_inference_steps": 10
        }),
        // `text_to_speech(text, do_sample=True, temperature=0.7)`: flat in `parameters`.
        Task::TextToSpeech => json!({"do_sample": true, "temperature": 0.7}),
        Task::VisualQuestionAnswering => json!({"top_k": 2}),
        Task::ZeroShotImageClassification => {
            json!({"candidate_labels": IMAGE_LABELS, "hypothesis_template": HYPOTHESIS})
        }
        other => panic!("no parameters for {other}"),
    }
}

/// What a call of a binary or file task returned.
enum Output {
    Json(Value),
    File(Blob),
}

struct MediaDone {
    preview: RequestPreview,
    output: Option<Result<Output, Error>>,
}

async fn exercise_media<I, O>(
    request: TaskRequest<'_, I, O>,
    send: bool,
    out: fn(O) -> Output,
) -> Result<MediaDone, Error>
where
    I: Serialize + Clone,
{
    let preview = request.clone().preview().await?;
    let output = if send {
        Some(request.send().await.map(out))
    } else {
        None
    };
    Ok(MediaDone { preview, output })
}

fn json_output<O: Serialize>(out: O) -> Output {
    Output::Json(serde_json::to_value(&out).expect("the typed output serializes"))
}

/// A call of a task with a binary input or a file answer on `provider`, through the public API
/// (generated entry method and setters): the binary input `input` (default: the task's file, as
/// bytes), the parameters of `variant`; previewed, and sent when `send`.
async fn media_call(
    client: &InferenceClient,
    task: Task,
    provider: Provider,
    variant: Variant,
    input: Option<BinaryInput>,
    send: bool,
) -> Result<MediaDone, Error> {
    let model = hub_model(task);
    let with = variant == Variant::Parameters;
    let file = || {
        input.clone().unwrap_or_else(|| {
            BinaryInput::from(input_bytes(input_file(task).expect("a task with a file")))
        })
    };
    macro_rules! go {
        ($request:expr, $out:expr) => {
            exercise_media($request.model(model).provider(provider), send, $out).await
        };
    }
    match task {
        Task::AudioClassification => {
            let r = client.audio_classification(file());
            go!(if with { r.top_k(3) } else { r }, json_output)
        }
        Task::AutomaticSpeechRecognition => {
            let r = client.automatic_speech_recognition(file());
            go!(
                if with { r.return_timestamps(true) } else { r },
                json_output
            )
        }
        Task::DocumentQuestionAnswering => {
            let r = client.document_question_answering(file(), DQA_QUESTION);
            go!(if with { r.top_k(2) } else { r }, json_output)
        }
        Task::ImageClassification => {
            let r = client.image_classification(file());
            go!(if with { r.top_k(2) } else { r }, json_output)
        }
        Task::ImageSegmentation => {
            let r = client.image_segmentation(file());
            go!(
                if with {
                    r.subtask("panoptic").threshold(0.9)
                } else {
                    r
                },
                json_output
            )
        }
        Task::ImageToImage => {
            let r = client.image_to_image(file());
            go!(
                if with {
                    r.num_inference_steps(20).prompt(I2I_PROMPT)
                } else {
                    r
                },
                Output::File
            )
        }
        Task::ImageToText => {
            let r = client.image_to_text(file());
            go!(if with { r.max_new_tokens(30) } else { r }, json_output)
        }
        Task::ObjectDetection => {
            let r = client.object_detection(file());
            go!(if with { r.threshold(0.9) } else { r }, json_output)
        }
        Task::TextToImage => {
            let r = client.text_to_image(PROMPT);
            go!(
                if with {
                    r.negative_prompt("blurry")
                        .width(512)
                        .height(128)
                        .num_inference_steps(10)
                } else {
                    r
                },
                Output::File
            )
        }
        Task::TextToSpeech => {
            let r = client.text_to_speech(SPEECH);
            let r = match provider {
                Provider::HfInference if with => r.generation_parameters(GenerationParameters {
                    do_sample: Some(true),
                    temperature: Some(0.7),
                    ..GenerationParameters::default()
                }),
                Provider::HfInference => r,
                _ => r.extra_body(json!({"voice": VOICE})),
            };
            go!(r, Output::File)
        }
        Task::TextToVideo => go!(client.text_to_video(T2V_PROMPT), Output::File),
        Task::ImageToVideo => go!(client.image_to_video(file()), Output::File),
        Task::VisualQuestionAnswering => {
            let r = client.visual_question_answering(file(), VQA_QUESTION);
            go!(if with { r.top_k(2) } else { r }, json_output)
        }
        Task::ZeroShotImageClassification => {
            let r = client.zero_shot_image_classification(file(), strings(&IMAGE_LABELS));
            go!(
                if with {
                    r.hypothesis_template(HYPOTHESIS)
                } else {
                    r
                },
                json_output
            )
        }
        other => panic!("no media call for {other}"),
    }
}

/// The reference request of a binary or file pair of the generic engine.
struct MediaReference {
    url: String,
    /// The raw body: the bytes of this input file.
    raw: Option<&'static str>,
    /// Or a JSON body (the base64 of the input file spelled out).
    json: Option<Value>,
    content_type: &'static str,
}

/// The OpenAI speech routes (§3.3 DeepInfra, §3.6 Together): (direct base, route).
fn speech_route(provider: Provider) -> (&'static str, &'static str) {
    match provider {
        Provider::Deepinfra => ("https://api.deepinfra.com", "/v1/openai/audio/speech"),
        Provider::Together => ("https://api.together.xyz", "/v1/audio/speech"),
        other => panic!("{other} has no OpenAI speech route in the reference"),
    }
}

fn media_reference(task: Task, provider: Provider, mode: Mode, variant: Variant) -> MediaReference {
    let with = variant == Variant::Parameters;
    if provider != Provider::HfInference {
        // `{"input": text, …params, "model": provider_id}` (§3.3; §3.6 puts `model` second,
        // the same JSON object).
        assert_eq!(task, Task::TextToSpeech, "{task} on {provider}");
        let (base, route) = speech_route(provider);
        let url = match mode {
            Mode::Routed => format!("{ROUTER}/{provider}{route}"),
            Mode::Direct => format!("{base}{route}"),
        };
        return MediaReference {
            url,
            raw: None,
            json: Some(json!({
                "input": SPEECH,
                "voice": VOICE,
                "model": pinned_id(task, provider)
            })),
            content_type: "application/json",
        };
    }
    // §2.4: the router, the Hub id in the path; §3.13: the bodies.
    let url = format!("{ROUTER}/hf-inference/models/{}", hub_model(task));
    let json_body = |inputs: Value, parameters: Option<Value>| {
        let mut body = json!({ "inputs": inputs });
        if let Some(p) = parameters {
            body["parameters"] = p;
        }
        MediaReference {
            url: url.clone(),
            raw: None,
            json: Some(body),
            content_type: "application/json",
        }
    };
    let parameters = with.then(|| media_parameters(task));
    match task {
        // The schema's object input (and the JS client's): `{"image": b64, "question"}`. The
        // Python reference sends VQA as `{"inputs": b64, "parameters", "question", "image"}`
        // (§3.13), documented in specs/providers.toml as not followed.
        Task::DocumentQuestionAnswering | Task::VisualQuestionAnswering => {
            let question = if task == Task::DocumentQuestionAnswering {
                DQA_QUESTION
            } else {
                VQA_QUESTION
            };
            let file = input_file(task).expect("a file");
            json_body(
                json!({"image": input_base64(file), "question": question}),
                parameters,
            )
        }
        // `candidate_labels` is required: always the JSON form.
        Task::ZeroShotImageClassification => {
            let file = input_file(task).expect("a file");
            let parameters =
                parameters.unwrap_or_else(|| json!({"candidate_labels": IMAGE_LABELS}));
            json_body(json!(input_base64(file)), Some(parameters))
        }
        Task::TextToImage => json_body(json!(PROMPT), parameters),
        Task::TextToSpeech => json_body(json!(SPEECH), parameters),
        _ => {
            let file = input_file(task).expect("a binary task");
            match parameters {
                None => MediaReference {
                    url,
                    raw: Some(file),
                    json: None,
                    content_type: file_mime(file),
                },
                Some(p) => json_body(json!(input_base64(file)), Some(p)),
            }
        }
    }
}

/// The preview as a snapshot, as [`render`] does, with the input file's bytes or base64 shown
/// by name (they were compared in full).
fn render_media(preview: &RequestPreview, task: Task) -> String {
    let mut out = preview_head(preview);
    let file = input_file(task);
    match preview.body_json() {
        Some(mut body) => {
            if let Some(file) = file {
                let encoded = input_base64(file);
                replace_strings(
                    &mut body,
                    &encoded,
                    &format!("<base64 of {file}: {} bytes>", input_bytes(file).len()),
                );
            }
            out.push_str(&serde_json::to_string_pretty(&body).expect("pretty"));
        }
        None => {
            let body = preview.body.as_deref().unwrap_or_default();
            match file {
                Some(file) if body == input_bytes(file).as_slice() => {
                    out.push_str(&format!("<raw body: the {} bytes of {file}>", body.len()))
                }
                _ => out.push_str(&format!(
                    "<raw body: {} bytes, not an input file>",
                    body.len()
                )),
            }
        }
    }
    out.push('\n');
    out
}

fn replace_strings(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::String(s) if s == from => *s = to.to_owned(),
        Value::Array(items) => items.iter_mut().for_each(|v| replace_strings(v, from, to)),
        Value::Object(map) => map.values_mut().for_each(|v| replace_strings(v, from, to)),
        _ => {}
    }
}

/// The preview's body is the reference's: the file's exact bytes, or the JSON document.
fn check_media_body(preview: &RequestPreview, reference: &MediaReference, what: &str) {
    match (reference.raw, &reference.json) {
        (Some(file), _) => {
            let body = preview.body.as_deref().unwrap_or_default();
            assert!(
                body == input_bytes(file).as_slice(),
                "{what}: the raw body must be the {} bytes of {file}, got {} bytes",
                input_bytes(file).len(),
                body.len()
            );
        }
        (None, Some(json)) => {
            assert_eq!(preview.body_json().as_ref(), Some(json), "{what}: body");
        }
        (None, None) => unreachable!("a body"),
    }
}

/// A minimal JFIF file (markers only): what hf-inference's image answers are (`image/jpeg`
/// in the conformance tapes).
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x48,
    0x00, 0x48, 0x00, 0x00, 0xFF, 0xFE, 0x00, 0x13, b'h', b'f', b'-', b'i', b'n', b'f', b'e', b'r',
    b'e', b'n', b'c', b'e', b' ', b't', b'e', b's', b't', 0xFF, 0xD9,
];

/// An MP3 file's head (ID3v2 tag, one MPEG-1 layer III frame header): OpenAI speech answers.
const MP3: &[u8] = &[
    b'I', b'D', b'3', 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFB, 0x90, 0x64, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// The file a pair answers (§3.13 raw image/audio bytes; §3.3 / §3.6 raw audio bytes) and its
/// content type.
fn file_answer(task: Task, provider: Provider) -> (Vec<u8>, &'static str) {
    match (task, provider) {
        (Task::TextToImage, _) => (JPEG.to_vec(), "image/jpeg"),
        (Task::ImageToImage, _) => (input_bytes("bird_canny.png"), "image/png"),
        (Task::TextToSpeech, Provider::HfInference) => (input_bytes("sample1.flac"), "audio/flac"),
        (Task::TextToSpeech, _) => (MP3.to_vec(), "audio/mpeg"),
        (other, p) => panic!("no file answer for {other} on {p}"),
    }
}

/// A realistic JSON answer of an hf-inference binary task: the one a final-spec conformance
/// tape recorded, else a documented answer of the task.
fn media_answer(task: Task, tapes: &[Tape]) -> (Value, String) {
    let recorded = tapes.iter().find(|t| {
        t.provider == "hf-inference"
            && t.task == task.as_str()
            && t.in_final_spec
            && t.response.status == 200
            && t.response.body_json.is_some()
    });
    if let Some(tape) = recorded {
        let body = tape.response.body_json.clone().expect("a JSON answer");
        return (body, format!("recorded in {}", tape.file_name));
    }
    // No tape: the answer shapes of the task schemas, with realistic values.
    let body = match task {
        Task::ImageClassification => json!([
            {"label": "tabby, tabby cat", "score": 0.4370524287223816},
            {"label": "Egyptian cat", "score": 0.2937169373035431}
        ]),
        Task::ObjectDetection => json!([
            {"score": 0.9982201457023621, "label": "remote",
             "box": {"xmin": 40, "ymin": 70, "xmax": 175, "ymax": 117}},
            {"score": 0.9993476867675781, "label": "cat",
             "box": {"xmin": 13, "ymin": 52, "xmax": 314, "ymax": 470}}
        ]),
        other => panic!("no tape and no documented answer for {other}"),
    };
    (body, "documented answer shape".to_owned())
}

/// The typed output an answer must produce (python-client.md §1.3 "Returns"): image-to-text
/// takes the first element; the others keep the list, ASR its object.
fn expected_media_output(task: Task, answer: &Value) -> Value {
    match (task, answer) {
        (Task::ImageToText, Value::Array(items)) if items.len() == 1 => items[0].clone(),
        _ => answer.clone(),
    }
}

#[tokio::test]
async fn binary_and_file_tasks_on_every_provider_and_mode() {
    let tapes_dir = tapes_dir();
    let tapes = Tape::load_dir(&tapes_dir)
        .unwrap_or_else(|e| panic!("load the tapes from {}: {e}", tapes_dir.display()));
    let hub = ConnectionCounter::start();
    let mut snapshots = 0;
    for (task, provider, cover) in COVERAGE {
        let (task, provider) = (*task, *provider);
        if !matches!(cover, Cover::Binary) {
            continue;
        }
        // hf-inference: the router only (§2.3); the OpenAI speech providers: both modes.
        let hf = provider == Provider::HfInference;
        for mode in reference_modes(provider, true, !hf) {
            for variant in variants(task, provider) {
                let what = format!("{task} on {provider} ({}, {})", mode.name(), variant.name());
                let token = token(mode);
                let client = preview_client(token, &hub);
                let preview = media_call(&client, task, provider, variant, None, false)
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {e}"))
                    .preview;
                let reference = media_reference(task, provider, mode, variant);
                let rendered = render_media(&preview, task);
                check_common(&preview, token, &what, reference.content_type, &rendered);
                assert_eq!(preview.url, reference.url, "{what}: URL");
                check_media_body(&preview, &reference, &what);
                assert_accept(&preview, task, &what);
                if !hf {
                    check_speech_model(&client, task, provider, &preview, &reference, &what).await;
                }
                insta::assert_snapshot!(
                    format!("{task}__{provider}__{}__{}", mode.name(), variant.name()),
                    rendered
                );
                snapshots += 1;
                media_on_the_wire(
                    task, provider, mode, variant, &reference, &preview, &tapes, &hub, &what,
                )
                .await;
            }
        }
        if hf {
            // hf-inference is routed only; a provider key still goes through the router (§2.3).
            let client = preview_client(PROVIDER_KEY, &hub);
            let preview = media_call(&client, task, provider, Variant::Plain, None, false)
                .await
                .unwrap_or_else(|e| panic!("{task} on hf-inference with a provider key: {e}"))
                .preview;
            assert_eq!(
                preview.url,
                media_reference(task, provider, Mode::Routed, Variant::Plain).url,
                "{task} on hf-inference with a provider key"
            );
        }
    }
    assert_eq!(
        snapshots, 28,
        "snapshots: 12 hf-inference tasks x 2 variants + 2 OpenAI speech providers x 2 modes"
    );
    assert_eq!(hub.connections(), 0, "pinned mappings: no Hub lookup");
}

/// OpenAI speech: `model` is the provider id, applied last, after the parameters and
/// `extra_body` (§3.3: "`model` is applied last and cannot be overridden"; specs/providers.toml:
/// "a `model` parameter never overrides the provider id"), so an `extra_body` `model` changes
/// nothing. (§3.6 shows Together's body as `{"input", "model", …params}`: the same JSON object.)
async fn check_speech_model(
    client: &InferenceClient,
    task: Task,
    provider: Provider,
    preview: &RequestPreview,
    reference: &MediaReference,
    what: &str,
) {
    let body = preview.body_json().expect("JSON");
    let keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["input", "voice", "model"], "{what}: key order");
    let overridden = client
        .text_to_speech(SPEECH)
        .model(hub_model(task))
        .provider(provider)
        .extra_body(json!({"voice": VOICE, "model": "someone/else"}))
        .preview()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(
        overridden.body_json().as_ref(),
        reference.json.as_ref(),
        "{what}: an `extra_body` `model` must not replace the provider id"
    );
}

/// Sends the call to a loopback server answering a realistic body on the reference path:
/// the wire request is the preview (byte for byte, with the real token), the typed output the
/// reference's mapping of the answer (a file answer: a `Blob` of exactly the bytes served, with
/// their content type; a JSON answer where a file is expected: `Error::Decode`); then an error
/// answer.
#[allow(clippy::too_many_arguments)]
async fn media_on_the_wire(
    task: Task,
    provider: Provider,
    mode: Mode,
    variant: Variant,
    reference: &MediaReference,
    preview: &RequestPreview,
    tapes: &[Tape],
    hub: &ConnectionCounter,
    what: &str,
) {
    let token = token(mode);
    let url = url::Url::parse(&preview.url).expect("preview URL");
    let host = url.host_str().expect("host").to_owned();
    let path = url.path().to_owned();
    let server = ReplayServer::start(Vec::<Tape>::new()).expect("replay server");
    let client = wire_client(token, hub, &server, provider);
    let file_task = matches!(
        task,
        Task::TextToImage | Task::ImageToImage | Task::TextToSpeech
    );

    let expected_json = if file_task {
        let (bytes, content_type) = file_answer(task, provider);
        server.add_raw_route(&host, "POST", &path, 200, content_type, bytes);
        None
    } else {
        let (answer, source) = media_answer(task, tapes);
        server.add_route(&host, "POST", &path, 200, answer.clone());
        Some((expected_media_output(task, &answer), answer, source))
    };
    let done = media_call(&client, task, provider, variant, None, true)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let output = done
        .output
        .expect("sent")
        .unwrap_or_else(|e| panic!("{what}: the answer did not decode: {e}"));
    match (output, &expected_json) {
        (Output::Json(value), Some((expected, answer, source))) => {
            if let Err(e) = SAME_JSON.check(expected, &value, "$") {
                panic!(
                    "{what}: the typed output of {source} is not the reference mapping: {e}\n\
                     answer: {}\noutput: {}",
                    expect::show(answer),
                    expect::show(&value)
                );
            }
        }
        (Output::File(blob), None) => {
            let (bytes, content_type) = file_answer(task, provider);
            assert!(
                blob.bytes().as_ref() == bytes.as_slice(),
                "{what}: the Blob must hold the {} bytes served, got {}",
                bytes.len(),
                blob.bytes().len()
            );
            assert_eq!(blob.content_type(), Some(content_type), "{what}");
        }
        (Output::Json(v), None) => panic!("{what}: a file task returned JSON {v}"),
        (Output::File(b), Some(_)) => panic!("{what}: a JSON task returned {b:?}"),
    }

    // The wire request is the preview, with the real token.
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{what}: one request on the wire");
    let sent = &requests[0];
    assert_eq!(sent.host, host, "{what}: host");
    assert_eq!(sent.method, "POST", "{what}");
    assert_eq!(sent.path, path, "{what}: path");
    assert_eq!(sent.query, None, "{what}: no query");
    assert!(
        sent.body.as_ref() == done.preview.body.as_deref().unwrap_or_default(),
        "{what}: the body on the wire is the preview's"
    );
    assert!(
        sent.body.as_ref() == preview.body.as_deref().unwrap_or_default(),
        "{what}: the same call previews the same body on both clients"
    );
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {token}").as_str()),
        "{what}: auth scheme"
    );
    assert_eq!(
        sent.header("content-type"),
        Some(reference.content_type),
        "{what}"
    );

    if file_task {
        // §3.3: a JSON answer where the audio (or image) was expected is an error.
        server.add_route(
            &host,
            "POST",
            &path,
            200,
            json!({"audio_url": "https://x.invalid/a"}),
        );
        let err = match media_call(&client, task, provider, variant, None, true).await {
            Ok(MediaDone {
                output: Some(Err(e)),
                ..
            }) => e,
            Ok(_) => panic!("{what}: a JSON answer was taken for a file"),
            Err(e) => panic!("{what}: {e}"),
        };
        assert!(matches!(err, Error::Decode { .. }), "{what}: {err:?}");
    }

    // An error answer: the typed error with the status and the server's message.
    let message = "Input validation error: `inputs` must be non-empty";
    let error_body = if provider == Provider::HfInference {
        json!({"error": message})
    } else {
        json!({"error": {"message": message, "type": "invalid_request_error"}})
    };
    server.add_route(&host, "POST", &path, 400, error_body);
    server.clear_requests();
    let err = match media_call(&client, task, provider, variant, None, true).await {
        Ok(MediaDone {
            output: Some(Err(e)),
            ..
        }) => e,
        Ok(_) => panic!("{what}: HTTP 400 answered a value"),
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

// ---------------------------------------------------------------------------------------------
// Provider-specific pairs

/// What a call of any covered task did (outputs are not kept).
struct AnyDone {
    preview: RequestPreview,
    output: Option<Result<(), Error>>,
}

/// The call of any task with a method: the JSON tasks through [`call`], the others through
/// [`media_call`] (no parameters) with the binary input `input`.
async fn any_call(
    client: &InferenceClient,
    task: Task,
    provider: Provider,
    input: Option<BinaryInput>,
    send: bool,
) -> Result<AnyDone, Error> {
    if TASKS.contains(&task) {
        let done = call(client, task, provider, send).await?;
        Ok(AnyDone {
            preview: done.preview,
            output: done.output.map(|r| r.map(|_| ())),
        })
    } else {
        let done = media_call(client, task, provider, Variant::Plain, input, send).await?;
        Ok(AnyDone {
            preview: done.preview,
            output: done.output.map(|r| r.map(|_| ())),
        })
    }
}

/// The provider-specific pairs (python-client.md §3.3 – §3.14), whose bodies, jobs and answers
/// are the providers' own code (`sdk/src/providers/<provider>.rs`) and are being written pair by
/// pair: each pair, in each mode the table gives it, is either
/// - refused: `Error::NotImplemented` for that provider and task from `preview` and `send`,
///   mapping pinned or not, before any connection (Hub, router, provider, or the download of a
///   binary input given as a URL), naming exactly the providers on which the task is
///   implemented (the generic-engine pairs and the provider-specific pairs found implemented
///   here); or
/// - sent to the reference route: the URL of §3 (routed: the router prefix, and fal's queue
///   query), the credentials redacted in the preview and sent with the reference scheme (§2.3:
///   `Bearer`, fal `Key`, Black Forest Labs `X-Key`), the provider's static headers (§2.6), no
///   Hub lookup with the mapping pinned.
///
/// A pair implemented in one mode and refused in the other fails.
#[tokio::test]
async fn provider_specific_pairs() {
    let hub = ConnectionCounter::start();
    let mut implemented: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for (task, provider, cover) in COVERAGE {
        if matches!(cover, Cover::Json | Cover::Binary) {
            implemented
                .entry(task.as_str())
                .or_default()
                .insert(provider.as_str().to_owned());
        }
    }
    let mut refusals = Vec::new();
    let (mut sent_pairs, mut refused_pairs) = (0, 0);
    for (task, provider, cover) in COVERAGE {
        let (task, provider) = (*task, *provider);
        let Cover::Adapter(route) = cover else {
            continue;
        };
        let spec = provider.spec();
        assert!(
            spec.is_direct(),
            "{task} on {provider}: the reference has a direct host ({})",
            route.section
        );
        let mut modes = Vec::new();
        if spec.is_routed() {
            modes.push(Mode::Routed);
        }
        modes.push(Mode::Direct);
        let mut states = Vec::new();
        for mode in modes {
            let what = format!("{task} on {provider} ({})", mode.name());
            let client = preview_client(token(mode), &hub);
            match any_call(&client, task, provider, None, false).await {
                Err(Error::NotImplemented { .. }) => {
                    let named = check_refused(task, provider, mode, &what).await;
                    refusals.push((what, task, named));
                    states.push(false);
                }
                Err(other) => panic!("{what}: {other}"),
                Ok(done) => {
                    check_adapter_request(task, provider, mode, route, &done.preview, &hub, &what)
                        .await;
                    implemented
                        .entry(task.as_str())
                        .or_default()
                        .insert(provider.as_str().to_owned());
                    states.push(true);
                }
            }
        }
        assert!(
            states.iter().all(|s| *s == states[0]),
            "{task} on {provider}: implemented in one mode, refused in the other"
        );
        if states[0] {
            sent_pairs += 1;
        } else {
            refused_pairs += 1;
        }
        println!(
            "{task} on {provider}: {}",
            if states[0] {
                format!(
                    "implemented, sent to the reference route ({})",
                    route.section
                )
            } else {
                "refused with Error::NotImplemented before any connection".to_owned()
            }
        );
    }
    for (what, task, named) in &refusals {
        let expected = implemented.get(task.as_str()).cloned().unwrap_or_default();
        assert_eq!(
            named, &expected,
            "{what}: the NotImplemented error must name exactly the providers on which {task} is \
             implemented"
        );
    }
    println!(
        "provider-specific pairs: {sent_pairs} implemented, {refused_pairs} refused with \
         Error::NotImplemented"
    );
    assert!(sent_pairs + refused_pairs > 0, "no provider-specific pair");
    assert_eq!(hub.connections(), 0, "pinned mappings: no Hub lookup");
}

/// A refused pair: `Error::NotImplemented` naming this provider and task, from `preview` and
/// `send`, with the mapping pinned or not, and no connection to anything (every URL, the binary
/// input's included, points at a counting listener). Returns the providers the error names (the
/// same every time).
async fn check_refused(task: Task, provider: Provider, mode: Mode, what: &str) -> BTreeSet<String> {
    let mut named: Option<BTreeSet<String>> = None;
    for pin in [true, false] {
        let what = format!(
            "{what}, mapping {}",
            if pin { "pinned" } else { "not pinned" }
        );
        let counter = ConnectionCounter::start();
        let mut builder = InferenceClient::builder()
            .token(token(mode))
            .hub_url(counter.url())
            .router_url(counter.url())
            .retry_policy(RetryPolicy::disabled());
        for p in Provider::ALL {
            builder = builder.provider_url(*p, counter.url());
        }
        if pin {
            builder = builder.model_mapping(hub_model(task), provider, pinned_id(task, provider));
        }
        let client = builder.build().expect("client");
        let input = input_file(task).map(|f| BinaryInput::from(format!("{}/{f}", counter.url())));
        for send in [false, true] {
            let err = match any_call(&client, task, provider, input.clone(), send).await {
                Err(e) => e,
                Ok(AnyDone {
                    output: Some(Err(e)),
                    ..
                }) => e,
                Ok(done) => panic!(
                    "{what}: expected Error::NotImplemented, got a request to {}",
                    done.preview.url
                ),
            };
            let Error::NotImplemented {
                provider: p,
                task: t,
                implemented: listed,
            } = &err
            else {
                panic!("{what}: expected Error::NotImplemented, got {err:?}");
            };
            assert_eq!(p, provider.as_str(), "{what}");
            assert_eq!(t, task.as_str(), "{what}");
            let listed: BTreeSet<String> = listed.iter().cloned().collect();
            assert!(
                !listed.contains(provider.as_str()),
                "{what}: the error names the refusing provider as implemented"
            );
            let shown = err.to_string();
            for name in &listed {
                assert!(shown.contains(name.as_str()), "{what}: {shown}");
            }
            match &named {
                Some(before) => assert_eq!(before, &listed, "{what}: the same providers"),
                None => named = Some(listed),
            }
        }
        assert_eq!(counter.connections(), 0, "{what}: no network traffic");
    }
    named.expect("refused at least once")
}

/// An implemented provider-specific pair: the reference URL, credentials and static headers in
/// the preview, then on the wire (answered with an HTTP 400, so no job starts: one request,
/// `Error::Http` with the server's message).
#[allow(clippy::too_many_arguments)]
async fn check_adapter_request(
    task: Task,
    provider: Provider,
    mode: Mode,
    route: &AdapterRoute,
    preview: &RequestPreview,
    hub: &ConnectionCounter,
    what: &str,
) {
    let token = token(mode);
    let path = route.route.replace("{id}", &pinned_id(task, provider));
    let expected_url = match mode {
        Mode::Routed => {
            let query = route
                .routed_query
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            format!("{ROUTER}/{provider}{path}{query}")
        }
        Mode::Direct => format!("{}{path}", route.direct_base),
    };
    assert_eq!(preview.url, expected_url, "{what}: URL ({})", route.section);
    assert_eq!(preview.method, "POST", "{what}");
    for shown in [format!("{preview:?}"), format!("{preview}")] {
        assert!(
            !shown.contains(SECRET_PART),
            "{what}: the token appears in the preview:\n{shown}"
        );
    }
    // §2.3: Black Forest Labs takes its key as `X-Key` in direct mode; everyone else an
    // `Authorization` header (Bearer, fal's `Key`).
    let x_key = mode == Mode::Direct && provider == Provider::BlackForestLabs;
    let (credential, other) = if x_key {
        ("x-key", "authorization")
    } else {
        ("authorization", "x-key")
    };
    assert_eq!(
        preview.header(credential),
        Some("<redacted>"),
        "{what}: {credential} sent, shown redacted"
    );
    assert_eq!(preview.header(other), None, "{what}: no {other}");
    // §2.6 / §3.5 / §3.12: the providers' static headers.
    let static_headers: &[(&str, &str)] = match provider {
        Provider::Replicate => &[("prefer", "wait")],
        Provider::ZaiOrg => &[
            ("accept-language", "en-US,en"),
            ("x-source-channel", "hugging_face"),
        ],
        _ => &[],
    };
    for (name, value) in static_headers {
        assert_eq!(preview.header(name), Some(*value), "{what}: {name}");
    }
    assert_accept(preview, task, what);
    let content_type = preview.header("content-type").unwrap_or_default();
    if task == Task::AutomaticSpeechRecognition && provider == Provider::Deepinfra {
        // §3.3: a multipart form.
        assert!(
            content_type.starts_with("multipart/form-data; boundary="),
            "{what}: {content_type}"
        );
    } else {
        assert_eq!(content_type, "application/json", "{what}");
        assert!(preview.body_json().is_some(), "{what}: a JSON body");
    }

    // On the wire: the same request, with the credential in the reference scheme.
    let url = url::Url::parse(&preview.url).expect("preview URL");
    let host = url.host_str().expect("host").to_owned();
    let server = ReplayServer::start(Vec::<Tape>::new()).expect("replay server");
    let message = "Input validation error: rejected by the loopback server";
    server.add_route(&host, "POST", url.path(), 400, json!({"error": message}));
    let client = wire_client(token, hub, &server, provider);
    let err = match any_call(&client, task, provider, None, true).await {
        Ok(AnyDone {
            output: Some(Err(e)),
            ..
        }) => e,
        Ok(_) => panic!("{what}: HTTP 400 answered a value"),
        Err(e) => panic!("{what}: {e}"),
    };
    assert_eq!(err.status(), Some(400), "{what}: {err:?}");
    assert_eq!(
        err.http_context().and_then(|c| c.server_message.as_deref()),
        Some(message),
        "{what}: the server's message"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{what}: one request, no retry of a 400");
    let sent = &requests[0];
    assert_eq!(sent.host, host, "{what}: host");
    assert_eq!(sent.path, url.path(), "{what}: path");
    assert_eq!(sent.query.as_deref(), url.query(), "{what}: query");
    let scheme = match (mode, provider) {
        (Mode::Direct, Provider::FalAi) => "Key",
        _ => "Bearer",
    };
    if x_key {
        assert_eq!(sent.header("x-key"), Some(token), "{what}: X-Key");
        assert!(
            !sent.has_header("authorization"),
            "{what}: no Authorization"
        );
    } else {
        assert_eq!(
            sent.header("authorization"),
            Some(format!("{scheme} {token}").as_str()),
            "{what}: `Authorization: {scheme} <key>` (§2.3)"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Binary inputs given as URLs, and every input form

/// A host the test's file lives on (a loopback listener of the replay server).
const FILE_HOST: &str = "images.example.org";

/// An http(s) URL given as the binary input is downloaded without any of the client's
/// credentials or headers (python-client.md §1.5: "downloaded with GET, with no auth header"),
/// then sent to hf-inference with them: two loopback hosts, headers checked on both; raw and
/// base64 bodies; an `hf_` token and a provider key (hf-inference is routed either way); and an
/// `https://` URL of the file host reached through the client's `redirect_host` (README: host
/// redirects cover file downloads).
#[tokio::test]
async fn url_input_is_downloaded_without_credentials_and_sent_with_them() {
    let task = Task::ImageClassification;
    let file = input_file(task).expect("a file");
    let bytes = input_bytes(file);
    let tapes = Tape::load_dir(tapes_dir()).unwrap_or_default();
    let (answer, _) = media_answer(task, &tapes);
    let server = ReplayServer::start(Vec::<Tape>::new()).expect("replay server");
    let file_path = format!("/files/{file}");
    server.add_raw_route(
        FILE_HOST,
        "GET",
        &file_path,
        200,
        "image/png",
        bytes.clone(),
    );
    let inference_path = format!("/hf-inference/models/{}", hub_model(task));
    server.add_route(ROUTER_HOST, "POST", &inference_path, 200, answer.clone());
    let url = format!("{}{file_path}", server.url_for_host(FILE_HOST));
    let hub = ConnectionCounter::start();
    for (token, variant, redirected) in [
        (HF_TOKEN, Variant::Plain, false),
        (HF_TOKEN, Variant::Parameters, false),
        (PROVIDER_KEY, Variant::Plain, false),
        (HF_TOKEN, Variant::Plain, true),
    ] {
        let url = if redirected {
            format!("https://{FILE_HOST}{file_path}")
        } else {
            url.clone()
        };
        let what = format!("{url} as the input, {}", variant.name());
        server.clear_requests();
        let mut builder = loopback_builder(token, &server)
            .hub_url(hub.url())
            .model_mapping(hub_model(task), Provider::HfInference, hub_model(task))
            .header("x-team", "vision")
            .bill_to("acme-org");
        if redirected {
            builder = builder.redirect_host(FILE_HOST, server.url_for_host(FILE_HOST));
        }
        let client = builder.build().expect("client");
        let input = BinaryInput::from(url.as_str());
        assert_eq!(input.url(), Some(url.as_str()), "{what}: a URL, not a path");
        let done = media_call(
            &client,
            task,
            Provider::HfInference,
            variant,
            Some(input),
            true,
        )
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        match done.output {
            Some(Ok(Output::Json(value))) => SAME_JSON
                .check(&answer, &value, "$")
                .unwrap_or_else(|e| panic!("{what}: {e}")),
            Some(Err(e)) => panic!("{what}: {e}"),
            _ => panic!("{what}: no JSON output"),
        }

        // The downloads (one for the preview, one for the send): plain GETs.
        let downloads = server.requests_to(FILE_HOST);
        assert_eq!(
            downloads.len(),
            2,
            "{what}: preview and send download once each"
        );
        for download in &downloads {
            assert_eq!(download.method, "GET", "{what}");
            assert_eq!(download.path, file_path, "{what}");
            assert!(download.body.is_empty(), "{what}: no body");
            for name in [
                "authorization",
                "x-key",
                "proxy-authorization",
                "cookie",
                "x-team",
                "x-hf-bill-to",
            ] {
                assert!(
                    !download.has_header(name),
                    "{what}: the download carries `{name}`"
                );
            }
            for (name, value) in &download.headers {
                assert!(
                    !value.contains(SECRET_PART),
                    "{what}: the token is in the download's `{name}` header"
                );
            }
        }

        // The inference request: after the download, with the credentials and the headers.
        let all = server.requests();
        let inference = server.requests_to(ROUTER_HOST);
        assert_eq!(inference.len(), 1, "{what}: one inference request");
        let sent = &inference[0];
        assert_eq!(
            all.last().map(|r| r.host.as_str()),
            Some(ROUTER_HOST),
            "{what}"
        );
        assert_eq!(sent.path, inference_path, "{what}");
        assert_eq!(
            sent.header("authorization"),
            Some(format!("Bearer {token}").as_str()),
            "{what}: the token goes to hf-inference"
        );
        assert_eq!(sent.header("x-team"), Some("vision"), "{what}");
        assert_eq!(sent.header("x-hf-bill-to"), Some("acme-org"), "{what}");
        match variant {
            Variant::Plain => {
                assert!(
                    sent.body.as_ref() == bytes.as_slice(),
                    "{what}: the downloaded bytes, raw"
                );
                assert_eq!(sent.header("content-type"), Some("image/png"), "{what}");
            }
            Variant::Parameters => {
                assert_eq!(
                    sent.json(),
                    Some(
                        json!({"inputs": input_base64(file), "parameters": media_parameters(task)})
                    ),
                    "{what}: the downloaded bytes, base64"
                );
                assert_eq!(
                    sent.header("content-type"),
                    Some("application/json"),
                    "{what}"
                );
            }
        }
    }
    assert_eq!(hub.connections(), 0, "hf-inference: no Hub lookup");
}

/// Every form of binary input (bytes, a file path, a reader, a `data:` URL, an http URL, a
/// previous `Blob`) makes the same request, raw and base64.
#[tokio::test]
async fn every_input_form_makes_the_same_request() {
    let task = Task::ImageClassification;
    let file = input_file(task).expect("a file");
    let bytes = input_bytes(file);
    let server = ReplayServer::start(Vec::<Tape>::new()).expect("replay server");
    server.add_raw_route(FILE_HOST, "GET", "/cat", 200, "image/png", bytes.clone());
    let hub = ConnectionCounter::start();
    let client = preview_client(HF_TOKEN, &hub);
    let forms: Vec<(&str, BinaryInput)> = vec![
        ("bytes", BinaryInput::from(bytes.clone())),
        ("path", BinaryInput::from(inputs_dir().join(file))),
        (
            "path string",
            BinaryInput::from(inputs_dir().join(file).to_string_lossy().as_ref()),
        ),
        (
            "reader",
            BinaryInput::from_reader(std::io::Cursor::new(bytes.clone())),
        ),
        (
            "data: URL",
            BinaryInput::from(format!("data:image/png;base64,{}", input_base64(file))),
        ),
        (
            "http URL",
            BinaryInput::from(format!("{}/cat", server.url_for_host(FILE_HOST))),
        ),
        (
            "Blob",
            BinaryInput::from(Blob::new(bytes.clone(), Some("image/png".to_owned()))),
        ),
    ];
    for variant in [Variant::Plain, Variant::Parameters] {
        let reference = media_reference(task, Provider::HfInference, Mode::Routed, variant);
        for (form, input) in &forms {
            let what = format!("{form} ({})", variant.name());
            let preview = media_call(
                &client,
                task,
                Provider::HfInference,
                variant,
                Some(input.clone()),
                false,
            )
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
            .preview;
            assert_eq!(preview.url, reference.url, "{what}");
            assert_eq!(
                preview.header("content-type"),
                Some(reference.content_type),
                "{what}"
            );
            check_media_body(&preview, &reference, &what);
        }
    }
    assert_eq!(
        server.requests_to(FILE_HOST).len(),
        2,
        "the URL form is downloaded once per preview"
    );
}
