//! What goes to stdout: JSON, readable text, files, and the curl rendering of a dry run.

use std::io::{IsTerminal, Write};
use std::path::Path;

use hf_inference::{Blob, RequestPreview};
use serde_json::Value;

use crate::exit::CliError;
use crate::global::Format;

/// Prints a structured result.
pub fn print_value(value: &Value, format: Format) -> Result<(), CliError> {
    let text = match format {
        Format::Json => serde_json::to_string_pretty(value)
            .map_err(|e| CliError::failure(format!("cannot print the answer: {e}")))?,
        Format::Text => readable(value),
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    Ok(())
}

/// A readable rendering: strings as they are, the one text field of an answer (`generated_text`,
/// `summary_text`, …) alone, lists of records as tab-separated lines, anything else as JSON.
pub fn readable(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(_) | Value::Bool(_) | Value::Null => value.to_string(),
        Value::Object(fields) => {
            let texts: Vec<&str> = fields.values().filter_map(Value::as_str).collect();
            if texts.len() == 1 && fields.len() <= 2 {
                texts[0].to_owned()
            } else {
                serde_json::to_string_pretty(value).unwrap_or_default()
            }
        }
        Value::Array(items) if items.iter().all(Value::is_object) => items
            .iter()
            .map(|item| {
                item.as_object()
                    .into_iter()
                    .flat_map(|o| o.values())
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("\t")
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Array(items) if items.iter().all(|v| !v.is_array() && !v.is_object()) => {
            items.iter().map(readable).collect::<Vec<_>>().join("\n")
        }
        Value::Array(_) => serde_json::to_string(value).unwrap_or_default(),
    }
}

/// Where a file answer goes: `-o FILE`, or `-o -` for stdout when it is not a terminal.
/// Checked before anything is sent, so a missing `-o` costs no inference call.
pub fn check_file_destination(output: Option<&Path>) -> Result<(), CliError> {
    match output {
        None => Err(CliError::usage(
            "this task answers with a file: pass -o FILE (or -o - to write it to a pipe)",
        )),
        Some(path) if path == Path::new("-") && std::io::stdout().is_terminal() => {
            Err(CliError::usage(
                "refusing to write binary data to a terminal: pass -o FILE, or pipe the output",
            ))
        }
        Some(_) => Ok(()),
    }
}

/// Writes a file answer and reports it (as JSON on stdout, or a line on stderr in text mode).
pub fn write_blob(blob: &Blob, output: &Path, format: Format) -> Result<(), CliError> {
    let bytes = blob.bytes();
    if output == Path::new("-") {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()?;
        return Ok(());
    }
    std::fs::write(output, bytes)
        .map_err(|e| CliError::failure(format!("cannot write {}: {e}", output.display())))?;
    let content_type = blob.content_type().unwrap_or("application/octet-stream");
    match format {
        Format::Json => print_value(
            &serde_json::json!({
                "file": output.display().to_string(),
                "content_type": content_type,
                "bytes": bytes.len(),
            }),
            Format::Json,
        ),
        Format::Text => {
            eprintln!(
                "wrote {} ({content_type}, {} bytes)",
                output.display(),
                bytes.len()
            );
            Ok(())
        }
    }
}

/// The request as a curl command. Credentials are already `<redacted>` in the preview; a binary
/// body is not printed (its size and type are).
pub fn curl(preview: &RequestPreview) -> String {
    let mut lines = vec![format!(
        "curl -X {} {}",
        preview.method,
        shell_quote(&preview.url)
    )];
    for (name, value) in &preview.headers {
        lines.push(format!("  -H {}", shell_quote(&format!("{name}: {value}"))));
    }
    match &preview.body {
        None => {}
        Some(body) => match std::str::from_utf8(body) {
            Ok(text) => lines.push(format!("  --data-raw {}", shell_quote(text))),
            Err(_) => lines.push(format!(
                "  --data-binary @FILE  # the {} bytes of the input file",
                body.len()
            )),
        },
    }
    lines.join(" \\\n")
}

/// Single-quotes `text` for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn readable_renderings() {
        assert_eq!(readable(&json!({"generated_text": "Paris"})), "Paris");
        assert_eq!(
            readable(
                &json!([{"label": "POSITIVE", "score": 0.9}, {"label": "NEGATIVE", "score": 0.1}])
            ),
            "POSITIVE\t0.9\nNEGATIVE\t0.1"
        );
        assert_eq!(readable(&json!([0.5, 1.0])), "0.5\n1.0");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
