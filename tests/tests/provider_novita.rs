//! Novita `image-text-to-video` (MiniMax H3 through Novita's MiniMax API) through the public API,
//! on loopback only. huggingface_hub 2.4.0 has no client support for the task, so the reference
//! is the JS client, @huggingface/inference 4.13.30, `providers/novita.ts`
//! (`NovitaImageTextToVideoTask`); every URL, body and status below is written out from that
//! source, not read from the provider table.
//!
//! The answers served here are NOT recorded traffic (no conformance tape has this pair): they
//! are realistic answers built from the shapes the JS client reads (`{"task_id"}` for the
//! submit, `{"task": {"status", "content": {"url"}, "error": {"message"}}}` for the query).
//!
//! - **Requests**: with an image and prompt-only, routed (`hf_` token) and direct (Novita key):
//!   an insta snapshot of the preview (token redacted and asserted absent), the URL and the body;
//!   the MiniMax fields derived from `target_size` / `num_frames`; image forms (bytes as a
//!   `data:` URL, an http(s) URL passed through untouched); inputs refused before any
//!   connection (another model than MiniMax H3, no prompt).
//! - **Jobs**: submit → `queued` → `running` → `succeeded` → file, routed and direct: the exact
//!   request sequence, the credentials on the polls, none on the file download, the `on_status`
//!   sequence, the bytes; then `failed` / `cancelled` (`Error::JobFailed` with the task id) and
//!   a job that never ends (`Error::JobTimeout` with the task id, after the client's timeout).
//!
//! Run with `cargo test -p hf-inference-tests --test provider_novita -- --nocapture`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use hf_inference::binary::Blob;
use hf_inference::providers::jobs::JobStatus;
use hf_inference::types::image_text_to_video::ImageTextToVideoParametersTargetSize;
use hf_inference::{Error, InferenceClient, InferenceClientBuilder, Provider, RequestPreview};
use hf_inference_tests::replay::{HUB_HOST, RecordedRequest, ReplayServer, json_diff};
use hf_inference_tests::support::{
    BodyExpect, ConnectionCounter, Mode, ROUTER, ROUTER_HOST, Reply, assert_job_failed,
    assert_job_timeout, assert_no_credentials, assert_sent_to, check_preview, loopback_builder,
    provider_hosts_on, render_preview, synthetic_tape,
};
use serde_json::{Value, json};

const HF_TOKEN: &str = "hf_novitaSecret0123456789abcdefghij";
const NOVITA_KEY: &str = "sk_novitaSecret0123456789abcdefghij";
/// A fragment of both credentials: must never appear in a preview or a file download.
const SECRET_PART: &str = "novitaSecret";

const HUB_MODEL: &str = "MiniMaxAI/MiniMax-H3";
/// The only provider id the JS client accepts for this task.
const PROVIDER_ID: &str = "MiniMax-H3";

const PROMPT: &str = "The raccoon waves at the camera";
/// A PNG (its signature and header chunk): typed `image/png` from its bytes.
const IMAGE_PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02";
const MP4_OUT: &[u8] = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom novita minimax";
const FILE_HOST: &str = "faas-output-video.s3.ap-southeast-1.amazonaws.com";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn token(mode: Mode) -> &'static str {
    mode.pick(HF_TOKEN, NOVITA_KEY)
}

/// The submit URL (novita.ts: `makeRoute`, on the router's `/novita` or api.novita.ai).
fn submit_url(mode: Mode) -> String {
    match mode {
        Mode::Routed => format!("{ROUTER}/novita/v3/minimax/v2/video_generation"),
        Mode::Direct => "https://api.novita.ai/v3/minimax/v2/video_generation".to_owned(),
    }
}

/// The query URL of task `id` (novita.ts: `getResponse`).
fn query_url(mode: Mode, id: &str) -> String {
    match mode {
        Mode::Routed => format!("{ROUTER}/novita/v3/minimax/v2/query/video_generation/{id}"),
        Mode::Direct => format!("https://api.novita.ai/v3/minimax/v2/query/video_generation/{id}"),
    }
}

/// The body of the standard call (prompt, negative prompt, 81 frames, 30 steps, seed 7):
/// `negative_prompt`, `num_inference_steps` and `seed` are dropped, 81 frames are 3.4 s, kept at
/// the 4 s minimum, no `target_size` means `768P` and `16:9`; with an image the ratio is
/// `adaptive` and the image the first frame.
fn expected_body(image: Option<&str>) -> Value {
    let mut content = vec![json!({"type": "text", "text": PROMPT})];
    if let Some(url) = image {
        content
            .push(json!({"type": "image_url", "image_url": {"url": url}, "role": "first_frame"}));
    }
    json!({
        "model": PROVIDER_ID,
        "content": content,
        "resolution": "768P",
        "duration": 4,
        "ratio": if image.is_some() { "adaptive" } else { "16:9" },
    })
}

fn png_data_url() -> String {
    format!("data:image/png;base64,{}", b64(IMAGE_PNG))
}

fn pinned(builder: InferenceClientBuilder) -> InferenceClientBuilder {
    builder.model_mapping(HUB_MODEL, Provider::Novita, PROVIDER_ID)
}

/// The real router and Novita host (previews only), the Hub on a counter.
fn preview_client(mode: Mode, hub: &ConnectionCounter) -> InferenceClient {
    pinned(
        InferenceClient::builder()
            .token(token(mode))
            .hub_url(hub.url()),
    )
    .build()
    .expect("client")
}

fn loopback_client(mode: Mode, server: &ReplayServer, timeout: Duration) -> InferenceClient {
    let builder = loopback_builder(token(mode), server).timeout(timeout);
    pinned(provider_hosts_on(builder, Provider::Novita, server))
        .build()
        .expect("client")
}

/// The standard call, with `image` (`None`: prompt only).
fn standard(
    client: &InferenceClient,
    image: Option<hf_inference::binary::BinaryInput>,
) -> hf_inference::tasks::ImageTextToVideoRequest<'_> {
    let mut request = client
        .image_text_to_video()
        .prompt(PROMPT)
        .negative_prompt("blurry")
        .num_frames(81.0)
        .num_inference_steps(30)
        .seed(7)
        .model(HUB_MODEL)
        .provider(Provider::Novita);
    if let Some(image) = image {
        request = request.inputs(image);
    }
    request
}

fn assert_body(actual: &Value, expected: &Value, what: &str) {
    let diff = json_diff(expected, actual, 10);
    assert!(
        diff.is_empty(),
        "{what}: the body is not the JS client's:\n{}\nsent: {actual}",
        diff.join("\n"),
    );
}

fn check_common(preview: &RequestPreview, mode: Mode, what: &str) {
    check_preview(
        preview,
        &[token(mode), SECRET_PART],
        Some(&render_preview(preview)),
        "application/json",
        what,
    );
}

#[tokio::test]
async fn requests_with_and_without_an_image_in_both_modes() {
    let hub = ConnectionCounter::start();
    for mode in Mode::BOTH {
        for with_image in [true, false] {
            let what = format!(
                "novita image-text-to-video ({}, {})",
                if with_image { "image" } else { "prompt" },
                mode.name()
            );
            let client = preview_client(mode, &hub);
            let image = with_image.then(|| IMAGE_PNG.into());
            let preview = standard(&client, image)
                .preview()
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            check_common(&preview, mode, &what);
            assert_eq!(preview.url, submit_url(mode), "{what}: URL");
            let data_url = png_data_url();
            let body = preview.body_json().expect("JSON");
            assert_body(
                &body,
                &expected_body(with_image.then_some(data_url.as_str())),
                &what,
            );
            // The JS client's key order: the rest of the parameters, then the MiniMax fields.
            let keys: Vec<&str> = body
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                ["model", "content", "resolution", "duration", "ratio"],
                "{what}"
            );
            insta::assert_snapshot!(
                format!(
                    "image-text-to-video__novita__{}__{}",
                    if with_image { "image" } else { "prompt" },
                    mode.name()
                ),
                render_preview(&preview)
            );
        }
    }
    assert_eq!(hub.connections(), 0, "pinned mapping: no Hub lookup");
}

async fn body_of(request: hf_inference::tasks::ImageTextToVideoRequest<'_>) -> Value {
    request.preview().await.unwrap().body_json().unwrap()
}

#[tokio::test]
async fn minimax_fields_image_forms_and_extra_body() {
    let hub = ConnectionCounter::start();
    let file_host = ConnectionCounter::start();
    let client = preview_client(Mode::Direct, &hub);

    // target_size 1280x720: short edge 720 is nearer 768 (768P), ratio 16:9; 3360x1440: 2K,
    // 21:9; 720x1280: 9:16. num_frames / 24 rounds half up (156 → 7 s) and stops at 15 s.
    for ((width, height), frames, resolution, ratio, duration) in [
        ((1280, 720), 156.0, "768P", "16:9", 7),
        ((3360, 1440), 155.0, "2K", "21:9", 6),
        ((720, 1280), 1000.0, "768P", "9:16", 15),
        ((1024, 1024), 24.0, "768P", "1:1", 4),
    ] {
        let body = body_of(
            client
                .image_text_to_video()
                .prompt(PROMPT)
                .num_frames(frames)
                .target_size(ImageTextToVideoParametersTargetSize::new(height, width))
                .model(HUB_MODEL)
                .provider(Provider::Novita),
        )
        .await;
        let what = format!("{width}x{height}, {frames} frames");
        assert_eq!(body["resolution"], json!(resolution), "{what}");
        assert_eq!(body["ratio"], json!(ratio), "{what}");
        assert_eq!(body["duration"], json!(duration), "{what}");
        for dropped in ["target_size", "num_frames", "prompt"] {
            assert!(body.get(dropped).is_none(), "{what}: `{dropped}` sent");
        }
    }

    // MiniMax's own fields given as parameters win; other parameters are sent (first); root
    // `extra_body` fields are merged last.
    let body = body_of(standard(&client, Some(IMAGE_PNG.into())).extra_body(json!({
        "parameters": {"resolution": "2K", "duration": 10, "prompt_optimizer": false},
        "callback_url": "https://example.com/hook"
    })))
    .await;
    let data_url = png_data_url();
    let mut expected = expected_body(Some(&data_url));
    expected["resolution"] = json!("2K");
    expected["duration"] = json!(10);
    expected["prompt_optimizer"] = json!(false);
    expected["callback_url"] = json!("https://example.com/hook");
    assert_body(&body, &expected, "MiniMax fields as parameters");
    assert_eq!(
        body.as_object().unwrap().keys().next().map(String::as_str),
        Some("prompt_optimizer"),
        "the other parameters come first"
    );

    // An http(s) URL is passed through (never fetched); a `data:` URL keeps its type.
    let url = format!("{}/frames/first.png?sig=abc", file_host.url());
    let body = body_of(standard(&client, Some(url.as_str().into()))).await;
    assert_body(&body, &expected_body(Some(&url)), "a URL image");
    let jpeg = format!("data:image/jpeg;base64,{}", b64(b"\xff\xd8\xff\xe0 jpeg"));
    let body = body_of(standard(&client, Some(jpeg.as_str().into()))).await;
    assert_body(&body, &expected_body(Some(&jpeg)), "a data: URL image");
    assert_eq!(file_host.connections(), 0, "URL inputs are not downloaded");
    assert_eq!(hub.connections(), 0, "pinned mapping: no Hub lookup");
}

#[tokio::test]
async fn inputs_refused_before_any_connection() {
    for mode in Mode::BOTH {
        let counter = ConnectionCounter::start();
        let builder = || {
            InferenceClient::builder()
                .token(token(mode))
                .hub_url(counter.url())
                .router_url(counter.url())
                .provider_url(Provider::Novita, counter.url())
        };
        // Another model than MiniMax H3 (novita.ts: "Unsupported Novita image-text-to-video
        // model").
        let other = builder()
            .model_mapping(HUB_MODEL, Provider::Novita, "kling-v2.1-i2v")
            .build()
            .unwrap();
        let err = standard(&other, Some(IMAGE_PNG.into()))
            .send()
            .await
            .expect_err("another model");
        match &err {
            Error::InvalidInput { field, message } => {
                assert_eq!(field, "model", "{err}");
                assert!(message.contains("MiniMax-H3"), "{message}");
                assert!(message.contains("kling-v2.1-i2v"), "{message}");
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
        // An image without a prompt, and a blank prompt: MiniMax H3 needs one.
        let client = pinned(builder()).build().unwrap();
        for prompt in [None, Some("   ")] {
            let mut request = client
                .image_text_to_video()
                .inputs(IMAGE_PNG)
                .model(HUB_MODEL)
                .provider(Provider::Novita);
            if let Some(prompt) = prompt {
                request = request.prompt(prompt);
            }
            for preview in [true, false] {
                let err = if preview {
                    request.clone().preview().await.map(|_| ()).unwrap_err()
                } else {
                    request.clone().send().await.map(|_| ()).unwrap_err()
                };
                match &err {
                    Error::InvalidInput { field, message } => {
                        assert_eq!(field, "prompt", "{err}");
                        assert!(message.contains("non-empty `prompt`"), "{message}");
                    }
                    other => panic!("{prompt:?}: expected InvalidInput, got {other:?}"),
                }
            }
        }
        assert_eq!(
            counter.connections(),
            0,
            "{}: nothing was sent",
            mode.name()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Jobs on the wire

/// A query answer with `status` (made up from the fields novita.ts reads; see the module docs).
fn task_answer(id: &str, status: &str, file_url: Option<&str>, error: Option<&str>) -> Value {
    let mut task = json!({"task_id": id, "status": status});
    if let Some(url) = file_url {
        task["content"] = json!({"url": url});
    }
    if let Some(message) = error {
        task["error"] = json!({"code": "content_flagged", "message": message});
    }
    json!({"task": task})
}

/// A server for one job: the submit (body as previewed), the polls in order (the last one
/// repeated), and the file.
fn job_server(mode: Mode, id: &str, polls: &[Value], with_image: bool) -> (ReplayServer, String) {
    let data_url = png_data_url();
    let body = expected_body(with_image.then_some(data_url.as_str()));
    let file_url = format!("https://{FILE_HOST}/minimax/{id}/output.mp4");
    let mut tapes = vec![synthetic_tape(
        "submit",
        1,
        "POST",
        &submit_url(mode),
        BodyExpect::Json(body),
        200,
        Reply::Json(json!({"task_id": id})),
    )];
    for (i, answer) in polls.iter().enumerate() {
        let answer = serde_json::to_string(answer)
            .unwrap()
            .replace("{file}", &file_url);
        tapes.push(synthetic_tape(
            &format!("poll {}", i + 1),
            2 + i as u32,
            "GET",
            &query_url(mode, id),
            BodyExpect::Empty,
            200,
            Reply::Json(serde_json::from_str(&answer).unwrap()),
        ));
    }
    tapes.push(synthetic_tape(
        "file",
        50,
        "GET",
        &file_url,
        BodyExpect::Empty,
        200,
        Reply::Bytes("video/mp4", MP4_OUT),
    ));
    (ReplayServer::start(tapes).expect("replay server"), file_url)
}

#[tokio::test]
async fn job_flow_in_both_modes() {
    for mode in Mode::BOTH {
        for with_image in [true, false] {
            let what = format!(
                "novita job ({}, {})",
                if with_image { "image" } else { "prompt" },
                mode.name()
            );
            let id = format!("9f3c{}-minimax-{}", mode.name(), u8::from(with_image));
            let polls = [
                task_answer(&id, "queued", None, None),
                task_answer(&id, "running", None, None),
                task_answer(&id, "succeeded", Some("{file}"), None),
            ];
            let (server, file_url) = job_server(mode, &id, &polls, with_image);
            let client = loopback_client(mode, &server, Duration::from_secs(30));
            let statuses = Arc::new(Mutex::new(Vec::<JobStatus>::new()));
            let log = statuses.clone();
            let blob: Blob = standard(&client, with_image.then(|| IMAGE_PNG.into()))
                .poll_interval(Duration::from_millis(20))
                .on_status(move |s| log.lock().unwrap().push(s.clone()))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}\n{:#?}", server.requests()));
            assert_eq!(blob.bytes().as_ref(), MP4_OUT, "{what}: the file");
            assert_eq!(blob.content_type(), Some("video/mp4"), "{what}");

            server.assert_all_matched();
            let requests = server.requests();
            let expected: Vec<String> = [submit_url(mode)]
                .into_iter()
                .chain(std::iter::repeat_n(query_url(mode, &id), 3))
                .chain([file_url.clone()])
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
            let auth = format!("Bearer {}", token(mode));
            let submit = &requests[0];
            assert_sent_to(submit, "POST", &expected[0], &what);
            assert_eq!(
                submit.header("authorization"),
                Some(auth.as_str()),
                "{what}"
            );
            for (i, poll) in requests[1..4].iter().enumerate() {
                let what = format!("{what}: poll {}", i + 1);
                assert_sent_to(poll, "GET", &expected[i + 1], &what);
                assert_eq!(poll.host, submit.host, "{what}: the submit's host");
                assert_eq!(poll.header("authorization"), Some(auth.as_str()), "{what}");
                assert!(poll.body.is_empty(), "{what}: no body");
            }
            assert_sent_to(&requests[4], "GET", &file_url, &what);
            assert_no_credentials(&requests[4], SECRET_PART, &format!("{what}: download"));
            let seen: Vec<String> = statuses
                .lock()
                .unwrap()
                .iter()
                .map(|s| {
                    assert_eq!(s.provider, "novita", "{what}");
                    assert_eq!(s.job_id, id, "{what}");
                    s.status.clone()
                })
                .collect();
            assert_eq!(
                seen,
                ["queued", "running", "succeeded"],
                "{what}: on_status"
            );
            assert!(server.requests_to(HUB_HOST).is_empty(), "{what}: no Hub");
            if mode == Mode::Direct {
                assert!(
                    server.requests_to(ROUTER_HOST).is_empty(),
                    "{what}: nothing on the router"
                );
            }
        }
    }
}

#[tokio::test]
async fn failed_cancelled_malformed_and_endless_jobs() {
    let mode = Mode::Direct;
    // `failed` with a message, `cancelled` without: Error::JobFailed naming the task.
    for (answer, message) in [
        (
            task_answer("t-failed", "failed", None, Some("The prompt was flagged")),
            "The prompt was flagged",
        ),
        (
            task_answer("t-failed", "cancelled", None, None),
            "Novita task cancelled",
        ),
    ] {
        let polls = [task_answer("t-failed", "running", None, None), answer];
        let (server, _) = job_server(mode, "t-failed", &polls, true);
        let client = loopback_client(mode, &server, Duration::from_secs(30));
        let err = standard(&client, Some(IMAGE_PNG.into()))
            .poll_interval(Duration::from_millis(20))
            .send()
            .await
            .expect_err("a failed job");
        assert_job_failed(&err, "novita", "t-failed", message, message);
        assert_eq!(
            server.requests().len(),
            3,
            "{message}: submit and two polls"
        );
    }

    // `succeeded` without `task.content.url`: Error::Decode, nothing downloaded.
    let polls = [task_answer("t-nofile", "succeeded", None, None)];
    let (server, _) = job_server(mode, "t-nofile", &polls, true);
    let client = loopback_client(mode, &server, Duration::from_secs(30));
    let err = standard(&client, Some(IMAGE_PNG.into()))
        .send()
        .await
        .expect_err("no file");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("/task/content/url"), "{err}");
    assert!(server.requests_to(FILE_HOST).is_empty(), "no download");

    // A submit answer without `task_id`: Error::Decode, no poll.
    let server = ReplayServer::start(vec![synthetic_tape(
        "submit",
        1,
        "POST",
        &submit_url(mode),
        BodyExpect::Any,
        200,
        Reply::Json(json!({"code": 0})),
    )])
    .unwrap();
    let client = loopback_client(mode, &server, Duration::from_secs(30));
    let err = standard(&client, Some(IMAGE_PNG.into()))
        .send()
        .await
        .expect_err("no task id");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("task_id"), "{err}");
    assert_eq!(server.requests().len(), 1, "no poll");

    // A job that never ends: Error::JobTimeout with the task id, after the client's timeout.
    let timeout = Duration::from_millis(400);
    let polls = [task_answer("t-endless", "running", None, None)];
    let (server, _) = job_server(mode, "t-endless", &polls, true);
    let client = loopback_client(mode, &server, timeout);
    let err = standard(&client, Some(IMAGE_PNG.into()))
        .poll_interval(Duration::from_millis(50))
        .send()
        .await
        .expect_err("an endless job");
    assert_job_timeout(&err, "novita", "t-endless", timeout, "endless job");
    let polls = server.requests().len() - 1;
    assert!(
        (2..=9).contains(&polls),
        "polled every 50 ms for 400 ms: {polls} polls"
    );
}
