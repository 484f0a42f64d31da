//! An Inference Endpoint given by URL: the same calls, only the model changes (the guide's
//! "Using Inference Endpoints"). A URL and a provider are mutually exclusive.
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example inference_endpoint_url -- https://….endpoints.huggingface.cloud
//! ```

use hf_inference::InferenceClientBuilder;

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: inference_endpoint_url <ENDPOINT_URL>");
        std::process::exit(2);
    };
    // The URL as the client's model…
    let client = InferenceClientBuilder::from_env()
        .model(url.clone())
        .build()?;
    let image = client
        .text_to_image("An astronaut riding a horse on the moon.")
        .send()
        .await?;
    image.save("astronaut.png").await?;

    // …or per call, on a generic client.
    let client = InferenceClientBuilder::from_env().build()?;
    let image = client
        .text_to_image("An astronaut riding a horse on Mars.")
        .model(url)
        .send()
        .await?;
    image.save("astronaut_mars.png").await?;
    println!("wrote astronaut.png and astronaut_mars.png");
    Ok(())
}
