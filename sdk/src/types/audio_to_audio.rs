//! Types of the `audio-to-audio` task: [`AudioToAudioInput`], [`AudioToAudioOutput`] and its
//! [`AudioToAudioOutputElement`]s.
//!
//! Hand-written: `@huggingface/tasks` has no JSON schema for this task. The input is one audio
//! file (sent as the raw body, or as base64 `inputs` when other fields go with it); the answer
//! is a list of audio files (the separated sources, or the enhanced speech), each as
//! `{"label", "content-type", "blob": <base64>}` on the wire. The SDK decodes each `blob` into
//! a [`Blob`] typed with its `content-type` while reading the answer.
//!
//! ```
//! use hf_inference::types::audio_to_audio::AudioToAudioOutput;
//!
//! let answer = r#"[{"label": "speech", "content-type": "audio/flac", "blob": "ZkxhQw=="}]"#;
//! let out: AudioToAudioOutput = serde_json::from_str(answer).unwrap();
//! assert_eq!(out[0].label, "speech");
//! assert_eq!(out[0].blob.bytes().as_ref(), b"fLaC");
//! assert_eq!(out[0].blob.content_type(), Some("audio/flac"));
//! ```

use std::borrow::Cow;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::binary::Blob;

/// Inputs of the `audio-to-audio` task. The task method fills `inputs` from its
/// [`BinaryInput`](crate::binary::BinaryInput) when the request is built; it is empty until
/// then.
///
/// ```
/// use hf_inference::types::audio_to_audio::AudioToAudioInput;
///
/// let input = AudioToAudioInput::new("ZkxhQw==");
/// assert_eq!(serde_json::to_string(&input).unwrap(), r#"{"inputs":"ZkxhQw=="}"#);
/// ```
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct AudioToAudioInput {
    /// The input audio as base64 (sent as the raw body when nothing else is).
    pub inputs: String,
}

impl AudioToAudioInput {
    /// The input for `inputs` (base64 audio).
    ///
    /// ```
    /// use hf_inference::types::audio_to_audio::AudioToAudioInput;
    /// assert_eq!(AudioToAudioInput::new("AAAA").inputs, "AAAA");
    /// ```
    pub fn new(inputs: impl Into<String>) -> Self {
        Self {
            inputs: inputs.into(),
        }
    }
}

/// One audio file of an `audio-to-audio` answer.
///
/// Reads `{"label", "content-type", "blob": <base64 or data: URL>}`: the base64 is decoded into
/// [`blob`](Self::blob), typed with `content-type` (or, when the server sent none, with the
/// `data:` URL's type or the type sniffed from the bytes). Fields this version does not know are
/// kept in [`extra`](Self::extra). Serializes back to the wire form (`blob` as base64).
///
/// ```
/// use hf_inference::types::audio_to_audio::AudioToAudioOutputElement;
///
/// let element: AudioToAudioOutputElement = serde_json::from_str(
///     r#"{"label": "vocals", "content-type": "audio/wav", "blob": "UklGRg==", "score": 0.9}"#,
/// )
/// .unwrap();
/// assert_eq!(element.content_type, "audio/wav");
/// assert_eq!(element.blob.bytes().as_ref(), b"RIFF");
/// assert_eq!(element.extra["score"], 0.9);
/// assert_eq!(
///     serde_json::to_string(&element).unwrap(),
///     r#"{"label":"vocals","content-type":"audio/wav","blob":"UklGRg==","score":0.9}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AudioToAudioOutputElement {
    /// What the file holds (`"speech"`, `"vocals"`, `"noise"`, …).
    pub label: String,
    /// The media type of the file, as served (`audio/flac`, …); the sniffed or `data:` URL type
    /// when the server sent none, else empty.
    pub content_type: String,
    /// The decoded audio, with its content type.
    pub blob: Blob,
    /// Fields of the answer this version does not name, kept verbatim.
    pub extra: Map<String, Value>,
}

/// The wire form, read without copying the base64 where the JSON allows it.
#[derive(Deserialize)]
struct WireElement<'a> {
    label: String,
    #[serde(rename = "content-type", default)]
    content_type: Option<String>,
    #[serde(borrow)]
    blob: Cow<'a, str>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for AudioToAudioOutputElement {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireElement::deserialize(deserializer)?;
        let declared = wire.content_type.filter(|t| !t.trim().is_empty());
        let blob = Blob::from_base64(&wire.blob, declared.clone()).map_err(|e| {
            D::Error::custom(format_args!(
                "`blob` of the audio labelled {:?}: {e}",
                wire.label
            ))
        })?;
        let content_type = declared
            .or_else(|| blob.content_type().map(str::to_owned))
            .unwrap_or_default();
        Ok(Self {
            label: wire.label,
            content_type,
            blob,
            extra: wire.extra,
        })
    }
}

impl Serialize for AudioToAudioOutputElement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            label: &'a str,
            #[serde(rename = "content-type")]
            content_type: &'a str,
            blob: String,
            #[serde(flatten)]
            extra: &'a Map<String, Value>,
        }
        Wire {
            label: &self.label,
            content_type: &self.content_type,
            blob: self.blob.to_base64(),
            extra: &self.extra,
        }
        .serialize(serializer)
    }
}

/// Outputs of the `audio-to-audio` task: the audio files the model produced.
///
/// ```
/// use hf_inference::types::audio_to_audio::AudioToAudioOutput;
///
/// let out: AudioToAudioOutput = serde_json::from_str(
///     r#"[{"label": "a", "content-type": "audio/flac", "blob": "ZkxhQw=="},
///         {"label": "b", "content-type": "audio/flac", "blob": "ZkxhQw=="}]"#,
/// )
/// .unwrap();
/// let labels: Vec<&str> = out.iter().map(|e| e.label.as_str()).collect();
/// assert_eq!(labels, ["a", "b"]);
/// ```
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(transparent)]
pub struct AudioToAudioOutput(pub Vec<AudioToAudioOutputElement>);

impl std::ops::Deref for AudioToAudioOutput {
    type Target = Vec<AudioToAudioOutputElement>;

    /// The files.
    ///
    /// ```
    /// use hf_inference::types::audio_to_audio::AudioToAudioOutput;
    /// assert!(AudioToAudioOutput::default().is_empty());
    /// ```
    fn deref(&self) -> &Vec<AudioToAudioOutputElement> {
        &self.0
    }
}

impl From<AudioToAudioOutput> for Vec<AudioToAudioOutputElement> {
    /// The files, without a copy.
    ///
    /// ```
    /// use hf_inference::types::audio_to_audio::{AudioToAudioOutput, AudioToAudioOutputElement};
    /// let files: Vec<AudioToAudioOutputElement> = AudioToAudioOutput::default().into();
    /// assert!(files.is_empty());
    /// ```
    fn from(value: AudioToAudioOutput) -> Self {
        value.0
    }
}

impl From<Vec<AudioToAudioOutputElement>> for AudioToAudioOutput {
    /// The files as an output.
    ///
    /// ```
    /// use hf_inference::types::audio_to_audio::AudioToAudioOutput;
    /// assert!(AudioToAudioOutput::from(Vec::new()).is_empty());
    /// ```
    fn from(value: Vec<AudioToAudioOutputElement>) -> Self {
        Self(value)
    }
}

impl IntoIterator for AudioToAudioOutput {
    type Item = AudioToAudioOutputElement;
    type IntoIter = std::vec::IntoIter<AudioToAudioOutputElement>;

    /// The files, in the order served.
    ///
    /// ```
    /// use hf_inference::types::audio_to_audio::AudioToAudioOutput;
    /// let out: AudioToAudioOutput =
    ///     serde_json::from_str(r#"[{"label": "a", "content-type": "audio/flac", "blob": ""}]"#)
    ///         .unwrap();
    /// for file in out {
    ///     assert_eq!(file.blob.bytes().len(), 0);
    /// }
    /// ```
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_decoded_with_the_served_type() {
        let body = br#"[{"label":"speech","content-type":"audio/flac","blob":"ZkxhQw=="}]"#;
        let out: AudioToAudioOutput = serde_json::from_slice(body).unwrap();
        assert_eq!(
            out[0].blob,
            Blob::new(&b"fLaC"[..], Some("audio/flac".into()))
        );
        assert_eq!(serde_json::to_vec(&out).unwrap(), body);
    }

    #[test]
    fn a_missing_type_is_sniffed() {
        let out: AudioToAudioOutputElement =
            serde_json::from_str(r#"{"label":"x","blob":"ZkxhQwAAAAA="}"#).unwrap();
        assert_eq!(out.content_type, "audio/flac");
        assert_eq!(out.blob.content_type(), Some("audio/flac"));
        let out: AudioToAudioOutputElement =
            serde_json::from_str(r#"{"label":"x","content-type":"","blob":"AAAA"}"#).unwrap();
        assert_eq!(out.content_type, "");
        assert_eq!(out.blob.content_type(), None);
    }

    #[test]
    fn escaped_base64_is_read_too() {
        // `\/` forces an owned copy of the string; `/` is a base64 character.
        let out: AudioToAudioOutputElement =
            serde_json::from_str(r#"{"label":"x","content-type":"audio/wav","blob":"a\/8="}"#)
                .unwrap();
        assert_eq!(out.blob.bytes().as_ref(), &[0x6b, 0xff]);
    }

    #[test]
    fn invalid_base64_names_the_label() {
        let err = serde_json::from_str::<AudioToAudioOutputElement>(
            r#"{"label":"vocals","content-type":"audio/wav","blob":"not base64!"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("\"vocals\""), "{err}");
        assert!(
            serde_json::from_str::<AudioToAudioOutputElement>(r#"{"label":"x"}"#).is_err(),
            "a missing blob is an error"
        );
    }
}
