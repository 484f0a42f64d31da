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
pub(crate) fn implements(_task: crate::providers::Task) -> bool {
    false
}

/// The request body of a generic-engine task.
pub(crate) async fn body(call: &super::adapter::Call<'_>) -> Result<Value> {
    Err(super::adapter::not_implemented(
        crate::providers::Provider::Hyperbolic,
        call.task,
    ))
}
