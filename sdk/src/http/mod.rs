//! The transport layer's building blocks.
//!
//! - [`retry`]: the [`RetryPolicy`](retry::RetryPolicy) for transient failures, `Retry-After`
//!   parsing and the retryable statuses;
//! - [`chat_chunk`]: a one-pass decoder of chat stream chunks (what chat streams use);
//! - [`sse`]: an incremental Server-Sent Events decoder and the typed JSON event stream that
//!   streaming calls (`chat_completion(..).stream()`, `text_generation(..).stream()`) return.

pub mod chat_chunk;
pub mod retry;
pub mod sse;
pub mod transport;
