//! fal.ai: bodies named after each model's own inputs (`prompt`, `text`, `image_url`,
//! `audio_url`), files answered as URLs, and a queue for the slow tasks (python-client.md §3.4).

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::binary::BinaryInput;
use crate::error::{Error, Result};
use crate::http::transport::PreparedRequest;
use crate::providers::Task;
use crate::routing::Mode;

use super::adapter::{Answer, Call};
use super::jobs::Job;

/// fal's own poll interval.
const QUEUE_INTERVAL: Duration = Duration::from_millis(500);

/// The tasks this file implements.
pub(crate) fn implements(task: Task) -> bool {
    matches!(
        task,
        Task::TextToImage
            | Task::TextToSpeech
            | Task::AutomaticSpeechRecognition
            | Task::TextToVideo
            | Task::ImageToVideo
            | Task::ImageToImage
            | Task::ImageSegmentation
            | Task::ImageTextToImage
            | Task::ImageTextToVideo
    )
}

fn text(call: &Call<'_>) -> Value {
    call.inputs().cloned().unwrap_or(Value::Null)
}

/// The request body of a fal call: the task's own fields, the parameters at the root (renamed
/// where fal names them differently), then `sync_mode`, then what the caller put at the root
/// with `extra_body` (merged last: it wins). The reference spreads its `extra_body` at the root
/// too (python-client.md §3.0: it joins the parameters, which fal spreads at the root).
pub(crate) async fn body(call: &Call<'_>) -> Result<Value> {
    let mut params = call.parameters();
    let mut body = Map::new();
    match call.task {
        Task::TextToVideo => {
            body.insert("prompt".into(), text(call));
        }
        Task::TextToImage => {
            body.insert("prompt".into(), text(call));
            // fal takes the size as one object (text-to-image only, §3.4).
            if let (Some(width), Some(height)) = (params.get("width"), params.get("height")) {
                let size = json!({"width": width, "height": height});
                params.shift_remove("width");
                params.shift_remove("height");
                body.insert("image_size".into(), size);
            }
        }
        Task::TextToSpeech => {
            body.insert("text".into(), text(call));
        }
        Task::AutomaticSpeechRecognition => {
            let audio = call.first_binary().ok_or_else(missing_input)?;
            body.insert(
                "audio_url".into(),
                Value::String(call.binary_as_url(audio, "audio/mpeg").await?),
            );
        }
        Task::ImageToVideo => {
            let image = call.first_binary().ok_or_else(missing_input)?;
            body.insert(
                "image_url".into(),
                Value::String(call.binary_as_url(image, "image/jpeg").await?),
            );
        }
        Task::ImageToImage => {
            let image = call.first_binary().ok_or_else(missing_input)?;
            let url = call.binary_as_url(image, "image/jpeg").await?;
            body.insert("image_url".into(), Value::String(url.clone()));
            body.insert("image_urls".into(), json!([url]));
            if let Some(size) = params.shift_remove("target_size") {
                params.insert("image_size".into(), size);
            }
        }
        Task::ImageSegmentation => {
            let image = call.first_binary().ok_or_else(missing_input)?;
            body.insert(
                "image_url".into(),
                Value::String(call.binary_as_url(image, "image/png").await?),
            );
        }
        // The JS client (@huggingface/inference 4.13.30, fal-ai.ts:328-340 and 381-391): the
        // parameters at the root, then the image as `image_url` and `image_urls: [image_url]`
        // (a `data:` URL, `image/png` when the type is unknown); without an image, the
        // parameters alone (`prompt` among them). `target_size` is not renamed here.
        Task::ImageTextToImage => {
            let image = image_text_input(call)?;
            body.extend(std::mem::take(&mut params));
            if let Some(image) = image {
                let url = call.binary_as_url(&image, "image/png").await?;
                body.insert("image_url".into(), Value::String(url.clone()));
                body.insert("image_urls".into(), json!([url]));
            }
        }
        // fal-ai.ts:479-489 and 460-476 (with an image: `image_url` first, never overridden by
        // a parameter), 530-540 (without: the parameters alone).
        Task::ImageTextToVideo => {
            if let Some(image) = image_text_input(call)? {
                let url = call.binary_as_url(&image, "image/png").await?;
                body.insert("image_url".into(), Value::String(url));
                params.shift_remove("image_url");
            }
        }
        other => {
            return Err(super::adapter::not_implemented(
                crate::providers::Provider::FalAi,
                other,
            ));
        }
    }
    body.extend(params);
    // `sync_mode` makes fal answer the file inline as a `data:` URL instead of a CDN link: one
    // request instead of two (the JS client does this for images; segmentation needs it). Set
    // after the parameters, as both reference clients do.
    if matches!(call.task, Task::TextToImage | Task::ImageSegmentation) {
        body.insert("sync_mode".into(), Value::Bool(true));
    }
    // A LoRA adapter (the Hub mapping's `adapterWeightsPath`): fal loads the weights from the
    // Hub repository (python-client.md §3.4; 2.4.0 does it for every generation task).
    if let Some(path) = &call.target.lora_weights_path
        && matches!(
            call.task,
            Task::TextToImage
                | Task::TextToVideo
                | Task::ImageToVideo
                | Task::ImageToImage
                | Task::ImageTextToImage
                | Task::ImageTextToVideo
        )
    {
        let hub = call
            .client
            .inner
            .endpoints
            .hub()
            .as_str()
            .trim_end_matches('/');
        let url = format!("{hub}/{}/resolve/main/{path}", call.target.model);
        body.insert("loras".into(), json!([{"path": url, "scale": 1}]));
        // (The JS client names the base model for text-to-image only, fal-ai.ts:264-266.)
        if call.target.provider_model_id.as_deref() == Some("fal-ai/lora")
            && !matches!(call.task, Task::ImageTextToImage | Task::ImageTextToVideo)
        {
            body.insert(
                "model_name".into(),
                Value::String("stabilityai/stable-diffusion-xl-base-1.0".into()),
            );
        }
    }
    // The caller's `extra_body` fields other than `inputs` / `parameters` (already read above).
    let extra: Map<String, Value> = call
        .input
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "inputs" | "parameters"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    crate::tasks::merge_json(&mut body, extra);
    Ok(Value::Object(body))
}

/// The optional image of `image-text-to-image` / `image-text-to-video` (shared with
/// wavespeed.rs and novita.rs): the binary input the generated `.inputs(…)` setter attached.
/// The schema's rule "either inputs (image) or prompt (in parameters) must be provided" is
/// checked here, before anything is sent; an `inputs` given through `extra_body` instead of the
/// setter is refused rather than silently dropped.
pub(super) fn image_text_input(call: &Call<'_>) -> Result<Option<BinaryInput>> {
    let invalid = |message: String| Error::InvalidInput {
        field: "inputs".into(),
        message,
    };
    let image = call.first_binary().cloned();
    if image.is_none() && call.inputs().is_some_and(|v| !v.is_null()) {
        return Err(invalid(
            "give the image to the `.inputs(…)` setter (bytes, a path, a URL or a `data:` URL), \
             not in `extra_body`"
                .into(),
        ));
    }
    let has_prompt = call
        .parameters()
        .get("prompt")
        .and_then(Value::as_str)
        .is_some_and(|p| !p.trim().is_empty());
    if image.is_none() && !has_prompt {
        return Err(invalid(format!(
            "{} needs an image (`inputs`) or a `prompt`, or both",
            call.task
        )));
    }
    Ok(image)
}

/// The URL of a prompt-only `image-text-to-image` / `image-text-to-video` call made directly:
/// fal apps serve the image+text variant one path segment below the text-only one
/// (`fal-ai/flux-2/edit` and `fal-ai/flux-2`), and the Hub maps the task to the deeper one, so
/// without an image the last segment is dropped, as the JS client does (@huggingface/inference
/// 4.13.30, `dropEndpointSegmentOnDirectCalls` in fal-ai.ts). Routed calls keep the mapped id:
/// the router resolves the mapping from that path. Unlike the JS client, an id of two segments
/// (`owner/app`, already the app's root) is kept: dropping one would leave the owner alone, a
/// path no fal app has.
pub(crate) fn adjust_url(call: &Call<'_>, request: &mut PreparedRequest) {
    let prompt_only = matches!(call.task, Task::ImageTextToImage | Task::ImageTextToVideo)
        && call.first_binary().is_none();
    if !prompt_only || call.target.mode != Mode::Direct {
        return;
    }
    let Some(id) = call.target.provider_model_id.as_deref() else {
        return;
    };
    let Some((parent, last)) = id.trim_matches('/').rsplit_once('/') else {
        return;
    };
    if !parent.contains('/') {
        return;
    }
    let path = request.url.path().to_owned();
    if let Some(base) = path.strip_suffix(last).and_then(|p| p.strip_suffix('/')) {
        request.url.set_path(base);
    }
}

fn missing_input() -> Error {
    Error::InvalidInput {
        field: "inputs".into(),
        message: "the task needs an image or audio input".into(),
    }
}

/// Answers whose shape is fal's own: transcription text, segmentation masks.
pub(crate) async fn answer(call: &Call<'_>, last: Value) -> Result<Answer> {
    match call.task {
        Task::AutomaticSpeechRecognition => {
            let text = last
                .get("text")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::Decode {
                    target: "AutomaticSpeechRecognitionOutput",
                    message: "fal-ai answered without a `text` string".into(),
                    body_excerpt: last.to_string().chars().take(1024).collect(),
                })?;
            Ok(Answer::Json(json!({"text": text})))
        }
        Task::ImageSegmentation => {
            let url = last
                .pointer("/image/url")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::Decode {
                    target: "ImageSegmentationOutput",
                    message: "fal-ai answered without `image.url`".into(),
                    body_excerpt: last.to_string().chars().take(1024).collect(),
                })?;
            let mask = call.download(url).await?;
            Ok(Answer::Json(
                json!([{"label": "mask", "mask": mask.to_base64()}]),
            ))
        }
        other => Err(super::adapter::not_implemented(
            crate::providers::Provider::FalAi,
            other,
        )),
    }
}

/// The fal queue: the first answer carries `request_id` and `response_url`; poll
/// `…/status` until `COMPLETED`, then fetch the result (python-client.md §3.4).
pub(crate) async fn follow_queue(
    call: &Call<'_>,
    request: &PreparedRequest,
    first: Value,
) -> Result<Value> {
    let id = first
        .get("request_id")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Decode {
            target: "fal queue answer",
            message: "no `request_id` in the queue answer".into(),
            body_excerpt: first.to_string().chars().take(1024).collect(),
        })?;
    let path = first
        .get("response_url")
        .and_then(Value::as_str)
        .and_then(|u| url::Url::parse(u).ok())
        .map(|u| u.path().to_owned())
        .ok_or_else(|| Error::Decode {
            target: "fal queue answer",
            message: "no valid `response_url` in the queue answer".into(),
            body_excerpt: first.to_string().chars().take(1024).collect(),
        })?;
    let inner = &call.client.inner;
    let base = match call.target.mode {
        Mode::Routed => crate::config::join_route(
            &inner.endpoints.router,
            call.provider()?.spec().routed_prefix.unwrap_or("/fal-ai"),
            None,
        ),
        _ => inner
            .endpoints
            .provider_host(call.provider()?.spec(), "queue")?,
    };
    let query = request.url.query().map(str::to_owned);
    let status_url = crate::config::join_route(&base, &format!("{path}/status"), query.as_deref());
    let result_url = crate::config::join_route(&base, &path, query.as_deref());

    let mut job = Job::new(call, id, QUEUE_INTERVAL);
    let mut status = first
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("IN_QUEUE")
        .to_owned();
    job.report(&status);
    while status != "COMPLETED" {
        if matches!(status.as_str(), "FAILED" | "ERROR" | "CANCELLED") {
            return Err(job.failed(format!("the queue reported {status}")));
        }
        job.wait().await?;
        let answer = job.get_json(status_url.clone(), request).await?;
        status = answer
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        job.report(&status);
    }
    job.get_json(result_url, request).await
}
