//! hf-inference routing against a Hub on loopback (python-client.md §2.4): the recommended model
//! of `GET /api/tasks` when no model is given, and the model/task check of
//! `GET /api/models/{id}` (the 2.4.0 rules), both cached per client.
//!
//! One listener plays the Hub (`/api/...`) and the router (everything else). It records every
//! request, answers the Hub after a delay (so that concurrent calls really overlap) and answers
//! inference calls with a small JSON.
//!
//! Run with `cargo test -p hf-inference-tests --test hf_inference_routing -- --nocapture`.

use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use hf_inference::http::retry::RetryPolicy;
use hf_inference::http::transport::RequestPreview;
use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference::types::sentence_similarity::SentenceSimilarityInputData;
use hf_inference::{Error, InferenceClient, InferenceClientBuilder, Provider, Task};
use hf_inference_tests::support::read_raw_request;
use serde_json::{Value, json};

const HF_TOKEN: &str = "hf_hfInferenceRouting0123456789abcdef";
const PROVIDER_KEY: &str = "pk-hfInferenceRouting0123456789abcdef";

/// The Hub's answer to `/api/tasks` in these tests.
fn tasks_json() -> Value {
    json!({
        "text-classification": {
            "widgetModels": ["org/sentiment", "org/second-choice"],
            "id": "text-classification",
        },
        "summarization": {"widgetModels": ["org/summarizer"]},
        "conversational": {"widgetModels": ["org/chatty"]},
        "fill-mask": {"widgetModels": []},
        "translation": {"widgetModels": [""]},
    })
}

/// `pipeline_tag` and `tags` of the models the Hub knows (any other model is a 404).
fn models_json() -> HashMap<String, Value> {
    let model = |tag: Option<&str>, tags: &[&str]| json!({"pipeline_tag": tag, "tags": tags});
    HashMap::from([
        // Recommended models, tagged for their task.
        (
            "org/sentiment".into(),
            model(Some("text-classification"), &[]),
        ),
        ("org/summarizer".into(), model(Some("summarization"), &[])),
        ("org/chatty".into(), model(Some("text-generation"), &[])),
        // One model per rule of §2.4.
        (
            "org/tg".into(),
            model(Some("text-generation"), &["pytorch"]),
        ),
        ("org/t2t".into(), model(Some("text2text-generation"), &[])),
        ("org/itt".into(), model(Some("image-text-to-text"), &[])),
        (
            "org/fe-both".into(),
            model(
                Some("feature-extraction"),
                &["feature-extraction", "sentence-similarity"],
            ),
        ),
        (
            "org/ss-both".into(),
            model(
                Some("sentence-similarity"),
                &["sentence-similarity", "feature-extraction"],
            ),
        ),
        (
            "org/fe-only".into(),
            model(Some("feature-extraction"), &["feature-extraction"]),
        ),
        (
            "org/tc".into(),
            model(Some("text-classification"), &["text-classification"]),
        ),
        ("org/untagged".into(), json!({"tags": null})),
    ])
}

// ---------------------------------------------------------------------------------------------
// The loopback Hub + router

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
}

struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

struct Behaviour {
    tasks: Value,
    models: HashMap<String, Value>,
    /// How long the Hub takes to answer.
    hub_delay: Duration,
    /// The first this many `/api/tasks` requests get a 500.
    failing_tasks: AtomicUsize,
}

impl Server {
    fn start() -> Self {
        Self::with(Duration::from_millis(0), 0)
    }

    fn with(hub_delay: Duration, failing_tasks: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let behaviour = Arc::new(Behaviour {
            tasks: tasks_json(),
            models: models_json(),
            hub_delay,
            failing_tasks: AtomicUsize::new(failing_tasks),
        });
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                let behaviour = behaviour.clone();
                std::thread::spawn(move || serve(stream, &log, &behaviour));
            }
        });
        Self { addr, seen }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// How many `GET`s of `path` were made.
    fn gets(&self, path: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == "GET" && s.path == path)
            .count()
    }

    /// Every Hub request (`/api/...`).
    fn hub_requests(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path.starts_with("/api/"))
            .collect()
    }

    /// The paths of the inference calls (everything but the Hub).
    fn inference_paths(&self) -> Vec<String> {
        self.seen()
            .into_iter()
            .filter(|s| !s.path.starts_with("/api/"))
            .map(|s| s.path)
            .collect()
    }
}

fn serve(stream: TcpStream, log: &Mutex<Vec<Seen>>, behaviour: &Behaviour) -> Option<()> {
    let request = read_raw_request(&stream)?;
    let authorization = request.header("authorization").map(str::to_owned);
    let path = request.target;
    log.lock().unwrap().push(Seen {
        method: request.method,
        path: path.clone(),
        authorization,
    });

    let (status, answer) = if let Some(hub_path) = path.strip_prefix("/api/") {
        std::thread::sleep(behaviour.hub_delay);
        if hub_path == "tasks" {
            let fail = behaviour
                .failing_tasks
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if fail {
                (500, json!({"error": "the Hub is having a bad day"}))
            } else {
                (200, behaviour.tasks.clone())
            }
        } else {
            let model = hub_path.strip_prefix("models/").unwrap_or_default();
            match behaviour.models.get(model) {
                Some(info) => {
                    let mut info = info.clone();
                    info["id"] = json!(model);
                    (200, info)
                }
                None => (404, json!({"error": "Repository not found"})),
            }
        }
    } else if path.ends_with("/chat/completions") {
        (
            200,
            json!({
                "id": "c", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "Paris"}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
            }),
        )
    } else {
        (200, json!([{"label": "POSITIVE", "score": 0.99}]))
    };
    let answer = answer.to_string();
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    let mut stream = stream;
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        answer.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(answer.as_bytes()).ok()
}

// ---------------------------------------------------------------------------------------------
// Clients and calls

/// The Hub and the router on `server`, retries off.
fn builder(server: &Server) -> InferenceClientBuilder {
    InferenceClient::builder()
        .hub_url(server.url())
        .router_url(server.url())
        .retry_policy(RetryPolicy::disabled())
        .timeout(Duration::from_secs(20))
}

fn hf_client(server: &Server) -> InferenceClient {
    builder(server)
        .token(HF_TOKEN)
        .provider(Provider::HfInference)
        .build()
        .unwrap()
}

fn messages() -> Vec<ChatCompletionInputMessage> {
    vec![ChatCompletionInputMessage::user(
        "What is the capital of France?",
    )]
}

/// The preview of a call of `task` on hf-inference, with `model` if given.
async fn preview(
    client: &InferenceClient,
    task: Task,
    model: Option<&str>,
) -> Result<RequestPreview, Error> {
    let model = model.map(str::to_owned);
    macro_rules! call {
        ($request:expr) => {{
            let mut request = $request.provider(Provider::HfInference);
            if let Some(model) = model {
                request = request.model(model);
            }
            request.preview().await
        }};
    }
    match task {
        Task::ChatCompletion => call!(client.chat_completion(messages())),
        Task::TextGeneration => call!(client.text_generation("Once upon a time")),
        Task::TextClassification => call!(client.text_classification("I like you")),
        Task::Summarization => call!(client.summarization("A long text.")),
        Task::FillMask => call!(client.fill_mask("Paris is the [MASK] of France.")),
        Task::Translation => call!(client.translation("Bonjour")),
        Task::FeatureExtraction => call!(client.feature_extraction("Hello")),
        Task::SentenceSimilarity => {
            call!(client.sentence_similarity(SentenceSimilarityInputData {
                source_sentence: "Hello".into(),
                sentences: vec!["Hi".into(), "Bye".into()],
            }))
        }
        other => panic!("no call written for {other}"),
    }
}

/// The router path of a preview (`/hf-inference/models/...`).
fn path_of(preview: &RequestPreview) -> String {
    url::Url::parse(&preview.url).unwrap().path().to_owned()
}

// ---------------------------------------------------------------------------------------------
// The recommended model

#[tokio::test]
async fn the_recommended_model_is_used_and_the_tasks_are_looked_up_once() {
    let server = Server::start();
    let client = hf_client(&server);

    // A real call: the first widget model, in the URL the request goes to.
    let answer = client
        .text_classification("I like you")
        .send()
        .await
        .expect("text classification");
    assert_eq!(answer[0].label, "POSITIVE");
    assert_eq!(
        server.inference_paths(),
        ["/hf-inference/models/org/sentiment"]
    );

    // More calls and other tasks, on the same client: `/api/tasks` is not asked again.
    for _ in 0..3 {
        let p = preview(&client, Task::TextClassification, None)
            .await
            .unwrap();
        assert_eq!(path_of(&p), "/hf-inference/models/org/sentiment");
    }
    let p = preview(&client, Task::Summarization, None).await.unwrap();
    assert_eq!(path_of(&p), "/hf-inference/models/org/summarizer");
    // Chat takes the Hub's `conversational` entry, and names the model in the payload.
    let p = preview(&client, Task::ChatCompletion, None).await.unwrap();
    assert_eq!(
        path_of(&p),
        "/hf-inference/models/org/chatty/v1/chat/completions"
    );
    assert_eq!(p.body_json().unwrap()["model"], "org/chatty");
    let answer = client.chat_completion(messages()).send().await.unwrap();
    assert_eq!(answer.choices[0].message.content.as_deref(), Some("Paris"));

    assert_eq!(server.gets("/api/tasks"), 1, "{:?}", server.seen());
    // The recommended models went through the task check too, once per model.
    for model in ["org/sentiment", "org/summarizer", "org/chatty"] {
        assert_eq!(server.gets(&format!("/api/models/{model}")), 1, "{model}");
    }
    // Every Hub lookup carried the Hugging Face token.
    let bearer = format!("Bearer {HF_TOKEN}");
    for seen in server.hub_requests() {
        assert_eq!(
            seen.authorization.as_deref(),
            Some(bearer.as_str()),
            "{seen:?}"
        );
    }
}

#[tokio::test]
async fn the_call_can_choose_hf_inference_without_a_model() {
    let server = Server::start();
    // An `auto` client with no model and a provider key: the call picks hf-inference.
    let client = builder(&server).token(PROVIDER_KEY).build().unwrap();
    let p = client
        .summarization("A long text.")
        .provider(Provider::HfInference)
        .preview()
        .await
        .unwrap();
    assert_eq!(path_of(&p), "/hf-inference/models/org/summarizer");
    // A provider key is not a Hub credential: the Hub lookups go without it.
    let hub = server.hub_requests();
    assert_eq!(hub.len(), 2, "{hub:?}");
    assert!(hub.iter().all(|s| s.authorization.is_none()), "{hub:?}");
}

#[tokio::test]
async fn the_tasks_are_looked_up_once_under_concurrency() {
    let server = Server::with(Duration::from_millis(300), 0);
    let client = hf_client(&server);
    let calls = (0..8).map(|i| {
        let client = client.clone();
        let task = [Task::TextClassification, Task::Summarization][i % 2];
        async move { preview(&client, task, None).await }
    });
    for result in join_all(calls).await {
        result.expect("preview");
    }
    assert_eq!(server.gets("/api/tasks"), 1, "{:?}", server.seen());
    assert_eq!(server.gets("/api/models/org/sentiment"), 1);
    assert_eq!(server.gets("/api/models/org/summarizer"), 1);
}

#[tokio::test]
async fn a_failed_tasks_lookup_is_not_cached() {
    let server = Server::with(Duration::from_millis(0), 1);
    let client = hf_client(&server);
    let err = preview(&client, Task::TextClassification, None)
        .await
        .expect_err("the Hub fails");
    assert_eq!(err.status(), Some(500), "{err:?}");
    let p = preview(&client, Task::TextClassification, None)
        .await
        .unwrap();
    assert_eq!(path_of(&p), "/hf-inference/models/org/sentiment");
    assert_eq!(server.gets("/api/tasks"), 2);
}

#[tokio::test]
async fn no_recommended_model_is_invalid_input() {
    let server = Server::start();
    let client = hf_client(&server);
    // `fill-mask` has no widget model, `translation` an empty one, `feature-extraction` is not
    // listed at all.
    for task in [Task::FillMask, Task::Translation, Task::FeatureExtraction] {
        let err = preview(&client, task, None).await.expect_err("no model");
        match &err {
            Error::InvalidInput { field, message } => {
                assert_eq!(field, "model", "{task}");
                assert!(message.contains(&format!("`{task}`")), "{message}");
                assert!(message.contains("recommends none"), "{message}");
                assert!(message.contains("a model must be given"), "{message}");
            }
            other => panic!("{task}: expected InvalidInput, got {other:?}"),
        }
    }
    assert_eq!(server.gets("/api/tasks"), 1);
    assert!(server.inference_paths().is_empty());
}

#[tokio::test]
async fn other_providers_and_auto_still_need_a_model() {
    let server = Server::start();
    let client = builder(&server).token(HF_TOKEN).build().unwrap();
    let auto = client.text_classification("I like you").preview().await;
    let together = client
        .chat_completion(messages())
        .provider(Provider::Together)
        .preview()
        .await;
    for err in [auto.unwrap_err(), together.unwrap_err()] {
        match &err {
            Error::InvalidInput { field, message } => {
                assert_eq!(field, "model");
                assert!(message.contains("no model given"), "{message}");
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
    assert!(server.seen().is_empty(), "{:?}", server.seen());
}

// ---------------------------------------------------------------------------------------------
// The model/task check

#[tokio::test]
async fn the_task_check_follows_the_reference_rules() {
    use Task::*;
    let server = Server::start();
    let client = hf_client(&server);
    // (model, task, Ok(route suffix) or Err(the pipeline tag the error names)).
    type Expected = Result<&'static str, Option<&'static str>>;
    let cases: &[(&str, Task, Expected)] = &[
        // text-generation pipeline: text generation and chat (no `conversational` tag needed in
        // 2.4.0), nothing else.
        ("org/tg", TextGeneration, Ok("")),
        ("org/tg", ChatCompletion, Ok("/v1/chat/completions")),
        ("org/tg", Summarization, Err(Some("text-generation"))),
        // text2text-generation: text generation only.
        ("org/t2t", TextGeneration, Ok("")),
        ("org/t2t", ChatCompletion, Err(Some("text2text-generation"))),
        ("org/t2t", Summarization, Err(Some("text2text-generation"))),
        // image-text-to-text: chat only.
        ("org/itt", ChatCompletion, Ok("/v1/chat/completions")),
        ("org/itt", TextGeneration, Err(Some("image-text-to-text"))),
        (
            "org/itt",
            TextClassification,
            Err(Some("image-text-to-text")),
        ),
        // feature-extraction / sentence-similarity: interchangeable when the task is in `tags`.
        (
            "org/fe-both",
            SentenceSimilarity,
            Ok("/pipeline/sentence-similarity"),
        ),
        (
            "org/fe-both",
            FeatureExtraction,
            Ok("/pipeline/feature-extraction"),
        ),
        (
            "org/ss-both",
            FeatureExtraction,
            Ok("/pipeline/feature-extraction"),
        ),
        (
            "org/fe-only",
            FeatureExtraction,
            Ok("/pipeline/feature-extraction"),
        ),
        (
            "org/fe-only",
            SentenceSimilarity,
            Err(Some("feature-extraction")),
        ),
        (
            "org/fe-only",
            TextClassification,
            Err(Some("feature-extraction")),
        ),
        // Anything else: the pipeline tag must be the task.
        ("org/tc", TextClassification, Ok("")),
        ("org/tc", FillMask, Err(Some("text-classification"))),
        ("org/tc", ChatCompletion, Err(Some("text-classification"))),
        ("org/untagged", TextClassification, Err(None)),
    ];
    for (model, task, expected) in cases {
        let result = preview(&client, *task, Some(model)).await;
        match (expected, result) {
            (Ok(suffix), Ok(p)) => {
                assert_eq!(
                    path_of(&p),
                    format!("/hf-inference/models/{model}{suffix}"),
                    "{model} for {task}"
                );
            }
            (Err(tag), Err(err)) => match &err {
                Error::TaskNotSupported {
                    model: m,
                    task: t,
                    provider,
                    supported,
                } => {
                    assert_eq!(m, model);
                    assert_eq!(t, task.as_str());
                    assert_eq!(provider.as_deref(), Some("hf-inference"));
                    let tags: Vec<&str> = supported.iter().map(String::as_str).collect();
                    assert_eq!(tags, tag.iter().copied().collect::<Vec<_>>(), "{model}");
                    assert!(err.to_string().contains(*model), "{err}");
                }
                other => panic!("{model} for {task}: expected TaskNotSupported, got {other:?}"),
            },
            (expected, got) => panic!("{model} for {task}: expected {expected:?}, got {got:?}"),
        }
    }
    // One lookup per model, whatever the number of tasks tried on it.
    for model in [
        "org/tg",
        "org/t2t",
        "org/itt",
        "org/fe-both",
        "org/ss-both",
        "org/fe-only",
        "org/tc",
        "org/untagged",
    ] {
        assert_eq!(server.gets(&format!("/api/models/{model}")), 1, "{model}");
    }
    // No query: the plain model info, not the provider-mapping expansion.
    assert!(server.hub_requests().iter().all(|s| !s.path.contains('?')));
    assert_eq!(server.gets("/api/tasks"), 0);
    assert!(server.inference_paths().is_empty());
}

#[tokio::test]
async fn the_model_is_looked_up_once_under_concurrency() {
    let server = Server::with(Duration::from_millis(300), 0);
    let client = hf_client(&server);
    let calls = (0..10).map(|i| {
        let client = client.clone();
        let (model, task) = [
            ("org/tg", Task::TextGeneration),
            ("org/tg", Task::ChatCompletion),
            ("org/tc", Task::TextClassification),
            ("org/tc", Task::FillMask),
        ][i % 4];
        async move { (task, preview(&client, task, Some(model)).await) }
    });
    for (task, result) in join_all(calls).await {
        if task == Task::FillMask {
            assert!(
                matches!(result, Err(Error::TaskNotSupported { .. })),
                "{result:?}"
            );
        } else {
            result.expect("preview");
        }
    }
    assert_eq!(server.gets("/api/models/org/tg"), 1, "{:?}", server.seen());
    assert_eq!(server.gets("/api/models/org/tc"), 1, "{:?}", server.seen());
}

#[tokio::test]
async fn an_unknown_model_is_not_supported() {
    let server = Server::start();
    let client = hf_client(&server);
    for _ in 0..2 {
        let err = preview(&client, Task::TextClassification, Some("org/missing"))
            .await
            .expect_err("404");
        match &err {
            Error::ModelNotSupported {
                model,
                task,
                provider,
                ..
            } => {
                assert_eq!(model, "org/missing");
                assert_eq!(task, "text-classification");
                assert_eq!(provider.as_deref(), Some("hf-inference"));
            }
            other => panic!("expected ModelNotSupported, got {other:?}"),
        }
    }
    // A failure is not cached: the second call asked again.
    assert_eq!(server.gets("/api/models/org/missing"), 2);
    assert!(server.inference_paths().is_empty());
}

#[tokio::test]
async fn the_check_can_be_turned_off_or_skipped_by_a_pin() {
    let server = Server::start();
    // Off: a model the check would refuse (and one the Hub does not know) goes through.
    let unchecked = builder(&server)
        .token(HF_TOKEN)
        .check_model_task(false)
        .build()
        .unwrap();
    for (model, task) in [
        ("org/tc", Task::FillMask),
        ("org/missing", Task::Summarization),
    ] {
        let p = preview(&unchecked, task, Some(model)).await.unwrap();
        assert_eq!(path_of(&p), format!("/hf-inference/models/{model}"));
    }
    let answer = unchecked
        .text_classification("I like you")
        .model("org/missing")
        .provider(Provider::HfInference)
        .send()
        .await
        .unwrap();
    assert_eq!(answer[0].label, "POSITIVE");
    assert!(server.hub_requests().is_empty(), "{:?}", server.seen());

    // Pinned for hf-inference: no lookup either, and the Hub id is still the one routed to.
    let pinned = builder(&server)
        .token(HF_TOKEN)
        .model_mapping("org/tc", Provider::HfInference, "org/tc")
        .build()
        .unwrap();
    let p = preview(&pinned, Task::FillMask, Some("org/tc"))
        .await
        .unwrap();
    assert_eq!(path_of(&p), "/hf-inference/models/org/tc");
    assert!(server.hub_requests().is_empty(), "{:?}", server.seen());
    // A pin for another provider does not skip the hf-inference check.
    let other_pin = builder(&server)
        .token(HF_TOKEN)
        .model_mapping("org/tc", Provider::Together, "together/tc")
        .build()
        .unwrap();
    let err = preview(&other_pin, Task::FillMask, Some("org/tc"))
        .await
        .expect_err("checked");
    assert!(matches!(err, Error::TaskNotSupported { .. }), "{err:?}");
    assert_eq!(server.gets("/api/models/org/tc"), 1);

    // Control: with the check on and no pin, the same client setup does ask the Hub.
    let checked = builder(&server).token(HF_TOKEN).build().unwrap();
    let err = preview(&checked, Task::Summarization, Some("org/missing"))
        .await
        .expect_err("checked");
    assert!(matches!(err, Error::ModelNotSupported { .. }), "{err:?}");
    assert_eq!(server.gets("/api/models/org/missing"), 1);
}

#[tokio::test]
async fn url_models_skip_the_recommendation_and_the_check() {
    let server = Server::start();
    let endpoint = format!("{}/endpoint/my-model", server.url());

    // A URL client, hf-inference chosen, no model: the URL is the server, nothing is looked up.
    let client = builder(&server)
        .token(HF_TOKEN)
        .provider(Provider::HfInference)
        .base_url(&endpoint)
        .build()
        .unwrap();
    let answer = client
        .text_classification("I like you")
        .send()
        .await
        .unwrap();
    assert_eq!(answer[0].label, "POSITIVE");
    let p = preview(&client, Task::FillMask, None).await.unwrap();
    assert_eq!(p.url, endpoint);
    let p = preview(&client, Task::ChatCompletion, None).await.unwrap();
    assert_eq!(p.url, format!("{endpoint}/v1/chat/completions"));

    // A URL given as the call's model, on an hf-inference client.
    let hf = hf_client(&server);
    let p = preview(&hf, Task::Summarization, Some(&endpoint))
        .await
        .unwrap();
    assert_eq!(p.url, endpoint);

    assert!(server.hub_requests().is_empty(), "{:?}", server.seen());
    assert_eq!(server.inference_paths(), ["/endpoint/my-model"]);
}
