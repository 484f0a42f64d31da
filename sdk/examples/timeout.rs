//! Handling a timeout (the guide's "Timeout"): the client's timeout bounds each request (and
//! the polling of asynchronous jobs); running out is a typed error.
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example timeout
//! ```

use std::time::Duration;

use hf_inference::{Error, InferenceClientBuilder};

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    let client = InferenceClientBuilder::from_env()
        .timeout(Duration::from_secs(30))
        .build()?;
    match client
        .text_to_image("An astronaut riding a horse on the moon.")
        .model("black-forest-labs/FLUX.1-schnell")
        .send()
        .await
    {
        Ok(image) => {
            image.save("astronaut.png").await?;
            println!("wrote astronaut.png");
        }
        Err(Error::Timeout { after, .. }) => println!("Inference timed out after {after:?}."),
        Err(Error::JobTimeout { job_id, after, .. }) => {
            println!("The job {job_id} did not finish within {after:?}.")
        }
        Err(other) => return Err(other),
    }
    Ok(())
}
