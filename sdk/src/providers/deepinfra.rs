//! DeepInfra (python-client.md §3.3): automatic speech recognition as a `multipart/form-data`
//! upload to its OpenAI-compatible transcription route. Chat, text generation, embeddings and
//! speech synthesis use the generic OpenAI-style engine.
//!
//! The form, CRLF line endings throughout:
//! 1. `file`: the audio, `filename="audio{ext}"` with the extension of its content type (`.wav`
//!    when unknown) and `Content-Type: {content type or application/octet-stream}`;
//! 2. one part per parameter, in order, then per `extra_body` field (null values left out);
//!    strings as is, booleans `true`/`false`, numbers as JSON writes them, anything else
//!    JSON-encoded;
//! 3. `model` = the provider's model id, last (a `model` parameter never replaces it);
//! 4. the closing `--{boundary}--\r\n`.
//!
//! The answer `{"text", "segments"?}` becomes `{"text", "chunks": [{"text", "timestamp":
//! [start, end]}]}` (`chunks` only when `segments` is present).
//!
//! Deliberate differences from the reference: the extension comes from the SDK's fixed table of
//! audio types (Python's `mimetypes.guess_extension` depends on the platform); JSON-encoded
//! values are compact (`["a","b"]`, where Python writes `["a", "b"]`); the boundary is 32
//! random hex digits, like `uuid4().hex`.

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::{Map, Value, json};

use crate::binary::Blob;
use crate::error::{Error, Result, redact_url};
use crate::providers::{Provider, Task};

use super::adapter::{Answer, Call, not_implemented};

/// The tasks this file implements.
pub(crate) fn implements(task: Task) -> bool {
    task == Task::AutomaticSpeechRecognition
}

/// The request body of a JSON entry (DeepInfra has none here: its transcription is multipart,
/// see [`multipart`]).
pub(crate) async fn body(call: &Call<'_>) -> Result<Value> {
    Err(not_implemented(Provider::Deepinfra, call.task))
}

/// The multipart form of a call: `(boundary, body)`.
pub(crate) async fn multipart(call: &Call<'_>) -> Result<(String, Bytes)> {
    if call.task != Task::AutomaticSpeechRecognition {
        return Err(not_implemented(Provider::Deepinfra, call.task));
    }
    let audio = call.first_binary().ok_or_else(|| Error::InvalidInput {
        field: "inputs".into(),
        message: "the task needs an audio input".into(),
    })?;
    let load = audio.clone().load(&call.client.inner.http);
    // A stalled file host must not hang the call: the client's timeout bounds it too.
    let audio = match call.client.inner.timeout {
        Some(after) => tokio::time::timeout(after, load)
            .await
            .map_err(|_| Error::Timeout {
                url: audio
                    .url()
                    .and_then(|u| url::Url::parse(u).ok())
                    .map_or_else(|| "binary input".to_owned(), |u| redact_url(&u)),
                after,
            })??,
        None => load.await?,
    };
    let mut fields: Vec<(String, Value)> = call.parameters().into_iter().collect();
    fields.extend(
        call.input
            .iter()
            .filter(|(key, _)| !matches!(key.as_str(), "inputs" | "parameters"))
            .map(|(key, value)| (key.clone(), value.clone())),
    );
    fields.retain(|(name, value)| name != "model" && !value.is_null());
    let model = call.target.provider_model_id.clone().unwrap_or_default();
    let boundary = format!("{:032x}", fastrand::u128(..));
    Ok((boundary.clone(), encode(&boundary, &audio, &fields, &model)))
}

/// The form body (see the module documentation).
fn encode(boundary: &str, audio: &Blob, fields: &[(String, Value)], model: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(audio.bytes().len() + 512);
    let extension = audio.extension().unwrap_or("wav");
    let content_type = audio.content_type().unwrap_or("application/octet-stream");
    out.put_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"audio.{extension}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    out.put_slice(audio.bytes());
    out.put_slice(b"\r\n");
    let mut field = |name: &str, value: &str| {
        out.put_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{value}\r\n",
                escape_name(name)
            )
            .as_bytes(),
        );
    };
    for (name, value) in fields {
        field(name, &form_value(value));
    }
    field("model", model);
    out.put_slice(format!("--{boundary}--\r\n").as_bytes());
    out.freeze()
}

/// A form field name with the characters that would end the quoted string escaped (as
/// browsers and Python's `httpx` do).
fn escape_name(name: &str) -> String {
    name.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A field value: strings as is, booleans `true`/`false`, numbers as written, else JSON.
fn form_value(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn decode_error(message: impl Into<String>, answer: &Value) -> Error {
    Error::Decode {
        target: "AutomaticSpeechRecognitionOutput",
        message: message.into(),
        body_excerpt: answer.to_string().chars().take(1024).collect(),
    }
}

/// `{"text", "segments"?}` → `{"text", "chunks"?}`.
pub(crate) async fn answer(call: &Call<'_>, last: Value) -> Result<Answer> {
    if call.task != Task::AutomaticSpeechRecognition {
        return Err(not_implemented(Provider::Deepinfra, call.task));
    }
    transcription(&last).map(Answer::Json)
}

fn transcription(last: &Value) -> Result<Value> {
    let text = last
        .get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| decode_error("DeepInfra answered without a `text` string", last))?;
    let mut out = Map::new();
    out.insert("text".into(), Value::String(text.to_owned()));
    match last.get("segments") {
        None | Some(Value::Null) => {}
        Some(Value::Array(segments)) => {
            let mut chunks = Vec::with_capacity(segments.len());
            for segment in segments {
                let text = segment.get("text").and_then(Value::as_str);
                let start = segment.get("start").and_then(Value::as_f64);
                let end = segment.get("end").and_then(Value::as_f64);
                let (Some(text), Some(start), Some(end)) = (text, start, end) else {
                    return Err(decode_error(
                        "a segment without `text`, `start` and `end`",
                        last,
                    ));
                };
                chunks.push(json!({"text": text, "timestamp": [start, end]}));
            }
            out.insert("chunks".into(), Value::Array(chunks));
        }
        Some(_) => return Err(decode_error("`segments` is not a list", last)),
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_is_byte_exact() {
        let audio = Blob::new(
            Bytes::from_static(b"fLaC\x00\x01"),
            Some("audio/flac".into()),
        );
        let fields = vec![
            ("return_timestamps".to_owned(), json!(true)),
            ("temperature".to_owned(), json!(0.5)),
            ("language".to_owned(), json!("en")),
            ("words".to_owned(), json!(["a", "b"])),
        ];
        let body = encode("b0", &audio, &fields, "openai/whisper-large-v3");
        let expected: &[u8] = b"--b0\r\n\
            Content-Disposition: form-data; name=\"file\"; filename=\"audio.flac\"\r\n\
            Content-Type: audio/flac\r\n\r\n\
            fLaC\x00\x01\r\n\
            --b0\r\nContent-Disposition: form-data; name=\"return_timestamps\"\r\n\r\ntrue\r\n\
            --b0\r\nContent-Disposition: form-data; name=\"temperature\"\r\n\r\n0.5\r\n\
            --b0\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nen\r\n\
            --b0\r\nContent-Disposition: form-data; name=\"words\"\r\n\r\n[\"a\",\"b\"]\r\n\
            --b0\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nopenai/whisper-large-v3\r\n\
            --b0--\r\n";
        assert_eq!(
            String::from_utf8_lossy(&body),
            String::from_utf8_lossy(expected)
        );
        assert_eq!(body.as_ref(), expected);
    }

    #[test]
    fn unknown_audio_is_wav_named_octet_stream() {
        let audio = Blob::new(Bytes::from_static(b"\x00\x01"), None);
        let body = encode("b", &audio, &[], "m");
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains("filename=\"audio.wav\"\r\nContent-Type: application/octet-stream\r\n"),
            "{text}"
        );
    }

    #[test]
    fn names_cannot_break_out_of_quotes() {
        assert_eq!(escape_name("a\"b\r\nc"), "a%22b%0D%0Ac");
    }

    #[test]
    fn transcriptions() {
        assert_eq!(
            transcription(&json!({"text": "hi"})).unwrap(),
            json!({"text": "hi"})
        );
        assert_eq!(
            transcription(&json!({
                "text": " Hello world",
                "segments": [
                    {"id": 0, "start": 0.0, "end": 1.5, "text": " Hello"},
                    {"id": 1, "start": 1.5, "end": 2.25, "text": " world"}
                ]
            }))
            .unwrap(),
            json!({
                "text": " Hello world",
                "chunks": [
                    {"text": " Hello", "timestamp": [0.0, 1.5]},
                    {"text": " world", "timestamp": [1.5, 2.25]}
                ]
            })
        );
        for bad in [
            json!({"text": 3}),
            json!({}),
            json!({"text": "x", "segments": {}}),
            json!({"text": "x", "segments": [{"text": "y"}]}),
        ] {
            assert!(
                matches!(transcription(&bad), Err(Error::Decode { .. })),
                "{bad}"
            );
        }
    }
}
