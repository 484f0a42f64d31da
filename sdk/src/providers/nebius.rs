//! Nebius AI Studio (removed from the router; python-client.md §3.14, rc6): text-to-image on
//! `/v1/images/generations` answered as base64 at `data[0].b64_json`, and embeddings on
//! `/v1/embeddings` answered in the OpenAI format (both read by the adapter from the table).
//! Chat and completions use the generic formats and never reach this file.
//!
//! Bodies, as the reference rc6 builds them:
//! - text-to-image: `{"prompt", …params without guidance_scale, "response_format", "model"}`,
//!   `response_format` being `"b64_json"` unless the caller passed `"url"` (through
//!   `extra_body`). The table reads `data[0].b64_json`, so a `"url"` answer ends in a decode
//!   error naming the missing field, as the reference fails on it too.
//! - feature-extraction: `{"input", "model"}`; every parameter is ignored (the endpoint's
//!   OpenAI-style schema has none of the task's; the reference drops them too). The ignored
//!   names are logged at debug level.
//!
//! "params" include the call's `extra_body` fields, as the reference spreads `extra_body` into
//! the parameters.

use serde_json::{Map, Value};

use crate::error::Result;
use crate::providers::{Provider, Task};

use super::adapter::{Answer, Call, not_implemented};
use super::together::insert_model;

/// The tasks this file implements.
pub(crate) fn implements(task: Task) -> bool {
    matches!(task, Task::TextToImage | Task::FeatureExtraction)
}

/// The request body.
pub(crate) async fn body(call: &Call<'_>) -> Result<Value> {
    let input = call.inputs().cloned().unwrap_or(Value::Null);
    let model = call.target.provider_model_id.as_deref();
    match call.task {
        Task::TextToImage => Ok(text_to_image_body(input, call.wire_parameters(), model)),
        Task::FeatureExtraction => {
            let ignored: Vec<&str> = call
                .input
                .keys()
                .map(String::as_str)
                .chain(
                    call.input
                        .get("parameters")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flat_map(|p| p.keys().map(String::as_str)),
                )
                .filter(|k| *k != "inputs" && *k != "parameters")
                .collect();
            if !ignored.is_empty() {
                tracing::debug!(?ignored, "nebius embeddings take no parameters; not sent");
            }
            Ok(feature_extraction_body(input, model))
        }
        other => Err(not_implemented(Provider::Nebius, other)),
    }
}

/// Answers whose shape is the provider's own (none: see the module documentation).
pub(crate) async fn answer(call: &Call<'_>, _last: Value) -> Result<Answer> {
    Err(not_implemented(Provider::Nebius, call.task))
}

fn text_to_image_body(prompt: Value, mut params: Map<String, Value>, model: Option<&str>) -> Value {
    params.shift_remove("guidance_scale");
    let format = match params.shift_remove("response_format") {
        Some(Value::String(format)) if format == "url" => format,
        _ => "b64_json".to_owned(),
    };
    let mut body = Map::new();
    body.insert("prompt".into(), prompt);
    body.extend(params);
    body.insert("response_format".into(), Value::String(format));
    insert_model(&mut body, model);
    Value::Object(body)
}

fn feature_extraction_body(input: Value, model: Option<&str>) -> Value {
    let mut body = Map::new();
    body.insert("input".into(), input);
    insert_model(&mut body, model);
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn text_to_image_drops_guidance_and_asks_for_base64() {
        let body = text_to_image_body(
            json!("a tortoise"),
            params(json!({"guidance_scale": 3.5, "num_inference_steps": 4, "width": 512})),
            Some("black-forest-labs/flux-schnell"),
        );
        assert_eq!(
            body,
            json!({
                "prompt": "a tortoise",
                "num_inference_steps": 4,
                "width": 512,
                "response_format": "b64_json",
                "model": "black-forest-labs/flux-schnell"
            })
        );
    }

    #[test]
    fn only_url_overrides_the_response_format() {
        for (given, sent) in [
            (json!("url"), "url"),
            (json!("b64_json"), "b64_json"),
            (json!("png"), "b64_json"),
            (json!(1), "b64_json"),
        ] {
            let body = text_to_image_body(
                json!("x"),
                params(json!({"response_format": given})),
                Some("m"),
            );
            assert_eq!(body["response_format"], sent, "{given}");
        }
    }

    #[test]
    fn embeddings_send_input_and_model_only() {
        assert_eq!(
            feature_extraction_body(json!("hello"), Some("BAAI/bge-en-icl")),
            json!({"input": "hello", "model": "BAAI/bge-en-icl"})
        );
    }
}
