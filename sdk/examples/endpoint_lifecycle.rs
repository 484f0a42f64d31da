//! Deploy a model as a dedicated Inference Endpoint, wait until it runs, chat with it through
//! the same client, then pause it (a paused endpoint is not billed; delete it when done).
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example endpoint_lifecycle -- [namespace]
//! ```
//!
//! Costs money while it runs. `ENDPOINT_NAME`, `ENDPOINT_REPOSITORY` and the `ENDPOINT_VENDOR`,
//! `ENDPOINT_REGION`, `ENDPOINT_ACCELERATOR`, `ENDPOINT_INSTANCE_TYPE`, `ENDPOINT_INSTANCE_SIZE`
//! variables change what is deployed where. An endpoint of that name that already exists is
//! reused (and resumed if paused).

use std::time::Duration;

use hf_inference::endpoints::{EndpointState, ScalingMetric};
use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference::{Error, InferenceClientBuilder};

fn var(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    let client = InferenceClientBuilder::from_env().build()?;
    let mut endpoints = client.inference_endpoints();
    if let Some(namespace) = std::env::args().nth(1) {
        endpoints = endpoints.namespace(namespace);
    }
    let name = var("ENDPOINT_NAME", "hf-inference-rs-demo");

    let mut endpoint = match endpoints.get(&name).await {
        Ok(mut existing) => {
            println!("reusing {} ({})", existing.name(), existing.state());
            if matches!(
                existing.state(),
                EndpointState::Paused | EndpointState::ScaledToZero
            ) {
                existing.resume().await?;
            }
            existing
        }
        Err(e) if e.status() == Some(404) => {
            println!("creating {name}");
            endpoints
                .create(
                    &name,
                    var("ENDPOINT_REPOSITORY", "Qwen/Qwen2.5-0.5B-Instruct"),
                )
                .hardware(
                    var("ENDPOINT_VENDOR", "aws"),
                    var("ENDPOINT_REGION", "us-east-1"),
                    var("ENDPOINT_ACCELERATOR", "gpu"),
                    var("ENDPOINT_INSTANCE_TYPE", "nvidia-t4"),
                    var("ENDPOINT_INSTANCE_SIZE", "x1"),
                )
                .task("text-generation")
                .min_replica(0)
                .scale_to_zero_timeout(15)
                .scaling(ScalingMetric::HardwareUsage, None)
                .send()
                .await?
        }
        Err(e) => return Err(e),
    };

    let waited = endpoint
        .wait()
        .interval(Duration::from_secs(10))
        .timeout(Duration::from_secs(30 * 60))
        .on_progress(|p| {
            if p.changed() {
                println!(
                    "[{:>4}s] {}: {}{}",
                    p.elapsed.as_secs(),
                    p.name,
                    p.state,
                    p.message
                        .as_deref()
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default()
                );
            }
        })
        .await;
    match waited {
        Ok(()) => println!("running at {}", endpoint.url().unwrap_or_default()),
        Err(e @ (Error::EndpointFailed { .. } | Error::EndpointTimeout { .. })) => {
            eprintln!("{e}; pausing it");
            endpoint.pause().await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    }

    let answer = endpoint
        .client()?
        .chat_completion(vec![ChatCompletionInputMessage::user(
            "In one sentence: why deploy a model on a dedicated endpoint?",
        )])
        .max_tokens(64)
        .send()
        .await?;
    println!(
        "{}",
        answer
            .choices
            .first()
            .and_then(|c| c.message.content.as_deref())
            .unwrap_or_default()
    );

    endpoint.pause().await?;
    println!(
        "{} is {} (delete it with `endpoint.delete()`)",
        endpoint.name(),
        endpoint.state()
    );
    Ok(())
}
