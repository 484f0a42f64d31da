//! `--param key=value` and `--input-json`: parsing and validation.

use serde_json::{Map, Value};

use crate::exit::CliError;

/// Parses `text` as a JSON object, naming `what` on error.
pub fn json_object(text: &str, what: &str) -> Result<Map<String, Value>, CliError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(CliError::usage(format!("{what}: expected a JSON object"))),
        Err(e) => Err(CliError::usage(format!("{what}: not valid JSON: {e}"))),
    }
}

/// Splits `key=value`.
pub fn split_pair(pair: &str) -> Result<(&str, &str), CliError> {
    pair.split_once('=')
        .filter(|(key, _)| !key.trim().is_empty())
        .map(|(k, v)| (k.trim(), v))
        .ok_or_else(|| CliError::usage(format!("--param `{pair}`: expected KEY=VALUE")))
}
