//! Text-to-image with an explicit provider (the guide's "Getting started"): a Hub model id, a
//! third-party provider, the image saved to a file.
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example text_to_image_provider
//! ```
//!
//! With an `hf_` token the call goes through the Hugging Face router; with Replicate's own key
//! (`r8_…`) it goes straight to Replicate.

use hf_inference::{InferenceClientBuilder, Provider};

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    let client = InferenceClientBuilder::from_env()
        .provider(Provider::Replicate)
        .build()?;
    let image = client
        .text_to_image("A flying car crossing a futuristic cityscape.")
        .model("black-forest-labs/FLUX.1-schnell")
        .send()
        .await?;
    image.save("flying_car.png").await?;
    println!(
        "wrote flying_car.png ({}, {} bytes)",
        image.content_type().unwrap_or("unknown type"),
        image.bytes().len()
    );
    Ok(())
}
