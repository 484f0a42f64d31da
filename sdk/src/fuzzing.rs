//! Entry points for the fuzz targets of `fuzz/` (feature `fuzzing`). Not part of the public
//! API: hidden from the documentation, exempt from semver, and absent without the feature.
//!
//! Each function takes arbitrary bytes and runs one decoder of the crate on them as a server's
//! answer would reach it. Every outcome is acceptable except a panic, a hang or an unbounded
//! allocation, which the fuzzer reports; errors are dropped.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use serde_json::{Map, Value, json};

use crate::client::{InferenceClient, ProviderChoice};
use crate::http::sse::{SseDecoder, json_event_stream};
use crate::http::transport::PreparedRequest;
use crate::providers::jobs::JobOptions;
use crate::providers::{Provider, ResponseStyle, Task, adapter};
use crate::routing::CallOptions;
use crate::tasks::generic::{decode_feature_extraction, decode_file, decode_json};
use crate::types;
use crate::types::embedding_reader::EmbeddingsReader;

/// Splits `data` into chunks whose sizes come from the data itself (so that the fuzzer explores
/// how an answer is cut into network reads): the first byte is a chunk length seed.
fn chunks(data: &[u8]) -> Vec<Bytes> {
    let Some((&seed, rest)) = data.split_first() else {
        return Vec::new();
    };
    let size = usize::from(seed % 64) + 1;
    rest.chunks(size).map(Bytes::copy_from_slice).collect()
}

/// The SSE decoder on a body cut into chunks, then the typed event streams of chat completion
/// and text generation (with and without the `[DONE]` requirement) on the same body.
pub fn sse(data: &[u8]) {
    let parts = chunks(data);
    let mut decoder = SseDecoder::new();
    let mut total = 0usize;
    for part in &parts {
        for event in decoder.feed(part) {
            total += event.data.len();
        }
    }
    decoder.finish();
    // Events never hold more data than the input carried (plus the `\n` joining data lines).
    assert!(
        total <= data.len() * 2,
        "{total} bytes of events from {}",
        data.len()
    );

    fn drain<T: serde::de::DeserializeOwned>(parts: &[Bytes], require_done: bool) {
        let body = futures_util::stream::iter(
            parts
                .iter()
                .cloned()
                .map(Ok::<Bytes, reqwest::Error>)
                .collect::<Vec<_>>(),
        );
        let mut stream = Box::pin(json_event_stream::<T, _>(body).require_done(require_done));
        // The body is always ready: every poll completes at once.
        while let Some(Some(_item)) = stream.next().now_or_never() {}
    }
    drain::<types::chat_completion::ChatCompletionStreamOutput>(&parts, true);
    drain::<types::text_generation::TextGenerationStreamOutput>(&parts, false);
}

/// Every task's answer decoder on `body`: the JSON tasks as the engine decodes a generic
/// answer and an OpenAI embeddings answer, the file tasks with and without a content type.
pub fn task_outputs(body: &[u8]) {
    let body = Bytes::copy_from_slice(body);
    macro_rules! json {
        ($($module:ident :: $ty:ident),* $(,)?) => {
            $(
                for style in [ResponseStyle::Json, ResponseStyle::OpenAiEmbeddings] {
                    let _ = decode_json::<types::$module::$ty>(body.clone(), None, style);
                }
            )*
        };
    }
    // Embeddings: the whole-body decoder, and the reader that decodes them as they arrive,
    // which must agree with it however the body is cut.
    for style in [ResponseStyle::Json, ResponseStyle::OpenAiEmbeddings] {
        let _ = decode_feature_extraction(body.clone(), None, style);
    }
    let whole = types::feature_extraction::FeatureExtractionOutput::from_json_slice(&body)
        .map_err(|e| e.to_string());
    let first_cut = body
        .first()
        .map_or(0, |&b| usize::from(b) % (body.len() + 1));
    for cuts in [vec![first_cut], vec![1, first_cut.max(1), body.len() / 2]] {
        let mut reader = EmbeddingsReader::default();
        let mut start = 0;
        for cut in cuts.into_iter().chain([body.len()]) {
            let cut = cut.clamp(start, body.len());
            reader.feed(body.slice(start..cut));
            start = cut;
        }
        let chunked = reader.finish().map_err(|(e, _)| e.to_string());
        assert_eq!(chunked, whole, "the chunked embeddings reader disagrees");
    }
    json!(
        audio_classification::AudioClassificationOutput,
        audio_to_audio::AudioToAudioOutput,
        automatic_speech_recognition::AutomaticSpeechRecognitionOutput,
        chat_completion::ChatCompletionOutput,
        document_question_answering::DocumentQuestionAnsweringOutput,
        feature_extraction::FeatureExtractionOutput,
        fill_mask::FillMaskOutput,
        image_classification::ImageClassificationOutput,
        image_segmentation::ImageSegmentationOutput,
        image_to_text::ImageToTextOutput,
        object_detection::ObjectDetectionOutput,
        question_answering::QuestionAnsweringOutput,
        sentence_similarity::SentenceSimilarityOutput,
        summarization::SummarizationOutput,
        table_question_answering::TableQuestionAnsweringOutput,
        tabular::TabularClassificationOutput,
        tabular::TabularRegressionOutput,
        text_classification::TextClassificationOutput,
        text_generation::TextGenerationOutput,
        token_classification::TokenClassificationOutput,
        translation::TranslationOutput,
        visual_question_answering::VisualQuestionAnsweringOutput,
        zero_shot_classification::ZeroShotClassificationOutput,
        zero_shot_image_classification::ZeroShotImageClassificationOutput,
    );
    for content_type in [
        None,
        Some("application/json"),
        Some("application/octet-stream"),
    ] {
        let _ = decode_file(
            body.clone(),
            content_type.map(str::to_owned),
            ResponseStyle::Bytes,
        );
    }
    // A base64 file in JSON, as several providers answer.
    if let Ok(text) = std::str::from_utf8(&body) {
        let _ = crate::binary::Blob::from_base64(text, None);
    }
}

/// The (provider, task) pairs whose answers are provider code.
fn adapter_pairs() -> &'static [(Provider, Task)] {
    static PAIRS: OnceLock<Vec<(Provider, Task)>> = OnceLock::new();
    PAIRS.get_or_init(|| {
        let mut pairs = Vec::new();
        for provider in Provider::ALL {
            for task in Task::ALL {
                if let Some(spec) = provider.spec().task(*task)
                    && adapter::handles(spec)
                    && adapter::implemented(*provider, *task)
                {
                    pairs.push((*provider, *task));
                }
            }
        }
        pairs
    })
}

/// A client that can reach nothing: every request goes to a proxy on a closed loopback port
/// and fails at once (a `data:` URL in an answer is still decoded), and jobs give up quickly.
fn offline() -> &'static (tokio::runtime::Runtime, InferenceClient) {
    static CLIENT: OnceLock<(tokio::runtime::Runtime, InferenceClient)> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let http = reqwest::Client::builder()
            .proxy(reqwest::Proxy::all("http://127.0.0.1:9").expect("proxy"))
            .build()
            .expect("http client");
        let mut builder = InferenceClient::builder()
            .token("hf_fuzzingToken000000000000000000")
            .http_client(http)
            .timeout(Duration::from_millis(200))
            .retry_policy(crate::http::retry::RetryPolicy::disabled())
            .check_model_task(false);
        for provider in Provider::ALL {
            builder = builder.model_mapping("fuzz/model", *provider, "provider/model");
        }
        (runtime, builder.build().expect("client"))
    })
}

/// One provider's handling of a first answer `body` (a JSON document): the job it starts
/// followed (polls fail at once: the client is offline), then the answer mapped to the task's
/// output. The first byte picks the (provider, task) pair among those with provider code.
pub fn provider_answer(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let pairs = adapter_pairs();
    let (provider, task) = pairs[usize::from(pick) % pairs.len()];
    let Ok(first) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let (runtime, client) = offline();
    runtime.block_on(async {
        let options = CallOptions {
            model: Some("fuzz/model".into()),
            provider: Some(ProviderChoice::Provider(provider)),
            ..CallOptions::default()
        };
        let Ok(target) = client.resolve(task, &options).await else {
            return;
        };
        let jobs = JobOptions {
            poll_interval: Some(Duration::from_millis(1)),
            on_status: None,
        };
        let mut input = Map::new();
        input.insert("inputs".into(), json!("a cat"));
        let call = adapter::Call {
            client,
            target: &target,
            task,
            input,
            binary: &[],
            jobs: &jobs,
        };
        let Ok(request) = PreparedRequest::json(client, &target, &json!({})) else {
            return;
        };
        if let Ok(answer) = adapter::after_first(&call, &request, first).await {
            let _ = answer.into_body();
        }
    });
}
