//! One module per task family: the request builders users call, and how each builds its body
//! and reads its answer on every provider.

pub mod audio_to_audio;
pub mod chat_completion;
pub mod generic;
pub mod tabular;
pub mod text_generation;
pub(crate) mod validate;

pub use crate::generated::tasks::*;

use serde_json::{Map, Value};

/// A typed input as a JSON value, numbers as they would be written on the wire.
///
/// `serde_json::to_value` widens an `f32` to the nearest `f64` (`0.7` becomes
/// `0.699999988079071`); writing the text first keeps the shortest `f32` spelling (`0.7`), as the
/// reference sends it.
pub(crate) fn to_wire_value<T: serde::Serialize>(value: &T) -> serde_json::Result<Value> {
    serde_json::from_slice(&serde_json::to_vec(value)?)
}

/// Asks for server-sent events: the `Accept` header of a streamed call.
pub(crate) fn accept_event_stream(request: &mut crate::http::transport::PreparedRequest) {
    request.headers.insert(
        reqwest::header::ACCEPT,
        reqwest::header::HeaderValue::from_static("text/event-stream"),
    );
}

/// Deep-merges `extra` into `base`: objects merge key by key, anything else in `extra` replaces
/// what `base` had (the reference's `recursive_merge`).
pub(crate) fn merge_json(base: &mut Map<String, Value>, extra: Map<String, Value>) {
    for (key, value) in extra {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => {
                merge_json(existing, incoming);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_is_deep_and_extra_wins() {
        let Value::Object(mut base) = json!({"a": {"x": 1, "y": 2}, "b": 1}) else {
            unreachable!()
        };
        let Value::Object(extra) = json!({"a": {"y": 3, "z": 4}, "b": [1]}) else {
            unreachable!()
        };
        merge_json(&mut base, extra);
        assert_eq!(
            Value::Object(base),
            json!({"a": {"x": 1, "y": 3, "z": 4}, "b": [1]})
        );
    }

    #[test]
    fn wire_value_keeps_the_f32_spelling() {
        #[derive(serde::Serialize)]
        struct P {
            temperature: f32,
        }
        let value = to_wire_value(&P { temperature: 0.7 }).unwrap();
        assert_eq!(value.to_string(), r#"{"temperature":0.7}"#);
    }
}
