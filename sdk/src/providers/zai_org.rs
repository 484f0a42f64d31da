//! Z.ai (`zai-org`, python-client.md §3.12): text-to-image as a job. Chat uses the generic
//! OpenAI-style engine; the static headers (`accept-language`, `x-source-channel`) come from the
//! provider table and travel on every request, polls included.
//!
//! - Body: `{"model": provider_id, "prompt", "size": "{w}x{h}" (when both `width` and `height`
//!   are set), …other params}`; `extra_body` fields are merged last, verbatim.
//! - The first answer is `{"id", "task_status"}`: `SUCCESS` is final, `FAIL` is
//!   [`Error::JobFailed`], `PROCESSING` polls `{base}/api/paas/v4/async-result/{id}` (base: the
//!   router's `/zai-org` prefix or the provider's host) at once, then every 5 s by default,
//!   with the request's headers, until `SUCCESS` or `FAIL`. The final answer's
//!   `image_result[0].url` (the table's pointer) is downloaded without credentials.
//!
//! Deliberate differences from the reference:
//! - polling is bounded by the client's timeout instead of 60 attempts (see [`super::jobs`]);
//! - an unknown `task_status` is [`Error::Decode`] (the reference extracts the image from an
//!   unknown first status and keeps polling on an unknown later one);
//! - a lone `width` or `height` is sent as is (only the pair becomes `size`).
//!
//! The first poll is made without waiting, so it is reported to `on_status` with `polls: 0`
//! ([`super::jobs::JobStatus::polls`] counts the waits).

use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::http::transport::PreparedRequest;
use crate::providers::{Provider, Task};
use crate::routing::Mode;

use super::adapter::{Answer, Call, not_implemented};
use super::jobs::{Job, Phase};

/// Z.ai's own poll interval (python-client.md §3.15).
const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// The route of the first request, which the poll URL replaces.
const RESULT_ROUTE: &str = "/api/paas/v4/async-result";

/// The tasks this file implements.
pub(crate) fn implements(task: Task) -> bool {
    task == Task::TextToImage
}

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
    if call.task != Task::TextToImage {
        return Err(not_implemented(Provider::ZaiOrg, call.task));
    }
    let mut params = call.parameters();
    let mut body = Map::new();
    if let Some(model) = &call.target.provider_model_id {
        body.insert("model".into(), Value::String(model.clone()));
    }
    body.insert(
        "prompt".into(),
        call.inputs().cloned().unwrap_or(Value::Null),
    );
    if let (Some(width), Some(height)) = (params.get("width"), params.get("height")) {
        let size = format!("{}x{}", dimension(width), dimension(height));
        params.shift_remove("width");
        params.shift_remove("height");
        body.insert("size".into(), Value::String(size));
    }
    // A `model` parameter never replaces the provider's model id.
    params.shift_remove("model");
    body.extend(params);
    crate::tasks::merge_json(&mut body, extras(call));
    Ok(Value::Object(body))
}

/// A width or height as written in `size` (`1280`, not `"1280"` or `1280.0` for whole numbers).
fn dimension(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// Answers whose shape is the provider's own (none: the table's `asset-url` applies).
pub(crate) async fn answer(call: &Call<'_>, _last: Value) -> Result<Answer> {
    Err(not_implemented(Provider::ZaiOrg, call.task))
}

fn decode_error(message: impl Into<String>, answer: &Value) -> Error {
    Error::Decode {
        target: "zai-org job answer",
        message: message.into(),
        body_excerpt: answer.to_string().chars().take(1024).collect(),
    }
}

/// What `task_status` says; a `FAIL` carries the error message.
fn status_of(answer: &Value) -> Result<(String, Phase)> {
    let status = answer
        .get("task_status")
        .and_then(Value::as_str)
        .ok_or_else(|| decode_error("no `task_status` in the answer", answer))?;
    let phase = match status {
        "PROCESSING" => Phase::Running,
        "SUCCESS" => Phase::Done,
        "FAIL" => Phase::Failed(failure_message(answer)),
        other => {
            return Err(decode_error(
                format!("unknown `task_status` `{other}`"),
                answer,
            ));
        }
    };
    Ok((status.to_owned(), phase))
}

fn failure_message(answer: &Value) -> String {
    let found = answer
        .pointer("/error/message")
        .or_else(|| answer.get("error"))
        .or_else(|| answer.get("message"));
    match found {
        Some(Value::String(text)) if !text.is_empty() => text.clone(),
        _ => "Z.ai image generation failed (task_status FAIL)".to_owned(),
    }
}

/// `{base}/api/paas/v4/async-result/{id}`, the id as one path segment.
fn poll_url(call: &Call<'_>, id: &str) -> Result<url::Url> {
    let provider = call.provider()?;
    let inner = &call.client.inner;
    let base = match call.target.mode {
        Mode::Routed => crate::config::join_route(
            &inner.endpoints.router,
            provider.spec().routed_prefix.unwrap_or("/zai-org"),
            None,
        ),
        _ => inner
            .endpoints
            .provider_host(provider.spec(), call.spec()?.host.unwrap_or("api"))?,
    };
    let mut url = crate::config::join_route(&base, RESULT_ROUTE, None);
    url.path_segments_mut()
        .map_err(|()| Error::Config(format!("`{base}` cannot be a base URL")))?
        .push(id);
    Ok(url)
}

/// Follows a Z.ai image job from its first answer to the `SUCCESS` answer.
pub(crate) async fn follow(
    call: &Call<'_>,
    request: &PreparedRequest,
    first: Value,
) -> Result<Value> {
    let id = match first.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(decode_error("no task id (`id`) in the answer", &first)),
    };
    let mut job = Job::new(call, id.clone(), POLL_INTERVAL);
    let (status, phase) = status_of(&first)?;
    job.report(&status);
    match phase {
        Phase::Done => return Ok(first),
        Phase::Failed(message) => return Err(job.failed(message)),
        Phase::Running => {}
    }
    // The first poll goes out at once; later ones after an interval.
    let poll = job.poll_request(poll_url(call, &id)?, request);
    job.poll_until(&poll, true, status_of).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses() {
        assert!(matches!(
            status_of(&json!({"task_status": "PROCESSING"})).unwrap().1,
            Phase::Running
        ));
        assert!(matches!(
            status_of(&json!({"task_status": "SUCCESS"})).unwrap().1,
            Phase::Done
        ));
        assert!(matches!(
            status_of(&json!({"task_status": "FAIL", "error": {"message": "bad prompt"}})).unwrap().1,
            Phase::Failed(message) if message == "bad prompt"
        ));
        for bad in [
            json!({"task_status": "processing"}),
            json!({}),
            json!({"task_status": null}),
            json!("SUCCESS"),
        ] {
            assert!(
                matches!(status_of(&bad), Err(Error::Decode { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn dimensions() {
        assert_eq!(dimension(&json!(1280)), "1280");
        assert_eq!(dimension(&json!(1280.0)), "1280");
        assert_eq!(dimension(&json!(12.5)), "12.5");
        assert_eq!(dimension(&json!("1024")), "1024");
    }

    #[test]
    fn failure_messages() {
        assert_eq!(
            failure_message(&json!({"error": {"code": "1301", "message": "unsafe content"}})),
            "unsafe content"
        );
        assert_eq!(
            failure_message(&json!({"task_status": "FAIL"})),
            "Z.ai image generation failed (task_status FAIL)"
        );
    }
}
