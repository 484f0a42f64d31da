//! Typed inputs, parameters and outputs of every task, one module per task
//! (`types::text_to_image::TextToImageInput`, `types::chat_completion::ChatCompletionInput`, …).
//!
//! The task modules are generated from the Hub's JSON task schemas (`@huggingface/tasks`); a few
//! chat-completion types whose schema unions read poorly are hand-written in [`chat`] and
//! re-exported from [`chat_completion`] under their Hub names.
//!
//! The types follow one rule: strict in what they send, lenient in what they accept. Unset
//! options are not serialized; responses keep unknown fields in an `extra` map, and string enums
//! keep unknown values in an `Other(String)` variant, so a new server field or value never
//! breaks a response.
//!
//! ```
//! use hf_inference::types::text_to_image::{TextToImageInput, TextToImageParameters};
//!
//! let input = TextToImageInput {
//!     parameters: Some(TextToImageParameters {
//!         guidance_scale: Some(7.5),
//!         ..Default::default()
//!     }),
//!     ..TextToImageInput::new("an astronaut riding a horse")
//! };
//! assert_eq!(
//!     serde_json::to_string(&input).unwrap(),
//!     r#"{"inputs":"an astronaut riding a horse","parameters":{"guidance_scale":7.5}}"#
//! );
//! ```

pub mod audio_to_audio;
pub mod chat;
pub mod embedding;
pub(crate) mod embedding_reader;
pub mod tabular;

pub use crate::generated::types::*;
