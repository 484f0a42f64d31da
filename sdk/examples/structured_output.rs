//! Structured output: the answer must follow a JSON schema (the guide's "Structured Outputs &
//! JSON Mode", on Cerebras). The SDK spells `response_format` the way each provider wants it.
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example structured_output
//! ```
//!
//! `ENDPOINT_URL` (an Inference Endpoint, or a local OpenAI-compatible server such as llama.cpp's
//! `llama-server`) takes the provider's place; the model id is then the name sent to it:
//!
//! ```sh
//! ENDPOINT_URL=http://127.0.0.1:8080/v1 cargo run -p hf-inference --example structured_output
//! ```

use hf_inference::types::chat::ChatCompletionInputGrammarType;
use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference::{InferenceClientBuilder, Provider};
use serde_json::json;

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    let schema = json!({
        "properties": {
            "name": {"title": "Name", "type": "string"},
            "authors": {"items": {"type": "string"}, "title": "Authors", "type": "array"},
        },
        "required": ["name", "authors"],
        "title": "Book",
        "type": "object",
    });
    let client = match std::env::var("ENDPOINT_URL") {
        Ok(url) => InferenceClientBuilder::from_env().base_url(url),
        Err(_) => InferenceClientBuilder::from_env().provider(Provider::Cerebras),
    }
    .build()?;
    let completion = client
        .chat_completion(vec![
            ChatCompletionInputMessage::system("Extract the books information."),
            ChatCompletionInputMessage::user(
                "I recently read 'The Great Gatsby' by F. Scott Fitzgerald.",
            ),
        ])
        .model("Qwen/Qwen3-32B")
        .response_format(ChatCompletionInputGrammarType::json_schema("book", schema))
        .send()
        .await?;
    let text = completion.choices[0]
        .message
        .content
        .as_deref()
        .unwrap_or("{}");
    let book: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    println!("{book:#}");
    Ok(())
}
