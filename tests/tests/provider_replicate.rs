//! Replicate (python-client.md §3.5) and Novita text-to-video (§3.7) through the public SDK API.
//!
//! - **Requests**: every (provider, task) pair, routed (`hf_` token) and direct (the provider's
//!   key), and for Replicate with an `owner/model` id and a versioned `owner/model:abc123` id: an
//!   insta snapshot of the preview (token redacted, asserted absent from every rendering, and
//!   `prefer: wait` present for Replicate), and the reference body and URL written out below from
//!   the reference (not read from `specs/providers.toml`). The same call is then sent to a
//!   loopback server answering a realistic prediction: the wire request must be the preview with
//!   the real token, the file must be downloaded from its own host WITHOUT credentials, and an
//!   HTTP 422 must come back as `Error::Http` with Replicate's message.
//! - **Response mapping** on loopback: a list output (first URL only), a `data:` output, a null
//!   output (polled through `urls.get` until `succeeded`, with status reports and credentials
//!   kept on the call's host; `Error::JobTimeout` with the prediction id when there is nothing to
//!   poll or the job deadline passes), failed and canceled predictions (`Error::JobFailed`),
//!   malformed outputs (`Error::Decode`), the speech-recognition output rules, and Novita's
//!   `{"video": {"video_url"}}` answer.
//! - **Replay** of every `replicate` and `novita` conformance tape: final-spec calls must send the
//!   recorded request and satisfy `test.expected`; file downloads are checked as the step of the
//!   call they follow; legacy tapes are checked for their response only, with the reason. One
//!   line per tape and a closing count.
//!
//! Run with `cargo test -p hf-inference-tests --test provider_replicate -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use futures_util::StreamExt;
use hf_inference::binary::BinaryInput;
use hf_inference::http::retry::RetryPolicy;
use hf_inference::tasks::generic::TaskRequest;
use hf_inference::types::chat_completion::ChatCompletionInput;
use hf_inference::types::image_to_image::ImageToImageParametersTargetSize;
use hf_inference::{Blob, Error, InferenceClient, Provider, RequestPreview, Task};
use hf_inference_tests::expect::{self, Actual, Expectation};
use hf_inference_tests::replay::{
    HUB_HOST, RecordedRequest, ReplayServer, header_mismatches, json_diff, placeholder_bytes,
};
use hf_inference_tests::support::{
    BodyExpect, FAKE_HF_TOKEN, FAKE_PROVIDER_KEY, Mode, ROUTER, ROUTER_HOST, Reply, SameJson,
    Tally, Verdict, assert_http_error, assert_job_failed, assert_job_timeout, check_preview,
    loopback_builder, provider_hosts_on, render_preview, synthetic_tape,
};
use hf_inference_tests::tapes::{Tape, tapes_dir};
use serde::Serialize;
use serde_json::{Map, Value, json};

const HF_TOKEN: &str = "hf_replicateSecret0123456789abcdef";
const PROVIDER_KEY: &str = "r8_replicateSecret0123456789abcdef";
/// A fragment of both credentials: must never appear in a preview.
const SECRET_PART: &str = "replicateSecret";
const REPLICATE_API: &str = "https://api.replicate.com";
const REPLICATE_HOST: &str = "api.replicate.com";
const NOVITA_API: &str = "https://api.novita.ai";
const DELIVERY_HOST: &str = "replicate.delivery";
const VIDEO_HOST: &str = "faas-output-video.s3.ap-southeast-1.amazonaws.com";
/// The version of the versioned ids.
const VERSION: &str = "abc123";

// ---------------------------------------------------------------------------------------------
// The calls

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pair {
    TextToImage,
    TextToVideo,
    TextToSpeech,
    ImageToImage,
    SpeechRecognition,
    NovitaTextToVideo,
}

const PAIRS: [Pair; 6] = [
    Pair::TextToImage,
    Pair::TextToVideo,
    Pair::TextToSpeech,
    Pair::ImageToImage,
    Pair::SpeechRecognition,
    Pair::NovitaTextToVideo,
];

impl Pair {
    fn provider(self) -> Provider {
        match self {
            Pair::NovitaTextToVideo => Provider::Novita,
            _ => Provider::Replicate,
        }
    }

    fn task(self) -> Task {
        match self {
            Pair::TextToImage => Task::TextToImage,
            Pair::TextToVideo | Pair::NovitaTextToVideo => Task::TextToVideo,
            Pair::TextToSpeech => Task::TextToSpeech,
            Pair::ImageToImage => Task::ImageToImage,
            Pair::SpeechRecognition => Task::AutomaticSpeechRecognition,
        }
    }

    fn hub_model(self) -> &'static str {
        match self {
            Pair::TextToImage => "black-forest-labs/FLUX.1-schnell",
            Pair::TextToVideo | Pair::NovitaTextToVideo => "Wan-AI/Wan2.1-T2V-14B",
            Pair::TextToSpeech => "hexgrad/Kokoro-82M",
            Pair::ImageToImage => "black-forest-labs/FLUX.1-Kontext-dev",
            Pair::SpeechRecognition => "openai/whisper-large-v3",
        }
    }

    /// The provider's id (`owner/model`; with `:abc123` when versioned).
    fn provider_id(self, versioned: bool) -> String {
        let id = match self {
            Pair::TextToImage => "black-forest-labs/flux-schnell",
            Pair::TextToVideo => "wavespeedai/wan-2.1-t2v-480p",
            Pair::TextToSpeech => "jaaari/kokoro-82m",
            Pair::ImageToImage => "black-forest-labs/flux-kontext-dev",
            Pair::SpeechRecognition => "openai/whisper",
            Pair::NovitaTextToVideo => "wan-t2v",
        };
        if versioned {
            format!("{id}:{VERSION}")
        } else {
            id.to_owned()
        }
    }

    fn is_file(self) -> bool {
        self != Pair::SpeechRecognition
    }
}

const IMAGE_PROMPT: &str = "An astronaut riding a horse on the moon";
const VIDEO_PROMPT: &str = "A young man walking on the street";
const SPEECH: &str = "Kokoro is a frontier TTS model for its size of 82 million parameters";
const EDIT: &str = "Turn the cat into a tiger";
/// Bytes of no known format: the reference's default MIME types apply.
const IMAGE_BYTES: &[u8] = b"image bytes of no known format";
const AUDIO_BYTES: &[u8] = b"audio bytes of no known format";

fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// What a call returned.
enum Out {
    File(Blob),
    Json(Value),
}

struct Done {
    preview: RequestPreview,
    output: Option<Result<Out, Error>>,
}

/// Options of a sent call.
#[derive(Clone, Default)]
struct Tweaks {
    poll_interval: Option<Duration>,
    statuses: Option<Arc<Mutex<Vec<String>>>>,
}

async fn exercise<I, O>(
    mut request: TaskRequest<'_, I, O>,
    send: bool,
    tweaks: &Tweaks,
    wrap: fn(O) -> Out,
) -> Result<Done, Error>
where
    I: Serialize + Clone,
{
    let preview = request.preview().await?;
    if !send {
        return Ok(Done {
            preview,
            output: None,
        });
    }
    if let Some(interval) = tweaks.poll_interval {
        request = request.poll_interval(interval);
    }
    if let Some(statuses) = tweaks.statuses.clone() {
        request = request.on_status(move |s| statuses.lock().unwrap().push(s.status.clone()));
    }
    let output = Some(request.send().await.map(wrap));
    Ok(Done { preview, output })
}

fn file(blob: Blob) -> Out {
    Out::File(blob)
}

fn transcript<T: Serialize>(out: T) -> Out {
    Out::Json(serde_json::to_value(out).expect("the output serializes"))
}

/// The pair's call through the public API (generated entry method and setters).
async fn call(
    client: &InferenceClient,
    pair: Pair,
    send: bool,
    tweaks: &Tweaks,
) -> Result<Done, Error> {
    let model = pair.hub_model();
    let provider = pair.provider();
    match pair {
        Pair::TextToImage => {
            let request = client
                .text_to_image(IMAGE_PROMPT)
                .guidance_scale(3.5)
                .num_inference_steps(4)
                .width(1024)
                .height(768)
                .seed(42)
                .negative_prompt("blurry")
                .model(model)
                .provider(provider);
            exercise(request, send, tweaks, file).await
        }
        Pair::TextToVideo | Pair::NovitaTextToVideo => {
            let request = client
                .text_to_video(VIDEO_PROMPT)
                .num_frames(49.0)
                .num_inference_steps(30)
                .guidance_scale(5.0)
                .seed(7)
                .negative_prompt(vec!["low quality".to_owned()])
                .model(model)
                .provider(provider);
            exercise(request, send, tweaks, file).await
        }
        Pair::TextToSpeech => {
            // A model-specific option through `extra_body`: it goes under `input` (§3.0).
            let request = client
                .text_to_speech(SPEECH)
                .extra_body(json!({"voice": "af_bella"}))
                .model(model)
                .provider(provider);
            exercise(request, send, tweaks, file).await
        }
        Pair::ImageToImage => {
            let request = client
                .image_to_image(BinaryInput::from_bytes(IMAGE_BYTES))
                .prompt(EDIT)
                .guidance_scale(2.5)
                .num_inference_steps(28)
                .target_size(ImageToImageParametersTargetSize::new(512, 768))
                .model(model)
                .provider(provider);
            exercise(request, send, tweaks, file).await
        }
        Pair::SpeechRecognition => {
            let request = client
                .automatic_speech_recognition(BinaryInput::from_bytes(AUDIO_BYTES))
                .return_timestamps(true)
                .model(model)
                .provider(provider);
            exercise(request, send, tweaks, transcript).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The reference (python-client.md §3.5, §3.7), written out

/// The credential of `mode`.
fn token(mode: Mode) -> &'static str {
    mode.pick(HF_TOKEN, PROVIDER_KEY)
}

fn expected_url(pair: Pair, mode: Mode, versioned: bool) -> String {
    let id = pair.provider_id(versioned);
    let (routed_prefix, direct_base, route) = match pair.provider() {
        // `owner/model:version` → `/v1/predictions` (the version goes in the body).
        Provider::Replicate if versioned => ("/replicate", REPLICATE_API, "/v1/predictions".into()),
        Provider::Replicate => (
            "/replicate",
            REPLICATE_API,
            format!("/v1/models/{id}/predictions"),
        ),
        _ => ("/novita", NOVITA_API, format!("/v3/hf/{id}")),
    };
    match mode {
        Mode::Routed => format!("{ROUTER}{routed_prefix}{route}"),
        Mode::Direct => format!("{direct_base}{route}"),
    }
}

fn expected_body(pair: Pair, versioned: bool) -> Value {
    let input = match pair {
        Pair::TextToImage => json!({
            "prompt": IMAGE_PROMPT,
            "guidance_scale": 3.5,
            "height": 768,
            "negative_prompt": "blurry",
            "num_inference_steps": 4,
            "seed": 42,
            "width": 1024
        }),
        Pair::TextToVideo | Pair::NovitaTextToVideo => json!({
            "prompt": VIDEO_PROMPT,
            "guidance_scale": 5.0,
            "negative_prompt": ["low quality"],
            "num_frames": 49.0,
            "num_inference_steps": 30,
            "seed": 7
        }),
        // `prompt` renamed `text`; `extra_body` spread among the parameters.
        Pair::TextToSpeech => json!({"text": SPEECH, "voice": "af_bella"}),
        // The four image keys (2.4.0), `prompt` among the parameters.
        Pair::ImageToImage => {
            let url = data_url("image/jpeg", IMAGE_BYTES);
            json!({
                "image": url,
                "images": [url],
                "input_image": url,
                "input_images": [url],
                "prompt": EDIT,
                "guidance_scale": 2.5,
                "num_inference_steps": 28,
                "target_size": {"height": 512, "width": 768}
            })
        }
        Pair::SpeechRecognition => json!({
            "audio": data_url("audio/wav", AUDIO_BYTES),
            "return_timestamps": true
        }),
    };
    match pair.provider() {
        Provider::Replicate if versioned => json!({"input": input, "version": VERSION}),
        Provider::Replicate => json!({"input": input}),
        // Novita: the flat `{"prompt", …params}`.
        _ => input,
    }
}

/// The first key of the reference's `input` object (the prompt, text, image or audio).
fn first_input_key(pair: Pair) -> &'static str {
    match pair {
        Pair::TextToImage | Pair::TextToVideo | Pair::NovitaTextToVideo => "prompt",
        Pair::TextToSpeech => "text",
        Pair::ImageToImage => "image",
        Pair::SpeechRecognition => "audio",
    }
}

// ---------------------------------------------------------------------------------------------
// Clients and rendering

/// A client with the real router and provider hosts (for previews); the Hub on `hub` (which
/// must see no request: every mapping is pinned).
fn preview_client(token: &str, hub: &ReplayServer, versioned: bool) -> InferenceClient {
    let mut builder = InferenceClient::builder()
        .token(token)
        .hub_url(hub.url_for_host(HUB_HOST))
        .retry_policy(RetryPolicy::disabled());
    for pair in PAIRS {
        builder = builder.model_mapping(
            pair.hub_model(),
            pair.provider(),
            pair.provider_id(versioned),
        );
    }
    builder.build().expect("client")
}

/// The same client with the router, the Hub and every provider host on `server`.
fn wire_client(
    token: &str,
    server: &ReplayServer,
    versioned: bool,
    timeout: Option<Duration>,
) -> InferenceClient {
    let mut builder = loopback_builder(token, server);
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    for provider in [Provider::Replicate, Provider::Novita] {
        builder = provider_hosts_on(builder, provider, server);
    }
    for pair in PAIRS {
        builder = builder.model_mapping(
            pair.hub_model(),
            pair.provider(),
            pair.provider_id(versioned),
        );
    }
    builder.build().expect("client")
}

fn check_common(preview: &RequestPreview, pair: Pair, token: &str, what: &str) {
    let rendered = render_preview(preview);
    check_preview(
        preview,
        &[token, SECRET_PART],
        Some(&rendered),
        "application/json",
        what,
    );
    match pair.provider() {
        // §3.5: the synchronous wait.
        Provider::Replicate => assert_eq!(preview.header("prefer"), Some("wait"), "{what}"),
        _ => assert_eq!(preview.header("prefer"), None, "{what}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Requests: snapshots, reference bodies, and the same call on the wire

#[tokio::test]
async fn requests_of_every_pair_and_mode() {
    // The table serves exactly these pairs with provider-specific code.
    let replicate: BTreeSet<&str> = Task::ALL
        .iter()
        .filter(|t| Provider::Replicate.spec().task(**t).is_some())
        .map(|t| t.as_str())
        .collect();
    let ours: BTreeSet<&str> = PAIRS
        .iter()
        .filter(|p| p.provider() == Provider::Replicate)
        .map(|p| p.task().as_str())
        .collect();
    assert_eq!(replicate, ours, "Replicate's tasks (§3.1)");
    assert!(Provider::Novita.spec().task(Task::TextToVideo).is_some());

    let hub = ReplayServer::start(Vec::<Tape>::new()).expect("hub server");
    let mut snapshots = 0;
    for pair in PAIRS {
        let provider = pair.provider();
        let versions: &[bool] = if provider == Provider::Replicate {
            &[false, true]
        } else {
            &[false]
        };
        for &versioned in versions {
            for mode in [Mode::Routed, Mode::Direct] {
                let what = format!(
                    "{} on {provider} ({}{})",
                    pair.task(),
                    mode.name(),
                    if versioned { ", versioned" } else { "" }
                );
                let token = token(mode);
                let client = preview_client(token, &hub, versioned);
                let preview = call(&client, pair, false, &Tweaks::default())
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {e}"))
                    .preview;
                check_common(&preview, pair, token, &what);
                assert_eq!(
                    preview.url,
                    expected_url(pair, mode, versioned),
                    "{what}: URL"
                );
                let body = preview.body_json().expect("a JSON body");
                assert_eq!(body, expected_body(pair, versioned), "{what}: body");
                if provider == Provider::Replicate {
                    let keys: Vec<&str> = body
                        .as_object()
                        .unwrap()
                        .keys()
                        .map(String::as_str)
                        .collect();
                    let want: &[&str] = if versioned {
                        &["input", "version"]
                    } else {
                        &["input"]
                    };
                    assert_eq!(keys, want, "{what}: top-level keys");
                    let first = body["input"].as_object().unwrap().keys().next().cloned();
                    assert_eq!(first.as_deref(), Some(first_input_key(pair)), "{what}");
                    assert!(
                        body["input"].get("lora_weights").is_none(),
                        "{what}: no LoRA weights without adapter information"
                    );
                }
                insta::assert_snapshot!(
                    format!(
                        "{provider}__{}__{}{}",
                        pair.task(),
                        mode.name(),
                        if versioned { "__versioned" } else { "" }
                    ),
                    render_preview(&preview)
                );
                snapshots += 1;
                check_on_the_wire(pair, mode, versioned, &preview, &what).await;
            }
        }
    }
    assert_eq!(
        snapshots, 22,
        "5 Replicate tasks x 2 ids x 2 modes + Novita x 2"
    );
    assert!(hub.requests().is_empty(), "pinned mappings: no Hub lookup");
}

#[tokio::test]
async fn image_url_inputs_are_passed_through() {
    let hub = ReplayServer::start(Vec::<Tape>::new()).expect("hub server");
    let client = preview_client(PROVIDER_KEY, &hub, false);
    let url = "https://images.example.com/cat.png";
    let preview = client
        .image_to_image(BinaryInput::from_url(url).expect("URL"))
        .prompt(EDIT)
        .model(Pair::ImageToImage.hub_model())
        .provider(Provider::Replicate)
        .preview()
        .await
        .expect("preview");
    assert_eq!(
        preview.body_json().expect("JSON"),
        json!({"input": {
            "image": url,
            "images": [url],
            "input_image": url,
            "input_images": [url],
            "prompt": EDIT
        }})
    );
    assert!(hub.requests().is_empty());
}

/// A realistic Replicate prediction (the shape of the recorded ones).
fn prediction(id: &str, model: &str, status: &str, output: Value) -> Value {
    json!({
        "id": id,
        "model": model,
        "version": "dp-8d5be2e159bd4220b110d138c8956522",
        "input": {"prompt": "…"},
        "logs": "",
        "output": output,
        "data_removed": false,
        "error": null,
        "status": status,
        "created_at": "2025-01-23T16:55:17.662Z",
        "urls": {
            "cancel": format!("https://api.replicate.com/v1/predictions/{id}/cancel"),
            "get": format!("https://api.replicate.com/v1/predictions/{id}"),
            "stream": format!("https://stream.replicate.com/v1/files/{id}"),
            "web": format!("https://replicate.com/p/{id}")
        }
    })
}

/// The file a pair's answer names: host, path, content type, bytes.
fn answer_file(pair: Pair, id: &str) -> (&'static str, String, &'static str, Vec<u8>) {
    match pair {
        Pair::TextToImage | Pair::ImageToImage => (
            DELIVERY_HOST,
            format!("/xezq/{id}/out-0.webp"),
            "image/webp",
            placeholder_bytes(Some("image/webp")),
        ),
        Pair::TextToSpeech => (
            DELIVERY_HOST,
            format!("/czjl/{id}/output.wav"),
            "audio/x-wav",
            placeholder_bytes(Some("audio/x-wav")),
        ),
        _ => (
            if pair == Pair::NovitaTextToVideo {
                VIDEO_HOST
            } else {
                DELIVERY_HOST
            },
            format!("/prod/{id}/video.mp4"),
            "video/mp4",
            b"\x00\x00\x00\x18ftypmp42 video bytes".to_vec(),
        ),
    }
}

/// Sends the call to a loopback server answering like the provider, and checks the wire.
async fn check_on_the_wire(
    pair: Pair,
    mode: Mode,
    versioned: bool,
    preview: &RequestPreview,
    what: &str,
) {
    let token = token(mode);
    let url = url::Url::parse(&preview.url).expect("preview URL");
    let host = url.host_str().expect("host").to_owned();
    let path = url.path().to_owned();
    let id = "tge8q9qbksrm80cmjgbbjftg0c";
    let (file_host, file_path, file_type, file_bytes) = answer_file(pair, id);
    let file_url = format!("https://{file_host}{file_path}");
    let answer = match pair {
        Pair::NovitaTextToVideo => json!({
            "video": {"video_url": file_url, "video_url_ttl": "3600", "video_type": "mp4"}
        }),
        // A list output (t2i, i2i), a string output (t2v, tts).
        Pair::TextToImage | Pair::ImageToImage => prediction(
            id,
            &pair.provider_id(false),
            "processing",
            json!([file_url]),
        ),
        Pair::SpeechRecognition => {
            prediction(id, &pair.provider_id(false), "succeeded", json!(TRANSCRIPT))
        }
        _ => prediction(id, &pair.provider_id(false), "succeeded", json!(file_url)),
    };

    let server = ReplayServer::start(Vec::<Tape>::new()).expect("replay server");
    server.add_route(&host, "POST", &path, 201, answer);
    server.add_raw_route(
        file_host,
        "GET",
        &file_path,
        200,
        file_type,
        file_bytes.clone(),
    );
    let client = wire_client(token, &server, versioned, None);
    let done = call(&client, pair, true, &Tweaks::default())
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    match done.output.expect("sent") {
        Ok(Out::File(blob)) => {
            assert!(pair.is_file(), "{what}");
            assert_eq!(blob.bytes().as_ref(), file_bytes.as_slice(), "{what}: file");
            assert_eq!(blob.content_type(), Some(file_type), "{what}: file type");
        }
        Ok(Out::Json(value)) => {
            assert_eq!(pair, Pair::SpeechRecognition, "{what}");
            assert_eq!(value, json!({"text": TRANSCRIPT}), "{what}");
        }
        Err(e) => panic!("{what}: {e:?}"),
    }

    let requests = server.requests();
    assert!(requests.iter().all(RecordedRequest::is_matched), "{what}");
    assert_eq!(
        requests.len(),
        if pair.is_file() { 2 } else { 1 },
        "{what}: the prediction, then the file"
    );
    let sent = &requests[0];
    assert_eq!(
        (sent.host.as_str(), sent.method.as_str(), sent.path.as_str()),
        (host.as_str(), "POST", path.as_str()),
        "{what}"
    );
    assert_eq!(sent.query, None, "{what}");
    assert_eq!(
        sent.body.as_ref(),
        done.preview.body.as_deref().unwrap_or_default(),
        "{what}: the body on the wire is the preview's"
    );
    assert_eq!(
        done.preview.body_json(),
        preview.body_json(),
        "{what}: same body"
    );
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {token}").as_str()),
        "{what}: Bearer auth"
    );
    assert_eq!(
        sent.header("content-type"),
        Some("application/json"),
        "{what}"
    );
    if pair.provider() == Provider::Replicate {
        assert_eq!(sent.header("prefer"), Some("wait"), "{what}");
    }
    if pair.is_file() {
        let download = &requests[1];
        assert_eq!(
            (
                download.host.as_str(),
                download.method.as_str(),
                download.path.as_str()
            ),
            (file_host, "GET", file_path.as_str()),
            "{what}: the download"
        );
        assert!(
            !download.has_header("authorization") && !download.has_header("x-key"),
            "{what}: the file is downloaded WITHOUT credentials"
        );
    }

    // Replicate's input validation error: `Error::Http` with its message, no retry.
    server.add_raw_route(
        &host,
        "POST",
        &path,
        422,
        "application/problem+json",
        serde_json::to_vec(&json!({
            "detail": "- input: prompt is required\n",
            "status": 422,
            "title": "Input validation failed",
            "invalid_fields": [
                {"type": "required", "field": "input", "description": "prompt is required"}
            ]
        }))
        .unwrap(),
    );
    server.clear_requests();
    let err = match call(&client, pair, true, &Tweaks::default()).await {
        Ok(Done {
            output: Some(Err(e)),
            ..
        }) => e,
        Ok(_) => panic!("{what}: HTTP 422 answered a value"),
        Err(e) => panic!("{what}: {e}"),
    };
    assert_http_error(&err, 422, "prompt is required", what);
    assert_eq!(server.requests().len(), 1, "{what}: no retry, no download");
}

// ---------------------------------------------------------------------------------------------
// Response mapping

const ID: &str = "3232aqzhdsrme0cmjgb972dha8";
const TRANSCRIPT: &str = "And so my fellow Americans, ask not what your country can do for you.";

/// A loopback server answering `answer` to the direct text-to-image (or `pair`) prediction, and
/// `tapes` (polls) and files.
struct Scene {
    server: ReplayServer,
    pair: Pair,
    mode: Mode,
}

impl Scene {
    fn new(pair: Pair, mode: Mode, answer: Value, polls: &[Value]) -> Scene {
        let poll_url = match mode {
            Mode::Routed => format!("{ROUTER}/replicate/v1/predictions/{ID}"),
            Mode::Direct => format!("{REPLICATE_API}/v1/predictions/{ID}"),
        };
        let server = ReplayServer::start(poll_tapes(&poll_url, polls)).expect("replay server");
        let url = url::Url::parse(&expected_url(pair, mode, false)).unwrap();
        server.add_route(url.host_str().unwrap(), "POST", url.path(), 201, answer);
        Scene { server, pair, mode }
    }

    fn file(&self, host: &str, path: &str, content_type: &str, bytes: &[u8]) {
        self.server
            .add_raw_route(host, "GET", path, 200, content_type, bytes.to_vec());
    }

    async fn send(&self, timeout: Option<Duration>, tweaks: &Tweaks) -> Result<Out, Error> {
        let client = wire_client(token(self.mode), &self.server, false, timeout);
        call(&client, self.pair, true, tweaks)
            .await
            .expect("the call is built")
            .output
            .expect("sent")
    }

    fn requests(&self) -> Vec<RecordedRequest> {
        let requests = self.server.requests();
        assert!(
            requests.iter().all(RecordedRequest::is_matched),
            "unmatched: {:?}",
            self.server.unmatched()
        );
        requests
    }
}

/// Synthetic tapes answering the polls of one prediction, served in order (the last repeated).
fn poll_tapes(url: &str, answers: &[Value]) -> Vec<Tape> {
    (1..)
        .zip(answers)
        .map(|(step, answer)| {
            let name = format!("synthetic-poll-{step}.json");
            let reply = Reply::Json(answer.clone());
            synthetic_tape(&name, step, "GET", url, BodyExpect::Empty, 200, reply)
        })
        .collect()
}

fn without_urls(mut prediction: Value) -> Value {
    prediction.as_object_mut().unwrap().remove("urls");
    prediction
}

fn fast() -> Tweaks {
    Tweaks {
        poll_interval: Some(Duration::from_millis(10)),
        statuses: Some(Arc::default()),
    }
}

fn expect_blob(out: Result<Out, Error>) -> Blob {
    match out {
        Ok(Out::File(blob)) => blob,
        Ok(Out::Json(v)) => panic!("expected a file, got {v}"),
        Err(e) => panic!("expected a file, got {e:?}"),
    }
}

fn expect_error(out: Result<Out, Error>) -> Error {
    match out {
        Err(e) => e,
        Ok(Out::File(blob)) => panic!("expected an error, got a file of {:?}", blob.content_type()),
        Ok(Out::Json(v)) => panic!("expected an error, got {v}"),
    }
}

#[tokio::test]
async fn a_list_output_downloads_its_first_url_only() {
    let first = format!("https://{DELIVERY_HOST}/xezq/{ID}/out-0.png");
    let second = format!("https://{DELIVERY_HOST}/xezq/{ID}/out-1.png");
    let scene = Scene::new(
        Pair::TextToImage,
        Mode::Direct,
        prediction(
            ID,
            "stability-ai/sdxl",
            "processing",
            json!([first, second]),
        ),
        &[],
    );
    let png = placeholder_bytes(Some("image/png"));
    scene.file(
        DELIVERY_HOST,
        &format!("/xezq/{ID}/out-0.png"),
        "image/png",
        &png,
    );
    scene.file(
        DELIVERY_HOST,
        &format!("/xezq/{ID}/out-1.png"),
        "image/png",
        b"second",
    );
    let blob = expect_blob(scene.send(None, &Tweaks::default()).await);
    assert_eq!(blob.bytes().as_ref(), png.as_slice());
    assert_eq!(blob.content_type(), Some("image/png"));
    let requests = scene.requests();
    assert_eq!(requests.len(), 2, "the prediction and the first file only");
    assert_eq!(requests[1].path, format!("/xezq/{ID}/out-0.png"));
    assert!(!requests[1].has_header("authorization"));
}

#[tokio::test]
async fn a_data_url_output_is_decoded_without_a_request() {
    let wav = placeholder_bytes(Some("audio/wav"));
    let scene = Scene::new(
        Pair::TextToSpeech,
        Mode::Direct,
        prediction(
            ID,
            "jaaari/kokoro-82m",
            "succeeded",
            json!(data_url("audio/wav", &wav)),
        ),
        &[],
    );
    let blob = expect_blob(scene.send(None, &Tweaks::default()).await);
    assert_eq!(blob.bytes().as_ref(), wav.as_slice());
    assert_eq!(blob.content_type(), Some("audio/wav"));
    assert_eq!(scene.requests().len(), 1);
}

#[tokio::test]
async fn a_null_output_with_nothing_to_poll_is_a_timeout_with_the_prediction_id() {
    for pair in [Pair::TextToImage, Pair::SpeechRecognition] {
        let scene = Scene::new(
            pair,
            Mode::Direct,
            without_urls(prediction(
                ID,
                "stability-ai/sdxl",
                "processing",
                Value::Null,
            )),
            &[],
        );
        let err = expect_error(scene.send(None, &Tweaks::default()).await);
        let what = format!("{pair:?}: Replicate's wait");
        assert_job_timeout(&err, "replicate", ID, Duration::from_secs(60), &what);
        assert_eq!(scene.requests().len(), 1, "{pair:?}: nothing else is sent");
    }
}

#[tokio::test]
async fn a_null_output_is_polled_until_the_prediction_succeeds() {
    for mode in [Mode::Direct, Mode::Routed] {
        let file = format!("https://{DELIVERY_HOST}/xezq/{ID}/out-0.webp");
        let scene = Scene::new(
            Pair::TextToImage,
            mode,
            prediction(ID, "stability-ai/sdxl", "starting", Value::Null),
            &[
                prediction(ID, "stability-ai/sdxl", "processing", Value::Null),
                prediction(ID, "stability-ai/sdxl", "succeeded", json!([file])),
            ],
        );
        let webp = placeholder_bytes(Some("image/webp"));
        scene.file(
            DELIVERY_HOST,
            &format!("/xezq/{ID}/out-0.webp"),
            "image/webp",
            &webp,
        );
        let tweaks = fast();
        let blob = expect_blob(scene.send(None, &tweaks).await);
        assert_eq!(blob.bytes().as_ref(), webp.as_slice(), "{mode:?}");
        let statuses = tweaks.statuses.unwrap().lock().unwrap().clone();
        assert_eq!(
            statuses,
            ["starting", "processing", "succeeded"],
            "{mode:?}"
        );

        let requests = scene.requests();
        assert_eq!(requests.len(), 4, "{mode:?}: POST, 2 polls, the file");
        let (poll_host, poll_path) = match mode {
            Mode::Routed => (ROUTER_HOST, format!("/replicate/v1/predictions/{ID}")),
            Mode::Direct => (REPLICATE_HOST, format!("/v1/predictions/{ID}")),
        };
        for poll in &requests[1..3] {
            assert_eq!(
                (poll.host.as_str(), poll.method.as_str(), poll.path.as_str()),
                (poll_host, "GET", poll_path.as_str()),
                "{mode:?}: polls stay on the call's host"
            );
            assert_eq!(
                poll.header("authorization"),
                Some(format!("Bearer {}", token(mode)).as_str()),
                "{mode:?}: the poll carries the call's credentials"
            );
            assert!(
                poll.body.is_empty() && !poll.has_header("prefer"),
                "{mode:?}"
            );
        }
        assert_eq!(requests[3].host, DELIVERY_HOST, "{mode:?}");
        assert!(!requests[3].has_header("authorization"), "{mode:?}");
    }
}

#[tokio::test]
async fn a_stuck_prediction_times_out_at_the_job_deadline_with_its_id() {
    let scene = Scene::new(
        Pair::TextToImage,
        Mode::Direct,
        prediction(ID, "stability-ai/sdxl", "starting", Value::Null),
        &[prediction(
            ID,
            "stability-ai/sdxl",
            "processing",
            Value::Null,
        )],
    );
    let deadline = Duration::from_millis(400);
    let started = std::time::Instant::now();
    let err = expect_error(scene.send(Some(deadline), &fast()).await);
    let what = "the client's timeout bounds the job";
    assert_job_timeout(&err, "replicate", ID, deadline, what);
    assert!(started.elapsed() < Duration::from_secs(5), "bounded");
    let polls = scene.requests().len() - 1;
    assert!(polls >= 2, "it polled ({polls} polls)");
}

#[tokio::test]
async fn failed_and_canceled_predictions_are_job_failures() {
    // Failed in the first answer.
    let mut failed = prediction(ID, "stability-ai/sdxl", "failed", Value::Null);
    failed["error"] = json!("CUDA out of memory");
    let scene = Scene::new(Pair::TextToImage, Mode::Direct, failed, &[]);
    assert_job_failed(
        &expect_error(scene.send(None, &Tweaks::default()).await),
        "replicate",
        ID,
        "CUDA out of memory",
        "a failed prediction",
    );
    assert_eq!(scene.requests().len(), 1, "no download");

    // Canceled while polled.
    let scene = Scene::new(
        Pair::TextToSpeech,
        Mode::Direct,
        prediction(ID, "jaaari/kokoro-82m", "starting", Value::Null),
        &[prediction(ID, "jaaari/kokoro-82m", "canceled", Value::Null)],
    );
    match expect_error(scene.send(None, &fast()).await) {
        Error::JobFailed {
            message, job_id, ..
        } => {
            assert!(message.contains("canceled"), "{message}");
            assert_eq!(job_id.as_deref(), Some(ID));
        }
        other => panic!("expected Error::JobFailed, got {other:?}"),
    }
    assert_eq!(scene.requests().len(), 2, "the prediction and one poll");
}

#[tokio::test]
async fn malformed_outputs_are_decode_errors() {
    for (pair, answer) in [
        (
            Pair::TextToImage,
            prediction(ID, "m", "succeeded", json!({"image": "x"})),
        ),
        (
            Pair::TextToImage,
            prediction(ID, "m", "succeeded", json!([])),
        ),
        (
            Pair::TextToVideo,
            prediction(ID, "m", "succeeded", json!(42)),
        ),
        (
            Pair::TextToSpeech,
            prediction(ID, "m", "succeeded", Value::Null),
        ),
        (Pair::TextToImage, json!(["not", "a", "prediction"])),
    ] {
        let scene = Scene::new(pair, Mode::Direct, answer.clone(), &[]);
        let err = expect_error(scene.send(None, &Tweaks::default()).await);
        assert!(
            matches!(err, Error::Decode { .. }),
            "{pair:?} {answer}: {err:?}"
        );
        assert_eq!(scene.requests().len(), 1, "{pair:?}");
    }
}

#[tokio::test]
async fn speech_recognition_output_rules() {
    let txt_path = format!("/{ID}/transcript.txt");
    let txt_url = format!("https://{DELIVERY_HOST}{txt_path}");
    let cases: Vec<(Value, Result<&str, &str>)> = vec![
        (json!("plain text"), Ok("plain text")),
        (json!(["first", "second"]), Ok("first")),
        (json!([{"transcription": "from a list"}]), Ok("from a list")),
        (json!({"transcription": "transcribed"}), Ok("transcribed")),
        // Later keys win (the reference's order).
        (
            json!({"transcription": "transcribed", "translation": "translated"}),
            Ok("translated"),
        ),
        (
            json!({"transcription": "transcribed", "txt_file": txt_url}),
            Ok("text of the file"),
        ),
        (json!({"segments": []}), Err("decode")),
        (json!([]), Err("decode")),
        (json!([42]), Err("decode")),
        (json!(42), Err("decode")),
        (json!({"transcription": 42}), Err("decode")),
    ];
    for (output, want) in cases {
        let scene = Scene::new(
            Pair::SpeechRecognition,
            Mode::Direct,
            prediction(ID, "openai/whisper", "succeeded", output.clone()),
            &[],
        );
        scene.file(DELIVERY_HOST, &txt_path, "text/plain", b"text of the file");
        let got = scene.send(None, &Tweaks::default()).await;
        match (want, got) {
            (Ok(text), Ok(Out::Json(value))) => {
                assert_eq!(value, json!({ "text": text }), "{output}")
            }
            (Err(_), Err(Error::Decode { .. })) => {}
            (want, Err(e)) => panic!("{output}: expected {want:?}, got {e:?}"),
            (want, Ok(_)) => panic!("{output}: expected {want:?}, got another value"),
        }
        let requests = scene.requests();
        if output.get("txt_file").is_some() {
            assert_eq!(requests.len(), 2, "{output}: the text file is downloaded");
            assert_eq!(requests[1].path, txt_path);
            assert!(
                !requests[1].has_header("authorization"),
                "{output}: without credentials"
            );
        } else {
            assert_eq!(requests.len(), 1, "{output}");
        }
    }
}

#[tokio::test]
async fn novita_video_answers() {
    // Anything but `{"video": {"video_url": "…"}}` is a decode error naming the field.
    for answer in [
        json!({"task": {"task_id": "abc", "status": "TASK_STATUS_QUEUED"}}),
        json!({"video": {}}),
        json!({"video": {"video_url": 42}}),
        json!({"video": "https://example.com/v.mp4"}),
    ] {
        let scene = Scene::new(Pair::NovitaTextToVideo, Mode::Routed, answer.clone(), &[]);
        match expect_error(scene.send(None, &Tweaks::default()).await) {
            Error::Decode { message, .. } => {
                assert!(message.contains("video_url"), "{answer}: {message}")
            }
            other => panic!("{answer}: expected Error::Decode, got {other:?}"),
        }
        assert_eq!(scene.requests().len(), 1, "{answer}");
    }
}

// ---------------------------------------------------------------------------------------------
// Replay of the conformance tapes

fn replay_token(tape: &Tape) -> &'static str {
    if tape.is_routed() {
        FAKE_HF_TOKEN
    } else {
        FAKE_PROVIDER_KEY
    }
}

/// A client on `server` for `tape`'s provider; the mapping pinned unless `via_hub`.
fn replay_client(
    tape: &Tape,
    server: &ReplayServer,
    provider: Provider,
    pin: Option<(&str, &str)>,
) -> InferenceClient {
    let builder = loopback_builder(replay_token(tape), server).timeout(Duration::from_secs(30));
    let mut builder = provider_hosts_on(builder, provider, server);
    if let Some((model, provider_id)) = pin {
        builder = builder.model_mapping(model, provider, provider_id);
    }
    builder.build().expect("client")
}

/// Whether the request carried the credentials the JS client sent (`provenance.auth_scheme`).
fn auth_problem(tape: &Tape, sent: &RecordedRequest) -> Option<String> {
    match &tape.provenance.auth_scheme {
        Some(Some(scheme)) => {
            let want = format!("{scheme} {}", replay_token(tape));
            (sent.header("authorization") != Some(want.as_str()))
                .then(|| format!("auth: expected `Authorization: {scheme} <token>`"))
        }
        Some(None) => (sent.has_header("authorization") || sent.has_header("x-key"))
            .then(|| "auth: the JS client sent no credentials here, the SDK did".to_owned()),
        None => None,
    }
}

/// Why the SDK's request did not match the tape: path, query, body differences.
fn request_differences(tape: &Tape, sent: &RecordedRequest) -> Vec<String> {
    let mut out = Vec::new();
    if sent.matched.as_deref() == Some(tape.file_name.as_str()) {
        return out;
    }
    let recorded = tape.url().expect("a URL");
    if sent.host != recorded.host_str().unwrap_or_default() || sent.path != recorded.path() {
        out.push(format!(
            "URL: recorded {}, sent {}",
            tape.request.url,
            sent.original_url()
        ));
    }
    if sent.query.as_deref() != recorded.query() {
        out.push(format!(
            "query: recorded {:?}, sent {:?}",
            recorded.query(),
            sent.query
        ));
    }
    match (&tape.request.body_json, sent.json()) {
        (Some(want), Some(got)) => out.extend(
            json_diff(want, &got, 8)
                .into_iter()
                .map(|d| format!("body {d}")),
        ),
        (Some(_), None) => out.push("body: not JSON".to_owned()),
        _ => {}
    }
    if out.is_empty() {
        out.push(format!(
            "the replay server did not match it: {}",
            sent.diagnostic
                .as_ref()
                .map(expect::show)
                .unwrap_or_default()
        ));
    }
    out
}

/// Replays every `replicate` and `novita` tape; one line per tape.
#[tokio::test]
async fn replay_replicate_and_novita_tapes() {
    let dir = tapes_dir();
    let all = Tape::load_dir(&dir)
        .unwrap_or_else(|e| panic!("load the conformance tapes from {}: {e}", dir.display()));
    let tapes: Vec<&Tape> = all
        .iter()
        .filter(|t| t.provider == "replicate" || t.provider == "novita")
        .collect();
    assert!(
        !tapes.is_empty(),
        "no replicate/novita tape in {}",
        dir.display()
    );

    let mut verdicts: BTreeMap<String, Verdict> = BTreeMap::new();
    // The calls, each with the downloads that follow it.
    for tape in tapes.iter().filter(|t| t.task != "asset-download") {
        let followers: Vec<&Tape> = tapes
            .iter()
            .copied()
            .filter(|t| t.provenance.follows.as_deref() == Some(tape.id.as_str()))
            .collect();
        for (name, verdict) in replay_call(tape, &followers).await {
            verdicts.insert(name, verdict);
        }
    }
    // Downloads whose call is not in the set.
    for tape in tapes.iter().filter(|t| t.task == "asset-download") {
        if !verdicts.contains_key(&tape.file_name) {
            let verdict = replay_orphan_download(tape).await;
            verdicts.insert(tape.file_name.clone(), verdict);
        }
    }

    let mut tally = Tally::default();
    for tape in &tapes {
        match verdicts.get(&tape.file_name) {
            Some(verdict) => tally.record(&tape.file_name, verdict),
            None => tally.record(&tape.file_name, &Verdict::Fail("never replayed".into())),
        }
    }
    println!(
        "replay: {tally} ({} replicate and novita tapes)",
        tapes.len()
    );
    assert_eq!(tally.total(), tapes.len());
    tally.assert_no_failures();
}

async fn replay_call(tape: &Tape, followers: &[&Tape]) -> Vec<(String, Verdict)> {
    match (tape.provider.as_str(), tape.task.as_str()) {
        ("replicate", "text-to-image" | "text-to-speech") if tape.in_final_spec => {
            replay_prediction(tape, followers).await
        }
        ("replicate", "text-to-speech") => {
            let mut out = vec![(
                tape.file_name.clone(),
                replay_legacy_prediction_error(tape).await,
            )];
            out.extend(followers.iter().map(|f| {
                (
                    f.file_name.clone(),
                    Verdict::Fail("a download after an error answer".into()),
                )
            }));
            out
        }
        ("novita", "chat-completion") => vec![(tape.file_name.clone(), replay_chat(tape).await)],
        _ => vec![(
            tape.file_name.clone(),
            Verdict::Fail(format!(
                "no replay for a {} `{}` tape in this file; add one",
                tape.provider, tape.task
            )),
        )],
    }
}

/// The recorded prompt (`input.prompt`, or `input.text` for speech) and the other input keys.
fn recorded_prompt(tape: &Tape) -> Result<String, String> {
    let input = tape
        .request
        .body_json
        .as_ref()
        .and_then(|b| b.get("input"))
        .and_then(Value::as_object)
        .ok_or("no `input` object in the recorded body")?;
    let key = if tape.task == "text-to-speech" {
        "text"
    } else {
        "prompt"
    };
    let others: Vec<&String> = input.keys().filter(|k| *k != key).collect();
    if !others.is_empty() {
        return Err(format!("input keys this replay does not map: {others:?}"));
    }
    input
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("no `input.{key}` string in the recorded body"))
}

/// A final-spec prediction and its download: the request must match the recording, the file
/// must be downloaded without credentials, and `test.expected` must hold.
async fn replay_prediction(tape: &Tape, followers: &[&Tape]) -> Vec<(String, Verdict)> {
    let fail_all = |why: String| {
        std::iter::once(tape)
            .chain(followers.iter().copied())
            .map(|t| (t.file_name.clone(), Verdict::Fail(why.clone())))
            .collect::<Vec<_>>()
    };
    let Some(mapping) = &tape.test.provider_mapping else {
        return fail_all("a final-spec tape without `test.provider_mapping`".into());
    };
    let prompt = match recorded_prompt(tape) {
        Ok(p) => p,
        Err(e) => return fail_all(e),
    };
    let served: Vec<&Tape> = std::iter::once(tape)
        .chain(followers.iter().copied())
        .collect();
    let server = match ReplayServer::start(served) {
        Ok(s) => s,
        Err(e) => return fail_all(format!("replay server: {e}")),
    };
    let via_hub = mapping
        .source
        .as_deref()
        .is_some_and(|s| s.contains("Hub lookup"));
    let pin = if via_hub {
        server.add_provider_mappings([tape]);
        None
    } else {
        Some((
            mapping.hf_model_id.as_str(),
            mapping.provider_model_id.as_str(),
        ))
    };
    let client = replay_client(tape, &server, Provider::Replicate, pin);
    let model = mapping.hf_model_id.clone();
    let result = match tape.task.as_str() {
        "text-to-speech" => {
            client
                .text_to_speech(prompt)
                .model(model)
                .provider(Provider::Replicate)
                .send()
                .await
        }
        _ => {
            client
                .text_to_image(prompt)
                .model(model)
                .provider(Provider::Replicate)
                .send()
                .await
        }
    };

    let (lookups, requests): (Vec<_>, Vec<_>) = server
        .requests()
        .into_iter()
        .partition(|r| r.host == HUB_HOST);
    let mut problems = Vec::new();
    if via_hub != (lookups.len() == 1) || lookups.iter().any(|r| !r.is_matched()) {
        problems.push(format!(
            "Hub lookups: {} (the mapping {} from the Hub)",
            lookups.len(),
            if via_hub { "came" } else { "did not come" }
        ));
    }
    let Some(sent) = requests.first() else {
        return fail_all(format!(
            "no prediction request; the SDK returned {result:?}"
        ));
    };
    problems.extend(request_differences(tape, sent));
    problems.extend(header_mismatches(tape, sent));
    problems.extend(auth_problem(tape, sent));
    if requests.len() != 1 + followers.len() {
        problems.push(format!(
            "{} requests sent, {} recorded",
            requests.len(),
            1 + followers.len()
        ));
    }
    let blob = match result {
        Ok(blob) => blob,
        Err(e) => {
            problems.push(format!("the call failed: {e}"));
            return fail_all(problems.join("; "));
        }
    };
    let expectation = match tape.test.expected.as_ref().map(Expectation::parse) {
        Some(Ok(e)) => e,
        Some(Err(e)) => return fail_all(format!("test.expected: {e}")),
        None => return fail_all("a final-spec tape without `test.expected`".into()),
    };
    if let Err(e) = expectation.check(Actual::Bytes(blob.bytes())) {
        problems.push(format!("test.expected: {e}"));
    }
    let mut out = Vec::new();
    let mut follower_verdicts = Vec::new();
    for follower in followers {
        let download = requests
            .iter()
            .find(|r| r.matched.as_deref() == Some(follower.file_name.as_str()));
        let verdict = match download {
            None => Verdict::Fail("the SDK never downloaded this file".into()),
            Some(d) => {
                let mut issues: Vec<String> = auth_problem(follower, d).into_iter().collect();
                let served = placeholder_bytes(follower.response.content_type());
                if blob.bytes().as_ref() != served.as_slice() {
                    issues.push("the call did not return the downloaded bytes".into());
                }
                if let Some(Err(e)) = follower
                    .test
                    .expected
                    .as_ref()
                    .map(|v| Expectation::parse(v)?.check(Actual::Bytes(blob.bytes())))
                {
                    issues.push(format!("test.expected: {e}"));
                }
                if issues.is_empty() {
                    Verdict::Pass(format!(
                        "step {} of {}: `output` downloaded without credentials, the call \
                         returned its {} bytes ({})",
                        follower.test.step.unwrap_or_default(),
                        tape.file_name,
                        blob.bytes().len(),
                        blob.content_type().unwrap_or("no content type")
                    ))
                } else {
                    Verdict::Fail(issues.join("; "))
                }
            }
        };
        follower_verdicts.push((follower.file_name.clone(), verdict));
    }
    let verdict = if problems.is_empty() {
        Verdict::Pass(format!(
            "request matches the recording ({} {}, `prefer: wait`, Bearer{}); test.expected `{}` \
             holds on the {}-byte Blob",
            sent.method,
            tape.request.url,
            if via_hub {
                ", mapping from the Hub"
            } else {
                ""
            },
            expectation.kind(),
            blob.bytes().len()
        ))
    } else {
        Verdict::Fail(problems.join("; "))
    };
    out.push((tape.file_name.clone(), verdict));
    out.extend(follower_verdicts);
    out
}

/// A legacy prediction tape answering an error: response only (the recorded body is obsolete).
async fn replay_legacy_prediction_error(tape: &Tape) -> Verdict {
    let body = tape.request.body_json.clone().unwrap_or(Value::Null);
    let Some(version) = body.get("version").and_then(Value::as_str) else {
        return Verdict::Fail("no `version` in the recorded body".into());
    };
    let response = &tape.response;
    if response.status < 400 {
        return Verdict::Fail("a legacy prediction tape that is not an error".into());
    }
    let server = match ReplayServer::start([tape]) {
        Ok(s) => s,
        Err(e) => return Verdict::Fail(format!("replay server: {e}")),
    };
    // The recorded answer, whatever the body: the SDK sends `text`, the old client did not.
    let recorded = tape.url().expect("a URL");
    server.add_raw_route(
        recorded.host_str().unwrap_or_default(),
        &tape.request.method,
        recorded.path(),
        response.status,
        response.content_type().unwrap_or("application/json"),
        response.body_bytes().unwrap_or_default(),
    );
    let hf_model = "legacy/replicate-model";
    let provider_id = format!("legacy/replicate-model:{version}");
    let client = replay_client(
        tape,
        &server,
        Provider::Replicate,
        Some((hf_model, &provider_id)),
    );
    let result = client
        .text_to_speech("Kokoro is a frontier TTS model")
        .model(hf_model)
        .provider(Provider::Replicate)
        .send()
        .await;
    let requests = server.requests();
    let Some(sent) = requests.first() else {
        return Verdict::Fail("no request sent".into());
    };
    if sent.original_url() != tape.request.url {
        return Verdict::Fail(format!(
            "URL: recorded {}, sent {}",
            tape.request.url,
            sent.original_url()
        ));
    }
    if sent.json().and_then(|b| b.get("version").cloned()) != Some(json!(version)) {
        return Verdict::Fail("the recorded `version` was not sent".into());
    }
    let messages: Vec<String> = match &response.body_json {
        Some(Value::Object(map)) => ["detail"]
            .iter()
            .filter_map(|k| map.get(*k).and_then(Value::as_str))
            .map(|m| m.trim().to_owned())
            .collect(),
        _ => Vec::new(),
    };
    match result {
        Err(e @ Error::Http(_)) if e.status() == Some(response.status) => {
            let got = e
                .http_context()
                .and_then(|c| c.server_message.clone())
                .unwrap_or_default();
            if let Some(missing) = messages.iter().find(|m| !got.contains(m.as_str())) {
                return Verdict::Fail(format!(
                    "the error's server message {got:?} lacks {missing:?}"
                ));
            }
            Verdict::NotApplicable(format!(
                "not applicable (request): legacy tape (in_final_spec: false): an older JS client \
                 sent `{}` without the text, which the SDK always sends (the URL and `version` \
                 match); response parsing only: Error::Http {} with the server's message {got:?}",
                expect::show(&body),
                response.status
            ))
        }
        other => Verdict::Fail(format!(
            "recorded HTTP {}: expected Error::Http, got {other:?}",
            response.status
        )),
    }
}

/// A legacy download whose prediction request is not in the set: served as the `output` of a
/// synthetic prediction.
async fn replay_orphan_download(tape: &Tape) -> Verdict {
    if tape.in_final_spec {
        return Verdict::Fail("a final-spec download without its call".into());
    }
    let server = match ReplayServer::start([tape]) {
        Ok(s) => s,
        Err(e) => return Verdict::Fail(format!("replay server: {e}")),
    };
    let (hf_model, provider_id) = ("legacy/replicate-model", "legacy/replicate-model");
    server.add_route(
        REPLICATE_HOST,
        "POST",
        &format!("/v1/models/{provider_id}/predictions"),
        201,
        prediction(ID, provider_id, "processing", json!([tape.request.url])),
    );
    let client = replay_client(
        tape,
        &server,
        Provider::Replicate,
        Some((hf_model, provider_id)),
    );
    let result = client
        .text_to_image("A legacy prompt")
        .model(hf_model)
        .provider(Provider::Replicate)
        .send()
        .await;
    let requests = server.requests();
    let download = requests
        .iter()
        .find(|r| r.matched.as_deref() == Some(tape.file_name.as_str()));
    let blob = match (result, download) {
        (Ok(blob), Some(_)) => blob,
        (result, _) => {
            return Verdict::Fail(format!(
                "the download was not served ({} requests); the SDK returned {:?}",
                requests.len(),
                result.map(|b| b.bytes().len())
            ));
        }
    };
    if download.is_some_and(|d| d.has_header("authorization") || d.has_header("x-key")) {
        return Verdict::Fail("the file was downloaded with credentials".into());
    }
    if blob.bytes().as_ref() != placeholder_bytes(tape.response.content_type()).as_slice() {
        return Verdict::Fail("the call did not return the downloaded bytes".into());
    }
    Verdict::NotApplicable(format!(
        "not applicable (request): legacy tape (in_final_spec: false) whose prediction request \
         is not in the conformance set; response only: served as the `output` list of a \
         synthetic prediction, downloaded without credentials, the call returned its {} bytes \
         ({})",
        blob.bytes().len(),
        blob.content_type().unwrap_or("no content type")
    ))
}

/// JSON equality of the round trips: numbers exact.
const SAME_JSON: SameJson = SameJson {
    tolerance: 0.0,
    expected: "recorded",
};

/// A Novita chat tape (the OpenAI-style engine): final-spec tapes check the request and the
/// answer; legacy ones the answer only.
async fn replay_chat(tape: &Tape) -> Verdict {
    let Some(Value::Object(body)) = tape.request.body_json.clone() else {
        return Verdict::Fail("no JSON body".into());
    };
    let Some(provider_id) = body.get("model").and_then(Value::as_str).map(str::to_owned) else {
        return Verdict::Fail("no `model` in the recorded body".into());
    };
    let hf_model = tape
        .test
        .provider_mapping
        .as_ref()
        .map_or(provider_id.clone(), |m| m.hf_model_id.clone());
    let stream = body.get("stream") == Some(&json!(true)) || tape.response.is_sse;
    let mut fields: Map<String, Value> = body.clone();
    fields.remove("model");
    fields.remove("stream");
    let input: ChatCompletionInput = match serde_json::from_value(Value::Object(fields)) {
        Ok(i) => i,
        Err(e) => return Verdict::Fail(format!("the recorded body is not a chat input: {e}")),
    };
    let server = match ReplayServer::start([tape]) {
        Ok(s) => s,
        Err(e) => return Verdict::Fail(format!("replay server: {e}")),
    };
    let client = replay_client(
        tape,
        &server,
        Provider::Novita,
        Some((&hf_model, &provider_id)),
    );
    let run = |client: InferenceClient| {
        let input = input.clone();
        let hf_model = hf_model.clone();
        async move {
            let request = client
                .chat_completion_input(input)
                .model(hf_model)
                .provider(Provider::Novita);
            if stream {
                match request.stream().await {
                    Ok(s) => {
                        let mut s = std::pin::pin!(s);
                        let mut events = Vec::new();
                        while let Some(item) = s.next().await {
                            match item {
                                Ok(chunk) => events.push(serde_json::to_value(chunk).unwrap()),
                                Err(e) => return Err(e.to_string()),
                            }
                        }
                        Ok(Value::Array(events))
                    }
                    Err(e) => Err(e.to_string()),
                }
            } else {
                request
                    .send()
                    .await
                    .map(|out| serde_json::to_value(out).unwrap())
                    .map_err(|e| e.to_string())
            }
        }
    };
    let mut result = run(client).await;
    let requests = server.requests();
    let Some(sent) = requests.first().cloned() else {
        return Verdict::Fail("no request sent".into());
    };
    let matched = sent.matched.as_deref() == Some(tape.file_name.as_str());
    let mut problems = Vec::new();
    if tape.in_final_spec {
        problems.extend(request_differences(tape, &sent));
        problems.extend(header_mismatches(tape, &sent));
        problems.extend(auth_problem(tape, &sent));
    } else if !matched {
        // Legacy: the recorded answer on the SDK's path, whatever the body.
        server.add_raw_route(
            &sent.host,
            &sent.method,
            &sent.path_and_query(),
            tape.response.status,
            tape.response.content_type().unwrap_or("application/json"),
            tape.response.body_bytes().unwrap_or_default(),
        );
        let client = replay_client(
            tape,
            &server,
            Provider::Novita,
            Some((&hf_model, &provider_id)),
        );
        result = run(client).await;
    }
    let value = match result {
        Ok(v) => v,
        Err(e) => {
            problems.push(format!("the call failed: {e}"));
            return Verdict::Fail(problems.join("; "));
        }
    };
    let checked = if stream {
        let recorded = match tape
            .response
            .body_text
            .as_deref()
            .map(expect::parse_sse_events)
        {
            Some(Ok(events)) => events,
            _ => return Verdict::Fail("the recorded stream does not parse".into()),
        };
        let events = value.as_array().cloned().unwrap_or_default();
        if events.len() != recorded.len() {
            problems.push(format!(
                "{} chunks recorded, {} streamed",
                recorded.len(),
                events.len()
            ));
        }
        for (i, (want, got)) in recorded.iter().zip(&events).enumerate() {
            if let Err(e) = SAME_JSON.check(want, got, &format!("chunk[{i}]")) {
                problems.push(e);
                break;
            }
        }
        format!(
            "{} streamed chunks equal the recorded events (content {:?})",
            events.len(),
            expect::stream_content(&events)
        )
    } else {
        let recorded = tape.response.body_json.clone().unwrap_or(Value::Null);
        if let Err(e) = SAME_JSON.check(&recorded, &value, "$") {
            problems.push(format!("ChatCompletionOutput differs: {e}"));
        }
        "ChatCompletionOutput equals the recorded body".to_owned()
    };
    let mut checked = checked;
    if let Some(expected) = &tape.test.expected {
        match Expectation::parse(expected).and_then(|x| {
            x.check(Actual::Json(&value))?;
            Ok(x)
        }) {
            Ok(x) => checked.push_str(&format!("; test.expected `{}` holds", x.kind())),
            Err(e) => problems.push(format!("test.expected: {e}")),
        }
    }
    if !problems.is_empty() {
        return Verdict::Fail(problems.join("; "));
    }
    if tape.in_final_spec {
        Verdict::Pass(format!("request matches the recording; {checked}"))
    } else {
        Verdict::NotApplicable(format!(
            "not applicable (request): legacy tape (in_final_spec: false), recorded by an older \
             JS client{}; response parsing only: {checked}",
            if matched {
                " (its request still matches)"
            } else {
                ""
            }
        ))
    }
}
