//! Function (tool) calling, as in the OpenAI Chat Completions API (the guide's "Function
//! Calling", on Nebius).
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example tool_calling
//! HF_TOKEN=hf_… cargo run -p hf-inference --example tool_calling -- required   # must call a tool
//! ```
//!
//! `ENDPOINT_URL` (an Inference Endpoint, or a local OpenAI-compatible server such as llama.cpp's
//! `llama-server`) takes the provider's place; the model id is then the name sent to it:
//!
//! ```sh
//! ENDPOINT_URL=http://127.0.0.1:8080/v1 cargo run -p hf-inference --example tool_calling
//! ```

use hf_inference::types::chat::ChatCompletionInputToolChoice;
use hf_inference::types::chat_completion::{
    ChatCompletionInputFunctionDefinition, ChatCompletionInputMessage, ChatCompletionInputTool,
};
use hf_inference::{InferenceClientBuilder, Provider};
use serde_json::json;

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    let tools = vec![ChatCompletionInputTool {
        type_: "function".into(),
        function: ChatCompletionInputFunctionDefinition {
            name: "get_weather".into(),
            description: Some("Get current temperature for a given location.".into()),
            parameters: Some(json!({
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "City and country e.g. Paris, France"
                    }
                },
                "required": ["location"],
            })),
            arguments: None,
        },
    }];
    // `auto`: the model decides (the default); `required` (first argument): it must call a tool.
    let tool_choice = match std::env::args().nth(1).as_deref() {
        Some("required") => ChatCompletionInputToolChoice::Required,
        _ => ChatCompletionInputToolChoice::Auto,
    };
    let client = match std::env::var("ENDPOINT_URL") {
        Ok(url) => InferenceClientBuilder::from_env().base_url(url),
        Err(_) => InferenceClientBuilder::from_env().provider(Provider::Nebius),
    }
    .build()?;
    let response = client
        .chat_completion(vec![ChatCompletionInputMessage::user(
            "What's the weather like the next 3 days in London, UK?",
        )])
        .model("Qwen/Qwen2.5-72B-Instruct")
        .tools(tools)
        .tool_choice(tool_choice)
        .send()
        .await?;
    match response.choices[0].message.tool_calls.as_deref() {
        Some([call, ..]) => println!("{}({})", call.function.name, call.function.arguments),
        _ => println!(
            "no tool call: {}",
            response.choices[0]
                .message
                .content
                .as_deref()
                .unwrap_or_default()
        ),
    }
    Ok(())
}
