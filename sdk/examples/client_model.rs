//! A model set once on the client, or per call (the guide's "Using a specific model").
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example client_model
//! ```

use hf_inference::{InferenceClientBuilder, Provider};

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    // The client's model is used by every call that does not name one.
    let client = InferenceClientBuilder::from_env()
        .provider(Provider::Together)
        .model("black-forest-labs/FLUX.1-schnell")
        .build()?;
    let image = client.text_to_image("A lighthouse at dawn").send().await?;
    image.save("lighthouse.png").await?;

    // A generic client, the model given per call.
    let client = InferenceClientBuilder::from_env()
        .provider(Provider::Together)
        .build()?;
    let image = client
        .text_to_image("A lighthouse at dusk")
        .model("black-forest-labs/FLUX.1-schnell")
        .send()
        .await?;
    image.save("lighthouse_dusk.png").await?;
    println!("wrote lighthouse.png and lighthouse_dusk.png");
    Ok(())
}
