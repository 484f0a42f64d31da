//! What goes to stdout: JSON, readable text, files, and the curl rendering of a dry run.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use hf_inference::types::audio_to_audio::AudioToAudioOutput;
use hf_inference::{Blob, InferenceClient, ProviderChoice, RequestPreview};
use serde_json::Value;

use crate::exit::CliError;
use crate::global::{Format, PROVIDER_MODEL_ID};

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

/// Prints streamed text as it arrives (flushed at once), and ends it with a newline when the
/// text did not.
pub struct TokenPrinter {
    out: std::io::StdoutLock<'static>,
    ended_with_newline: bool,
}

impl TokenPrinter {
    /// A printer on stdout.
    pub fn stdout() -> Self {
        Self {
            out: std::io::stdout().lock(),
            ended_with_newline: true,
        }
    }

    /// Prints one piece of text now.
    pub fn print(&mut self, text: &str) -> Result<(), CliError> {
        if !text.is_empty() {
            self.out.write_all(text.as_bytes())?;
            self.out.flush()?;
            self.ended_with_newline = text.ends_with('\n');
        }
        Ok(())
    }

    /// Prints one line (a JSON chunk) now.
    pub fn line(&mut self, line: &str) -> Result<(), CliError> {
        self.print(line)?;
        self.print("\n")
    }

    /// Ends the output with a newline if it does not end with one.
    pub fn finish(mut self) -> Result<(), CliError> {
        if !self.ended_with_newline {
            self.print("\n")?;
        }
        Ok(())
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

/// Where labelled files go (`-o FILE` or `-o DIR/`): never a terminal, nor stdout, which cannot
/// hold several files. Checked before anything is sent.
pub fn check_files_destination(output: Option<&Path>) -> Result<(), CliError> {
    match output {
        None => Err(CliError::usage(
            "this task answers with several files: pass -o FILE (FILE-1, FILE-2, … when there \
             are several) or -o DIR/",
        )),
        Some(path) if path == Path::new("-") => Err(CliError::usage(
            "this task answers with several files, which stdout cannot hold: pass -o FILE or -o DIR/",
        )),
        Some(_) => Ok(()),
    }
}

/// The paths of `count` files under `output`: an existing directory (or a path ending in `/`)
/// gets `N-LABEL.EXT`; a file path is used as is for one file, and numbered before its
/// extension (`out-1.flac`, `out-2.flac`) for several.
pub fn numbered_paths(output: &Path, files: &[(&str, Option<&str>)]) -> Vec<PathBuf> {
    let is_dir = output.is_dir() || output.as_os_str().to_string_lossy().ends_with('/');
    files
        .iter()
        .enumerate()
        .map(|(index, (label, extension))| {
            let n = index + 1;
            if is_dir {
                let label: String = label
                    .chars()
                    .map(|c| {
                        if c.is_alphanumeric() || c == '-' || c == '_' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let extension = extension.unwrap_or("bin");
                output.join(format!("{n}-{label}.{extension}"))
            } else if files.len() == 1 {
                output.to_path_buf()
            } else {
                let stem = output.file_stem().unwrap_or_default().to_string_lossy();
                let name = match output.extension() {
                    Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
                    None => format!("{stem}-{n}"),
                };
                output.with_file_name(name)
            }
        })
        .collect()
}

/// Writes labelled files (audio-to-audio) and reports them: a JSON list of `label`,
/// `content_type`, `file`, `bytes` on stdout, or one line each on stderr in text format.
pub fn write_labelled_blobs(
    files: &AudioToAudioOutput,
    output: &Path,
    format: Format,
) -> Result<(), CliError> {
    let names: Vec<(&str, Option<&str>)> = files
        .iter()
        .map(|f| (f.label.as_str(), f.blob.extension()))
        .collect();
    let paths = numbered_paths(output, &names);
    if let Some(dir) = paths
        .first()
        .and_then(|p| p.parent())
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::failure(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut report = Vec::new();
    for (file, path) in files.iter().zip(&paths) {
        let bytes = file.blob.bytes();
        std::fs::write(path, bytes)
            .map_err(|e| CliError::failure(format!("cannot write {}: {e}", path.display())))?;
        match format {
            Format::Json => report.push(serde_json::json!({
                "label": file.label,
                "content_type": file.content_type,
                "file": path.display().to_string(),
                "bytes": bytes.len(),
            })),
            Format::Text => eprintln!(
                "wrote {} ({}, {}, {} bytes)",
                path.display(),
                file.label,
                file.content_type,
                bytes.len()
            ),
        }
    }
    match format {
        Format::Json => print_value(&Value::Array(report), Format::Json),
        Format::Text => Ok(()),
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

/// Prints a dry run: the request as curl on stdout; on stderr, that nothing was sent and, when
/// the request holds [`PROVIDER_MODEL_ID`], what it stands for.
pub fn print_dry_run(preview: &RequestPreview, client: &InferenceClient) {
    let command = curl(preview);
    println!("{command}");
    if command.contains(PROVIDER_MODEL_ID) {
        let provider = match client.provider() {
            ProviderChoice::Provider(p) => p.as_str().to_owned(),
            other => other.to_string(),
        };
        eprintln!(
            "hfi: dry run: nothing was sent, not even to the Hub: {PROVIDER_MODEL_ID} stands for \
             {provider}'s id of {}, which a real call looks up on the Hub first",
            client.model().unwrap_or("the model")
        );
    } else {
        eprintln!("hfi: dry run: nothing was sent");
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
