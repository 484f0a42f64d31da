//! fal-ai through the public SDK API, checked against the reference (python-client.md §3.4 wire
//! format and queue, §2.3 auth) and the recorded conformance tapes, on loopback only.
//!
//! - **Requests** ([`fal_requests_for_every_pair_and_mode`]): every fal-ai (task, mode) pair of
//!   the provider table, routed (an `hf_` token: `https://router.huggingface.co/fal-ai/<id>`,
//!   plus `?_subdomain=queue` for the queue tasks) and direct (a fal key: `https://fal.run/<id>`
//!   or `https://queue.fal.run/<id>`). Each preview is snapshotted (token redacted and asserted
//!   absent) and its URL and body are compared with the reference body written out below from
//!   §3.4, not read from `specs/providers.toml`. Variants: only one of width/height, URL inputs
//!   passed through without being fetched, `extra_body` at the body root, a typed audio input.
//! - **Answers** ([`fal_sync_tasks_on_the_wire`], [`fal_queue_flow_routed_and_direct`], …): the
//!   same calls sent to a loopback server that answers only the reference URLs and bodies. The
//!   sync tasks (text-to-image inline `data:` URL or CDN URL, text-to-speech, ASR); the queue
//!   (submit → `IN_QUEUE` → `IN_PROGRESS` → `COMPLETED` → result → file on another host): polls
//!   and result carry the call's credentials to the host of the submit, URLs are built from the
//!   path of `response_url` (never `status_url`), the file is downloaded without credentials,
//!   `.on_status` sees every status, the default interval is fal's 0.5 s, and a queue that never
//!   completes ends in `Error::JobTimeout` naming the request id.
//! - **Tapes** ([`replay_every_fal_ai_tape`]): every fal-ai tape, one line each and a closing
//!   count. Final-spec requests must match the recording (URL, body, `Key` auth, headers);
//!   legacy tapes are checked on their response only, with the reason; inline `data:` URL records
//!   are answers (the decoded file), not requests; `test.expected` is checked.
//!
//! Run with `cargo test -p hf-inference-tests --test provider_fal_ai -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hf_inference::binary::{BinaryInput, Blob};
use hf_inference::providers::jobs::JobStatus;
use hf_inference::tasks::generic::TaskRequest;
use hf_inference::types::image_to_image::ImageToImageParametersTargetSize;
use hf_inference::{Error, InferenceClient, Provider, RequestPreview, Task};
use hf_inference_tests::expect::{self, Actual, Expectation};
use hf_inference_tests::replay::{
    HUB_HOST, RecordedRequest, ReplayServer, json_diff, placeholder_bytes,
};
use hf_inference_tests::support::{
    self, BodyExpect, ConnectionCounter, FAKE_HF_TOKEN, Mode, ROUTER, Tally, Verdict,
    assert_http_error, assert_job_timeout, assert_no_credentials, assert_sent_to, check_preview,
    loopback_builder, render_json, serve_regardless_of_body, synthetic_tape, url_parts,
};
use hf_inference_tests::tapes::{Tape, inputs_dir, sha256_hex, tapes_dir};
use serde::Serialize;
use serde_json::{Map, Value, json};

const HF_TOKEN: &str = "hf_falSecret0123456789abcdefghijkl";
/// fal keys read `<uuid>:<secret>`.
const FAL_KEY: &str = "5f0c7e1a-falSecret-4d2b-9c1e:0123456789abcdef";
/// A fragment of both credentials: must never appear in a preview.
const SECRET_PART: &str = "falSecret";

/// §3.4: sync tasks go to `fal.run`, queue tasks to `queue.fal.run`.
const API_BASE: &str = "https://fal.run";
const QUEUE_BASE: &str = "https://queue.fal.run";
const API_HOST: &str = "fal.run";
const QUEUE_HOST: &str = "queue.fal.run";
/// fal's file CDN.
const CDN_HOST: &str = "v3.fal.media";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ---------------------------------------------------------------------------------------------
// The pairs and their reference wire format (python-client.md §3.4)

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Pair {
    TextToImage,
    TextToSpeech,
    SpeechRecognition,
    TextToVideo,
    ImageToVideo,
    ImageToImage,
    ImageSegmentation,
}

impl Pair {
    const ALL: [Pair; 7] = [
        Pair::TextToImage,
        Pair::TextToSpeech,
        Pair::SpeechRecognition,
        Pair::TextToVideo,
        Pair::ImageToVideo,
        Pair::ImageToImage,
        Pair::ImageSegmentation,
    ];
    const QUEUED: [Pair; 4] = [
        Pair::TextToVideo,
        Pair::ImageToVideo,
        Pair::ImageToImage,
        Pair::ImageSegmentation,
    ];

    fn task(self) -> Task {
        match self {
            Pair::TextToImage => Task::TextToImage,
            Pair::TextToSpeech => Task::TextToSpeech,
            Pair::SpeechRecognition => Task::AutomaticSpeechRecognition,
            Pair::TextToVideo => Task::TextToVideo,
            Pair::ImageToVideo => Task::ImageToVideo,
            Pair::ImageToImage => Task::ImageToImage,
            Pair::ImageSegmentation => Task::ImageSegmentation,
        }
    }

    fn hub_model(self) -> &'static str {
        match self {
            Pair::TextToImage => "black-forest-labs/FLUX.1-dev",
            Pair::TextToSpeech => "hexgrad/Kokoro-82M",
            Pair::SpeechRecognition => "openai/whisper-large-v3",
            Pair::TextToVideo => "Wan-AI/Wan2.2-T2V-A14B",
            Pair::ImageToVideo => "Wan-AI/Wan2.2-I2V-A14B",
            Pair::ImageToImage => "black-forest-labs/FLUX.1-Kontext-dev",
            Pair::ImageSegmentation => "briaai/RMBG-2.0",
        }
    }

    /// fal's id of the model (a path: routed URLs read `/fal-ai/fal-ai/...`).
    fn provider_id(self) -> &'static str {
        match self {
            Pair::TextToImage => "fal-ai/flux/dev",
            Pair::TextToSpeech => "fal-ai/kokoro/american-english",
            Pair::SpeechRecognition => "fal-ai/whisper",
            Pair::TextToVideo => "fal-ai/wan/v2.2-a14b/text-to-video",
            Pair::ImageToVideo => "fal-ai/wan/v2.2-a14b/image-to-video",
            Pair::ImageToImage => "fal-ai/flux-kontext/dev",
            Pair::ImageSegmentation => "fal-ai/bria/background/remove",
        }
    }

    /// §3.4: the queue tasks (t2v, i2v, i2i, segmentation); the rest is one sync POST.
    fn queued(self) -> bool {
        Pair::QUEUED.contains(&self)
    }

    /// The path fal puts in `response_url` for a queued request: the app (`owner/app`), not the
    /// full model id, so a client that rebuilt the URLs from the model id would miss them
    /// (§3.4 step 4: "this may differ from the mapped id").
    fn queue_app(self) -> &'static str {
        let id = self.provider_id();
        let mut parts = id.splitn(3, '/');
        let (owner, app) = (parts.next().unwrap(), parts.next().unwrap());
        &id[..owner.len() + 1 + app.len()]
    }
}

/// The credential of `mode`.
fn token(mode: Mode) -> &'static str {
    mode.pick(HF_TOKEN, FAL_KEY)
}

/// §2.3: routed calls send the HF token as Bearer; direct fal calls `Key <key>`.
fn authorization(mode: Mode) -> String {
    match mode {
        Mode::Routed => format!("Bearer {HF_TOKEN}"),
        Mode::Direct => format!("Key {FAL_KEY}"),
    }
}

/// §3.4 routes: `/{provider_id}` on fal.run (sync) or queue.fal.run (queue); routed on
/// `router/fal-ai`, with `?_subdomain=queue` for the queue tasks.
fn expected_url(pair: Pair, mode: Mode) -> String {
    let id = pair.provider_id();
    match (mode, pair.queued()) {
        (Mode::Routed, false) => format!("{ROUTER}/fal-ai/{id}"),
        (Mode::Routed, true) => format!("{ROUTER}/fal-ai/{id}?_subdomain=queue"),
        (Mode::Direct, false) => format!("{API_BASE}/{id}"),
        (Mode::Direct, true) => format!("{QUEUE_BASE}/{id}"),
    }
}

/// §3.4 queue step 2-5: `base + path(response_url) [+ "/status"] + query`, base = the router's
/// `/fal-ai` (routed) or queue.fal.run (direct), query = the submit's (`_subdomain=queue`).
fn expected_queue_urls(pair: Pair, mode: Mode, request_id: &str) -> (String, String) {
    let path = format!("/{}/requests/{request_id}", pair.queue_app());
    match mode {
        Mode::Routed => (
            format!("{ROUTER}/fal-ai{path}/status?_subdomain=queue"),
            format!("{ROUTER}/fal-ai{path}?_subdomain=queue"),
        ),
        Mode::Direct => (
            format!("{QUEUE_BASE}{path}/status"),
            format!("{QUEUE_BASE}{path}"),
        ),
    }
}

const PROMPT_IMAGE: &str = "Extreme close-up of a single tiger eye, direct frontal view.";
const PROMPT_VIDEO: &str = "A cat walks on the grass, realistic style.";
const PROMPT_ANIMATE: &str = "The cheetah turns its head and blinks.";
const PROMPT_EDIT: &str = "Turn the cheetah into a snow leopard.";
const NEGATIVE: &str = "blurry, low quality";
const SPEECH_TEXT: &str = "Hello, this is a test of the fal text to speech endpoint.";
/// Audio of no known container: its `data:` URL takes the default type.
const AUDIO_BYTES: &[u8] = b"fal-ai test audio clip: raw samples, no container";

fn image_path() -> std::path::PathBuf {
    inputs_dir().join("cheetah.png")
}

/// `data:image/png;base64,…` of the test image (a path ending in `.png` whose bytes are a PNG:
/// the reference's `_as_url` guesses `image/png` from the name, the SDK from the bytes).
fn image_data_url() -> String {
    let bytes = std::fs::read(image_path()).expect("read cheetah.png");
    format!("data:image/png;base64,{}", b64(&bytes))
}

/// §3.4 ASR: a non-URL input becomes `data:audio/mpeg;base64,…`.
fn audio_data_url() -> String {
    format!("data:audio/mpeg;base64,{}", b64(AUDIO_BYTES))
}

/// The body §3.4 gives for this file's standard call of each pair.
fn reference_body(pair: Pair) -> Value {
    match pair {
        // `{"prompt", …params}`, width + height → `image_size`. `sync_mode: true` is the SDK's
        // deliberate addition (the JS client's final requests carry it, see the tapes): fal
        // then answers the image inline as a `data:` URL, one request instead of two.
        Pair::TextToImage => json!({
            "prompt": PROMPT_IMAGE,
            "image_size": {"width": 1024, "height": 768},
            "num_inference_steps": 28,
            "guidance_scale": 3.5,
            "seed": 42,
            "negative_prompt": NEGATIVE,
            "sync_mode": true
        }),
        // `{"text": text, …params}`.
        Pair::TextToSpeech => json!({"text": SPEECH_TEXT}),
        // `{"audio_url": data:audio/mpeg;base64,…}`.
        Pair::SpeechRecognition => json!({"audio_url": audio_data_url()}),
        // `{"prompt", …params}`.
        Pair::TextToVideo => json!({
            "prompt": PROMPT_VIDEO,
            "num_frames": 81,
            "num_inference_steps": 30,
            "guidance_scale": 5.0,
            "seed": 7,
            "negative_prompt": [NEGATIVE]
        }),
        // `{"image_url": _as_url(img, "image/jpeg"), …params}`.
        Pair::ImageToVideo => json!({
            "image_url": image_data_url(),
            "prompt": PROMPT_ANIMATE,
            "num_inference_steps": 30,
            "seed": 7
        }),
        // `{"image_url": U, "image_urls": [U], …params}`, `target_size` → `image_size`.
        Pair::ImageToImage => {
            let url = image_data_url();
            json!({
                "image_url": url,
                "image_urls": [url],
                "prompt": PROMPT_EDIT,
                "image_size": {"width": 512, "height": 512},
                "guidance_scale": 2.5,
                "num_inference_steps": 28
            })
        }
        // `{"image_url": _as_url(img, "image/png"), …params, "sync_mode": true}`.
        Pair::ImageSegmentation => json!({
            "image_url": image_data_url(),
            "threshold": 0.5,
            "sync_mode": true
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// The calls, through the generated entry methods and setters

/// What a call produced.
#[derive(Debug)]
enum Output {
    File(Blob),
    Json(Value),
}

impl Output {
    fn file(self, what: &str) -> Blob {
        match self {
            Output::File(blob) => blob,
            Output::Json(v) => panic!("{what}: expected a file, got JSON {}", expect::show(&v)),
        }
    }

    fn json(self, what: &str) -> Value {
        match self {
            Output::Json(v) => v,
            Output::File(b) => panic!("{what}: expected JSON, got a {}-byte file", b.bytes().len()),
        }
    }
}

struct Done {
    preview: RequestPreview,
    output: Option<Result<Output, Error>>,
}

/// Options of one call beyond the standard parameters.
#[derive(Clone, Default)]
struct Options {
    /// Replaces the standard image or audio input.
    input: Option<BinaryInput>,
    extra_body: Option<Value>,
    poll_interval: Option<Duration>,
    statuses: Option<Arc<Mutex<Vec<JobStatus>>>>,
    /// Leave out the standard parameters (text-to-image only: width without height).
    only_width: bool,
}

impl Options {
    fn fast() -> Self {
        Options {
            poll_interval: Some(Duration::from_millis(20)),
            ..Options::default()
        }
    }
}

async fn exercise<I, O>(
    request: TaskRequest<'_, I, O>,
    send: bool,
    wrap: fn(O) -> Output,
) -> Result<Done, Error>
where
    I: Serialize + Clone,
{
    let preview = request.clone().preview().await?;
    let output = if send {
        Some(request.send().await.map(wrap))
    } else {
        None
    };
    Ok(Done { preview, output })
}

fn to_json<T: Serialize>(value: T) -> Output {
    Output::Json(serde_json::to_value(value).expect("the typed output serializes"))
}

/// The standard call of `pair` (realistic parameters), previewed, and sent when `send`.
async fn call(
    client: &InferenceClient,
    pair: Pair,
    options: &Options,
    send: bool,
) -> Result<Done, Error> {
    macro_rules! go {
        ($request:expr, $wrap:expr) => {{
            let mut request = $request.model(pair.hub_model()).provider(Provider::FalAi);
            if let Some(extra) = &options.extra_body {
                request = request.extra_body(extra.clone());
            }
            if let Some(interval) = options.poll_interval {
                request = request.poll_interval(interval);
            }
            if let Some(log) = &options.statuses {
                let log = log.clone();
                request =
                    request.on_status(move |s: &JobStatus| log.lock().unwrap().push(s.clone()));
            }
            exercise(request, send, $wrap).await
        }};
    }
    let image = || {
        options
            .input
            .clone()
            .unwrap_or_else(|| BinaryInput::from_path(image_path()))
    };
    match pair {
        Pair::TextToImage if options.only_width => {
            go!(client.text_to_image(PROMPT_IMAGE).width(1024), Output::File)
        }
        Pair::TextToImage => go!(
            client
                .text_to_image(PROMPT_IMAGE)
                .width(1024)
                .height(768)
                .num_inference_steps(28)
                .guidance_scale(3.5)
                .seed(42)
                .negative_prompt(NEGATIVE),
            Output::File
        ),
        Pair::TextToSpeech => go!(client.text_to_speech(SPEECH_TEXT), Output::File),
        Pair::SpeechRecognition => {
            let audio = options
                .input
                .clone()
                .unwrap_or_else(|| BinaryInput::from_bytes(AUDIO_BYTES.to_vec()));
            go!(client.automatic_speech_recognition(audio), to_json)
        }
        Pair::TextToVideo => go!(
            client
                .text_to_video(PROMPT_VIDEO)
                .num_frames(81.0)
                .num_inference_steps(30)
                .guidance_scale(5.0)
                .seed(7)
                .negative_prompt(vec![NEGATIVE.to_owned()]),
            Output::File
        ),
        Pair::ImageToVideo => go!(
            client
                .image_to_video(image())
                .prompt(PROMPT_ANIMATE)
                .num_inference_steps(30)
                .seed(7),
            Output::File
        ),
        Pair::ImageToImage => go!(
            client
                .image_to_image(image())
                .prompt(PROMPT_EDIT)
                .target_size(ImageToImageParametersTargetSize::new(512, 512))
                .guidance_scale(2.5)
                .num_inference_steps(28),
            Output::File
        ),
        Pair::ImageSegmentation => {
            go!(client.image_segmentation(image()).threshold(0.5), to_json)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Clients and loopback helpers

fn pinned(
    mut builder: hf_inference::InferenceClientBuilder,
) -> hf_inference::InferenceClientBuilder {
    for pair in Pair::ALL {
        builder = builder.model_mapping(pair.hub_model(), Provider::FalAi, pair.provider_id());
    }
    builder
}

/// The real router and fal hosts (previews only), the Hub on a counter.
fn preview_client(mode: Mode, hub: &ConnectionCounter) -> InferenceClient {
    pinned(
        InferenceClient::builder()
            .token(token(mode))
            .hub_url(hub.url()),
    )
    .build()
    .expect("client")
}

/// The router, fal.run, queue.fal.run and the Hub on the replay server's listeners.
fn loopback_client(
    mode: Mode,
    server: &ReplayServer,
    timeout: Option<Duration>,
) -> InferenceClient {
    let mut builder = pinned(
        loopback_builder(token(mode), server)
            .provider_host_url(Provider::FalAi, "api", server.url_for_host(API_HOST))
            .provider_host_url(Provider::FalAi, "queue", server.url_for_host(QUEUE_HOST)),
    );
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    builder.build().expect("client")
}

/// What a synthetic tape answers.
enum Reply<'a> {
    /// A JSON document with its status.
    Json(u16, &'a Value),
    /// A file (status 200) with its content type.
    File(&'a str, &'a [u8]),
}

/// A synthetic tape: the replay server answers `reply` to exactly this request (a JSON body
/// must equal `body`), and answers several tapes with the same request in `step` order.
fn synthetic(
    label: &str,
    step: u32,
    method: &str,
    url: &str,
    body: Option<&Value>,
    reply: Reply<'_>,
) -> Tape {
    let body = body.map_or(BodyExpect::Empty, |body| BodyExpect::Json(body.clone()));
    let (status, reply) = match reply {
        Reply::Json(status, json) => (status, support::Reply::Json(json.clone())),
        Reply::File(content_type, bytes) => (200, support::Reply::Bytes(content_type, bytes)),
    };
    synthetic_tape(label, step, method, url, body, status, reply)
}

// ---------------------------------------------------------------------------------------------
// Previews and snapshots

/// Long strings (`data:` URLs) shortened for snapshots and messages.
fn shorten(value: &Value) -> Value {
    match value {
        Value::String(s) if s.len() > 160 => Value::String(format!(
            "{}…<{} chars, sha256 {}>",
            &s[..48],
            s.len(),
            &sha256_hex(s.as_bytes())[..16]
        )),
        Value::Array(items) => Value::Array(items.iter().map(shorten).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shorten(v))).collect())
        }
        other => other.clone(),
    }
}

/// The preview as a snapshot: method and URL, headers sorted by name (the version masked), then
/// the pretty JSON body with long strings shortened.
fn render(preview: &RequestPreview) -> String {
    let body = preview.body_json().expect("a JSON body");
    render_json(preview, &shorten(&body))
}

/// Facts every fal preview satisfies.
fn check_common(preview: &RequestPreview, mode: Mode, what: &str) {
    let secrets = [token(mode), SECRET_PART];
    check_preview(
        preview,
        &secrets,
        Some(&render(preview)),
        "application/json",
        what,
    );
    assert_eq!(preview.header("x-key"), None, "{what}: fal takes no X-Key");
}

fn assert_body(actual: &Value, expected: &Value, what: &str) {
    let diff = json_diff(expected, actual, 10);
    assert!(
        diff.is_empty(),
        "{what}: the body is not the reference body:\n{}\nsent: {}",
        diff.join("\n"),
        expect::show(&shorten(actual))
    );
}

#[tokio::test]
async fn fal_requests_for_every_pair_and_mode() {
    // The table serves exactly the reference's fal tasks (§3.1: t2i, i2i, t2v, i2v, TTS, ASR,
    // image-segmentation), on the reference's hosts.
    let served: BTreeSet<&str> = Provider::FalAi
        .spec()
        .tasks
        .iter()
        // The JS client's image-text tasks (not in 2.4.0): tests/image_text_tasks.rs.
        .filter(|t| !matches!(t.task, Task::ImageTextToImage | Task::ImageTextToVideo))
        .map(|t| t.task.as_str())
        .collect();
    let reference: BTreeSet<&str> = Pair::ALL.iter().map(|p| p.task().as_str()).collect();
    assert_eq!(served, reference, "fal-ai tasks: table vs reference §3.1");
    let hosts: BTreeMap<&str, &str> = Provider::FalAi
        .spec()
        .hosts
        .iter()
        .map(|h| (h.name, h.base_url))
        .collect();
    assert_eq!(
        hosts,
        BTreeMap::from([("api", API_BASE), ("queue", QUEUE_BASE)]),
        "fal-ai hosts (§3.4)"
    );

    let hub = ConnectionCounter::start();
    let mut snapshots = 0;
    for pair in Pair::ALL {
        for mode in Mode::BOTH {
            let what = format!("{} on fal-ai ({})", pair.task(), mode.name());
            let client = preview_client(mode, &hub);
            let preview = call(&client, pair, &Options::default(), false)
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"))
                .preview;
            check_common(&preview, mode, &what);
            assert_eq!(preview.url, expected_url(pair, mode), "{what}: URL");
            assert_body(
                &preview.body_json().expect("JSON"),
                &reference_body(pair),
                &what,
            );
            insta::assert_snapshot!(
                format!("{}__{}", pair.task(), mode.name()),
                render(&preview)
            );
            snapshots += 1;
        }
    }
    assert_eq!(snapshots, 14, "7 fal tasks x 2 modes");

    let client = preview_client(Mode::Direct, &hub);
    let preview_of = |pair: Pair, options: Options| {
        let client = &client;
        async move {
            call(client, pair, &options, false)
                .await
                .unwrap_or_else(|e| panic!("{pair:?}: {e}"))
                .preview
                .body_json()
                .expect("JSON")
        }
    };

    // §3.4: `image_size` only when both width and height are given.
    let body = preview_of(
        Pair::TextToImage,
        Options {
            only_width: true,
            ..Options::default()
        },
    )
    .await;
    assert_body(
        &body,
        &json!({"prompt": PROMPT_IMAGE, "width": 1024, "sync_mode": true}),
        "text-to-image with a width only",
    );

    // §1.5 `_as_url`: http(s) URLs are passed through, never fetched.
    let file_host = ConnectionCounter::start();
    for (pair, file) in [
        (Pair::SpeechRecognition, "sample1.flac"),
        (Pair::ImageToVideo, "cheetah.png"),
        (Pair::ImageToImage, "cheetah.png"),
        (Pair::ImageSegmentation, "cheetah.png"),
    ] {
        let url = format!("{}/inputs/{file}?sig=abc", file_host.url());
        let body = preview_of(
            pair,
            Options {
                input: Some(BinaryInput::from_url(&url).expect("URL input")),
                ..Options::default()
            },
        )
        .await;
        let mut expected = reference_body(pair);
        let key = if pair == Pair::SpeechRecognition {
            "audio_url"
        } else {
            "image_url"
        };
        expected[key] = json!(url);
        if pair == Pair::ImageToImage {
            expected["image_urls"] = json!([url]);
        }
        assert_body(&body, &expected, &format!("{pair:?} with a URL input"));
    }
    assert_eq!(
        file_host.connections(),
        0,
        "URL inputs are passed through, not downloaded"
    );

    // ASR: an input of a known type keeps its type (the JS client sends the Blob's type, e.g.
    // `data:audio/x-wav`, as the ASR tape shows); unknown bytes get the reference's
    // `audio/mpeg` (checked above).
    let flac = std::fs::read(inputs_dir().join("sample1.flac")).expect("read sample1.flac");
    let body = preview_of(
        Pair::SpeechRecognition,
        Options {
            input: Some(BinaryInput::from_path(inputs_dir().join("sample1.flac"))),
            ..Options::default()
        },
    )
    .await;
    assert_body(
        &body,
        &json!({"audio_url": format!("data:audio/flac;base64,{}", b64(&flac))}),
        "ASR with a FLAC file",
    );

    // `extra_body` goes where the reference spreads it (its `extra_body` joins the parameters,
    // which fal spreads at the body root, §3.0): root keys at the root, last.
    let voice = json!({"voice": "af_heart", "speed": 1.1});
    let body = preview_of(
        Pair::TextToSpeech,
        Options {
            extra_body: Some(voice.clone()),
            ..Options::default()
        },
    )
    .await;
    assert_body(
        &body,
        &json!({"text": SPEECH_TEXT, "voice": "af_heart", "speed": 1.1}),
        "text-to-speech with extra_body",
    );
    // A LoRA passed by hand (the SDK does not derive `loras` from the Hub mapping).
    let lora = json!({"loras": [{"path": "https://huggingface.co/o/m/resolve/main/l.safetensors", "scale": 1}]});
    let body = preview_of(
        Pair::TextToImage,
        Options {
            extra_body: Some(lora.clone()),
            ..Options::default()
        },
    )
    .await;
    let mut expected = reference_body(Pair::TextToImage);
    expected["loras"] = lora["loras"].clone();
    assert_body(&body, &expected, "text-to-image with loras in extra_body");
    // `extra_body` wins over what the SDK sets (merged last).
    let body = preview_of(
        Pair::TextToImage,
        Options {
            extra_body: Some(json!({"sync_mode": false})),
            ..Options::default()
        },
    )
    .await;
    assert_eq!(body["sync_mode"], json!(false), "extra_body is merged last");
    // Video sizes are not renamed: §3.4 renames width/height only for text-to-image.
    let body = preview_of(
        Pair::TextToVideo,
        Options {
            extra_body: Some(json!({"parameters": {"width": 832, "height": 480}})),
            ..Options::default()
        },
    )
    .await;
    let mut expected = reference_body(Pair::TextToVideo);
    expected["width"] = json!(832);
    expected["height"] = json!(480);
    assert_body(&body, &expected, "text-to-video with width and height");

    assert_eq!(hub.connections(), 0, "pinned mappings: no Hub lookup");
}

// ---------------------------------------------------------------------------------------------
// Sync tasks on the wire

const PNG_BYTES: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR fal-ai test image";
const WAV_BYTES: &[u8] = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00 fal-ai test speech";
const MP4_BYTES: &[u8] = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom fal-ai test video";
const MASK_BYTES: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR fal-ai test mask";

/// Checks the submit request against the preview and the reference.
fn check_submit(
    sent: &RecordedRequest,
    preview: &RequestPreview,
    pair: Pair,
    mode: Mode,
    what: &str,
) {
    assert_sent_to(sent, "POST", &expected_url(pair, mode), what);
    assert_eq!(
        sent.header("authorization"),
        Some(authorization(mode).as_str()),
        "{what}: auth (§2.3)"
    );
    assert_eq!(sent.header("x-key"), None, "{what}");
    assert_eq!(
        sent.header("content-type"),
        Some("application/json"),
        "{what}"
    );
    assert_eq!(
        sent.body.as_ref(),
        preview.body.as_deref().unwrap_or_default(),
        "{what}: the body on the wire is the previewed body"
    );
    assert_body(
        &sent.json().expect("JSON body"),
        &reference_body(pair),
        what,
    );
}

#[tokio::test]
async fn fal_sync_tasks_on_the_wire() {
    let hub_counter = ConnectionCounter::start();
    for mode in Mode::BOTH {
        let preview_client = preview_client(mode, &hub_counter);

        // text-to-image, answered inline (`sync_mode`): one request, the file decoded.
        let pair = Pair::TextToImage;
        let what = format!("text-to-image inline ({})", mode.name());
        let answer = json!({
            "images": [{"url": format!("data:image/png;base64,{}", b64(PNG_BYTES)),
                        "width": 1024, "height": 768, "content_type": "image/png"}],
            "timings": {"inference": 0.35}, "seed": 42, "has_nsfw_concepts": [false],
            "prompt": PROMPT_IMAGE
        });
        let server = ReplayServer::start([synthetic(
            "t2i",
            1,
            "POST",
            &expected_url(pair, mode),
            Some(&reference_body(pair)),
            Reply::Json(200, &answer),
        )])
        .expect("server");
        let client = loopback_client(mode, &server, None);
        let done = call(&client, pair, &Options::default(), true)
            .await
            .expect("call");
        let blob = done
            .output
            .unwrap()
            .unwrap_or_else(|e| panic!("{what}: {e}"))
            .file(&what);
        assert_eq!(
            blob.bytes().as_ref(),
            PNG_BYTES,
            "{what}: the decoded image"
        );
        assert_eq!(blob.content_type(), Some("image/png"), "{what}");
        let requests = server.requests();
        assert_eq!(
            requests.len(),
            1,
            "{what}: one request, the image came inline"
        );
        check_submit(&requests[0], &done.preview, pair, mode, &what);
        server.assert_all_matched();
        let preview = call(&preview_client, pair, &Options::default(), false)
            .await
            .unwrap()
            .preview;
        assert_eq!(
            preview.body, done.preview.body,
            "{what}: same body as the preview client"
        );

        // text-to-image answered with a CDN URL (a model that ignores `sync_mode`): the file is
        // downloaded without credentials.
        let what = format!("text-to-image CDN ({})", mode.name());
        let file_url = format!("https://{CDN_HOST}/files/tiger/t2i-output.png");
        let answer = json!({"images": [{"url": file_url, "width": 1024, "height": 768,
                                        "content_type": "image/png"}], "seed": 42});
        let server = ReplayServer::start([
            synthetic(
                "t2i",
                1,
                "POST",
                &expected_url(pair, mode),
                Some(&reference_body(pair)),
                Reply::Json(200, &answer),
            ),
            synthetic(
                "t2i-file",
                2,
                "GET",
                &file_url,
                None,
                Reply::File("image/png", PNG_BYTES),
            ),
        ])
        .expect("server");
        let client = loopback_client(mode, &server, None);
        let done = call(&client, pair, &Options::default(), true)
            .await
            .expect("call");
        let blob = done
            .output
            .unwrap()
            .unwrap_or_else(|e| panic!("{what}: {e}"))
            .file(&what);
        assert_eq!(blob.bytes().as_ref(), PNG_BYTES, "{what}");
        assert_eq!(blob.content_type(), Some("image/png"), "{what}");
        let requests = server.requests();
        assert_eq!(requests.len(), 2, "{what}: submit, download");
        check_submit(&requests[0], &done.preview, pair, mode, &what);
        assert_sent_to(&requests[1], "GET", &file_url, &what);
        assert_no_credentials(
            &requests[1],
            SECRET_PART,
            &format!("{what}: the file download"),
        );
        server.assert_all_matched();

        // text-to-speech: `audio.url` downloaded without credentials.
        let pair = Pair::TextToSpeech;
        let what = format!("text-to-speech ({})", mode.name());
        let file_url = format!("https://{CDN_HOST}/files/koala/tts-output.wav");
        let answer = json!({"audio": {"url": file_url, "content_type": "audio/wav",
                                       "file_name": "tts-output.wav", "file_size": 48044}});
        let server = ReplayServer::start([
            synthetic(
                "tts",
                1,
                "POST",
                &expected_url(pair, mode),
                Some(&reference_body(pair)),
                Reply::Json(200, &answer),
            ),
            synthetic(
                "tts-file",
                2,
                "GET",
                &file_url,
                None,
                Reply::File("audio/wav", WAV_BYTES),
            ),
        ])
        .expect("server");
        let client = loopback_client(mode, &server, None);
        let done = call(&client, pair, &Options::default(), true)
            .await
            .expect("call");
        let blob = done
            .output
            .unwrap()
            .unwrap_or_else(|e| panic!("{what}: {e}"))
            .file(&what);
        assert_eq!(blob.bytes().as_ref(), WAV_BYTES, "{what}");
        assert_eq!(blob.content_type(), Some("audio/wav"), "{what}");
        let requests = server.requests();
        assert_eq!(requests.len(), 2, "{what}: submit, download");
        check_submit(&requests[0], &done.preview, pair, mode, &what);
        assert_sent_to(&requests[1], "GET", &file_url, &what);
        assert_no_credentials(
            &requests[1],
            SECRET_PART,
            &format!("{what}: the file download"),
        );
        server.assert_all_matched();

        // ASR: `{"text"}`; the chunks are dropped as in the reference 2.4.0 (§3.4).
        let pair = Pair::SpeechRecognition;
        let what = format!("ASR ({})", mode.name());
        let text = " he has grave doubts whether sir frederick leighton's work is really greek";
        let answer = json!({"text": text, "chunks": [{"timestamp": [0, 9.9], "text": text,
                            "speaker": null}], "inferred_languages": ["en"],
                            "diarization_segments": []});
        let server = ReplayServer::start([synthetic(
            "asr",
            1,
            "POST",
            &expected_url(pair, mode),
            Some(&reference_body(pair)),
            Reply::Json(200, &answer),
        )])
        .expect("server");
        let client = loopback_client(mode, &server, None);
        let done = call(&client, pair, &Options::default(), true)
            .await
            .expect("call");
        let out = done
            .output
            .unwrap()
            .unwrap_or_else(|e| panic!("{what}: {e}"))
            .json(&what);
        assert_eq!(out, json!({"text": text}), "{what}: text only");
        let requests = server.requests();
        assert_eq!(requests.len(), 1, "{what}");
        check_submit(&requests[0], &done.preview, pair, mode, &what);

        // An ASR answer without a `text` string is refused (§3.4: ValueError).
        let server = ReplayServer::start([synthetic(
            "asr",
            1,
            "POST",
            &expected_url(pair, mode),
            Some(&reference_body(pair)),
            Reply::Json(200, &json!({"text": null, "chunks": []})),
        )])
        .expect("server");
        let client = loopback_client(mode, &server, None);
        let err = call(&client, pair, &Options::default(), true)
            .await
            .unwrap()
            .output
            .unwrap();
        assert!(matches!(err, Err(Error::Decode { .. })), "{what}: {err:?}");

        // An error answer: the typed error with fal's message (`detail[].msg`).
        let pair = Pair::TextToImage;
        let what = format!("text-to-image 422 ({})", mode.name());
        let detail = json!({"detail": [{"loc": ["body", "image_size"], "msg": "value is not a valid enumeration member", "type": "type_error.enum"}]});
        let server = ReplayServer::start([synthetic(
            "t2i-422",
            1,
            "POST",
            &expected_url(pair, mode),
            Some(&reference_body(pair)),
            Reply::Json(422, &detail),
        )])
        .expect("server");
        let client = loopback_client(mode, &server, None);
        let err = match call(&client, pair, &Options::default(), true)
            .await
            .unwrap()
            .output
            .unwrap()
        {
            Err(e) => e,
            Ok(out) => panic!("{what}: a 422 answered {out:?}"),
        };
        assert_http_error(&err, 422, "value is not a valid enumeration member", &what);
        assert_eq!(server.requests().len(), 1, "{what}: no retry");
        assert!(!err.to_string().contains(SECRET_PART), "{what}: {err}");

        assert!(server.requests_to(HUB_HOST).is_empty(), "no Hub lookup");
    }
    assert_eq!(
        hub_counter.connections(),
        0,
        "pinned mappings: no Hub lookup"
    );
}

// ---------------------------------------------------------------------------------------------
// The queue

/// What the queue's result points at.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Asset {
    /// A file on fal's CDN (another host), downloaded.
    Cdn,
    /// A `data:` URL in the result (segmentation with `sync_mode`): no download.
    Inline,
}

struct QueueScript {
    request_id: String,
    /// The status answers after the submit's, in order (the last one repeats).
    statuses: Vec<&'static str>,
    /// The result's status code and body.
    result: (u16, Value),
    asset: Option<(String, &'static [u8], &'static str)>,
}

fn queue_script(pair: Pair, mode: Mode, asset: Asset) -> QueueScript {
    let request_id = format!(
        "{:08x}-7c1e-4d2b-9a3f-{}{:06x}",
        pair as u32 * 16 + (mode == Mode::Direct) as u32,
        "0123ab",
        asset as u32
    );
    let file = |name: &str| format!("https://{CDN_HOST}/files/penguin/{request_id}_{name}");
    let (result, asset) = match (pair, asset) {
        (Pair::TextToVideo | Pair::ImageToVideo, _) => {
            let url = file("output.mp4");
            (
                json!({"video": {"url": url, "content_type": "video/mp4", "file_name": "output.mp4",
                                 "file_size": MP4_BYTES.len()}, "seed": 7,
                       "prompt": if pair == Pair::TextToVideo { PROMPT_VIDEO } else { PROMPT_ANIMATE }}),
                Some((url, MP4_BYTES, "video/mp4")),
            )
        }
        (Pair::ImageToImage, _) => {
            let url = file("edited.png");
            (
                json!({"images": [{"url": url, "content_type": "image/png", "width": 512,
                                   "height": 512}], "seed": 1234, "has_nsfw_concepts": [false],
                       "prompt": PROMPT_EDIT}),
                Some((url, PNG_BYTES, "image/png")),
            )
        }
        (Pair::ImageSegmentation, Asset::Inline) => (
            json!({"image": {"url": format!("data:image/png;base64,{}", b64(MASK_BYTES)),
                             "content_type": "image/png", "file_name": "mask.png",
                             "width": 1024, "height": 1024}}),
            None,
        ),
        (Pair::ImageSegmentation, Asset::Cdn) => {
            let url = file("mask.png");
            (
                json!({"image": {"url": url, "content_type": "image/png", "file_name": "mask.png",
                                 "width": 1024, "height": 1024}}),
                Some((url, MASK_BYTES, "image/png")),
            )
        }
        (other, _) => panic!("{other:?} is not queued"),
    };
    QueueScript {
        request_id,
        statuses: vec!["IN_QUEUE", "IN_PROGRESS", "COMPLETED"],
        result: (200, result),
        asset,
    }
}

/// The replay server of a queue script: only the reference URLs are answered.
fn queue_server(pair: Pair, mode: Mode, script: &QueueScript) -> ReplayServer {
    let id = &script.request_id;
    // fal's answers name queue.fal.run, whatever the mode.
    let response_url = format!("{QUEUE_BASE}/{}/requests/{id}", pair.queue_app());
    let queue_answer = |status: &str| {
        let mut answer = json!({
            "status": status,
            "request_id": id,
            "response_url": response_url,
            "status_url": format!("{response_url}/status"),
            "cancel_url": format!("{response_url}/cancel"),
        });
        match status {
            "IN_QUEUE" => answer["queue_position"] = json!(0),
            "COMPLETED" => answer["metrics"] = json!({"inference_time": 41.2}),
            _ => answer["logs"] = Value::Null,
        }
        answer
    };
    let (status_url, result_url) = expected_queue_urls(pair, mode, id);
    let mut tapes = vec![synthetic(
        "submit",
        1,
        "POST",
        &expected_url(pair, mode),
        Some(&reference_body(pair)),
        Reply::Json(200, &queue_answer("IN_QUEUE")),
    )];
    for (i, status) in script.statuses.iter().enumerate() {
        tapes.push(synthetic(
            &format!("status {}: {status}", i + 1),
            2 + i as u32,
            "GET",
            &status_url,
            None,
            Reply::Json(200, &queue_answer(status)),
        ));
    }
    let (code, result) = &script.result;
    tapes.push(synthetic(
        "result",
        10,
        "GET",
        &result_url,
        None,
        Reply::Json(*code, result),
    ));
    if let Some((url, bytes, content_type)) = &script.asset {
        tapes.push(synthetic(
            "file",
            11,
            "GET",
            url,
            None,
            Reply::File(content_type, bytes),
        ));
    }
    ReplayServer::start(tapes).expect("replay server")
}

/// Runs one queue flow and checks every request and the callbacks.
async fn check_queue_flow(pair: Pair, mode: Mode, asset: Asset) {
    let what = format!("{} queue ({}, {asset:?} result)", pair.task(), mode.name());
    let script = queue_script(pair, mode, asset);
    let server = queue_server(pair, mode, &script);
    let client = loopback_client(mode, &server, Some(Duration::from_secs(30)));
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let options = Options {
        statuses: Some(statuses.clone()),
        ..Options::fast()
    };
    let done = call(&client, pair, &options, true)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let output = done
        .output
        .unwrap()
        .unwrap_or_else(|e| panic!("{what}: {e}\nrequests: {:#?}", server.requests()));

    // The answer.
    match pair {
        Pair::ImageSegmentation => {
            let out = output.json(&what);
            let items = out.as_array().expect("a list of masks");
            assert_eq!(items.len(), 1, "{what}: {out}");
            assert_eq!(items[0]["label"], json!("mask"), "{what}");
            assert_eq!(
                items[0]["mask"],
                json!(b64(MASK_BYTES)),
                "{what}: the mask, base64"
            );
        }
        _ => {
            let (_, bytes, content_type) = script.asset.as_ref().expect("a file");
            let blob = output.file(&what);
            assert_eq!(blob.bytes().as_ref(), *bytes, "{what}: the downloaded file");
            assert_eq!(blob.content_type(), Some(*content_type), "{what}");
        }
    }

    // The requests: submit, 3 status polls, result, file (§3.4: exactly these GETs).
    server.assert_all_matched();
    let requests = server.requests();
    let expected_count = 5 + usize::from(script.asset.is_some());
    assert_eq!(
        requests.len(),
        expected_count,
        "{what}: {:#?}",
        requests
            .iter()
            .map(RecordedRequest::original_url)
            .collect::<Vec<_>>()
    );
    check_submit(&requests[0], &done.preview, pair, mode, &what);
    let (status_url, result_url) = expected_queue_urls(pair, mode, &script.request_id);
    for (i, poll) in requests[1..4].iter().enumerate() {
        let what = format!("{what}: status poll {}", i + 1);
        assert_sent_to(poll, "GET", &status_url, &what);
        assert_eq!(
            poll.host, requests[0].host,
            "{what}: the host of the submit"
        );
        assert_eq!(
            poll.header("authorization"),
            Some(authorization(mode).as_str()),
            "{what}: the call's credentials"
        );
        assert!(poll.body.is_empty(), "{what}: no body");
    }
    let result = &requests[4];
    assert_sent_to(result, "GET", &result_url, &format!("{what}: result"));
    assert_eq!(
        result.header("authorization"),
        Some(authorization(mode).as_str()),
        "{what}: result with the call's credentials"
    );
    if let Some((url, _, _)) = &script.asset {
        let download = &requests[5];
        assert_sent_to(download, "GET", url, &format!("{what}: download"));
        assert_ne!(
            download.host, requests[0].host,
            "{what}: the file is on another host"
        );
        assert_no_credentials(download, SECRET_PART, &format!("{what}: download"));
    }
    assert!(
        server.requests_to(HUB_HOST).is_empty(),
        "{what}: no Hub lookup"
    );

    // The status callback saw the submit's status and every poll's.
    let seen = statuses.lock().unwrap().clone();
    let names: Vec<&str> = seen.iter().map(|s| s.status.as_str()).collect();
    assert_eq!(
        names,
        ["IN_QUEUE", "IN_QUEUE", "IN_PROGRESS", "COMPLETED"],
        "{what}: on_status"
    );
    for (i, status) in seen.iter().enumerate() {
        assert_eq!(status.provider, "fal-ai", "{what}");
        assert_eq!(status.job_id, script.request_id, "{what}: the request id");
        assert_eq!(status.polls as usize, i, "{what}: polls so far");
    }
    assert!(
        seen.windows(2).all(|w| w[0].elapsed <= w[1].elapsed),
        "{what}: elapsed grows"
    );
}

#[tokio::test]
async fn fal_queue_flow_routed_and_direct() {
    for pair in Pair::QUEUED {
        for mode in Mode::BOTH {
            let asset = if pair == Pair::ImageSegmentation {
                Asset::Inline
            } else {
                Asset::Cdn
            };
            check_queue_flow(pair, mode, asset).await;
        }
    }
    // §3.4: a segmentation mask behind a URL is downloaded (3 GETs plus the file).
    for mode in Mode::BOTH {
        check_queue_flow(Pair::ImageSegmentation, mode, Asset::Cdn).await;
    }
}

/// Without `.poll_interval`, fal's own 0.5 s passes before each poll (§3.4 step 6).
#[tokio::test]
async fn fal_queue_waits_half_a_second_between_polls() {
    let (pair, mode) = (Pair::TextToVideo, Mode::Direct);
    let script = queue_script(pair, mode, Asset::Cdn);
    let server = queue_server(pair, mode, &script);
    let client = loopback_client(mode, &server, Some(Duration::from_secs(30)));
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let options = Options {
        statuses: Some(statuses.clone()),
        ..Options::default()
    };
    let started = Instant::now();
    let done = call(&client, pair, &options, true).await.expect("call");
    done.output.unwrap().expect("the video");
    let seen = statuses.lock().unwrap().clone();
    assert_eq!(seen.len(), 4, "{seen:?}");
    for pair in seen.windows(2) {
        let gap = pair[1].elapsed - pair[0].elapsed;
        assert!(
            gap >= Duration::from_millis(500) && gap < Duration::from_millis(1500),
            "a poll {gap:?} after the previous status; fal's interval is 0.5 s"
        );
    }
    assert!(started.elapsed() >= Duration::from_millis(1500));
}

/// A queue that never completes: `Error::JobTimeout` with the request id once the client's
/// timeout has passed (the reference polls forever, §3.15).
#[tokio::test]
async fn fal_queue_that_never_completes_times_out() {
    for mode in Mode::BOTH {
        let pair = Pair::TextToVideo;
        let what = format!("a stuck queue ({})", mode.name());
        let mut script = queue_script(pair, mode, Asset::Cdn);
        script.statuses = vec!["IN_QUEUE", "IN_PROGRESS"];
        let server = queue_server(pair, mode, &script);
        let timeout = Duration::from_millis(600);
        let client = loopback_client(mode, &server, Some(timeout));
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let options = Options {
            statuses: Some(statuses.clone()),
            poll_interval: Some(Duration::from_millis(50)),
            ..Options::default()
        };
        let started = Instant::now();
        // Bounded here too: a client that ignored its deadline would poll forever.
        let result =
            tokio::time::timeout(Duration::from_secs(10), call(&client, pair, &options, true))
                .await
                .unwrap_or_else(|_| panic!("{what}: still polling after 10 s"))
                .expect("call")
                .output
                .unwrap();
        let elapsed = started.elapsed();
        let err = match result {
            Err(e) => e,
            Ok(out) => panic!("{what}: answered {out:?}"),
        };
        assert_job_timeout(&err, "fal-ai", &script.request_id, timeout, &what);
        assert!(elapsed < Duration::from_secs(5), "{what}: took {elapsed:?}");
        let requests = server.requests();
        let (status_url, result_url) = expected_queue_urls(pair, mode, &script.request_id);
        let polls: Vec<&RecordedRequest> = requests[1..].iter().collect();
        assert!(
            (3..=12).contains(&polls.len()),
            "{what}: about 600 ms / 50 ms polls, got {}",
            polls.len()
        );
        for poll in &polls {
            assert_sent_to(poll, "GET", &status_url, &what);
            assert_eq!(
                poll.header("authorization"),
                Some(authorization(mode).as_str()),
                "{what}"
            );
        }
        let (_, result_path, _) = url_parts(&result_url);
        assert!(
            requests.iter().all(|r| r.path != result_path),
            "{what}: no result fetched"
        );
        let seen = statuses.lock().unwrap();
        assert!(
            seen.iter().skip(2).all(|s| s.status == "IN_PROGRESS"),
            "{what}: {seen:?}"
        );
    }
}

/// Queue answers that are not a success.
#[tokio::test]
async fn fal_queue_failures_are_typed() {
    let pair = Pair::ImageToImage;
    for mode in Mode::BOTH {
        // The result answers an error: the typed HTTP error with fal's message.
        let what = format!("a failed result ({})", mode.name());
        let mut script = queue_script(pair, mode, Asset::Cdn);
        script.result = (
            422,
            json!({"detail": [{"loc": ["body", "image_url"], "msg": "Could not download the image", "type": "file_download_error"}]}),
        );
        script.asset = None;
        let server = queue_server(pair, mode, &script);
        let client = loopback_client(mode, &server, Some(Duration::from_secs(30)));
        let err = match call(&client, pair, &Options::fast(), true)
            .await
            .unwrap()
            .output
            .unwrap()
        {
            Err(e) => e,
            Ok(out) => panic!("{what}: answered {out:?}"),
        };
        assert_http_error(&err, 422, "Could not download the image", &what);
        assert!(!err.to_string().contains(SECRET_PART), "{what}: {err}");

        // A submit answer without `request_id` (§3.4 step 1: an error, no polling).
        let what = format!("no request id ({})", mode.name());
        let server = ReplayServer::start([synthetic(
            "submit",
            1,
            "POST",
            &expected_url(pair, mode),
            Some(&reference_body(pair)),
            Reply::Json(200, &json!({"status": "IN_QUEUE"})),
        )])
        .expect("server");
        let client = loopback_client(mode, &server, Some(Duration::from_secs(30)));
        let err = match call(&client, pair, &Options::fast(), true)
            .await
            .unwrap()
            .output
            .unwrap()
        {
            Err(e) => e,
            Ok(out) => panic!("{what}: answered {out:?}"),
        };
        assert!(matches!(err, Error::Decode { .. }), "{what}: {err:?}");
        assert!(err.to_string().contains("request_id"), "{what}: {err}");
        assert_eq!(server.requests().len(), 1, "{what}: no poll");
    }
}

// ---------------------------------------------------------------------------------------------
// Replay of the conformance tapes

/// A fake fal key for the tapes (direct). Never a real secret.
const REPLAY_KEY: &str = "replay-fake-fal-key-0000:0000";

/// Body fields of legacy fal recordings that today's clients no longer send.
const OBSOLETE_FIELDS: &[&str] = &["response_format", "inputs", "provider", "model"];

/// A WAV stand-in for the missing `sample2.wav`.
const STAND_IN_WAV: &[u8] = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00";

/// The SDK call a fal tape stands for.
#[derive(Clone, Debug)]
struct TapeCall {
    task: Task,
    model: String,
    provider_id: String,
    /// The mapping comes from a Hub lookup the replay server answers.
    via_hub: bool,
    routed: bool,
    prompt: Option<String>,
    /// ASR: the input and what it stands for.
    audio: Option<BinaryInput>,
    extra_body: Option<Value>,
    /// Recorded body fields the call leaves out, and why.
    left_out: Vec<String>,
}

fn derive_tape_call(tape: &Tape) -> Result<TapeCall, String> {
    let task: Task = tape
        .task
        .parse()
        .map_err(|_| format!("task `{}`", tape.task))?;
    let body = match &tape.request.body_json {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    let mapping = tape
        .test
        .provider_mapping
        .as_ref()
        .filter(|m| m.provider == "fal-ai");
    let path_id = tape
        .path()
        .map(|p| p.trim_start_matches('/').to_owned())
        .ok_or("no URL path")?;
    let (model, provider_id, via_hub) = match mapping {
        Some(m) => (
            m.hf_model_id.clone(),
            m.provider_model_id.clone(),
            tape.in_final_spec
                && m.source
                    .as_deref()
                    .is_some_and(|s| s.contains("Hub lookup")),
        ),
        // Legacy recordings name no Hub model: the fal id in the URL stands for both.
        None => (path_id.clone(), path_id, false),
    };
    let mut call = TapeCall {
        task,
        model,
        provider_id,
        via_hub,
        routed: tape.is_routed(),
        prompt: None,
        audio: None,
        extra_body: None,
        left_out: Vec::new(),
    };
    match task {
        Task::TextToImage => {
            call.prompt = Some(
                body.get("prompt")
                    .and_then(Value::as_str)
                    .ok_or("no `prompt` in the recorded body")?
                    .to_owned(),
            );
            for key in body.keys() {
                match key.as_str() {
                    "prompt" | "sync_mode" => {}
                    "loras" => call.left_out.push("loras".into()),
                    k if OBSOLETE_FIELDS.contains(&k) && !tape.in_final_spec => {
                        call.left_out.push(k.to_owned())
                    }
                    other => return Err(format!("unexpected body field `{other}`")),
                }
            }
        }
        Task::AutomaticSpeechRecognition => {
            let prefix = tape
                .request
                .body_substitutions
                .iter()
                .flatten()
                .find(|s| s.pointer == "/audio_url")
                .and_then(|s| s.prefix.clone())
                .ok_or("no `audio_url` template")?;
            let mime = prefix
                .strip_prefix("data:")
                .and_then(|p| p.strip_suffix(";base64,"))
                .ok_or("not a data URL template")?
                .to_owned();
            call.audio =
                Some(BinaryInput::from_bytes(STAND_IN_WAV.to_vec()).with_content_type(mime));
        }
        other => return Err(format!("no fal tape replay for {other}")),
    }
    Ok(call)
}

fn replay_client(call: &TapeCall, server: &ReplayServer) -> InferenceClient {
    let token = if call.routed {
        FAKE_HF_TOKEN
    } else {
        REPLAY_KEY
    };
    let mut builder = loopback_builder(token, server)
        .provider_host_url(Provider::FalAi, "api", server.url_for_host(API_HOST))
        .provider_host_url(Provider::FalAi, "queue", server.url_for_host(QUEUE_HOST))
        .timeout(Duration::from_secs(30));
    if !call.via_hub {
        builder = builder.model_mapping(
            call.model.clone(),
            Provider::FalAi,
            call.provider_id.clone(),
        );
    }
    builder.build().expect("client")
}

async fn run_tape_call(call: &TapeCall, client: &InferenceClient) -> Result<Output, Error> {
    match call.task {
        Task::TextToImage => {
            let mut request = client
                .text_to_image(call.prompt.clone().unwrap_or_default())
                .model(call.model.clone())
                .provider(Provider::FalAi);
            if let Some(extra) = &call.extra_body {
                request = request.extra_body(extra.clone());
            }
            request.send().await.map(Output::File)
        }
        Task::AutomaticSpeechRecognition => client
            .automatic_speech_recognition(call.audio.clone().expect("audio"))
            .model(call.model.clone())
            .provider(Provider::FalAi)
            .send()
            .await
            .map(to_json),
        other => unreachable!("{other}"),
    }
}

/// Whether the request is an inference request (not a Hub lookup, not a download).
fn is_inference(r: &RecordedRequest) -> bool {
    r.host != HUB_HOST && r.method == "POST"
}

/// The request-level problems of a final-spec tape's request (empty: it matches).
fn request_problems(tape: &Tape, call: &TapeCall, sent: &RecordedRequest) -> Vec<String> {
    let mut problems = Vec::new();
    if sent.matched.as_deref() != Some(tape.file_name.as_str()) {
        let mismatches = sent
            .diagnostic
            .as_ref()
            .and_then(|d| d.pointer("/closest/mismatches"))
            .map(expect::show)
            .unwrap_or_else(|| "no diagnostic".into());
        problems.push(format!("the recording did not match: {mismatches}"));
    }
    problems.extend(hf_inference_tests::replay::header_mismatches(tape, sent));
    let token = if call.routed {
        FAKE_HF_TOKEN
    } else {
        REPLAY_KEY
    };
    if let Some(Some(scheme)) = &tape.provenance.auth_scheme {
        let want = format!("{scheme} {token}");
        if sent.header("authorization") != Some(want.as_str()) {
            problems.push(format!(
                "auth: expected `Authorization: {scheme} <key>`, got `{}`",
                sent.header("authorization")
                    .map(|v| v.split(' ').next().unwrap_or_default())
                    .unwrap_or("none")
            ));
        }
    }
    problems
}

/// The recorded error messages of an error answer.
fn recorded_messages(tape: &Tape) -> Vec<String> {
    let response = &tape.response;
    let mut out = Vec::new();
    if let Some(body) = &response.body_json {
        if let Some(Value::Array(items)) = body.get("detail") {
            out.extend(
                items
                    .iter()
                    .filter_map(|i| i.get("msg").and_then(Value::as_str))
                    .map(str::to_owned),
            );
        }
        if let Some(Value::String(s)) = body.get("detail") {
            out.push(s.clone());
        }
    } else if let Some(text) = &response.body_text {
        out.push(text.trim().to_owned());
    }
    out
}

/// Checks the SDK's answer against the recording, the followers (downloads, inline files) and
/// `test.expected`. Returns what was checked, and the verdicts of the followers.
fn check_answer(
    tape: &Tape,
    outcome: &Result<Output, Error>,
    requests: &[RecordedRequest],
    followers: &[&Tape],
    follower_verdicts: &mut BTreeMap<String, Verdict>,
) -> Result<String, String> {
    let status = tape.response.status;
    if status >= 400 {
        let err = match outcome {
            Err(e) => e,
            Ok(out) => return Err(format!("recorded HTTP {status}, the SDK returned {out:?}")),
        };
        if !matches!(err, Error::Http(_)) || err.status() != Some(status) {
            return Err(format!(
                "recorded HTTP {status}: expected Error::Http {status}, got {err:?}"
            ));
        }
        let got = err
            .http_context()
            .and_then(|c| c.server_message.clone())
            .unwrap_or_default();
        for message in recorded_messages(tape) {
            if !got.contains(&message) {
                return Err(format!(
                    "recorded HTTP {status} with {message:?}; the error's message is {got:?}"
                ));
            }
        }
        return Ok(format!("Error::Http {status} with the server's message"));
    }
    let output = match outcome {
        Ok(o) => o,
        Err(e) => return Err(format!("the call failed: {e}")),
    };
    let recorded = tape
        .response
        .body_json
        .as_ref()
        .ok_or("no recorded JSON answer")?;
    let mut checked = Vec::new();
    let actual_json;
    let actual = match (tape.task.as_str(), output) {
        ("text-to-image", Output::File(blob)) => {
            let url = recorded
                .pointer("/images/0/url")
                .and_then(Value::as_str)
                .ok_or("the recording has no images[0].url")?;
            let downloads: Vec<&RecordedRequest> = requests
                .iter()
                .filter(|r| r.method == "GET" && r.host != HUB_HOST)
                .collect();
            if let Some(data) = url.strip_prefix("data:") {
                let (mime, payload) = data.split_once(";base64,").ok_or("not a base64 data URL")?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(payload)
                    .map_err(|e| format!("recorded data URL: {e}"))?;
                if blob.bytes().as_ref() != bytes.as_slice() {
                    return Err(format!(
                        "the Blob ({} bytes) is not the inline image ({} bytes)",
                        blob.bytes().len(),
                        bytes.len()
                    ));
                }
                if blob.content_type() != Some(mime) {
                    return Err(format!(
                        "content type {:?}, the data URL says {mime}",
                        blob.content_type()
                    ));
                }
                if !downloads.is_empty() {
                    return Err(format!("{} GET(s) for an inline image", downloads.len()));
                }
                checked.push(format!(
                    "the inline `data:{mime}` image decoded ({} bytes), nothing downloaded",
                    bytes.len()
                ));
                for f in followers.iter().filter(|f| f.is_inline()) {
                    let verdict = if f.request.url == url {
                        let expectation = match f.test.expected.as_ref().map(Expectation::parse) {
                            Some(Ok(e)) => e
                                .check(Actual::Bytes(blob.bytes()))
                                .map(|()| format!("; test.expected `{}` holds", e.kind())),
                            Some(Err(e)) => Err(e),
                            None => Ok(String::new()),
                        };
                        match expectation {
                            Ok(note) => Verdict::Pass(format!(
                                "answer, not a request: the `data:{mime}` URL of {}'s answer, decoded by the SDK without a request into the Blob ({} bytes, {mime}){note}",
                                tape.file_name,
                                bytes.len()
                            )),
                            Err(e) => Verdict::Fail(format!("test.expected: {e}")),
                        }
                    } else {
                        Verdict::Fail(format!(
                            "its data URL is not {}'s images[0].url",
                            tape.file_name
                        ))
                    };
                    follower_verdicts.insert(f.file_name.clone(), verdict);
                }
            } else {
                let asset = followers
                    .iter()
                    .find(|f| !f.is_inline() && f.request.url == url)
                    .ok_or_else(|| format!("no recorded download of {url}"))?;
                let [download] = downloads.as_slice() else {
                    return Err(format!("{} downloads, 1 expected", downloads.len()));
                };
                let mut problems = Vec::new();
                if download.matched.as_deref() != Some(asset.file_name.as_str()) {
                    problems.push(format!(
                        "the download GET did not match {}",
                        asset.file_name
                    ));
                }
                if download.has_header("authorization") || download.has_header("x-key") {
                    problems.push("the download carried credentials".to_owned());
                }
                let served = placeholder_bytes(asset.response.content_type());
                if blob.bytes().as_ref() != served.as_slice() {
                    problems.push("the Blob is not the served file".to_owned());
                }
                if blob.content_type() != asset.response.content_type() {
                    problems.push(format!(
                        "Blob content type {:?}, served {:?}",
                        blob.content_type(),
                        asset.response.content_type()
                    ));
                }
                let verdict = if !problems.is_empty() {
                    Verdict::Fail(problems.join("; "))
                } else {
                    let how = format!(
                        "the SDK's download of {}'s images[0].url (GET {}) matched it, without credentials; the Blob is the served file ({})",
                        tape.file_name,
                        url,
                        asset.response.content_type().unwrap_or("no content type")
                    );
                    if asset.in_final_spec {
                        Verdict::Pass(how)
                    } else {
                        Verdict::NotApplicable(format!(
                            "not applicable (request): legacy tape (in_final_spec: false), a download made by an older JS client; response-only: {how}"
                        ))
                    }
                };
                let failed = matches!(verdict, Verdict::Fail(_));
                follower_verdicts.insert(asset.file_name.clone(), verdict);
                if failed {
                    return Err(format!("the download of {url} failed its checks"));
                }
                checked.push(format!(
                    "images[0].url downloaded without credentials ({})",
                    asset.file_name
                ));
            }
            Actual::Bytes(blob.bytes())
        }
        ("automatic-speech-recognition", Output::Json(value)) => {
            let text = recorded.get("text").ok_or("no recorded text")?;
            if value.get("text") != Some(text) {
                return Err(format!(
                    "text {}, recorded {}",
                    expect::show(value.get("text").unwrap_or(&Value::Null)),
                    expect::show(text)
                ));
            }
            if value.get("chunks").is_some() {
                return Err(format!(
                    "the reference 2.4.0 keeps only `text` (§3.4); the SDK returned {}",
                    expect::show(value)
                ));
            }
            checked.push(
                "the text equals the recorded text (`chunks` dropped, as the reference 2.4.0 does, §3.4)"
                    .to_owned(),
            );
            actual_json = value.clone();
            Actual::Json(&actual_json)
        }
        (task, out) => return Err(format!("{task}: unexpected output {out:?}")),
    };
    if let Some(expected) = &tape.test.expected {
        let expectation = Expectation::parse(expected)?;
        expectation
            .check(actual)
            .map_err(|e| format!("test.expected: {e}"))?;
        checked.push(format!("test.expected `{}` holds", expectation.kind()));
    }
    Ok(checked.join("; "))
}

/// Replays one call tape (and, through it, its downloads and inline files).
async fn replay_call_tape(
    tape: &Tape,
    followers: &[&Tape],
    verdicts: &mut BTreeMap<String, Verdict>,
) -> Verdict {
    let mut call = match derive_tape_call(tape) {
        Ok(c) => c,
        Err(e) => return Verdict::Fail(format!("cannot derive the call: {e}")),
    };
    let lora = tape.in_final_spec && call.left_out.iter().any(|k| k == "loras");
    let mut served: Vec<&Tape> = vec![tape];
    served.extend(followers.iter().filter(|f| !f.is_inline()));
    let server = ReplayServer::start(served).expect("replay server");
    if call.via_hub {
        server.add_provider_mappings([tape]);
    }
    let client = replay_client(&call, &server);
    let mut outcome = run_tape_call(&call, &client).await;
    let requests = server.requests();
    let Some(sent) = requests.iter().find(|r| is_inference(r)).cloned() else {
        return Verdict::Fail(format!(
            "no inference request; the SDK returned {outcome:?}"
        ));
    };
    let lookups: Vec<&RecordedRequest> = requests.iter().filter(|r| r.host == HUB_HOST).collect();
    let mut problems = Vec::new();
    if call.via_hub && (lookups.is_empty() || lookups.iter().any(|r| !r.is_matched())) {
        problems.push(
            "the mapping came from a Hub lookup; the SDK made none, or an unexpected one"
                .to_owned(),
        );
    }
    if !call.via_hub && !lookups.is_empty() {
        problems.push("unexpected Hub lookup with a pinned mapping".to_owned());
    }
    let mut notes = Vec::new();
    let mut requests = requests;

    if lora {
        // LoRA: the request differs exactly at `/loras`; with the recorded `loras` passed through
        // `extra_body` it must match the recording byte for byte (as JSON).
        let recorded = tape.request.body_json.clone().unwrap_or_default();
        let diff = sent
            .json()
            .map(|b| json_diff(&recorded, &b, 8))
            .unwrap_or_default();
        if diff.len() != 1 || !diff[0].starts_with("/loras") {
            problems.push(format!(
                "without loras, the body differs beyond /loras: {diff:?}"
            ));
        }
        call.extra_body = Some(json!({"loras": recorded["loras"].clone()}));
        server.clear_requests();
        outcome = run_tape_call(&call, &client).await;
        requests = server.requests();
        let Some(again) = requests.iter().find(|r| is_inference(r)).cloned() else {
            return Verdict::Fail("no inference request with loras in extra_body".into());
        };
        problems.extend(request_problems(tape, &call, &again));
        notes.push(
            "LoRA adapters are out of scope: the SDK's routing `Target` carries no Hub mapping \
             entry, so the body builder never sees `adapterWeightsPath` (→ `loras: [{path: \
             {HF_ENDPOINT}/{model}/resolve/main/{file}, scale: 1}]`, §3.4); the request differs \
             from the recording only at `/loras`, and with the recorded `loras` passed through \
             `extra_body` it matches the recording exactly (URL, body, `Key` auth, headers)"
                .to_owned(),
        );
    } else if tape.in_final_spec {
        problems.extend(request_problems(tape, &call, &sent));
        if call.task == Task::AutomaticSpeechRecognition {
            notes.push(format!(
                "`sample2.wav` ({} bytes) is not shipped with the tapes (README: larger than \
                 1 MiB), so the body cannot be compared byte for byte (recorded: {} bytes, \
                 sha256 {}…); with a stand-in WAV declared `audio/x-wav`, the request matched \
                 the tape's template (URL, `Key` auth, Content-Type, `audio_url` = \
                 `data:audio/x-wav;base64,…`)",
                3_801_644,
                tape.request.body_length.unwrap_or_default(),
                tape.request
                    .body_sha256
                    .as_deref()
                    .unwrap_or("?")
                    .get(..12)
                    .unwrap_or("?")
            ));
        }
    } else if sent.matched.as_deref() != Some(tape.file_name.as_str()) {
        serve_regardless_of_body(&server, tape, &sent);
        server.clear_requests();
        outcome = run_tape_call(&call, &client).await;
        requests = server.requests();
    }

    let checked = check_answer(tape, &outcome, &requests, followers, verdicts);
    if !problems.is_empty() {
        return Verdict::Fail(format!(
            "request differs from the recording: {}; (response: {})",
            problems.join("; "),
            match &checked {
                Ok(_) => "OK".to_owned(),
                Err(e) => format!("FAILED: {e}"),
            }
        ));
    }
    let checked = match checked {
        Ok(c) => c,
        Err(e) => return Verdict::Fail(format!("response: {e}")),
    };
    if !tape.in_final_spec {
        let (loras, obsolete): (Vec<&str>, Vec<&str>) = call
            .left_out
            .iter()
            .map(String::as_str)
            .partition(|k| *k == "loras");
        let mut notes = Vec::new();
        if !obsolete.is_empty() {
            notes.push(format!(
                "obsolete body fields not sent: {}",
                obsolete.join(", ")
            ));
        }
        if !loras.is_empty() {
            notes.push(
                "`loras` not sent: LoRA adapters are out of scope (the recorded `path: {}` was an \
                 older client's bug, which fal refused)"
                    .to_owned(),
            );
        }
        let left_out = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join("; "))
        };
        return Verdict::NotApplicable(format!(
            "not applicable (request): legacy tape (in_final_spec: false), recorded by an older \
             JS client{left_out}; response-only: {checked}"
        ));
    }
    if !notes.is_empty() {
        return Verdict::NotApplicable(format!(
            "not applicable (request): {}; response: {checked}",
            notes.join("; ")
        ));
    }
    Verdict::Pass(format!("the request matches the recording; {checked}"))
}

/// A download no recorded answer names: replayed as the download of a synthetic text-to-image
/// answer pointing at it.
async fn replay_orphan_download(tape: &Tape) -> Verdict {
    let url = tape.request.url.clone();
    let prompt = "a synthetic answer pointing at the recorded file";
    let body = json!({"prompt": prompt, "sync_mode": true});
    let answer = json!({"images": [{"url": url}]});
    let submit = synthetic(
        "synthetic submit",
        1,
        "POST",
        &format!("{API_BASE}/fal-ai/flux/schnell"),
        Some(&body),
        Reply::Json(200, &answer),
    );
    let server = ReplayServer::start(vec![submit, tape.clone()]).expect("server");
    let call = TapeCall {
        task: Task::TextToImage,
        model: "fal-ai/flux/schnell".into(),
        provider_id: "fal-ai/flux/schnell".into(),
        via_hub: false,
        routed: false,
        prompt: Some(prompt.into()),
        audio: None,
        extra_body: None,
        left_out: Vec::new(),
    };
    let client = replay_client(&call, &server);
    let blob = match run_tape_call(&call, &client).await {
        Ok(Output::File(blob)) => blob,
        other => return Verdict::Fail(format!("the synthetic call returned {other:?}")),
    };
    let requests = server.requests();
    let Some(download) = requests.iter().find(|r| r.method == "GET") else {
        return Verdict::Fail("no download".into());
    };
    if download.matched.as_deref() != Some(tape.file_name.as_str())
        || download.has_header("authorization")
        || blob.bytes().as_ref() != placeholder_bytes(tape.response.content_type()).as_slice()
        || blob.content_type() != tape.response.content_type()
    {
        return Verdict::Fail(format!("download {download:?}, Blob {blob:?}"));
    }
    Verdict::NotApplicable(format!(
        "not applicable (request): legacy tape (in_final_spec: false) that no recorded answer \
         names (no `provenance.follows`, no tape's response holds its URL); replayed as the \
         download of a synthetic fal answer `images[0].url`: the GET matched it, without \
         credentials, and the Blob is the served file ({})",
        tape.response.content_type().unwrap_or("no content type")
    ))
}

#[tokio::test]
async fn replay_every_fal_ai_tape() {
    let dir = tapes_dir();
    let tapes = Tape::load_dir(&dir)
        .unwrap_or_else(|e| panic!("load the conformance tapes from {}: {e}", dir.display()));
    let fal: Vec<&Tape> = tapes.iter().filter(|t| t.provider == "fal-ai").collect();
    assert!(!fal.is_empty(), "no fal-ai tape in {}", dir.display());

    let mut verdicts: BTreeMap<String, Verdict> = BTreeMap::new();
    for tape in fal.iter().filter(|t| t.task != "asset-download") {
        let followers: Vec<&Tape> = fal
            .iter()
            .filter(|f| f.provenance.follows.as_deref() == Some(tape.id.as_str()))
            .copied()
            .collect();
        let verdict = replay_call_tape(tape, &followers, &mut verdicts).await;
        // Followers the call never reached fail with it.
        for f in &followers {
            verdicts.entry(f.file_name.clone()).or_insert_with(|| {
                Verdict::Fail(format!(
                    "not reached: the replay of {} did not get to it",
                    tape.file_name
                ))
            });
        }
        verdicts.insert(tape.file_name.clone(), verdict);
    }
    let unreached: Vec<&Tape> = fal
        .iter()
        .filter(|t| !verdicts.contains_key(&t.file_name))
        .copied()
        .collect();
    for tape in unreached {
        let verdict = if tape.task == "asset-download" && !tape.is_inline() {
            replay_orphan_download(tape).await
        } else {
            Verdict::Fail("no replay for this tape".into())
        };
        verdicts.insert(tape.file_name.clone(), verdict);
    }

    let mut tally = Tally::default();
    for (name, verdict) in &verdicts {
        tally.record(name, verdict);
    }
    println!("fal-ai replay: {tally} ({} tapes)", fal.len());
    assert_eq!(verdicts.len(), fal.len(), "one verdict per fal-ai tape");
    tally.assert_no_failures();
    assert!(tally.passed > 0, "no fal-ai tape passed");
}
