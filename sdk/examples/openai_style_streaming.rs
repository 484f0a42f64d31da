//! The OpenAI-compatible spelling with streaming (the guide's "OpenAI compatibility"):
//! `client.chat().completions().create_stream(input)`, printing tokens as they arrive.
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example openai_style_streaming
//! ```
//!
//! `ENDPOINT_URL` (an Inference Endpoint, or a local OpenAI-compatible server such as llama.cpp's
//! `llama-server`) takes the place of the provider the router picks; the model id is then the name sent to it:
//!
//! ```sh
//! ENDPOINT_URL=http://127.0.0.1:8080/v1 cargo run -p hf-inference --example openai_style_streaming
//! ```

use futures_util::StreamExt;
use hf_inference::InferenceClientBuilder;
use hf_inference::types::chat_completion::{ChatCompletionInput, ChatCompletionInputMessage};

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    let mut builder = InferenceClientBuilder::from_env();
    if let Ok(url) = std::env::var("ENDPOINT_URL") {
        builder = builder.base_url(url);
    }
    let client = builder.build()?;
    let input = ChatCompletionInput {
        model: Some("meta-llama/Meta-Llama-3-8B-Instruct".into()),
        max_tokens: Some(1024),
        ..ChatCompletionInput::new(vec![
            ChatCompletionInputMessage::system("You are a helpful assistant."),
            ChatCompletionInputMessage::user("Count to 10"),
        ])
    };
    let mut stream = client.chat().completions().create_stream(input).await?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if let Some(text) = chunk
            .choices
            .first()
            .and_then(|c| c.delta.content.as_deref())
        {
            print!("{text}");
        }
    }
    println!();
    Ok(())
}
