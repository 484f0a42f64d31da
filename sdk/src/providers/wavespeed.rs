//! WaveSpeedAI (python-client.md §3.11): text-to-image, text-to-video, image-to-image and
//! image-to-video, all as jobs.
//!
//! - Body: `{"prompt", …params}` (text tasks; parameter names untouched), or
//!   `{"image": <URL or data: URL>, …params, "prompt"}` (image tasks; `prompt` last). Fields of
//!   `extra_body` are merged last, verbatim.
//! - The first answer carries `data.urls.get`; the job is polled at that URL's **path** on the
//!   router (`{router}/wavespeed`) when routed, else on the provider's host, with the request's
//!   headers (its credentials included: it is the same host), every 0.5 s by default.
//! - `data.status`: `created` / `processing` continue, `completed` is the final answer (the
//!   table's `asset-url` pointer `/data/outputs/0` is then downloaded without credentials),
//!   `failed` is [`Error::JobFailed`] with `data.error`, anything else is [`Error::Decode`].
//!
//! Deliberate differences from the reference:
//! - polling is bounded by the client's timeout (the reference polls forever), see
//!   [`super::jobs`];
//! - a binary image that is not an http(s) URL is sent as a `data:` URL with its own content
//!   type (given, sniffed or from the file name), `image/jpeg` only when unknown; the reference
//!   labels every image `image/jpeg`, whatever its format;
//! - the first answer's `data.status` (usually `created`) is reported to `on_status`, and a
//!   first answer with `data.status = failed` ends the job at once.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::http::transport::PreparedRequest;
use crate::providers::{Provider, Task};
use crate::routing::Mode;

use super::adapter::{Answer, Call, not_implemented};
use super::jobs::{Job, Phase};

/// WaveSpeed's own poll interval (python-client.md §3.15).
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// The tasks this file implements.
pub(crate) fn implements(task: Task) -> bool {
    matches!(
        task,
        Task::TextToImage
            | Task::TextToVideo
            | Task::ImageToImage
            | Task::ImageToVideo
            | Task::ImageTextToImage
            | Task::ImageTextToVideo
    )
}

/// A 1x1 fully transparent PNG: the image of an image-text call made without one, as the JS
/// client sends it (@huggingface/inference 4.13.30, wavespeed.ts:280-287).
const TRANSPARENT_1PX_PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

/// Fields of `extra_body` that are neither `inputs` nor `parameters` (merged into the body last).
fn extras(call: &Call<'_>) -> Map<String, Value> {
    call.input
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "inputs" | "parameters"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// The request body.
pub(crate) async fn body(call: &Call<'_>) -> Result<Value> {
    let mut params = call.parameters();
    let mut body = Map::new();
    match call.task {
        Task::TextToImage | Task::TextToVideo => {
            body.insert(
                "prompt".into(),
                call.inputs().cloned().unwrap_or(Value::Null),
            );
            body.extend(params);
        }
        Task::ImageToImage | Task::ImageToVideo => {
            let image = call.first_binary().ok_or_else(|| Error::InvalidInput {
                field: "inputs".into(),
                message: "the task needs an image".into(),
            })?;
            let image = call.binary_as_url(image, "image/jpeg").await?;
            body.insert("image".into(), Value::String(image));
            let prompt = params.shift_remove("prompt");
            body.extend(params);
            if let Some(prompt) = prompt {
                body.insert("prompt".into(), prompt);
            }
        }
        // The JS client (wavespeed.ts:77-125, 239-244, 289-309): `image` is the image as bare
        // base64 (an http(s) URL is passed through), `images` the caller's own list of strings
        // (`images` at the root or in the parameters) or else `[image]`; then the parameters but
        // `images`, `prompt` among them; without an image, a transparent 1x1 PNG. A LoRA
        // adapter adds `loras: [{"path": <Hub id>, "scale": 1}]`.
        Task::ImageTextToImage | Task::ImageTextToVideo => {
            let image = match super::fal_ai::image_text_input(call)? {
                Some(input) => match input.url() {
                    Some(url) => url.to_owned(),
                    None => input.load(&call.client.inner.http).await?.to_base64(),
                },
                None => TRANSPARENT_1PX_PNG_BASE64.to_owned(),
            };
            let own_images = call
                .input
                .get("images")
                .filter(|v| !v.is_null())
                .or_else(|| params.get("images"))
                .filter(|v| {
                    v.as_array()
                        .is_some_and(|items| items.iter().all(Value::is_string))
                })
                .cloned();
            params.shift_remove("images");
            body.insert("image".into(), Value::String(image.clone()));
            body.insert(
                "images".into(),
                own_images.unwrap_or_else(|| Value::Array(vec![Value::String(image)])),
            );
            body.extend(params);
            if call.target.lora_weights_path.is_some() {
                body.insert(
                    "loras".into(),
                    serde_json::json!([{"path": call.target.model, "scale": 1}]),
                );
            }
        }
        other => return Err(not_implemented(Provider::Wavespeed, other)),
    }
    crate::tasks::merge_json(&mut body, extras(call));
    Ok(Value::Object(body))
}

/// Answers whose shape is the provider's own (none: the table's `asset-url` applies).
pub(crate) async fn answer(call: &Call<'_>, _last: Value) -> Result<Answer> {
    Err(not_implemented(Provider::Wavespeed, call.task))
}

fn decode_error(message: impl Into<String>, answer: &Value) -> Error {
    Error::Decode {
        target: "wavespeed job answer",
        message: message.into(),
        body_excerpt: answer.to_string().chars().take(1024).collect(),
    }
}

/// Where the job's result is polled: the path of `data.urls.get` on the router's
/// `/wavespeed` prefix (routed) or on the provider's host (direct).
fn result_url(call: &Call<'_>, first: &Value) -> Result<url::Url> {
    let get = first
        .pointer("/data/urls/get")
        .and_then(Value::as_str)
        .ok_or_else(|| decode_error("no `data.urls.get` (result URL) in the answer", first))?;
    let path = url::Url::parse(get)
        .map_err(|e| decode_error(format!("`data.urls.get` is not a URL: {e}"), first))?
        .path()
        .to_owned();
    let provider = call.provider()?;
    let inner = &call.client.inner;
    let base = match call.target.mode {
        Mode::Routed => crate::config::join_route(
            &inner.endpoints.router,
            provider.spec().routed_prefix.unwrap_or("/wavespeed"),
            None,
        ),
        _ => inner
            .endpoints
            .provider_host(provider.spec(), call.spec()?.host.unwrap_or("api"))?,
    };
    Ok(crate::config::join_route(&base, &path, None))
}

/// What a `data.status` says; a `failed` job carries `data.error`.
fn status_of(answer: &Value) -> Result<(String, Phase)> {
    let status = answer
        .pointer("/data/status")
        .and_then(Value::as_str)
        .ok_or_else(|| decode_error("no `data.status` in the job answer", answer))?;
    let phase = match status {
        "created" | "processing" => Phase::Running,
        "completed" => Phase::Done,
        "failed" => Phase::Failed(failure_message(answer)),
        other => {
            return Err(decode_error(
                format!("unknown job status `{other}`"),
                answer,
            ));
        }
    };
    Ok((status.to_owned(), phase))
}

fn failure_message(answer: &Value) -> String {
    match answer.pointer("/data/error") {
        Some(Value::String(text)) if !text.is_empty() => text.clone(),
        Some(Value::Null) | None => "WaveSpeed AI task failed".to_owned(),
        Some(Value::String(_)) => "WaveSpeed AI task failed".to_owned(),
        Some(other) => other.to_string(),
    }
}

/// Follows a WaveSpeed job from its first answer to the `completed` answer.
pub(crate) async fn follow(
    call: &Call<'_>,
    request: &PreparedRequest,
    first: Value,
) -> Result<Value> {
    let url = result_url(call, &first)?;
    let id = first
        .pointer("/data/id")
        .and_then(Value::as_str)
        .map_or_else(|| url.path().to_owned(), str::to_owned);
    let mut job = Job::new(call, id, POLL_INTERVAL);
    if first.pointer("/data/status").is_some() {
        let (status, phase) = status_of(&first)?;
        job.report(&status);
        if let Phase::Failed(message) = phase {
            return Err(job.failed(message));
        }
    }
    // As in the reference, the result URL is always polled, even after a first `completed`.
    let poll = job.poll_request(url, request);
    job.poll_until(&poll, false, status_of).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses() {
        for (status, running, completed, failed) in [
            ("created", true, false, false),
            ("processing", true, false, false),
            ("completed", false, true, false),
            ("failed", false, false, true),
        ] {
            let (text, meaning) = status_of(&json!({"data": {"status": status}})).unwrap();
            assert_eq!(text, status);
            assert_eq!(matches!(meaning, Phase::Running), running, "{status}");
            assert_eq!(matches!(meaning, Phase::Done), completed, "{status}");
            assert_eq!(matches!(meaning, Phase::Failed(_)), failed, "{status}");
        }
        for bad in [
            json!({"data": {"status": "weird"}}),
            json!({"data": {}}),
            json!({"data": {"status": 3}}),
            json!([]),
        ] {
            assert!(
                matches!(status_of(&bad), Err(Error::Decode { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn failure_messages() {
        assert_eq!(
            failure_message(&json!({"data": {"error": "NSFW content"}})),
            "NSFW content"
        );
        assert_eq!(
            failure_message(&json!({"data": {"error": ""}})),
            "WaveSpeed AI task failed"
        );
        assert_eq!(
            failure_message(&json!({"data": {}})),
            "WaveSpeed AI task failed"
        );
        assert_eq!(
            failure_message(&json!({"data": {"error": {"code": 1}}})),
            r#"{"code":1}"#
        );
    }
}
