//! # hf-inference
//!
//! A typed, fast Rust client for Hugging Face Inference Providers, Inference Endpoints and local
//! OpenAI-compatible servers.
//!
//! Every task type in [`types`] is generated from the Hub's own JSON task schemas, and the
//! provider table (who serves which task, where and how) is generated from `specs/providers.toml`.
//!
//! ```no_run
//! use hf_inference::{InferenceClient, Provider};
//! use hf_inference::types::chat_completion::ChatCompletionInputMessage;
//!
//! # async fn demo() -> hf_inference::error::Result<()> {
//! let client = InferenceClient::builder().token("hf_xxx").build()?;
//! let answer = client
//!     .chat_completion(vec![ChatCompletionInputMessage::user("Hello!")])
//!     .model("meta-llama/Llama-3.1-8B-Instruct")
//!     .provider(Provider::Cerebras)
//!     .send()
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! ## Support matrix
//!
#![doc = include_str!("generated/support_matrix.md")]

pub mod binary;
#[cfg(feature = "blocking")]
pub mod blocking;
pub mod client;
pub mod config;
pub mod endpoints;
pub mod error;
// Entry points of the fuzz targets in `fuzz/`; not public API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
// Written by `cargo xtask regen` (prettyplease); rustfmt must not reformat it, or `regen --check` fails.
#[rustfmt::skip]
mod generated;
pub mod http;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod providers;
pub mod routing;
mod secret;
pub mod tasks;
pub mod types;

pub use binary::{BinaryInput, Blob};
pub use client::{InferenceClient, InferenceClientBuilder, ProviderChoice};
pub use error::{Error, Result};
pub use generated::TASKS_SPEC_VERSION;
pub use http::transport::{RequestPreview, Response, ResponseMeta};
pub use providers::{Provider, Task};
pub use secret::Token;
