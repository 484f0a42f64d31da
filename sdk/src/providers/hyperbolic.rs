//! Hyperbolic (removed from the router; direct calls only work with a Hyperbolic key): text
//! generation goes through its chat endpoint, as the JavaScript client sends it.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::routing::Target;
use crate::types::text_generation::TextGenerationOutput;

/// `{"messages": [{"content": prompt, "role": "user"}], ...params, "model": id}`, with
/// `max_new_tokens` sent as `max_tokens`: Hyperbolic's chat endpoint ignores the TGI name (a
/// recorded answer ran to 68 tokens past a limit of 10) and honours the OpenAI one.
pub(crate) fn text_generation_body(
    body: &mut Map<String, Value>,
    target: &Target,
    prompt: &str,
    mut params: Map<String, Value>,
) {
    body.insert(
        "messages".into(),
        json!([{"content": prompt, "role": "user"}]),
    );
    if let Some(limit) = params.remove("max_new_tokens") {
        params.insert("max_tokens".into(), limit);
    }
    body.extend(params);
    if let Some(model) = &target.provider_model_id {
        body.insert("model".into(), Value::String(model.clone()));
    }
}

/// The chat answer's first message becomes the generated text.
pub(crate) fn text_generation_output(value: Value) -> Result<TextGenerationOutput> {
    let text = value
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::decode::<TextGenerationOutput>(
                "no `choices[0].message.content` in the answer",
                value.to_string().as_bytes(),
            )
        })?;
    let mut out = TextGenerationOutput::new(text);
    if let Some(reason) = value
        .pointer("/choices/0/finish_reason")
        .filter(|v| !v.is_null())
    {
        out.extra.insert("finish_reason".into(), reason.clone());
    }
    Ok(out)
}

/// The tasks the generic engine reaches here (text generation has its own path).
pub(crate) fn implements(task: crate::providers::Task) -> bool {
    task == crate::providers::Task::TextToImage
}

/// The request body of a generic-engine task.
///
/// text-to-image (python-client.md §3.14, rc6): `{"prompt", "model_name": provider id,
/// …params}` with `num_inference_steps` sent as `steps`, `guidance_scale` as `cfg_scale`, and
/// `width` / `height` defaulting to 512 (the endpoint requires them). "params" include the
/// call's `extra_body` fields, as the reference spreads `extra_body` into the parameters. The
/// answer `{"images": [{"image": <base64>}]}` is read by the adapter from the table.
pub(crate) async fn body(call: &super::adapter::Call<'_>) -> Result<Value> {
    match call.task {
        crate::providers::Task::TextToImage => Ok(text_to_image_body(
            call.inputs().cloned().unwrap_or(Value::Null),
            call.wire_parameters(),
            call.target.provider_model_id.as_deref(),
        )),
        other => Err(super::adapter::not_implemented(
            crate::providers::Provider::Hyperbolic,
            other,
        )),
    }
}

/// Hyperbolic's default image side, when the caller gives none.
const DEFAULT_SIDE: i64 = 512;

fn text_to_image_body(prompt: Value, mut params: Map<String, Value>, model: Option<&str>) -> Value {
    for (from, to) in [
        ("num_inference_steps", "steps"),
        ("guidance_scale", "cfg_scale"),
    ] {
        if let Some(value) = params.shift_remove(from) {
            params.insert(to.into(), value);
        }
    }
    for side in ["width", "height"] {
        if !params.contains_key(side) {
            params.insert(side.into(), json!(DEFAULT_SIDE));
        }
    }
    let mut body = Map::new();
    body.insert("prompt".into(), prompt);
    if let Some(model) = model {
        body.insert("model_name".into(), Value::String(model.to_owned()));
    }
    body.extend(params);
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_to_image_renames_and_defaults_the_size() {
        let params = json!({"num_inference_steps": 30, "guidance_scale": 5.0, "width": 1024})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let body = text_to_image_body(json!("a tortoise"), params, Some("SDXL1.0-base"));
        assert_eq!(
            body,
            json!({
                "prompt": "a tortoise",
                "model_name": "SDXL1.0-base",
                "width": 1024,
                "steps": 30,
                "cfg_scale": 5.0,
                "height": 512
            })
        );
        let body = text_to_image_body(json!("x"), Map::new(), Some("FLUX.1-dev"));
        assert_eq!(
            body,
            json!({"prompt": "x", "model_name": "FLUX.1-dev", "width": 512, "height": 512})
        );
    }
}
