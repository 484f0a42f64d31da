//! Chat completion on a chosen provider and model, with `max_tokens` (the guide's
//! `chat_completion` example). The answer follows the OpenAI shape.
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example chat_provider_model
//! ```

use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference::{InferenceClientBuilder, Provider};

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    let client = InferenceClientBuilder::from_env()
        .provider(Provider::Together)
        .model("meta-llama/Meta-Llama-3-8B-Instruct")
        .build()?;
    let output = client
        .chat_completion(vec![ChatCompletionInputMessage::user(
            "What is the capital of France?",
        )])
        .max_tokens(100)
        .send()
        .await?;
    println!(
        "{}",
        output.choices[0]
            .message
            .content
            .as_deref()
            .unwrap_or_default()
    );
    println!("({} tokens)", output.usage.total_tokens);
    Ok(())
}
