//! Novita (python-client.md §3.7): chat and text generation are OpenAI-style (the generic
//! engine); text-to-video is Novita's own `POST /v3/hf/{provider_id}` with the body
//! `{"prompt", …params}`, answered synchronously with `{"video": {"video_url": …}}`, whose file
//! the engine downloads without credentials (the table's `asset-url` response at
//! `/video/video_url`; any other answer is `Error::Decode` naming the missing field).

use serde_json::{Map, Value};

use crate::error::Result;
use crate::providers::{Provider, Task};

use super::adapter::{Answer, Call, not_implemented};

/// The tasks this file implements.
pub(crate) fn implements(task: Task) -> bool {
    matches!(task, Task::TextToVideo)
}

/// The request body: `{"prompt": text, …params}`; `extra_body` goes with the parameters, at the
/// top level (the reference spreads it into the parameters, python-client.md §3.0). Null members
/// of the top level are dropped (the reference's `filter_none`; no nested objects here).
pub(crate) async fn body(call: &Call<'_>) -> Result<Value> {
    match call.task {
        Task::TextToVideo => {
            let mut body = Map::new();
            body.insert(
                "prompt".into(),
                call.inputs().cloned().unwrap_or(Value::Null),
            );
            body.extend(call.parameters());
            for (key, value) in &call.input {
                if key != "inputs" && key != "parameters" {
                    body.insert(key.clone(), value.clone());
                }
            }
            body.retain(|_, v| !v.is_null());
            Ok(Value::Object(body))
        }
        other => Err(not_implemented(Provider::Novita, other)),
    }
}

/// No Novita task answers in a shape of its own (text-to-video is an `asset-url` entry).
pub(crate) async fn answer(call: &Call<'_>, _last: Value) -> Result<Answer> {
    Err(not_implemented(Provider::Novita, call.task))
}
