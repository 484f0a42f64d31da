//! Novita (python-client.md §3.7): chat and text generation are OpenAI-style (the generic
//! engine); text-to-video is Novita's own `POST /v3/hf/{provider_id}` with the body
//! `{"prompt", …params}`, answered synchronously with `{"video": {"video_url": …}}`, whose file
//! the engine downloads without credentials (the table's `asset-url` response at
//! `/video/video_url`; any other answer is `Error::Decode` naming the missing field).
//!
//! `image-text-to-video` (absent from huggingface_hub 2.4.0; the JS client,
//! @huggingface/inference 4.13.30, `providers/novita.ts`) is MiniMax H3 through Novita's MiniMax
//! API, a job:
//! - `POST /v3/minimax/v2/video_generation`, for the provider model id `MiniMax-H3` only (any
//!   other id is refused before anything is sent);
//! - body: the parameters the schema does not turn into MiniMax fields, then `model`, `content`
//!   (the prompt as a `text` part, the image as an `image_url` part with `role: first_frame`),
//!   `resolution` (`768P` or `2K`, from `target_size`), `duration` (seconds, from `num_frames`
//!   at 24 fps, 4 to 15, default 4) and `ratio` (`adaptive` with an image, else the listed ratio
//!   closest to `target_size`, default `16:9`); `resolution`, `duration` and `ratio` given as
//!   parameters (through `extra_body`) win; `extra_body` root fields are merged last;
//! - a non-empty prompt is required (MiniMax H3 refuses a call without one);
//! - the first answer is `{"task_id"}`; `GET /v3/minimax/v2/query/video_generation/{task_id}`
//!   (on the router's `/novita` prefix when routed) with the request's credentials, at once and
//!   then every 5 s, until `task.status` is `succeeded` (the file at `task.content.url` is then
//!   downloaded without credentials), `failed` or `cancelled` ([`Error::JobFailed`] with
//!   `task.error.message`). Other statuses (`queued`, `running`, and any new one) poll on, as in
//!   the JS client.
//!
//! Deliberate differences from the JS client: an http(s) image URL is passed through as the
//! `image_url.url` (MiniMax takes URLs there; the JS client only ever has a `Blob`, which it
//! sends as a `data:` URL, as we do for every other input); polling is bounded by the client's
//! timeout ([`Error::JobTimeout`] with the task id) where the JS client polls forever.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::http::transport::PreparedRequest;
use crate::providers::{Provider, Task};
use crate::routing::Mode;

use super::adapter::{Answer, Call, not_implemented};
use super::jobs::{Job, Phase};

/// The JS client's wait between two polls of a MiniMax job.
const MINIMAX_INTERVAL: Duration = Duration::from_secs(5);

/// The only model Novita serves `image-text-to-video` with (novita.ts).
const MINIMAX_H3: &str = "MiniMax-H3";

/// The aspect ratios MiniMax H3 accepts, in the JS client's order (ties keep the first).
const MINIMAX_RATIOS: [(&str, f64, f64); 6] = [
    ("21:9", 21.0, 9.0),
    ("16:9", 16.0, 9.0),
    ("4:3", 4.0, 3.0),
    ("1:1", 1.0, 1.0),
    ("3:4", 3.0, 4.0),
    ("9:16", 9.0, 16.0),
];

/// Parameters of the task schema that MiniMax does not take (dropped, as the JS client does) or
/// that become MiniMax fields (`prompt`, `num_frames`, `target_size`).
const NOT_SENT_AS_IS: [&str; 7] = [
    "prompt",
    "num_frames",
    "target_size",
    "guidance_scale",
    "negative_prompt",
    "num_inference_steps",
    "seed",
];

/// The tasks this file implements.
pub(crate) fn implements(task: Task) -> bool {
    matches!(task, Task::TextToVideo | Task::ImageTextToVideo)
}

/// The caller's `extra_body` fields at the root (neither `inputs` nor `parameters`).
fn root_extras(call: &Call<'_>) -> Map<String, Value> {
    call.input
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "inputs" | "parameters"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// The request body of a Novita call.
pub(crate) async fn body(call: &Call<'_>) -> Result<Value> {
    match call.task {
        // `{"prompt": text, …params}`; `extra_body` goes with the parameters, at the top level
        // (the reference spreads it into the parameters, python-client.md §3.0). Null members of
        // the top level are dropped (the reference's `filter_none`; no nested objects here).
        Task::TextToVideo => {
            let mut body = Map::new();
            body.insert(
                "prompt".into(),
                call.inputs().cloned().unwrap_or(Value::Null),
            );
            body.extend(call.parameters());
            body.extend(root_extras(call));
            body.retain(|_, v| !v.is_null());
            Ok(Value::Object(body))
        }
        Task::ImageTextToVideo => minimax_body(call).await,
        other => Err(not_implemented(Provider::Novita, other)),
    }
}

/// The MiniMax H3 body (see the module docs).
async fn minimax_body(call: &Call<'_>) -> Result<Value> {
    let model = call.target.provider_model_id.as_deref().unwrap_or_default();
    if model != MINIMAX_H3 {
        return Err(Error::InvalidInput {
            field: "model".into(),
            message: format!(
                "novita serves image-text-to-video with `{MINIMAX_H3}` only; `{}` maps to `{model}`",
                call.target.model
            ),
        });
    }
    let image = super::fal_ai::image_text_input(call)?;
    let mut params = call.parameters();
    params.retain(|_, v| !v.is_null());
    let prompt = params
        .get("prompt")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| Error::InvalidInput {
            field: "prompt".into(),
            message: "novita's MiniMax H3 needs a non-empty `prompt`".into(),
        })?
        .to_owned();
    let size = params
        .get("target_size")
        .and_then(|size| Some((size.get("width")?.as_f64()?, size.get("height")?.as_f64()?)));
    let num_frames = params.get("num_frames").and_then(Value::as_f64);
    let resolution = params
        .shift_remove("resolution")
        .unwrap_or_else(|| json!(resolution_for(size)));
    let duration = params
        .shift_remove("duration")
        .unwrap_or_else(|| json!(duration_for(num_frames)));
    let ratio = params
        .shift_remove("ratio")
        .unwrap_or_else(|| json!(ratio_for(size)));
    params.retain(|key, _| !NOT_SENT_AS_IS.contains(&key.as_str()));

    let mut content = vec![json!({"type": "text", "text": prompt})];
    if let Some(image) = &image {
        let url = call.binary_as_url(image, "image/png").await?;
        content.push(json!({
            "type": "image_url",
            "image_url": {"url": url},
            "role": "first_frame"
        }));
    }
    let mut body = params;
    body.insert("model".into(), Value::String(model.to_owned()));
    body.insert("content".into(), Value::Array(content));
    body.insert("resolution".into(), resolution);
    body.insert("duration".into(), duration);
    body.insert(
        "ratio".into(),
        if image.is_some() {
            json!("adaptive")
        } else {
            ratio
        },
    );
    crate::tasks::merge_json(&mut body, root_extras(call));
    Ok(Value::Object(body))
}

/// `768P` unless the short edge of `target_size` is closer to 1440 than to 768 (`2K`).
fn resolution_for(size: Option<(f64, f64)>) -> &'static str {
    match size {
        Some((width, height)) => {
            let short = width.min(height);
            if (short - 768.0).abs() <= (short - 1440.0).abs() {
                "768P"
            } else {
                "2K"
            }
        }
        None => "768P",
    }
}

/// Seconds of video: `num_frames / 24` rounded half up (JavaScript's `Math.round`), kept in
/// 4..=15; 4 without `num_frames`.
fn duration_for(num_frames: Option<f64>) -> i64 {
    match num_frames {
        // The float is clamped to 4..=15 first, so the cast cannot overflow.
        Some(frames) => (frames / 24.0 + 0.5).floor().clamp(4.0, 15.0) as i64,
        None => 4,
    }
}

/// The listed ratio closest to `target_size` (the first of equally close ones); `16:9`
/// without one.
fn ratio_for(size: Option<(f64, f64)>) -> &'static str {
    let Some((width, height)) = size else {
        return "16:9";
    };
    let target = width / height;
    let mut best = MINIMAX_RATIOS[0];
    for candidate in MINIMAX_RATIOS {
        if (target - candidate.1 / candidate.2).abs() < (target - best.1 / best.2).abs() {
            best = candidate;
        }
    }
    best.0
}

/// No Novita task answers in a shape of its own (both video tasks are `asset-url` entries).
pub(crate) async fn answer(call: &Call<'_>, _last: Value) -> Result<Answer> {
    Err(not_implemented(Provider::Novita, call.task))
}

fn decode_error(message: impl Into<String>, answer: &Value) -> Error {
    Error::Decode {
        target: "novita job answer",
        message: message.into(),
        body_excerpt: answer.to_string().chars().take(1024).collect(),
    }
}

/// What a MiniMax query answer says about the job.
fn minimax_status(answer: &Value) -> Result<(String, Phase)> {
    let status = answer
        .pointer("/task/status")
        .and_then(Value::as_str)
        .ok_or_else(|| decode_error("no `task.status` in the job answer", answer))?;
    let phase = match status {
        "succeeded" => Phase::Done,
        "failed" | "cancelled" => Phase::Failed(
            answer
                .pointer("/task/error/message")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .map_or_else(|| format!("Novita task {status}"), str::to_owned),
        ),
        // `queued`, `running`, and statuses this SDK does not know: the job goes on.
        _ => Phase::Running,
    };
    Ok((status.to_owned(), phase))
}

/// Follows a MiniMax job from its first answer (`{"task_id"}`) to the `succeeded` answer.
pub(crate) async fn follow_minimax(
    call: &Call<'_>,
    request: &PreparedRequest,
    first: Value,
) -> Result<Value> {
    let id = first
        .get("task_id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| decode_error("no `task_id` in the answer", &first))?;
    let provider = call.provider()?;
    let inner = &call.client.inner;
    let base = match call.target.mode {
        Mode::Routed => crate::config::join_route(
            &inner.endpoints.router,
            provider.spec().routed_prefix.unwrap_or("/novita"),
            None,
        ),
        _ => inner
            .endpoints
            .provider_host(provider.spec(), call.spec()?.host.unwrap_or("api"))?,
    };
    let mut url = crate::config::join_route(&base, "/v3/minimax/v2/query/video_generation", None);
    // One path segment, percent-encoded (the JS client's `encodeURIComponent`).
    url.path_segments_mut()
        .map_err(|()| Error::Config(format!("`{base}` cannot take a path")))?
        .push(id);
    let mut job = Job::new(call, id, MINIMAX_INTERVAL);
    let poll = job.poll_request(url, request);
    job.poll_until(&poll, true, minimax_status).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimax_fields_from_the_schema_parameters() {
        assert_eq!(resolution_for(None), "768P");
        assert_eq!(resolution_for(Some((1280.0, 720.0))), "768P");
        assert_eq!(
            resolution_for(Some((1104.0, 1104.0))),
            "768P",
            "a tie is 768P"
        );
        assert_eq!(resolution_for(Some((2560.0, 1440.0))), "2K");
        assert_eq!(duration_for(None), 4);
        assert_eq!(duration_for(Some(24.0)), 4, "at least 4 s");
        assert_eq!(duration_for(Some(156.0)), 7, "6.5 rounds up");
        assert_eq!(duration_for(Some(155.0)), 6);
        assert_eq!(duration_for(Some(1000.0)), 15, "at most 15 s");
        assert_eq!(ratio_for(None), "16:9");
        assert_eq!(ratio_for(Some((1280.0, 720.0))), "16:9");
        assert_eq!(ratio_for(Some((720.0, 1280.0))), "9:16");
        assert_eq!(ratio_for(Some((512.0, 512.0))), "1:1");
        assert_eq!(ratio_for(Some((2560.0, 1080.0))), "21:9");
        assert_eq!(ratio_for(Some((1024.0, 768.0))), "4:3");
    }

    #[test]
    fn minimax_statuses() {
        for (status, running, done, failed) in [
            ("queued", true, false, false),
            ("running", true, false, false),
            ("preparing", true, false, false),
            ("succeeded", false, true, false),
            ("failed", false, false, true),
            ("cancelled", false, false, true),
        ] {
            let (text, phase) = minimax_status(&json!({"task": {"status": status}})).unwrap();
            assert_eq!(text, status);
            assert_eq!(matches!(phase, Phase::Running), running, "{status}");
            assert_eq!(matches!(phase, Phase::Done), done, "{status}");
            assert_eq!(matches!(phase, Phase::Failed(_)), failed, "{status}");
        }
        let failed = json!({"task": {"status": "failed", "error": {"message": "content flagged"}}});
        assert!(
            matches!(minimax_status(&failed), Ok((_, Phase::Failed(m))) if m == "content flagged")
        );
        let cancelled = json!({"task": {"status": "cancelled"}});
        assert!(
            matches!(minimax_status(&cancelled), Ok((_, Phase::Failed(m))) if m == "Novita task cancelled")
        );
        for bad in [
            json!({}),
            json!({"task": {}}),
            json!({"task": {"status": 1}}),
        ] {
            assert!(
                matches!(minimax_status(&bad), Err(Error::Decode { .. })),
                "{bad}"
            );
        }
    }
}
