//! The provider-specific job protocols and bodies of WaveSpeedAI (text-to-image, text-to-video,
//! image-to-image, image-to-video), Z.ai (text-to-image), Black Forest Labs (text-to-image) and
//! the DeepInfra speech-recognition upload, through the public API, on loopback.
//!
//! - **Requests**: for every pair, routed (`hf_` token) and direct (provider key), an insta
//!   snapshot of the preview (token redacted and asserted absent from every rendering) and the
//!   reference facts of python-client.md §3.3 / §3.11 / §3.12 / §3.14, written out here from the
//!   reference (not read from the provider table): URL, auth header, static headers, body.
//! - **Job flows**: submit → statuses → result → asset download, for every pair and mode,
//!   against scripted answers: the exact request sequence, the credentials on each request
//!   (polls carry them where the reference sends them; Black Forest Labs polls and every asset
//!   download carry none, the asset being on another loopback host), the `on_status` sequence,
//!   the output bytes.
//! - **Ends of a job**: a job that never finishes ends with `Error::JobTimeout` naming the job
//!   (client timeout 300 ms, polls every 20 ms); failure statuses are `Error::JobFailed`;
//!   malformed answers are `Error::Decode`; dropping the call future stops the polling.
//! - **DeepInfra**: the multipart body, byte for byte, against a body built by hand.
//! - **Conformance tapes**: every `black-forest-labs` tape replayed (the polls served in step
//!   order, the JS client's `attempt` query parameter ignored), `test.expected` checked, one
//!   line per tape and a closing count.
//!
//! Run with `cargo test -p hf-inference-tests --test provider_jobs -- --nocapture`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use hf_inference::binary::{BinaryInput, Blob};
use hf_inference::providers::jobs::JobStatus;
use hf_inference::providers::{BodyKind, Polling};
use hf_inference::tasks::generic::TaskRequest;
use hf_inference::types::automatic_speech_recognition::AutomaticSpeechRecognitionOutput;
use hf_inference::{Error, InferenceClient, Provider, RequestPreview, Task};
use hf_inference_tests::expect::{Actual, Expectation};
use hf_inference_tests::replay::{
    HUB_HOST, RecordedRequest, ReplayOptions, ReplayServer, header_mismatches, placeholder_bytes,
};
use hf_inference_tests::support::{
    BodyExpect, Mode, ROUTER, Reply, assert_job_timeout, host_of, loopback_builder, preview_head,
    provider_hosts_on, synthetic_tape,
};
use hf_inference_tests::tapes::{Tape, tapes_dir};
use serde::Serialize;
use serde_json::{Value, json};

const HF_TOKEN: &str = "hf_jobsSecret0123456789abcdefghijkl";
const PROVIDER_KEY: &str = "pk-jobsSecret0123456789abcdefghijkl";
/// A fragment of both credentials: must never appear where credentials must not go.
const SECRET_PART: &str = "jobsSecret";

const PROMPT: &str = "A raccoon driving a truck";
const VIDEO_PROMPT: &str = "A young man walking on the street";
const EDIT_PROMPT: &str = "Turn the raccoon into a tiger";
const ANIMATE_PROMPT: &str = "The raccoon waves at the camera";
/// An image given as a URL: passed through as is, never downloaded (§3.11).
const IMAGE_URL: &str = "https://example.com/raccoon.jpg";
/// A PNG image (its signature and header chunk): sent as a `data:image/png` URL.
const IMAGE_PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02";
/// FLAC audio (its signature and a marker): sent as `audio.flac`, `audio/flac`.
const AUDIO_FLAC: &[u8] = b"fLaC\x00\x00\x00\x22hf-inference test audio";

// ---------------------------------------------------------------------------------------------
// The pairs

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Pair {
    WavespeedT2i,
    WavespeedT2v,
    WavespeedI2i,
    WavespeedI2v,
    ZaiT2i,
    BflT2i,
    DeepinfraAsr,
}

impl Pair {
    const ALL: [Pair; 7] = [
        Pair::WavespeedT2i,
        Pair::WavespeedT2v,
        Pair::WavespeedI2i,
        Pair::WavespeedI2v,
        Pair::ZaiT2i,
        Pair::BflT2i,
        Pair::DeepinfraAsr,
    ];

    fn provider(self) -> Provider {
        match self {
            Pair::WavespeedT2i | Pair::WavespeedT2v | Pair::WavespeedI2i | Pair::WavespeedI2v => {
                Provider::Wavespeed
            }
            Pair::ZaiT2i => Provider::ZaiOrg,
            Pair::BflT2i => Provider::BlackForestLabs,
            Pair::DeepinfraAsr => Provider::Deepinfra,
        }
    }

    fn task(self) -> Task {
        match self {
            Pair::WavespeedT2i | Pair::ZaiT2i | Pair::BflT2i => Task::TextToImage,
            Pair::WavespeedT2v => Task::TextToVideo,
            Pair::WavespeedI2i => Task::ImageToImage,
            Pair::WavespeedI2v => Task::ImageToVideo,
            Pair::DeepinfraAsr => Task::AutomaticSpeechRecognition,
        }
    }

    fn hub_model(self) -> &'static str {
        match self {
            Pair::WavespeedT2i => "black-forest-labs/FLUX.1-schnell",
            Pair::WavespeedT2v => "Wan-AI/Wan2.1-T2V-14B",
            Pair::WavespeedI2i => "black-forest-labs/FLUX.1-Kontext-dev",
            Pair::WavespeedI2v => "Wan-AI/Wan2.1-I2V-14B-480P",
            Pair::ZaiT2i => "zai-org/CogView4-6B",
            Pair::BflT2i => "black-forest-labs/FLUX.1-dev",
            Pair::DeepinfraAsr => "openai/whisper-large-v3",
        }
    }

    /// The provider's own model id (pinned with `model_mapping`).
    fn provider_model(self) -> &'static str {
        match self {
            Pair::WavespeedT2i => "wavespeed-ai/flux-schnell",
            Pair::WavespeedT2v => "wavespeed-ai/wan-2.1/t2v-480p",
            Pair::WavespeedI2i => "wavespeed-ai/flux-kontext-dev",
            Pair::WavespeedI2v => "wavespeed-ai/wan-2.1/i2v-480p",
            Pair::ZaiT2i => "cogview-4-250304",
            Pair::BflT2i => "flux-dev",
            Pair::DeepinfraAsr => "openai/whisper-large-v3-turbo",
        }
    }

    fn name(self) -> String {
        format!("{}__{}", self.task(), self.provider())
    }
}

/// The credential of `mode`.
fn token(mode: Mode) -> &'static str {
    mode.pick(HF_TOKEN, PROVIDER_KEY)
}

// ---------------------------------------------------------------------------------------------
// The reference (python-client.md), written out

/// The direct base URL of the provider.
fn direct_base(provider: Provider) -> &'static str {
    match provider {
        Provider::Wavespeed => "https://api.wavespeed.ai",
        Provider::ZaiOrg => "https://api.z.ai",
        Provider::BlackForestLabs => "https://api.us1.bfl.ai",
        Provider::Deepinfra => "https://api.deepinfra.com",
        other => panic!("no reference base for {other}"),
    }
}

/// The route of the first request.
fn route(pair: Pair) -> String {
    match pair.provider() {
        Provider::Wavespeed => format!("/api/v3/{}", pair.provider_model()),
        Provider::ZaiOrg => "/api/paas/v4/async/images/generations".to_owned(),
        Provider::BlackForestLabs => format!("/v1/{}", pair.provider_model()),
        Provider::Deepinfra => "/v1/openai/audio/transcriptions".to_owned(),
        other => panic!("no reference route for {other}"),
    }
}

fn expected_url(pair: Pair, mode: Mode) -> String {
    match mode {
        Mode::Routed => format!("{ROUTER}/{}{}", pair.provider(), route(pair)),
        Mode::Direct => format!("{}{}", direct_base(pair.provider()), route(pair)),
    }
}

fn png_data_url() -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(IMAGE_PNG)
    )
}

/// The JSON body of the reference for the calls of [`send`] (key order checked separately).
fn expected_body(pair: Pair) -> Value {
    match pair {
        // §3.11: `{"prompt", …params}`, names untouched.
        Pair::WavespeedT2i => json!({
            "prompt": PROMPT, "width": 1024, "height": 768, "num_inference_steps": 4,
            "guidance_scale": 3.5, "seed": 8817
        }),
        Pair::WavespeedT2v => json!({
            "prompt": VIDEO_PROMPT, "num_frames": 81.0, "seed": 42, "duration": 5
        }),
        // §3.11: `{"image": IMG, …params, "prompt"}`. The reference labels every non-URL image
        // `data:image/jpeg`; the SDK keeps the image's own type (a deliberate difference,
        // documented in wavespeed.rs).
        Pair::WavespeedI2i => json!({
            "image": png_data_url(), "num_inference_steps": 20, "prompt": EDIT_PROMPT
        }),
        Pair::WavespeedI2v => json!({"image": IMAGE_URL, "seed": 7, "prompt": ANIMATE_PROMPT}),
        // §3.12: `{"model", "prompt", "size": "{w}x{h}", …other params}`.
        Pair::ZaiT2i => json!({
            "model": Pair::ZaiT2i.provider_model(), "prompt": PROMPT, "size": "1024x768",
            "num_inference_steps": 4, "guidance_scale": 3.5, "seed": 8817
        }),
        // §3.14: `num_inference_steps` → `steps`, `guidance_scale` → `guidance`.
        Pair::BflT2i => json!({
            "prompt": PROMPT, "width": 1024, "height": 768, "steps": 4, "guidance": 3.5,
            "seed": 8817
        }),
        Pair::DeepinfraAsr => unreachable!("multipart"),
    }
}

/// The first and last keys of the reference bodies where §3 fixes them.
fn expected_key_ends(pair: Pair) -> (Option<&'static str>, Option<&'static str>) {
    match pair {
        Pair::WavespeedT2i | Pair::WavespeedT2v | Pair::BflT2i => (Some("prompt"), None),
        Pair::WavespeedI2i | Pair::WavespeedI2v => (Some("image"), Some("prompt")),
        Pair::ZaiT2i => (Some("model"), None),
        Pair::DeepinfraAsr => (None, None),
    }
}

/// The multipart body of §3.3, built by hand: the file part, the parameters, the extra fields,
/// `model` last, CRLF, the closing boundary.
fn expected_multipart(
    boundary: &str,
    audio: &[u8],
    filename: &str,
    content_type: &str,
    model: &str,
) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(b"--");
    body.extend_from_slice(boundary.as_bytes());
    body.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"");
    body.extend_from_slice(filename.as_bytes());
    body.extend_from_slice(b"\"\r\nContent-Type: ");
    body.extend_from_slice(content_type.as_bytes());
    body.extend_from_slice(b"\r\n\r\n");
    body.extend_from_slice(audio);
    body.extend_from_slice(b"\r\n");
    for (name, value) in [
        ("return_timestamps", "true"),
        ("language", "en"),
        ("temperature", "0.0"),
        ("timestamp_granularities", "[\"segment\"]"),
        ("model", model),
    ] {
        body.extend_from_slice(b"--");
        body.extend_from_slice(boundary.as_bytes());
        body.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(b"\"\r\n\r\n");
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--");
    body.extend_from_slice(boundary.as_bytes());
    body.extend_from_slice(b"--\r\n");
    body
}

/// The boundary of a `multipart/form-data; boundary=…` content type.
fn boundary_of(content_type: &str) -> String {
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("not a multipart content type: {content_type}"));
    assert_eq!(boundary.len(), 32, "32 hex digits, like uuid4().hex");
    assert!(
        boundary.chars().all(|c| c.is_ascii_hexdigit()),
        "{boundary}"
    );
    boundary.to_owned()
}

// ---------------------------------------------------------------------------------------------
// The calls, through the public API

/// Options of one call.
#[derive(Clone, Default)]
struct Knobs {
    poll_interval: Option<Duration>,
    statuses: Option<Arc<Mutex<Vec<JobStatus>>>>,
}

impl Knobs {
    fn fast() -> Self {
        Self {
            poll_interval: Some(Duration::from_millis(20)),
            statuses: None,
        }
    }

    fn recording(mut self) -> (Self, Arc<Mutex<Vec<JobStatus>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        self.statuses = Some(seen.clone());
        (self, seen)
    }
}

fn tune<'c, I: Serialize, O>(
    request: TaskRequest<'c, I, O>,
    pair: Pair,
    knobs: &Knobs,
) -> TaskRequest<'c, I, O> {
    let mut request = request.model(pair.hub_model()).provider(pair.provider());
    if let Some(interval) = knobs.poll_interval {
        request = request.poll_interval(interval);
    }
    if let Some(seen) = &knobs.statuses {
        let seen = seen.clone();
        request = request.on_status(move |status| seen.lock().unwrap().push(status.clone()));
    }
    request
}

/// What a call returned.
#[derive(Debug)]
enum Output {
    File(Blob),
    Transcription(AutomaticSpeechRecognitionOutput),
}

macro_rules! with_request {
    ($client:expr, $pair:expr, $knobs:expr, |$request:ident| $body:expr, |$asr:ident| $asr_body:expr) => {{
        let (client, pair, knobs) = ($client, $pair, $knobs);
        match pair {
            Pair::WavespeedT2i | Pair::ZaiT2i | Pair::BflT2i => {
                let $request = tune(
                    client
                        .text_to_image(PROMPT)
                        .width(1024)
                        .height(768)
                        .num_inference_steps(4)
                        .guidance_scale(3.5)
                        .seed(8817),
                    pair,
                    knobs,
                );
                $body
            }
            Pair::WavespeedT2v => {
                let $request = tune(
                    client
                        .text_to_video(VIDEO_PROMPT)
                        .num_frames(81.0)
                        .seed(42)
                        .extra_body(json!({"duration": 5})),
                    pair,
                    knobs,
                );
                $body
            }
            Pair::WavespeedI2i => {
                let $request = tune(
                    client
                        .image_to_image(IMAGE_PNG)
                        .prompt(EDIT_PROMPT)
                        .num_inference_steps(20),
                    pair,
                    knobs,
                );
                $body
            }
            Pair::WavespeedI2v => {
                let $request = tune(
                    client
                        .image_to_video(BinaryInput::from_url(IMAGE_URL).expect("a URL"))
                        .prompt(ANIMATE_PROMPT)
                        .seed(7),
                    pair,
                    knobs,
                );
                $body
            }
            Pair::DeepinfraAsr => {
                let $asr = tune(
                    client
                        .automatic_speech_recognition(AUDIO_FLAC)
                        .return_timestamps(true)
                        .extra_body(json!({
                            "language": "en",
                            "temperature": 0.0,
                            "timestamp_granularities": ["segment"],
                            "dropped": null
                        })),
                    pair,
                    knobs,
                );
                $asr_body
            }
        }
    }};
}

async fn preview(client: &InferenceClient, pair: Pair) -> Result<RequestPreview, Error> {
    with_request!(
        client,
        pair,
        &Knobs::default(),
        |request| request.preview().await,
        |asr| asr.preview().await
    )
}

async fn send(client: &InferenceClient, pair: Pair, knobs: &Knobs) -> Result<Output, Error> {
    with_request!(
        client,
        pair,
        knobs,
        |request| request.send().await.map(Output::File),
        |asr| asr.send().await.map(Output::Transcription)
    )
}

// ---------------------------------------------------------------------------------------------
// Clients

fn pinned(builder: hf_inference::InferenceClientBuilder) -> hf_inference::InferenceClientBuilder {
    Pair::ALL.iter().fold(builder, |b, pair| {
        b.model_mapping(pair.hub_model(), pair.provider(), pair.provider_model())
    })
}

/// A client with the real hosts (previews only), its Hub on `hub`.
fn preview_client(mode: Mode, hub: &ReplayServer) -> InferenceClient {
    pinned(
        InferenceClient::builder()
            .token(token(mode))
            .hub_url(hub.url_for_host(HUB_HOST)),
    )
    .build()
    .expect("client")
}

/// A client with the router, the Hub and the provider's hosts on `server`.
fn loopback_client(
    server: &ReplayServer,
    provider: Provider,
    mode: Mode,
    timeout: Duration,
) -> InferenceClient {
    let builder = pinned(loopback_builder(token(mode), server).timeout(timeout));
    provider_hosts_on(builder, provider, server)
        .build()
        .expect("client")
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// The preview as a snapshot: method and URL, headers sorted (user-agent version and multipart
/// boundary masked), then the pretty JSON body or the multipart body with its line ends shown.
fn render(preview: &RequestPreview) -> String {
    let boundary = preview
        .header("content-type")
        .and_then(|ct| ct.strip_prefix("multipart/form-data; boundary="))
        .map(str::to_owned);
    let mask = |text: &str| match &boundary {
        Some(b) => text.replace(b.as_str(), "<boundary>"),
        None => text.to_owned(),
    };
    let mut out = mask(&preview_head(preview));
    match (&boundary, preview.body_json()) {
        (None, Some(json)) => {
            out.push_str(&serde_json::to_string_pretty(&json).expect("pretty"));
            out.push('\n');
        }
        (Some(_), _) => {
            let body = preview.body.clone().unwrap_or_default();
            let text = String::from_utf8_lossy(&body);
            for line in mask(&text).split_inclusive("\r\n") {
                match line.strip_suffix("\r\n") {
                    Some(line) => {
                        out.push_str(&line.escape_debug().to_string());
                        out.push_str("\\r\\n\n");
                    }
                    None => {
                        out.push_str(&line.escape_debug().to_string());
                        out.push_str(" (no final CRLF)\n");
                    }
                }
            }
        }
        (None, None) => panic!("neither JSON nor multipart: {preview:?}"),
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Requests: snapshots and the reference, every pair and mode

#[test]
fn the_pairs_of_this_file_are_the_tables_job_and_multipart_entries() {
    let mut in_table = BTreeSet::new();
    for provider in Provider::ALL {
        // The JS client's image-text tasks (not in 2.4.0): tests/image_text_tasks.rs.
        let image_text = |t: Task| matches!(t, Task::ImageTextToImage | Task::ImageTextToVideo);
        for spec in provider.spec().tasks.iter().filter(|s| !image_text(s.task)) {
            if matches!(
                spec.polling,
                Polling::Wavespeed | Polling::Zai | Polling::Bfl
            ) || spec.body == BodyKind::Multipart
            {
                in_table.insert((provider.as_str(), spec.task.as_str()));
            }
        }
    }
    let ours: BTreeSet<_> = Pair::ALL
        .iter()
        .map(|p| (p.provider().as_str(), p.task().as_str()))
        .collect();
    assert_eq!(in_table, ours);
}

#[tokio::test]
async fn requests_of_every_pair_and_mode() {
    let hub = ReplayServer::start(Vec::<Tape>::new()).expect("server");
    let mut snapshots = 0;
    for pair in Pair::ALL {
        for mode in Mode::BOTH {
            let what = format!("{} ({})", pair.name(), mode.name());
            let client = preview_client(mode, &hub);
            let preview = preview(&client, pair)
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let shown = render(&preview);
            for text in [format!("{preview:?}"), format!("{preview}"), shown.clone()] {
                assert!(!text.contains(token(mode)), "{what}: token shown:\n{text}");
                assert!(!text.contains(SECRET_PART), "{what}: token shown:\n{text}");
            }
            assert_eq!(preview.method, "POST", "{what}");
            assert_eq!(preview.url, expected_url(pair, mode), "{what}: URL");
            // Auth: Bearer, except Black Forest Labs' direct `X-Key` (and no Authorization).
            if pair.provider() == Provider::BlackForestLabs && mode == Mode::Direct {
                assert_eq!(preview.header("x-key"), Some("<redacted>"), "{what}");
                assert_eq!(preview.header("authorization"), None, "{what}");
            } else {
                assert_eq!(
                    preview.header("authorization"),
                    Some("<redacted>"),
                    "{what}"
                );
                assert_eq!(preview.header("x-key"), None, "{what}");
            }
            // §3.12: Z.ai's static headers.
            let zai = pair.provider() == Provider::ZaiOrg;
            assert_eq!(
                preview.header("accept-language"),
                zai.then_some("en-US,en"),
                "{what}"
            );
            assert_eq!(
                preview.header("x-source-channel"),
                zai.then_some("hugging_face"),
                "{what}"
            );
            if pair == Pair::DeepinfraAsr {
                let boundary = boundary_of(preview.header("content-type").unwrap_or_default());
                let expected = expected_multipart(
                    &boundary,
                    AUDIO_FLAC,
                    "audio.flac",
                    "audio/flac",
                    pair.provider_model(),
                );
                assert_eq!(
                    preview.body.as_deref().unwrap_or_default(),
                    expected.as_slice(),
                    "{what}: multipart body"
                );
            } else {
                assert_eq!(
                    preview.header("content-type"),
                    Some("application/json"),
                    "{what}"
                );
                let body = preview.body_json().expect("a JSON body");
                assert_eq!(body, expected_body(pair), "{what}: body");
                let keys: Vec<&str> = body
                    .as_object()
                    .expect("an object")
                    .keys()
                    .map(String::as_str)
                    .collect();
                let (first, last) = expected_key_ends(pair);
                if let Some(first) = first {
                    assert_eq!(keys.first().copied(), Some(first), "{what}: first key");
                }
                if let Some(last) = last {
                    assert_eq!(keys.last().copied(), Some(last), "{what}: last key");
                }
            }
            insta::assert_snapshot!(format!("{}__{}", pair.name(), mode.name()), shown);
            snapshots += 1;
        }
    }
    assert_eq!(snapshots, 14);
    assert!(hub.requests().is_empty(), "pinned mappings: no Hub lookup");
}

// ---------------------------------------------------------------------------------------------
// Scripted servers

/// A scripted answer, as a tape the replay server serves (tapes sharing a request are served
/// in `step` order, the last one repeated).
fn scripted(step: u32, method: &str, url: &str, status: u16, answer: Answer) -> Tape {
    let body = if method == "GET" {
        BodyExpect::Empty
    } else {
        BodyExpect::Any
    };
    let reply = match answer {
        Answer::Json(value) => Reply::Json(value),
        Answer::File(content_type) => Reply::Unrecorded(content_type),
    };
    let name = format!("scripted step {step}: {method} {url}");
    synthetic_tape(&name, step, method, url, body, status, reply)
}

enum Answer {
    Json(Value),
    /// Bytes of this content type (the replay server's placeholder bytes).
    File(&'static str),
}

/// One job, as the provider answers it.
struct Script {
    submit: Value,
    polls: Vec<Value>,
    /// Where the polls must go (original `https://` URL).
    poll_url: String,
    asset_url: String,
    asset_type: &'static str,
    statuses: Vec<&'static str>,
    job_id: &'static str,
    /// Whether the polls carry the request's credentials (python-client.md §3.15).
    poll_credentials: bool,
}

const WS_JOB: &str = "ws-job-1";
const ZAI_JOB: &str = "zai-task-1";
const BFL_JOB: &str = "bfl-job-1";

fn wavespeed_answer(status: &str, outputs: Value, error: &str) -> Value {
    json!({
        "code": 200,
        "message": "success",
        "data": {
            "id": WS_JOB,
            "model": "wavespeed-ai/model",
            "outputs": outputs,
            "urls": {"get": format!("https://api.wavespeed.ai/api/v3/predictions/{WS_JOB}/result")},
            "has_nsfw_contents": [],
            "status": status,
            "created_at": "2025-09-01T10:00:00.000Z",
            "error": error,
            "timings": {"inference": 0}
        }
    })
}

fn zai_answer(status: &str, url: Option<&str>) -> Value {
    let mut answer = json!({
        "id": ZAI_JOB,
        "request_id": "req-20250901-1",
        "model": Pair::ZaiT2i.provider_model(),
        "task_status": status,
    });
    if let Some(url) = url {
        answer["image_result"] = json!([{"url": url}]);
    }
    answer
}

fn bfl_answer(status: &str, sample: Option<&str>) -> Value {
    json!({
        "id": BFL_JOB,
        "status": status,
        "result": sample.map(|s| json!({"sample": s, "prompt": PROMPT, "seed": 8817})),
        "progress": if sample.is_some() { Value::Null } else { json!(0.5) },
    })
}

fn bfl_polling_url() -> String {
    format!("https://api.us1.bfl.ai/v1/get_result?id={BFL_JOB}")
}

/// The job of `pair`, completing after two running polls.
fn job_script(pair: Pair, mode: Mode) -> Script {
    let video = matches!(pair, Pair::WavespeedT2v | Pair::WavespeedI2v);
    match pair.provider() {
        Provider::Wavespeed => {
            let asset_url = format!(
                "https://d1q70pf5vjeyhc.cloudfront.net/predictions/{WS_JOB}/1.{}",
                if video { "mp4" } else { "png" }
            );
            let path = format!("/api/v3/predictions/{WS_JOB}/result");
            Script {
                submit: wavespeed_answer("created", json!([]), ""),
                polls: vec![
                    wavespeed_answer("processing", json!([]), ""),
                    wavespeed_answer("processing", json!([]), ""),
                    wavespeed_answer("completed", json!([asset_url]), ""),
                ],
                poll_url: match mode {
                    Mode::Routed => format!("{ROUTER}/wavespeed{path}"),
                    Mode::Direct => format!("https://api.wavespeed.ai{path}"),
                },
                asset_url,
                asset_type: if video { "video/mp4" } else { "image/png" },
                statuses: vec!["created", "processing", "processing", "completed"],
                job_id: WS_JOB,
                poll_credentials: true,
            }
        }
        Provider::ZaiOrg => {
            let asset_url = format!("https://aigc-files.bigmodel.cn/api/cogview/{ZAI_JOB}_0.png");
            let path = format!("/api/paas/v4/async-result/{ZAI_JOB}");
            Script {
                submit: zai_answer("PROCESSING", None),
                polls: vec![
                    zai_answer("PROCESSING", None),
                    zai_answer("PROCESSING", None),
                    zai_answer("SUCCESS", Some(&asset_url)),
                ],
                poll_url: match mode {
                    Mode::Routed => format!("{ROUTER}/zai-org{path}"),
                    Mode::Direct => format!("https://api.z.ai{path}"),
                },
                asset_url,
                asset_type: "image/png",
                statuses: vec!["PROCESSING", "PROCESSING", "PROCESSING", "SUCCESS"],
                job_id: ZAI_JOB,
                poll_credentials: true,
            }
        }
        Provider::BlackForestLabs => {
            let asset_url = format!(
                "https://delivery-us1.bfl.ai/results/{BFL_JOB}/sample.jpeg?se=2025-09-01&sig=abc"
            );
            Script {
                submit: json!({"id": BFL_JOB, "polling_url": bfl_polling_url()}),
                polls: vec![
                    bfl_answer("Pending", None),
                    bfl_answer("Pending", None),
                    bfl_answer("Ready", Some(&asset_url)),
                ],
                // `polling_url` as given, in both modes.
                poll_url: bfl_polling_url(),
                asset_url,
                asset_type: "image/jpeg",
                statuses: vec!["Pending", "Pending", "Ready"],
                job_id: BFL_JOB,
                poll_credentials: false,
            }
        }
        other => panic!("no job for {other}"),
    }
}

/// The tapes of a script: the submission, the polls, the asset.
fn script_tapes(pair: Pair, mode: Mode, script: &Script) -> Vec<Tape> {
    let mut tapes = vec![scripted(
        1,
        "POST",
        &expected_url(pair, mode),
        200,
        Answer::Json(script.submit.clone()),
    )];
    for (i, poll) in script.polls.iter().enumerate() {
        tapes.push(scripted(
            2 + i as u32,
            "GET",
            &script.poll_url,
            200,
            Answer::Json(poll.clone()),
        ));
    }
    tapes.push(scripted(
        10,
        "GET",
        &script.asset_url,
        200,
        Answer::File(script.asset_type),
    ));
    tapes
}

/// The credentials header a request of `mode` sends to the provider.
fn auth_of(pair: Pair, mode: Mode) -> (&'static str, String) {
    match (pair.provider(), mode) {
        (Provider::BlackForestLabs, Mode::Direct) => ("x-key", PROVIDER_KEY.to_owned()),
        (_, mode) => ("authorization", format!("Bearer {}", token(mode))),
    }
}

fn assert_no_credentials(request: &RecordedRequest, what: &str) {
    assert!(
        !request.has_header("authorization"),
        "{what}: Authorization sent to {}",
        request.original_url()
    );
    assert!(
        !request.has_header("x-key"),
        "{what}: X-Key sent to {}",
        request.original_url()
    );
    for (name, value) in &request.headers {
        assert!(
            !value.contains(SECRET_PART),
            "{what}: a credential in `{name}` sent to {}",
            request.original_url()
        );
    }
}

fn assert_same_request(sent: &RecordedRequest, method: &str, url: &str, what: &str) {
    assert_eq!(sent.method, method, "{what}");
    assert_eq!(sent.original_url(), url, "{what}");
    assert!(sent.is_matched(), "{what}: {:?}", sent.diagnostic);
}

// ---------------------------------------------------------------------------------------------
// Job flows

#[tokio::test]
async fn job_flows_of_every_pair_and_mode() {
    for pair in Pair::ALL {
        if pair == Pair::DeepinfraAsr {
            continue;
        }
        for mode in Mode::BOTH {
            let what = format!("{} ({})", pair.name(), mode.name());
            let script = job_script(pair, mode);
            let server = ReplayServer::start(script_tapes(pair, mode, &script)).expect("server");
            let client = loopback_client(&server, pair.provider(), mode, Duration::from_secs(20));
            let (knobs, seen) = Knobs::fast().recording();
            let output = send(&client, pair, &knobs)
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));

            // The output: the asset's bytes and type.
            let Output::File(blob) = output else {
                panic!("{what}: not a file")
            };
            assert_eq!(
                blob.bytes().as_ref(),
                placeholder_bytes(Some(script.asset_type)).as_slice(),
                "{what}: the asset's bytes"
            );
            assert_eq!(blob.content_type(), Some(script.asset_type), "{what}");

            // The statuses, in order, with the job id.
            let seen = seen.lock().unwrap().clone();
            let statuses: Vec<&str> = seen.iter().map(|s| s.status.as_str()).collect();
            assert_eq!(statuses, script.statuses, "{what}: on_status order");
            for status in &seen {
                assert_eq!(status.provider, pair.provider().as_str(), "{what}");
                assert_eq!(status.job_id, script.job_id, "{what}");
            }
            assert!(
                seen.windows(2).all(|w| w[0].polls <= w[1].polls),
                "{what}: poll counts never decrease: {seen:?}"
            );

            // The requests, in order, with the right credentials.
            let requests = server.requests();
            assert_eq!(
                requests.len(),
                2 + script.polls.len(),
                "{what}: submit, polls, asset: {:#?}",
                requests
                    .iter()
                    .map(|r| r.original_url())
                    .collect::<Vec<_>>()
            );
            let (auth_name, auth_value) = auth_of(pair, mode);
            let submit = &requests[0];
            assert_same_request(submit, "POST", &expected_url(pair, mode), &what);
            assert_eq!(
                submit.header(auth_name),
                Some(auth_value.as_str()),
                "{what}"
            );
            assert_eq!(
                submit.json(),
                Some(expected_body(pair)),
                "{what}: submitted body"
            );
            let polls = &requests[1..=script.polls.len()];
            for (i, poll) in polls.iter().enumerate() {
                let what = format!("{what}, poll {}", i + 1);
                assert_same_request(poll, "GET", &script.poll_url, &what);
                assert!(poll.body.is_empty(), "{what}: no body");
                if script.poll_credentials {
                    assert_eq!(poll.header(auth_name), Some(auth_value.as_str()), "{what}");
                    assert_eq!(poll.header("content-type"), None, "{what}");
                } else {
                    assert_no_credentials(poll, &what);
                    // The reference's only poll header (§3.14).
                    assert_eq!(
                        poll.header("content-type"),
                        Some("application/json"),
                        "{what}"
                    );
                }
                if pair.provider() == Provider::ZaiOrg {
                    assert_eq!(poll.header("accept-language"), Some("en-US,en"), "{what}");
                    assert_eq!(
                        poll.header("x-source-channel"),
                        Some("hugging_face"),
                        "{what}"
                    );
                }
            }
            let asset = requests.last().expect("the asset download");
            assert_same_request(asset, "GET", &script.asset_url, &what);
            assert_no_credentials(asset, &format!("{what}, asset download"));
            assert_ne!(
                server.addr_for_host(&host_of(&script.asset_url)),
                server.addr_for_host(&host_of(&expected_url(pair, mode))),
                "{what}: the asset is on another loopback host"
            );
            if mode == Mode::Routed && pair.provider() != Provider::BlackForestLabs {
                assert!(
                    server
                        .requests_to(&host_of(direct_base(pair.provider())))
                        .is_empty(),
                    "{what}: nothing goes to the provider's own host"
                );
            }
            assert!(
                server.requests_to(HUB_HOST).is_empty(),
                "{what}: no Hub lookup"
            );
        }
    }
}

#[tokio::test]
async fn wavespeed_polls_every_half_second_by_default() {
    let (pair, mode) = (Pair::WavespeedT2i, Mode::Direct);
    let script = job_script(pair, mode);
    let server = ReplayServer::start(script_tapes(pair, mode, &script)).expect("server");
    let client = loopback_client(&server, pair.provider(), mode, Duration::from_secs(20));
    let started = Instant::now();
    send(&client, pair, &Knobs::default())
        .await
        .expect("the job completes");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1500),
        "3 polls, 0.5 s before each: {elapsed:?}"
    );
}

#[tokio::test]
async fn zai_polls_at_once_then_waits() {
    // With the default 5 s interval, a job whose first poll succeeds ends well before 5 s.
    let (pair, mode) = (Pair::ZaiT2i, Mode::Direct);
    let mut script = job_script(pair, mode);
    script.polls.drain(..2);
    let server = ReplayServer::start(script_tapes(pair, mode, &script)).expect("server");
    let client = loopback_client(&server, pair.provider(), mode, Duration::from_secs(20));
    let started = Instant::now();
    send(&client, pair, &Knobs::default())
        .await
        .expect("the job completes");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "no initial wait"
    );
    assert_eq!(server.requests().len(), 3, "submit, one poll, the image");
}

#[tokio::test]
async fn zai_success_at_once_downloads_the_image_without_polling() {
    let (pair, mode) = (Pair::ZaiT2i, Mode::Routed);
    let mut script = job_script(pair, mode);
    script.submit = zai_answer("SUCCESS", Some(&script.asset_url));
    script.polls.clear();
    let server = ReplayServer::start(script_tapes(pair, mode, &script)).expect("server");
    let client = loopback_client(&server, pair.provider(), mode, Duration::from_secs(20));
    let (knobs, seen) = Knobs::fast().recording();
    send(&client, pair, &knobs).await.expect("the image");
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        2,
        "the submission and one GET, of the image"
    );
    assert_same_request(&requests[1], "GET", &script.asset_url, "image");
    assert_no_credentials(&requests[1], "image");
    let statuses: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.status.clone())
        .collect();
    assert_eq!(statuses, ["SUCCESS"]);
}

// ---------------------------------------------------------------------------------------------
// Jobs that never finish, fail, or answer nonsense

/// The polling pairs, one per protocol.
const PROTOCOLS: [Pair; 3] = [Pair::WavespeedT2i, Pair::ZaiT2i, Pair::BflT2i];

/// A script whose polls always answer "still running".
fn never_finishing(pair: Pair, mode: Mode) -> Script {
    let mut script = job_script(pair, mode);
    script.polls.truncate(1);
    script
}

#[tokio::test]
async fn a_job_that_never_finishes_times_out_with_its_id() {
    for pair in PROTOCOLS {
        for mode in Mode::BOTH {
            let what = format!("{} ({})", pair.name(), mode.name());
            let script = never_finishing(pair, mode);
            let server = ReplayServer::start(script_tapes(pair, mode, &script)).expect("server");
            let timeout = Duration::from_millis(300);
            let client = loopback_client(&server, pair.provider(), mode, timeout);
            let started = Instant::now();
            let err = send(&client, pair, &Knobs::fast())
                .await
                .expect_err("a job that never finishes");
            let elapsed = started.elapsed();
            let provider = pair.provider();
            assert_job_timeout(&err, provider.as_str(), script.job_id, timeout, &what);
            assert!(elapsed < Duration::from_secs(3), "{what}: {elapsed:?}");
            let polls = server
                .requests()
                .iter()
                .filter(|r| r.original_url() == script.poll_url)
                .count();
            assert!(polls >= 3, "{what}: polled {polls} times in 300 ms");
            assert!(
                server
                    .requests()
                    .iter()
                    .all(|r| r.original_url() != script.asset_url),
                "{what}: nothing downloaded"
            );
        }
    }
}

#[tokio::test]
async fn dropping_the_call_stops_polling() {
    for pair in PROTOCOLS {
        let mode = Mode::Direct;
        let what = pair.name();
        let script = never_finishing(pair, mode);
        let server = ReplayServer::start(script_tapes(pair, mode, &script)).expect("server");
        let client = loopback_client(&server, pair.provider(), mode, Duration::from_secs(30));
        let polls = || {
            server
                .requests()
                .iter()
                .filter(|r| r.original_url() == script.poll_url)
                .count()
        };
        let knobs = Knobs::fast();
        // Boxed, so that dropping it really drops the future (a stack pin would outlive `drop`).
        let mut call = Box::pin(send(&client, pair, &knobs));
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            tokio::select! {
                result = call.as_mut() => panic!("{what}: the job ended: {result:?}"),
                () = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
            if polls() >= 3 {
                break;
            }
            assert!(Instant::now() < deadline, "{what}: no polling");
        }
        // Drop the future mid-poll; let a request already on its way arrive.
        drop(call);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let after_drop = server.requests().len();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            server.requests().len(),
            after_drop,
            "{what}: requests after the call was dropped"
        );
    }
}

/// Runs a script whose last poll (or first answer) ends the job, returning the error.
async fn failing(pair: Pair, mode: Mode, script: &Script) -> (Error, Vec<RecordedRequest>) {
    let server = ReplayServer::start(script_tapes(pair, mode, script)).expect("server");
    let client = loopback_client(&server, pair.provider(), mode, Duration::from_secs(20));
    let err = send(&client, pair, &Knobs::fast())
        .await
        .expect_err("the job fails");
    (err, server.requests())
}

fn assert_job_failed(err: &Error, pair: Pair, job_id: &str, message: &str, what: &str) {
    match err {
        Error::JobFailed {
            provider,
            message: m,
            job_id: id,
        } => {
            assert_eq!(provider, pair.provider().as_str(), "{what}");
            assert_eq!(id.as_deref(), Some(job_id), "{what}");
            assert!(m.contains(message), "{what}: {m}");
        }
        other => panic!("{what}: expected JobFailed, got {other:?}"),
    }
}

#[tokio::test]
async fn failed_jobs_are_job_failed() {
    let mode = Mode::Direct;

    // WaveSpeed: `failed` with `data.error`.
    let pair = Pair::WavespeedT2i;
    let mut script = job_script(pair, mode);
    script.polls = vec![
        wavespeed_answer("processing", json!([]), ""),
        wavespeed_answer("failed", json!([]), "The prompt was flagged"),
    ];
    let (err, requests) = failing(pair, mode, &script).await;
    assert_job_failed(&err, pair, WS_JOB, "The prompt was flagged", "wavespeed");
    assert_eq!(requests.len(), 3, "wavespeed: submit and two polls");

    // Z.ai: FAIL on a poll, and FAIL at once (no poll).
    let pair = Pair::ZaiT2i;
    let mut script = job_script(pair, mode);
    script.polls = vec![zai_answer("FAIL", None)];
    let (err, requests) = failing(pair, mode, &script).await;
    assert_job_failed(&err, pair, ZAI_JOB, "FAIL", "zai poll");
    assert_eq!(requests.len(), 2, "zai: submit and one poll");
    script.submit = zai_answer("FAIL", None);
    script.submit["error"] = json!({"code": "1301", "message": "unsafe content"});
    let (err, requests) = failing(pair, mode, &script).await;
    assert_job_failed(&err, pair, ZAI_JOB, "unsafe content", "zai at once");
    assert_eq!(requests.len(), 1, "zai: no poll after FAIL");

    // Black Forest Labs: moderation and errors.
    let pair = Pair::BflT2i;
    for status in ["Content Moderated", "Request Moderated", "Error", "Failed"] {
        let mut script = job_script(pair, mode);
        script.polls = vec![bfl_answer("Pending", None), bfl_answer(status, None)];
        let (err, requests) = failing(pair, mode, &script).await;
        assert_job_failed(&err, pair, BFL_JOB, status, "bfl");
        assert_eq!(requests.len(), 3, "bfl {status}: submit and two polls");
    }
}

#[tokio::test]
async fn malformed_job_answers_are_decode_errors() {
    let mode = Mode::Direct;
    let decode = |err: &Error, what: &str| {
        assert!(
            matches!(err, Error::Decode { .. }),
            "{what}: expected Decode, got {err:?}"
        );
    };

    let pair = Pair::WavespeedT2i;
    // An unknown status.
    let mut script = job_script(pair, mode);
    script.polls = vec![wavespeed_answer("exploded", json!([]), "")];
    decode(&failing(pair, mode, &script).await.0, "wavespeed status");
    // No result URL.
    let mut script = job_script(pair, mode);
    script.submit = json!({"code": 200, "data": {"id": WS_JOB, "status": "created"}});
    let (err, requests) = failing(pair, mode, &script).await;
    decode(&err, "wavespeed urls.get");
    assert_eq!(requests.len(), 1, "no poll without a result URL");
    // Completed without outputs: the table's pointer finds nothing.
    let mut script = job_script(pair, mode);
    script.polls = vec![wavespeed_answer("completed", json!([]), "")];
    decode(&failing(pair, mode, &script).await.0, "wavespeed outputs");

    let pair = Pair::ZaiT2i;
    let mut script = job_script(pair, mode);
    script.submit = json!({"task_status": "PROCESSING"});
    decode(&failing(pair, mode, &script).await.0, "zai id");
    let mut script = job_script(pair, mode);
    script.polls = vec![zai_answer("WEIRD", None)];
    decode(&failing(pair, mode, &script).await.0, "zai status");

    let pair = Pair::BflT2i;
    let mut script = job_script(pair, mode);
    script.submit = json!({"id": BFL_JOB});
    decode(&failing(pair, mode, &script).await.0, "bfl polling_url");
    let mut script = job_script(pair, mode);
    script.submit = json!({"id": BFL_JOB, "polling_url": "not a url"});
    decode(&failing(pair, mode, &script).await.0, "bfl polling_url");
    let mut script = job_script(pair, mode);
    script.polls = vec![json!({"id": BFL_JOB})];
    decode(&failing(pair, mode, &script).await.0, "bfl status");
}

#[tokio::test]
async fn a_poll_error_is_the_http_error() {
    let (pair, mode) = (Pair::WavespeedT2i, Mode::Routed);
    let script = job_script(pair, mode);
    let mut tapes = script_tapes(pair, mode, &script);
    tapes.retain(|t| t.test.step != Some(2));
    tapes.push(scripted(
        2,
        "GET",
        &script.poll_url,
        500,
        Answer::Json(json!({"error": "prediction store unavailable"})),
    ));
    let server = ReplayServer::start(tapes).expect("server");
    let client = loopback_client(&server, pair.provider(), mode, Duration::from_secs(20));
    let err = send(&client, pair, &Knobs::fast())
        .await
        .expect_err("HTTP 500");
    assert_eq!(err.status(), Some(500), "{err:?}");
    assert_eq!(
        server.requests().len(),
        2,
        "no retry (disabled), no more polls"
    );
}

// ---------------------------------------------------------------------------------------------
// DeepInfra: the multipart upload and its answer

#[tokio::test]
async fn deepinfra_transcription_multipart_on_the_wire() {
    let pair = Pair::DeepinfraAsr;
    for mode in Mode::BOTH {
        let what = format!("{} ({})", pair.name(), mode.name());
        let answer = json!({
            "text": " Hello world",
            "segments": [
                {"id": 0, "seek": 0, "start": 0.0, "end": 1.2, "text": " Hello"},
                {"id": 1, "seek": 0, "start": 1.2, "end": 2.5, "text": " world"}
            ],
            "language": "en"
        });
        let server = ReplayServer::start([scripted(
            1,
            "POST",
            &expected_url(pair, mode),
            200,
            Answer::Json(answer),
        )])
        .expect("server");
        let client = loopback_client(&server, pair.provider(), mode, Duration::from_secs(20));
        let Output::Transcription(out) = send(&client, pair, &Knobs::default())
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
        else {
            panic!("{what}: not a transcription")
        };
        assert_eq!(out.text, " Hello world", "{what}");
        let chunks: Vec<(String, [Option<f64>; 2])> = out
            .chunks
            .iter()
            .map(|c| (c.text.clone(), c.timestamp))
            .collect();
        assert_eq!(
            chunks,
            [
                (" Hello".to_owned(), [Some(0.0), Some(1.2)]),
                (" world".to_owned(), [Some(1.2), Some(2.5)])
            ],
            "{what}: segments become chunks (§3.3)"
        );

        let requests = server.requests();
        assert_eq!(requests.len(), 1, "{what}");
        let sent = &requests[0];
        assert_same_request(sent, "POST", &expected_url(pair, mode), &what);
        let (auth_name, auth_value) = auth_of(pair, mode);
        assert_eq!(sent.header(auth_name), Some(auth_value.as_str()), "{what}");
        let boundary = boundary_of(sent.header("content-type").unwrap_or_default());
        let expected = expected_multipart(
            &boundary,
            AUDIO_FLAC,
            "audio.flac",
            "audio/flac",
            pair.provider_model(),
        );
        assert_eq!(
            String::from_utf8_lossy(&sent.body),
            String::from_utf8_lossy(&expected),
            "{what}: body"
        );
        assert_eq!(
            sent.body.as_ref(),
            expected.as_slice(),
            "{what}: body bytes"
        );
    }
}

#[tokio::test]
async fn deepinfra_multipart_of_a_real_file_and_of_unknown_bytes() {
    let pair = Pair::DeepinfraAsr;
    let hub = ReplayServer::start(Vec::<Tape>::new()).expect("server");
    let client = preview_client(Mode::Direct, &hub);
    let flac = hf_inference_tests::tapes::inputs_dir().join("sample1.flac");
    let file_bytes = std::fs::read(&flac).expect("sample1.flac");
    let unknown: &[u8] = b"\x00\x01\x02 not a known audio format \xff";
    for (input, bytes, filename, content_type) in [
        (
            BinaryInput::from_path(&flac),
            file_bytes.as_slice(),
            "audio.flac",
            "audio/flac",
        ),
        // §3.3: unknown type → `audio.wav`, `application/octet-stream`.
        (
            BinaryInput::from(unknown),
            unknown,
            "audio.wav",
            "application/octet-stream",
        ),
    ] {
        let preview = client
            .automatic_speech_recognition(input)
            .model(pair.hub_model())
            .provider(pair.provider())
            .return_timestamps(true)
            .extra_body(json!({
                "language": "en",
                "temperature": 0.0,
                "timestamp_granularities": ["segment"]
            }))
            .preview()
            .await
            .expect("preview");
        let boundary = boundary_of(preview.header("content-type").unwrap_or_default());
        let expected = expected_multipart(
            &boundary,
            bytes,
            filename,
            content_type,
            pair.provider_model(),
        );
        let body = preview.body.clone().unwrap_or_default();
        assert_eq!(body.len(), expected.len(), "{filename}: length");
        assert!(body.as_ref() == expected.as_slice(), "{filename}: bytes");
    }
    // A fresh boundary per request.
    let a = preview(&client, pair).await.expect("preview");
    let b = preview(&client, pair).await.expect("preview");
    assert_ne!(a.header("content-type"), b.header("content-type"));
}

#[tokio::test]
async fn deepinfra_answer_without_text_is_a_decode_error() {
    let (pair, mode) = (Pair::DeepinfraAsr, Mode::Direct);
    let server = ReplayServer::start([scripted(
        1,
        "POST",
        &expected_url(pair, mode),
        200,
        Answer::Json(json!({"segments": []})),
    )])
    .expect("server");
    let client = loopback_client(&server, pair.provider(), mode, Duration::from_secs(20));
    let err = send(&client, pair, &Knobs::default())
        .await
        .expect_err("no text");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Black Forest Labs conformance tapes

/// Replays every `black-forest-labs` tape: the test's call is rebuilt from its recorded POST
/// body, served by a replay server holding the test's tapes (polls in step order, `attempt`
/// ignored: the JS client numbered its polls, the reference does not), and each tape gets a
/// verdict.
#[tokio::test]
async fn replay_black_forest_labs_tapes() {
    let dir = tapes_dir();
    let tapes: Vec<Tape> = Tape::load_dir(&dir)
        .unwrap_or_else(|e| panic!("load the tapes from {}: {e}", dir.display()))
        .into_iter()
        .filter(|t| t.provider == "black-forest-labs")
        .collect();
    assert!(
        !tapes.is_empty(),
        "no black-forest-labs tape in {}",
        dir.display()
    );
    let mut names: Vec<&str> = tapes.iter().map(|t| t.test.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();

    let mut verdicts: Vec<(String, Result<String, String>)> = Vec::new();
    for name in names {
        let group: Vec<&Tape> = tapes.iter().filter(|t| t.test.name == name).collect();
        for (tape, verdict) in replay_bfl_test(&group).await {
            verdicts.push((tape, verdict));
        }
    }
    let mut failed = 0;
    for (tape, verdict) in &verdicts {
        match verdict {
            Ok(checked) => println!("PASS {tape}: {checked}"),
            Err(why) => {
                failed += 1;
                println!("FAIL {tape}: {why}");
            }
        }
    }
    println!(
        "black-forest-labs replay: {} passed, {failed} failed, {} tapes",
        verdicts.len() - failed,
        verdicts.len()
    );
    assert_eq!(
        verdicts.len(),
        tapes.len(),
        "every black-forest-labs tape has a verdict"
    );
    assert_eq!(failed, 0, "failed black-forest-labs tapes");
}

/// Replays one test's tapes; a verdict per tape.
async fn replay_bfl_test(group: &[&Tape]) -> Vec<(String, Result<String, String>)> {
    let all_fail = |why: String| {
        group
            .iter()
            .map(|t| (t.file_name.clone(), Err(why.clone())))
            .collect::<Vec<_>>()
    };
    let Some(submit) = group.iter().find(|t| t.request.method == "POST").copied() else {
        return all_fail("no submission (POST) among the test's tapes".into());
    };
    let Some(mapping) = submit.test.provider_mapping.clone() else {
        return all_fail("no provider mapping recorded".into());
    };
    let Some(Value::Object(body)) = submit.request.body_json.clone() else {
        return all_fail("no recorded JSON body".into());
    };
    let expectation = match submit.test.expected.as_ref().map(Expectation::parse) {
        Some(Ok(e)) => e,
        Some(Err(e)) => return all_fail(format!("unreadable test.expected: {e}")),
        None => return all_fail("no test.expected".into()),
    };

    let server = match ReplayServer::start_with(
        group.iter().copied(),
        ReplayOptions::default().ignore_query_param("attempt"),
    ) {
        Ok(s) => s,
        Err(e) => return all_fail(format!("replay server: {e}")),
    };
    let provider = Provider::BlackForestLabs;
    let builder = loopback_builder(PROVIDER_KEY, &server)
        .timeout(Duration::from_secs(30))
        .model_mapping(
            mapping.hf_model_id.clone(),
            provider,
            mapping.provider_model_id.clone(),
        );
    let client = provider_hosts_on(builder, provider, &server)
        .build()
        .expect("client");

    // The call, from the recorded body: the prompt, the typed parameters through their
    // setters, and what the SDK would rename (the JS client sent `num_inference_steps` as is,
    // the Python reference renames it `steps`) verbatim through `extra_body`.
    let mut request = client
        .text_to_image(
            body.get("prompt")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        )
        .model(mapping.hf_model_id.clone())
        .provider(provider);
    let mut extra = serde_json::Map::new();
    for (key, value) in &body {
        match (key.as_str(), value.as_i64()) {
            ("prompt", _) => {}
            ("height", Some(v)) => request = request.height(v),
            ("width", Some(v)) => request = request.width(v),
            ("seed", Some(v)) => request = request.seed(v),
            _ => {
                extra.insert(key.clone(), value.clone());
            }
        }
    }
    if !extra.is_empty() {
        request = request.extra_body(Value::Object(extra.clone()));
    }
    let (knobs, seen) = Knobs::default().recording();
    let request = tune(request, Pair::BflT2i, &knobs);
    let started = Instant::now();
    let result = request.send().await;
    let elapsed = started.elapsed();

    let requests = server.requests();
    let mut verdicts = Vec::new();
    let outcome = match &result {
        Ok(blob) => expectation
            .check(Actual::Bytes(blob.bytes()))
            .map(|()| format!("test.expected `{}` holds", expectation.kind())),
        Err(e) => Err(format!("the call failed: {e}")),
    };
    let polls: Vec<&Tape> = {
        let mut polls: Vec<&Tape> = group
            .iter()
            .copied()
            .filter(|t| t.request.method == "GET" && t.task != "asset-download")
            .collect();
        polls.sort_by_key(|t| t.replay_order_key());
        polls
    };
    for tape in group {
        let verdict = (|| -> Result<String, String> {
            let served: Vec<&RecordedRequest> = requests
                .iter()
                .filter(|r| r.matched.as_deref() == Some(tape.file_name.as_str()))
                .collect();
            let [sent] = served.as_slice() else {
                return Err(format!(
                    "served {} times (requests: {:?})",
                    served.len(),
                    requests
                        .iter()
                        .map(|r| format!("{} {} -> {:?}", r.method, r.original_url(), r.matched))
                        .collect::<Vec<_>>()
                ));
            };
            let problems = header_mismatches(tape, sent);
            if !problems.is_empty() {
                return Err(problems.join("; "));
            }
            let mut checked = Vec::new();
            if tape.request.method == "POST" {
                if sent.header("x-key") != Some(PROVIDER_KEY) || sent.has_header("authorization") {
                    return Err("the submission must carry X-Key and no Authorization".into());
                }
                checked.push("body, headers and X-Key auth match the recording".to_owned());
                if !extra.is_empty() {
                    checked.push(format!(
                        "recorded unrenamed field(s) {:?} sent through extra_body",
                        extra.keys().collect::<Vec<_>>()
                    ));
                }
            } else {
                for (name, value) in &sent.headers {
                    if value.contains(SECRET_PART) || name == "authorization" || name == "x-key" {
                        return Err(format!("credentials sent (`{name}`)"));
                    }
                }
                checked.push("no credentials".to_owned());
            }
            if let Some(position) = polls.iter().position(|p| p.file_name == tape.file_name) {
                let index = requests
                    .iter()
                    .position(|r| r.matched.as_deref() == Some(tape.file_name.as_str()))
                    .unwrap_or(usize::MAX);
                if index != position + 1 {
                    return Err(format!(
                        "poll {} of the recording was request {index} (expected {})",
                        position + 1,
                        position + 1
                    ));
                }
                checked.push(format!(
                    "poll {} served in step order (`attempt` ignored), Content-Type only",
                    position + 1
                ));
            }
            if tape.task == "asset-download" {
                checked.push("the sample downloaded last".to_owned());
            }
            let outcome = outcome.clone()?;
            checked.push(outcome);
            Ok(checked.join("; "))
        })();
        verdicts.push((tape.file_name.clone(), verdict));
    }
    // The whole test: every request matched, every tape served, the statuses and the pace.
    let mut whole = Vec::new();
    if !server.unmatched().is_empty() {
        whole.push(format!(
            "unmatched requests: {:?}",
            server
                .unmatched()
                .iter()
                .map(|r| r.diagnostic.clone())
                .collect::<Vec<_>>()
        ));
    }
    if requests.len() != group.len() {
        whole.push(format!(
            "{} requests for {} tapes",
            requests.len(),
            group.len()
        ));
    }
    let statuses: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.status.clone())
        .collect();
    let recorded: Vec<String> = polls
        .iter()
        .filter_map(|t| {
            t.response
                .body_json
                .as_ref()?
                .get("status")?
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    if statuses != recorded {
        whole.push(format!("on_status {statuses:?}, recorded {recorded:?}"));
    }
    let min = Duration::from_secs(polls.len() as u64);
    if elapsed < min {
        whole.push(format!("{} polls 1 s apart took {elapsed:?}", polls.len()));
    }
    if !whole.is_empty() {
        let why = whole.join("; ");
        for verdict in &mut verdicts {
            verdict.1 = Err(match &verdict.1 {
                Ok(_) => why.clone(),
                Err(e) => format!("{e}; {why}"),
            });
        }
    }
    verdicts
}
