//! A local OpenAI-compatible server (llama.cpp, vLLM, TGI, Ollama, LiteLLM…) as the model: the
//! OpenAI-style `chat().completions().create()` (the guide's "Using local endpoints").
//!
//! ```sh
//! llama-server -hf ggml-org/gemma-3-1b-it-GGUF --port 8080 &
//! cargo run -p hf-inference --example local_server -- http://localhost:8080
//! ```

use hf_inference::InferenceClient;
use hf_inference::types::chat_completion::{ChatCompletionInput, ChatCompletionInputMessage};

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://localhost:8080".to_owned());
    // No token is needed for a local server.
    let client = InferenceClient::builder().model(url).build()?;
    let response = client
        .chat()
        .completions()
        .create(ChatCompletionInput {
            max_tokens: Some(100),
            ..ChatCompletionInput::new(vec![ChatCompletionInputMessage::user(
                "What is the capital of France?",
            )])
        })
        .await?;
    println!(
        "{}",
        response.choices[0]
            .message
            .content
            .as_deref()
            .unwrap_or_default()
    );
    Ok(())
}
