//! Replicate (python-client.md §3.5): every task is one prediction, `POST
//! /v1/models/{owner}/{model}/predictions` (or `POST /v1/predictions` with a top-level `version`
//! for an `owner/model:version` id; `routing.rs` picks the route) with the body
//! `{"input": {…}}` and the header `prefer: wait`, which makes Replicate hold the request until
//! the prediction is done (about 60 s at most). The answer is the prediction: `output` is a file
//! URL, a list whose first element is one, or (speech recognition) text in several shapes.
//!
//! Deliberate differences from the reference client (huggingface_hub 2.4.0):
//! - **No LoRA weights.** The reference adds `"lora_weights": "https://huggingface.co/{hf id}"` to
//!   text-to-image when the Hub mapping names an adapter. The routing [`Target`] carries no
//!   adapter information yet, so this SDK never sends `lora_weights` (a LoRA mapping runs the
//!   base model's route without its weights) rather than guess.
//! - **An unfinished prediction is followed, not given up on.** When the wait ran out (`output`
//!   null, status neither `succeeded` nor failed), the reference raises `TimeoutError` at once.
//!   This SDK polls the prediction's `urls.get` (its path, on the host the call went to — the
//!   router or Replicate's API — with the same credentials) every second until it is
//!   `succeeded`, `failed`, `canceled` or `aborted`, bounded by the job deadline (the client's
//!   timeout, else [`DEFAULT_JOB_TIMEOUT`](super::jobs::DEFAULT_JOB_TIMEOUT)), after which it
//!   fails with [`Error::JobTimeout`] carrying the prediction id. An unfinished answer without
//!   `urls.get` fails at once with [`Error::JobTimeout`] (`after`: the 60 s Replicate waited).
//! - **Failures are typed.** A `failed` / `canceled` / `aborted` prediction is
//!   [`Error::JobFailed`] with Replicate's `error` message and the prediction id (the reference
//!   tries to download a null `output`); an `output` that is not a file URL is [`Error::Decode`].
//! - **Speech recognition** applies the reference's `output` rules (a string; a list whose first
//!   element is a string or an object; an object's `transcription`, then `translation`, then
//!   `txt_file` downloaded — later keys win), but a null `output` is followed / times out as
//!   above instead of being "malformed".

use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::http::transport::PreparedRequest;
use crate::providers::{Provider, Task};
use crate::routing::Mode;

use super::adapter::{Answer, Call, filter_none, not_implemented};
use super::jobs::{Job, Phase};

/// Interval between polls of an unfinished prediction (the JavaScript client's).
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// How long Replicate holds a `prefer: wait` request before answering an unfinished prediction.
const SERVER_WAIT: Duration = Duration::from_secs(60);

/// Prediction statuses that end a prediction without a result.
const FAILED: [&str; 3] = ["failed", "canceled", "aborted"];

/// The tasks this file implements.
pub(crate) fn implements(task: Task) -> bool {
    matches!(
        task,
        Task::TextToImage
            | Task::TextToVideo
            | Task::TextToSpeech
            | Task::ImageToImage
            | Task::AutomaticSpeechRecognition
    )
}

/// The request body: `{"input": {…}}`, plus `"version"` for a pinned `owner/model:version`.
pub(crate) async fn body(call: &Call<'_>) -> Result<Value> {
    let mut input = Map::new();
    let inputs = call.inputs().cloned().unwrap_or(Value::Null);
    match call.task {
        Task::TextToImage | Task::TextToVideo => {
            // No `lora_weights`: see the module documentation.
            input.insert("prompt".into(), inputs);
        }
        Task::TextToSpeech => {
            // The reference builds `prompt` and renames it `text`.
            input.insert("text".into(), inputs);
        }
        Task::ImageToImage => {
            let image = call
                .first_binary()
                .ok_or_else(|| missing_input("an image"))?;
            let url = Value::String(call.binary_as_url(image, "image/jpeg").await?);
            // Models disagree on the name: 2.4.0 sends all four.
            input.insert("image".into(), url.clone());
            input.insert("images".into(), Value::Array(vec![url.clone()]));
            input.insert("input_image".into(), url.clone());
            input.insert("input_images".into(), Value::Array(vec![url]));
        }
        Task::AutomaticSpeechRecognition => {
            let audio = call.first_binary().ok_or_else(|| missing_input("audio"))?;
            input.insert(
                "audio".into(),
                Value::String(call.binary_as_url(audio, "audio/wav").await?),
            );
        }
        other => return Err(not_implemented(Provider::Replicate, other)),
    }
    // The parameters (`prompt` among them for image-to-image), then whatever else the caller
    // put in `extra_body`: the reference spreads `extra_body` into the parameters, which go
    // under `input` for Replicate (python-client.md §3.0).
    input.extend(call.parameters());
    for (key, value) in &call.input {
        if key != "inputs" && key != "parameters" {
            input.insert(key.clone(), value.clone());
        }
    }
    let mut body = Map::new();
    body.insert("input".into(), filter_none(Value::Object(input)));
    if let Some(version) = version(call) {
        body.insert("version".into(), Value::String(version.to_owned()));
    }
    Ok(Value::Object(body))
}

/// The part of an `owner/model:version` provider id after the first colon.
fn version<'a>(call: &'a Call<'_>) -> Option<&'a str> {
    call.target
        .provider_model_id
        .as_deref()
        .and_then(|id| id.split_once(':'))
        .map(|(_, version)| version)
}

fn missing_input(what: &str) -> Error {
    Error::InvalidInput {
        field: "inputs".into(),
        message: format!("the task needs {what} as input"),
    }
}

fn decode_error(message: impl Into<String>, answer: &Value) -> Error {
    Error::Decode {
        target: "Replicate prediction",
        message: message.into(),
        body_excerpt: answer.to_string().chars().take(1024).collect(),
    }
}

fn status_of(prediction: &Value) -> Option<&str> {
    prediction.get("status").and_then(Value::as_str)
}

/// Replicate's failure message: `error` as a string or an object's `message`.
fn failure_message(prediction: &Value, status: &str) -> String {
    let detail = match prediction.get("error") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::Object(e)) => e.get("message").and_then(Value::as_str).map(str::to_owned),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    match detail {
        Some(detail) => detail,
        None => format!("the prediction ended with status `{status}`"),
    }
}

/// The `prefer: wait` answer made final: returned as is when it has an `output`, followed to
/// the end when the wait ran out (see the module documentation), an error when it failed.
pub(crate) async fn settle(
    call: &Call<'_>,
    request: &PreparedRequest,
    first: Value,
) -> Result<Value> {
    if !first.is_object() {
        return Err(decode_error(
            "the answer is not a prediction object",
            &first,
        ));
    }
    let id = first.get("id").and_then(Value::as_str).map(str::to_owned);
    if let Some(status) = status_of(&first).filter(|s| FAILED.contains(s)) {
        return Err(Error::JobFailed {
            provider: call.target.provider_label().to_owned(),
            message: failure_message(&first, status),
            job_id: id,
        });
    }
    let last = if first.get("output").is_some_and(|o| !o.is_null()) {
        // The reference's rule: an `output` is the result, whatever the status says (Replicate
        // answers `processing` while the files are already there).
        first
    } else if status_of(&first) == Some("succeeded") {
        return Err(decode_error(
            "the prediction succeeded without an `output`",
            &first,
        ));
    } else {
        let Some(id) = id else {
            return Err(decode_error(
                "no `output` and no prediction `id` in the answer",
                &first,
            ));
        };
        match poll_url(call, &first)? {
            Some(url) => follow(call, request, url, id, &first).await?,
            None => {
                return Err(Error::JobTimeout {
                    provider: call.target.provider_label().to_owned(),
                    job_id: id,
                    after: SERVER_WAIT,
                });
            }
        }
    };
    if call.task != Task::AutomaticSpeechRecognition {
        check_file_output(&last)?;
    }
    Ok(last)
}

/// The file tasks need a URL, or a list whose first element is one.
fn check_file_output(prediction: &Value) -> Result<()> {
    match prediction.get("output") {
        Some(Value::String(_)) => Ok(()),
        Some(Value::Array(items)) if items.first().is_some_and(Value::is_string) => Ok(()),
        _ => Err(decode_error(
            "`output` is neither a file URL nor a list starting with one",
            prediction,
        )),
    }
}

/// Where to poll: the path of `urls.get` from `/v1/predictions/` on, on the host the call went
/// to (the router's `…/replicate` or Replicate's API), so credentials stay where they belong.
/// `None` when the answer names no usable `urls.get`.
fn poll_url(call: &Call<'_>, prediction: &Value) -> Result<Option<url::Url>> {
    let Some(get) = prediction
        .pointer("/urls/get")
        .and_then(Value::as_str)
        .and_then(|u| url::Url::parse(u).ok())
    else {
        return Ok(None);
    };
    let path = get.path();
    let Some(at) = path.find("/v1/predictions/") else {
        return Ok(None);
    };
    let route = &path[at..];
    let provider = call.provider()?;
    let spec = call.spec()?;
    let inner = &call.client.inner;
    let base = match call.target.mode {
        Mode::Routed => crate::config::join_route(
            &inner.endpoints.router,
            provider.spec().routed_prefix.unwrap_or("/replicate"),
            None,
        ),
        _ => inner
            .endpoints
            .provider_host(provider.spec(), spec.host.unwrap_or("api"))?,
    };
    Ok(Some(crate::config::join_route(&base, route, get.query())))
}

/// Polls an unfinished prediction until it ends or the job deadline passes.
async fn follow(
    call: &Call<'_>,
    request: &PreparedRequest,
    url: url::Url,
    id: String,
    first: &Value,
) -> Result<Value> {
    // `prefer: wait` means nothing on a GET.
    let mut poll = request.clone();
    poll.headers.remove("prefer");
    let mut job = Job::new(call, id, POLL_INTERVAL);
    job.report(status_of(first).unwrap_or("starting"));
    let poll = job.poll_request(url, &poll);
    job.poll_until(&poll, false, |prediction| {
        let status = status_of(prediction).unwrap_or_default().to_owned();
        if FAILED.contains(&status.as_str()) {
            let message = failure_message(prediction, &status);
            return Ok((status, Phase::Failed(message)));
        }
        let has_output = prediction.get("output").is_some_and(|o| !o.is_null());
        let phase = match status.as_str() {
            "succeeded" if has_output => Phase::Done,
            "succeeded" => {
                return Err(decode_error(
                    "the prediction succeeded without an `output`",
                    prediction,
                ));
            }
            // Without a status, an output is the result (as the JavaScript client reads it).
            "" if has_output => Phase::Done,
            _ => Phase::Running,
        };
        Ok((status, phase))
    })
    .await
}

/// Speech recognition: the reference's `output` rules, as `{"text": …}`.
pub(crate) async fn answer(call: &Call<'_>, last: Value) -> Result<Answer> {
    if call.task != Task::AutomaticSpeechRecognition {
        return Err(not_implemented(Provider::Replicate, call.task));
    }
    let malformed = || Error::Decode {
        target: "AutomaticSpeechRecognitionOutput",
        message: "malformed Replicate speech-recognition output: expected a string, a list \
                      starting with a string or an object, or an object with `transcription`, \
                      `translation` or `txt_file`"
            .into(),
        body_excerpt: last.to_string().chars().take(1024).collect(),
    };
    let mut output = last.get("output").unwrap_or(&Value::Null);
    if let Value::Array(items) = output {
        match items.first() {
            Some(first @ (Value::String(_) | Value::Object(_))) => output = first,
            _ => return Err(malformed()),
        }
    }
    let text = match output {
        Value::String(text) => text.clone(),
        Value::Object(fields) => {
            let mut text = None;
            for key in ["transcription", "translation"] {
                if let Some(Value::String(s)) = fields.get(key) {
                    text = Some(s.clone());
                }
            }
            if let Some(Value::String(url)) = fields.get("txt_file") {
                let file = call.download(url).await?;
                text = Some(String::from_utf8_lossy(file.bytes()).into_owned());
            }
            text.ok_or_else(malformed)?
        }
        _ => return Err(malformed()),
    };
    Ok(Answer::Json(serde_json::json!({ "text": text })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filter_none_drops_null_members_only() {
        let value = json!({
            "a": null,
            "b": 0,
            "c": "",
            "d": [],
            "e": false,
            "f": {"g": null, "h": 1},
            "i": [null, {"j": null, "k": 2}],
            "l": {}
        });
        assert_eq!(
            filter_none(value),
            json!({
                "b": 0,
                "c": "",
                "d": [],
                "e": false,
                "f": {"h": 1},
                "i": [null, {"k": 2}],
                "l": {}
            })
        );
    }

    #[test]
    fn failure_messages() {
        assert_eq!(
            failure_message(&json!({"error": "CUDA out of memory"}), "failed"),
            "CUDA out of memory"
        );
        assert_eq!(
            failure_message(&json!({"error": {"message": "bad input"}}), "failed"),
            "bad input"
        );
        assert_eq!(
            failure_message(&json!({"error": null}), "canceled"),
            "the prediction ended with status `canceled`"
        );
    }

    #[test]
    fn file_outputs() {
        assert!(check_file_output(&json!({"output": "https://x/y.png"})).is_ok());
        assert!(check_file_output(&json!({"output": ["https://x/y.png"]})).is_ok());
        for bad in [json!([]), json!([1]), json!({"a": 1}), json!(3)] {
            let err = check_file_output(&json!({ "output": bad })).unwrap_err();
            assert!(matches!(err, Error::Decode { .. }), "{err:?}");
        }
    }
}
