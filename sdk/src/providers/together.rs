//! Together (python-client.md §3.6): images on `/v1/images/generations` answered as base64 in
//! JSON, videos on `/v2/videos` as a job polled at `{request url}/{id}`. Chat, completions,
//! embeddings and speech use the generic OpenAI-style formats of the table and never reach this
//! file.
//!
//! Bodies follow the reference 2.4.0 field for field:
//! - text-to-image: `{"prompt", "response_format": "base64", …params, "model"}`,
//!   `num_inference_steps` sent as `steps` (2.4.0 keeps `guidance_scale`; rc6 renamed it);
//! - image-to-image: `{"prompt" (or ""), IMAGE, "response_format": "base64", …params,
//!   "model"}`, IMAGE = `"image_url": U` for FLUX.1 Kontext ids, else `"reference_images": [U]`,
//!   U = the image's http(s) URL or a `data:` URL (default type `image/jpeg`);
//! - text-to-video: `{"prompt", "model", …params}`; image-to-video: `{"model", "frame_images":
//!   [{"input_image": U (default `image/png`), "frame": "first"}], …params}`; both send
//!   `num_inference_steps` as `steps` and flatten `target_size` into `width` / `height`.
//!
//! "params" are the task parameters with the call's `extra_body` fields added (the reference
//! spreads `extra_body` into the parameters), `null`s removed as the reference's `filter_none`
//! does.
//!
//! Deliberate differences, all in the video job ([`follow_video`]):
//! - polling is bounded by time (the client's timeout, else the jobs default) and ends in
//!   `Error::JobTimeout` with the job id, instead of the reference's 150 polls;
//! - a first answer that is already `completed` with its video URL is taken as final (the
//!   reference always polls at least once);
//! - a job that answers no status is reported to `on_status` as `pending`.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::http::transport::PreparedRequest;
use crate::providers::{Provider, Task};

use super::adapter::{Answer, Call, not_implemented};
use super::jobs::Job;

/// Together's video poll interval (python-client.md §3.15).
const VIDEO_INTERVAL: Duration = Duration::from_secs(2);

/// What `on_status` sees for a job answer without a `status`.
const NO_STATUS: &str = "pending";

/// The tasks this file implements.
pub(crate) fn implements(task: Task) -> bool {
    matches!(
        task,
        Task::TextToImage | Task::ImageToImage | Task::TextToVideo | Task::ImageToVideo
    )
}

/// The request body.
pub(crate) async fn body(call: &Call<'_>) -> Result<Value> {
    let mut params = call.wire_parameters();
    let model = call.target.provider_model_id.as_deref();
    match call.task {
        Task::TextToImage => Ok(text_to_image_body(text(call), params, model)),
        Task::ImageToImage => {
            let image = call
                .first_binary()
                .ok_or_else(|| missing_image(call.task))?;
            let url = call.binary_as_url(image, "image/jpeg").await?;
            let prompt = params
                .shift_remove("prompt")
                .filter(|p| !p.is_null())
                .unwrap_or_else(|| Value::String(String::new()));
            Ok(image_to_image_body(prompt, url, params, model))
        }
        Task::TextToVideo => {
            let mut body = Map::new();
            body.insert("prompt".into(), text(call));
            insert_model(&mut body, model);
            normalize_video_parameters(&mut params)?;
            body.extend(params);
            Ok(Value::Object(body))
        }
        Task::ImageToVideo => {
            let image = call
                .first_binary()
                .ok_or_else(|| missing_image(call.task))?;
            let url = call.binary_as_url(image, "image/png").await?;
            let mut body = Map::new();
            insert_model(&mut body, model);
            body.insert(
                "frame_images".into(),
                json!([{"input_image": url, "frame": "first"}]),
            );
            normalize_video_parameters(&mut params)?;
            body.extend(params);
            Ok(Value::Object(body))
        }
        other => Err(not_implemented(Provider::Together, other)),
    }
}

/// Answers whose shape is the provider's own (none: every Together entry of this file answers
/// base64 or a file URL, which the adapter reads from the table).
pub(crate) async fn answer(call: &Call<'_>, _last: Value) -> Result<Answer> {
    Err(not_implemented(Provider::Together, call.task))
}

/// `{"prompt", "response_format": "base64", …params (num_inference_steps → steps), "model"}`.
fn text_to_image_body(prompt: Value, mut params: Map<String, Value>, model: Option<&str>) -> Value {
    rename(&mut params, "num_inference_steps", "steps");
    let mut body = Map::new();
    body.insert("prompt".into(), prompt);
    body.insert("response_format".into(), Value::String("base64".into()));
    body.extend(params);
    insert_model(&mut body, model);
    Value::Object(body)
}

/// `{"prompt", IMAGE, "response_format": "base64", …params (num_inference_steps → steps),
/// "model"}`.
fn image_to_image_body(
    prompt: Value,
    image_url: String,
    mut params: Map<String, Value>,
    model: Option<&str>,
) -> Value {
    rename(&mut params, "num_inference_steps", "steps");
    let mut body = Map::new();
    body.insert("prompt".into(), prompt);
    if model.is_some_and(is_flux_kontext) {
        body.insert("image_url".into(), Value::String(image_url));
    } else {
        body.insert("reference_images".into(), json!([image_url]));
    }
    body.insert("response_format".into(), Value::String("base64".into()));
    body.extend(params);
    insert_model(&mut body, model);
    Value::Object(body)
}

/// FLUX.1 Kontext models take one `image_url`; the others a list of `reference_images`.
fn is_flux_kontext(provider_id: &str) -> bool {
    let id = provider_id.to_lowercase();
    id.contains("kontext") && id.contains("flux.1")
}

/// `num_inference_steps` → `steps`; `target_size` `{width, height}` → `width`, `height`.
fn normalize_video_parameters(params: &mut Map<String, Value>) -> Result<()> {
    rename(params, "num_inference_steps", "steps");
    if let Some(size) = params.shift_remove("target_size") {
        let Value::Object(size) = size else {
            return Err(Error::InvalidInput {
                field: "target_size".into(),
                message: format!("expected an object with `width` and `height`, got {size}"),
            });
        };
        for key in ["width", "height"] {
            if let Some(value) = size.get(key) {
                params.insert(key.into(), value.clone());
            }
        }
    }
    Ok(())
}

/// The Together video job (python-client.md §3.6, §3.15): the POST answers `{"id", "status"}`;
/// `GET {request url}/{id}` every 2 s while the status is `queued`, `in_progress` or missing;
/// `failed` is a [`Error::JobFailed`] with `error.message`; `completed` is final, its
/// `outputs.video_url` then downloaded (without credentials) by the adapter. Polls carry the
/// request's headers (same host). See the module documentation for the differences from the
/// reference.
pub(crate) async fn follow_video(
    call: &Call<'_>,
    request: &PreparedRequest,
    first: Value,
) -> Result<Value> {
    let id = first
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Error::Decode {
            target: "Together video job",
            message: "the video request was answered without a job `id`".into(),
            body_excerpt: excerpt(&first),
        })?
        .to_owned();
    let mut poll_url = request.url.clone();
    poll_url
        .path_segments_mut()
        .map_err(|()| Error::Config(format!("cannot poll below `{}`", request.url)))?
        .pop_if_empty()
        .push(&id);

    let mut job = Job::new(call, id.as_str(), VIDEO_INTERVAL);
    let mut answer = first;
    let mut first_answer = true;
    loop {
        let status = answer.get("status").and_then(Value::as_str);
        job.report(status.unwrap_or(NO_STATUS));
        match status {
            None | Some("queued" | "in_progress") => {}
            Some("completed") if has_video_url(&answer) => return Ok(answer),
            // The job is done, but not this answer's copy of it: ask once more.
            Some("completed") if first_answer => {}
            Some("completed") => {
                return Err(Error::Decode {
                    target: "Together video job",
                    message: format!("job {id} completed without `outputs.video_url` (a string)"),
                    body_excerpt: excerpt(&answer),
                });
            }
            Some("failed") => return Err(job.failed(failure_message(&answer))),
            Some(other) => {
                return Err(job.failed(format!("unexpected Together video job status `{other}`")));
            }
        }
        first_answer = false;
        job.wait().await?;
        answer = job.get_json(poll_url.clone(), request).await?;
    }
}

fn has_video_url(answer: &Value) -> bool {
    answer
        .pointer("/outputs/video_url")
        .and_then(Value::as_str)
        .is_some_and(|url| !url.is_empty())
}

/// `error.message` of a failed job (or `error` itself when it is a string).
fn failure_message(answer: &Value) -> String {
    match answer.get("error") {
        Some(Value::Object(error)) => match error.get("message") {
            Some(Value::String(message)) => message.clone(),
            _ => format!("the job failed: {}", Value::Object(error.clone())),
        },
        Some(Value::String(message)) => message.clone(),
        _ => "the job failed without a reason".into(),
    }
}

fn excerpt(value: &Value) -> String {
    value.to_string().chars().take(1024).collect()
}

fn text(call: &Call<'_>) -> Value {
    call.inputs().cloned().unwrap_or(Value::Null)
}

fn missing_image(task: Task) -> Error {
    Error::InvalidInput {
        field: "inputs".into(),
        message: format!("`{task}` needs an image input"),
    }
}

fn rename(params: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(value) = params.shift_remove(from) {
        params.insert(to.into(), value);
    }
}

/// Sets `model` to the provider's model id (last, so it wins over a `model` parameter, as in
/// the reference).
pub(super) fn insert_model(body: &mut Map<String, Value>, model: Option<&str>) {
    if let Some(model) = model {
        body.shift_remove("model");
        body.insert("model".into(), Value::String(model.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn text_to_image_renames_steps_keeps_guidance_and_sets_the_model_last() {
        let body = text_to_image_body(
            json!("a tortoise"),
            params(json!({"num_inference_steps": 4, "guidance_scale": 3.5, "model": "other"})),
            Some("black-forest-labs/FLUX.1-schnell"),
        );
        assert_eq!(
            body,
            json!({
                "prompt": "a tortoise",
                "response_format": "base64",
                "steps": 4,
                "guidance_scale": 3.5,
                "model": "black-forest-labs/FLUX.1-schnell"
            })
        );
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys.first().map(|k| k.as_str()), Some("prompt"));
        assert_eq!(keys.last().map(|k| k.as_str()), Some("model"));
    }

    #[test]
    fn kontext_ids_take_one_image_url_others_reference_images() {
        assert!(is_flux_kontext("black-forest-labs/FLUX.1-kontext-pro"));
        assert!(is_flux_kontext("Black-Forest-Labs/flux.1-KONTEXT-dev"));
        assert!(!is_flux_kontext("black-forest-labs/FLUX.2-kontext"));
        assert!(!is_flux_kontext("black-forest-labs/FLUX.1-schnell"));

        let kontext = image_to_image_body(
            json!(""),
            "data:image/jpeg;base64,AQID".into(),
            params(json!({"num_inference_steps": 28})),
            Some("black-forest-labs/FLUX.1-kontext-pro"),
        );
        assert_eq!(
            kontext,
            json!({
                "prompt": "",
                "image_url": "data:image/jpeg;base64,AQID",
                "response_format": "base64",
                "steps": 28,
                "model": "black-forest-labs/FLUX.1-kontext-pro"
            })
        );
        let other = image_to_image_body(
            json!("make it blue"),
            "https://example.com/cat.png".into(),
            Map::new(),
            Some("Qwen/Qwen-Image-Edit"),
        );
        assert_eq!(
            other,
            json!({
                "prompt": "make it blue",
                "reference_images": ["https://example.com/cat.png"],
                "response_format": "base64",
                "model": "Qwen/Qwen-Image-Edit"
            })
        );
    }

    #[test]
    fn video_parameters_rename_steps_and_flatten_the_target_size() {
        let mut p = params(json!({
            "num_inference_steps": 20,
            "target_size": {"width": 1280, "height": 720},
            "seed": 7
        }));
        normalize_video_parameters(&mut p).unwrap();
        assert_eq!(
            Value::Object(p),
            json!({"steps": 20, "seed": 7, "width": 1280, "height": 720})
        );

        let mut bad = params(json!({"target_size": "1280x720"}));
        let err = normalize_video_parameters(&mut bad).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field, .. } if field == "target_size"),
            "{err:?}"
        );
    }

    #[test]
    fn failure_messages_come_from_error_message() {
        assert_eq!(
            failure_message(&json!({"status": "failed", "error": {"message": "NSFW content"}})),
            "NSFW content"
        );
        assert_eq!(
            failure_message(&json!({"status": "failed", "error": "quota exceeded"})),
            "quota exceeded"
        );
        assert_eq!(
            failure_message(&json!({"status": "failed"})),
            "the job failed without a reason"
        );
        assert!(failure_message(&json!({"error": {"code": 3}})).contains("\"code\":3"));
    }

    #[test]
    fn nulls_are_filtered_like_the_reference() {
        let filtered = super::super::adapter::filter_none(Value::Object(params(json!({
            "a": null,
            "b": {"c": null, "d": 1},
            "e": [null, {"f": null}],
            "g": 0,
            "h": ""
        }))));
        assert_eq!(
            filtered,
            json!({"b": {"d": 1}, "e": [null, {}], "g": 0, "h": ""})
        );
    }

    #[test]
    fn only_complete_answers_carry_a_video_url() {
        assert!(has_video_url(
            &json!({"outputs": {"video_url": "https://x/v.mp4"}})
        ));
        assert!(!has_video_url(&json!({"outputs": {"video_url": ""}})));
        assert!(!has_video_url(&json!({"outputs": {}})));
        assert!(!has_video_url(&json!({"outputs": {"video_url": 3}})));
    }
}
