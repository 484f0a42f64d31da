//! Replays the conformance tapes of the tasks on the generic engine through the public SDK API,
//! on loopback:
//! - the JSON tasks (feature-extraction, fill-mask, question-answering, sentence-similarity,
//!   summarization, table-question-answering, text-classification, token-classification,
//!   translation, zero-shot-classification): every provider;
//! - the binary and file tasks (audio-classification, automatic-speech-recognition,
//!   document-question-answering, image-classification, image-segmentation, image-to-image,
//!   image-to-text, object-detection, text-to-image, text-to-speech, visual-question-answering,
//!   zero-shot-image-classification): the hf-inference tapes. The other providers' tapes of these
//!   tasks are jobs of the provider adapters (fal queue, Replicate, Black Forest Labs polling,
//!   asset downloads), replayed by the providers' own test files (tests/tests/provider_*.rs);
//!   they are counted on one `not replayed here` line.
//!
//! The SDK call is derived from the tape itself, never from its file name: the provider from
//! `provider`, the model from `test.provider_mapping` (or, for legacy tapes, the model id in the
//! recorded URL or body); the typed input from the recorded body (`inputs` and `parameters`;
//! the parameters at the root for the flat feature-extraction body; `input` for OpenAI
//! embeddings). The typed input is rebuilt through the generated entry method and one generated
//! setter per parameter, and must come out equal to the recorded one. Body fields the typed
//! input does not name travel in `extra_body` for final-spec tapes (e.g. summarization's
//! `parameters.max_length`), and are left out of legacy tapes (obsolete JS-client fields such
//! as `options` or a body `model`). Routed tapes get a fake `hf_` token, direct ones a fake
//! provider key; the client is pointed at a [`ReplayServer`] holding only that tape.
//!
//! Binary inputs: the file under `conformance/inputs` the tape names (`request.body_file` for a
//! raw body, the `{{base64:<file>}}` placeholder of a JSON body, else `body_input_hint`) is
//! given to the entry method as a path; a raw recorded body reads as `{"inputs": <that file>}`.
//! The SDK puts the file where its entry method says ([`TypedTask::BINARY`]: `/inputs`, or
//! `/inputs/image` for document and visual question answering); a recording that wraps it one
//! level deeper (`{"inputs": {"image": …}}`) is read at the SDK's place and the move is a
//! documented difference ([`LAYOUT_REASON`]). A legacy tape whose body was not recorded takes
//! the other inputs (question, labels, prompt) from the final-spec tape of the same test, and
//! says so.
//!
//! Checks:
//! - **request** (`in_final_spec: true` tapes): method, path, query, body (JSON as values after
//!   `{{base64:…}}` substitution; binary bodies byte for byte), the explicit headers, the
//!   `Content-Type` of a binary body (the Blob type the JS client set), and the auth scheme
//!   match the recording. A documented deliberate difference ([`PATH_DIFFERENCES`],
//!   [`HEADER_DIFFERENCES`], [`CONTENT_TYPE_DIFFERENCES`], [`LAYOUT_REASON`], batch inputs)
//!   makes the tape `N/A` with its reason; the rest of the request is still compared and the
//!   response still checked. Legacy tapes (`in_final_spec: false`; many recorded against
//!   `api-inference.huggingface.co` or the `inference-proxy` path, whose URLs differ from
//!   today's route by design) are checked for response parsing only, and say so.
//! - **response**: the SDK's typed result, serialized back to JSON, equals the recorded body
//!   (modulo the lenient one-object / one-element-list reading, and `f32` embeddings within
//!   1e-6); a file answer (whose bytes the recorder did not keep: the server sends
//!   [`placeholder_bytes`] of the recorded type) comes back as a `Blob` with exactly the bytes
//!   served and the recorded content type; `test.expected` holds on the value the JS client
//!   returned, rebuilt from the SDK's result (see [`js_view`]; `binary`: a non-empty `Blob`);
//!   error statuses come back as the matching typed error with the status and the server's
//!   message.
//!
//! Output: one `PASS` / `FAIL` / `N/A` line per tape, a line for the tasks without any tape,
//! then `replay: N passed, N failed, N not applicable`. The test fails if any tape failed, or if
//! a task without tapes is not the documented one. Tapes are read from `HF_INFERENCE_TAPES`
//! (default `../shared/conformance`).
//!
//! Also here: `replay_hub_api_tapes` replays the Hub model-info tapes through the hf-inference
//! model/task check, and `every_tape_is_replayed_or_listed` fails when a tape of the corpus is
//! replayed by no test file and not listed in `NOT_REPLAYED` with its reason.
//!
//! Run with `cargo test -p hf-inference-tests --test replay_tasks -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::time::Duration;

use hf_inference::InferenceClient;
use hf_inference::binary::{BinaryInput, Blob};
use hf_inference::error::Error;
use hf_inference::providers::{PayloadStyle, Provider, Task, task_spec};
use hf_inference::tasks::generic::TaskRequest;
use hf_inference::types::audio_classification::{
    AudioClassificationInput, AudioClassificationOutput,
};
use hf_inference::types::automatic_speech_recognition::{
    AutomaticSpeechRecognitionInput, AutomaticSpeechRecognitionOutput,
};
use hf_inference::types::document_question_answering::{
    DocumentQuestionAnsweringInput, DocumentQuestionAnsweringOutput,
};
use hf_inference::types::feature_extraction::{FeatureExtractionInput, FeatureExtractionOutput};
use hf_inference::types::fill_mask::{FillMaskInput, FillMaskOutput};
use hf_inference::types::image_classification::{
    ImageClassificationInput, ImageClassificationOutput,
};
use hf_inference::types::image_segmentation::{ImageSegmentationInput, ImageSegmentationOutput};
use hf_inference::types::image_to_image::ImageToImageInput;
use hf_inference::types::image_to_text::{ImageToTextInput, ImageToTextOutput};
use hf_inference::types::object_detection::{ObjectDetectionInput, ObjectDetectionOutput};
use hf_inference::types::question_answering::{QuestionAnsweringInput, QuestionAnsweringOutput};
use hf_inference::types::sentence_similarity::{
    SentenceSimilarityInput, SentenceSimilarityInputData, SentenceSimilarityOutput,
};
use hf_inference::types::summarization::{SummarizationInput, SummarizationOutput};
use hf_inference::types::table_question_answering::{
    TableQuestionAnsweringInput, TableQuestionAnsweringOutput,
};
use hf_inference::types::text_classification::{TextClassificationInput, TextClassificationOutput};
use hf_inference::types::text_to_image::TextToImageInput;
use hf_inference::types::text_to_speech::TextToSpeechInput;
use hf_inference::types::token_classification::{
    TokenClassificationInput, TokenClassificationOutput,
};
use hf_inference::types::translation::{TranslationInput, TranslationOutput};
use hf_inference::types::visual_question_answering::{
    VisualQuestionAnsweringInput, VisualQuestionAnsweringOutput,
};
use hf_inference::types::zero_shot_classification::{
    ZeroShotClassificationInput, ZeroShotClassificationOutput,
};
use hf_inference::types::zero_shot_image_classification::{
    ZeroShotImageClassificationInput, ZeroShotImageClassificationOutput,
};
use hf_inference_tests::expect::{self, Actual, Expectation};
use hf_inference_tests::replay::{
    HUB_HOST, RecordedRequest, ReplayOptions, ReplayServer, json_diff, media_type, percent_decode,
    placeholder_bytes, query_pairs,
};
use hf_inference_tests::support::{
    ROUTER_HOST, Replayed, RequestCheck, SameJson, Tally, Verdict, auth_problem,
    check_error_answer, combine_checks, fake_token, loopback_builder, provider_hosts_on,
    replay_call,
};
use hf_inference_tests::tapes::{
    BodyKind, ExpectedBody, Tape, group_by_test, inputs_dir, placeholders_in, tapes_dir,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------------
// Deliberate differences

/// A documented difference between the request path the SDK sends (python-client.md, the
/// reference) and the one the JS client recorded.
struct PathDifference {
    /// Whether the rule explains `recorded` vs `sent` for this tape.
    applies: fn(tape: &Tape, recorded: &str, sent: &str) -> bool,
    reason: &'static str,
}

const PATH_DIFFERENCES: &[PathDifference] = &[PathDifference {
    applies: |tape, recorded, sent| {
        // `/hf-inference/pipeline/{task}/{model}` recorded, `/hf-inference/models/{model}/
        // pipeline/{task}` sent, same model and task.
        let Some(model) = recorded
            .strip_prefix("/hf-inference/pipeline/")
            .and_then(|rest| rest.strip_prefix(tape.task.as_str()))
            .and_then(|rest| rest.strip_prefix('/'))
        else {
            return false;
        };
        tape.provider == "hf-inference"
            && sent == format!("/hf-inference/models/{model}/pipeline/{}", tape.task)
    },
    reason: "the SDK calls `…/hf-inference/models/{id}/pipeline/{task}`, the route of the \
             Python reference 2.4.0 for feature-extraction and sentence-similarity \
             (python-client.md §2.4); the JS client (April 2025) used the older \
             `…/hf-inference/pipeline/{task}/{id}`",
}];

/// A documented difference in the headers: a header the JS client set explicitly that the SDK
/// does not send.
struct HeaderDifference {
    /// Lower-case header name.
    name: &'static str,
    reason: &'static str,
}

const HEADER_DIFFERENCES: &[HeaderDifference] = &[HeaderDifference {
    name: "x-wait-for-model",
    reason: "`X-Wait-For-Model: true` is not sent: the Python reference 2.4.0 sends no \
             wait-for-model header and no longer waits for loading models (python-client.md \
             §6.1, removed in #2851); the VCR key covers URL, method and body only, so this \
             header comes from the first recording of the request",
}];

/// A documented difference in the `Content-Type` of a binary body: the Blob type the JS client
/// sent versus the type the SDK sends (the type of the bytes).
struct ContentTypeDifference {
    /// Whether the rule explains `recorded` vs `sent` (both as sent, parameters included).
    applies: fn(recorded: &str, sent: &str) -> bool,
    reason: fn(recorded: &str, sent: &str) -> String,
}

const CONTENT_TYPE_DIFFERENCES: &[ContentTypeDifference] = &[ContentTypeDifference {
    applies: |recorded, sent| {
        let squeezed: String = recorded.chars().filter(|c| !c.is_whitespace()).collect();
        recorded.contains(char::is_whitespace)
            && essence(&squeezed) == essence(sent)
            && !essence(sent).contains(char::is_whitespace)
    },
    reason: |recorded, sent| {
        format!(
            "Content-Type {sent:?}, not {recorded:?}: the JS test labelled its Blob {recorded:?}, \
             which is not a media type (RFC 9110 §8.3.1: `type \"/\" subtype`, no whitespace), \
             and fetch sent the label as is; the SDK sends the type of the bytes (sniffed, as the \
             Python reference guesses it, python-client.md §1.5 / §2.6)"
        )
    },
}];

/// Why a recorded body that wraps the binary input one level deeper than the SDK's entry method
/// puts it is the same request.
const LAYOUT_REASON: &str = "the JS client sent the image as `{\"inputs\": {\"image\": <base64>}}`; \
     the SDK sends the base64 as `inputs` itself, the shape of the task schema (`inputs: string`) \
     and of the Python reference 2.4.0 for the hf-inference binary tasks (python-client.md \
     §3.13: `{\"inputs\": b64, \"parameters\": params}`); same bytes, same parameters";

/// The media type of a `Content-Type` value: lower case, parameters dropped, inner whitespace
/// kept.
fn essence(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Why a batch (a list of texts where the task schema takes one text) is not a typed call.
fn batch_reason(kind: Kind, count: usize) -> String {
    format!(
        "batch input ({count} texts): the SDK's `{}` takes one text, as the task schema \
         (`inputs: string`) and the Python reference (python-client.md §1.3) do; the recorded \
         body was sent through `extra_body`",
        kind.method()
    )
}

// ---------------------------------------------------------------------------------------------
// Tasks

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    AudioClassification,
    AutomaticSpeechRecognition,
    DocumentQuestionAnswering,
    FeatureExtraction,
    FillMask,
    ImageClassification,
    ImageSegmentation,
    ImageToImage,
    ImageToText,
    ObjectDetection,
    QuestionAnswering,
    SentenceSimilarity,
    Summarization,
    TableQuestionAnswering,
    TextClassification,
    TextToImage,
    TextToSpeech,
    TokenClassification,
    Translation,
    VisualQuestionAnswering,
    ZeroShotClassification,
    ZeroShotImageClassification,
}

impl Kind {
    const ALL: [Kind; 22] = [
        Kind::AudioClassification,
        Kind::AutomaticSpeechRecognition,
        Kind::DocumentQuestionAnswering,
        Kind::FeatureExtraction,
        Kind::FillMask,
        Kind::ImageClassification,
        Kind::ImageSegmentation,
        Kind::ImageToImage,
        Kind::ImageToText,
        Kind::ObjectDetection,
        Kind::QuestionAnswering,
        Kind::SentenceSimilarity,
        Kind::Summarization,
        Kind::TableQuestionAnswering,
        Kind::TextClassification,
        Kind::TextToImage,
        Kind::TextToSpeech,
        Kind::TokenClassification,
        Kind::Translation,
        Kind::VisualQuestionAnswering,
        Kind::ZeroShotClassification,
        Kind::ZeroShotImageClassification,
    ];

    fn task(self) -> Task {
        match self {
            Kind::AudioClassification => Task::AudioClassification,
            Kind::AutomaticSpeechRecognition => Task::AutomaticSpeechRecognition,
            Kind::DocumentQuestionAnswering => Task::DocumentQuestionAnswering,
            Kind::FeatureExtraction => Task::FeatureExtraction,
            Kind::FillMask => Task::FillMask,
            Kind::ImageClassification => Task::ImageClassification,
            Kind::ImageSegmentation => Task::ImageSegmentation,
            Kind::ImageToImage => Task::ImageToImage,
            Kind::ImageToText => Task::ImageToText,
            Kind::ObjectDetection => Task::ObjectDetection,
            Kind::QuestionAnswering => Task::QuestionAnswering,
            Kind::SentenceSimilarity => Task::SentenceSimilarity,
            Kind::Summarization => Task::Summarization,
            Kind::TableQuestionAnswering => Task::TableQuestionAnswering,
            Kind::TextClassification => Task::TextClassification,
            Kind::TextToImage => Task::TextToImage,
            Kind::TextToSpeech => Task::TextToSpeech,
            Kind::TokenClassification => Task::TokenClassification,
            Kind::Translation => Task::Translation,
            Kind::VisualQuestionAnswering => Task::VisualQuestionAnswering,
            Kind::ZeroShotClassification => Task::ZeroShotClassification,
            Kind::ZeroShotImageClassification => Task::ZeroShotImageClassification,
        }
    }

    fn of(task: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.task().as_str() == task)
    }

    /// The SDK method of the task.
    fn method(self) -> String {
        self.task().as_str().replace('-', "_")
    }

    /// The JSON tasks, whose tapes are replayed for every provider. The binary and file tasks
    /// are replayed on hf-inference: their other providers' tapes are provider-adapter jobs.
    fn is_json_task(self) -> bool {
        matches!(
            self,
            Kind::FeatureExtraction
                | Kind::FillMask
                | Kind::QuestionAnswering
                | Kind::SentenceSimilarity
                | Kind::Summarization
                | Kind::TableQuestionAnswering
                | Kind::TextClassification
                | Kind::TokenClassification
                | Kind::Translation
                | Kind::ZeroShotClassification
        )
    }

    /// Whether this file replays the task's tapes of `provider`.
    fn replays(self, provider: &str) -> bool {
        self.is_json_task() || provider == Provider::HfInference.as_str()
    }

    /// Whether the JS client returns the first element of the server's list (`res[0]`) where
    /// the SDK's output (the schema's type) is the whole list: `documentQuestionAnswering` and
    /// `visualQuestionAnswering` of huggingface.js (April 2025) do.
    fn js_returns_first(self) -> bool {
        matches!(
            self,
            Kind::DocumentQuestionAnswering | Kind::VisualQuestionAnswering
        )
    }
}

/// The tasks of [`Kind`] without any conformance tape, and why; `task_requests.rs` covers them on
/// loopback. (Listed in [`Kind`] order: the test compares the list with what it found.)
const TASKS_WITHOUT_TAPES: &[(Kind, &str)] = &[
    (
        Kind::ImageClassification,
        "the huggingface.js suite recorded no image-classification call",
    ),
    (
        Kind::ObjectDetection,
        "the huggingface.js suite recorded no object-detection call",
    ),
    (
        Kind::TableQuestionAnswering,
        "the huggingface.js suite recorded no table-question-answering call",
    ),
    (
        Kind::TextClassification,
        "the huggingface.js suite recorded no text-classification call",
    ),
    (
        Kind::TokenClassification,
        "the huggingface.js suite recorded no token-classification call",
    ),
    (
        Kind::ZeroShotClassification,
        "the huggingface.js suite recorded no zero-shot-classification call",
    ),
];

/// How a task's typed input becomes an SDK request: the generated entry method (given the binary
/// input, for the tasks that take one), then one generated setter per parameter that is set. The
/// input is destructured exhaustively, so a new schema field fails to compile here until it is
/// covered.
trait TypedTask {
    type Input: DeserializeOwned + Serialize + PartialEq + Debug + Clone;
    type Output: IntoOutcome;
    /// Where the entry method puts its binary input in the typed input (JSON pointer); the
    /// typed input holds an empty string there until the request is built.
    const BINARY: Option<&'static str> = None;
    fn request(
        client: &InferenceClient,
        input: Self::Input,
        file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output>;
}

/// How a task's output is compared: JSON, or a file.
trait IntoOutcome {
    fn into_outcome(self) -> Outcome;
}

impl IntoOutcome for Blob {
    fn into_outcome(self) -> Outcome {
        Outcome::File(self)
    }
}

macro_rules! json_outputs {
    ($($output:ty),* $(,)?) => {
        $(impl IntoOutcome for $output {
            fn into_outcome(self) -> Outcome {
                match serde_json::to_value(&self) {
                    Ok(v) => Outcome::Json(v),
                    Err(e) => Outcome::Invalid(format!("cannot serialize the output: {e}")),
                }
            }
        })*
    };
}

json_outputs!(
    AudioClassificationOutput,
    AutomaticSpeechRecognitionOutput,
    DocumentQuestionAnsweringOutput,
    FeatureExtractionOutput,
    FillMaskOutput,
    ImageClassificationOutput,
    ImageSegmentationOutput,
    ImageToTextOutput,
    ObjectDetectionOutput,
    QuestionAnsweringOutput,
    SentenceSimilarityOutput,
    SummarizationOutput,
    TableQuestionAnsweringOutput,
    TextClassificationOutput,
    TokenClassificationOutput,
    TranslationOutput,
    VisualQuestionAnsweringOutput,
    ZeroShotClassificationOutput,
    ZeroShotImageClassificationOutput,
);

/// The binary input of a task that takes one ([`run_typed`] checks it is there).
fn required(file: Option<BinaryInput>) -> BinaryInput {
    file.expect("run_typed gives a binary input to the tasks that take one")
}

struct FeatureExtraction;
impl TypedTask for FeatureExtraction {
    type Input = FeatureExtractionInput;
    type Output = FeatureExtractionOutput;
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        _file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let FeatureExtractionInput {
            inputs,
            normalize,
            prompt_name,
            truncate,
            truncation_direction,
        } = input;
        let mut r = c.feature_extraction(inputs);
        if let Some(v) = normalize {
            r = r.normalize(v);
        }
        if let Some(v) = prompt_name {
            r = r.prompt_name(v);
        }
        if let Some(v) = truncate {
            r = r.truncate(v);
        }
        if let Some(v) = truncation_direction {
            r = r.truncation_direction(v);
        }
        r
    }
}

struct FillMask;
impl TypedTask for FillMask {
    type Input = FillMaskInput;
    type Output = FillMaskOutput;
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        _file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let FillMaskInput { inputs, parameters } = input;
        let mut r = c.fill_mask(inputs);
        if let Some(p) = parameters {
            let hf_inference::types::fill_mask::FillMaskParameters { targets, top_k } = p;
            if !targets.is_empty() {
                r = r.targets(targets);
            }
            if let Some(v) = top_k {
                r = r.top_k(v);
            }
        }
        r
    }
}

struct QuestionAnswering;
impl TypedTask for QuestionAnswering {
    type Input = QuestionAnsweringInput;
    type Output = QuestionAnsweringOutput;
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        _file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let QuestionAnsweringInput { inputs, parameters } = input;
        let mut r = c.question_answering(inputs);
        if let Some(p) = parameters {
            let hf_inference::types::question_answering::QuestionAnsweringParameters {
                align_to_words,
                doc_stride,
                handle_impossible_answer,
                max_answer_len,
                max_question_len,
                max_seq_len,
                top_k,
            } = p;
            if let Some(v) = align_to_words {
                r = r.align_to_words(v);
            }
            if let Some(v) = doc_stride {
                r = r.doc_stride(v);
            }
            if let Some(v) = handle_impossible_answer {
                r = r.handle_impossible_answer(v);
            }
            if let Some(v) = max_answer_len {
                r = r.max_answer_len(v);
            }
            if let Some(v) = max_question_len {
                r = r.max_question_len(v);
            }
            if let Some(v) = max_seq_len {
                r = r.max_seq_len(v);
            }
            if let Some(v) = top_k {
                r = r.top_k(v);
            }
        }
        r
    }
}

struct SentenceSimilarity;
impl TypedTask for SentenceSimilarity {
    type Input = SentenceSimilarityInput;
    type Output = SentenceSimilarityOutput;
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        _file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let SentenceSimilarityInput { inputs, parameters } = input;
        let r = c.sentence_similarity(inputs);
        match parameters {
            Some(p) => r.parameters(p),
            None => r,
        }
    }
}

struct Summarization;
impl TypedTask for Summarization {
    type Input = SummarizationInput;
    type Output = SummarizationOutput;
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        _file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let SummarizationInput { inputs, parameters } = input;
        let mut r = c.summarization(inputs);
        if let Some(p) = parameters {
            let hf_inference::types::summarization::SummarizationParameters {
                clean_up_tokenization_spaces,
                generate_parameters,
                truncation,
            } = p;
            if let Some(v) = clean_up_tokenization_spaces {
                r = r.clean_up_tokenization_spaces(v);
            }
            if !generate_parameters.is_empty() {
                r = r.generate_parameters(generate_parameters);
            }
            if let Some(v) = truncation {
                r = r.truncation(v);
            }
        }
        r
    }
}

struct TableQuestionAnswering;
impl TypedTask for TableQuestionAnswering {
    type Input = TableQuestionAnsweringInput;
    type Output = TableQuestionAnsweringOutput;
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        _file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let TableQuestionAnsweringInput { inputs, parameters } = input;
        let mut r = c.table_question_answering(inputs);
        if let Some(p) = parameters {
            let hf_inference::types::table_question_answering::TableQuestionAnsweringParameters {
                padding,
                sequential,
                truncation,
            } = p;
            if let Some(v) = padding {
                r = r.padding(v);
            }
            if let Some(v) = sequential {
                r = r.sequential(v);
            }
            if let Some(v) = truncation {
                r = r.truncation(v);
            }
        }
        r
    }
}

struct TextClassification;
impl TypedTask for TextClassification {
    type Input = TextClassificationInput;
    type Output = TextClassificationOutput;
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        _file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let TextClassificationInput { inputs, parameters } = input;
        let mut r = c.text_classification(inputs);
        if let Some(p) = parameters {
            let hf_inference::types::text_classification::TextClassificationParameters {
                function_to_apply,
                top_k,
            } = p;
            if let Some(v) = function_to_apply {
                r = r.function_to_apply(v);
            }
            if let Some(v) = top_k {
                r = r.top_k(v);
            }
        }
        r
    }
}

struct TokenClassification;
impl TypedTask for TokenClassification {
    type Input = TokenClassificationInput;
    type Output = TokenClassificationOutput;
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        _file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let TokenClassificationInput { inputs, parameters } = input;
        let mut r = c.token_classification(inputs);
        if let Some(p) = parameters {
            let hf_inference::types::token_classification::TokenClassificationParameters {
                aggregation_strategy,
                ignore_labels,
                stride,
            } = p;
            if let Some(v) = aggregation_strategy {
                r = r.aggregation_strategy(v);
            }
            if !ignore_labels.is_empty() {
                r = r.ignore_labels(ignore_labels);
            }
            if let Some(v) = stride {
                r = r.stride(v);
            }
        }
        r
    }
}

struct Translation;
impl TypedTask for Translation {
    type Input = TranslationInput;
    type Output = TranslationOutput;
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        _file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let TranslationInput { inputs, parameters } = input;
        let mut r = c.translation(inputs);
        if let Some(p) = parameters {
            let hf_inference::types::translation::TranslationParameters {
                clean_up_tokenization_spaces,
                generate_parameters,
                src_lang,
                tgt_lang,
                truncation,
            } = p;
            if let Some(v) = clean_up_tokenization_spaces {
                r = r.clean_up_tokenization_spaces(v);
            }
            if !generate_parameters.is_empty() {
                r = r.generate_parameters(generate_parameters);
            }
            if let Some(v) = src_lang {
                r = r.src_lang(v);
            }
            if let Some(v) = tgt_lang {
                r = r.tgt_lang(v);
            }
            if let Some(v) = truncation {
                r = r.truncation(v);
            }
        }
        r
    }
}

struct ZeroShotClassification;
impl TypedTask for ZeroShotClassification {
    type Input = ZeroShotClassificationInput;
    type Output = ZeroShotClassificationOutput;
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        _file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let ZeroShotClassificationInput { inputs, parameters } = input;
        let hf_inference::types::zero_shot_classification::ZeroShotClassificationParameters {
            candidate_labels,
            hypothesis_template,
            multi_label,
        } = parameters;
        let mut r = c.zero_shot_classification(inputs, candidate_labels);
        if let Some(v) = hypothesis_template {
            r = r.hypothesis_template(v);
        }
        if let Some(v) = multi_label {
            r = r.multi_label(v);
        }
        r
    }
}

struct AudioClassification;
impl TypedTask for AudioClassification {
    type Input = AudioClassificationInput;
    type Output = AudioClassificationOutput;
    const BINARY: Option<&'static str> = Some("/inputs");
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let AudioClassificationInput {
            inputs: _,
            parameters,
        } = input;
        let mut r = c.audio_classification(required(file));
        if let Some(p) = parameters {
            let hf_inference::types::audio_classification::AudioClassificationParameters {
                function_to_apply,
                top_k,
            } = p;
            if let Some(v) = function_to_apply {
                r = r.function_to_apply(v);
            }
            if let Some(v) = top_k {
                r = r.top_k(v);
            }
        }
        r
    }
}

struct AutomaticSpeechRecognition;
impl TypedTask for AutomaticSpeechRecognition {
    type Input = AutomaticSpeechRecognitionInput;
    type Output = AutomaticSpeechRecognitionOutput;
    const BINARY: Option<&'static str> = Some("/inputs");
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let AutomaticSpeechRecognitionInput {
            inputs: _,
            parameters,
        } = input;
        let mut r = c.automatic_speech_recognition(required(file));
        if let Some(p) = parameters {
            let hf_inference::types::automatic_speech_recognition::AutomaticSpeechRecognitionParameters {
                generation_parameters,
                return_timestamps,
            } = p;
            if let Some(v) = generation_parameters {
                r = r.generation_parameters(v);
            }
            if let Some(v) = return_timestamps {
                r = r.return_timestamps(v);
            }
        }
        r
    }
}

struct DocumentQuestionAnswering;
impl TypedTask for DocumentQuestionAnswering {
    type Input = DocumentQuestionAnsweringInput;
    type Output = DocumentQuestionAnsweringOutput;
    const BINARY: Option<&'static str> = Some("/inputs/image");
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let DocumentQuestionAnsweringInput { inputs, parameters } = input;
        let hf_inference::types::document_question_answering::DocumentQuestionAnsweringInputData {
            image: _,
            question,
        } = inputs;
        let mut r = c.document_question_answering(required(file), question);
        if let Some(p) = parameters {
            let hf_inference::types::document_question_answering::DocumentQuestionAnsweringParameters {
                doc_stride,
                handle_impossible_answer,
                lang,
                max_answer_len,
                max_question_len,
                max_seq_len,
                top_k,
                word_boxes,
            } = p;
            if let Some(v) = doc_stride {
                r = r.doc_stride(v);
            }
            if let Some(v) = handle_impossible_answer {
                r = r.handle_impossible_answer(v);
            }
            if let Some(v) = lang {
                r = r.lang(v);
            }
            if let Some(v) = max_answer_len {
                r = r.max_answer_len(v);
            }
            if let Some(v) = max_question_len {
                r = r.max_question_len(v);
            }
            if let Some(v) = max_seq_len {
                r = r.max_seq_len(v);
            }
            if let Some(v) = top_k {
                r = r.top_k(v);
            }
            if !word_boxes.is_empty() {
                r = r.word_boxes(word_boxes);
            }
        }
        r
    }
}

struct ImageClassification;
impl TypedTask for ImageClassification {
    type Input = ImageClassificationInput;
    type Output = ImageClassificationOutput;
    const BINARY: Option<&'static str> = Some("/inputs");
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let ImageClassificationInput {
            inputs: _,
            parameters,
        } = input;
        let mut r = c.image_classification(required(file));
        if let Some(p) = parameters {
            let hf_inference::types::image_classification::ImageClassificationParameters {
                function_to_apply,
                top_k,
            } = p;
            if let Some(v) = function_to_apply {
                r = r.function_to_apply(v);
            }
            if let Some(v) = top_k {
                r = r.top_k(v);
            }
        }
        r
    }
}

struct ImageSegmentation;
impl TypedTask for ImageSegmentation {
    type Input = ImageSegmentationInput;
    type Output = ImageSegmentationOutput;
    const BINARY: Option<&'static str> = Some("/inputs");
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let ImageSegmentationInput {
            inputs: _,
            parameters,
        } = input;
        let mut r = c.image_segmentation(required(file));
        if let Some(p) = parameters {
            let hf_inference::types::image_segmentation::ImageSegmentationParameters {
                mask_threshold,
                overlap_mask_area_threshold,
                subtask,
                threshold,
            } = p;
            if let Some(v) = mask_threshold {
                r = r.mask_threshold(v);
            }
            if let Some(v) = overlap_mask_area_threshold {
                r = r.overlap_mask_area_threshold(v);
            }
            if let Some(v) = subtask {
                r = r.subtask(v);
            }
            if let Some(v) = threshold {
                r = r.threshold(v);
            }
        }
        r
    }
}

struct ImageToImage;
impl TypedTask for ImageToImage {
    type Input = ImageToImageInput;
    type Output = Blob;
    const BINARY: Option<&'static str> = Some("/inputs");
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let ImageToImageInput {
            inputs: _,
            parameters,
        } = input;
        let mut r = c.image_to_image(required(file));
        if let Some(p) = parameters {
            let hf_inference::types::image_to_image::ImageToImageParameters {
                guidance_scale,
                negative_prompt,
                num_inference_steps,
                prompt,
                target_size,
            } = p;
            if let Some(v) = guidance_scale {
                r = r.guidance_scale(v);
            }
            if let Some(v) = negative_prompt {
                r = r.negative_prompt(v);
            }
            if let Some(v) = num_inference_steps {
                r = r.num_inference_steps(v);
            }
            if let Some(v) = prompt {
                r = r.prompt(v);
            }
            if let Some(v) = target_size {
                r = r.target_size(v);
            }
        }
        r
    }
}

struct ImageToText;
impl TypedTask for ImageToText {
    type Input = ImageToTextInput;
    type Output = ImageToTextOutput;
    const BINARY: Option<&'static str> = Some("/inputs");
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let ImageToTextInput {
            inputs: _,
            parameters,
        } = input;
        let mut r = c.image_to_text(required(file));
        if let Some(p) = parameters {
            let hf_inference::types::image_to_text::ImageToTextParameters {
                generation_parameters,
                max_new_tokens,
            } = p;
            if let Some(v) = generation_parameters {
                r = r.generation_parameters(v);
            }
            if let Some(v) = max_new_tokens {
                r = r.max_new_tokens(v);
            }
        }
        r
    }
}

struct ObjectDetection;
impl TypedTask for ObjectDetection {
    type Input = ObjectDetectionInput;
    type Output = ObjectDetectionOutput;
    const BINARY: Option<&'static str> = Some("/inputs");
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let ObjectDetectionInput {
            inputs: _,
            parameters,
        } = input;
        let mut r = c.object_detection(required(file));
        if let Some(p) = parameters {
            let hf_inference::types::object_detection::ObjectDetectionParameters { threshold } = p;
            if let Some(v) = threshold {
                r = r.threshold(v);
            }
        }
        r
    }
}

struct TextToImage;
impl TypedTask for TextToImage {
    type Input = TextToImageInput;
    type Output = Blob;
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        _file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let TextToImageInput { inputs, parameters } = input;
        let mut r = c.text_to_image(inputs);
        if let Some(p) = parameters {
            let hf_inference::types::text_to_image::TextToImageParameters {
                guidance_scale,
                height,
                negative_prompt,
                num_inference_steps,
                scheduler,
                seed,
                width,
            } = p;
            if let Some(v) = guidance_scale {
                r = r.guidance_scale(v);
            }
            if let Some(v) = height {
                r = r.height(v);
            }
            if let Some(v) = negative_prompt {
                r = r.negative_prompt(v);
            }
            if let Some(v) = num_inference_steps {
                r = r.num_inference_steps(v);
            }
            if let Some(v) = scheduler {
                r = r.scheduler(v);
            }
            if let Some(v) = seed {
                r = r.seed(v);
            }
            if let Some(v) = width {
                r = r.width(v);
            }
        }
        r
    }
}

struct TextToSpeech;
impl TypedTask for TextToSpeech {
    type Input = TextToSpeechInput;
    type Output = Blob;
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        _file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let TextToSpeechInput { inputs, parameters } = input;
        let mut r = c.text_to_speech(inputs);
        if let Some(p) = parameters {
            let hf_inference::types::text_to_speech::TextToSpeechParameters {
                generation_parameters,
            } = p;
            if let Some(v) = generation_parameters {
                r = r.generation_parameters(v);
            }
        }
        r
    }
}

struct VisualQuestionAnswering;
impl TypedTask for VisualQuestionAnswering {
    type Input = VisualQuestionAnsweringInput;
    type Output = VisualQuestionAnsweringOutput;
    const BINARY: Option<&'static str> = Some("/inputs/image");
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let VisualQuestionAnsweringInput { inputs, parameters } = input;
        let hf_inference::types::visual_question_answering::VisualQuestionAnsweringInputData {
            image: _,
            question,
        } = inputs;
        let mut r = c.visual_question_answering(required(file), question);
        if let Some(p) = parameters {
            let hf_inference::types::visual_question_answering::VisualQuestionAnsweringParameters {
                top_k,
            } = p;
            if let Some(v) = top_k {
                r = r.top_k(v);
            }
        }
        r
    }
}

struct ZeroShotImageClassification;
impl TypedTask for ZeroShotImageClassification {
    type Input = ZeroShotImageClassificationInput;
    type Output = ZeroShotImageClassificationOutput;
    const BINARY: Option<&'static str> = Some("/inputs");
    fn request(
        c: &InferenceClient,
        input: Self::Input,
        file: Option<BinaryInput>,
    ) -> TaskRequest<'_, Self::Input, Self::Output> {
        let ZeroShotImageClassificationInput {
            inputs: _,
            parameters,
        } = input;
        let hf_inference::types::zero_shot_image_classification::ZeroShotImageClassificationParameters {
            candidate_labels,
            hypothesis_template,
        } = parameters;
        let mut r = c.zero_shot_image_classification(required(file), candidate_labels);
        if let Some(v) = hypothesis_template {
            r = r.hypothesis_template(v);
        }
        r
    }
}

/// Runs `$body` with `$t` standing for the [`TypedTask`] of `$kind`.
macro_rules! with_task {
    ($kind:expr, $t:ident => $body:expr) => {
        match $kind {
            Kind::AudioClassification => {
                type $t = AudioClassification;
                $body
            }
            Kind::AutomaticSpeechRecognition => {
                type $t = AutomaticSpeechRecognition;
                $body
            }
            Kind::DocumentQuestionAnswering => {
                type $t = DocumentQuestionAnswering;
                $body
            }
            Kind::FeatureExtraction => {
                type $t = FeatureExtraction;
                $body
            }
            Kind::FillMask => {
                type $t = FillMask;
                $body
            }
            Kind::ImageClassification => {
                type $t = ImageClassification;
                $body
            }
            Kind::ImageSegmentation => {
                type $t = ImageSegmentation;
                $body
            }
            Kind::ImageToImage => {
                type $t = ImageToImage;
                $body
            }
            Kind::ImageToText => {
                type $t = ImageToText;
                $body
            }
            Kind::ObjectDetection => {
                type $t = ObjectDetection;
                $body
            }
            Kind::QuestionAnswering => {
                type $t = QuestionAnswering;
                $body
            }
            Kind::SentenceSimilarity => {
                type $t = SentenceSimilarity;
                $body
            }
            Kind::Summarization => {
                type $t = Summarization;
                $body
            }
            Kind::TableQuestionAnswering => {
                type $t = TableQuestionAnswering;
                $body
            }
            Kind::TextClassification => {
                type $t = TextClassification;
                $body
            }
            Kind::TextToImage => {
                type $t = TextToImage;
                $body
            }
            Kind::TextToSpeech => {
                type $t = TextToSpeech;
                $body
            }
            Kind::TokenClassification => {
                type $t = TokenClassification;
                $body
            }
            Kind::Translation => {
                type $t = Translation;
                $body
            }
            Kind::VisualQuestionAnswering => {
                type $t = VisualQuestionAnswering;
                $body
            }
            Kind::ZeroShotClassification => {
                type $t = ZeroShotClassification;
                $body
            }
            Kind::ZeroShotImageClassification => {
                type $t = ZeroShotImageClassification;
                $body
            }
        }
    };
}

/// The typed input of `T` read from `value`, and what it serializes back to (the fields the
/// typed input names).
fn typed_roundtrip<T: TypedTask>(value: &Value) -> Result<Value, String> {
    let input: T::Input = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(&input).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------
// The call

/// How the mapping reaches the client (providers with a Hub mapping only).
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
    provider: Provider,
    model: String,
    pin: Option<Pin>,
    /// `true`: an `hf_` token (routed mode); `false`: a provider key.
    hf_token: bool,
    /// The typed input, in the schema's shape (`{"inputs", "parameters"}`, or flat).
    input: Value,
    extra_body: Map<String, Value>,
    /// A list of texts where the typed input takes one text.
    batch: Option<usize>,
    /// Body keys of a legacy recording the call leaves out (obsolete JS-client fields).
    dropped: Vec<String>,
    /// The binary input: a file of `conformance/inputs`, given to the entry method as a path.
    file: Option<String>,
    /// The recording put the binary input deeper than the SDK does (see [`LAYOUT_REASON`]).
    moved: Option<Moved>,
    /// The body was not recorded: the other inputs come from this final-spec tape of the test.
    borrowed: Option<String>,
}

/// Where the recording put the binary input, and where the SDK puts it.
#[derive(Clone, Debug)]
struct Moved {
    recorded: String,
    sent: &'static str,
}

impl Call {
    fn token(&self) -> &'static str {
        fake_token(self.hf_token)
    }
}

/// The placeholder standing for the base64 of an input file (conformance README).
fn placeholder(file: &str) -> String {
    format!("{{{{base64:{file}}}}}")
}

/// The recorded body as a JSON object, when the tape has one: the JSON body; a raw binary body
/// as `{"inputs": <placeholder of its file>}` (what the SDK sends raw: `inputs` and nothing
/// else, python-client.md §3.13).
fn recorded_object(tape: &Tape) -> Option<Map<String, Value>> {
    let req = &tape.request;
    match (&req.body_kind, &req.body_json) {
        (BodyKind::Json, Some(Value::Object(map))) => Some(map.clone()),
        (BodyKind::Binary, _) => {
            let file = req.body_file.as_ref().or(req.body_input_hint.as_ref())?;
            let mut map = Map::new();
            map.insert("inputs".into(), Value::String(placeholder(file)));
            Some(map)
        }
        _ => None,
    }
}

/// A recorded body as a JSON object, and the tape it was borrowed from (see [`body_object`]).
type BodySource = (Map<String, Value>, Option<String>);

/// The body the call is derived from, and the tape it was borrowed from: the tape's own, else
/// (body not recorded) that of a final-spec tape of the same test, provider and task, with the
/// input file the tape names (`body_input_hint`) in place of the other tape's.
fn body_object(tape: &Tape, group: &[&Tape]) -> Result<BodySource, Result<String, String>> {
    if let Some(body) = recorded_object(tape) {
        return Ok((body, None));
    }
    let sibling = group
        .iter()
        .filter(|t| {
            t.in_final_spec
                && t.provider == tape.provider
                && t.task == tape.task
                && t.file_name != tape.file_name
        })
        .find_map(|t| recorded_object(t).map(|body| (t.file_name.clone(), body)));
    let Some((from, body)) = sibling else {
        return Err(Err(format!(
            "the request body was not recorded (`{:?}`), and no final-spec tape of `{}` has it",
            tape.request.body_kind, tape.test.name
        )));
    };
    let mut body = Value::Object(body);
    if let Some(hint) = &tape.request.body_input_hint {
        let found = placeholders(&body);
        let [(pointer, _, true)] = found.as_slice() else {
            return Err(Err(format!(
                "the body was not recorded; {from} has {} file placeholders for the input                  file {hint}",
                found.len()
            )));
        };
        if let Some(slot) = body.pointer_mut(pointer) {
            *slot = Value::String(placeholder(hint));
        }
    }
    let Value::Object(body) = body else {
        unreachable!("built as an object")
    };
    Ok((body, Some(from)))
}

/// The `{{base64:<file>}}` placeholders of a body: JSON pointer, file, and whether the string is
/// the placeholder alone (not after a `data:` prefix).
fn placeholders(value: &Value) -> Vec<(String, String, bool)> {
    fn walk(value: &Value, pointer: &str, out: &mut Vec<(String, String, bool)>) {
        match value {
            Value::String(s) => {
                for file in placeholders_in(s) {
                    let alone = *s == placeholder(&file);
                    out.push((pointer.to_owned(), file, alone));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{pointer}/{i}"), out);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    walk(v, &format!("{pointer}/{key}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}

/// Takes the binary input out of the recorded body: the SDK's entry method puts it at `sdk` (the
/// typed input holds an empty string there). Returns the file and, when the recording had it one
/// level deeper (`{"inputs": {"image": …}}` for `/inputs`), the move.
fn take_binary(
    body: &mut Value,
    sdk: Option<&'static str>,
    method: &str,
) -> Result<(Option<String>, Option<Moved>), String> {
    let found = placeholders(body);
    let Some(sdk) = sdk else {
        return match found.first() {
            None => Ok((None, None)),
            Some((pointer, file, _)) => Err(format!(
                "the recorded body has the file {file} at {pointer}, but `{method}` takes no \
                 binary input"
            )),
        };
    };
    let [(pointer, file, alone)] = found.as_slice() else {
        return Err(format!(
            "`{method}` takes one binary input (at {sdk}); the recorded body has {} file \
             placeholders",
            found.len()
        ));
    };
    if !alone {
        return Err(format!(
            "the recorded body has the file {file} at {pointer} inside a longer string (a data: \
             URL?), not as plain base64"
        ));
    }
    let moved = if pointer == sdk {
        None
    } else {
        // One level deeper, alone in its object: `{"inputs": {"image": <file>}}` for `/inputs`.
        let wrapper_alone = pointer
            .strip_prefix(sdk)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|key| !key.contains('/'))
            && body
                .pointer(sdk)
                .and_then(Value::as_object)
                .is_some_and(|o| o.len() == 1);
        if !wrapper_alone {
            return Err(format!(
                "the recorded body has the file {file} at {pointer}; `{method}` sends it at {sdk}"
            ));
        }
        Some(Moved {
            recorded: pointer.clone(),
            sent: sdk,
        })
    };
    match body.pointer_mut(sdk) {
        Some(slot) => *slot = Value::String(String::new()),
        None => return Err(format!("no {sdk} in the recorded body")),
    }
    Ok((Some(file.clone()), moved))
}

/// The Hub model id in an hf-inference URL: `…/models/<id>[/pipeline/<task>]` or
/// `…/pipeline/<task>/<id>`.
fn hf_inference_model(url: &str, task: &str) -> Option<String> {
    let path = url::Url::parse(url).ok()?.path().to_owned();
    let pipeline = format!("/pipeline/{task}/");
    let id = if let Some((_, rest)) = path.split_once(&pipeline) {
        rest.to_owned()
    } else {
        let (_, rest) = path.split_once("/models/")?;
        let suffix = format!("/pipeline/{task}");
        rest.strip_suffix(&suffix).unwrap_or(rest).to_owned()
    };
    let id = id.trim_end_matches('/');
    (!id.is_empty()).then(|| id.to_owned())
}

/// The keys of `all` (a JSON object) that `known` (its typed round trip) lacks.
fn unknown_keys(all: &Map<String, Value>, known: &Map<String, Value>) -> Map<String, Value> {
    all.iter()
        .filter(|(k, _)| !known.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Derives the SDK call from a tape. `Err(Ok(reason))`: the tape cannot be replayed by this SDK
/// (not applicable); `Err(Err(reason))`: the tape lacks something it should have (a failure).
fn derive_call(tape: &Tape, group: &[&Tape]) -> Result<Call, Result<String, String>> {
    let kind = Kind::of(&tape.task).ok_or_else(|| Ok(format!("task `{}`", tape.task)))?;
    let provider: Provider = tape.provider.parse().map_err(|_| {
        Ok(format!(
            "provider `{}` is not in the SDK's provider table (specs/providers.toml)",
            tape.provider
        ))
    })?;
    let spec = task_spec(provider, kind.task()).ok_or_else(|| {
        Ok(format!(
            "the SDK's provider table has no `{}` for provider `{provider}`",
            tape.task
        ))
    })?;
    let final_spec = tape.in_final_spec;
    let (body, borrowed) = body_object(tape, group)?;

    // The binary input: its file, and an empty string where the typed input holds it.
    let mut body = Value::Object(body);
    let sdk_pointer = with_task!(kind, T => T::BINARY);
    let (file, moved) = take_binary(&mut body, sdk_pointer, &kind.method()).map_err(Err)?;
    if let Some(f) = &file
        && !inputs_dir().join(f).is_file()
    {
        return Err(Ok(format!(
            "the input file {f} is not in {} (the conformance README: not shipped when larger \
             than 1 MiB)",
            inputs_dir().display()
        )));
    }
    let Value::Object(body) = body else {
        unreachable!("built as an object")
    };

    // The model: the mapping the JS test used, else the id in the recorded URL or body.
    let mapping = tape
        .test
        .provider_mapping
        .as_ref()
        .filter(|m| m.provider == tape.provider);
    let url_model = || {
        tape.provenance
            .recorded_url
            .as_deref()
            .and_then(|u| hf_inference_model(u, &tape.task))
            .or_else(|| hf_inference_model(&tape.request.url, &tape.task))
    };
    let body_model = body.get("model").and_then(Value::as_str).map(str::to_owned);
    let (model, provider_model_id, via_hub) = match mapping {
        Some(m) => (
            m.hf_model_id.clone(),
            m.provider_model_id.clone(),
            final_spec
                && m.source
                    .as_deref()
                    .is_some_and(|s| s.contains("Hub lookup")),
        ),
        None => {
            let model = match provider {
                Provider::HfInference => url_model().or(body_model),
                _ => body_model,
            }
            .ok_or_else(|| {
                Err("no model: no provider mapping, no model in the URL or body".to_owned())
            })?;
            (model.clone(), model, false)
        }
    };
    let pin = provider.spec().hub_mapping.then_some(Pin {
        provider_model_id,
        via_hub,
    });

    // The typed input, in the schema's shape, and what the wire body has besides.
    let (input, unknown_root, unknown_params) = match spec.payload {
        PayloadStyle::HfInference | PayloadStyle::HfInferenceBinary => {
            let inputs = body
                .get("inputs")
                .cloned()
                .ok_or_else(|| Err("no `inputs` in the recorded body".to_owned()))?;
            let params = match body.get("parameters") {
                Some(Value::Object(p)) => Some(p.clone()),
                Some(other) => {
                    return Err(Err(format!("`parameters` is not an object: {other}")));
                }
                None => None,
            };
            let mut input = Map::new();
            input.insert("inputs".into(), inputs);
            if let Some(p) = &params {
                input.insert("parameters".into(), Value::Object(p.clone()));
            }
            let root: Map<String, Value> = body
                .iter()
                .filter(|(k, _)| *k != "inputs" && *k != "parameters")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (input, root, params.unwrap_or_default())
        }
        PayloadStyle::HfInferenceFlat | PayloadStyle::OpenAiEmbeddings => {
            let mut input = body.clone();
            if spec.payload == PayloadStyle::OpenAiEmbeddings {
                // `{"input", …params, "model"}`: `model` is the provider id the SDK adds.
                input.remove("model");
                if let Some(text) = input.remove("input") {
                    input.insert("inputs".into(), text);
                }
            }
            if !input.contains_key("inputs") {
                return Err(Err("no input text in the recorded body".to_owned()));
            }
            (input, Map::new(), Map::new())
        }
        other => {
            return Err(Ok(format!(
                "`{provider}` `{}` uses the `{other:?}` payload, which the generic engine does \
                 not speak (the SDK returns Error::NotImplemented)",
                tape.task
            )));
        }
    };

    // Read it as the typed input; a list where one text is expected is a batch.
    let mut input = Value::Object(input);
    let mut batch = None;
    let known = match with_task!(kind, T => typed_roundtrip::<T>(&input)) {
        Ok(known) => known,
        Err(first) => {
            let Some(Value::Array(items)) = input.get("inputs").cloned() else {
                return Err(Err(format!(
                    "the recorded body is not a `{}` input: {first}",
                    kind.method()
                )));
            };
            let Some(head) = items.first().cloned() else {
                return Err(Err("an empty list of inputs".to_owned()));
            };
            input["inputs"] = head;
            let known = with_task!(kind, T => typed_roundtrip::<T>(&input)).map_err(|_| {
                Err(format!(
                    "the recorded body is not a `{}` input: {first}",
                    kind.method()
                ))
            })?;
            batch = Some(items.len());
            known
        }
    };
    let Value::Object(known) = known else {
        return Err(Err("the typed input is not an object".to_owned()));
    };

    // What the typed input does not name.
    let (unknown_root, unknown_params) = match spec.payload {
        PayloadStyle::HfInference | PayloadStyle::HfInferenceBinary => {
            let known_params = match known.get("parameters") {
                Some(Value::Object(p)) => p.clone(),
                _ => Map::new(),
            };
            (unknown_root, unknown_keys(&unknown_params, &known_params))
        }
        _ => {
            let Value::Object(all) = &input else {
                unreachable!("built as an object")
            };
            (unknown_keys(all, &known), Map::new())
        }
    };
    // The typed input keeps only what it names. Recorded parameters it names none of read as
    // an empty parameters object, which the setters (rightly) never create: drop it, the
    // parameters travel in `extra_body`.
    let mut known = known;
    if !unknown_params.is_empty()
        && known
            .get("parameters")
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
    {
        known.remove("parameters");
    }
    let input = Value::Object(known);
    // Unknown parameters are parameters the schema does not name (summarization's
    // `max_length`): sent in `extra_body` for every tape. Unknown top-level keys are sent for
    // final-spec tapes, and left out of legacy ones (obsolete JS-client fields: `options`, a
    // body `model`).
    let mut extra_body = Map::new();
    let mut dropped = Vec::new();
    for (key, value) in unknown_root {
        if final_spec {
            extra_body.insert(key, value);
        } else {
            dropped.push(key);
        }
    }
    if !unknown_params.is_empty() {
        extra_body.insert("parameters".into(), Value::Object(unknown_params));
    }
    if batch.is_some() {
        // The only way to send a list through the typed API: `extra_body` replaces `inputs`.
        let wire_key = match spec.payload {
            PayloadStyle::OpenAiEmbeddings => "input",
            _ => "inputs",
        };
        let list = body.get(wire_key).cloned().unwrap_or(Value::Null);
        extra_body.insert(wire_key.into(), list);
    }

    Ok(Call {
        kind,
        provider,
        model,
        pin,
        hf_token: tape.is_routed(),
        input,
        extra_body,
        batch,
        dropped,
        file,
        moved,
        borrowed,
    })
}

/// A client pointed at the replay server for `call`.
fn client_for(call: &Call, server: &ReplayServer) -> Result<InferenceClient, String> {
    let mut builder = loopback_builder(call.token(), server).timeout(Duration::from_secs(30));
    builder = provider_hosts_on(builder, call.provider, server);
    if let Some(Pin {
        provider_model_id,
        via_hub: false,
    }) = &call.pin
    {
        builder = builder.model_mapping(call.model.clone(), call.provider, provider_model_id);
    }
    if call.provider == Provider::HfInference {
        builder = builder.model_mapping(call.model.clone(), call.provider, call.model.clone());
    }
    builder.build().map_err(|e| format!("client: {e}"))
}

/// What the SDK returned.
enum Outcome {
    Json(Value),
    /// A file answer.
    File(Blob),
    Failed(Error),
    /// The call could not be built (a bug of this test or of the generated setters).
    Invalid(String),
}

impl Outcome {
    fn describe(&self) -> String {
        match self {
            Outcome::Json(v) => format!("JSON {}", expect::show(v)),
            Outcome::File(blob) => format!("{blob:?}"),
            Outcome::Failed(e) => format!("the error `{e}`"),
            Outcome::Invalid(why) => format!("no call: {why}"),
        }
    }
}

/// Builds the typed request through the generated API and sends it.
async fn run_typed<T: TypedTask>(call: &Call, client: &InferenceClient) -> Outcome {
    let input: T::Input = match serde_json::from_value(call.input.clone()) {
        Ok(i) => i,
        Err(e) => return Outcome::Invalid(format!("typed input: {e}")),
    };
    let file = call
        .file
        .as_ref()
        .map(|f| BinaryInput::from_path(inputs_dir().join(f)));
    if T::BINARY.is_some() != file.is_some() {
        return Outcome::Invalid(format!(
            "`{}` takes {} binary input; the call has {}",
            call.kind.method(),
            if T::BINARY.is_some() { "a" } else { "no" },
            call.file.as_deref().unwrap_or("none")
        ));
    }
    let mut request = T::request(client, input.clone(), file);
    if request.input() != &input {
        return Outcome::Invalid(format!(
            "the generated entry method and setters built {:?}, not the recorded input {:?}",
            request.input(),
            input
        ));
    }
    request = request.model(call.model.clone()).provider(call.provider);
    if !call.extra_body.is_empty() {
        request = request.extra_body(Value::Object(call.extra_body.clone()));
    }
    match request.send().await {
        Ok(out) => out.into_outcome(),
        Err(e) => Outcome::Failed(e),
    }
}

async fn run(call: &Call, client: &InferenceClient) -> Outcome {
    with_task!(call.kind, T => run_typed::<T>(call, client).await)
}

// ---------------------------------------------------------------------------------------------
// Response checks

/// JSON equality of the round trips: numbers within 1e-6 (the SDK keeps embeddings as `f32`).
const SAME_JSON: SameJson = SameJson {
    tolerance: 1e-6,
    expected: "recorded",
};

/// The recorded body and the SDK's result in the same shape. The engine reads one object where
/// the schema says a list (question answering) as a one-element list, and a one-element list
/// where it says an object (summarization, translation) as its element; the note says which.
fn aligned<'a>(
    recorded: &'a Value,
    ours: &'a Value,
) -> (&'a Value, &'a Value, Option<&'static str>) {
    match (recorded, ours) {
        (Value::Object(_), Value::Array(items)) if items.len() == 1 => (
            recorded,
            &items[0],
            Some("one recorded object, a one-element list in the SDK"),
        ),
        (Value::Array(items), Value::Object(_)) if items.len() == 1 => (
            &items[0],
            ours,
            Some("a recorded one-element list, its element in the SDK"),
        ),
        _ => (recorded, ours, None),
    }
}

/// The value the JS client's call returned, rebuilt from the SDK's result, for `test.expected`.
///
/// The JS client returns what the server sent, except that it unwraps a one-element list into
/// its element for summarization and translation (`res[0]`) — which the SDK's typed outputs
/// (one object) already are. The one other difference is question answering: on one question
/// the server answers one object, which the JS client returns as is, while the SDK's
/// `QuestionAnsweringOutput` is a list (the schema's type, read leniently from one object);
/// the JS value is then the list's only element. Document and visual question answering
/// return the first answer of the list (`res[0]`, [`Kind::js_returns_first`]), the SDK the list.
fn js_view(kind: Kind, recorded: &Value, ours: &Value) -> Value {
    match (recorded, ours) {
        (Value::Object(_), Value::Array(items)) if items.len() == 1 => items[0].clone(),
        (_, Value::Array(items)) if kind.js_returns_first() => {
            items.first().cloned().unwrap_or(Value::Null)
        }
        _ => ours.clone(),
    }
}

/// Checks what the SDK returned against the recorded response and `test.expected`. `Ok` says
/// what was checked.
fn check_response(tape: &Tape, call: &Call, outcome: &Outcome) -> Result<String, String> {
    let response = &tape.response;
    let status = response.status;
    if let Outcome::Invalid(why) = outcome {
        return Err(format!("the call could not be built: {why}"));
    }
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

    if let Outcome::File(blob) = outcome {
        return check_file(tape, blob);
    }
    let recorded = response
        .body_json
        .as_ref()
        .ok_or("the recorded response has no JSON body")?;
    if let Some(count) = call.batch {
        // One answer per input: the typed output (one object) cannot hold it. The SDK must
        // refuse it, not keep the first translation silently.
        let answers = recorded.as_array().map_or(1, Vec::len);
        return match outcome {
            Outcome::Failed(Error::Decode { target, .. }) if answers > 1 => Ok(format!(
                "the {answers}-element answer to {count} inputs is refused with Error::Decode \
                 (`{target}` holds one result), not truncated"
            )),
            other => Err(format!(
                "a {answers}-element answer to a batch of {count}: expected Error::Decode, got {}",
                other.describe()
            )),
        };
    }
    let value = match outcome {
        Outcome::Json(v) => v,
        other => return Err(format!("the call failed: {}", other.describe())),
    };
    let type_name = with_task!(call.kind, T => std::any::type_name::<<T as TypedTask>::Output>())
        .rsplit("::")
        .next()
        .unwrap_or_default();
    let mut checked = Vec::new();
    let (want, got, note) = aligned(recorded, value);
    SAME_JSON
        .check(want, got, "$")
        .map_err(|e| format!("{type_name} differs from the recorded body: {e}"))?;
    checked.push(match note {
        Some(note) => format!("{type_name} equals the recorded body ({note})"),
        None => format!("{type_name} equals the recorded body"),
    });

    if let Some(expected) = &tape.test.expected {
        let expectation = Expectation::parse(expected)?;
        let js = js_view(call.kind, recorded, value);
        expectation
            .check(Actual::Json(&js))
            .map_err(|e| format!("test.expected: {e}"))?;
        checked.push(format!("test.expected `{}` holds", expectation.kind()));
    }
    Ok(checked.join("; "))
}

/// A file answer: exactly the bytes served (the recorded body, or the placeholder of the recorded
/// type when the recorder kept none), with the recorded content type; `test.expected` on the
/// bytes.
fn check_file(tape: &Tape, blob: &Blob) -> Result<String, String> {
    let response = &tape.response;
    let recorded_type = response.content_type();
    let (served, what) = match response.body_bytes() {
        Some(bytes) => (bytes, "the recorded bytes"),
        None => (
            placeholder_bytes(recorded_type),
            "the bytes served (the recorder kept none)",
        ),
    };
    if blob.bytes().as_ref() != served.as_slice() {
        return Err(format!(
            "the Blob holds {} bytes, not {what} ({} bytes)",
            blob.bytes().len(),
            served.len()
        ));
    }
    if blob.content_type() != recorded_type {
        return Err(format!(
            "the Blob's content type is {:?}, the answer's {recorded_type:?}",
            blob.content_type()
        ));
    }
    let mut checked = vec![format!(
        "a Blob of {what} ({} bytes, {})",
        served.len(),
        recorded_type.unwrap_or("no content type")
    )];
    if let Some(expected) = &tape.test.expected {
        let expectation = Expectation::parse(expected)?;
        expectation
            .check(Actual::Bytes(blob.bytes()))
            .map_err(|e| format!("test.expected: {e}"))?;
        checked.push(format!("test.expected `{}` holds", expectation.kind()));
    }
    Ok(checked.join("; "))
}

// ---------------------------------------------------------------------------------------------
// Request checks

/// The headers the JS client set explicitly, compared with what the SDK sent: `Content-Type` by
/// media type, others exactly; a header of [`HEADER_DIFFERENCES`] not sent is deliberate.
fn check_headers(tape: &Tape, sent: &RecordedRequest, deliberate: &mut Vec<String>) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, value) in &tape.request.headers {
        match sent.header(name) {
            None => match HEADER_DIFFERENCES
                .iter()
                .find(|d| d.name.eq_ignore_ascii_case(name))
            {
                Some(d) => deliberate.push(d.reason.to_owned()),
                None => problems.push(format!("header {name}: expected {value:?}, not sent")),
            },
            Some(actual) if name.eq_ignore_ascii_case("content-type") => {
                if media_type(actual) != media_type(value) {
                    problems.push(format!("header {name}: expected {value:?}, got {actual:?}"));
                }
            }
            Some(actual) if actual != value => {
                problems.push(format!("header {name}: expected {value:?}, got {actual:?}"))
            }
            Some(_) => {}
        }
    }
    problems
}

/// The `Content-Type` of a binary body: the Blob type the JS client gave fetch
/// (`request.body_content_type`), compared by media type (parameters aside, whitespace not
/// squeezed); a rule of [`CONTENT_TYPE_DIFFERENCES`] explaining the difference is deliberate.
fn check_body_content_type(
    tape: &Tape,
    sent: &RecordedRequest,
    deliberate: &mut Vec<String>,
) -> Vec<String> {
    let req = &tape.request;
    let explicit = req
        .headers
        .keys()
        .any(|k| k.eq_ignore_ascii_case("content-type"));
    let (BodyKind::Binary, Some(recorded), false) =
        (&req.body_kind, &req.body_content_type, explicit)
    else {
        return Vec::new();
    };
    match sent.header("content-type") {
        None => vec![format!(
            "Content-Type: the JS client sent its Blob as {recorded:?}, the SDK sent none"
        )],
        Some(actual) if essence(actual) == essence(recorded) => Vec::new(),
        Some(actual) => match CONTENT_TYPE_DIFFERENCES
            .iter()
            .find(|d| (d.applies)(recorded, actual))
        {
            Some(d) => {
                deliberate.push((d.reason)(recorded, actual));
                Vec::new()
            }
            None => vec![format!(
                "Content-Type: recorded {recorded:?}, sent {actual:?}"
            )],
        },
    }
}

/// The recorded JSON body, placeholders replaced by the base64 of their files, with the binary
/// input where the SDK puts it when the recording had it deeper ([`Moved`]).
fn recorded_json(tape: &Tape, call: &Call) -> Result<Option<Value>, String> {
    let mut body = match tape.expected_body() {
        Ok(ExpectedBody::Json(body)) => body,
        Ok(_) => return Ok(None),
        Err(e) => return Err(format!("body: {e}")),
    };
    if let Some(moved) = &call.moved {
        let value = body
            .pointer(&moved.recorded)
            .cloned()
            .ok_or_else(|| format!("body: nothing at {}", moved.recorded))?;
        match body.pointer_mut(moved.sent) {
            Some(slot) => *slot = value,
            None => return Err(format!("body: nothing at {}", moved.sent)),
        }
    }
    Ok(Some(body))
}

/// A binary body compared byte for byte with the input file the JS client sent.
fn binary_body_problem(tape: &Tape, sent: &RecordedRequest) -> Option<String> {
    if tape.request.body_kind != BodyKind::Binary {
        return None;
    }
    match tape.expected_body() {
        Ok(ExpectedBody::Bytes(bytes)) if bytes.as_slice() == sent.body.as_ref() => None,
        Ok(ExpectedBody::Bytes(bytes)) => {
            let shown = match std::str::from_utf8(&sent.body) {
                Ok(text) => format!("{:?}", text.chars().take(80).collect::<String>()),
                Err(_) => "binary".to_owned(),
            };
            Some(format!(
                "body: recorded the {} bytes of {}, sent {} bytes ({shown})",
                bytes.len(),
                tape.request.body_file.as_deref().unwrap_or("the input"),
                sent.body.len()
            ))
        }
        Ok(_) => None,
        Err(e) => Some(format!("body: {e}")),
    }
}

/// Compares the inference request the SDK sent with the recording.
fn check_request(tape: &Tape, call: &Call, sent: &RecordedRequest) -> RequestCheck {
    let mut problems = Vec::new();
    let mut deliberate = Vec::new();
    if let Some(count) = call.batch {
        deliberate.push(batch_reason(call.kind, count));
    }
    let matched = sent.matched.as_deref() == Some(tape.file_name.as_str());
    // Byte for byte, whether or not the server matched it on its digest.
    problems.extend(binary_body_problem(tape, sent));
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
        let recorded_path = percent_decode(&tape.path().unwrap_or_default());
        let sent_path = percent_decode(&sent.path);
        if sent_path != recorded_path {
            match PATH_DIFFERENCES
                .iter()
                .find(|d| (d.applies)(tape, &recorded_path, &sent_path))
            {
                Some(d) => deliberate.push(d.reason.to_owned()),
                None => problems.push(format!("path: recorded {recorded_path}, sent {sent_path}")),
            }
        }
        if query_pairs(sent.query.as_deref(), &[]) != query_pairs(tape.query().as_deref(), &[]) {
            problems.push(format!(
                "query: recorded {:?}, sent {:?}",
                tape.query(),
                sent.query
            ));
        }
        match (recorded_json(tape, call), sent.json()) {
            (Ok(Some(recorded)), Some(body)) => {
                let diff = json_diff(&recorded, &body, 8);
                if diff.is_empty() && call.moved.is_some() {
                    deliberate.push(LAYOUT_REASON.to_owned());
                }
                problems.extend(diff.into_iter().map(|d| format!("body {d}")));
            }
            (Ok(Some(recorded)), None) => problems.push(format!(
                "body: recorded {}, sent {} non-JSON bytes",
                expect::show(&recorded),
                sent.body.len()
            )),
            (Ok(None), _) => {}
            (Err(e), _) => problems.push(e),
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
    problems.extend(check_headers(tape, sent, &mut deliberate));
    problems.extend(check_body_content_type(tape, sent, &mut deliberate));
    problems.extend(auth_problem(tape, call.token(), sent));
    RequestCheck::new(problems, deliberate)
}

/// How the legacy recording's URL differs from today's route, for the `N/A` line.
fn legacy_url_note(tape: &Tape, sent: &RecordedRequest) -> String {
    let recorded = tape
        .provenance
        .recorded_url
        .clone()
        .unwrap_or_else(|| tape.request.url.clone());
    let recorded_path = url::Url::parse(&recorded)
        .map(|u| u.path().to_owned())
        .unwrap_or_default();
    if tape.host().as_deref() == Some(sent.host.as_str())
        && percent_decode(&recorded_path) == percent_decode(&sent.path)
        && tape.provenance.recorded_url.is_none()
    {
        String::new()
    } else {
        format!(
            "; recorded against {recorded}, the SDK calls https://{}{} (today's route)",
            sent.host, sent.path
        )
    }
}

/// Replays one tape; `group` holds the tapes of its test.
async fn replay(tape: &Tape, group: &[&Tape]) -> Verdict {
    let call = match derive_call(tape, group) {
        Ok(call) => call,
        Err(Ok(reason)) => return Verdict::NotApplicable(reason),
        Err(Err(reason)) => return Verdict::Fail(format!("cannot derive the call: {reason}")),
    };
    let via_hub = matches!(&call.pin, Some(Pin { via_hub: true, .. }));

    // The server answers only a request that matches the recording; the answer is checked
    // whatever the request.
    let attempt = async |server: &ReplayServer| {
        let client = client_for(&call, server)?;
        match run(&call, &client).await {
            Outcome::Invalid(why) => Err(format!("the call could not be built: {why}")),
            outcome => Ok(outcome),
        }
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
        let batch = call
            .batch
            .map(|n| format!("; {}", batch_reason(call.kind, n)))
            .unwrap_or_default();
        let borrowed = call
            .borrowed
            .as_ref()
            .map(|from| {
                format!(
                    "; its body was not recorded: the call's inputs are those of {from} (same \
                     test){}",
                    call.file
                        .as_ref()
                        .map(|f| format!(", with {f}"))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default();
        return Verdict::NotApplicable(format!(
            "not applicable (request): legacy tape (in_final_spec: false), recorded by an older \
             JS client{dropped}{}{batch}{borrowed}; response parsing only: {checked}",
            legacy_url_note(tape, &sent)
        ));
    }
    if !deliberate.is_empty() {
        return Verdict::NotApplicable(format!(
            "not applicable (request): {}; the rest of the request matches; response: {checked}",
            deliberate.join("; ")
        ));
    }
    Verdict::Pass(String::new())
}

#[tokio::test]
async fn replay_task_tapes() {
    let dir = tapes_dir();
    let tapes = Tape::load_dir(&dir)
        .unwrap_or_else(|e| panic!("load the conformance tapes from {}: {e}", dir.display()));
    let groups = group_by_test(&tapes);

    let mut tally = Tally::default();
    let mut seen = BTreeSet::new();
    let mut per_kind: BTreeMap<Kind, usize> = BTreeMap::new();
    let mut elsewhere: BTreeMap<String, usize> = BTreeMap::new();
    for (name, group) in &groups {
        for &tape in group {
            let Some(kind) = Kind::of(&tape.task) else {
                continue;
            };
            if tape.is_inline() {
                continue;
            }
            // A tape listed under several tests is replayed once, under its own test.
            if &tape.test.name != name || !seen.insert(tape.file_name.clone()) {
                continue;
            }
            if !kind.replays(&tape.provider) {
                *elsewhere
                    .entry(format!("{} {}", tape.provider, tape.task))
                    .or_default() += 1;
                continue;
            }
            *per_kind.entry(kind).or_default() += 1;
            let verdict = replay(tape, group).await;
            tally.record(&tape.file_name, &verdict);
        }
    }
    let without: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| !per_kind.contains_key(k))
        .collect();
    for kind in &without {
        let reason = TASKS_WITHOUT_TAPES
            .iter()
            .find(|(k, _)| k == kind)
            .map_or("undocumented", |(_, why)| *why);
        println!(
            "no tape: {} ({reason}; covered on loopback by task_requests.rs)",
            kind.task()
        );
    }
    if !elsewhere.is_empty() {
        let list: Vec<String> = elsewhere.iter().map(|(k, n)| format!("{k} x{n}")).collect();
        println!(
            "not replayed here: {} tapes of provider-adapter pairs ({}; see \
             tests/tests/provider_*.rs)",
            elsewhere.values().sum::<usize>(),
            list.join(", ")
        );
    }
    println!("replay: {tally}");
    assert!(
        tally.total() > 0,
        "no tape of the generic-engine tasks in {}",
        dir.display()
    );
    let documented: Vec<Kind> = TASKS_WITHOUT_TAPES.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        without, documented,
        "the tasks without any tape must be exactly TASKS_WITHOUT_TAPES"
    );
    tally.assert_no_failures();
}

// ---------------------------------------------------------------------------------------------
// Tapes outside the task tapes

/// Tapes no replay test makes, with the reason. Every other tape is replayed: the task tapes
/// here ([`replay_task_tapes`]), the Hub API tapes here too ([`replay_hub_api_tapes`]), chat and
/// text generation by tests/tests/replay_chat.rs, the tabular tapes by
/// tests/tests/tabular_audio.rs, and the provider jobs and file downloads by
/// tests/tests/provider_*.rs ([`replayed_elsewhere`]).
const NOT_REPLAYED: &[(&str, &str)] = &[(
    "hf-inference__conversational__2f189a5a254e.json",
    "the legacy `conversational` task (2023: `{\"inputs\": {\"past_user_inputs\", \
     \"generated_responses\", \"text\"}}` answered with `{generated_text, conversation, \
     warnings}`, DialoGPT on api-inference) is gone from the Hub's task schemas, from the Python \
     reference 2.4.0 and from the JS client; chat is `chat_completion` (replay_chat.rs), so no \
     SDK call makes this request or reads this answer",
)];

/// The test file that replays the tapes of a task this file does not replay.
fn replayed_elsewhere(task: &str) -> Option<&'static str> {
    match task {
        "chat-completion" | "text-generation" => Some("tests/tests/replay_chat.rs"),
        "tabular-classification" | "tabular-regression" => Some("tests/tests/tabular_audio.rs"),
        "asset-download" => Some("tests/tests/provider_*.rs (with the job that made the file)"),
        "hub-api" => Some("replay_hub_api_tapes (this file)"),
        _ => None,
    }
}

/// Every tape is replayed somewhere or listed in [`NOT_REPLAYED`] with its reason.
#[test]
fn every_tape_is_replayed_or_listed() {
    let dir = tapes_dir();
    let tapes = Tape::load_dir(&dir)
        .unwrap_or_else(|e| panic!("load the conformance tapes from {}: {e}", dir.display()));
    let mut unaccounted = Vec::new();
    for tape in &tapes {
        if Kind::of(&tape.task).is_some() || replayed_elsewhere(&tape.task).is_some() {
            continue;
        }
        match NOT_REPLAYED
            .iter()
            .find(|(name, _)| *name == tape.file_name)
        {
            Some((name, why)) => println!("not replayed: {name}: {why}"),
            None => unaccounted.push(tape.file_name.clone()),
        }
    }
    for (name, _) in NOT_REPLAYED {
        assert!(
            tapes.iter().any(|t| &t.file_name == name),
            "NOT_REPLAYED lists {name}, which is not a tape"
        );
    }
    assert!(
        unaccounted.is_empty(),
        "tapes no test replays and NOT_REPLAYED does not list: {unaccounted:?}"
    );
}

/// The Hub's model-info tapes (`GET {hub}/api/models/{id}`, recorded by the 2023 JS client for
/// its hf-inference task check), replayed through the SDK's own use of that call: the
/// hf-inference model/task check of a task method. The recorded answer decides the call: the
/// task of its `pipeline_tag` goes on to the inference route (answered here with a made-up
/// result, the inference tape of that test being another file's), another task is refused with
/// `Error::TaskNotSupported` naming the recorded tag, before any inference request.
///
/// The request differs from the recording by design: the SDK asks as the Python reference's
/// `model_info` does (no query), the 2023 JS client added `?expand[]=pipeline_tag`; the server
/// ignores that parameter when matching, and the line says so.
#[tokio::test]
async fn replay_hub_api_tapes() {
    let dir = tapes_dir();
    let tapes = Tape::load_dir(&dir)
        .unwrap_or_else(|e| panic!("load the conformance tapes from {}: {e}", dir.display()));
    let hub_tapes: Vec<&Tape> = tapes.iter().filter(|t| t.task == "hub-api").collect();
    assert!(
        !hub_tapes.is_empty(),
        "no hub-api tape in {}",
        dir.display()
    );
    let mut tally = Tally::default();
    for tape in hub_tapes {
        let verdict = replay_hub_api(tape).await;
        tally.record(&tape.file_name, &verdict);
    }
    println!("hub-api replay: {tally}");
    tally.assert_no_failures();
}

async fn replay_hub_api(tape: &Tape) -> Verdict {
    let url = match url::Url::parse(&tape.request.url) {
        Ok(url) => url,
        Err(e) => return Verdict::Fail(format!("recorded URL: {e}")),
    };
    let Some(model) = url.path().strip_prefix("/api/models/").map(str::to_owned) else {
        return Verdict::Fail(format!("not a model-info call: {}", url.path()));
    };
    let Some(tag) = tape
        .response
        .body_json
        .as_ref()
        .and_then(|b| b.get("pipeline_tag"))
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return Verdict::Fail("the recorded answer has no pipeline_tag".into());
    };
    let ignored: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    let options = ignored.iter().fold(ReplayOptions::default(), |o, name| {
        o.ignore_query_param(name)
    });
    let start = || ReplayServer::start_with(vec![tape.clone()], options.clone());

    // The task of the recorded tag: the check passes and the call goes on.
    let server = match start() {
        Ok(server) => server,
        Err(e) => return Verdict::Fail(format!("replay server: {e}")),
    };
    let route = format!("/hf-inference/models/{model}/pipeline/{tag}");
    let client = match loopback_builder(fake_token(true), &server).build() {
        Ok(client) => client,
        Err(e) => return Verdict::Fail(format!("client: {e}")),
    };
    let outcome = match tag.as_str() {
        "feature-extraction" => {
            server.add_route(ROUTER_HOST, "POST", &route, 200, json!([0.25, -0.5, 1.0]));
            client
                .feature_extraction("That is a happy person")
                .model(&model)
                .provider(Provider::HfInference)
                .send()
                .await
                .map(|out| format!("{} values", out.shape().map_or(0, |s| s.iter().product())))
        }
        "sentence-similarity" => {
            server.add_route(ROUTER_HOST, "POST", &route, 200, json!([0.5, 0.75, 0.25]));
            client
                .sentence_similarity(SentenceSimilarityInputData::new(
                    vec!["That is a happy dog".into(), "Today is a sunny day".into()],
                    "That is a happy person",
                ))
                .model(&model)
                .provider(Provider::HfInference)
                .send()
                .await
                .map(|out| format!("{} scores", out.len()))
        }
        other => return Verdict::Fail(format!("no SDK call for the recorded tag `{other}`")),
    };
    if let Err(e) = outcome {
        return Verdict::Fail(format!("the {tag} call on the recorded answer failed: {e}"));
    }
    let requests = server.requests();
    let hub: Vec<_> = requests.iter().filter(|r| r.host == HUB_HOST).collect();
    if hub.len() != 1 || hub[0].path != url.path() || hub[0].query.is_some() {
        return Verdict::Fail(format!(
            "expected one GET {} without a query on the Hub, got {:?}",
            url.path(),
            hub.iter().map(|r| r.original_url()).collect::<Vec<_>>()
        ));
    }
    if !server.unserved_tapes().is_empty() || !server.unmatched().is_empty() {
        return Verdict::Fail(format!(
            "the tape was not served: unmatched {:?}",
            server
                .unmatched()
                .iter()
                .map(|r| r.original_url())
                .collect::<Vec<_>>()
        ));
    }
    let inference = requests.iter().filter(|r| r.host == ROUTER_HOST).count();
    if inference != 1 {
        return Verdict::Fail(format!("{inference} inference requests after the check"));
    }

    // Another task on the same recorded answer: refused, naming the tag, nothing sent after
    // the Hub.
    let server = match start() {
        Ok(server) => server,
        Err(e) => return Verdict::Fail(format!("replay server: {e}")),
    };
    let client = match loopback_builder(fake_token(true), &server).build() {
        Ok(client) => client,
        Err(e) => return Verdict::Fail(format!("client: {e}")),
    };
    let refused = client
        .text_classification("That is a happy person")
        .model(&model)
        .provider(Provider::HfInference)
        .send()
        .await;
    match refused {
        Err(Error::TaskNotSupported {
            supported,
            provider,
            ..
        }) if supported == [tag.clone()] && provider.as_deref() == Some("hf-inference") => {}
        other => {
            return Verdict::Fail(format!(
                "text-classification on a `{tag}` model: expected TaskNotSupported naming \
                 `{tag}`, got {other:?}"
            ));
        }
    }
    if server.requests().iter().any(|r| r.host != HUB_HOST) {
        return Verdict::Fail("a refused call reached the router".into());
    }
    Verdict::NotApplicable(format!(
        "not applicable (request): legacy tape (in_final_spec: false); the SDK asks \
         `GET {}` as the Python reference's model_info does, the 2023 JS client added `?{}`; \
         the recorded answer (pipeline_tag `{tag}`) lets {tag} through to the inference route \
         and refuses text-classification with Error::TaskNotSupported naming `{tag}`",
        url.path(),
        url.query().unwrap_or_default()
    ))
}
