//! A blocking client for programs without an async runtime (feature `blocking`).
//!
//! [`InferenceClient`] wraps the async [`crate::InferenceClient`] and dereferences to it, so it
//! has exactly the same task methods and request builders (nothing is copied, nothing can drift).
//! Only the last call of a chain differs: bring [`prelude`] into scope and end the chain with
//! [`send_blocking`](BlockingSend::send_blocking) (the answer),
//! [`stream_blocking`](BlockingStream::stream_blocking) (an [`Iterator`] of chunks) or
//! [`preview_blocking`](BlockingSend::preview_blocking) (the request, unsent).
//!
//! ```no_run
//! use hf_inference::blocking::prelude::*;
//! use hf_inference::blocking::InferenceClient;
//! use hf_inference::types::chat_completion::ChatCompletionInputMessage;
//!
//! fn main() -> hf_inference::Result<()> {
//!     let client = InferenceClient::from_env()?;
//!     let answer = client
//!         .chat_completion(vec![ChatCompletionInputMessage::user("What is the capital of France?")])
//!         .model("meta-llama/Llama-3.1-8B-Instruct")
//!         .max_tokens(64)
//!         .send_blocking()?;
//!     println!("{:?}", answer.choices[0].message.content);
//!
//!     for chunk in client
//!         .chat_completion(vec![ChatCompletionInputMessage::user("Count to 10")])
//!         .model("meta-llama/Llama-3.1-8B-Instruct")
//!         .stream_blocking()?
//!     {
//!         if let Some(text) = chunk?.choices.first().and_then(|c| c.delta.content.clone()) {
//!             print!("{text}");
//!         }
//!     }
//!     Ok(())
//! }
//! ```
//!
//! # Runtime
//!
//! Calls run on one small tokio runtime shared by the process (one worker thread, created on
//! first use), which also keeps the connection pool's connections alive between calls. The
//! calling thread waits for the answer.
//!
//! Waiting inside an async task would stall that task's executor thread, and tokio refuses to
//! block inside its own runtime. So a blocking call made from within a tokio runtime does not
//! panic: it returns [`Error::Config`] saying so, before anything is sent. Use the async client
//! there, or move the call into `tokio::task::spawn_blocking`.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::OnceLock;

use futures_util::{Stream, StreamExt};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::http::transport::RequestPreview;
use crate::tasks::chat_completion::ChatCompletionRequest;
use crate::tasks::generic::TaskRequest;
use crate::tasks::text_generation::TextGenerationRequest;
use crate::types::chat_completion::{ChatCompletionOutput, ChatCompletionStreamOutput};
use crate::types::text_generation::{TextGenerationOutput, TextGenerationStreamOutput};

/// The traits that add the blocking endings to every request builder.
pub mod prelude {
    pub use super::{BlockingSend, BlockingStream};
}

/// The blocking client: the async [`crate::InferenceClient`] (every method, through `Deref`)
/// whose requests end in [`BlockingSend::send_blocking`] or [`BlockingStream::stream_blocking`].
///
/// Cheap to clone; clones share one connection pool.
#[derive(Clone, Debug)]
pub struct InferenceClient {
    client: crate::InferenceClient,
}

impl InferenceClient {
    /// A client configured from the environment, as
    /// [`InferenceClientBuilder::from_env`](crate::InferenceClientBuilder::from_env) reads it.
    pub fn from_env() -> Result<Self> {
        crate::InferenceClientBuilder::from_env()
            .build()
            .map(Self::from)
    }

    /// A client from a configured builder:
    /// `blocking::InferenceClient::from_builder(InferenceClient::builder().token("hf_…"))`.
    pub fn from_builder(builder: crate::InferenceClientBuilder) -> Result<Self> {
        builder.build().map(Self::from)
    }

    /// The async client inside (for code that has a runtime after all).
    pub fn as_async(&self) -> &crate::InferenceClient {
        &self.client
    }
}

impl From<crate::InferenceClient> for InferenceClient {
    fn from(client: crate::InferenceClient) -> Self {
        Self { client }
    }
}

impl Deref for InferenceClient {
    type Target = crate::InferenceClient;

    fn deref(&self) -> &Self::Target {
        &self.client
    }
}

/// The process-wide runtime of blocking calls. One worker thread drives the connections; the
/// calling thread polls its own future.
fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> =
        OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("hf-inference-blocking")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Config(format!("cannot start the blocking client's runtime: {e}")))
}

/// Runs `future` to completion on the blocking runtime, or refuses inside an async runtime.
fn wait<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::Config(
            "the blocking client was called from within an async (tokio) runtime, where \
             waiting would stall the executor: use the async InferenceClient there, or call \
             it inside tokio::task::spawn_blocking"
                .into(),
        ));
    }
    runtime()?.block_on(future)
}

/// The blocking endings of a request: the whole answer, or the request without sending it.
pub trait BlockingSend: Sized {
    /// What the call returns.
    type Output;

    /// Sends the request and waits for the answer (jobs included: polling happens inside).
    ///
    /// # Errors
    ///
    /// Everything the async `send` returns, and [`Error::Config`] when called from within an
    /// async runtime (nothing is sent then).
    fn send_blocking(self) -> Result<Self::Output>;

    /// The exact request the call would send (token redacted), without sending it.
    ///
    /// # Errors
    ///
    /// As the async `preview`, and [`Error::Config`] within an async runtime.
    fn preview_blocking(&self) -> Result<RequestPreview>;
}

/// The blocking streaming ending: the answer as an [`Iterator`] of chunks.
pub trait BlockingStream: Sized {
    /// One chunk of the stream.
    type Item;

    /// Sends the request and returns the chunks as they arrive. Dropping the iterator closes
    /// the connection.
    ///
    /// # Errors
    ///
    /// Everything the async `stream` returns before the first chunk, and [`Error::Config`]
    /// within an async runtime. Later failures are the iterator's `Err` items.
    fn stream_blocking(self) -> Result<Iter<Self::Item>>;
}

impl<I: Serialize, O> BlockingSend for TaskRequest<'_, I, O> {
    type Output = O;

    fn send_blocking(self) -> Result<O> {
        wait(self.send())
    }

    fn preview_blocking(&self) -> Result<RequestPreview> {
        wait(self.preview())
    }
}

impl BlockingSend for ChatCompletionRequest<'_> {
    type Output = ChatCompletionOutput;

    fn send_blocking(self) -> Result<ChatCompletionOutput> {
        wait(self.send())
    }

    fn preview_blocking(&self) -> Result<RequestPreview> {
        wait(self.preview())
    }
}

impl BlockingStream for ChatCompletionRequest<'_> {
    type Item = ChatCompletionStreamOutput;

    fn stream_blocking(self) -> Result<Iter<ChatCompletionStreamOutput>> {
        let stream = wait(self.stream())?;
        Ok(Iter::new(stream))
    }
}

impl BlockingSend for TextGenerationRequest<'_> {
    type Output = TextGenerationOutput;

    fn send_blocking(self) -> Result<TextGenerationOutput> {
        wait(self.send())
    }

    fn preview_blocking(&self) -> Result<RequestPreview> {
        wait(self.preview())
    }
}

impl BlockingStream for TextGenerationRequest<'_> {
    type Item = TextGenerationStreamOutput;

    fn stream_blocking(self) -> Result<Iter<TextGenerationStreamOutput>> {
        let stream = wait(self.stream())?;
        Ok(Iter::new(stream))
    }
}

/// A stream read as an [`Iterator`]: each `next` waits for the next chunk. Ends after the
/// stream ends or after its first error.
pub struct Iter<T> {
    stream: Option<Pin<Box<dyn Stream<Item = Result<T>> + Send>>>,
}

impl<T> Iter<T> {
    fn new(stream: impl Stream<Item = Result<T>> + Send + 'static) -> Self {
        Self {
            stream: Some(Box::pin(stream)),
        }
    }
}

impl<T> fmt::Debug for Iter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("finished", &self.stream.is_none())
            .finish()
    }
}

impl<T> Iterator for Iter<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        let stream = self.stream.as_mut()?;
        let item = wait(async { Ok(stream.next().await) });
        match item {
            Ok(Some(Ok(chunk))) => Some(Ok(chunk)),
            Ok(Some(Err(e))) | Err(e) => {
                self.stream = None;
                Some(Err(e))
            }
            Ok(None) => {
                self.stream = None;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::chat_completion::ChatCompletionInputMessage;

    #[tokio::test]
    async fn inside_a_runtime_it_is_a_typed_error_not_a_panic() {
        let client = InferenceClient::from_builder(
            crate::InferenceClient::builder().model("http://127.0.0.1:9/v1"),
        )
        .unwrap();
        let err = client
            .chat_completion(vec![ChatCompletionInputMessage::user("hi")])
            .send_blocking()
            .unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m.contains("spawn_blocking")),
            "{err:?}"
        );
        let err = client
            .chat_completion(vec![ChatCompletionInputMessage::user("hi")])
            .stream_blocking()
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
    }

    #[test]
    fn outside_a_runtime_the_preview_works() {
        let client = InferenceClient::from_builder(
            crate::InferenceClient::builder().model("http://127.0.0.1:9/v1"),
        )
        .unwrap();
        let preview = client
            .chat_completion(vec![ChatCompletionInputMessage::user("hi")])
            .preview_blocking()
            .unwrap();
        assert_eq!(preview.url, "http://127.0.0.1:9/v1/chat/completions");
    }
}
