//! The blocking client (feature `blocking`) from a plain `fn main`: a chat answer, then a
//! streamed one read as an iterator.
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --features blocking --example blocking_chat
//! ```
//!
//! `ENDPOINT_URL` (an Inference Endpoint, or a local OpenAI-compatible server such as llama.cpp's
//! `llama-server`) takes the place of the provider the router picks; the model id is then the name sent to it:
//!
//! ```sh
//! ENDPOINT_URL=http://127.0.0.1:8080/v1 cargo run -p hf-inference --features blocking --example blocking_chat
//! ```

use hf_inference::InferenceClientBuilder;
use hf_inference::blocking::InferenceClient;
use hf_inference::blocking::prelude::*;
use hf_inference::types::chat_completion::ChatCompletionInputMessage;

const MODEL: &str = "meta-llama/Llama-3.1-8B-Instruct";

fn main() -> hf_inference::Result<()> {
    let mut builder = InferenceClientBuilder::from_env();
    if let Ok(url) = std::env::var("ENDPOINT_URL") {
        builder = builder.base_url(url);
    }
    let client = InferenceClient::from_builder(builder)?;
    let answer = client
        .chat_completion(vec![ChatCompletionInputMessage::user(
            "What is the capital of France?",
        )])
        .model(MODEL)
        .max_tokens(64)
        .send_blocking()?;
    println!(
        "{}",
        answer.choices[0]
            .message
            .content
            .as_deref()
            .unwrap_or_default()
    );
    for chunk in client
        .chat_completion(vec![ChatCompletionInputMessage::user("Count to 10")])
        .model(MODEL)
        .stream_blocking()?
    {
        if let Some(text) = chunk?.choices.first().and_then(|c| c.delta.content.clone()) {
            print!("{text}");
        }
    }
    println!();
    Ok(())
}
