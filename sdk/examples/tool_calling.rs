//! Function (tool) calling, as in the OpenAI Chat Completions API (the guide's "Function
//! Calling", on Nebius).
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example tool_calling
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
    let client = InferenceClientBuilder::from_env()
        .provider(Provider::Nebius)
        .build()?;
    let response = client
        .chat_completion(vec![ChatCompletionInputMessage::user(
            "What's the weather like the next 3 days in London, UK?",
        )])
        .model("Qwen/Qwen2.5-72B-Instruct")
        .tools(tools)
        .tool_choice(ChatCompletionInputToolChoice::Auto)
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
