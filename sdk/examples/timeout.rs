//! Handling a timeout (the guide's "Timeout"): the client's timeout bounds each request (and the
//! polling of asynchronous jobs, which ends in `Error::JobTimeout`); running out is a typed error
//! to match on, not a hang.
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example timeout           # 30 s
//! HF_TOKEN=hf_… cargo run -p hf-inference --example timeout -- 0.5    # seconds
//! ```
//!
//! `ENDPOINT_URL` (an Inference Endpoint, or a local OpenAI-compatible server such as llama.cpp's
//! `llama-server`) takes the place of the provider the router picks.

use std::time::Duration;

use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference::{Error, InferenceClientBuilder};

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    let seconds = match std::env::args().nth(1) {
        Some(text) => text
            .parse::<f64>()
            .map_err(|e| Error::Config(format!("the timeout in seconds: {e}")))?,
        None => 30.0,
    };
    let mut builder = InferenceClientBuilder::from_env().timeout(Duration::from_secs_f64(seconds));
    if let Ok(url) = std::env::var("ENDPOINT_URL") {
        builder = builder.base_url(url);
    }
    let client = builder.build()?;
    match client
        .chat_completion(vec![ChatCompletionInputMessage::user(
            "Write a haiku about patience.",
        )])
        .model("meta-llama/Llama-3.1-8B-Instruct")
        .send()
        .await
    {
        Ok(answer) => println!(
            "{}",
            answer.choices[0]
                .message
                .content
                .as_deref()
                .unwrap_or_default()
        ),
        Err(Error::Timeout { after, .. }) => println!("Inference timed out after {after:?}."),
        Err(other) => return Err(other),
    }
    Ok(())
}
