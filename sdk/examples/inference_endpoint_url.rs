//! An Inference Endpoint given by URL: the same calls, only the model changes (the guide's
//! "Using Inference Endpoints"). A URL and a provider are mutually exclusive.
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example inference_endpoint_url -- https://….endpoints.huggingface.cloud
//! ```
//!
//! The endpoint here serves a chat model (TGI, vLLM, or a local llama.cpp `llama-server`:
//! `-- http://127.0.0.1:8080/v1`). Any task is called the same way on an endpoint that runs
//! it, e.g. `client.text_to_image("An astronaut riding a horse").send()` on a diffusion model's.

use hf_inference::InferenceClientBuilder;
use hf_inference::types::chat_completion::ChatCompletionInputMessage;

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: inference_endpoint_url <ENDPOINT_URL>");
        std::process::exit(2);
    };
    let question = || {
        vec![ChatCompletionInputMessage::user(
            "What is the capital of France?",
        )]
    };

    // The URL as the client's model…
    let client = InferenceClientBuilder::from_env()
        .model(url.clone())
        .build()?;
    let answer = client
        .chat_completion(question())
        .max_tokens(64)
        .send()
        .await?;
    println!(
        "client model: {}",
        answer.choices[0]
            .message
            .content
            .as_deref()
            .unwrap_or_default()
    );

    // …or per call, on a generic client.
    let client = InferenceClientBuilder::from_env().build()?;
    let answer = client
        .chat_completion(question())
        .model(url)
        .max_tokens(64)
        .send()
        .await?;
    println!(
        "per call: {}",
        answer.choices[0]
            .message
            .content
            .as_deref()
            .unwrap_or_default()
    );
    Ok(())
}
