//! Replays every conformance tape of the JSON tasks on the generic engine (feature-extraction,
//! fill-mask, question-answering, sentence-similarity, summarization, table-question-answering,
//! text-classification, token-classification, translation, zero-shot-classification; every
//! provider) through the public SDK API, on loopback.
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
//! Checks:
//! - **request** (`in_final_spec: true` tapes): method, path, query, JSON body, the explicit
//!   headers and the auth scheme match the recording. A documented deliberate difference
//!   ([`PATH_DIFFERENCES`], [`HEADER_DIFFERENCES`], batch inputs) makes the tape `N/A` with its
//!   reason; the rest of the request is still compared and the response still checked. Legacy
//!   tapes (`in_final_spec: false`; many recorded against `api-inference.huggingface.co` or the
//!   `inference-proxy` path, whose URLs differ from today's route by design) are checked for
//!   response parsing only, and say so.
//! - **response**: the SDK's typed result, serialized back to JSON, equals the recorded body
//!   (modulo the lenient one-object / one-element-list reading, and `f32` embeddings within
//!   1e-6); `test.expected` holds on the value the JS client returned, rebuilt from the SDK's
//!   result (see [`js_view`]); error statuses come back as the matching typed error with the
//!   status and the server's message.
//!
//! Output: one `PASS` / `FAIL` / `N/A` line per tape, then `replay: N passed, N failed, N not
//! applicable`. The test fails if any tape failed. Tapes are read from `HF_INFERENCE_TAPES`
//! (default `../shared/conformance`).
//!
//! Run with `cargo test -p hf-inference-tests --test replay_tasks -- --nocapture`.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::time::Duration;

use hf_inference::error::Error;
use hf_inference::http::retry::RetryPolicy;
use hf_inference::providers::{PayloadStyle, Provider, Task, task_spec};
use hf_inference::tasks::generic::TaskRequest;
use hf_inference::types::feature_extraction::{FeatureExtractionInput, FeatureExtractionOutput};
use hf_inference::types::fill_mask::{FillMaskInput, FillMaskOutput};
use hf_inference::types::question_answering::{QuestionAnsweringInput, QuestionAnsweringOutput};
use hf_inference::types::sentence_similarity::{SentenceSimilarityInput, SentenceSimilarityOutput};
use hf_inference::types::summarization::{SummarizationInput, SummarizationOutput};
use hf_inference::types::table_question_answering::{
    TableQuestionAnsweringInput, TableQuestionAnsweringOutput,
};
use hf_inference::types::text_classification::{TextClassificationInput, TextClassificationOutput};
use hf_inference::types::token_classification::{
    TokenClassificationInput, TokenClassificationOutput,
};
use hf_inference::types::translation::{TranslationInput, TranslationOutput};
use hf_inference::types::zero_shot_classification::{
    ZeroShotClassificationInput, ZeroShotClassificationOutput,
};
use hf_inference::{InferenceClient, InferenceClientBuilder};
use hf_inference_tests::expect::{self, Actual, Expectation};
use hf_inference_tests::replay::{HUB_HOST, RecordedRequest, ReplayServer, json_diff};
use hf_inference_tests::tapes::{Tape, TapeResponse, group_by_test, tapes_dir};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A fake Hugging Face token (routed tapes). Never a real secret.
const FAKE_HF_TOKEN: &str = "hf_replayFakeToken00000000000000000";
/// A fake provider key (direct tapes). Never a real secret.
const FAKE_PROVIDER_KEY: &str = "replay-fake-provider-key-0000";
/// Host of the Hugging Face router.
const ROUTER_HOST: &str = "router.huggingface.co";

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    FeatureExtraction,
    FillMask,
    QuestionAnswering,
    SentenceSimilarity,
    Summarization,
    TableQuestionAnswering,
    TextClassification,
    TokenClassification,
    Translation,
    ZeroShotClassification,
}

impl Kind {
    const ALL: [Kind; 10] = [
        Kind::FeatureExtraction,
        Kind::FillMask,
        Kind::QuestionAnswering,
        Kind::SentenceSimilarity,
        Kind::Summarization,
        Kind::TableQuestionAnswering,
        Kind::TextClassification,
        Kind::TokenClassification,
        Kind::Translation,
        Kind::ZeroShotClassification,
    ];

    fn task(self) -> Task {
        match self {
            Kind::FeatureExtraction => Task::FeatureExtraction,
            Kind::FillMask => Task::FillMask,
            Kind::QuestionAnswering => Task::QuestionAnswering,
            Kind::SentenceSimilarity => Task::SentenceSimilarity,
            Kind::Summarization => Task::Summarization,
            Kind::TableQuestionAnswering => Task::TableQuestionAnswering,
            Kind::TextClassification => Task::TextClassification,
            Kind::TokenClassification => Task::TokenClassification,
            Kind::Translation => Task::Translation,
            Kind::ZeroShotClassification => Task::ZeroShotClassification,
        }
    }

    fn of(task: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.task().as_str() == task)
    }

    /// The SDK method of the task.
    fn method(self) -> String {
        self.task().as_str().replace('-', "_")
    }
}

/// How a task's typed input becomes an SDK request: the generated entry method, then one
/// generated setter per parameter that is set. The input is destructured exhaustively, so a new
/// schema field fails to compile here until it is covered.
trait TypedTask {
    type Input: DeserializeOwned + Serialize + PartialEq + Debug + Clone;
    type Output: DeserializeOwned + Serialize;
    fn request(
        client: &InferenceClient,
        input: Self::Input,
    ) -> TaskRequest<'_, Self::Input, Self::Output>;
}

struct FeatureExtraction;
impl TypedTask for FeatureExtraction {
    type Input = FeatureExtractionInput;
    type Output = FeatureExtractionOutput;
    fn request(
        c: &InferenceClient,
        input: Self::Input,
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

/// Runs `$body` with `$t` standing for the [`TypedTask`] of `$kind`.
macro_rules! with_task {
    ($kind:expr, $t:ident => $body:expr) => {
        match $kind {
            Kind::FeatureExtraction => {
                type $t = FeatureExtraction;
                $body
            }
            Kind::FillMask => {
                type $t = FillMask;
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
            Kind::TokenClassification => {
                type $t = TokenClassification;
                $body
            }
            Kind::Translation => {
                type $t = Translation;
                $body
            }
            Kind::ZeroShotClassification => {
                type $t = ZeroShotClassification;
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
}

impl Call {
    fn token(&self) -> &'static str {
        if self.hf_token {
            FAKE_HF_TOKEN
        } else {
            FAKE_PROVIDER_KEY
        }
    }
}

fn body_object(tape: &Tape) -> Map<String, Value> {
    match &tape.request.body_json {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    }
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
fn derive_call(tape: &Tape) -> Result<Call, Result<String, String>> {
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
    let body = body_object(tape);

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
        PayloadStyle::HfInference => {
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
        PayloadStyle::HfInference => {
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
    })
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .host_str()
        .map(str::to_ascii_lowercase)
}

/// A client pointed at the replay server for `call`.
fn client_for(call: &Call, server: &ReplayServer) -> Result<InferenceClient, String> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| format!("reqwest client: {e}"))?;
    let mut builder: InferenceClientBuilder = InferenceClient::builder()
        .token(call.token())
        .router_url(server.url_for_host(ROUTER_HOST))
        .hub_url(server.url_for_host(HUB_HOST))
        .retry_policy(RetryPolicy::disabled())
        .timeout(Duration::from_secs(30))
        .http_client(http);
    // Every direct host of the provider goes to the listener of that host, so a request to the
    // wrong host lands on a listener without the tape.
    for host in call.provider.spec().hosts {
        if let Some(name) = host_of(host.base_url) {
            builder =
                builder.provider_host_url(call.provider, host.name, server.url_for_host(&name));
        }
    }
    if let Some(Pin {
        provider_model_id,
        via_hub: false,
    }) = &call.pin
    {
        builder = builder.model_mapping(call.model.clone(), call.provider, provider_model_id);
    }
    builder.build().map_err(|e| format!("client: {e}"))
}

/// What the SDK returned.
enum Outcome {
    Json(Value),
    Failed(Error),
    /// The call could not be built (a bug of this test or of the generated setters).
    Invalid(String),
}

impl Outcome {
    fn describe(&self) -> String {
        match self {
            Outcome::Json(v) => format!("JSON {}", expect::show(v)),
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
    let mut request = T::request(client, input.clone());
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
        Ok(out) => match serde_json::to_value(&out) {
            Ok(v) => Outcome::Json(v),
            Err(e) => Outcome::Invalid(format!("cannot serialize the output: {e}")),
        },
        Err(e) => Outcome::Failed(e),
    }
}

async fn run(call: &Call, client: &InferenceClient) -> Outcome {
    with_task!(call.kind, T => run_typed::<T>(call, client).await)
}

// ---------------------------------------------------------------------------------------------
// Response checks

/// JSON equality for round trips: key order does not matter, a `null` member equals an absent
/// one, integers compare exactly and other numbers within 1e-6 (relative, at least absolute; the
/// SDK keeps embeddings as `f32`).
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
                    "at {path}: {} elements recorded, {} returned",
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
            let exact = match (e.as_i64(), a.as_i64(), e.as_u64(), a.as_u64()) {
                (Some(x), Some(y), _, _) => Some(x == y),
                (_, _, Some(x), Some(y)) => Some(x == y),
                _ => None,
            };
            let ok = exact.unwrap_or_else(|| match (e.as_f64(), a.as_f64()) {
                (Some(x), Some(y)) => (x - y).abs() <= 1e-6 * x.abs().max(y.abs()).max(1.0),
                _ => false,
            });
            if ok {
                Ok(())
            } else {
                Err(format!("at {path}: recorded {e}, returned {a}"))
            }
        }
        (e, a) if e == a => Ok(()),
        (e, a) => Err(format!(
            "at {path}: recorded {}, returned {}",
            expect::show(e),
            expect::show(a)
        )),
    }
}

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
/// the JS value is then the list's only element.
fn js_view(recorded: &Value, ours: &Value) -> Value {
    match (recorded, ours) {
        (Value::Object(_), Value::Array(items)) if items.len() == 1 => items[0].clone(),
        _ => ours.clone(),
    }
}

/// The message(s) a server put in an error body, as the recording has it.
fn server_messages(response: &TapeResponse) -> Vec<String> {
    let mut out = Vec::new();
    match &response.body_json {
        Some(Value::String(s)) => out.push(s.clone()),
        Some(Value::Object(map)) => {
            match map.get("error") {
                Some(Value::String(s)) => out.push(s.clone()),
                Some(Value::Object(e)) => {
                    if let Some(m) = e.get("message").and_then(Value::as_str) {
                        out.push(m.to_owned());
                    }
                }
                Some(Value::Array(items)) => {
                    out.extend(items.iter().filter_map(Value::as_str).map(str::to_owned))
                }
                _ => {}
            }
            if let Some(m) = map.get("message").and_then(Value::as_str) {
                out.push(m.to_owned());
            }
            match map.get("detail") {
                Some(Value::String(s)) => out.push(s.clone()),
                Some(Value::Array(items)) => out.extend(
                    items
                        .iter()
                        .filter_map(|i| i.get("msg").and_then(Value::as_str))
                        .map(str::to_owned),
                ),
                _ => {}
            }
        }
        _ => {
            if let Some(text) = &response.body_text {
                let text = text.trim();
                if !text.is_empty() && !text.starts_with('<') {
                    out.push(text.to_owned());
                }
            }
        }
    }
    out.retain(|m| !m.trim().is_empty());
    out
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
        let (variant_ok, variant) = match status {
            401 | 403 => (
                matches!(error, Error::Unauthorized(_)),
                "Error::Unauthorized",
            ),
            429 => (
                matches!(error, Error::RateLimited { .. }),
                "Error::RateLimited",
            ),
            _ => (matches!(error, Error::Http(_)), "Error::Http"),
        };
        if !variant_ok {
            return Err(format!(
                "recorded HTTP {status}: expected {variant}, got {error:?}"
            ));
        }
        if error.status() != Some(status) {
            return Err(format!(
                "recorded HTTP {status}: the error says status {:?}",
                error.status()
            ));
        }
        let got = error
            .http_context()
            .and_then(|c| c.server_message.clone())
            .unwrap_or_default();
        for message in server_messages(response) {
            if !got.contains(message.trim()) {
                return Err(format!(
                    "recorded HTTP {status} with the message {message:?}; the error's server \
                     message is {got:?}"
                ));
            }
        }
        return Ok(format!("{variant} {status} with the server's message"));
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
    same_json(want, got, "$")
        .map_err(|e| format!("{type_name} differs from the recorded body: {e}"))?;
    checked.push(match note {
        Some(note) => format!("{type_name} equals the recorded body ({note})"),
        None => format!("{type_name} equals the recorded body"),
    });

    if let Some(expected) = &tape.test.expected {
        let expectation = Expectation::parse(expected)?;
        let js = js_view(recorded, value);
        expectation
            .check(Actual::Json(&js))
            .map_err(|e| format!("test.expected: {e}"))?;
        checked.push(format!("test.expected `{}` holds", expectation.kind()));
    }
    Ok(checked.join("; "))
}

// ---------------------------------------------------------------------------------------------
// Request checks

/// The request-level result for a final-spec tape.
enum RequestCheck {
    Matched,
    Deliberate(Vec<String>),
    Mismatch(Vec<String>),
}

/// Decodes `%XX` escapes of a path (invalid escapes are kept verbatim).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    pairs.sort();
    pairs
}

/// The headers the JS client set explicitly, compared with what the SDK sent: `Content-Type` by
/// media type, others exactly; a header of [`HEADER_DIFFERENCES`] not sent is deliberate.
fn check_headers(tape: &Tape, sent: &RecordedRequest, deliberate: &mut Vec<String>) -> Vec<String> {
    let media_type = |v: &str| {
        v.split(';')
            .next()
            .unwrap_or_default()
            .replace(' ', "")
            .to_ascii_lowercase()
    };
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

/// Whether the SDK authenticated the way the JS client did (`provenance.auth_scheme`), with
/// the credential it was given. Header values are not printed.
fn auth_problem(tape: &Tape, call: &Call, sent: &RecordedRequest) -> Option<String> {
    let token = call.token();
    let scheme_of = |v: Option<&str>| match v {
        Some(v) => format!("`{}`", v.split(' ').next().unwrap_or_default()),
        None => "none".to_owned(),
    };
    match &tape.provenance.auth_scheme {
        Some(Some(scheme)) if scheme.eq_ignore_ascii_case("x-key") => (sent.header("x-key")
            != Some(token))
        .then(|| "auth: expected an `X-Key` header with the key".to_owned()),
        Some(Some(scheme)) => {
            let want = format!("{scheme} {token}");
            (sent.header("authorization") != Some(want.as_str())).then(|| {
                format!(
                    "auth: expected `Authorization: {scheme} <token>`, got {}",
                    scheme_of(sent.header("authorization"))
                )
            })
        }
        Some(None) => (sent.has_header("authorization") || sent.has_header("x-key"))
            .then(|| "auth: the JS client sent no credentials here, the SDK did".to_owned()),
        None => None,
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
        if query_pairs(sent.query.as_deref()) != query_pairs(tape.query().as_deref()) {
            problems.push(format!(
                "query: recorded {:?}, sent {:?}",
                tape.query(),
                sent.query
            ));
        }
        match (&tape.request.body_json, sent.json()) {
            (Some(recorded), Some(body)) => {
                problems.extend(
                    json_diff(recorded, &body, 8)
                        .into_iter()
                        .map(|d| format!("body {d}")),
                );
            }
            (Some(recorded), None) => problems.push(format!(
                "body: recorded {}, sent {} non-JSON bytes",
                expect::show(recorded),
                sent.body.len()
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
    problems.extend(check_headers(tape, sent, &mut deliberate));
    problems.extend(auth_problem(tape, call, sent));
    if !problems.is_empty() {
        RequestCheck::Mismatch(problems)
    } else if !deliberate.is_empty() {
        RequestCheck::Deliberate(deliberate)
    } else {
        RequestCheck::Matched
    }
}

fn is_hub_lookup(r: &RecordedRequest) -> bool {
    r.host == HUB_HOST && r.path.starts_with("/api/models/")
}

/// Serves the tape's response on the path the SDK used, whatever the body.
fn serve_regardless_of_body(server: &ReplayServer, tape: &Tape, sent: &RecordedRequest) {
    let response = &tape.response;
    let content_type = response
        .content_type()
        .map(str::to_owned)
        .unwrap_or_else(|| {
            if response.body_json.is_some() {
                "application/json".to_owned()
            } else {
                "text/plain".to_owned()
            }
        });
    server.add_raw_route(
        &sent.host,
        &sent.method,
        &sent.path_and_query(),
        response.status,
        &content_type,
        response.body_bytes().unwrap_or_default(),
    );
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

/// The verdict on one tape.
enum Verdict {
    Pass,
    Fail(String),
    NotApplicable(String),
}

/// Replays one tape.
async fn replay(tape: &Tape) -> Verdict {
    let call = match derive_call(tape) {
        Ok(call) => call,
        Err(Ok(reason)) => return Verdict::NotApplicable(reason),
        Err(Err(reason)) => return Verdict::Fail(format!("cannot derive the call: {reason}")),
    };
    let server = match ReplayServer::start([tape]) {
        Ok(s) => s,
        Err(e) => return Verdict::Fail(format!("cannot start the replay server: {e}")),
    };
    let via_hub = matches!(&call.pin, Some(Pin { via_hub: true, .. }));
    if via_hub {
        server.add_provider_mappings([tape]);
    }

    // First attempt: the server answers only a request that matches the recording.
    let client = match client_for(&call, &server) {
        Ok(c) => c,
        Err(e) => return Verdict::Fail(e),
    };
    let first = run(&call, &client).await;
    if let Outcome::Invalid(why) = &first {
        return Verdict::Fail(format!("the call could not be built: {why}"));
    }
    let (lookups, inference): (Vec<_>, Vec<_>) =
        server.requests().into_iter().partition(is_hub_lookup);
    let Some(sent) = inference.first().cloned() else {
        return Verdict::Fail(format!(
            "the SDK sent no inference request; it returned {}",
            first.describe()
        ));
    };

    let mut request_problems = Vec::new();
    if inference.len() > 1 {
        request_problems.push(format!(
            "{} inference requests sent, 1 recorded",
            inference.len()
        ));
    }
    if let Some(bad) = lookups.iter().find(|r| !r.is_matched()) {
        request_problems.push(format!(
            "unexpected Hub lookup {} {}",
            bad.method,
            bad.original_url()
        ));
    }
    if via_hub && lookups.is_empty() {
        request_problems.push("the mapping came from a Hub lookup, the SDK made none".into());
    }
    let mut deliberate = Vec::new();
    if tape.in_final_spec {
        match check_request(tape, &call, &sent) {
            RequestCheck::Matched => {}
            RequestCheck::Deliberate(reasons) => deliberate = reasons,
            RequestCheck::Mismatch(problems) => request_problems.extend(problems),
        }
    }

    // Response: when the tape did not answer, serve it on the SDK's path regardless of body.
    let outcome = if sent.matched.as_deref() == Some(tape.file_name.as_str()) {
        first
    } else {
        serve_regardless_of_body(&server, tape, &sent);
        server.clear_requests();
        let client = match client_for(&call, &server) {
            Ok(c) => c,
            Err(e) => return Verdict::Fail(e),
        };
        run(&call, &client).await
    };
    let response = check_response(tape, &call, &outcome);

    if !request_problems.is_empty() {
        return Verdict::Fail(format!(
            "request differs from the recording: {}; (response parsing: {})",
            request_problems.join("; "),
            match &response {
                Ok(_) => "OK".to_owned(),
                Err(e) => format!("FAILED: {e}"),
            }
        ));
    }
    let checked = match response {
        Ok(checked) => checked,
        Err(e) => return Verdict::Fail(format!("response: {e}")),
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
        return Verdict::NotApplicable(format!(
            "not applicable (request): legacy tape (in_final_spec: false), recorded by an older \
             JS client{dropped}{}{batch}; response parsing only: {checked}",
            legacy_url_note(tape, &sent)
        ));
    }
    if !deliberate.is_empty() {
        return Verdict::NotApplicable(format!(
            "not applicable (request): {}; the rest of the request matches; response: {checked}",
            deliberate.join("; ")
        ));
    }
    Verdict::Pass
}

#[tokio::test]
async fn replay_json_task_tapes() {
    let dir = tapes_dir();
    let tapes = Tape::load_dir(&dir)
        .unwrap_or_else(|e| panic!("load the conformance tapes from {}: {e}", dir.display()));
    let groups = group_by_test(&tapes);

    let (mut passed, mut failed, mut not_applicable) = (0, 0, 0);
    let mut failures = Vec::new();
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
            match replay(tape).await {
                Verdict::Pass => {
                    passed += 1;
                    println!("PASS {}", tape.file_name);
                }
                Verdict::Fail(why) => {
                    failed += 1;
                    println!("FAIL {}: {why}", tape.file_name);
                    failures.push(tape.file_name.clone());
                }
                Verdict::NotApplicable(why) => {
                    not_applicable += 1;
                    println!("N/A {}: {why}", tape.file_name);
                }
            }
        }
    }
    println!("replay: {passed} passed, {failed} failed, {not_applicable} not applicable");
    assert!(
        passed + failed + not_applicable > 0,
        "no tape of the JSON tasks in {}",
        dir.display()
    );
    assert!(failures.is_empty(), "failed tapes: {failures:?}");
}
