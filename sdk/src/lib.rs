//! # hf-inference
//!
//! A typed, fast Rust client for Hugging Face Inference Providers, Inference Endpoints and local
//! OpenAI-compatible servers.
//!
//! Every task type in [`types`] is generated from the Hub's own JSON task schemas, and the
//! provider table (who serves which task, where and how) is generated from `specs/providers.toml`.
#![doc = include_str!("generated/support_matrix.md")]

pub mod error;
mod generated;
pub mod http;
mod secret;
pub mod types;

pub use generated::TASKS_SPEC_VERSION;
pub use secret::Token;
