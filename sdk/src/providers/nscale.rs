//! Nscale (python-client.md §3.8): text-to-image on its OpenAI-style
//! `/v1/images/generations`, answered as base64 at `data[0].b64_json` (read by the adapter from
//! the table). Chat uses the generic OpenAI format and never reaches this file.
//!
//! Body, as the reference 2.4.0 builds it: `{"response_format": "b64_json", "prompt", "model",
//! …params}`, where `width` and `height`, when both are given, become `"size": "{w}x{h}"`,
//! `num_inference_steps` and `cfg_scale` are dropped (the endpoint takes neither) and
//! `guidance_scale` is kept. "params" include the call's `extra_body` fields, as the reference
//! spreads `extra_body` into the parameters.

use serde_json::{Map, Value};

use crate::error::Result;
use crate::providers::{Provider, Task};

use super::adapter::{Answer, Call, not_implemented};

/// The tasks this file implements.
pub(crate) fn implements(task: Task) -> bool {
    task == Task::TextToImage
}

/// The request body.
pub(crate) async fn body(call: &Call<'_>) -> Result<Value> {
    match call.task {
        Task::TextToImage => Ok(text_to_image_body(
            call.inputs().cloned().unwrap_or(Value::Null),
            call.wire_parameters(),
            call.target.provider_model_id.as_deref(),
        )),
        other => Err(not_implemented(Provider::Nscale, other)),
    }
}

/// Answers whose shape is the provider's own (none: text-to-image answers base64).
pub(crate) async fn answer(call: &Call<'_>, _last: Value) -> Result<Answer> {
    Err(not_implemented(Provider::Nscale, call.task))
}

fn text_to_image_body(prompt: Value, mut params: Map<String, Value>, model: Option<&str>) -> Value {
    if params.contains_key("width") && params.contains_key("height") {
        let width = params.shift_remove("width").unwrap_or_default();
        let height = params.shift_remove("height").unwrap_or_default();
        params.insert(
            "size".into(),
            Value::String(format!("{}x{}", dimension(&width), dimension(&height))),
        );
    }
    params.shift_remove("num_inference_steps");
    params.shift_remove("cfg_scale");
    let mut body = Map::new();
    body.insert("response_format".into(), Value::String("b64_json".into()));
    body.insert("prompt".into(), prompt);
    if let Some(model) = model {
        body.insert("model".into(), Value::String(model.to_owned()));
    }
    body.extend(params);
    Value::Object(body)
}

/// A size component as text: numbers as written (`1024`), strings without quotes.
fn dimension(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
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
    fn width_and_height_become_size_steps_and_cfg_scale_are_dropped() {
        let body = text_to_image_body(
            json!("a tortoise"),
            params(json!({
                "width": 1024,
                "height": 768,
                "num_inference_steps": 4,
                "cfg_scale": 7,
                "guidance_scale": 3.5,
                "seed": 1
            })),
            Some("stabilityai/stable-diffusion-xl-base-1.0"),
        );
        assert_eq!(
            body,
            json!({
                "response_format": "b64_json",
                "prompt": "a tortoise",
                "model": "stabilityai/stable-diffusion-xl-base-1.0",
                "guidance_scale": 3.5,
                "seed": 1,
                "size": "1024x768"
            })
        );
    }

    #[test]
    fn one_dimension_alone_is_sent_as_given() {
        let body = text_to_image_body(json!("x"), params(json!({"width": 512})), Some("m"));
        assert_eq!(
            body,
            json!({"response_format": "b64_json", "prompt": "x", "model": "m", "width": 512})
        );
    }
}
