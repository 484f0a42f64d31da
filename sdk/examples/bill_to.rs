//! Billing an organization instead of your account (the guide's "Billing"): every call of the
//! client carries `X-HF-Bill-To`. The organization must be one you belong to, with Enterprise Hub.
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example bill_to -- my-org
//! ```

use hf_inference::{InferenceClientBuilder, Provider};

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    let organization = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "my-org".to_owned());
    let client = InferenceClientBuilder::from_env()
        .provider(Provider::FalAi)
        .bill_to(organization)
        .build()?;
    let image = client
        .text_to_image("A majestic lion in a fantasy forest")
        .model("black-forest-labs/FLUX.1-schnell")
        .send()
        .await?;
    image.save("lion.png").await?;
    println!("wrote lion.png");
    Ok(())
}
