//! A decoder for chat stream chunks that reads each field straight into its place.
//!
//! The derived `Deserialize` of [`ChatCompletionStreamOutput`] keeps unknown fields through
//! `#[serde(flatten)]`, which makes serde buffer every chunk (and its `choices` and `delta`)
//! into an intermediate tree of keys and values first, then decode that tree: about half the
//! cost of a streamed chunk. This decoder gives the same value (unknown fields still land in
//! `extra`) in one pass; [`json_event_stream`](super::sse::json_event_stream) uses it for chat
//! streams. Rare parts (`usage`, `logprobs`, `tool_calls`) go through their derived impls.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::types::chat::ChatCompletionStreamOutputDelta;
use crate::types::chat_completion::{ChatCompletionStreamOutput, ChatCompletionStreamOutputChoice};

/// Decodes one chunk's JSON text: the same value and the same failures as
/// `serde_json::from_str::<ChatCompletionStreamOutput>`, in about half the time.
///
/// ```
/// use hf_inference::http::chat_chunk::decode_chat_chunk;
///
/// let chunk = decode_chat_chunk(
///     r#"{"id":"c1","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}],"x":1}"#,
/// )
/// .unwrap();
/// assert_eq!(chunk.choices[0].delta.content.as_deref(), Some("Hi"));
/// assert_eq!(chunk.extra["x"], 1);
/// ```
pub fn decode_chat_chunk(data: &str) -> serde_json::Result<ChatCompletionStreamOutput> {
    let mut deserializer = serde_json::Deserializer::from_str(data);
    let value = deserializer.deserialize_map(ChunkVisitor)?;
    deserializer.end()?;
    Ok(value)
}

/// A key: one of the names a struct knows (`Known(i)`), or another, kept for `extra`.
enum Key {
    Known(usize),
    Other(String),
}

struct KeySeed(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(match self.0.iter().position(|k| *k == key) {
            Some(i) => Key::Known(i),
            None => Key::Other(key.to_owned()),
        })
    }
    fn visit_string<E: de::Error>(self, key: String) -> Result<Key, E> {
        Ok(match self.0.iter().position(|k| *k == key) {
            Some(i) => Key::Known(i),
            None => Key::Other(key),
        })
    }
}

/// Sets a field seen once; a second occurrence is an error, as with the derived impls.
fn set<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

const CHUNK_FIELDS: &[&str] = &[
    "choices",
    "created",
    "id",
    "model",
    "system_fingerprint",
    "usage",
];

struct ChunkVisitor;

impl<'de> Visitor<'de> for ChunkVisitor {
    type Value = ChatCompletionStreamOutput;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct ChatCompletionStreamOutput")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut choices = None;
        let mut created = None;
        let mut id = None;
        let mut model = None;
        let mut system_fingerprint: Option<Option<String>> = None;
        let mut usage = None;
        let mut extra = Map::new();
        while let Some(key) = map.next_key_seed(KeySeed(CHUNK_FIELDS))? {
            match key {
                Key::Known(0) => set(&mut choices, map.next_value_seed(ChoicesSeed)?, "choices")?,
                Key::Known(1) => set(&mut created, map.next_value()?, "created")?,
                Key::Known(2) => set(&mut id, map.next_value()?, "id")?,
                Key::Known(3) => set(&mut model, map.next_value()?, "model")?,
                Key::Known(4) => set(
                    &mut system_fingerprint,
                    map.next_value()?,
                    "system_fingerprint",
                )?,
                Key::Known(_) => set(&mut usage, map.next_value()?, "usage")?,
                Key::Other(name) => {
                    extra.insert(name, map.next_value::<Value>()?);
                }
            }
        }
        Ok(ChatCompletionStreamOutput {
            choices: choices.ok_or_else(|| de::Error::missing_field("choices"))?,
            created: created.ok_or_else(|| de::Error::missing_field("created"))?,
            id: id.ok_or_else(|| de::Error::missing_field("id"))?,
            model: model.ok_or_else(|| de::Error::missing_field("model"))?,
            system_fingerprint: system_fingerprint.flatten(),
            usage: usage.flatten(),
            extra,
        })
    }
}

struct ChoicesSeed;

impl<'de> DeserializeSeed<'de> for ChoicesSeed {
    type Value = Vec<ChatCompletionStreamOutputChoice>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ChoicesSeed {
    type Value = Vec<ChatCompletionStreamOutputChoice>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut choices = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(16));
        while let Some(choice) = seq.next_element_seed(ChoiceSeed)? {
            choices.push(choice);
        }
        Ok(choices)
    }
}

const CHOICE_FIELDS: &[&str] = &["delta", "finish_reason", "index", "logprobs"];

struct ChoiceSeed;

impl<'de> DeserializeSeed<'de> for ChoiceSeed {
    type Value = ChatCompletionStreamOutputChoice;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ChoiceSeed {
    type Value = ChatCompletionStreamOutputChoice;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct ChatCompletionStreamOutputChoice")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut delta = None;
        let mut finish_reason: Option<Option<String>> = None;
        let mut index = None;
        let mut logprobs = None;
        let mut extra = Map::new();
        while let Some(key) = map.next_key_seed(KeySeed(CHOICE_FIELDS))? {
            match key {
                Key::Known(0) => set(&mut delta, map.next_value_seed(DeltaSeed)?, "delta")?,
                Key::Known(1) => set(&mut finish_reason, map.next_value()?, "finish_reason")?,
                Key::Known(2) => set(&mut index, map.next_value()?, "index")?,
                Key::Known(_) => set(&mut logprobs, map.next_value()?, "logprobs")?,
                Key::Other(name) => {
                    extra.insert(name, map.next_value::<Value>()?);
                }
            }
        }
        Ok(ChatCompletionStreamOutputChoice {
            delta: delta.ok_or_else(|| de::Error::missing_field("delta"))?,
            finish_reason: finish_reason.flatten(),
            index: index.ok_or_else(|| de::Error::missing_field("index"))?,
            logprobs: logprobs.flatten(),
            extra,
        })
    }
}

const DELTA_FIELDS: &[&str] = &["role", "content", "tool_calls", "tool_call_id"];

struct DeltaSeed;

impl<'de> DeserializeSeed<'de> for DeltaSeed {
    type Value = ChatCompletionStreamOutputDelta;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DeltaSeed {
    type Value = ChatCompletionStreamOutputDelta;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct ChatCompletionStreamOutputDelta")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut delta = ChatCompletionStreamOutputDelta::default();
        let mut seen = [false; 4];
        while let Some(key) = map.next_key_seed(KeySeed(DELTA_FIELDS))? {
            if let Key::Known(i) = key
                && std::mem::replace(&mut seen[i], true)
            {
                return Err(de::Error::duplicate_field(DELTA_FIELDS[i]));
            }
            match key {
                Key::Known(0) => delta.role = map.next_value()?,
                Key::Known(1) => delta.content = map.next_value()?,
                Key::Known(2) => delta.tool_calls = map.next_value()?,
                Key::Known(_) => delta.tool_call_id = map.next_value()?,
                Key::Other(name) => {
                    delta.extra.insert(name, map.next_value::<Value>()?);
                }
            }
        }
        Ok(delta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass decoder and the derived impl agree on every chunk shape, and on errors.
    #[test]
    fn same_values_and_errors_as_the_derived_decoder() {
        let chunks = [
            r#"{"id":"c1","object":"chat.completion.chunk","created":1764000000,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"#,
            r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" Paris","reasoning_content":"hm"},"finish_reason":null,"extra_choice":[1,2]}],"x_groq":{"id":"q"}}"#,
            r#"{"id":"c1","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#,
            r#"{"id":"c1","created":1,"model":"m","choices":[],"usage":null,"system_fingerprint":null}"#,
            r#"{"id":"c1","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\""}}]},"finish_reason":null}]}"#,
            r#"{"id":"c1","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"é\n\"q\""},"logprobs":{"content":[{"token":"a","logprob":-0.1,"top_logprobs":[]}]},"finish_reason":null}]}"#,
            r#" { "model" : "m" , "id" : "c1" , "created" : 5 , "choices" : [ ] } "#,
        ];
        for chunk in chunks {
            let derived: ChatCompletionStreamOutput = serde_json::from_str(chunk).unwrap();
            assert_eq!(decode_chat_chunk(chunk).unwrap(), derived, "{chunk}");
        }
        for bad in [
            r#"{"created":1,"model":"m","choices":[]}"#,
            r#"{"id":"c1","created":"x","model":"m","choices":[]}"#,
            r#"{"id":"c1","created":1,"model":"m","choices":3}"#,
            r#"{"id":"c1","created":1,"model":"m","choices":[{"delta":{}}]}"#,
            r#"{"id":"c1","created":1,"model":"m","choices":[{"index":0,"delta":{"content":5}}]}"#,
            r#"{"id":"c1","created":1,"model":"m","choices":[]} trailing"#,
            r#"[1]"#,
        ] {
            let derived = serde_json::from_str::<ChatCompletionStreamOutput>(bad);
            assert!(derived.is_err(), "{bad}");
            assert!(decode_chat_chunk(bad).is_err(), "{bad}");
        }
    }
}
