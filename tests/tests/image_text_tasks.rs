//! `image-text-to-image` and `image-text-to-video` (an optional image and an optional prompt, at
//! least one of them) through the public API, on loopback only. huggingface_hub 2.4.0 has no
//! client support for these tasks (its wheel has only the generated types), so the reference is
//! the JS client, @huggingface/inference 4.13.30: `lib/getProviderHelper.ts:79-80, 178-179` and
//! `providers/fal-ai.ts`, `providers/wavespeed.ts` (line numbers below are of that release).
//!
//! - **Table**: the pairs of these tasks in the provider table are fal-ai and wavespeed, both
//!   tasks each, here; and novita `image-text-to-video` (MiniMax H3, its own job protocol),
//!   in tests/tests/provider_novita.rs. The table test below fails when a pair is added
//!   without being covered by one of the two files.
//! - **Requests**: every pair, with an image and prompt-only, routed (`hf_` token) and direct
//!   (provider key): an insta snapshot of the preview (token redacted and asserted absent from
//!   every rendering), the URL, the auth header and the body written out here from the JS source
//!   (not read from the table). The image goes to the generated `.inputs(…)` setter as any
//!   `BinaryInput`: bytes, a file path or a reader (sent as fal's `data:` URL or WaveSpeed's
//!   base64), an http(s) URL (passed through, never fetched) or a `data:` URL. Other variants:
//!   wavespeed's own `images`, `extra_body` merged last, LoRA adapters from the Hub mapping,
//!   fal's prompt-only direct URL (the endpoint segment dropped), and inputs refused before any
//!   connection.
//! - **Jobs**: for every pair and mode, the fal queue (submit → `IN_QUEUE` → `IN_PROGRESS` →
//!   `COMPLETED` → result → file) and the WaveSpeed job (submit → `processing` → `completed` →
//!   file), against scripted answers: the exact request sequence, the credentials on the polls,
//!   none on the file download (another host), the `on_status` sequence, the output bytes and
//!   type. Then failures: a failed WaveSpeed job, a fal result without the file URL.
//!
//! Run with `cargo test -p hf-inference-tests --test image_text_tasks -- --nocapture`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use hf_inference::binary::Blob;
use hf_inference::providers::jobs::JobStatus;
use hf_inference::tasks::generic::TaskRequest;
use hf_inference::types::image_text_to_image::ImageTextToImageParametersTargetSize;
use hf_inference::{Error, InferenceClient, Provider, RequestPreview, Task};
use hf_inference_tests::replay::{HUB_HOST, RecordedRequest, ReplayServer, json_diff};
use hf_inference_tests::support::{
    ConnectionCounter, Mode, ROUTER, ROUTER_HOST, assert_job_failed, assert_no_credentials,
    assert_sent_to, check_preview, loopback_builder, provider_hosts_on, render_preview,
};
use hf_inference_tests::tapes::Tape;
use serde::Serialize;
use serde_json::{Value, json};

const HF_TOKEN: &str = "hf_imgTextSecret0123456789abcdefghij";
/// fal keys read `<uuid>:<secret>`.
const FAL_KEY: &str = "5f0c7e1a-imgTextSecret-4d2b:0123456789abcdef";
const WAVESPEED_KEY: &str = "ws-imgTextSecret0123456789abcdefghij";
/// A fragment of every credential: must never appear in a preview or where credentials must not
/// go.
const SECRET_PART: &str = "imgTextSecret";

/// A PNG (its signature and header chunk): typed `image/png` from its bytes.
const IMAGE_PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02";
/// The JS client's stand-in image on WaveSpeed when none is given (wavespeed.ts:281-282).
const TRANSPARENT_PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

const EDIT_PROMPT: &str = "Turn the raccoon into a snow leopard";
const ANIMATE_PROMPT: &str = "The raccoon waves at the camera";
const NEGATIVE: &str = "blurry, low quality";

const PNG_OUT: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR image-text-to-image output";
const MP4_OUT: &[u8] = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom image-text-to-video";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn png_data_url() -> String {
    format!("data:image/png;base64,{}", b64(IMAGE_PNG))
}

// ---------------------------------------------------------------------------------------------
// The pairs and their reference wire format

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Pair {
    FalImage,
    FalVideo,
    WavespeedImage,
    WavespeedVideo,
}

impl Pair {
    const ALL: [Pair; 4] = [
        Pair::FalImage,
        Pair::FalVideo,
        Pair::WavespeedImage,
        Pair::WavespeedVideo,
    ];

    fn provider(self) -> Provider {
        match self {
            Pair::FalImage | Pair::FalVideo => Provider::FalAi,
            Pair::WavespeedImage | Pair::WavespeedVideo => Provider::Wavespeed,
        }
    }

    fn task(self) -> Task {
        match self {
            Pair::FalImage | Pair::WavespeedImage => Task::ImageTextToImage,
            Pair::FalVideo | Pair::WavespeedVideo => Task::ImageTextToVideo,
        }
    }

    fn video(self) -> bool {
        self.task() == Task::ImageTextToVideo
    }

    fn hub_model(self) -> &'static str {
        match self {
            Pair::FalImage => "black-forest-labs/FLUX.2-dev",
            Pair::FalVideo => "Lightricks/LTX-Video",
            Pair::WavespeedImage => "Qwen/Qwen-Image-Edit",
            Pair::WavespeedVideo => "Wan-AI/Wan2.2-I2V-A14B",
        }
    }

    /// The provider's model id (pinned with `model_mapping`). fal's image one is the deeper
    /// image+text endpoint of an app (fal-ai.ts:224-232).
    fn provider_id(self) -> &'static str {
        match self {
            Pair::FalImage => "fal-ai/flux-2/edit",
            Pair::FalVideo => "fal-ai/ltx-video-13b-dev/image-to-video",
            Pair::WavespeedImage => "wavespeed-ai/qwen-image/edit",
            Pair::WavespeedVideo => "wavespeed-ai/wan-2.2/i2v-480p",
        }
    }

    /// The path fal puts in `response_url`: the app (`owner/app`), not the model id
    /// (fal-ai.ts:175-181 rebuilds the queue URLs from it).
    fn queue_app(self) -> &'static str {
        let id = self.provider_id();
        let mut parts = id.splitn(3, '/');
        let (owner, app) = (parts.next().unwrap(), parts.next().unwrap());
        &id[..owner.len() + 1 + app.len()]
    }

    fn name(self) -> String {
        format!("{}__{}", self.task(), self.provider())
    }

    /// The credential of `mode`: the Hugging Face token, or the provider's key.
    fn token(self, mode: Mode) -> &'static str {
        match (mode, self.provider()) {
            (Mode::Routed, _) => HF_TOKEN,
            (Mode::Direct, Provider::FalAi) => FAL_KEY,
            (Mode::Direct, _) => WAVESPEED_KEY,
        }
    }

    /// The credential as sent: the router takes `Bearer <hf token>`; fal `Key <key>`
    /// (fal-ai.ts:132-141), WaveSpeed `Bearer <key>`.
    fn authorization(self, mode: Mode) -> String {
        match (mode, self.provider()) {
            (Mode::Direct, Provider::FalAi) => format!("Key {FAL_KEY}"),
            _ => format!("Bearer {}", self.token(mode)),
        }
    }
}

/// The two forms of a call: an image and a prompt, or a prompt alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    WithImage,
    PromptOnly,
}

impl Variant {
    const BOTH: [Variant; 2] = [Variant::WithImage, Variant::PromptOnly];

    fn name(self) -> &'static str {
        match self {
            Variant::WithImage => "image",
            Variant::PromptOnly => "prompt",
        }
    }
}

/// The first request's URL. fal: the queue (`queue.fal.run`, routed with `?_subdomain=queue`,
/// fal-ai.ts:147-152, 311); a prompt-only direct call drops the last segment of the mapped id
/// (`dropEndpointSegmentOnDirectCalls`, fal-ai.ts); WaveSpeed: `/api/v3/{model}`
/// (wavespeed.ts:96-98).
fn expected_url(pair: Pair, mode: Mode, variant: Variant) -> String {
    let id = match (pair.provider(), mode, variant) {
        (Provider::FalAi, Mode::Direct, Variant::PromptOnly) => {
            pair.provider_id().rsplit_once('/').unwrap().0
        }
        _ => pair.provider_id(),
    };
    match (pair.provider(), mode) {
        (Provider::FalAi, Mode::Routed) => format!("{ROUTER}/fal-ai/{id}?_subdomain=queue"),
        (Provider::FalAi, Mode::Direct) => format!("https://queue.fal.run/{id}"),
        (_, Mode::Routed) => format!("{ROUTER}/wavespeed/api/v3/{id}"),
        (_, Mode::Direct) => format!("https://api.wavespeed.ai/api/v3/{id}"),
    }
}

/// The parameters of this file's standard calls, as the body carries them.
fn parameters(pair: Pair) -> Value {
    if pair.video() {
        json!({
            "prompt": ANIMATE_PROMPT,
            "negative_prompt": NEGATIVE,
            "num_frames": 81.0,
            "num_inference_steps": 30,
            "seed": 7
        })
    } else {
        json!({
            "prompt": EDIT_PROMPT,
            "guidance_scale": 2.5,
            "num_inference_steps": 28,
            "seed": 42,
            // Sent as named: the JS client renames nothing for these tasks.
            "target_size": {"width": 512, "height": 512}
        })
    }
}

/// The body the JS client sends for the standard call. `image` is how the image is given on
/// the wire (`None` for a prompt-only call).
fn expected_body_with(pair: Pair, image: Option<&str>) -> Value {
    let mut body = parameters(pair);
    match (pair, image) {
        // fal-ai.ts:328-340: `{...params, image_url, image_urls: [image_url]}`.
        (Pair::FalImage, Some(url)) => {
            body["image_url"] = json!(url);
            body["image_urls"] = json!([url]);
        }
        // fal-ai.ts:479-489 then 460-476: `{image_url, ...params}`.
        (Pair::FalVideo, Some(url)) => body["image_url"] = json!(url),
        // fal-ai.ts:381-391, 530-540: the parameters alone, `prompt` among them.
        (Pair::FalImage | Pair::FalVideo, None) => {}
        // wavespeed.ts:239-244, 100-125: `{image, images: [image], ...params, prompt}`, the
        // transparent PNG when no image is given (wavespeed.ts:289-309).
        (Pair::WavespeedImage | Pair::WavespeedVideo, image) => {
            let image = image.unwrap_or(TRANSPARENT_PNG);
            body["image"] = json!(image);
            body["images"] = json!([image]);
        }
    }
    body
}

fn expected_body(pair: Pair, variant: Variant) -> Value {
    let image = match (pair.provider(), variant) {
        (_, Variant::PromptOnly) => None,
        // fal: a `data:` URL (fal-ai.ts:329-332); WaveSpeed: bare base64 (wavespeed.ts:81-83).
        (Provider::FalAi, Variant::WithImage) => Some(png_data_url()),
        (_, Variant::WithImage) => Some(b64(IMAGE_PNG)),
    };
    expected_body_with(pair, image.as_deref())
}

// ---------------------------------------------------------------------------------------------
// The calls, through the generated entry methods and setters

/// Options of one call beyond the standard parameters.
#[derive(Clone, Default)]
struct Options {
    /// The image given to `.inputs(…)` as a string (an http(s) URL, a `data:` URL or a file
    /// path); default: the PNG's bytes; `Some("")`: no image.
    inputs: Option<String>,
    /// No prompt.
    no_prompt: bool,
    extra_body: Option<Value>,
    poll_interval: Option<Duration>,
    statuses: Option<Arc<Mutex<Vec<JobStatus>>>>,
}

impl Options {
    fn of(variant: Variant) -> Self {
        Options {
            inputs: match variant {
                Variant::WithImage => None,
                Variant::PromptOnly => Some(String::new()),
            },
            ..Options::default()
        }
    }

    fn fast(mut self) -> Self {
        self.poll_interval = Some(Duration::from_millis(20));
        self
    }
}

struct Done {
    preview: RequestPreview,
    output: Option<Result<Blob, Error>>,
}

async fn exercise<I>(request: TaskRequest<'_, I, Blob>, send: bool) -> Result<Done, Error>
where
    I: Serialize + Clone,
{
    let preview = request.clone().preview().await?;
    let output = if send {
        Some(request.send().await)
    } else {
        None
    };
    Ok(Done { preview, output })
}

/// The standard call of `pair`, previewed, and sent when `send`.
async fn call(
    client: &InferenceClient,
    pair: Pair,
    options: &Options,
    send: bool,
) -> Result<Done, Error> {
    macro_rules! go {
        ($request:expr) => {{
            let mut request = $request.model(pair.hub_model()).provider(pair.provider());
            match options.inputs.as_deref() {
                None => request = request.inputs(IMAGE_PNG),
                Some("") => {}
                Some(inputs) => request = request.inputs(inputs),
            }
            if !options.no_prompt {
                request = request.prompt(if pair.video() {
                    ANIMATE_PROMPT
                } else {
                    EDIT_PROMPT
                });
            }
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
            exercise(request, send).await
        }};
    }
    if pair.video() {
        go!(client
            .image_text_to_video()
            .negative_prompt(NEGATIVE)
            .num_frames(81.0)
            .num_inference_steps(30)
            .seed(7))
    } else {
        go!(client
            .image_text_to_image()
            .guidance_scale(2.5)
            .num_inference_steps(28)
            .seed(42)
            .target_size(ImageTextToImageParametersTargetSize::new(512, 512)))
    }
}

fn pinned(
    mut builder: hf_inference::InferenceClientBuilder,
) -> hf_inference::InferenceClientBuilder {
    for pair in Pair::ALL {
        builder = builder.model_mapping(pair.hub_model(), pair.provider(), pair.provider_id());
    }
    builder
}

/// The real router and provider hosts (previews only), the Hub on a counter.
fn preview_client(pair: Pair, mode: Mode, hub: &ConnectionCounter) -> InferenceClient {
    pinned(
        InferenceClient::builder()
            .token(pair.token(mode))
            .hub_url(hub.url()),
    )
    .build()
    .expect("client")
}

/// The router, the provider's hosts and the Hub on the replay server's listeners.
fn loopback_client(pair: Pair, mode: Mode, server: &ReplayServer) -> InferenceClient {
    let builder = loopback_builder(pair.token(mode), server).timeout(Duration::from_secs(30));
    pinned(provider_hosts_on(builder, pair.provider(), server))
        .build()
        .expect("client")
}

// ---------------------------------------------------------------------------------------------
// Requests

/// Facts every preview of these pairs satisfies.
fn check_common(preview: &RequestPreview, pair: Pair, mode: Mode, what: &str) {
    check_preview(
        preview,
        &[pair.token(mode), SECRET_PART],
        Some(&render_preview(preview)),
        "application/json",
        what,
    );
    assert_eq!(preview.header("x-key"), None, "{what}");
}

fn assert_body(actual: &Value, expected: &Value, what: &str) {
    let diff = json_diff(expected, actual, 10);
    assert!(
        diff.is_empty(),
        "{what}: the body is not the JS client's:\n{}\nsent: {actual}",
        diff.join("\n"),
    );
}

#[test]
fn the_table_serves_these_tasks_on_fal_ai_and_wavespeed() {
    let table: BTreeSet<(&str, &str)> = [Task::ImageTextToImage, Task::ImageTextToVideo]
        .iter()
        .flat_map(|t| t.providers().iter().map(move |p| (t.as_str(), p.as_str())))
        .collect();
    let mut ours: BTreeSet<(&str, &str)> = Pair::ALL
        .iter()
        .map(|p| (p.task().as_str(), p.provider().as_str()))
        .collect();
    // Novita's MiniMax job (getProviderHelper.ts maps it to NovitaImageTextToVideoTask) has its
    // own file: tests/tests/provider_novita.rs (requests, snapshots, job and answers).
    ours.insert(("image-text-to-video", "novita"));
    assert_eq!(
        table, ours,
        "getProviderHelper.ts: fal-ai and wavespeed for both tasks, novita for the video one; \
         a pair added to the table needs its request snapshots and answer tests here or in \
         tests/tests/provider_novita.rs"
    );
}

#[tokio::test]
async fn requests_of_every_pair_variant_and_mode() {
    let hub = ConnectionCounter::start();
    let mut snapshots = 0;
    for pair in Pair::ALL {
        for variant in Variant::BOTH {
            for mode in Mode::BOTH {
                let what = format!(
                    "{} on {} ({}, {})",
                    pair.task(),
                    pair.provider(),
                    variant.name(),
                    mode.name()
                );
                let client = preview_client(pair, mode, &hub);
                let preview = call(&client, pair, &Options::of(variant), false)
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {e}"))
                    .preview;
                check_common(&preview, pair, mode, &what);
                assert_eq!(
                    preview.url,
                    expected_url(pair, mode, variant),
                    "{what}: URL"
                );
                let body = preview.body_json().expect("JSON");
                assert_body(&body, &expected_body(pair, variant), &what);
                if pair.provider() == Provider::Wavespeed {
                    let keys: Vec<&str> = body
                        .as_object()
                        .unwrap()
                        .keys()
                        .map(|k| k.as_str())
                        .collect();
                    assert_eq!(keys[..2], ["image", "images"], "{what}: key order");
                }
                insta::assert_snapshot!(
                    format!("{}__{}__{}", pair.name(), variant.name(), mode.name()),
                    render_preview(&preview)
                );
                snapshots += 1;
            }
        }
    }
    assert_eq!(snapshots, 16, "4 pairs x 2 variants x 2 modes");
    assert_eq!(hub.connections(), 0, "pinned mappings: no Hub lookup");
}

/// fal's prompt-only direct calls: a three-segment id (`owner/app/endpoint`) loses its last
/// segment, as in the JS client; a two-segment id (`owner/app`, the app's root) is kept, where
/// the JS client would send `/fal-ai` alone (a deliberate difference, README "differences").
#[tokio::test]
async fn fal_prompt_only_direct_calls_and_the_endpoint_segment() {
    let hub = ConnectionCounter::start();
    for (id, expected) in [
        ("fal-ai/flux-2/edit", "https://queue.fal.run/fal-ai/flux-2"),
        (
            "fal-ai/flux-pro/kontext/max",
            "https://queue.fal.run/fal-ai/flux-pro/kontext",
        ),
        ("fal-ai/flux-2", "https://queue.fal.run/fal-ai/flux-2"),
    ] {
        for (mode, with_image) in [
            (Mode::Direct, false),
            (Mode::Direct, true),
            (Mode::Routed, false),
        ] {
            let client = InferenceClient::builder()
                .token(Pair::FalImage.token(mode))
                .hub_url(hub.url())
                .model_mapping(Pair::FalImage.hub_model(), Provider::FalAi, id)
                .build()
                .unwrap();
            let mut request = client
                .image_text_to_image()
                .prompt(EDIT_PROMPT)
                .model(Pair::FalImage.hub_model())
                .provider(Provider::FalAi);
            if with_image {
                request = request.inputs(IMAGE_PNG);
            }
            let url = request.preview().await.unwrap().url;
            let expected = match (mode, with_image) {
                (Mode::Direct, false) => expected.to_owned(),
                (Mode::Direct, true) => format!("https://queue.fal.run/{id}"),
                (Mode::Routed, _) => format!("{ROUTER}/fal-ai/{id}?_subdomain=queue"),
            };
            assert_eq!(url, expected, "{id} ({}, image: {with_image})", mode.name());
        }
    }
    assert_eq!(hub.connections(), 0, "pinned mappings: no Hub lookup");
}

#[tokio::test]
async fn image_forms_extra_body_and_wavespeed_images() {
    let hub = ConnectionCounter::start();
    let file_host = ConnectionCounter::start();
    for pair in Pair::ALL {
        let client = preview_client(pair, Mode::Direct, &hub);
        let body_of = |options: Options| {
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

        // An http(s) URL is passed through as such, never downloaded.
        let url = format!("{}/inputs/raccoon.png?sig=abc", file_host.url());
        let body = body_of(Options {
            inputs: Some(url.clone()),
            ..Options::default()
        })
        .await;
        assert_body(
            &body,
            &expected_body_with(pair, Some(&url)),
            &format!("{pair:?} with a URL"),
        );

        // A `data:` URL is the image it holds (its own type for fal, bare base64 for WaveSpeed).
        let jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00 image-text jpeg";
        let body = body_of(Options {
            inputs: Some(format!("data:image/jpeg;base64,{}", b64(jpeg))),
            ..Options::default()
        })
        .await;
        let image = match pair.provider() {
            Provider::FalAi => format!("data:image/jpeg;base64,{}", b64(jpeg)),
            _ => b64(jpeg),
        };
        assert_body(
            &body,
            &expected_body_with(pair, Some(&image)),
            &format!("{pair:?} with a data: URL"),
        );

        // A file path and an `AsyncRead` are read and sent like the bytes.
        let dir = std::env::temp_dir().join(format!("hf-image-text-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("{pair:?}.png"));
        std::fs::write(&file, IMAGE_PNG).unwrap();
        let body = body_of(Options {
            inputs: Some(file.to_str().unwrap().to_owned()),
            ..Options::default()
        })
        .await;
        assert_body(
            &body,
            &expected_body(pair, Variant::WithImage),
            &format!("{pair:?} with a path"),
        );
        std::fs::remove_file(&file).ok();
        let reader = if pair.video() {
            client
                .image_text_to_video()
                .inputs(hf_inference::binary::BinaryInput::from_reader(
                    std::io::Cursor::new(IMAGE_PNG.to_vec()),
                ))
                .prompt(ANIMATE_PROMPT)
                .negative_prompt(NEGATIVE)
                .num_frames(81.0)
                .num_inference_steps(30)
                .seed(7)
                .model(pair.hub_model())
                .provider(pair.provider())
                .preview()
                .await
        } else {
            client
                .image_text_to_image()
                .inputs(hf_inference::binary::BinaryInput::from_reader(
                    std::io::Cursor::new(IMAGE_PNG.to_vec()),
                ))
                .prompt(EDIT_PROMPT)
                .guidance_scale(2.5)
                .num_inference_steps(28)
                .seed(42)
                .target_size(ImageTextToImageParametersTargetSize::new(512, 512))
                .model(pair.hub_model())
                .provider(pair.provider())
                .preview()
                .await
        }
        .unwrap_or_else(|e| panic!("{pair:?} with a reader: {e}"));
        assert_body(
            &reader.body_json().unwrap(),
            &expected_body(pair, Variant::WithImage),
            &format!("{pair:?} with a reader"),
        );

        // `extra_body` is merged last (it wins), at the root.
        let body = body_of(Options {
            extra_body: Some(json!({"enable_safety_checker": false, "seed": 1})),
            ..Options::default()
        })
        .await;
        let mut expected = expected_body(pair, Variant::WithImage);
        expected["enable_safety_checker"] = json!(false);
        expected["seed"] = json!(1);
        assert_body(&body, &expected, &format!("{pair:?} with extra_body"));
    }
    assert_eq!(
        file_host.connections(),
        0,
        "URL inputs are passed through, not downloaded"
    );

    // WaveSpeed: the caller's own `images` (strings), from the parameters or the root, replace
    // `[image]` and are not spread with the parameters (wavespeed.ts:84-88, 112, 240-243).
    let pair = Pair::WavespeedImage;
    let client = preview_client(pair, Mode::Direct, &hub);
    let refs = json!(["https://example.com/a.png", "https://example.com/b.png"]);
    for extra in [
        json!({"parameters": {"images": refs}}),
        json!({"images": refs}),
    ] {
        let options = Options {
            extra_body: Some(extra.clone()),
            ..Options::default()
        };
        let body = call(&client, pair, &options, false)
            .await
            .unwrap()
            .preview
            .body_json()
            .unwrap();
        let mut expected = expected_body(pair, Variant::WithImage);
        expected["images"] = refs.clone();
        assert_body(&body, &expected, &format!("images in {extra}"));
    }
    // Not a list of strings: ignored, `[image]` stays.
    let options = Options {
        extra_body: Some(json!({"parameters": {"images": [1, 2]}})),
        ..Options::default()
    };
    let body = call(&client, pair, &options, false)
        .await
        .unwrap()
        .preview
        .body_json()
        .unwrap();
    assert_body(
        &body,
        &expected_body(pair, Variant::WithImage),
        "images that are not strings",
    );

    // An image without a prompt is a valid call: no `prompt` in the body.
    for pair in Pair::ALL {
        let client = preview_client(pair, Mode::Routed, &hub);
        let options = Options {
            no_prompt: true,
            ..Options::default()
        };
        let body = call(&client, pair, &options, false)
            .await
            .unwrap_or_else(|e| panic!("{pair:?} without a prompt: {e}"))
            .preview
            .body_json()
            .unwrap();
        let mut expected = expected_body(pair, Variant::WithImage);
        expected.as_object_mut().unwrap().remove("prompt");
        assert_body(&body, &expected, &format!("{pair:?} without a prompt"));
    }
    assert_eq!(hub.connections(), 0, "pinned mappings: no Hub lookup");
}

/// Inputs refused before any connection (Hub, router, provider): neither an image nor a prompt
/// (the schema: "either inputs (image) or prompt (in parameters) must be provided"), and an
/// image file that does not exist, and an image put in `extra_body` instead of the setter.
#[tokio::test]
async fn bad_inputs_are_refused_before_any_connection() {
    for pair in Pair::ALL {
        for mode in Mode::BOTH {
            let counter = ConnectionCounter::start();
            let client = pinned(
                InferenceClient::builder()
                    .token(pair.token(mode))
                    .hub_url(counter.url())
                    .router_url(counter.url())
                    .provider_url(pair.provider(), counter.url()),
            )
            .build()
            .unwrap();
            for (options, field, needle) in [
                (
                    Options {
                        inputs: Some(String::new()),
                        no_prompt: true,
                        ..Options::default()
                    },
                    "inputs",
                    "needs an image (`inputs`) or a `prompt`",
                ),
                (
                    Options {
                        inputs: Some("/nonexistent/dir/raccoon.png".into()),
                        ..Options::default()
                    },
                    "input",
                    "`/nonexistent/dir/raccoon.png` does not exist",
                ),
                (
                    Options {
                        inputs: Some(String::new()),
                        extra_body: Some(json!({"inputs": b64(IMAGE_PNG)})),
                        ..Options::default()
                    },
                    "inputs",
                    "give the image to the `.inputs(…)` setter",
                ),
            ] {
                let what = format!("{pair:?} ({}): {needle}", mode.name());
                for send in [false, true] {
                    let err = match call(&client, pair, &options, send).await {
                        Err(e) => e,
                        Ok(_) => panic!("{what}: accepted"),
                    };
                    match &err {
                        Error::InvalidInput {
                            field: actual,
                            message,
                        } => {
                            assert_eq!(actual, field, "{what}");
                            assert!(message.contains(needle), "{what}: {message}");
                        }
                        other => panic!("{what}: expected InvalidInput, got {other:?}"),
                    }
                }
            }
            assert_eq!(counter.connections(), 0, "{pair:?}: nothing was sent");
        }
    }
}

/// A LoRA adapter in the Hub mapping (`adapter: "lora"`, `adapterWeightsPath`): fal loads the
/// weights from the Hub (fal-ai.ts:220-222, 315-326, 460-476), WaveSpeed gets the Hub id
/// (wavespeed.ts:115-123).
#[tokio::test]
async fn lora_adapters_from_the_hub_mapping() {
    const LORA_MODEL: &str = "someone/raccoon-lora";
    for pair in Pair::ALL {
        let server = ReplayServer::start(Vec::<Tape>::new()).expect("server");
        let mapping = json!({"inferenceProviderMapping": {pair.provider().as_str(): {
            "status": "live",
            "providerId": pair.provider_id(),
            "task": pair.task().as_str(),
            "adapter": "lora",
            "adapterWeightsPath": "raccoon.safetensors"
        }}});
        server.add_route(
            HUB_HOST,
            "GET",
            &format!("/api/models/{LORA_MODEL}"),
            200,
            mapping,
        );
        let client = loopback_builder(HF_TOKEN, &server).build().unwrap();
        let image = IMAGE_PNG;
        let prompt = if pair.video() {
            ANIMATE_PROMPT
        } else {
            EDIT_PROMPT
        };
        let preview = if pair.video() {
            client
                .image_text_to_video()
                .inputs(image)
                .prompt(prompt)
                .model(LORA_MODEL)
                .provider(pair.provider())
                .preview()
                .await
        } else {
            client
                .image_text_to_image()
                .inputs(image)
                .prompt(prompt)
                .model(LORA_MODEL)
                .provider(pair.provider())
                .preview()
                .await
        }
        .unwrap_or_else(|e| panic!("{pair:?} with a LoRA: {e}"));
        let body = preview.body_json().unwrap();
        let path = match pair.provider() {
            Provider::FalAi => format!(
                "{}/{LORA_MODEL}/resolve/main/raccoon.safetensors",
                server.url_for_host(HUB_HOST)
            ),
            _ => LORA_MODEL.to_owned(),
        };
        assert_eq!(
            body["loras"],
            json!([{"path": path, "scale": 1}]),
            "{pair:?}: {body}"
        );
        assert!(
            body.get("model_name").is_none(),
            "{pair:?}: no base model name"
        );
        assert_eq!(
            server
                .requests()
                .iter()
                .filter(|r| r.host == HUB_HOST && r.path.starts_with("/api/models/"))
                .count(),
            1,
            "{pair:?}: one Hub lookup"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Jobs on the wire

const FILE_HOST: &str = "v3.fal.media";
const WS_FILE_HOST: &str = "d1q70pf5vjeyhc.cloudfront.net";

/// A scripted answer: the replay server answers `reply` to exactly this request (a JSON body
/// must equal `body`), several tapes with the same request in `step` order.
fn scripted(
    label: &str,
    step: u32,
    method: &str,
    url: &str,
    body: Option<&Value>,
    reply: Result<(u16, &Value), (&str, &[u8])>,
) -> Tape {
    let mut request = json!({"method": method, "url": url, "headers": {}});
    match body {
        Some(body) => {
            request["body_kind"] = json!("json");
            request["body_json"] = body.clone();
        }
        None => request["body_kind"] = json!("none"),
    }
    let answer = match reply {
        Ok((status, json)) => json!({
            "status": status,
            "headers": {"content-type": "application/json"},
            "body_json": json
        }),
        Err((content_type, bytes)) => json!({
            "status": 200,
            "headers": {"content-type": content_type},
            "body_base64": b64(bytes)
        }),
    };
    let mut tape: Tape = serde_json::from_value(json!({
        "id": label,
        "provider": "synthetic",
        "task": "synthetic",
        "mode": "direct",
        "request": request,
        "response": answer,
        "test": {"name": "image_text_tasks (synthetic)", "spec": "synthetic", "step": step}
    }))
    .expect("a synthetic tape");
    tape.file_name = label.to_owned();
    tape
}

/// A job's script: the requests after the submit (URL, answer) and the file.
struct Script {
    job_id: String,
    submit: Value,
    /// (URL, answer) of each poll, in order.
    polls: Vec<(String, Value)>,
    /// The fal queue's result request, after the polls.
    result: Option<(String, Value)>,
    /// The statuses `on_status` must see.
    statuses: Vec<&'static str>,
    file_url: String,
    file: (&'static str, &'static [u8]),
}

fn fal_answer(pair: Pair, id: &str, status: &str) -> Value {
    // fal's answers name queue.fal.run, whatever the mode.
    let response_url = format!("https://queue.fal.run/{}/requests/{id}", pair.queue_app());
    json!({
        "status": status,
        "request_id": id,
        "response_url": response_url,
        "status_url": format!("{response_url}/status"),
        "cancel_url": format!("{response_url}/cancel"),
    })
}

fn wavespeed_answer(id: &str, status: &str, outputs: Value, error: &str) -> Value {
    json!({
        "code": 200,
        "message": "success",
        "data": {
            "id": id,
            "model": "wavespeed-ai/model",
            "outputs": outputs,
            "urls": {"get": format!("https://api.wavespeed.ai/api/v3/predictions/{id}/result")},
            "has_nsfw_contents": [],
            "status": status,
            "created_at": "2025-06-01T12:00:00.000Z",
            "error": error,
            "timings": {"inference": 0}
        }
    })
}

fn script(pair: Pair, mode: Mode) -> Script {
    let (content_type, bytes) = if pair.video() {
        ("video/mp4", MP4_OUT)
    } else {
        ("image/png", PNG_OUT)
    };
    match pair.provider() {
        Provider::FalAi => {
            let id = format!(
                "{:04x}-7c1e-4d2b-9a3f-0123ab",
                pair as u32 * 2 + mode as u32
            );
            // fal-ai.ts:170-181: `base + path(response_url) [+ "/status"] + query`, base = the
            // router's `/fal-ai` or queue.fal.run, query = the submit's.
            let path = format!("/{}/requests/{id}", pair.queue_app());
            let (status_url, result_url) = match mode {
                Mode::Routed => (
                    format!("{ROUTER}/fal-ai{path}/status?_subdomain=queue"),
                    format!("{ROUTER}/fal-ai{path}?_subdomain=queue"),
                ),
                Mode::Direct => (
                    format!("https://queue.fal.run{path}/status"),
                    format!("https://queue.fal.run{path}"),
                ),
            };
            let file_url = format!("https://{FILE_HOST}/files/raccoon/{id}_output");
            let result = if pair.video() {
                json!({"video": {"url": file_url, "content_type": content_type}, "seed": 7})
            } else {
                json!({"images": [{"url": file_url, "content_type": content_type,
                                   "width": 512, "height": 512}], "seed": 42})
            };
            Script {
                submit: fal_answer(pair, &id, "IN_QUEUE"),
                polls: ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
                    .iter()
                    .map(|s| (status_url.clone(), fal_answer(pair, &id, s)))
                    .collect(),
                result: Some((result_url, result)),
                statuses: vec!["IN_QUEUE", "IN_QUEUE", "IN_PROGRESS", "COMPLETED"],
                file_url,
                file: (content_type, bytes),
                job_id: id,
            }
        }
        _ => {
            let id = format!("ws{:02}a1b2c3d4e5f6", pair as u32 * 2 + mode as u32);
            // wavespeed.ts:138-144: the path of `data.urls.get` on the router's `/wavespeed` or
            // the provider's host.
            let path = format!("/api/v3/predictions/{id}/result");
            let poll_url = match mode {
                Mode::Routed => format!("{ROUTER}/wavespeed{path}"),
                Mode::Direct => format!("https://api.wavespeed.ai{path}"),
            };
            let file_url = format!("https://{WS_FILE_HOST}/output/{id}.bin");
            Script {
                submit: wavespeed_answer(&id, "created", json!([]), ""),
                polls: vec![
                    (
                        poll_url.clone(),
                        wavespeed_answer(&id, "processing", json!([]), ""),
                    ),
                    (
                        poll_url,
                        wavespeed_answer(&id, "completed", json!([file_url]), ""),
                    ),
                ],
                result: None,
                statuses: vec!["created", "processing", "completed"],
                file_url,
                file: (content_type, bytes),
                job_id: id,
            }
        }
    }
}

fn server_of(pair: Pair, mode: Mode, variant: Variant, script: &Script) -> ReplayServer {
    let body = expected_body(pair, variant);
    let mut tapes = vec![scripted(
        "submit",
        1,
        "POST",
        &expected_url(pair, mode, variant),
        Some(&body),
        Ok((200, &script.submit)),
    )];
    for (i, (url, answer)) in script.polls.iter().enumerate() {
        tapes.push(scripted(
            &format!("poll {}", i + 1),
            2 + i as u32,
            "GET",
            url,
            None,
            Ok((200, answer)),
        ));
    }
    if let Some((url, answer)) = &script.result {
        tapes.push(scripted("result", 10, "GET", url, None, Ok((200, answer))));
    }
    tapes.push(scripted(
        "file",
        11,
        "GET",
        &script.file_url,
        None,
        Err(script.file),
    ));
    ReplayServer::start(tapes).expect("replay server")
}

#[tokio::test]
async fn job_flows_of_every_pair_variant_and_mode() {
    for pair in Pair::ALL {
        for variant in Variant::BOTH {
            for mode in Mode::BOTH {
                let what = format!(
                    "{} on {} ({}, {})",
                    pair.task(),
                    pair.provider(),
                    variant.name(),
                    mode.name()
                );
                let script = script(pair, mode);
                let server = server_of(pair, mode, variant, &script);
                let client = loopback_client(pair, mode, &server);
                let statuses = Arc::new(Mutex::new(Vec::new()));
                let options = Options {
                    statuses: Some(statuses.clone()),
                    ..Options::of(variant).fast()
                };
                let done = call(&client, pair, &options, true)
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                let blob = done
                    .output
                    .unwrap()
                    .unwrap_or_else(|e| panic!("{what}: {e}\nrequests: {:#?}", server.requests()));
                assert_eq!(blob.bytes().as_ref(), script.file.1, "{what}: the file");
                assert_eq!(blob.content_type(), Some(script.file.0), "{what}");

                server.assert_all_matched();
                let requests = server.requests();
                let expected: Vec<String> = std::iter::once(expected_url(pair, mode, variant))
                    .chain(script.polls.iter().map(|(u, _)| u.clone()))
                    .chain(script.result.iter().map(|(u, _)| u.clone()))
                    .chain(std::iter::once(script.file_url.clone()))
                    .collect();
                assert_eq!(
                    requests.len(),
                    expected.len(),
                    "{what}: {:#?}",
                    requests
                        .iter()
                        .map(RecordedRequest::original_url)
                        .collect::<Vec<_>>()
                );
                // The submit: the previewed body, the credential in the provider's scheme.
                let submit = &requests[0];
                assert_sent_to(submit, "POST", &expected[0], &what);
                assert_eq!(
                    submit.header("authorization"),
                    Some(pair.authorization(mode).as_str()),
                    "{what}: submit auth"
                );
                assert_eq!(
                    submit.body.as_ref(),
                    done.preview.body.as_deref().unwrap_or_default(),
                    "{what}: the body on the wire is the previewed body"
                );
                // The polls (and fal's result): GETs with the submit's credentials, on its host.
                let last = requests.len() - 1;
                for (i, poll) in requests[1..last].iter().enumerate() {
                    let what = format!("{what}: request {}", i + 2);
                    assert_sent_to(poll, "GET", &expected[i + 1], &what);
                    assert_eq!(poll.host, submit.host, "{what}: the submit's host");
                    assert_eq!(
                        poll.header("authorization"),
                        Some(pair.authorization(mode).as_str()),
                        "{what}: the call's credentials"
                    );
                    assert!(poll.body.is_empty(), "{what}: no body");
                }
                // The file: another host, no credentials.
                let file = &requests[last];
                assert_sent_to(file, "GET", &script.file_url, &what);
                assert_no_credentials(file, SECRET_PART, &format!("{what}: the file download"));

                let seen: Vec<String> = statuses
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|s| {
                        assert_eq!(s.provider, pair.provider().as_str(), "{what}");
                        assert_eq!(s.job_id, script.job_id, "{what}");
                        s.status.clone()
                    })
                    .collect();
                assert_eq!(seen, script.statuses, "{what}: on_status");
                assert!(
                    server.requests_to(HUB_HOST).is_empty(),
                    "{what}: no Hub lookup"
                );
                if mode == Mode::Direct {
                    assert!(
                        server.requests_to(ROUTER_HOST).is_empty(),
                        "{what}: nothing on the router"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn failed_and_malformed_jobs() {
    // WaveSpeed `failed`: `Error::JobFailed` with `data.error` (wavespeed.ts:198-200).
    for pair in [Pair::WavespeedImage, Pair::WavespeedVideo] {
        let mode = Mode::Direct;
        let mut script = script(pair, mode);
        let id = script.job_id.clone();
        script.polls[1].1 = wavespeed_answer(&id, "failed", json!([]), "The prompt was flagged");
        let server = server_of(pair, mode, Variant::WithImage, &script);
        let client = loopback_client(pair, mode, &server);
        let err = call(&client, pair, &Options::default().fast(), true)
            .await
            .unwrap()
            .output
            .unwrap()
            .expect_err("a failed job");
        assert_job_failed(
            &err,
            "wavespeed",
            &id,
            "The prompt was flagged",
            &format!("{pair:?}"),
        );
        assert_eq!(server.requests().len(), 3, "{pair:?}: submit and two polls");
    }

    // fal: a result without the file URL (`images[0].url` / `video.url`) is `Error::Decode`
    // (fal-ai.ts:365-371, 516-520); nothing is downloaded.
    for pair in [Pair::FalImage, Pair::FalVideo] {
        let mode = Mode::Routed;
        let mut script = script(pair, mode);
        if let Some((_, result)) = script.result.as_mut() {
            *result = json!({"images": [], "video": null, "seed": 1});
        }
        let server = server_of(pair, mode, Variant::WithImage, &script);
        let client = loopback_client(pair, mode, &server);
        let err = call(&client, pair, &Options::default().fast(), true)
            .await
            .unwrap()
            .output
            .unwrap()
            .expect_err("a result without a file");
        assert!(matches!(err, Error::Decode { .. }), "{pair:?}: {err:?}");
        let requests = server.requests();
        assert_eq!(requests.len(), 5, "{pair:?}: submit, 3 polls, result");
        assert!(
            requests.iter().all(|r| r.host != FILE_HOST),
            "{pair:?}: no download"
        );
    }
}
