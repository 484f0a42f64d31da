//! Black Forest Labs (removed from the router; python-client.md §3.14, 1.0.0rc6): text-to-image
//! as a job.
//!
//! - Body: `{"prompt", …params}` with `num_inference_steps` sent as `steps` and
//!   `guidance_scale` as `guidance`; `extra_body` fields are merged last, verbatim (not renamed).
//! - The first answer is `{"id", "polling_url"}`. `polling_url` is polled as given, every 1 s by
//!   default, until `status` is `Ready`; that answer's `result.sample` (the table's pointer) is
//!   downloaded without credentials. `Error`, `Failed`, `Content Moderated`, `Request
//!   Moderated` and `Task not found` are [`Error::JobFailed`]; any other status (`Pending`, …)
//!   keeps polling.
//!
//! **The poll never carries credentials**, whatever its host: the reference sends it with the
//! single header `Content-Type: application/json`, and the recordings show the JS client did
//! the same (`auth_scheme: null`) although `polling_url` was on the request's own host
//! (`api.us1.bfl.ai`), where the generic [`Job::get_json`] would keep the key. The poll is
//! therefore built here from scratch: `Content-Type: application/json` and the client's
//! `User-Agent`, nothing else: no `X-Key` / `Authorization`, no custom client headers (they may
//! hold credentials too), no `X-HF-Bill-To`.
//!
//! Deliberate differences from the reference: polling is bounded by the client's timeout
//! instead of 6 attempts ([`super::jobs`]); failure statuses end the job at once (the reference
//! only recognises `Ready` and runs out of attempts otherwise).

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::http::transport::PreparedRequest;
use crate::providers::{Provider, Task};

use super::adapter::{Answer, Call, not_implemented};
use super::jobs::{Job, Phase};

/// Black Forest Labs' poll interval (python-client.md §3.15).
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Statuses that end a job without a result.
const FAILED_STATUSES: [&str; 5] = [
    "Error",
    "Failed",
    "Content Moderated",
    "Request Moderated",
    "Task not found",
];

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
        return Err(not_implemented(Provider::BlackForestLabs, call.task));
    }
    let mut body = Map::new();
    body.insert(
        "prompt".into(),
        call.inputs().cloned().unwrap_or(Value::Null),
    );
    for (name, value) in call.parameters() {
        let name = match name.as_str() {
            "num_inference_steps" => "steps".to_owned(),
            "guidance_scale" => "guidance".to_owned(),
            _ => name,
        };
        body.insert(name, value);
    }
    crate::tasks::merge_json(&mut body, extras(call));
    Ok(Value::Object(body))
}

/// Answers whose shape is the provider's own (none: the table's `asset-url` applies).
pub(crate) async fn answer(call: &Call<'_>, _last: Value) -> Result<Answer> {
    Err(not_implemented(Provider::BlackForestLabs, call.task))
}

fn decode_error(message: impl Into<String>, answer: &Value) -> Error {
    Error::Decode {
        target: "black-forest-labs job answer",
        message: message.into(),
        body_excerpt: answer.to_string().chars().take(1024).collect(),
    }
}

/// The poll request: a GET of `url` with `Content-Type: application/json` and the client's
/// user agent only.
fn poll_request(call: &Call<'_>, request: &PreparedRequest, url: url::Url) -> PreparedRequest {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(agent) = request.headers.get(USER_AGENT) {
        headers.insert(USER_AGENT, agent.clone());
    }
    let mut poll = request.clone();
    poll.method = reqwest::Method::GET;
    poll.url = call.client.inner.endpoints.redirect(url);
    poll.headers = headers;
    poll.body = None;
    poll
}

/// Follows a Black Forest Labs job from its first answer to the `Ready` answer.
pub(crate) async fn follow(
    call: &Call<'_>,
    request: &PreparedRequest,
    first: Value,
) -> Result<Value> {
    let polling_url = first
        .get("polling_url")
        .and_then(Value::as_str)
        .ok_or_else(|| decode_error("no `polling_url` in the answer", &first))?;
    let url = url::Url::parse(polling_url)
        .map_err(|e| decode_error(format!("`polling_url` is not a URL: {e}"), &first))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(decode_error("`polling_url` is not an http(s) URL", &first));
    }
    let id = first
        .get("id")
        .and_then(Value::as_str)
        .map_or_else(|| polling_url.to_owned(), str::to_owned);
    let poll = poll_request(call, request, url);
    let mut job = Job::new(call, id, POLL_INTERVAL);
    job.poll_until(&poll, false, status_of).await
}

/// What a poll answer's `status` says; failure statuses carry BFL's details.
fn status_of(answer: &Value) -> Result<(String, Phase)> {
    let status = answer
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(|| decode_error("no `status` in the poll answer", answer))?
        .to_owned();
    let phase = if status == "Ready" {
        Phase::Done
    } else if FAILED_STATUSES.contains(&status.as_str()) {
        let detail = match answer.get("details").or_else(|| answer.get("result")) {
            Some(Value::Null) | None => String::new(),
            Some(Value::String(text)) => format!(": {text}"),
            Some(other) => format!(": {other}"),
        };
        Phase::Failed(format!("status `{status}`{detail}"))
    } else {
        Phase::Running
    };
    Ok((status, phase))
}
