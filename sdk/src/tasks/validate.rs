//! Checks of a call's input that need no network, run before anything is sent: an empty input,
//! a parameter outside the values a server accepts (a negative size, an empty label list), a
//! model id that cannot name a Hub repository. Each failure is an
//! [`Error::InvalidInput`] naming the field as the body spells it (`inputs`,
//! `parameters.top_k`, `model`).
//!
//! The rules are the ones every server applies anyway (a width of `-1` is never valid); they
//! only move the failure before the request, where it costs nothing and names the field.
//! Values the schemas leave open (a seed, a `top_k` of 0 inside `generation_parameters`, which
//! transformers reads as "no top-k filtering") are not judged.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Parameters that count or measure something: at least 1.
const POSITIVE: &[&str] = &[
    "doc_stride",
    "frame_sampling_rate",
    "height",
    "max_answer_len",
    "max_length",
    "max_new_tokens",
    "max_question_len",
    "max_seq_len",
    "num_beam_groups",
    "num_beams",
    "num_frames",
    "num_inference_steps",
    "top_k",
    "width",
];

/// Parameters that may be 0 but not negative.
const NON_NEGATIVE: &[&str] = &[
    "guidance_scale",
    "min_length",
    "min_new_tokens",
    "stride",
    "temperature",
];

/// Probabilities and thresholds: between 0 and 1.
const UNIT_INTERVAL: &[&str] = &[
    "mask_threshold",
    "overlap_mask_area_threshold",
    "threshold",
    "top_p",
    "typical_p",
];

/// Longest model id accepted (the Hub allows 96 characters per name; an id with an owner and a
/// router policy suffix stays well under this).
const MAX_MODEL_ID_LEN: usize = 256;

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::InvalidInput {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks a task's input as it goes on the wire (`{"inputs": …, "parameters": {…}}`).
/// `binary` lists the JSON pointers that a file fills later (they are placeholders now).
pub(crate) fn task_input(input: &Value, binary: &[&str]) -> Result<()> {
    let Some(fields) = input.as_object() else {
        return Ok(());
    };
    if let Some(inputs) = fields.get("inputs")
        && !binary.contains(&"/inputs")
    {
        check_inputs(inputs, binary)?;
    }
    if let Some(Value::Object(parameters)) = fields.get("parameters") {
        check_parameters(parameters, "parameters", true)?;
    }
    Ok(())
}

/// Text must not be blank and lists must not be empty: `inputs` itself, the members of an
/// object input (`inputs.question`, `inputs.sentences`) and the items of a list input.
fn check_inputs(inputs: &Value, binary: &[&str]) -> Result<()> {
    check_not_empty(inputs, "inputs")?;
    match inputs {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_not_empty(item, &format!("inputs[{i}]"))?;
            }
        }
        Value::Object(members) => {
            for (name, value) in members {
                if binary.contains(&format!("/inputs/{name}").as_str()) {
                    continue;
                }
                // A table's cells may be empty; its columns may not all be missing.
                check_not_empty(value, &format!("inputs.{name}"))?;
                if let Value::Array(items) = value {
                    for (i, item) in items.iter().enumerate() {
                        if item.is_string() {
                            check_not_empty(item, &format!("inputs.{name}[{i}]"))?;
                        }
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_not_empty(value: &Value, field: &str) -> Result<()> {
    match value {
        Value::String(text) if text.trim().is_empty() => Err(invalid(
            field,
            "is empty: there is nothing to run the model on",
        )),
        Value::Array(items) if items.is_empty() => Err(invalid(field, "is an empty list")),
        Value::Object(members) if members.is_empty() => Err(invalid(field, "is an empty object")),
        _ => Ok(()),
    }
}

fn check_parameters(parameters: &Map<String, Value>, path: &str, top: bool) -> Result<()> {
    for (name, value) in parameters {
        let field = format!("{path}.{name}");
        match value {
            Value::Number(number) => check_number(name, number, &field, top)?,
            Value::Object(nested) => check_parameters(nested, &field, false)?,
            _ => {}
        }
    }
    if let Some(labels) = parameters.get("candidate_labels") {
        check_labels(labels, &format!("{path}.candidate_labels"))?;
    }
    Ok(())
}

fn check_number(name: &str, number: &serde_json::Number, field: &str, top: bool) -> Result<()> {
    let value = number.as_f64().unwrap_or(f64::NAN);
    // `top_k` 0 means "off" in generation parameters; elsewhere it asks for no answer at all.
    let positive = POSITIVE.contains(&name) && (top || name != "top_k");
    if positive && (value.is_nan() || value < 1.0) {
        return Err(invalid(field, format!("must be at least 1, got {number}")));
    }
    if NON_NEGATIVE.contains(&name) && (value.is_nan() || value < 0.0) {
        return Err(invalid(
            field,
            format!("must not be negative, got {number}"),
        ));
    }
    if UNIT_INTERVAL.contains(&name) && !(0.0..=1.0).contains(&value) {
        return Err(invalid(
            field,
            format!("must be between 0 and 1, got {number}"),
        ));
    }
    Ok(())
}

/// Zero-shot classification needs labels to choose from, none of them blank.
fn check_labels(labels: &Value, field: &str) -> Result<()> {
    let Value::Array(items) = labels else {
        return Ok(());
    };
    if items.is_empty() {
        return Err(invalid(
            field,
            "needs at least one candidate label to classify against",
        ));
    }
    for (i, label) in items.iter().enumerate() {
        if label.as_str().is_some_and(|l| l.trim().is_empty()) {
            return Err(invalid(format!("{field}[{i}]"), "is an empty label"));
        }
    }
    Ok(())
}

/// A model id must be able to name a Hub repository (`name` or `owner/name`, letters, digits,
/// `-`, `_`, `.`), optionally followed by the router's `:provider` or `:policy` suffix. A provider
/// id pinned with `model_mapping` may have more parts (`fal-ai/flux/dev`). Spaces, other
/// characters, empty, `.` or `..` parts are refused: they would change the URL path the id is
/// placed in.
pub(crate) fn model_id(model: &str) -> Result<()> {
    let fail = |why: &str| {
        Err(invalid(
            "model",
            format!("`{model}` is not a model id: {why}"),
        ))
    };
    if model.len() > MAX_MODEL_ID_LEN {
        return fail(&format!("longer than {MAX_MODEL_ID_LEN} characters"));
    }
    let repo = model.split_once(':').map_or(model, |(repo, _)| repo);
    if let Some(bad) = model
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':')))
    {
        return fail(&format!(
            "it contains {bad:?} (expected `owner/name` with letters, digits, `-`, `_`, `.`)"
        ));
    }
    if repo
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return fail("it has an empty, `.` or `..` part between slashes");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(result: Result<()>) -> String {
        match result {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn model_ids() {
        for good in [
            "gpt2",
            "meta-llama/Llama-3.1-8B-Instruct",
            "openai/gpt-oss-120b:cerebras",
            "deepseek-ai/DeepSeek-R1:fastest",
            "Wan-AI/Wan2.2-T2V-A14B",
            "fal-ai/flux/dev",
        ] {
            model_id(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in [
            "org//model",
            "/model",
            "org/",
            "org/./model",
            "org/../model",
            "has space/model",
            "org/model\n",
            "org/mödel",
            "org/model?x=1",
        ] {
            assert_eq!(field_of(model_id(bad)), "model", "{bad:?}");
        }
        assert_eq!(field_of(model_id(&"a".repeat(300))), "model");
    }

    #[test]
    fn inputs_and_parameters() {
        let check = |v: Value| task_input(&v, &[]);
        assert_eq!(field_of(check(json!({"inputs": "  "}))), "inputs");
        assert_eq!(field_of(check(json!({"inputs": []}))), "inputs");
        assert_eq!(field_of(check(json!({"inputs": ["a", ""]}))), "inputs[1]");
        assert_eq!(
            field_of(check(json!({"inputs": {"question": "", "context": "c"}}))),
            "inputs.question"
        );
        assert_eq!(
            field_of(check(
                json!({"inputs": {"source_sentence": "a", "sentences": []}})
            )),
            "inputs.sentences"
        );
        assert_eq!(
            field_of(check(json!({"inputs": "x", "parameters": {"top_k": 0}}))),
            "parameters.top_k"
        );
        assert_eq!(
            field_of(check(json!({"inputs": "x", "parameters": {"width": -512}}))),
            "parameters.width"
        );
        assert_eq!(
            field_of(check(
                json!({"inputs": "x", "parameters": {"target_size": {"width": 0, "height": 5}}})
            )),
            "parameters.target_size.width"
        );
        assert_eq!(
            field_of(check(
                json!({"inputs": "x", "parameters": {"threshold": 1.5}})
            )),
            "parameters.threshold"
        );
        assert_eq!(
            field_of(check(
                json!({"inputs": "x", "parameters": {"candidate_labels": []}})
            )),
            "parameters.candidate_labels"
        );
        assert_eq!(
            field_of(check(
                json!({"inputs": "x", "parameters": {"candidate_labels": ["a", " "]}})
            )),
            "parameters.candidate_labels[1]"
        );
        // Valid values, and the ones left alone.
        check(json!({
            "inputs": {"query": "q", "table": {"a": ["", "1"]}},
            "parameters": {
                "top_k": 1, "seed": -1, "threshold": 0.0, "guidance_scale": 0,
                "generation_parameters": {"top_k": 0, "temperature": 0.7}
            }
        }))
        .unwrap();
        // A placeholder a file fills later is not judged.
        task_input(&json!({"inputs": ""}), &["/inputs"]).unwrap();
        task_input(
            &json!({"inputs": {"image": "", "question": "q"}}),
            &["/inputs/image"],
        )
        .unwrap();
    }
}
