//! `audio_to_audio`: audio in, audio files out (source separation, speech enhancement).
//!
//! The task has no JSON schema upstream, so its method and types
//! ([`types::audio_to_audio`](crate::types::audio_to_audio)) are hand-written on the generic
//! engine. Served by hf-inference: the audio is the raw body (or base64 `inputs` in a JSON body
//! when [`extra_body`](TaskRequest::extra_body) adds fields); the answer's base64 files are
//! decoded into [`Blob`](crate::binary::Blob)s while it is read.
//!
//! ```no_run
//! use hf_inference::InferenceClient;
//! use hf_inference::binary::BinaryInput;
//!
//! # async fn demo() -> hf_inference::Result<()> {
//! let client = InferenceClient::builder().token("hf_xxx").build()?;
//! let sources = client
//!     .audio_to_audio(BinaryInput::from_path("mix.flac"))
//!     .model("speechbrain/sepformer-wham")
//!     .send()
//!     .await?;
//! for source in sources {
//!     let extension = source.blob.extension().unwrap_or("bin");
//!     source.blob.save(format!("{}.{extension}", source.label)).await?;
//! }
//! # Ok(())
//! # }
//! ```

use crate::binary::BinaryInput;
use crate::client::InferenceClient;
use crate::providers::Task;
use crate::tasks::generic::TaskRequest;
use crate::types::audio_to_audio::{AudioToAudioInput, AudioToAudioOutput};

/// An `audio-to-audio` call being built (see [`InferenceClient::audio_to_audio`]).
///
/// ```
/// use hf_inference::InferenceClient;
/// use hf_inference::tasks::audio_to_audio::AudioToAudioRequest;
///
/// let client = InferenceClient::builder().build()?;
/// let request: AudioToAudioRequest<'_> = client.audio_to_audio(b"fLaC".to_vec());
/// // The audio is read, and put in `inputs`, when the request is built.
/// assert_eq!(request.input().inputs, "");
/// # Ok::<(), hf_inference::Error>(())
/// ```
pub type AudioToAudioRequest<'c> = TaskRequest<'c, AudioToAudioInput, AudioToAudioOutput>;

impl InferenceClient {
    /// Runs the `audio-to-audio` task on `audio` (bytes, a path, a URL, a reader, a
    /// [`Blob`](crate::binary::Blob)…): the audio files the model produces, each with its label
    /// and decoded bytes. Set the model (a Hub id or an endpoint URL), then `send()`.
    ///
    /// Served by hf-inference, which receives the audio as the raw body, typed with its media
    /// type.
    ///
    /// ```no_run
    /// use hf_inference::InferenceClient;
    /// use hf_inference::binary::BinaryInput;
    ///
    /// # async fn demo() -> hf_inference::Result<()> {
    /// let client = InferenceClient::builder().token("hf_xxx").build()?;
    /// let request = client
    ///     .audio_to_audio(BinaryInput::from_path("noisy.flac"))
    ///     .model("speechbrain/mtl-mimic-voicebank");
    /// let preview = request.preview().await?;
    /// assert_eq!(
    ///     preview.url,
    ///     "https://router.huggingface.co/hf-inference/models/speechbrain/mtl-mimic-voicebank"
    /// );
    /// assert_eq!(preview.header("content-type"), Some("audio/flac"));
    /// let enhanced = request.send().await?;
    /// enhanced[0].blob.save("enhanced.flac").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn audio_to_audio(&self, audio: impl Into<BinaryInput>) -> AudioToAudioRequest<'_> {
        TaskRequest::new(self, Task::AudioToAudio, AudioToAudioInput::default())
            .with_binary("/inputs", audio.into())
    }
}
