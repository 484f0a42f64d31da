//! Binary inputs (the guide's "Binary inputs"): raw bytes, a file path, an open file (any
//! `AsyncRead`) or a URL, for any task that takes an image or audio.
//!
//! ```sh
//! HF_TOKEN=hf_… cargo run -p hf-inference --example binary_inputs -- cat.jpg
//! ```

use hf_inference::{BinaryInput, InferenceClientBuilder};

const MODEL: &str = "google/vit-base-patch16-224";
const DOG_URL: &str =
    "https://upload.wikimedia.org/wikipedia/commons/thumb/4/43/Cute_dog.jpg/320px-Cute_dog.jpg";

#[tokio::main]
async fn main() -> hf_inference::Result<()> {
    let client = InferenceClientBuilder::from_env().build()?;

    // A URL: passed through where the provider takes URLs, else downloaded (without credentials).
    let labels = client
        .image_classification(BinaryInput::from_url(DOG_URL)?)
        .model(MODEL)
        .send()
        .await?;
    println!("URL: {} ({:.3})", labels[0].label, labels[0].score);

    let Some(path) = std::env::args().nth(1) else {
        return Ok(());
    };
    // A file path.
    let labels = client
        .image_classification(BinaryInput::from_path(&path))
        .model(MODEL)
        .send()
        .await?;
    println!("path: {} ({:.3})", labels[0].label, labels[0].score);

    // Raw bytes.
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| hf_inference::Error::Config(format!("cannot read {path}: {e}")))?;
    let labels = client
        .image_classification(BinaryInput::from_bytes(bytes))
        .model(MODEL)
        .send()
        .await?;
    println!("bytes: {} ({:.3})", labels[0].label, labels[0].score);

    // An open file, read as it is sent.
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| hf_inference::Error::Config(format!("cannot open {path}: {e}")))?;
    let labels = client
        .image_classification(BinaryInput::from_reader(file))
        .model(MODEL)
        .send()
        .await?;
    println!("reader: {} ({:.3})", labels[0].label, labels[0].score);
    Ok(())
}
