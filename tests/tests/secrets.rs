//! Where the credentials go, for every task on every provider of the table, routed and direct.
//!
//! Every host the client can reach is a [`FaultServer`] on loopback: the router, the Hub, one
//! server per provider (all its hosts), and a "foreign" server. Each of them answers every
//! request with the same hostile JSON: a job id and a status that keeps a job polling, and every
//! URL field the providers' job and file protocols read (`status_url`, `response_url`,
//! `urls.get`, `polling_url`, `output`, `data[].url`, `images[].url`, `video.url`,
//! `outputs.video_url`, …) pointing at the foreign server. So each call goes as far as its
//! provider's protocol takes it: polls, result fetches, file downloads, some of them to another
//! host, as a compromised or buggy provider could make it.
//!
//! Every call runs concurrently, with its own client and credential (the Hugging Face token for
//! routed calls, a key naming the provider for direct ones), and a call id header. Then every
//! request every server recorded is checked:
//! - a credential appears only in requests to its own host (the router for the token; the
//!   provider's server for its key), in no header, URL or body elsewhere;
//! - each call that the SDK implements reached its own host with its credential (so the check
//!   above has something to check), and the foreign server was reached by some of them without
//!   any credential;
//! - no error, preview (`Debug`, `Display`, headers), client, builder or request `Debug`, and no
//!   line of the tracing output at `TRACE` level (the SDK's and its HTTP stack's) shows a
//!   credential; previews show it as `<redacted>`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use hf_inference::binary::BinaryInput;
use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference::types::question_answering::QuestionAnsweringInputData;
use hf_inference::types::sentence_similarity::SentenceSimilarityInputData;
use hf_inference::types::table_question_answering::TableQuestionAnsweringInputData;
use hf_inference::types::tabular::TabularData;
use hf_inference::{
    Error, InferenceClient, InferenceClientBuilder, Provider, RequestPreview, Task,
};
use hf_inference_tests::faults::{FaultServer, Step, json_ok};
use hf_inference_tests::support::{LogCapture, Mode};
use serde_json::json;

const HF_TOKEN: &str = "hf_secretsRoutedToken0123456789ab";
/// What every credential of this file contains, and nothing else does.
const MARK: &str = "secrets";
const MODEL: &str = "org/model";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
const FLAC: &[u8] = b"fLaC\0\0\0\x22\x10\x00\x10\x00";

/// The key of direct calls to `provider`: names it, so that a leak says whose it was.
fn provider_key(provider: Provider) -> String {
    format!("pk-secretsDirect-{}-0123456789", provider.as_str())
}

/// The credential of a call in `mode` on `provider`.
fn credential(mode: Mode, provider: Provider) -> String {
    mode.pick(HF_TOKEN.to_owned(), provider_key(provider))
}

/// The answer of every server: keeps jobs going and points every URL field at `foreign`.
fn hostile_answer(foreign: &str) -> String {
    let file = format!("{foreign}/files/out.png");
    json!({
        "id": "job-1",
        "request_id": "job-1",
        "task_id": "job-1",
        "status": "IN_QUEUE",
        "status_url": format!("{foreign}/status"),
        "response_url": format!("{foreign}/response"),
        "polling_url": format!("{foreign}/poll"),
        "urls": {"get": format!("{foreign}/get"), "cancel": format!("{foreign}/cancel")},
        "output": [file],
        "data": [{"url": file, "id": "job-1"}],
        "images": [{"url": file}],
        "image": {"url": file},
        "video": {"url": format!("{foreign}/files/out.mp4")},
        "audio": {"url": format!("{foreign}/files/out.flac")},
        "outputs": {"video_url": format!("{foreign}/files/out.mp4")},
        "result": {"sample": file}
    })
    .to_string()
}

/// Every host the client can reach.
struct Hosts {
    router: FaultServer,
    hub: FaultServer,
    foreign: FaultServer,
    providers: BTreeMap<Provider, FaultServer>,
}

impl Hosts {
    fn start() -> Self {
        // The foreign host keeps a job polling it in the queue.
        let foreign = FaultServer::start(vec![vec![Step::Send(json_ok(
            r#"{"id":"job-1","request_id":"job-1","status":"IN_QUEUE"}"#,
        ))]]);
        let answer = || vec![vec![Step::Send(json_ok(hostile_answer(&foreign.url())))]];
        Self {
            router: FaultServer::start(answer()),
            hub: FaultServer::start(answer()),
            providers: Provider::ALL
                .iter()
                .map(|p| (*p, FaultServer::start(answer())))
                .collect(),
            foreign,
        }
    }

    fn all(&self) -> Vec<(String, &FaultServer)> {
        let mut all = vec![
            ("router".to_owned(), &self.router),
            ("hub".to_owned(), &self.hub),
            ("foreign".to_owned(), &self.foreign),
        ];
        for (provider, server) in &self.providers {
            all.push((format!("provider {provider}"), server));
        }
        all
    }

    /// A client for one call: every endpoint on loopback, the mapping pinned, quick polls.
    fn client(&self, mode: Mode, provider: Provider, call_id: &str) -> InferenceClientBuilder {
        let mut builder = InferenceClient::builder()
            .token(credential(mode, provider))
            .hub_url(self.hub.url())
            .router_url(self.router.url())
            .check_model_task(false)
            .timeout(Duration::from_millis(1500))
            .header("x-call-id", call_id)
            .model_mapping(MODEL, provider, "provider/model-id");
        for (p, server) in &self.providers {
            builder = builder.provider_url(*p, server.url());
        }
        builder
    }
}

/// One call of `task` (its public method, minimal valid input) on `provider`: the preview and,
/// when it could be made, the outcome of sending it.
async fn call_task(
    client: &InferenceClient,
    task: Task,
    provider: Provider,
) -> Option<(Result<RequestPreview, Error>, Result<(), Error>)> {
    let poll = Duration::from_millis(50);
    let png = || BinaryInput::from(PNG.to_vec());
    let flac = || BinaryInput::from(FLAC.to_vec());
    let labels = || vec!["cat".to_owned(), "dog".to_owned()];
    macro_rules! go {
        ($request:expr) => {{
            let request = $request.model(MODEL).provider(provider);
            let preview = request.preview().await;
            Some((preview, request.send().await.map(drop)))
        }};
    }
    macro_rules! job {
        ($request:expr) => {
            go!($request.poll_interval(poll))
        };
    }
    let c = client;
    match task {
        Task::AudioClassification => job!(c.audio_classification(flac())),
        Task::AudioToAudio => go!(c.audio_to_audio(flac())),
        Task::AutomaticSpeechRecognition => job!(c.automatic_speech_recognition(flac())),
        Task::ChatCompletion => {
            go!(c.chat_completion(vec![ChatCompletionInputMessage::user("hello")]))
        }
        Task::DocumentQuestionAnswering => {
            job!(c.document_question_answering(png(), "What is the total?"))
        }
        Task::FeatureExtraction => job!(c.feature_extraction("hello")),
        Task::FillMask => job!(c.fill_mask("Paris is the [MASK] of France.")),
        Task::ImageClassification => job!(c.image_classification(png())),
        Task::ImageSegmentation => job!(c.image_segmentation(png())),
        Task::ImageTextToImage => job!(c.image_text_to_image().prompt("a cat")),
        Task::ImageTextToVideo => job!(c.image_text_to_video().prompt("a cat")),
        Task::ImageToImage => job!(c.image_to_image(png()).prompt("a cat")),
        Task::ImageToText => job!(c.image_to_text(png())),
        Task::ImageToVideo => job!(c.image_to_video(png()).prompt("a cat")),
        Task::ObjectDetection => job!(c.object_detection(png())),
        Task::QuestionAnswering => job!(c.question_answering(QuestionAnsweringInputData {
            question: "Who?".into(),
            context: "Clara lives in Berkeley.".into(),
        })),
        Task::SentenceSimilarity => job!(c.sentence_similarity(SentenceSimilarityInputData {
            source_sentence: "a cat".into(),
            sentences: vec!["a dog".into()],
        })),
        Task::Summarization => job!(c.summarization("A long text.")),
        Task::TableQuestionAnswering => {
            job!(
                c.table_question_answering(TableQuestionAnsweringInputData {
                    question: "How many?".into(),
                    table: [("a".to_owned(), vec!["1".to_owned()])]
                        .into_iter()
                        .collect(),
                })
            )
        }
        Task::TabularClassification => {
            go!(c.tabular_classification(TabularData::new().column("x", ["1"])))
        }
        Task::TextClassification => job!(c.text_classification("I like you")),
        Task::TextGeneration => go!(c.text_generation("Once upon a time")),
        Task::TextToImage => job!(c.text_to_image("a cat")),
        Task::TextToSpeech => job!(c.text_to_speech("hello")),
        Task::TextToVideo => job!(c.text_to_video("a cat")),
        Task::TokenClassification => job!(c.token_classification("Clara lives in Berkeley")),
        Task::Translation => job!(c.translation("Hello")),
        Task::VisualQuestionAnswering => job!(c.visual_question_answering(png(), "What is it?")),
        Task::ZeroShotClassification => job!(c.zero_shot_classification("I like you", labels())),
        Task::ZeroShotImageClassification => {
            job!(c.zero_shot_image_classification(png(), labels()))
        }
        _ => None,
    }
}

/// Every credential fragment in `text` (each credential contains [`MARK`]; the fragment is
/// the credential's own distinctive part).
fn leaked(text: &str) -> bool {
    text.contains(MARK)
}

/// The pairs of the table, with the modes the table gives each provider.
fn pairs() -> Vec<(Task, Provider, Mode)> {
    let mut pairs = Vec::new();
    for task in Task::ALL {
        for provider in task.providers() {
            let spec = provider.spec();
            let modes = [
                (Mode::Routed, spec.routed_prefix.is_some()),
                (
                    Mode::Direct,
                    !spec.hosts.is_empty() && *provider != Provider::HfInference,
                ),
            ];
            for (mode, served) in modes {
                if served {
                    pairs.push((*task, *provider, mode));
                }
            }
        }
    }
    pairs
}

#[tokio::test(flavor = "current_thread")]
async fn credentials_reach_only_their_own_host_on_every_pair() {
    let capture = LogCapture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let hosts = Hosts::start();
    let pairs = pairs();
    assert!(
        pairs.len() > 60,
        "the table has {} (task, provider, mode)",
        pairs.len()
    );
    // Clients first: building one loads the TLS roots, which takes a while and would eat into
    // the timeouts of the calls already under way.
    let clients: Vec<(String, String, InferenceClient)> = (0..pairs.len())
        .map(|i| {
            let (_, provider, mode) = pairs[i];
            let builder = hosts.client(mode, provider, &format!("call-{i}"));
            let shown_builder = format!("{builder:?}");
            (
                format!("call-{i}"),
                shown_builder,
                builder.build().expect("client"),
            )
        })
        .collect();
    let calls = pairs.iter().zip(clients).map(
        |(&(task, provider, _), (call_id, shown_builder, client))| async move {
            let shown_client = format!("{client:?} {:?}", client.endpoints());
            let outcome = call_task(&client, task, provider).await;
            (call_id, shown_builder, shown_client, outcome)
        },
    );
    let outcomes = futures_util::future::join_all(calls).await;

    let mut implemented = BTreeMap::new();
    let mut model_bound = Vec::new();
    for ((task, provider, mode), (call_id, shown_builder, shown_client, outcome)) in
        pairs.iter().zip(outcomes)
    {
        let what = format!("{task} on {provider} ({})", mode.name());
        assert!(
            !leaked(&shown_builder),
            "{what}: builder Debug: {shown_builder}"
        );
        assert!(
            !leaked(&shown_client),
            "{what}: client Debug: {shown_client}"
        );
        let (preview, sent) = outcome.unwrap_or_else(|| panic!("{what}: no method for {task}"));
        for result in [preview.as_ref().map(drop), sent.as_ref().map(drop)] {
            if let Err(err) = result {
                let shown = format!("{err} {err:?}");
                assert!(!leaked(&shown), "{what}: error shows a credential: {shown}");
            }
        }
        match &preview {
            Ok(preview) => {
                let shown = format!("{preview:?} {preview} {:?}", preview.headers);
                assert!(
                    !leaked(&shown),
                    "{what}: preview shows a credential: {shown}"
                );
                let auth = preview.header("authorization").or(preview.header("x-key"));
                assert_eq!(auth, Some("<redacted>"), "{what}: {shown}");
                implemented.insert(call_id, (what, *provider, *mode));
            }
            Err(Error::NotImplemented { .. }) => {}
            // A pair served for one model family only (novita's MiniMax video): nothing sent.
            Err(Error::InvalidInput { field, .. }) if field == "model" => {
                model_bound.push(what);
            }
            Err(other) => panic!("{what}: the preview failed: {other}"),
        }
    }

    // Every request every host received.
    let mut reached_own_host = BTreeSet::new();
    let mut foreign_requests = 0;
    for (name, server) in hosts.all() {
        for seen in server.requests() {
            let request = &seen.request;
            let call = request
                .header("x-call-id")
                .unwrap_or("(no call id)")
                .to_owned();
            let text = format!(
                "{} {} {:?} {}",
                request.method,
                request.target,
                request.headers,
                String::from_utf8_lossy(&request.body)
            );
            let own = implemented.get(&call).is_some_and(|(_, provider, mode)| {
                let host = match mode {
                    Mode::Routed => &hosts.router,
                    Mode::Direct => &hosts.providers[provider],
                };
                std::ptr::eq(host, server)
            });
            if name == "foreign" {
                foreign_requests += 1;
            }
            if own {
                let (what, provider, mode) = &implemented[&call];
                let credential = credential(*mode, *provider);
                if text.contains(&credential) {
                    reached_own_host.insert(call.clone());
                }
                // Its own host sees its own credential and no other.
                let others = text.replace(&credential, "");
                assert!(
                    !leaked(&others),
                    "{what}: another credential at {name}: {text}"
                );
            } else {
                assert!(
                    !leaked(&text),
                    "a credential reached {name} (call {call}): {text}"
                );
            }
        }
    }
    let missing: Vec<&String> = implemented
        .iter()
        .filter(|(call, _)| !reached_own_host.contains(*call))
        .map(|(_, (what, _, _))| what)
        .collect();
    assert!(
        missing.is_empty(),
        "calls that never reached their own host: {missing:?}"
    );
    assert!(
        implemented.len() > 50,
        "{} implemented calls checked",
        implemented.len()
    );
    assert!(
        foreign_requests > 0,
        "no call followed a URL to the foreign host: the hostile answers went unused"
    );
    assert_eq!(hosts.hub.requests().len(), 0, "mappings are pinned");
    assert!(
        model_bound.len() <= 2,
        "pairs refusing the test model: {model_bound:?}"
    );

    let log = capture.text();
    assert!(log.contains("hf_inference.request"), "the capture works");
    let shown: Vec<&str> = log.lines().filter(|l| leaked(l)).collect();
    assert!(
        shown.is_empty(),
        "the tracing output shows a credential: {shown:?}"
    );
}
