//! "Lenient in what we accept", checked on real traffic.
//!
//! Every JSON response body (and every server-sent event of an SSE body) in the
//! conformance tapes whose task has a generated output type is deserialized into
//! that type and serialized back; the result must equal the original JSON value.
//! A field the type drops, renames, re-types or rounds is reported with its JSON
//! path.
//!
//! The comparison is JSON-value equality with exactly two allowances:
//!
//! 1. **A `null`-valued key may come back absent**, and only when the type read
//!    that key into an `Option` that is skipped when `None`. That is the one
//!    place where the types are deliberately not byte-faithful (`"usage": null`
//!    and an absent `usage` mean the same, and the SDK sends neither). The test
//!    does not take it on trust: for every `null` key that disappears it renames
//!    the key to an unknown name in the same object and round-trips again. If the
//!    unknown key survives (the object keeps unknown fields in its `extra` map),
//!    the vanished key was consumed by a declared field that accepted `null` and
//!    skipped it on output, i.e. a skipped `Option`. If the unknown key does not
//!    survive, the object silently drops fields and the `null` counts as lost.
//!    Nothing else is normalized: an absent key that comes back as `null` or with
//!    a default value, or an empty array that disappears, is a difference.
//! 2. **Numbers compare as `f64`**, so `1` and `1.0` are equal. Exact equality is
//!    required everywhere except at the paths listed as `f32` fields of the type
//!    (log-probabilities, embeddings), where one `f32` ulp of relative error is
//!    accepted: storing a JSON number in an `f32` rounds it by design.
//!
//! Re-serialization goes through `serde_json::to_value` rather than text: the
//! workspace's `serde_json` is built without `float_roundtrip`, so parsing
//! re-printed text could move an `f64` by one ulp and blame the types for it.
//! Deserialization reads the wire text (the body as served, or the event's data).
//!
//! Bodies that are not task outputs are skipped, each with its reason: errors,
//! binary bodies, Hub API calls, file downloads and provider-specific shapes that
//! hand-written code converts. A tape that no rule covers fails the test, so a new
//! tape cannot slip through unchecked. Bodies that fail because a generated type
//! is too strict are listed in [`KNOWN_SCHEMA_GAPS`]; the test fails if such a
//! tape starts passing or fails in a different way, so the list stays honest.
//!
//! Run with `cargo test -p hf-inference-tests --test roundtrip -- --nocapture` to
//! see one line per tape (`ok`, `skip`, `FAIL`) and the closing counts.

use std::fmt::Write as _;

use hf_inference::http::sse::SseDecoder;
use hf_inference::types::audio_classification::AudioClassificationOutput;
use hf_inference::types::automatic_speech_recognition::AutomaticSpeechRecognitionOutput;
use hf_inference::types::chat_completion::{ChatCompletionOutput, ChatCompletionStreamOutput};
use hf_inference::types::document_question_answering::DocumentQuestionAnsweringOutput;
use hf_inference::types::feature_extraction::FeatureExtractionOutput;
use hf_inference::types::fill_mask::FillMaskOutput;
use hf_inference::types::image_classification::ImageClassificationOutput;
use hf_inference::types::image_segmentation::ImageSegmentationOutput;
use hf_inference::types::image_to_text::ImageToTextOutput;
use hf_inference::types::object_detection::ObjectDetectionOutput;
use hf_inference::types::question_answering::{
    QuestionAnsweringOutput, QuestionAnsweringOutputItem,
};
use hf_inference::types::sentence_similarity::SentenceSimilarityOutput;
use hf_inference::types::summarization::SummarizationOutput;
use hf_inference::types::table_question_answering::TableQuestionAnsweringOutput;
use hf_inference::types::text_classification::TextClassificationOutput;
use hf_inference::types::text_generation::{TextGenerationOutput, TextGenerationStreamOutput};
use hf_inference::types::token_classification::TokenClassificationOutput;
use hf_inference::types::translation::TranslationOutput;
use hf_inference::types::visual_question_answering::VisualQuestionAnsweringOutput;
use hf_inference::types::zero_shot_classification::ZeroShotClassificationOutput;
use hf_inference::types::zero_shot_image_classification::ZeroShotImageClassificationOutput;
use hf_inference::types::zero_shot_object_detection::ZeroShotObjectDetectionOutput;
use hf_inference_tests::tapes::{Tape, tapes_dir};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

// ------------------------------------------------------------------------------------------------
// Known schema gaps
// ------------------------------------------------------------------------------------------------

/// A real body that a generated type rejects or alters, waiting for a schema patch.
struct KnownGap {
    /// The tape file.
    tape: &'static str,
    /// The type it is checked as (as printed in the `ok`/`FAIL` lines).
    type_name: &'static str,
    /// JSON path of the offending field in the body (or event).
    field: &'static str,
    /// Why the type is too strict.
    reason: &'static str,
    /// A piece of the failure report that must be present: the gap must keep failing
    /// for this reason, not another.
    expect: &'static str,
}

/// Tapes whose body a generated type cannot round-trip today. Each entry must fail, for
/// the recorded reason; an entry that passes (the schema was fixed) fails the test until
/// it is removed from this list.
const KNOWN_SCHEMA_GAPS: &[KnownGap] = &[
    // None today. Flat and rank-4 embeddings are read by the hand-written
    // `FeatureExtractionOutput` (sdk/src/types/embedding.rs); pre-1.0 TGI stream events
    // without `index` by schema patch R13h.
];

// ------------------------------------------------------------------------------------------------
// What each tape is checked as
// ------------------------------------------------------------------------------------------------

/// A type a body is checked against.
#[derive(Clone, Copy)]
struct Check {
    /// Printed name.
    type_name: &'static str,
    /// Deserializes the text into the type and serializes it back to a value.
    roundtrip: fn(&str) -> Result<Value, String>,
    /// Paths (array indices as `[*]`) of the type's `f32` fields.
    f32_paths: &'static [&'static str],
}

fn roundtrip<T: DeserializeOwned + Serialize>(text: &str) -> Result<Value, String> {
    let typed: T = serde_json::from_str(text).map_err(|e| {
        let at = error_path(text, e.line(), e.column());
        format!("does not deserialize: {e} (at {at})")
    })?;
    serde_json::to_value(&typed).map_err(|e| format!("does not serialize: {e}"))
}

macro_rules! check {
    ($ty:ty, $name:literal) => {
        check!($ty, $name, &[])
    };
    ($ty:ty, $name:literal, $f32:expr) => {
        Check {
            type_name: $name,
            roundtrip: roundtrip::<$ty>,
            f32_paths: $f32,
        }
    };
}

const CHAT_F32: &[&str] = &[
    "$.choices[*].logprobs.content[*].logprob",
    "$.choices[*].logprobs.content[*].top_logprobs[*].logprob",
];
const TGI_LIST_F32: &[&str] = &[
    "$[*].details.prefill[*].logprob",
    "$[*].details.tokens[*].logprob",
    "$[*].details.top_tokens[*][*].logprob",
    "$[*].details.best_of_sequences[*].prefill[*].logprob",
    "$[*].details.best_of_sequences[*].tokens[*].logprob",
    "$[*].details.best_of_sequences[*].top_tokens[*][*].logprob",
];
const TGI_ONE_F32: &[&str] = &[
    "$.details.prefill[*].logprob",
    "$.details.tokens[*].logprob",
    "$.details.top_tokens[*][*].logprob",
    "$.details.best_of_sequences[*].prefill[*].logprob",
    "$.details.best_of_sequences[*].tokens[*].logprob",
    "$.details.best_of_sequences[*].top_tokens[*][*].logprob",
];
const TGI_STREAM_F32: &[&str] = &["$.token.logprob", "$.top_tokens[*].logprob"];
// Embeddings are `f32` at every depth servers nest them (rank 1 to rank 4 in the tapes).
const EMBEDDINGS_F32: &[&str] = &["$[*]", "$[*][*]", "$[*][*][*]", "$[*][*][*][*]"];

/// How the body is laid out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One JSON document.
    Json,
    /// Server-sent events, one JSON document per event.
    Sse,
}

enum Plan {
    Check(Check, Layout),
    Skip(String),
    /// No rule covers the tape: a failure, so that new tapes get a decision.
    Unclassified(String),
}

/// The output type of an `hf-inference` task answering with JSON.
fn hf_inference_type(task: &str, body: &Value) -> Option<Check> {
    Some(match task {
        "audio-classification" => check!(AudioClassificationOutput, "AudioClassificationOutput"),
        "automatic-speech-recognition" => check!(
            AutomaticSpeechRecognitionOutput,
            "AutomaticSpeechRecognitionOutput"
        ),
        "chat-completion" => check!(ChatCompletionOutput, "ChatCompletionOutput", CHAT_F32),
        "document-question-answering" => check!(
            DocumentQuestionAnsweringOutput,
            "DocumentQuestionAnsweringOutput"
        ),
        "feature-extraction" => check!(
            FeatureExtractionOutput,
            "FeatureExtractionOutput",
            EMBEDDINGS_F32
        ),
        "fill-mask" => check!(FillMaskOutput, "FillMaskOutput"),
        "image-classification" => check!(ImageClassificationOutput, "ImageClassificationOutput"),
        "image-segmentation" => check!(ImageSegmentationOutput, "ImageSegmentationOutput"),
        // The pipeline answers a list, one element per input; the schema type is one element.
        "image-to-text" => check!(Vec<ImageToTextOutput>, "Vec<ImageToTextOutput>"),
        "object-detection" => check!(ObjectDetectionOutput, "ObjectDetectionOutput"),
        // One question answers one object; the schema type is the list (top_k answers).
        "question-answering" if body.is_object() => {
            check!(QuestionAnsweringOutputItem, "QuestionAnsweringOutputItem")
        }
        "question-answering" => check!(QuestionAnsweringOutput, "QuestionAnsweringOutput"),
        "sentence-similarity" => check!(SentenceSimilarityOutput, "SentenceSimilarityOutput"),
        "summarization" => check!(Vec<SummarizationOutput>, "Vec<SummarizationOutput>"),
        "table-question-answering" => {
            check!(TableQuestionAnsweringOutput, "TableQuestionAnsweringOutput")
        }
        "text-classification" => check!(TextClassificationOutput, "TextClassificationOutput"),
        // TGI `/` answers a list (one element per input), `/generate` one object.
        "text-generation" if body.is_array() => check!(
            Vec<TextGenerationOutput>,
            "Vec<TextGenerationOutput>",
            TGI_LIST_F32
        ),
        "text-generation" => check!(TextGenerationOutput, "TextGenerationOutput", TGI_ONE_F32),
        "token-classification" => check!(TokenClassificationOutput, "TokenClassificationOutput"),
        "translation" => check!(Vec<TranslationOutput>, "Vec<TranslationOutput>"),
        "visual-question-answering" => check!(
            VisualQuestionAnsweringOutput,
            "VisualQuestionAnsweringOutput"
        ),
        "zero-shot-classification" => {
            check!(ZeroShotClassificationOutput, "ZeroShotClassificationOutput")
        }
        "zero-shot-image-classification" => check!(
            ZeroShotImageClassificationOutput,
            "ZeroShotImageClassificationOutput"
        ),
        "zero-shot-object-detection" => check!(
            ZeroShotObjectDetectionOutput,
            "ZeroShotObjectDetectionOutput"
        ),
        _ => return None,
    })
}

/// hf-inference tasks with JSON answers but no generated output type.
const HF_INFERENCE_UNTYPED: &[(&str, &str)] = &[
    (
        "conversational",
        "legacy `conversational` task ({generated_text, conversation, warnings}): no task schema, no generated type",
    ),
    (
        "tabular-classification",
        "no task schema for tabular-classification, no generated type (bare list of labels)",
    ),
    (
        "tabular-regression",
        "no task schema for tabular-regression, no generated type (bare list of numbers)",
    ),
];

/// Provider-specific JSON answers (hand-written conversion, not a task output type).
const PROVIDER_SPECIFIC: &[(&str, &str, &str)] = &[
    (
        "black-forest-labs",
        "text-to-image",
        "Black Forest Labs submit/poll object ({id, polling_url} / {status, result.sample}), provider-specific",
    ),
    (
        "fal-ai",
        "automatic-speech-recognition",
        "fal-ai whisper object (providers.toml response = \"provider\"), provider-specific",
    ),
    (
        "fal-ai",
        "text-to-image",
        "fal-ai image object ({images[].url, seed, timings, ...}), provider-specific",
    ),
    (
        "nebius",
        "text-to-image",
        "Nebius images object ({data[].b64_json}), provider-specific",
    ),
    (
        "replicate",
        "text-to-image",
        "Replicate prediction object ({status, output, urls, ...}), provider-specific",
    ),
    (
        "replicate",
        "text-to-speech",
        "Replicate prediction object ({status, output, urls, ...}), provider-specific",
    ),
    (
        "together",
        "text-generation",
        "OpenAI /v1/completions object (choices[].text): no generated type; the SDK reads choices[0].text (response = \"openai-completions\")",
    ),
    (
        "together",
        "text-to-image",
        "Together images object ({data[].b64_json}), provider-specific",
    ),
];

fn classify(tape: &Tape) -> Plan {
    let response = &tape.response;
    let content_type = response.content_type().unwrap_or("no content-type");
    if tape.task == "asset-download" {
        return Plan::Skip(format!(
            "download of a generated file ({content_type}), not a task output"
        ));
    }
    if tape.task == "hub-api" {
        return Plan::Skip("Hub model-info API, not a task output".into());
    }
    if response.status >= 400 {
        return Plan::Skip(format!(
            "error body (HTTP {} {content_type})",
            response.status
        ));
    }
    if !response.has_body() {
        return Plan::Skip(format!("binary body ({content_type}), not recorded"));
    }
    if response.is_sse {
        return match (tape.provider.as_str(), tape.task.as_str()) {
            (_, "chat-completion") => Plan::Check(
                check!(
                    ChatCompletionStreamOutput,
                    "ChatCompletionStreamOutput",
                    CHAT_F32
                ),
                Layout::Sse,
            ),
            ("hf-inference", "text-generation") => Plan::Check(
                check!(
                    TextGenerationStreamOutput,
                    "TextGenerationStreamOutput",
                    TGI_STREAM_F32
                ),
                Layout::Sse,
            ),
            _ => Plan::Unclassified("SSE body of an unmapped provider/task".into()),
        };
    }
    let Some(body) = &response.body_json else {
        return Plan::Unclassified(format!("non-JSON {content_type} body of a success"));
    };
    let provider = tape.provider.as_str();
    let task = tape.task.as_str();
    if let Some((_, _, reason)) = PROVIDER_SPECIFIC
        .iter()
        .find(|(p, t, _)| *p == provider && *t == task)
    {
        return Plan::Skip((*reason).into());
    }
    match (provider, task) {
        (_, "chat-completion") => Plan::Check(
            check!(ChatCompletionOutput, "ChatCompletionOutput", CHAT_F32),
            Layout::Json,
        ),
        // Hyperbolic serves text-generation from its chat endpoint: the body is a chat completion.
        ("hyperbolic", "text-generation") => Plan::Check(
            check!(ChatCompletionOutput, "ChatCompletionOutput", CHAT_F32),
            Layout::Json,
        ),
        ("hf-inference", task) => {
            if let Some((_, reason)) = HF_INFERENCE_UNTYPED.iter().find(|(t, _)| *t == task) {
                return Plan::Skip((*reason).into());
            }
            match hf_inference_type(task, body) {
                Some(check) => Plan::Check(check, Layout::Json),
                None => Plan::Unclassified(format!("hf-inference task {task} has no mapping")),
            }
        }
        _ => Plan::Unclassified(format!("no rule for provider {provider}, task {task}")),
    }
}

// ------------------------------------------------------------------------------------------------
// Comparison
// ------------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn display_path(path: &[Seg]) -> String {
    let mut out = String::from("$");
    for seg in path {
        match seg {
            Seg::Key(k) if is_identifier(k) => {
                let _ = write!(out, ".{k}");
            }
            Seg::Key(k) => {
                let _ = write!(out, "[{}]", Value::String(k.clone()));
            }
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

fn pattern_path(path: &[Seg]) -> String {
    let mut out = String::from("$");
    for seg in path {
        match seg {
            Seg::Key(k) => {
                let _ = write!(out, ".{k}");
            }
            Seg::Index(_) => out.push_str("[*]"),
        }
    }
    out
}

fn pointer(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        out.push('/');
        match seg {
            Seg::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Seg::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

fn is_identifier(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn excerpt(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

/// One difference between the original value and the round-tripped one.
#[derive(Debug, PartialEq)]
enum Finding {
    /// A key of the original is missing after the round trip.
    Lost { path: String, original: Value },
    /// A key absent from the original appears after the round trip.
    Added { path: String, value: Value },
    /// The value at the path differs.
    Changed {
        path: String,
        original: Value,
        value: Value,
    },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Lost { path, original } => {
                write!(f, "lost {path} (was {})", excerpt(original))
            }
            Finding::Added { path, value } => write!(f, "added {path} = {}", excerpt(value)),
            Finding::Changed {
                path,
                original,
                value,
            } => write!(
                f,
                "changed {path}: {} -> {}",
                excerpt(original),
                excerpt(value)
            ),
        }
    }
}

/// Compares `original` with `back` (its round trip through `check`). Null keys that came
/// back absent are accepted only after the probe described in the module docs; the second
/// value counts those accepted.
fn compare(check: &Check, original: &Value, back: &Value) -> (Vec<Finding>, usize) {
    let mut findings = Vec::new();
    let mut dropped_nulls = Vec::new();
    walk(
        check,
        original,
        back,
        &mut Vec::new(),
        &mut findings,
        &mut dropped_nulls,
    );
    let mut normalized = 0;
    for path in dropped_nulls {
        if null_key_is_skipped_option(check, original, &path) {
            normalized += 1;
        } else {
            findings.push(Finding::Lost {
                path: format!(
                    "{} (a null the object dropped: it does not keep unknown keys, so this is not a skipped Option)",
                    display_path(&path)
                ),
                original: Value::Null,
            });
        }
    }
    (findings, normalized)
}

fn walk(
    check: &Check,
    original: &Value,
    back: &Value,
    path: &mut Vec<Seg>,
    findings: &mut Vec<Finding>,
    dropped_nulls: &mut Vec<Vec<Seg>>,
) {
    match (original, back) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                path.push(Seg::Key(key.clone()));
                match b.get(key) {
                    Some(other) => walk(check, value, other, path, findings, dropped_nulls),
                    None if value.is_null() => dropped_nulls.push(path.clone()),
                    None => findings.push(Finding::Lost {
                        path: display_path(path),
                        original: value.clone(),
                    }),
                }
                path.pop();
            }
            for (key, value) in b {
                if !a.contains_key(key) {
                    path.push(Seg::Key(key.clone()));
                    findings.push(Finding::Added {
                        path: display_path(path),
                        value: value.clone(),
                    });
                    path.pop();
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                path.push(Seg::Index(i));
                walk(check, x, y, path, findings, dropped_nulls);
                path.pop();
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64(), y.as_f64());
            let same = match (x, y) {
                (Some(x), Some(y)) if x == y => true,
                (Some(x), Some(y)) if check.f32_paths.contains(&pattern_path(path).as_str()) => {
                    (x - y).abs() <= f64::from(f32::EPSILON) * x.abs().max(y.abs())
                }
                _ => false,
            };
            if !same {
                findings.push(changed(path, original, back));
            }
        }
        _ if original == back => {}
        _ => findings.push(changed(path, original, back)),
    }
}

fn changed(path: &[Seg], original: &Value, back: &Value) -> Finding {
    Finding::Changed {
        path: display_path(path),
        original: original.clone(),
        value: back.clone(),
    }
}

/// Key under which a `null` is moved to probe whether its object keeps unknown keys.
const PROBE_KEY: &str = "roundtrip-probe-unknown-key";

/// `true` when the object holding the null key at `path` keeps unknown keys, proving that
/// the key was read by a declared field (which dropped the `null`: a skipped `Option`).
fn null_key_is_skipped_option(check: &Check, original: &Value, path: &[Seg]) -> bool {
    let Some((Seg::Key(key), parent)) = path.split_last() else {
        return false;
    };
    let mut probe = original.clone();
    let Some(Value::Object(object)) = probe.pointer_mut(&pointer(parent)) else {
        return false;
    };
    let renamed: Map<String, Value> = object
        .iter()
        .map(|(k, v)| {
            let k = if k == key { PROBE_KEY } else { k.as_str() };
            (k.to_owned(), v.clone())
        })
        .collect();
    *object = renamed;
    let Ok(back) = (check.roundtrip)(&probe.to_string()) else {
        return false;
    };
    back.pointer(&pointer(parent))
        .and_then(|o| o.get(PROBE_KEY))
        .is_some_and(Value::is_null)
}

/// The JSON path at serde_json's (1-based) line/column in `text`. serde_json's column counts
/// the bytes of the line it had consumed, so the path is that of the innermost value open
/// after those bytes: the value of the wrong type, or the object that lacks a field (its
/// closing brace was consumed, which names the object through its parent's key or index).
fn error_path(text: &str, line: usize, column: usize) -> String {
    if line == 0 {
        return "$".into();
    }
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let end = (line_start + column).min(text.len());
    let bytes = text.as_bytes();
    enum Frame {
        /// An object and its current key.
        Object(Option<String>),
        /// An array and its current index.
        Array(usize),
    }
    let mut frames: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < end {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= bytes.len() {
                    break;
                }
                let is_key = bytes[i + 1..]
                    .iter()
                    .find(|b| !b.is_ascii_whitespace())
                    .is_some_and(|&b| b == b':');
                if is_key && let Some(Frame::Object(slot)) = frames.last_mut() {
                    let raw = &text[start..i];
                    let key = serde_json::from_str::<String>(&format!("\"{raw}\""))
                        .unwrap_or_else(|_| raw.to_owned());
                    *slot = Some(key);
                }
            }
            b'{' => frames.push(Frame::Object(None)),
            b'[' => frames.push(Frame::Array(0)),
            b'}' | b']' => {
                frames.pop();
            }
            b',' => match frames.last_mut() {
                Some(Frame::Array(n)) => *n += 1,
                Some(Frame::Object(slot)) => *slot = None,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    let mut path = Vec::new();
    for frame in frames {
        match frame {
            Frame::Object(Some(key)) => path.push(Seg::Key(key)),
            Frame::Object(None) => break,
            Frame::Array(n) => path.push(Seg::Index(n)),
        }
    }
    display_path(&path)
}

// ------------------------------------------------------------------------------------------------
// Running a tape
// ------------------------------------------------------------------------------------------------

/// Round-trips one document; `Ok` counts the null keys read as skipped `Option`s, `Err`
/// describes every failure.
fn check_document(check: &Check, text: &str) -> Result<usize, Vec<String>> {
    let original: Value = serde_json::from_str(text).map_err(|e| vec![format!("not JSON: {e}")])?;
    let back = (check.roundtrip)(text).map_err(|e| vec![e])?;
    let (findings, normalized) = compare(check, &original, &back);
    if findings.is_empty() {
        Ok(normalized)
    } else {
        Err(findings.iter().map(ToString::to_string).collect())
    }
}

fn null_note(normalized: usize) -> String {
    match normalized {
        0 => String::new(),
        n => format!(" ({n} null keys came back absent: skipped Options)"),
    }
}

/// Checks a tape's body; `Ok` carries a note for the `ok` line.
fn check_tape(tape: &Tape, check: &Check, layout: Layout) -> Result<String, String> {
    match layout {
        Layout::Json => {
            let body = tape
                .response
                .body_bytes()
                .ok_or_else(|| "no recorded body".to_owned())?;
            let text = String::from_utf8(body).map_err(|e| format!("body is not UTF-8: {e}"))?;
            check_document(check, &text)
                .map(null_note)
                .map_err(|problems| problems.join("\n    "))
        }
        Layout::Sse => {
            let text = tape
                .response
                .body_text
                .as_deref()
                .ok_or_else(|| "no recorded SSE body".to_owned())?;
            let mut decoder = SseDecoder::new();
            let events: Vec<String> = decoder.feed(text.as_bytes()).map(|e| e.data).collect();
            // Bytes after the last blank line are not an event: the SSE standard (and the
            // SDK's decoder) discard them. They are reported on the `ok` line, not checked.
            let tail = decoder.finish();
            let (mut checked, mut done, mut nulls, mut problems) = (0, 0, 0, Vec::new());
            for (n, data) in events.iter().enumerate() {
                let data = data.trim();
                if data == "[DONE]" {
                    done += 1;
                    continue;
                }
                if data.is_empty() {
                    continue;
                }
                checked += 1;
                match check_document(check, data) {
                    Ok(normalized) => nulls += normalized,
                    Err(found) => {
                        problems.extend(found.into_iter().map(|p| format!("event {}: {p}", n + 1)));
                    }
                }
            }
            if checked == 0 {
                problems.push("no JSON event in the stream".into());
            }
            if problems.is_empty() {
                let mut note = format!(" [{checked} SSE events");
                if done > 0 {
                    note.push_str(" + [DONE]");
                }
                if tail > 0 {
                    let _ = write!(
                        note,
                        "; {tail} unterminated bytes at the end, discarded as the SSE standard says"
                    );
                }
                note.push(']');
                note.push_str(&null_note(nulls));
                Ok(note)
            } else {
                Err(problems.join("\n    "))
            }
        }
    }
}

/// At most this many problem lines are printed per tape (the count of the rest follows).
const MAX_LINES: usize = 12;

fn shorten(report: &str) -> String {
    let lines: Vec<&str> = report.split("\n    ").collect();
    if lines.len() <= MAX_LINES {
        return report.to_owned();
    }
    format!(
        "{}\n    ... and {} more",
        lines[..MAX_LINES].join("\n    "),
        lines.len() - MAX_LINES
    )
}

#[test]
fn task_output_bodies_round_trip_without_losing_fields() {
    let tapes = Tape::load_all().expect("load the conformance tapes");
    assert!(
        !tapes.is_empty(),
        "no tapes in {} (set HF_INFERENCE_TAPES)",
        tapes_dir().display()
    );

    let (mut passed, mut failed, mut skipped, mut known) = (0, 0, 0, 0);
    let mut problems: Vec<String> = Vec::new();
    for tape in &tapes {
        let file = tape.file_name.as_str();
        let gap = KNOWN_SCHEMA_GAPS.iter().find(|g| g.tape == file);
        match classify(tape) {
            Plan::Skip(reason) => {
                skipped += 1;
                println!("skip {file}: {reason}");
                if gap.is_some() {
                    problems.push(format!("{file} is in KNOWN_SCHEMA_GAPS but is not checked"));
                }
            }
            Plan::Unclassified(why) => {
                failed += 1;
                println!("FAIL {file}: unclassified: {why}");
                problems.push(format!(
                    "{file}: unclassified ({why}); map it to an output type or skip it with a reason"
                ));
            }
            Plan::Check(check, layout) => match (check_tape(tape, &check, layout), gap) {
                (Ok(note), None) => {
                    passed += 1;
                    println!("ok {file} as {}{note}", check.type_name);
                }
                (Ok(_), Some(gap)) => {
                    passed += 1;
                    println!(
                        "ok {file} as {} (listed in KNOWN_SCHEMA_GAPS!)",
                        check.type_name
                    );
                    problems.push(format!(
                        "{file} now round-trips as {}: remove it from KNOWN_SCHEMA_GAPS ({})",
                        check.type_name, gap.field
                    ));
                }
                (Err(report), gap) => {
                    failed += 1;
                    let expected =
                        gap.filter(|g| g.type_name == check.type_name && report.contains(g.expect));
                    match expected {
                        Some(gap) => {
                            known += 1;
                            println!(
                                "FAIL {file} as {} (known schema gap at {}: {})\n    {}",
                                check.type_name,
                                gap.field,
                                gap.reason,
                                shorten(&report)
                            );
                        }
                        None => {
                            println!(
                                "FAIL {file} as {}\n    {}",
                                check.type_name,
                                shorten(&report)
                            );
                            let note = match gap {
                                Some(g) => format!(
                                    " (listed in KNOWN_SCHEMA_GAPS as {} expecting {:?}, but fails otherwise)",
                                    g.type_name, g.expect
                                ),
                                None => String::new(),
                            };
                            problems.push(format!(
                                "{file} as {}{note}:\n    {}",
                                check.type_name,
                                shorten(&report)
                            ));
                        }
                    }
                }
            },
        }
    }
    for gap in KNOWN_SCHEMA_GAPS {
        if !tapes.iter().any(|t| t.file_name == gap.tape) {
            problems.push(format!(
                "KNOWN_SCHEMA_GAPS names {}, which is not a tape",
                gap.tape
            ));
        }
    }
    println!(
        "known schema gaps: {known} of the {failed} failed (KNOWN_SCHEMA_GAPS lists {})",
        KNOWN_SCHEMA_GAPS.len()
    );
    println!("roundtrip: {passed} passed, {failed} failed, {skipped} skipped");
    assert!(passed > 0, "nothing was checked");
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

// ------------------------------------------------------------------------------------------------
// The comparison itself must be able to fail
// ------------------------------------------------------------------------------------------------

mod comparator {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    /// Keeps unknown keys; `note` is a skipped `Option`.
    #[derive(Serialize, Deserialize)]
    struct Lenient {
        id: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tags: Vec<String>,
        #[serde(flatten)]
        extra: Map<String, Value>,
    }

    /// Drops unknown keys; `note` is a skipped `Option`.
    #[derive(Serialize, Deserialize)]
    struct Forgetful {
        id: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    }

    /// `score` is stored as `f32`; `role` has a default.
    #[derive(Serialize, Deserialize)]
    struct Narrow {
        score: f32,
        #[serde(default = "user")]
        role: String,
    }

    fn user() -> String {
        "user".into()
    }

    const LENIENT: Check = check!(Lenient, "Lenient");
    const FORGETFUL: Check = check!(Forgetful, "Forgetful");
    const NARROW_F32: Check = check!(Narrow, "Narrow", &["$.score"]);
    const NARROW_EXACT: Check = check!(Narrow, "Narrow");

    fn findings(check: &Check, original: Value) -> Vec<String> {
        let back = (check.roundtrip)(&original.to_string()).expect("deserializes");
        compare(check, &original, &back)
            .0
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_faithful_round_trip_has_no_findings() {
        let body = json!({"id": 1, "note": "n", "tags": ["a"], "x": {"y": [1, null]}});
        assert_eq!(findings(&LENIENT, body), Vec::<String>::new());
    }

    #[test]
    fn a_dropped_field_is_reported_with_its_path() {
        let found = findings(&FORGETFUL, json!({"id": 1, "extra": {"deep": true}}));
        assert_eq!(found, vec![r#"lost $.extra (was {"deep":true})"#]);
    }

    #[test]
    fn a_null_skipped_option_is_accepted_only_when_the_object_keeps_unknown_keys() {
        assert_eq!(
            findings(&LENIENT, json!({"id": 1, "note": null})),
            Vec::<String>::new()
        );
        // An unknown null key kept in `extra` comes back as null: nothing to normalize.
        assert_eq!(
            findings(&LENIENT, json!({"id": 1, "other": null})),
            Vec::<String>::new()
        );
        // `Forgetful` reads `note` the same way, but it would also drop any unknown key, so
        // the vanished null cannot be told apart from a lost field.
        let found = findings(&FORGETFUL, json!({"id": 1, "note": null}));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("lost $.note (a null the object dropped"));
        let found = findings(&FORGETFUL, json!({"id": 1, "other": null}));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("lost $.other"));
    }

    #[test]
    fn empty_arrays_and_defaults_are_not_normalized() {
        assert_eq!(
            findings(&LENIENT, json!({"id": 1, "tags": []})),
            vec!["lost $.tags (was [])"]
        );
        assert_eq!(
            findings(&NARROW_F32, json!({"score": 0.5})),
            vec![r#"added $.role = "user""#]
        );
    }

    /// `ratio` is an `f64`.
    #[derive(Serialize, Deserialize)]
    struct Wide {
        ratio: f64,
    }

    #[test]
    fn numbers_compare_as_f64_with_f32_tolerance_only_where_declared() {
        let wide = check!(Wide, "Wide");
        assert_eq!(
            findings(&wide, json!({"ratio": 1})),
            Vec::<String>::new(),
            "1 read into an f64 field comes back as 1.0: equal as numbers"
        );
        assert_eq!(findings(&wide, json!({"ratio": 0.1})), Vec::<String>::new());
        let body = json!({"score": 0.1, "role": "user"});
        assert_eq!(findings(&NARROW_F32, body.clone()), Vec::<String>::new());
        assert_eq!(
            findings(&NARROW_EXACT, body),
            vec!["changed $.score: 0.1 -> 0.10000000149011612"]
        );
        // A value an f32 cannot hold is a change even at an f32 path.
        assert_eq!(
            findings(&NARROW_F32, json!({"score": 1e300, "role": "user"})),
            vec!["changed $.score: 1e+300 -> null"]
        );
    }

    #[test]
    fn parse_errors_name_the_json_path() {
        let err = (FORGETFUL.roundtrip)(r#"{"id": "one"}"#).unwrap_err();
        assert!(err.contains("at $.id"), "{err}");
        let err = roundtrip::<Vec<Forgetful>>(r#"[{"id": 1}, {"note": "x"}]"#).unwrap_err();
        assert!(err.contains("missing field `id`"), "{err}");
        assert!(err.contains("at $[1])"), "{err}");
        let err = roundtrip::<Vec<Vec<f32>>>("[[1, 2], [3, [4]]]").unwrap_err();
        assert!(err.contains("at $[1][1]"), "{err}");
        let err = roundtrip::<Vec<Vec<f32>>>("[1, 2]").unwrap_err();
        assert!(err.contains("at $[0]"), "{err}");
        let err = roundtrip::<Vec<Forgetful>>(r#"[{"id": 1, "note": {"x": 1}}]"#).unwrap_err();
        assert!(err.contains("at $[0].note"), "{err}");
    }

    #[test]
    fn every_known_gap_is_described() {
        for gap in KNOWN_SCHEMA_GAPS {
            assert!(gap.tape.ends_with(".json"), "{}", gap.tape);
            assert!(gap.field.starts_with('$'), "{}", gap.field);
            assert!(!gap.reason.is_empty() && !gap.expect.is_empty());
            assert!(!gap.type_name.is_empty());
        }
    }
}
