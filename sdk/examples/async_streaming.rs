//! The async client (the guide's "Async client"): an image and a streamed text generation,
//! concurrently, on one client (one connection pool).
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example async_streaming
//! ```

use futures_util::StreamExt;
use hf_inference::InferenceClientBuilder;

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    let client = InferenceClientBuilder::from_env().build()?;
    let image = client
        .text_to_image("An astronaut riding a horse on the moon.")
        .model("black-forest-labs/FLUX.1-schnell");
    let text = async {
        let mut tokens = client
            .text_generation("The Huggingface Hub is")
            .model("meta-llama/Llama-3.1-8B-Instruct")
            .max_new_tokens(40)
            .stream()
            .await?;
        while let Some(token) = tokens.next().await {
            print!("{}", token?.token.text);
        }
        println!();
        Ok::<_, hf_inference::Error>(())
    };
    let (image, text) = tokio::join!(image.send(), text);
    text?;
    image?.save("astronaut.png").await?;
    println!("wrote astronaut.png");
    Ok(())
}
