//! The provider-specific image, video and embeddings formats of together, nscale, hyperbolic and
//! nebius (python-client.md §3.6, §3.8, §3.14, §3.15), through the public SDK API.
//!
//! - **Requests**: for every (provider, task) pair, routed (`hf_` token) and direct (the
//!   provider's own key), an insta snapshot of the [`RequestPreview`] with the credential
//!   redacted and asserted absent, and the reference URL and body asserted field by field. The
//!   reference bodies are written out below from python-client.md, not read from the table.
//! - **Answers**: realistic answers served on loopback (a real 1×1 PNG as base64 for images,
//!   an OpenAI embeddings list) come back as the file / the vectors the reference returns, and
//!   the request that reached the server is the previewed one, with its credential.
//! - **Together video jobs**: `queued` → `in_progress` → `completed` with the video on another
//!   host: polls go to the request's host with its credential, the download carries none;
//!   `on_status` sees every status in order; a job that never finishes ends in
//!   `Error::JobTimeout` with its id; a `failed` job is `Error::JobFailed` with the server's
//!   reason; malformed job answers are errors, not panics.
//! - **Recorded tapes**: every conformance tape of together, hyperbolic and nebius
//!   `text-to-image` is replayed on a [`ReplayServer`]: final-spec tapes must be matched by the
//!   request the SDK sends (body, headers, auth scheme) and their `test.expected` must hold;
//!   legacy tapes (an older JS client's bodies) are checked for response parsing only, and say
//!   so. One line per tape, then a count.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hf_inference::binary::BinaryInput;
use hf_inference::providers::jobs::JobStatus;
use hf_inference::types::image_to_video::ImageToVideoParametersTargetSize;
use hf_inference::{Blob, Error, InferenceClient, Provider, RequestPreview, Task};
use hf_inference_tests::expect::{Actual, Expectation};
use hf_inference_tests::replay::{HUB_HOST, RecordedRequest, ReplayServer};
use hf_inference_tests::support::{
    BodyExpect, Mode, ROUTER, Reply, Tally, Verdict, assert_job_failed, assert_job_timeout,
    check_preview, host_of, loopback_builder, provider_hosts_on, render_preview, synthetic_tape,
};
use hf_inference_tests::tapes::{Tape, tapes_dir};
use serde_json::{Value, json};

const HF_TOKEN: &str = "hf_imgProvSecret0123456789abcdef";
const PROVIDER_KEY: &str = "pk-imgProvSecret0123456789abcdef";
/// A fragment of both credentials: must never appear in a preview.
const SECRET_PART: &str = "imgProvSecret";
/// Nothing listens here: a preview that looked a model up on the Hub would fail.
const DEAD_HUB: &str = "http://127.0.0.1:9";

/// A real 1×1 RGBA PNG (valid chunks and CRCs).
const TINY_PNG_B64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
/// The start of an MP4 file (`ftyp` box).
const TINY_MP4: &[u8] = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2\x00\x00\x00\x08free";
/// An image input given by URL: passed through, never downloaded.
const IMAGE_URL: &str = "https://images.example.com/inputs/cat.png";
/// The host Together's finished videos are served from in these tests.
const VIDEO_HOST: &str = "videos.together-cdn.test";

fn tiny_png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(TINY_PNG_B64)
        .expect("valid base64")
}

fn png_data_url() -> String {
    format!("data:image/png;base64,{TINY_PNG_B64}")
}

// ---------------------------------------------------------------------------------------------
// The pairs and their reference wire formats

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pair {
    TogetherTextToImage,
    TogetherImageToImage,
    /// A FLUX.1 Kontext id: `image_url` instead of `reference_images`.
    TogetherImageToImageKontext,
    TogetherTextToVideo,
    TogetherImageToVideo,
    NscaleTextToImage,
    HyperbolicTextToImage,
    NebiusTextToImage,
    NebiusFeatureExtraction,
}

const PAIRS: [Pair; 9] = [
    Pair::TogetherTextToImage,
    Pair::TogetherImageToImage,
    Pair::TogetherImageToImageKontext,
    Pair::TogetherTextToVideo,
    Pair::TogetherImageToVideo,
    Pair::NscaleTextToImage,
    Pair::HyperbolicTextToImage,
    Pair::NebiusTextToImage,
    Pair::NebiusFeatureExtraction,
];

const PROMPT: &str = "award winning high resolution photo of a giant tortoise";
const EDIT_PROMPT: &str = "Turn the cat into a tiger";
const VIDEO_PROMPT: &str = "A red panda playing the piano in a jazz club";
const MOTION_PROMPT: &str = "The cat slowly turns its head";
const EMBED_TEXT: &str = "Today is a sunny day and I will get some ice cream.";

impl Pair {
    fn provider(self) -> Provider {
        match self {
            Pair::TogetherTextToImage
            | Pair::TogetherImageToImage
            | Pair::TogetherImageToImageKontext
            | Pair::TogetherTextToVideo
            | Pair::TogetherImageToVideo => Provider::Together,
            Pair::NscaleTextToImage => Provider::Nscale,
            Pair::HyperbolicTextToImage => Provider::Hyperbolic,
            Pair::NebiusTextToImage | Pair::NebiusFeatureExtraction => Provider::Nebius,
        }
    }

    fn task(self) -> Task {
        match self {
            Pair::TogetherTextToImage
            | Pair::NscaleTextToImage
            | Pair::HyperbolicTextToImage
            | Pair::NebiusTextToImage => Task::TextToImage,
            Pair::TogetherImageToImage | Pair::TogetherImageToImageKontext => Task::ImageToImage,
            Pair::TogetherTextToVideo => Task::TextToVideo,
            Pair::TogetherImageToVideo => Task::ImageToVideo,
            Pair::NebiusFeatureExtraction => Task::FeatureExtraction,
        }
    }

    /// The snapshot name's pair part.
    fn label(self) -> String {
        let task = match self {
            Pair::TogetherImageToImageKontext => "image-to-image-kontext".to_owned(),
            other => other.task().as_str().to_owned(),
        };
        format!("{task}__{}", self.provider())
    }

    /// (Hub model id, provider model id): pinned with `model_mapping`, distinct so the body
    /// shows which one was sent.
    fn models(self) -> (&'static str, &'static str) {
        match self {
            Pair::TogetherTextToImage => (
                "black-forest-labs/FLUX.1-schnell",
                "black-forest-labs/FLUX.1-schnell-Free",
            ),
            Pair::TogetherImageToImage => ("Qwen/Qwen-Image-Edit", "Qwen/Qwen-Image-Edit-2509"),
            Pair::TogetherImageToImageKontext => (
                "black-forest-labs/FLUX.1-Kontext-dev",
                "black-forest-labs/FLUX.1-kontext-dev",
            ),
            Pair::TogetherTextToVideo => ("Wan-AI/Wan2.2-T2V-A14B", "Wan-AI/Wan2.2-T2V-A14B-fast"),
            Pair::TogetherImageToVideo => ("Wan-AI/Wan2.2-I2V-A14B", "Wan-AI/Wan2.2-I2V-A14B-fast"),
            Pair::NscaleTextToImage => (
                "stabilityai/stable-diffusion-xl-base-1.0",
                "stabilityai/stable-diffusion-xl-base-1.0-nscale",
            ),
            Pair::HyperbolicTextToImage => {
                ("stabilityai/stable-diffusion-xl-base-1.0", "SDXL1.0-base")
            }
            Pair::NebiusTextToImage => (
                "black-forest-labs/FLUX.1-schnell",
                "black-forest-labs/flux-schnell",
            ),
            Pair::NebiusFeatureExtraction => ("BAAI/bge-multilingual-gemma2", "BAAI/bge-ml-gemma2"),
        }
    }

    /// The provider's own host (direct mode) and the route (python-client.md).
    fn host_and_route(self) -> (&'static str, &'static str) {
        match self.provider() {
            Provider::Together => match self.task() {
                Task::TextToVideo | Task::ImageToVideo => {
                    ("https://api.together.xyz", "/v2/videos")
                }
                _ => ("https://api.together.xyz", "/v1/images/generations"),
            },
            Provider::Nscale => ("https://inference.api.nscale.com", "/v1/images/generations"),
            Provider::Hyperbolic => ("https://api.hyperbolic.xyz", "/v1/images/generations"),
            Provider::Nebius => match self.task() {
                Task::FeatureExtraction => ("https://api.studio.nebius.ai", "/v1/embeddings"),
                _ => ("https://api.studio.nebius.ai", "/v1/images/generations"),
            },
            other => panic!("no route for {other}"),
        }
    }

    fn url(self, mode: Mode) -> String {
        let (host, route) = self.host_and_route();
        match mode {
            Mode::Routed => format!("{ROUTER}/{}{route}", self.provider()),
            Mode::Direct => format!("{host}{route}"),
        }
    }

    fn takes_image(self) -> bool {
        matches!(self.task(), Task::ImageToImage | Task::ImageToVideo)
    }

    /// The request this file makes for the pair.
    fn request<'c>(self, client: &'c InferenceClient, image: Option<BinaryInput>) -> Req<'c> {
        let (hub, _) = self.models();
        let image = || {
            image
                .clone()
                .unwrap_or_else(|| BinaryInput::from(tiny_png()))
        };
        match self {
            Pair::TogetherTextToImage
            | Pair::NscaleTextToImage
            | Pair::HyperbolicTextToImage
            | Pair::NebiusTextToImage => Req::TextToImage(
                client
                    .text_to_image(PROMPT)
                    .model(hub)
                    .provider(self.provider())
                    .num_inference_steps(4)
                    .guidance_scale(3.5)
                    .width(1024)
                    .height(768)
                    .seed(42),
            ),
            Pair::TogetherImageToImage | Pair::TogetherImageToImageKontext => Req::ImageToImage(
                client
                    .image_to_image(image())
                    .model(hub)
                    .provider(self.provider())
                    .prompt(EDIT_PROMPT)
                    .num_inference_steps(28)
                    .guidance_scale(2.5),
            ),
            Pair::TogetherTextToVideo => Req::TextToVideo(
                client
                    .text_to_video(VIDEO_PROMPT)
                    .model(hub)
                    .provider(self.provider())
                    .num_inference_steps(30)
                    .negative_prompt(vec!["blurry".to_owned()])
                    .seed(7)
                    // Not a typed text-to-video parameter: sent through `extra_body`, which the
                    // reference spreads into the parameters (and flattens, §3.6).
                    .extra_body(json!({"target_size": {"width": 1280, "height": 720}})),
            ),
            Pair::TogetherImageToVideo => Req::ImageToVideo(
                client
                    .image_to_video(image())
                    .model(hub)
                    .provider(self.provider())
                    .prompt(MOTION_PROMPT)
                    .num_inference_steps(25)
                    .target_size(ImageToVideoParametersTargetSize::new(720, 1280)),
            ),
            Pair::NebiusFeatureExtraction => Req::FeatureExtraction(
                client
                    .feature_extraction(EMBED_TEXT)
                    .model(hub)
                    .provider(self.provider())
                    .normalize(true)
                    .truncate(true),
            ),
        }
    }

    /// The reference body (python-client.md), `image` being the URL the image input becomes.
    fn reference_body(self, image: &str) -> Value {
        let (_, model) = self.models();
        match self {
            // §3.6: {"prompt", "response_format": "base64", …params (num_inference_steps →
            // steps), "model"}; 2.4.0 keeps guidance_scale.
            Pair::TogetherTextToImage => json!({
                "prompt": PROMPT,
                "response_format": "base64",
                "steps": 4,
                "guidance_scale": 3.5,
                "width": 1024,
                "height": 768,
                "seed": 42,
                "model": model
            }),
            // §3.6: "reference_images": [U] unless the id is FLUX.1 Kontext.
            Pair::TogetherImageToImage => json!({
                "prompt": EDIT_PROMPT,
                "reference_images": [image],
                "response_format": "base64",
                "steps": 28,
                "guidance_scale": 2.5,
                "model": model
            }),
            Pair::TogetherImageToImageKontext => json!({
                "prompt": EDIT_PROMPT,
                "image_url": image,
                "response_format": "base64",
                "steps": 28,
                "guidance_scale": 2.5,
                "model": model
            }),
            // §3.6: {"prompt", "model", …params}, steps renamed, target_size flattened.
            Pair::TogetherTextToVideo => json!({
                "prompt": VIDEO_PROMPT,
                "model": model,
                "steps": 30,
                "negative_prompt": ["blurry"],
                "seed": 7,
                "width": 1280,
                "height": 720
            }),
            // §3.6: {"model", "frame_images": [{"input_image": U, "frame": "first"}], …params}.
            Pair::TogetherImageToVideo => json!({
                "model": model,
                "frame_images": [{"input_image": image, "frame": "first"}],
                "prompt": MOTION_PROMPT,
                "steps": 25,
                "width": 1280,
                "height": 720
            }),
            // §3.8: size "WxH"; num_inference_steps (and cfg_scale) dropped; guidance kept.
            Pair::NscaleTextToImage => json!({
                "response_format": "b64_json",
                "prompt": PROMPT,
                "model": model,
                "guidance_scale": 3.5,
                "seed": 42,
                "size": "1024x768"
            }),
            // §3.14: model_name; steps and cfg_scale renames; width/height as given.
            Pair::HyperbolicTextToImage => json!({
                "prompt": PROMPT,
                "model_name": model,
                "steps": 4,
                "cfg_scale": 3.5,
                "width": 1024,
                "height": 768,
                "seed": 42
            }),
            // §3.14: no guidance_scale; response_format b64_json.
            Pair::NebiusTextToImage => json!({
                "prompt": PROMPT,
                "num_inference_steps": 4,
                "width": 1024,
                "height": 768,
                "seed": 42,
                "response_format": "b64_json",
                "model": model
            }),
            // §3.14: {"input", "model"}; every parameter ignored.
            Pair::NebiusFeatureExtraction => json!({"input": EMBED_TEXT, "model": model}),
        }
    }
}

/// The typed requests of this file.
enum Req<'c> {
    TextToImage(hf_inference::tasks::TextToImageRequest<'c>),
    ImageToImage(hf_inference::tasks::ImageToImageRequest<'c>),
    TextToVideo(hf_inference::tasks::TextToVideoRequest<'c>),
    ImageToVideo(hf_inference::tasks::ImageToVideoRequest<'c>),
    FeatureExtraction(hf_inference::tasks::FeatureExtractionRequest<'c>),
}

impl Req<'_> {
    async fn preview(&self) -> Result<RequestPreview, Error> {
        match self {
            Req::TextToImage(r) => r.preview().await,
            Req::ImageToImage(r) => r.preview().await,
            Req::TextToVideo(r) => r.preview().await,
            Req::ImageToVideo(r) => r.preview().await,
            Req::FeatureExtraction(r) => r.preview().await,
        }
    }

    fn jobs(self, interval: Duration, statuses: &Arc<Mutex<Vec<String>>>) -> Self {
        let seen = statuses.clone();
        let callback = move |s: &JobStatus| seen.lock().unwrap().push(s.status.clone());
        match self {
            Req::TextToVideo(r) => Req::TextToVideo(r.poll_interval(interval).on_status(callback)),
            Req::ImageToVideo(r) => {
                Req::ImageToVideo(r.poll_interval(interval).on_status(callback))
            }
            other => other,
        }
    }

    /// Sends a call whose answer is a file.
    async fn send_file(self) -> Result<Blob, Error> {
        match self {
            Req::TextToImage(r) => r.send().await,
            Req::ImageToImage(r) => r.send().await,
            Req::TextToVideo(r) => r.send().await,
            Req::ImageToVideo(r) => r.send().await,
            Req::FeatureExtraction(_) => panic!("feature extraction answers vectors"),
        }
    }
}

/// The credential of `mode`.
fn token(mode: Mode) -> &'static str {
    mode.pick(HF_TOKEN, PROVIDER_KEY)
}

// ---------------------------------------------------------------------------------------------
// Clients and renderings

fn pinned(
    mut builder: hf_inference::InferenceClientBuilder,
) -> hf_inference::InferenceClientBuilder {
    for pair in PAIRS {
        let (hub, provider_id) = pair.models();
        builder = builder.model_mapping(hub, pair.provider(), provider_id);
    }
    builder
}

/// A client with the real router and provider hosts (for previews), no reachable Hub, every
/// model of this file pinned.
fn preview_client(mode: Mode) -> InferenceClient {
    pinned(
        InferenceClient::builder()
            .token(token(mode))
            .hub_url(DEAD_HUB),
    )
    .build()
    .expect("client")
}

/// A client with the router and every host of `provider` on the replay server.
fn wire_client(
    mode: Mode,
    server: &ReplayServer,
    provider: Provider,
    timeout: Option<Duration>,
) -> InferenceClient {
    // Bounded even when the test does not care: a job that never ends fails instead of hanging.
    let builder = pinned(loopback_builder(token(mode), server))
        .timeout(timeout.unwrap_or(Duration::from_secs(10)));
    provider_hosts_on(builder, provider, server)
        .build()
        .expect("client")
}

fn check_common(preview: &RequestPreview, what: &str) {
    let rendered = render_preview(preview);
    check_preview(
        preview,
        &[SECRET_PART],
        Some(&rendered),
        "application/json",
        what,
    );
}

/// The image input of a mode, and the URL the reference puts in the body for it: bytes become
/// a `data:` URL of their (sniffed) type; an http(s) URL passes through untouched.
fn image_for(mode: Mode) -> (BinaryInput, String) {
    match mode {
        Mode::Routed => (BinaryInput::from(tiny_png()), png_data_url()),
        Mode::Direct => (BinaryInput::from(IMAGE_URL), IMAGE_URL.to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// Requests

#[tokio::test]
async fn requests_of_every_pair_and_mode_follow_the_reference() {
    let mut snapshots = 0;
    for pair in PAIRS {
        for mode in [Mode::Routed, Mode::Direct] {
            let what = format!("{} {}", pair.label(), mode.name());
            let client = preview_client(mode);
            let (image, image_url) = image_for(mode);
            let preview = pair
                .request(&client, pair.takes_image().then_some(image))
                .preview()
                .await
                .unwrap_or_else(|e| panic!("{what}: preview failed: {e}"));
            check_common(&preview, &what);
            assert_eq!(preview.url, pair.url(mode), "{what}: URL");
            let body = preview.body_json().expect("a JSON body");
            assert_eq!(body, pair.reference_body(&image_url), "{what}: body");
            insta::assert_snapshot!(
                format!("{}__{}", pair.label(), mode.name()),
                render_preview(&preview)
            );
            snapshots += 1;
        }
    }
    assert_eq!(snapshots, PAIRS.len() * 2);
}

#[tokio::test]
async fn extra_body_fields_travel_as_parameters() {
    let client = preview_client(Mode::Direct);
    let (hub, _) = Pair::NebiusTextToImage.models();
    // nebius keeps a caller's `url` format (§3.14) and drops guidance_scale wherever it comes
    // from; a `null` is filtered out like the reference's `filter_none`.
    let preview = client
        .text_to_image(PROMPT)
        .model(hub)
        .provider(Provider::Nebius)
        .extra_body(json!({"response_format": "url", "guidance_scale": 2.0, "style": null}))
        .preview()
        .await
        .unwrap();
    let body = preview.body_json().unwrap();
    assert_eq!(body["response_format"], "url");
    assert!(body.get("guidance_scale").is_none(), "{body}");
    assert!(body.get("style").is_none(), "{body}");

    // Together renames a `num_inference_steps` given through extra_body too.
    let (hub, _) = Pair::TogetherTextToImage.models();
    let preview = client
        .text_to_image(PROMPT)
        .model(hub)
        .provider(Provider::Together)
        .extra_body(json!({"num_inference_steps": 8, "n": 1}))
        .preview()
        .await
        .unwrap();
    let body = preview.body_json().unwrap();
    assert_eq!(body["steps"], 8, "{body}");
    assert_eq!(body["n"], 1, "{body}");
    assert!(body.get("num_inference_steps").is_none(), "{body}");
}

#[tokio::test]
async fn bad_inputs_are_errors_not_panics() {
    let client = preview_client(Mode::Direct);
    let (hub, _) = Pair::TogetherTextToVideo.models();
    let err = client
        .text_to_video(VIDEO_PROMPT)
        .model(hub)
        .provider(Provider::Together)
        .extra_body(json!({"target_size": "1280x720"}))
        .preview()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "target_size"),
        "{err:?}"
    );

    let (hub, _) = Pair::TogetherImageToImage.models();
    let err = client
        .image_to_image("data:image/png;base64")
        .model(hub)
        .provider(Provider::Together)
        .preview()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Answers on loopback

/// A synthesized tape: `request` matched as recorded (the JSON `body` when given; no body for a
/// GET, any body for a POST without one), answered with `status` and a JSON body or bytes.
fn synthetic(step: u32, method: &str, url: &str, body: Option<Value>, answer: Answer) -> Tape {
    let expect = match body {
        Some(body) => BodyExpect::Json(body),
        // A GET has no body; a POST whose body another test checks is not matched on it.
        None if method == "GET" => BodyExpect::Empty,
        None => BodyExpect::Any,
    };
    let reply = match answer.body {
        Body::Json(value) => Reply::Json(value),
        Body::Bytes(bytes, content_type) => Reply::Bytes(content_type, bytes),
    };
    let name = format!("synthetic-{step}-{method}-{url}");
    synthetic_tape(&name, step, method, url, expect, answer.status, reply)
}

struct Answer {
    status: u16,
    body: Body,
}

enum Body {
    Json(Value),
    Bytes(&'static [u8], &'static str),
}

fn ok(value: Value) -> Answer {
    Answer {
        status: 200,
        body: Body::Json(value),
    }
}

/// The realistic answer of an image pair, carrying [`TINY_PNG_B64`].
fn image_answer(pair: Pair) -> Value {
    let (_, model) = pair.models();
    match pair.provider() {
        Provider::Hyperbolic => json!({
            "images": [{"index": 0, "image": TINY_PNG_B64, "random_seed": 42}],
            "inference_time": 1.27
        }),
        Provider::Nscale | Provider::Nebius => json!({
            "created": 1_745_000_000,
            "data": [{"b64_json": TINY_PNG_B64, "revised_prompt": null}],
            "id": "img-1f0c", "model": model
        }),
        _ => json!({
            "id": "9a1b2c3d4e5f-CDG",
            "model": model,
            "object": "list",
            "data": [{"timings": {"inference": 812}, "index": 0, "b64_json": TINY_PNG_B64}]
        }),
    }
}

/// The inference requests (not Hub lookups) a server received.
fn inference_requests(server: &ReplayServer) -> Vec<RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.host != HUB_HOST)
        .collect()
}

#[tokio::test]
async fn image_answers_come_back_as_the_decoded_file() {
    for pair in PAIRS
        .into_iter()
        .filter(|p| matches!(p.task(), Task::TextToImage | Task::ImageToImage))
    {
        for mode in [Mode::Routed, Mode::Direct] {
            let what = format!("{} {}", pair.label(), mode.name());
            let client = preview_client(mode);
            let image = pair.takes_image().then(|| BinaryInput::from(tiny_png()));
            let preview = pair
                .request(&client, image.clone())
                .preview()
                .await
                .unwrap();
            let expected_body = pair.reference_body(&png_data_url());
            let tape = synthetic(
                1,
                "POST",
                &preview.url,
                Some(expected_body),
                ok(image_answer(pair)),
            );
            let server = ReplayServer::start([&tape]).expect("replay server");
            let client = wire_client(mode, &server, pair.provider(), None);
            let blob = pair
                .request(&client, image)
                .send_file()
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(blob.bytes().as_ref(), tiny_png().as_slice(), "{what}");
            assert_eq!(blob.content_type(), Some("image/png"), "{what}");

            let sent = inference_requests(&server);
            assert_eq!(sent.len(), 1, "{what}: one request: {sent:?}");
            assert!(
                sent[0].is_matched(),
                "{what}: the reference body: {:?}",
                sent[0].diagnostic
            );
            assert_eq!(
                sent[0].header("authorization"),
                Some(format!("Bearer {}", token(mode)).as_str()),
                "{what}"
            );
            assert_eq!(
                sent[0].json(),
                preview.body_json(),
                "{what}: the request sent is the previewed one"
            );
        }
    }
}

#[tokio::test]
async fn an_image_answer_without_the_image_is_a_decode_error() {
    let pair = Pair::HyperbolicTextToImage;
    let url = pair.url(Mode::Direct);
    let tape = synthetic(1, "POST", &url, None, ok(json!({"images": []})));
    let server = ReplayServer::start([&tape]).unwrap();
    let client = wire_client(Mode::Direct, &server, pair.provider(), None);
    let err = pair.request(&client, None).send_file().await.unwrap_err();
    assert!(
        matches!(&err, Error::Decode { message, .. } if message.contains("/images/0/image")),
        "{err:?}"
    );
}

#[tokio::test]
async fn nebius_embeddings_answer_becomes_vectors() {
    let pair = Pair::NebiusFeatureExtraction;
    let (_, model) = pair.models();
    for mode in [Mode::Routed, Mode::Direct] {
        let answer = json!({
            "id": "embd-5e1c",
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.0123, -0.0456, 0.0789, 0.1011]}],
            "model": model,
            "usage": {"prompt_tokens": 14, "total_tokens": 14}
        });
        let tape = synthetic(
            1,
            "POST",
            &pair.url(mode),
            Some(pair.reference_body("")),
            ok(answer),
        );
        let server = ReplayServer::start([&tape]).unwrap();
        let client = wire_client(mode, &server, pair.provider(), None);
        let Req::FeatureExtraction(request) = pair.request(&client, None) else {
            unreachable!("feature extraction")
        };
        let vectors = request.send().await.unwrap();
        let vectors = serde_json::to_value(&vectors).unwrap();
        let expected = [0.0123, -0.0456, 0.0789, 0.1011];
        let got: Vec<f64> = vectors
            .pointer("/0")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("{mode:?}: one vector: {vectors}"))
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(vectors.as_array().map(Vec::len), Some(1), "{vectors}");
        for (e, g) in expected.iter().zip(&got) {
            assert!((e - g).abs() < 1e-6, "{mode:?}: {expected:?} vs {got:?}");
        }
        assert_eq!(got.len(), expected.len());
        assert!(
            inference_requests(&server)[0].is_matched(),
            "{mode:?}: reference body"
        );

        // An answer without `data[*].embedding` is a decode error, not a panic.
        let tape = synthetic(1, "POST", &pair.url(mode), None, ok(json!({"data": [{}]})));
        let server = ReplayServer::start([&tape]).unwrap();
        let client = wire_client(mode, &server, pair.provider(), None);
        let Req::FeatureExtraction(request) = pair.request(&client, None) else {
            unreachable!("feature extraction")
        };
        let err = request.send().await.unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Together video jobs

const FAST_POLL: Duration = Duration::from_millis(20);

/// A video job on the replay server: the POST (its body checked against the reference)
/// answers `first`; each poll of `{request url}/{id}` answers the next of `polls` (the last
/// repeated); the finished video is served on [`VIDEO_HOST`].
fn video_job(pair: Pair, mode: Mode, id: &str, first: Value, polls: Vec<Value>) -> ReplayServer {
    let url = pair.url(mode);
    let image_url = png_data_url();
    let mut tapes = vec![synthetic(
        1,
        "POST",
        &url,
        Some(pair.reference_body(&image_url)),
        ok(first),
    )];
    for (i, answer) in polls.into_iter().enumerate() {
        let step = u32::try_from(i).unwrap() + 2;
        tapes.push(synthetic(
            step,
            "GET",
            &format!("{url}/{id}"),
            None,
            ok(answer),
        ));
    }
    tapes.push(synthetic(
        99,
        "GET",
        &format!("https://{VIDEO_HOST}/outputs/{id}.mp4"),
        None,
        Answer {
            status: 200,
            body: Body::Bytes(TINY_MP4, "video/mp4"),
        },
    ));
    ReplayServer::start(&tapes).expect("replay server")
}

fn job_answer(id: &str, status: &str) -> Value {
    json!({
        "id": id,
        "model": "Wan-AI/Wan2.2-T2V-A14B-fast",
        "object": "video",
        "status": status,
        "created_at": 1_757_000_000,
        "seconds": "5",
        "size": "1280x720"
    })
}

fn completed(id: &str) -> Value {
    let mut answer = job_answer(id, "completed");
    answer["completed_at"] = json!(1_757_000_042);
    answer["outputs"] = json!({
        "cost": 0.5,
        "video_url": format!("https://{VIDEO_HOST}/outputs/{id}.mp4")
    });
    answer
}

#[tokio::test]
async fn a_video_job_is_polled_to_completion_and_its_file_downloaded_without_credentials() {
    for (pair, mode) in [
        (Pair::TogetherTextToVideo, Mode::Direct),
        (Pair::TogetherImageToVideo, Mode::Routed),
    ] {
        let what = format!("{} {}", pair.label(), mode.name());
        let id = format!("job-{}-{}", pair.task(), mode.name());
        let server = video_job(
            pair,
            mode,
            &id,
            job_answer(&id, "queued"),
            vec![job_answer(&id, "in_progress"), completed(&id)],
        );
        let client = wire_client(mode, &server, pair.provider(), None);
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let blob = pair
            .request(&client, None)
            .jobs(FAST_POLL, &statuses)
            .send_file()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(blob.bytes().as_ref(), TINY_MP4, "{what}");
        assert_eq!(blob.content_type(), Some("video/mp4"), "{what}");
        assert_eq!(
            *statuses.lock().unwrap(),
            ["queued", "in_progress", "completed"],
            "{what}: on_status"
        );

        let requests = server.requests();
        assert!(
            requests.iter().all(RecordedRequest::is_matched),
            "{what}: every request matched: {requests:?}"
        );
        let bearer = format!("Bearer {}", token(mode));
        let request_host = host_of(&pair.url(mode));
        let (_, route) = pair.host_and_route();
        let prefix = match mode {
            Mode::Routed => "/together",
            Mode::Direct => "",
        };
        let polls: Vec<&RecordedRequest> = requests.iter().filter(|r| r.method == "GET").collect();
        assert_eq!(
            polls.len(),
            3,
            "{what}: two polls and a download: {polls:?}"
        );
        for poll in &polls[..2] {
            assert_eq!(
                poll.host, request_host,
                "{what}: polls go to the request's host"
            );
            assert_eq!(poll.path, format!("{prefix}{route}/{id}"), "{what}");
            assert_eq!(
                poll.header("authorization"),
                Some(bearer.as_str()),
                "{what}: polls carry the request's credential"
            );
        }
        let download = polls[2];
        assert_eq!(download.host, VIDEO_HOST, "{what}");
        assert_eq!(download.path, format!("/outputs/{id}.mp4"), "{what}");
        assert!(
            !download.has_header("authorization"),
            "{what}: the download carries no credential"
        );
        assert!(
            download
                .headers
                .iter()
                .all(|(_, v)| !v.contains(SECRET_PART)),
            "{what}: no credential in any header of the download"
        );
        assert_eq!(requests[0].method, "POST");
        assert_eq!(requests[0].header("authorization"), Some(bearer.as_str()));
    }
}

#[tokio::test]
async fn a_job_answer_without_status_is_pending() {
    let (pair, mode) = (Pair::TogetherTextToVideo, Mode::Direct);
    let id = "job-no-status";
    let server = video_job(
        pair,
        mode,
        id,
        json!({"id": id}),
        vec![json!({"id": id}), completed(id)],
    );
    let client = wire_client(mode, &server, pair.provider(), None);
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let blob = pair
        .request(&client, None)
        .jobs(FAST_POLL, &statuses)
        .send_file()
        .await
        .unwrap();
    assert_eq!(blob.bytes().as_ref(), TINY_MP4);
    assert_eq!(
        *statuses.lock().unwrap(),
        ["pending", "pending", "completed"]
    );
}

#[tokio::test]
async fn a_video_job_that_never_completes_times_out_with_its_id() {
    let (pair, mode) = (Pair::TogetherTextToVideo, Mode::Direct);
    let id = "job-forever";
    let server = video_job(
        pair,
        mode,
        id,
        job_answer(id, "queued"),
        vec![job_answer(id, "in_progress")],
    );
    let timeout = Duration::from_millis(300);
    let client = wire_client(mode, &server, pair.provider(), Some(timeout));
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    // An unbounded poll would hang here: the outer bound turns that into a failure.
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        pair.request(&client, None)
            .jobs(FAST_POLL, &statuses)
            .send_file(),
    )
    .await
    .expect("the job must end by itself, bounded by the client timeout")
    .unwrap_err();
    let elapsed = started.elapsed();
    assert_job_timeout(&err, "together", id, timeout, "a job that never ends");
    assert!(elapsed < Duration::from_secs(5), "bounded: {elapsed:?}");
    let polls = server
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert!(polls >= 3, "it polled while it could: {polls}");
    let seen = statuses.lock().unwrap().clone();
    assert_eq!(seen.first().map(String::as_str), Some("queued"));
    assert!(seen[1..].iter().all(|s| s == "in_progress"), "{seen:?}");
}

#[tokio::test]
async fn a_failed_video_job_is_job_failed_with_the_reason() {
    let (pair, mode) = (Pair::TogetherImageToVideo, Mode::Direct);
    let id = "job-failed";
    let mut failed = job_answer(id, "failed");
    failed["error"] = json!({"code": "content_policy", "message": "The input image was flagged"});
    let server = video_job(pair, mode, id, job_answer(id, "queued"), vec![failed]);
    let client = wire_client(mode, &server, pair.provider(), None);
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let err = pair
        .request(&client, None)
        .jobs(FAST_POLL, &statuses)
        .send_file()
        .await
        .unwrap_err();
    assert_job_failed(
        &err,
        "together",
        id,
        "The input image was flagged",
        "a failed job",
    );
    assert_eq!(*statuses.lock().unwrap(), ["queued", "failed"]);
    assert!(
        !server.requests().iter().any(|r| r.host == VIDEO_HOST),
        "nothing downloaded"
    );
}

#[tokio::test]
async fn malformed_video_job_answers_are_errors() {
    let (pair, mode) = (Pair::TogetherTextToVideo, Mode::Direct);
    /// (what, the POST's answer, the polls' answers, the error expected).
    type Case = (&'static str, Value, Vec<Value>, fn(&Error) -> bool);
    let cases: Vec<Case> = vec![
        // No job id: nothing to poll.
        (
            "no id",
            json!({"status": "queued"}),
            vec![],
            |e| matches!(e, Error::Decode { message, .. } if message.contains("`id`")),
        ),
        // Completed without the video URL: a decode error naming the job.
        (
            "no url",
            job_answer("job-no-url", "queued"),
            vec![job_answer("job-no-url", "completed")],
            |e| matches!(e, Error::Decode { message, .. } if message.contains("job-no-url")),
        ),
        // A status the protocol does not know.
        (
            "unknown status",
            job_answer("job-odd", "queued"),
            vec![job_answer("job-odd", "cancelled")],
            |e| {
                matches!(e, Error::JobFailed { message, job_id: Some(id), .. }
                    if message.contains("cancelled") && id == "job-odd")
            },
        ),
    ];
    for (what, first, polls, expected) in cases {
        let id = first["id"].as_str().unwrap_or("none").to_owned();
        let server = video_job(pair, mode, &id, first, polls);
        let client = wire_client(mode, &server, pair.provider(), Some(Duration::from_secs(5)));
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let err = pair
            .request(&client, None)
            .jobs(FAST_POLL, &statuses)
            .send_file()
            .await
            .unwrap_err();
        assert!(expected(&err), "{what}: {err:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Recorded tapes

/// The providers and task whose tapes this file replays.
const TAPE_PROVIDERS: [&str; 3] = ["together", "hyperbolic", "nebius"];

fn provider_of(name: &str) -> Provider {
    match name {
        "together" => Provider::Together,
        "hyperbolic" => Provider::Hyperbolic,
        "nebius" => Provider::Nebius,
        other => panic!("no provider {other}"),
    }
}

/// The model of a tape: its `test.provider_mapping`; for a legacy tape, the model of its
/// body, else the mapping of the final-spec tape of the same test.
fn tape_model(tape: &Tape, tapes: &[Tape]) -> Option<(String, String, bool, &'static str)> {
    if let Some(mapping) = &tape.test.provider_mapping {
        let via_hub = mapping
            .source
            .as_deref()
            .is_some_and(|s| s.contains("Hub lookup"));
        return Some((
            mapping.hf_model_id.clone(),
            mapping.provider_model_id.clone(),
            via_hub,
            "",
        ));
    }
    if let Some(model) = tape
        .request
        .body_json
        .as_ref()
        .and_then(|b| b.get("model"))
        .and_then(Value::as_str)
    {
        return Some((model.to_owned(), model.to_owned(), false, ""));
    }
    tapes
        .iter()
        .filter(|t| t.in_final_spec && t.test.name == tape.test.name)
        .find_map(|t| t.test.provider_mapping.as_ref())
        .map(|m| {
            (
                m.hf_model_id.clone(),
                m.provider_model_id.clone(),
                false,
                " (no model in the recorded body: the model of the test's final-spec tape)",
            )
        })
}

async fn replay_tape(tape: &Tape, tapes: &[Tape]) -> Verdict {
    let provider = provider_of(&tape.provider);
    let Some(body) = tape.request.body_json.as_ref() else {
        return Verdict::Fail("no recorded JSON body".into());
    };
    let Some(prompt) = body.get("prompt").and_then(Value::as_str) else {
        return Verdict::Fail("no prompt in the recorded body".into());
    };
    let Some((hub_model, provider_model, via_hub, model_note)) = tape_model(tape, tapes) else {
        return Verdict::Fail("no model".into());
    };
    let server = match ReplayServer::start([tape]) {
        Ok(server) => server,
        Err(e) => return Verdict::Fail(format!("replay server: {e}")),
    };
    if via_hub {
        server.add_provider_mappings([tape]);
    }
    let token = if tape.is_routed() {
        HF_TOKEN
    } else {
        PROVIDER_KEY
    };
    let client = |server: &ReplayServer| {
        let builder = loopback_builder(token, server).timeout(Duration::from_secs(30));
        let mut builder = provider_hosts_on(builder, provider, server);
        if !via_hub {
            builder = builder.model_mapping(hub_model.clone(), provider, provider_model.clone());
        }
        builder.build().unwrap()
    };
    let call = |client: InferenceClient| {
        let hub_model = hub_model.clone();
        async move {
            client
                .text_to_image(prompt)
                .model(hub_model)
                .provider(provider)
                .send()
                .await
        }
    };

    let mut outcome = call(client(&server)).await;
    let sent = inference_requests(&server);
    let Some(first) = sent.first().cloned() else {
        return Verdict::Fail(format!("no request sent; the SDK returned {outcome:?}"));
    };
    let mut checked = Vec::new();
    if tape.in_final_spec {
        let mut problems = Vec::new();
        if first.matched.as_deref() != Some(tape.file_name.as_str()) {
            problems.push(format!(
                "the request does not match the recording: {}",
                first
                    .diagnostic
                    .as_ref()
                    .map(Value::to_string)
                    .unwrap_or_default()
            ));
        }
        if sent.len() != 1 {
            problems.push(format!("{} inference requests, 1 recorded", sent.len()));
        }
        for (name, value) in &tape.request.headers {
            if first.header(name) != Some(value.as_str()) {
                problems.push(format!(
                    "header {name}: recorded {value:?}, sent {:?}",
                    first.header(name)
                ));
            }
        }
        if let Some(Some(scheme)) = &tape.provenance.auth_scheme {
            let want = format!("{scheme} {token}");
            if first.header("authorization") != Some(want.as_str()) {
                problems.push(format!("auth: expected `Authorization: {scheme} <token>`"));
            }
        }
        let lookups = server
            .requests()
            .into_iter()
            .filter(|r| r.host == HUB_HOST)
            .count();
        if via_hub && lookups != 1 {
            problems.push(format!(
                "the mapping came from one Hub lookup, the SDK made {lookups}"
            ));
        }
        if !problems.is_empty() {
            return Verdict::Fail(problems.join("; "));
        }
        checked.push("request matches the recording (body, headers, auth)".to_owned());
    } else if first.matched.as_deref() != Some(tape.file_name.as_str()) {
        // Legacy: answer the SDK's request with the recorded response, whatever its body.
        let response = &tape.response;
        server.add_raw_route(
            &first.host,
            &first.method,
            &first.path_and_query(),
            response.status,
            response.content_type().unwrap_or("application/json"),
            response.body_bytes().unwrap_or_default(),
        );
        server.clear_requests();
        outcome = call(client(&server)).await;
    }

    // The response.
    let response = &tape.response;
    if response.status == 200 {
        let Some(recorded) = response
            .body_json
            .as_ref()
            .and_then(|b| {
                b.pointer(
                    provider
                        .spec()
                        .task(Task::TextToImage)
                        .and_then(|s| s.result_pointer)
                        .unwrap_or(""),
                )
            })
            .and_then(Value::as_str)
        else {
            return Verdict::Fail("no base64 image in the recorded answer".into());
        };
        let blob = match outcome {
            Ok(blob) => blob,
            Err(e) => return Verdict::Fail(format!("the SDK failed on the recorded answer: {e}")),
        };
        let expected = match base64::engine::general_purpose::STANDARD.decode(recorded) {
            Ok(bytes) => bytes,
            Err(e) => return Verdict::Fail(format!("recorded base64: {e}")),
        };
        if blob.bytes().as_ref() != expected.as_slice() {
            return Verdict::Fail("the file is not the recorded base64, decoded".into());
        }
        checked.push(format!(
            "the file is the recorded base64 decoded ({} bytes{}, {})",
            expected.len(),
            if response.truncated_base64_pointers.is_some() {
                ", truncated by the recorder"
            } else {
                ""
            },
            blob.content_type().unwrap_or("no type")
        ));
        if let Some(expected) = &tape.test.expected {
            let expectation = match Expectation::parse(expected) {
                Ok(e) => e,
                Err(e) => return Verdict::Fail(format!("test.expected: {e}")),
            };
            if let Err(e) = expectation.check(Actual::Bytes(blob.bytes())) {
                return Verdict::Fail(format!("test.expected: {e}"));
            }
            checked.push(format!("test.expected `{}` holds", expectation.kind()));
        }
    } else {
        let message = response
            .body_json
            .as_ref()
            .and_then(|b| b.pointer("/error/message"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        match outcome {
            Err(Error::Http(context))
                if context.status == response.status
                    && context
                        .server_message
                        .as_deref()
                        .is_some_and(|m| !message.is_empty() && m.starts_with(message)) =>
            {
                checked.push(format!(
                    "Error::Http {} with the server's message {message:?}",
                    context.status
                ));
            }
            other => {
                return Verdict::Fail(format!(
                    "expected Error::Http {} {message:?}, got {other:?}",
                    response.status
                ));
            }
        }
    }
    if tape.in_final_spec {
        Verdict::Pass(checked.join("; "))
    } else {
        Verdict::NotApplicable(format!(
            "not applicable (request): legacy tape (in_final_spec: false), body {} of an older \
             JS client{model_note}; response parsing only: {}",
            body,
            checked.join("; ")
        ))
    }
}

#[tokio::test]
async fn recorded_image_tapes_replay() {
    let dir = tapes_dir();
    let tapes = Tape::load_dir(&dir)
        .unwrap_or_else(|e| panic!("load the tapes from {}: {e}", dir.display()));
    let mut tally = Tally::default();
    for provider in TAPE_PROVIDERS {
        let ours: Vec<&Tape> = tapes
            .iter()
            .filter(|t| t.provider == provider && t.task == "text-to-image" && !t.is_inline())
            .collect();
        if ours.is_empty() {
            println!("-- {provider} text-to-image: no tape recorded");
        }
        for tape in ours {
            let verdict = replay_tape(tape, &tapes).await;
            tally.record(&tape.file_name, &verdict);
        }
    }
    println!("replay: {tally}");
    tally.assert_no_failures();
    let finals = tapes
        .iter()
        .filter(|t| {
            TAPE_PROVIDERS.contains(&t.provider.as_str())
                && t.task == "text-to-image"
                && t.in_final_spec
        })
        .count();
    assert!(
        finals > 0,
        "no final-spec text-to-image tape in {}",
        dir.display()
    );
    assert_eq!(tally.passed, finals, "every final-spec tape passes");
}
