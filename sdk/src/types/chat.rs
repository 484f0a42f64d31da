//! Hand-written chat-completion types.
//!
//! The Hub's chat schema describes messages, deltas, `tool_choice` and `response_format` as
//! unions that a generator reads badly (untagged first-match unions that drop `tool_calls`, an
//! externally tagged `tool_choice` that rejects OpenAI's form). These types replace them; the
//! generator plugs them into [`crate::types::chat_completion`] under the Hub's names.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::types::chat_completion::{
    ChatCompletionInputFunctionName, ChatCompletionInputJsonSchemaConfig,
    ChatCompletionInputMessageChunk, ChatCompletionInputMessageContent,
    ChatCompletionInputToolCall, ChatCompletionInputUrl, ChatCompletionOutputToolCall,
    ChatCompletionStreamOutputDeltaToolCall,
};

/// Who wrote a message. Unknown roles are kept verbatim in [`ChatRole::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChatRole {
    /// Instructions that frame the conversation.
    System,
    /// OpenAI's newer name for system instructions.
    Developer,
    /// The person talking to the model.
    User,
    /// The model.
    Assistant,
    /// The result of a tool call, answering the assistant's `tool_calls`.
    Tool,
    /// A role this SDK does not know.
    Other(String),
}

impl ChatRole {
    /// The role as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::System => "system",
            Self::Developer => "developer",
            Self::User => "user",
            Self::Assistant => "assistant",
            Self::Tool => "tool",
            Self::Other(role) => role,
        }
    }
}

impl From<&str> for ChatRole {
    fn from(role: &str) -> Self {
        match role {
            "system" => Self::System,
            "developer" => Self::Developer,
            "user" => Self::User,
            "assistant" => Self::Assistant,
            "tool" => Self::Tool,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl std::fmt::Display for ChatRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ChatRole {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ChatRole {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let role = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Ok(Self::from(role.as_ref()))
    }
}

/// One message of the conversation sent to the model.
///
/// ```
/// use hf_inference::types::chat_completion::ChatCompletionInputMessage;
///
/// let messages = vec![
///     ChatCompletionInputMessage::system("You are a terse assistant."),
///     ChatCompletionInputMessage::user("What is the capital of France?"),
/// ];
/// assert_eq!(
///     serde_json::to_string(&messages[1]).unwrap(),
///     r#"{"role":"user","content":"What is the capital of France?"}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionInputMessage {
    /// Who wrote the message.
    pub role: ChatRole,
    /// Text, or a list of text and image parts. Absent on an assistant message that only calls
    /// tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ChatCompletionInputMessageContent>,
    /// An optional name for the participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Tool calls the assistant made (replayed in the history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ChatCompletionInputToolCall>>,
    /// On a `tool` message: the id of the call this message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Fields the schema does not name (provider-specific), sent as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletionInputMessage {
    /// A message with the given role and text.
    pub fn new(role: ChatRole, content: impl Into<ChatCompletionInputMessageContent>) -> Self {
        Self {
            role,
            content: Some(content.into()),
            name: None,
            tool_calls: None,
            tool_call_id: None,
            extra: Map::new(),
        }
    }

    /// A system message.
    pub fn system(content: impl Into<ChatCompletionInputMessageContent>) -> Self {
        Self::new(ChatRole::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<ChatCompletionInputMessageContent>) -> Self {
        Self::new(ChatRole::User, content)
    }

    /// An assistant message (e.g. an earlier answer in the history).
    pub fn assistant(content: impl Into<ChatCompletionInputMessageContent>) -> Self {
        Self::new(ChatRole::Assistant, content)
    }

    /// A tool result answering the call with id `tool_call_id`.
    pub fn tool(
        tool_call_id: impl Into<String>,
        content: impl Into<ChatCompletionInputMessageContent>,
    ) -> Self {
        Self {
            tool_call_id: Some(tool_call_id.into()),
            ..Self::new(ChatRole::Tool, content)
        }
    }

    /// A user message with text and one image (an `https://` URL or a `data:` URL).
    ///
    /// ```
    /// use hf_inference::types::chat_completion::ChatCompletionInputMessage;
    ///
    /// let m = ChatCompletionInputMessage::user_with_image("Describe this.", "https://example.com/cat.png");
    /// let json = serde_json::to_value(&m).unwrap();
    /// assert_eq!(json["content"][1]["image_url"]["url"], "https://example.com/cat.png");
    /// ```
    pub fn user_with_image(text: impl Into<String>, image_url: impl Into<String>) -> Self {
        Self::user(vec![
            ChatCompletionInputMessageChunk::Text { text: text.into() },
            ChatCompletionInputMessageChunk::ImageUrl {
                image_url: ChatCompletionInputUrl::new(image_url),
            },
        ])
    }

    /// Sets the participant name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// Which tool the model may or must call.
///
/// Serialized the OpenAI way (`"auto"`, `"none"`, `"required"`, or
/// `{"type":"function","function":{"name":…}}`); the TGI form without `type` is accepted too.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ChatCompletionInputToolChoice {
    /// The model decides.
    Auto,
    /// The model must not call a tool.
    None,
    /// The model must call some tool.
    Required,
    /// The model must call this function.
    Function(ChatCompletionInputFunctionName),
    /// A string value this SDK does not know.
    Other(String),
}

impl ChatCompletionInputToolChoice {
    /// Forces a call of the named function.
    pub fn function(name: impl Into<String>) -> Self {
        Self::Function(ChatCompletionInputFunctionName::new(name))
    }
}

impl Serialize for ChatCompletionInputToolChoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Named<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            function: &'a ChatCompletionInputFunctionName,
        }
        match self {
            Self::Auto => serializer.serialize_str("auto"),
            Self::None => serializer.serialize_str("none"),
            Self::Required => serializer.serialize_str("required"),
            Self::Other(value) => serializer.serialize_str(value),
            Self::Function(function) => Named {
                kind: "function",
                function,
            }
            .serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ChatCompletionInputToolChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Mode(String),
            Named {
                function: ChatCompletionInputFunctionName,
            },
        }
        Ok(match Wire::deserialize(deserializer)? {
            Wire::Mode(mode) => match mode.as_str() {
                "auto" => Self::Auto,
                "none" => Self::None,
                "required" => Self::Required,
                _ => Self::Other(mode),
            },
            Wire::Named { function } => Self::Function(function),
        })
    }
}

/// The format the answer must follow (`response_format`).
///
/// ```
/// use hf_inference::types::chat_completion::ChatCompletionInputGrammarType;
///
/// let format = ChatCompletionInputGrammarType::json_schema(
///     "answer",
///     serde_json::json!({"type": "object", "properties": {"city": {"type": "string"}}}),
/// );
/// let json = serde_json::to_value(&format).unwrap();
/// assert_eq!(json["type"], "json_schema");
/// assert_eq!(json["json_schema"]["name"], "answer");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChatCompletionInputGrammarType {
    /// Plain text (the default).
    Text,
    /// Any JSON object. Some servers take the schema here: TGI as `value`, Cohere and
    /// Fireworks as `schema`.
    JsonObject {
        /// JSON schema, in the Cohere/Fireworks spelling.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<Value>,
        /// JSON schema, in the TGI grammar spelling.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<Value>,
    },
    /// JSON following a named schema (OpenAI's structured outputs).
    JsonSchema {
        /// The schema and its name.
        json_schema: ChatCompletionInputJsonSchemaConfig,
    },
}

impl ChatCompletionInputGrammarType {
    /// JSON output following `schema`, under the given name.
    pub fn json_schema(name: impl Into<String>, schema: Value) -> Self {
        let mut config = ChatCompletionInputJsonSchemaConfig::new(name);
        config.schema = match schema {
            Value::Object(map) => Some(map),
            other => {
                let mut map = Map::new();
                map.insert("schema".into(), other);
                Some(map)
            }
        };
        Self::JsonSchema {
            json_schema: config,
        }
    }
}

fn assistant() -> ChatRole {
    ChatRole::Assistant
}

/// The message the model answered with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionOutputMessage {
    /// Always the assistant in practice.
    #[serde(default = "assistant")]
    pub role: ChatRole,
    /// The answer text; `None` when the model only called tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Tools the model wants called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ChatCompletionOutputToolCall>>,
    /// Set by some servers on tool messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Fields the schema does not name (e.g. `reasoning_content`, `refusal`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One increment of a streamed answer. Every field is optional: OpenAI-compatible servers send
/// `role` only in the first chunk and an empty delta in the last.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionStreamOutputDelta {
    /// Present in the first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<ChatRole>,
    /// The next piece of text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Pieces of tool calls; join them by `index`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ChatCompletionStreamOutputDeltaToolCall>>,
    /// Set by some servers on tool messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Fields the schema does not name (e.g. `reasoning_content`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_choice_accepts_openai_and_tgi_forms() {
        let openai: ChatCompletionInputToolChoice =
            serde_json::from_value(json!({"type": "function", "function": {"name": "f"}})).unwrap();
        let tgi: ChatCompletionInputToolChoice =
            serde_json::from_value(json!({"function": {"name": "f"}})).unwrap();
        assert_eq!(openai, ChatCompletionInputToolChoice::function("f"));
        assert_eq!(tgi, openai);
        assert_eq!(
            serde_json::to_value(&openai).unwrap(),
            json!({"type": "function", "function": {"name": "f"}})
        );
        for mode in ["auto", "none", "required", "something-new"] {
            let parsed: ChatCompletionInputToolChoice =
                serde_json::from_value(json!(mode)).unwrap();
            assert_eq!(serde_json::to_value(&parsed).unwrap(), json!(mode));
        }
    }

    #[test]
    fn assistant_tool_call_message_round_trips() {
        let wire = json!({
            "role": "assistant",
            "tool_calls": [{"id": "call_1", "type": "function",
                             "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]
        });
        let message: ChatCompletionInputMessage = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(message.role, ChatRole::Assistant);
        assert_eq!(serde_json::to_value(&message).unwrap(), wire);
    }

    #[test]
    fn stream_delta_without_role_and_empty_final_delta() {
        let d: ChatCompletionStreamOutputDelta =
            serde_json::from_value(json!({"content": "Hel"})).unwrap();
        assert_eq!(d.content.as_deref(), Some("Hel"));
        assert_eq!(d.role, None);
        let last: ChatCompletionStreamOutputDelta = serde_json::from_value(json!({})).unwrap();
        assert_eq!(last, ChatCompletionStreamOutputDelta::default());
    }

    #[test]
    fn output_message_keeps_unknown_fields_and_null_content() {
        let wire = json!({"role": "assistant", "content": null, "reasoning_content": "hmm",
                          "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]});
        let m: ChatCompletionOutputMessage = serde_json::from_value(wire).unwrap();
        assert_eq!(m.content, None);
        assert_eq!(m.extra["reasoning_content"], "hmm");
        assert_eq!(m.tool_calls.unwrap()[0].function.name, "f");
    }

    #[test]
    fn response_format_variants() {
        for wire in [
            json!({"type": "text"}),
            json!({"type": "json_object"}),
            json!({"type": "json_object", "value": {"type": "object"}}),
            json!({"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}, "strict": true}}),
        ] {
            let parsed: ChatCompletionInputGrammarType =
                serde_json::from_value(wire.clone()).unwrap();
            assert_eq!(serde_json::to_value(&parsed).unwrap(), wire);
        }
    }
}
