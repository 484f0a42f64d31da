//! Binary inputs and outputs: images, audio and video going to and coming from a model.
//!
//! [`BinaryInput`] is what a task that takes an image or a sound accepts: bytes, a file, an
//! async reader, an `http(s)` URL or a `data:` URL. Nothing is read until the request is
//! built: [`BinaryInput::load`] reads the bytes (downloading URLs without any credentials), and
//! [`BinaryInput::to_url_or_data_url`] is for providers that take a URL in a JSON body (an
//! `http(s)` URL is passed as is, anything else becomes a `data:` URL).
//!
//! [`Blob`] is what binary outputs come back as: the bytes and their content type, with helpers
//! to save them, pick a file extension, and convert to and from base64.
//!
//! [`sniff_content_type`] recognises the common image, audio, video and document formats from
//! their first bytes.
//!
//! With the `image` cargo feature, `Blob::to_image` decodes an image answer into an
//! `image::DynamicImage` and `BinaryInput::from_image` encodes one to send it back.
//!
//! ```
//! use hf_inference::binary::{BinaryInput, Blob};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> hf_inference::Result<()> {
//! let http = reqwest::Client::new();
//! // Strings are URLs when they look like one, file paths otherwise.
//! let input: BinaryInput = "https://example.com/cat.png".parse()?;
//! assert_eq!(input.url(), Some("https://example.com/cat.png"));
//!
//! let input = BinaryInput::from_bytes(&b"\x89PNG\r\n\x1a\n...."[..]);
//! let blob: Blob = input.load(&http).await?;
//! assert_eq!(blob.content_type(), Some("image/png"));
//! assert_eq!(blob.extension(), Some("png"));
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;
use std::fmt;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::Mutex;
use url::Url;

use crate::error::{Error, HttpErrorContext, Result};

/// The field named in [`Error::InvalidInput`] for a bad binary input.
const INPUT_FIELD: &str = "input";
/// The field named in [`Error::InvalidInput`] for bad base64 given to [`Blob::from_base64`].
const BASE64_FIELD: &str = "base64";
/// Redirects followed by hand when the client's own policy stops at a cross-origin one.
const MAX_REDIRECTS: usize = 10;
/// Most of an error body read to build the error context.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// The content type of a `data:` URL built from bytes of unknown type.
const OCTET_STREAM: &str = "application/octet-stream";

/// Base64 decoding that accepts missing padding and non-zero trailing bits (both seen from
/// real encoders); the alphabet is still checked.
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const LENIENT_STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const LENIENT_URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

// ---------------------------------------------------------------------------------------------
// BinaryInput

/// Binary input: bytes, a file, a reader, an `http(s)` URL or a `data:` URL.
///
/// Build one with a constructor ([`from_bytes`](Self::from_bytes),
/// [`from_path`](Self::from_path), [`from_url`](Self::from_url),
/// [`from_data_url`](Self::from_data_url), [`from_reader`](Self::from_reader)), with `From`
/// (`Vec<u8>`, [`Bytes`], `&'static [u8]`, `&Path`, `PathBuf`, [`Blob`]), or from a string with
/// `TryFrom` / [`str::parse`]: `http://…` and `https://…` are URLs, `data:…` is a `data:` URL
/// (checked right away), anything else is a file path.
///
/// Nothing is read or downloaded until [`load`](Self::load) or
/// [`to_url_or_data_url`](Self::to_url_or_data_url). Cloning is cheap (bytes are
/// reference-counted, a reader is shared), so a request can be sent again. The `Debug` output
/// never shows the bytes, and shows a URL without its query string.
///
/// ```
/// use std::path::Path;
/// use hf_inference::binary::BinaryInput;
///
/// # fn main() -> hf_inference::Result<()> {
/// let from_vec = BinaryInput::from(vec![0xFF, 0xD8, 0xFF]);
/// let from_file = BinaryInput::from(Path::new("cat.png"));
/// let from_url = BinaryInput::from("https://example.com/cat.png");
/// let from_data_url: BinaryInput = "data:image/png;base64,iVBORw0KGgo=".parse()?;
/// assert!(from_url.url().is_some() && from_file.url().is_none());
/// # let _ = (from_vec, from_data_url);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct BinaryInput {
    source: Source,
    /// Set by [`BinaryInput::with_content_type`]; wins over every detection.
    content_type: Option<String>,
}

/// Where the bytes come from.
#[derive(Clone)]
enum Source {
    Bytes(Bytes),
    Path(PathBuf),
    /// Shared by the clones: read once, on the first load, then served from memory.
    Reader(Arc<Mutex<ReaderState>>),
    Url(Url),
    DataUrl {
        bytes: Bytes,
        mime: Option<String>,
    },
    /// A string that names no usable input (empty, a malformed URL or `data:` URL): the
    /// error is reported when the input is used, so `"cat.png".into()` can be infallible.
    Invalid(Arc<Error>),
}

/// A reader input, before and after it is read.
enum ReaderState {
    Pending(Box<dyn AsyncRead + Send + Unpin>),
    Done(Bytes),
    /// Reading failed, or was cancelled part-way: the reader cannot be read again.
    Failed(String),
}

impl ReaderState {
    /// The reader's bytes: read to the end the first time, cached for later loads.
    async fn read(shared: &Mutex<ReaderState>) -> Result<Bytes> {
        let mut state = shared.lock().await;
        // Taken out first, so that a load cancelled mid-read leaves an error, not a reader
        // that would yield only the rest of its data.
        let cancelled = ReaderState::Failed(
            "the input reader was only partly read (an earlier load was cancelled)".into(),
        );
        match std::mem::replace(&mut *state, cancelled) {
            ReaderState::Pending(mut reader) => {
                let mut buffer = Vec::new();
                match reader.read_to_end(&mut buffer).await {
                    Ok(_) => {
                        let bytes = Bytes::from(buffer);
                        *state = ReaderState::Done(bytes.clone());
                        Ok(bytes)
                    }
                    Err(e) => {
                        let message = format!("cannot read the input reader: {e}");
                        *state = ReaderState::Failed(message.clone());
                        Err(invalid(INPUT_FIELD, message))
                    }
                }
            }
            ReaderState::Done(bytes) => {
                *state = ReaderState::Done(bytes.clone());
                Ok(bytes)
            }
            ReaderState::Failed(message) => {
                *state = ReaderState::Failed(message.clone());
                Err(invalid(INPUT_FIELD, message))
            }
        }
    }
}

impl BinaryInput {
    /// Input from bytes already in memory. No copy: `Vec<u8>` and [`Bytes`] are moved in.
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    ///
    /// let input = BinaryInput::from_bytes(vec![1, 2, 3]);
    /// assert_eq!(format!("{input:?}"), r#"BinaryInput { kind: "bytes", len: 3 }"#);
    /// ```
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        Self::new(Source::Bytes(bytes.into()))
    }

    /// Input from a file, read when the request is built. A file that does not exist is an
    /// [`Error::InvalidInput`] naming the path at that point.
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    ///
    /// let input = BinaryInput::from_path("images/cat.png");
    /// assert!(input.url().is_none());
    /// ```
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        Self::new(Source::Path(path.into()))
    }

    /// Input from an `http://` or `https://` URL.
    ///
    /// Providers that accept URLs get it as is; for the others it is downloaded with a plain
    /// `GET` that carries no credentials. Any other scheme, an unparsable URL, or a URL with
    /// embedded credentials (`user:password@`) is an [`Error::InvalidInput`].
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    ///
    /// let input = BinaryInput::from_url("https://example.com/cat.png").unwrap();
    /// assert_eq!(input.url(), Some("https://example.com/cat.png"));
    /// assert!(BinaryInput::from_url("ftp://example.com/cat.png").is_err());
    /// ```
    pub fn from_url(url: impl AsRef<str>) -> Result<Self> {
        let url = url.as_ref();
        let parsed =
            Url::parse(url).map_err(|e| invalid(INPUT_FIELD, format!("not a valid URL: {e}")))?;
        match parsed.scheme() {
            "http" | "https" => {}
            "data" => {
                return Err(invalid(
                    INPUT_FIELD,
                    "a data: URL is not a download URL; use `BinaryInput::from_data_url`",
                ));
            }
            other => {
                return Err(invalid(
                    INPUT_FIELD,
                    format!("only http:// and https:// URLs can be downloaded, not `{other}:`"),
                ));
            }
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(invalid(
                INPUT_FIELD,
                "URLs with embedded credentials (user:password@) are not accepted: binary \
                 inputs are downloaded without credentials and may be forwarded to a provider",
            ));
        }
        Ok(Self::new(Source::Url(parsed)))
    }

    /// Input from a `data:` URL (`data:<mime>;base64,<data>`, or percent-encoded data without
    /// `;base64`), decoded right away. The URL's media type becomes the content type.
    ///
    /// A missing comma, bad base64, a bad percent-escape or a malformed media type is an
    /// [`Error::InvalidInput`].
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    ///
    /// let input = BinaryInput::from_data_url("data:text/plain,hello%20world").unwrap();
    /// assert!(input.url().is_none());
    /// assert!(BinaryInput::from_data_url("data:image/png;base64,@@@").is_err());
    /// ```
    pub fn from_data_url(data_url: impl AsRef<str>) -> Result<Self> {
        let (bytes, mime) = parse_data_url(data_url.as_ref(), INPUT_FIELD)?;
        Ok(Self::new(Source::DataUrl { bytes, mime }))
    }

    /// Input from an async reader (an open `tokio::fs::File`, a socket, a decompressor…),
    /// read to its end when the request is first built. Clones share it: the bytes are kept
    /// and reused by later loads. If reading fails (or a load is cancelled mid-read), that
    /// load and every later one fail with [`Error::InvalidInput`].
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> hf_inference::Result<()> {
    /// let reader = std::io::Cursor::new(b"fLaC rest of the file".to_vec());
    /// let blob = BinaryInput::from_reader(reader).load(&reqwest::Client::new()).await?;
    /// assert_eq!(blob.content_type(), Some("audio/flac"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_reader(reader: impl AsyncRead + Send + Unpin + 'static) -> Self {
        Self::new(Source::Reader(Arc::new(Mutex::new(ReaderState::Pending(
            Box::new(reader),
        )))))
    }

    /// Sets the content type (`image/png`, `audio/wav`, …), overriding every detection. An
    /// empty string clears it. It is not applied to a URL passed through as is by
    /// [`to_url_or_data_url`](Self::to_url_or_data_url).
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> hf_inference::Result<()> {
    /// let blob = BinaryInput::from_bytes(vec![0u8; 16])
    ///     .with_content_type("audio/L16")
    ///     .load(&reqwest::Client::new())
    ///     .await?;
    /// assert_eq!(blob.content_type(), Some("audio/L16"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_content_type(mut self, mime: impl Into<String>) -> Self {
        let mime = mime.into();
        let trimmed = mime.trim();
        self.content_type = match trimmed.len() {
            0 => None,
            n if n == mime.len() => Some(mime),
            _ => Some(trimmed.to_owned()),
        };
        self
    }

    /// The `http(s)` URL, when this input is one (as parsed: e.g. a space is percent-encoded
    /// and an empty path becomes `/`).
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    ///
    /// let input = BinaryInput::from_url("https://example.com").unwrap();
    /// assert_eq!(input.url(), Some("https://example.com/"));
    /// assert_eq!(BinaryInput::from_bytes(vec![1]).url(), None);
    /// ```
    pub fn url(&self) -> Option<&str> {
        match &self.source {
            Source::Url(url) => Some(url.as_str()),
            _ => None,
        }
    }

    /// Reads the bytes: a file through `tokio::fs`, a reader to its end, a `data:` URL decoded,
    /// an `http(s)` URL downloaded with `http` **without any credentials** (a plain `GET`, no
    /// `Authorization`; redirects to other hosts are followed, up to 10).
    ///
    /// The content type is the first known of: the one set with
    /// [`with_content_type`](Self::with_content_type), the `data:` URL's media type, the
    /// download's `Content-Type` (unless a generic one such as `application/octet-stream`),
    /// the type [sniffed](sniff_content_type) from the bytes, the file or URL extension.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the path when a file does not exist or cannot be read,
    /// or when a reader fails; for a download, the error of a non-2xx answer (with its status,
    /// e.g. [`Error::Http`] for a 404) or [`Error::Transport`].
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> hf_inference::Result<()> {
    /// let path = std::env::temp_dir().join("hf-inference-doc-load.png");
    /// std::fs::write(&path, b"\x89PNG\r\n\x1a\n....").unwrap();
    /// let blob = BinaryInput::from_path(&path).load(&reqwest::Client::new()).await?;
    /// assert_eq!(blob.content_type(), Some("image/png"));
    /// assert_eq!(blob.bytes().len(), 12);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn load(self, http: &reqwest::Client) -> Result<Blob> {
        self.load_capped(http, usize::MAX).await
    }

    /// Fails now, without reading it, when the input cannot be loaded later for a reason known
    /// without the network: a file that is missing, a directory or unreadable, or a string
    /// that names no input. Calls run it before anything is sent.
    pub(crate) async fn check_readable(&self) -> Result<()> {
        match &self.source {
            Source::Path(path) => {
                let file = tokio::fs::File::open(path)
                    .await
                    .map_err(|e| file_error(path, &e))?;
                let metadata = file.metadata().await.map_err(|e| file_error(path, &e))?;
                if metadata.is_dir() {
                    let e = std::io::Error::from(ErrorKind::IsADirectory);
                    return Err(file_error(path, &e));
                }
                Ok(())
            }
            Source::Invalid(error) => Err(invalid_again(error)),
            _ => Ok(()),
        }
    }

    /// [`load`](Self::load) with a download of at most `limit` bytes
    /// ([`Error::ResponseTooLarge`] past it).
    pub(crate) async fn load_capped(self, http: &reqwest::Client, limit: usize) -> Result<Blob> {
        let BinaryInput {
            source,
            content_type,
        } = self;
        // (bytes, declared type, type guessed from a file name)
        let (bytes, declared, from_name) = match source {
            Source::Bytes(bytes) => (bytes, None, None),
            Source::DataUrl { bytes, mime } => (bytes, mime, None),
            Source::Path(path) => {
                let bytes = read_file(&path).await?;
                (bytes, None, mime_from_path(&path))
            }
            Source::Reader(shared) => (ReaderState::read(&shared).await?, None, None),
            Source::Url(url) => download(http, url, limit).await?,
            Source::Invalid(error) => return Err(invalid_again(&error)),
        };
        let content_type = content_type
            .or(declared)
            .or_else(|| sniff_content_type(&bytes).map(str::to_owned))
            .or_else(|| from_name.map(str::to_owned));
        Ok(Blob {
            bytes,
            content_type,
        })
    }

    /// For providers that accept URLs: an `http(s)` URL as given (not downloaded); anything
    /// else is [loaded](Self::load) and returned as a `data:<mime>;base64,…` URL, with
    /// `default_mime` when the content type is unknown (providers expect e.g. `image/jpeg`,
    /// `image/png`, `audio/wav` or `audio/mpeg`).
    ///
    /// # Errors
    ///
    /// As for [`load`](Self::load).
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> hf_inference::Result<()> {
    /// let http = reqwest::Client::new();
    /// let url = BinaryInput::from_url("https://example.com/a.jpg")?;
    /// assert_eq!(url.to_url_or_data_url(&http, "image/jpeg").await?, "https://example.com/a.jpg");
    ///
    /// let bytes = BinaryInput::from_bytes(vec![1, 2, 3]);
    /// assert_eq!(bytes.to_url_or_data_url(&http, "image/jpeg").await?, "data:image/jpeg;base64,AQID");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn to_url_or_data_url(
        self,
        http: &reqwest::Client,
        default_mime: &str,
    ) -> Result<String> {
        match self.source {
            Source::Url(url) => Ok(url.into()),
            source => {
                let input = BinaryInput {
                    source,
                    content_type: self.content_type,
                };
                let blob = input.load(http).await?;
                Ok(blob.data_url_or(default_mime))
            }
        }
    }

    /// The same input with its `http(s)` URL passed through `f` (the client's host redirects);
    /// any other input, and the content type, unchanged.
    pub(crate) fn map_url(self, f: impl FnOnce(Url) -> Url) -> Self {
        let source = match self.source {
            Source::Url(url) => Source::Url(f(url)),
            other => other,
        };
        Self {
            source,
            content_type: self.content_type,
        }
    }

    fn new(source: Source) -> Self {
        Self {
            source,
            content_type: None,
        }
    }
}

impl From<Vec<u8>> for BinaryInput {
    /// The bytes, moved in (no copy).
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    /// let input = BinaryInput::from(vec![1, 2, 3]);
    /// # let _ = input;
    /// ```
    fn from(bytes: Vec<u8>) -> Self {
        Self::from_bytes(bytes)
    }
}

impl From<Bytes> for BinaryInput {
    /// The bytes (no copy).
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    /// let input = BinaryInput::from(bytes::Bytes::from_static(b"abc"));
    /// # let _ = input;
    /// ```
    fn from(bytes: Bytes) -> Self {
        Self::from_bytes(bytes)
    }
}

impl From<&'static [u8]> for BinaryInput {
    /// Static bytes (no copy), e.g. from `include_bytes!`.
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    /// static IMAGE: &[u8] = b"\x89PNG\r\n\x1a\n";
    /// let input = BinaryInput::from(IMAGE);
    /// # let _ = input;
    /// ```
    fn from(bytes: &'static [u8]) -> Self {
        Self::from_bytes(Bytes::from_static(bytes))
    }
}

impl From<&Path> for BinaryInput {
    /// A file path.
    ///
    /// ```
    /// use std::path::Path;
    /// use hf_inference::binary::BinaryInput;
    /// let input = BinaryInput::from(Path::new("cat.png"));
    /// # let _ = input;
    /// ```
    fn from(path: &Path) -> Self {
        Self::from_path(path)
    }
}

impl From<PathBuf> for BinaryInput {
    /// A file path.
    ///
    /// ```
    /// use std::path::PathBuf;
    /// use hf_inference::binary::BinaryInput;
    /// let input = BinaryInput::from(PathBuf::from("cat.png"));
    /// # let _ = input;
    /// ```
    fn from(path: PathBuf) -> Self {
        Self::from_path(path)
    }
}

impl From<Blob> for BinaryInput {
    /// A previous output as input, keeping its content type (no copy).
    ///
    /// ```
    /// use hf_inference::binary::{BinaryInput, Blob};
    /// let input = BinaryInput::from(Blob::new(vec![1, 2], Some("image/png".into())));
    /// # let _ = input;
    /// ```
    fn from(blob: Blob) -> Self {
        Self {
            source: Source::Bytes(blob.bytes),
            content_type: blob.content_type,
        }
    }
}

impl From<&str> for BinaryInput {
    /// `http://…` / `https://…` is a URL, `data:…` a `data:` URL (decoded now), anything else a
    /// file path. A string that cannot be an input (empty, a malformed URL or `data:` URL) makes
    /// an input whose use fails with [`Error::InvalidInput`]; use [`str::parse`] to get that
    /// error at once.
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    ///
    /// assert!(BinaryInput::from("https://example.com/a.png").url().is_some());
    /// assert!(BinaryInput::from("photos/a.png").url().is_none());
    /// assert!("data:image/png;base64".parse::<BinaryInput>().is_err()); // no comma
    /// ```
    fn from(value: &str) -> Self {
        value
            .parse()
            .unwrap_or_else(|e| Self::new(Source::Invalid(Arc::new(e))))
    }
}

impl From<String> for BinaryInput {
    /// As for `&str`; a path reuses the string's buffer.
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    /// let input = BinaryInput::from(String::from("cat.png"));
    /// assert!(input.url().is_none());
    /// ```
    fn from(value: String) -> Self {
        let parsed = match classify(&value) {
            Ok(StrKind::Url) => Self::from_url(&value),
            Ok(StrKind::DataUrl) => Self::from_data_url(&value),
            Ok(StrKind::Path) => Ok(Self::from_path(value)),
            Err(e) => Err(e),
        };
        parsed.unwrap_or_else(|e| Self::new(Source::Invalid(Arc::new(e))))
    }
}

/// The deferred error of an invalid string input, again (errors are not `Clone`).
fn invalid_again(error: &Error) -> Error {
    match error {
        Error::InvalidInput { field, message } => Error::InvalidInput {
            field: field.clone(),
            message: message.clone(),
        },
        other => Error::InvalidInput {
            field: "input".into(),
            message: other.to_string(),
        },
    }
}

impl FromStr for BinaryInput {
    type Err = Error;

    /// As [`From<&str>`](#impl-From%3C%26str%3E-for-BinaryInput), but an invalid string is an
    /// error now.
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    /// let input: BinaryInput = "https://example.com/a.wav".parse().unwrap();
    /// assert_eq!(input.url(), Some("https://example.com/a.wav"));
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        match classify(s)? {
            StrKind::Url => Self::from_url(s),
            StrKind::DataUrl => Self::from_data_url(s),
            StrKind::Path => Ok(Self::from_path(s)),
        }
    }
}

impl fmt::Debug for BinaryInput {
    /// The kind of input and its length, path or URL (query and fragment hidden); never the
    /// bytes.
    ///
    /// ```
    /// use hf_inference::binary::BinaryInput;
    /// let input = BinaryInput::from_url("https://cdn.example.com/a.png?sig=secret").unwrap();
    /// assert_eq!(
    ///     format!("{input:?}"),
    ///     r#"BinaryInput { kind: "url", url: "https://cdn.example.com/a.png?REDACTED" }"#,
    /// );
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("BinaryInput");
        match &self.source {
            Source::Bytes(bytes) => out.field("kind", &"bytes").field("len", &bytes.len()),
            Source::Path(path) => out.field("kind", &"path").field("path", path),
            Source::Reader(_) => out.field("kind", &"reader"),
            Source::Url(url) => out
                .field("kind", &"url")
                .field("url", &url_for_display(url)),
            Source::DataUrl { bytes, mime } => out
                .field("kind", &"data-url")
                .field("len", &bytes.len())
                .field("mime", mime),
            Source::Invalid(error) => out
                .field("kind", &"invalid")
                .field("error", &error.to_string()),
        };
        if let Some(content_type) = &self.content_type {
            out.field("content_type", content_type);
        }
        out.finish()
    }
}

/// What a string given as a binary input is.
enum StrKind {
    Url,
    DataUrl,
    Path,
}

fn classify(value: &str) -> Result<StrKind> {
    let trimmed = value.trim_start();
    if starts_with_ignore_case(trimmed, "http://") || starts_with_ignore_case(trimmed, "https://") {
        Ok(StrKind::Url)
    } else if starts_with_ignore_case(trimmed, "data:") {
        Ok(StrKind::DataUrl)
    } else if value.is_empty() {
        Err(invalid(
            INPUT_FIELD,
            "empty string: expected a file path, an http(s) URL or a data: URL",
        ))
    } else {
        Ok(StrKind::Path)
    }
}

/// A URL for logs: no userinfo, the query replaced by `REDACTED`, no fragment.
fn url_for_display(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    if shown.query().is_some() {
        shown.set_query(Some("REDACTED"));
    }
    shown.set_fragment(None);
    shown.into()
}

async fn read_file(path: &Path) -> Result<Bytes> {
    match tokio::fs::read(path).await {
        Ok(bytes) => Ok(Bytes::from(bytes)),
        Err(e) => Err(file_error(path, &e)),
    }
}

/// The input error for a file that cannot be read, saying why.
fn file_error(path: &Path, e: &std::io::Error) -> Error {
    let shown = path.display();
    let message = match e.kind() {
        ErrorKind::NotFound => {
            let hint = if path.to_string_lossy().contains("://") {
                " (only http://, https:// and data: URLs are recognised; any other \
                 string is read as a file path)"
            } else {
                ""
            };
            format!("file `{shown}` does not exist{hint}")
        }
        ErrorKind::IsADirectory => format!("`{shown}` is a directory, not a file"),
        _ => format!("cannot read file `{shown}`: {e}"),
    };
    invalid(INPUT_FIELD, message)
}

/// Downloads `url` with a plain GET (no credentials of ours), following redirects that the
/// client's policy stopped at (the SDK's client stops at cross-origin ones; nothing secret is
/// sent, so following them here is safe).
///
/// Returns the body, its `Content-Type` unless generic, and the type guessed from the final
/// URL's extension.
async fn download(
    http: &reqwest::Client,
    mut url: Url,
    limit: usize,
) -> Result<(Bytes, Option<String>, Option<&'static str>)> {
    for _ in 0..=MAX_REDIRECTS {
        let response = http.get(url.clone()).send().await.map_err(Error::from)?;
        let status = response.status();
        if status.is_redirection()
            && let Some(next) = redirect_target(&response)
        {
            url = next;
            continue;
        }
        if !status.is_success() {
            return Err(download_error(response).await);
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|ct| !ct.is_empty() && !is_generic_content_type(ct))
            .map(str::to_owned);
        let from_name = mime_from_url(response.url());
        let bytes = crate::http::transport::read_body_capped(response, limit, None).await?;
        return Ok((bytes, content_type, from_name));
    }
    Err(invalid(
        INPUT_FIELD,
        format!(
            "more than {MAX_REDIRECTS} redirects while downloading {}",
            url_for_display(&url)
        ),
    ))
}

/// Where a redirect response points, when it is an `http(s)` URL.
fn redirect_target(response: &reqwest::Response) -> Option<Url> {
    let location = response.headers().get(LOCATION)?.to_str().ok()?;
    let next = response.url().join(location.trim()).ok()?;
    matches!(next.scheme(), "http" | "https").then_some(next)
}

/// The crate's HTTP error for a non-2xx download, with the status and the server's message.
async fn download_error(mut response: reqwest::Response) -> Error {
    let status = response.status().as_u16();
    let url = response.url().clone();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let retry_after = crate::http::retry::retry_after_from_headers(&headers);
    let context =
        HttpErrorContext::from_response_parts(status, &Method::GET, &url, &headers, &body);
    Error::from_http_context(context, retry_after)
}

/// Content types that say nothing about the bytes (S3 and CDNs send them for anything).
fn is_generic_content_type(content_type: &str) -> bool {
    matches!(
        essence(content_type).as_str(),
        "application/octet-stream"
            | "binary/octet-stream"
            | "application/binary"
            | "application/unknown"
            | "application/download"
            | "application/force-download"
            | "application/x-download"
    )
}

// ---------------------------------------------------------------------------------------------
// Blob

/// Binary output: bytes with their content type.
///
/// Cheap to clone (the bytes are reference-counted).
///
/// ```
/// use hf_inference::binary::Blob;
///
/// let blob = Blob::new(b"\x89PNG\r\n\x1a\n".to_vec(), Some("image/png".to_owned()));
/// assert_eq!(blob.extension(), Some("png"));
/// assert_eq!(blob.to_data_url(), "data:image/png;base64,iVBORw0KGgo=");
/// assert_eq!(Blob::from_base64(&blob.to_data_url(), None).unwrap(), blob);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Blob {
    bytes: Bytes,
    content_type: Option<String>,
}

impl Blob {
    /// Bytes with their content type, as given (nothing is sniffed).
    ///
    /// ```
    /// use hf_inference::binary::Blob;
    /// let blob = Blob::new(vec![1, 2, 3], None);
    /// assert_eq!(blob.content_type(), None);
    /// ```
    pub fn new(bytes: impl Into<Bytes>, content_type: Option<String>) -> Self {
        Self {
            bytes: bytes.into(),
            content_type,
        }
    }

    /// The bytes.
    ///
    /// ```
    /// use hf_inference::binary::Blob;
    /// assert_eq!(Blob::new(vec![1, 2, 3], None).bytes().as_ref(), &[1, 2, 3]);
    /// ```
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The bytes, without a copy.
    ///
    /// ```
    /// use hf_inference::binary::Blob;
    /// let bytes = Blob::new(vec![1, 2, 3], None).into_bytes();
    /// assert_eq!(bytes.len(), 3);
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// The content type (`image/png`, `audio/flac`, …), when known.
    ///
    /// ```
    /// use hf_inference::binary::Blob;
    /// let blob = Blob::new(vec![], Some("audio/flac".into()));
    /// assert_eq!(blob.content_type(), Some("audio/flac"));
    /// ```
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// A file extension for the content (`"png"`, `"jpg"`, `"wav"`, `"flac"`, `"mp3"`,
    /// `"mp4"`, …), from the content type, or from the bytes when the type is unknown or has
    /// no usual extension.
    ///
    /// ```
    /// use hf_inference::binary::Blob;
    /// assert_eq!(Blob::new(vec![], Some("image/jpeg".into())).extension(), Some("jpg"));
    /// assert_eq!(Blob::new(b"fLaC....".to_vec(), None).extension(), Some("flac"));
    /// assert_eq!(Blob::new(vec![0, 0, 0], None).extension(), None);
    /// ```
    pub fn extension(&self) -> Option<&'static str> {
        self.content_type
            .as_deref()
            .and_then(extension_for_mime)
            .or_else(|| sniff_content_type(&self.bytes).and_then(extension_for_mime))
    }

    /// Writes the bytes to `path` (created or truncated), through `tokio::fs`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] (field `path`) naming the path when it cannot be written.
    ///
    /// ```
    /// use hf_inference::binary::Blob;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> hf_inference::Result<()> {
    /// let blob = Blob::new(b"RIFF\0\0\0\0WAVEfmt ".to_vec(), Some("audio/wav".into()));
    /// let path = std::env::temp_dir().join(format!("hf-inference-doc.{}", blob.extension().unwrap()));
    /// blob.save(&path).await?;
    /// assert_eq!(std::fs::read(&path).unwrap(), blob.bytes().as_ref());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        // `Bytes` is written without a copy (a `&[u8]` would be copied for the blocking pool).
        tokio::fs::write(path, self.bytes.clone())
            .await
            .map_err(|e| invalid("path", format!("cannot write `{}`: {e}", path.display())))
    }

    /// The bytes as standard base64 (with padding).
    ///
    /// ```
    /// use hf_inference::binary::Blob;
    /// assert_eq!(Blob::new(b"hi!".to_vec(), None).to_base64(), "aGkh");
    /// ```
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.bytes)
    }

    /// The bytes as a `data:<mime>;base64,…` URL. The type is the content type, else the one
    /// sniffed from the bytes, else `application/octet-stream`.
    ///
    /// ```
    /// use hf_inference::binary::Blob;
    /// let blob = Blob::new(b"hi!".to_vec(), Some("text/plain".into()));
    /// assert_eq!(blob.to_data_url(), "data:text/plain;base64,aGkh");
    /// ```
    pub fn to_data_url(&self) -> String {
        self.data_url_or(OCTET_STREAM)
    }

    /// Decodes base64 (standard or URL-safe alphabet, padding optional, whitespace ignored) or a
    /// whole `data:` URL. The content type is `content_type` when given, else the `data:`
    /// URL's, else the one sniffed from the bytes.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] (field `base64`) for invalid base64 or a malformed `data:` URL.
    ///
    /// ```
    /// use hf_inference::binary::Blob;
    ///
    /// let blob = Blob::from_base64("iVBORw0KGgo=", None).unwrap();
    /// assert_eq!(blob.content_type(), Some("image/png")); // sniffed
    /// let blob = Blob::from_base64("data:audio/wav;base64,AAAA", None).unwrap();
    /// assert_eq!(blob.content_type(), Some("audio/wav"));
    /// assert!(Blob::from_base64("not base64!", None).is_err());
    /// ```
    pub fn from_base64(text: &str, content_type: Option<String>) -> Result<Blob> {
        let text = text.trim();
        let (bytes, declared) = if starts_with_ignore_case(text, "data:") {
            parse_data_url(text, BASE64_FIELD)?
        } else {
            let bytes = decode_base64(text.as_bytes())
                .map_err(|e| invalid(BASE64_FIELD, format!("invalid base64: {e}")))?;
            (Bytes::from(bytes), None)
        };
        let content_type = content_type
            .or(declared)
            .or_else(|| sniff_content_type(&bytes).map(str::to_owned));
        Ok(Blob {
            bytes,
            content_type,
        })
    }

    /// A `data:` URL with the content type, else the sniffed type, else `default_mime`.
    fn data_url_or(&self, default_mime: &str) -> String {
        let declared = self.content_type.as_deref().and_then(data_url_mime);
        let mime = match declared {
            Some(mime) => mime,
            None => Cow::Borrowed(sniff_content_type(&self.bytes).unwrap_or(default_mime)),
        };
        let mut url = String::with_capacity(
            "data:;base64,".len() + mime.len() + self.bytes.len().div_ceil(3) * 4,
        );
        url.push_str("data:");
        url.push_str(&mime);
        url.push_str(";base64,");
        STANDARD.encode_string(&self.bytes, &mut url);
        url
    }
}

impl fmt::Debug for Blob {
    /// The length and the content type; never the bytes.
    ///
    /// ```
    /// use hf_inference::binary::Blob;
    /// let blob = Blob::new(vec![7; 10], Some("image/png".into()));
    /// assert_eq!(format!("{blob:?}"), r#"Blob { len: 10, content_type: Some("image/png") }"#);
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blob")
            .field("len", &self.bytes.len())
            .field("content_type", &self.content_type)
            .finish()
    }
}

/// A content type as written in a `data:` URL: no whitespace around `;`. `None` when it cannot
/// be written there (empty, or with a comma or a control character).
fn data_url_mime(content_type: &str) -> Option<Cow<'_, str>> {
    let content_type = content_type.trim();
    if content_type.is_empty()
        || content_type
            .bytes()
            .any(|b| b == b',' || b.is_ascii_control())
    {
        return None;
    }
    if !content_type.contains(char::is_whitespace) {
        return Some(Cow::Borrowed(content_type));
    }
    let mut out = String::with_capacity(content_type.len());
    for part in content_type.split(';').map(str::trim) {
        if part.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(';');
        }
        out.push_str(part);
    }
    Some(Cow::Owned(out))
}

// ---------------------------------------------------------------------------------------------
// data: URLs and base64

fn parse_data_url(text: &str, field: &str) -> Result<(Bytes, Option<String>)> {
    let text = text.trim();
    let rest = strip_prefix_ignore_case(text, "data:")
        .ok_or_else(|| invalid(field, "a data: URL must start with `data:`"))?;
    let (meta, data) = rest.split_once(',').ok_or_else(|| {
        invalid(
            field,
            "malformed data: URL: no comma between the media type and the data \
             (expected `data:<mime>;base64,<data>`)",
        )
    })?;
    let mut parts = meta.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    let mut is_base64 = false;
    let mut params = Vec::new();
    for part in parts.map(str::trim) {
        if part.eq_ignore_ascii_case("base64") {
            is_base64 = true;
        } else if !part.is_empty() {
            params.push(part);
        }
    }
    let mime = if essence.is_empty() {
        None
    } else if is_media_type(essence) {
        let mut mime = essence.to_ascii_lowercase();
        for param in params {
            mime.push(';');
            mime.push_str(param);
        }
        Some(mime)
    } else {
        return Err(invalid(
            field,
            "malformed data: URL: the media type is not of the form `type/subtype`",
        ));
    };
    let data = percent_decode(data).map_err(|at| {
        invalid(
            field,
            format!("malformed data: URL: invalid percent-escape at offset {at} of the data"),
        )
    })?;
    let bytes = if is_base64 {
        decode_base64(&data)
            .map_err(|e| invalid(field, format!("invalid base64 in data: URL: {e}")))?
    } else {
        data.into_owned()
    };
    Ok((Bytes::from(bytes), mime))
}

/// `type/subtype` made of RFC 2045 token characters.
fn is_media_type(essence: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    essence
        .split_once('/')
        .is_some_and(|(kind, sub)| token(kind) && token(sub))
}

/// Decodes `%XX` escapes; `Err` holds the offset of a bad escape. Borrows when there is none.
fn percent_decode(input: &str) -> std::result::Result<Cow<'_, [u8]>, usize> {
    let bytes = input.as_bytes();
    if !bytes.contains(&b'%') {
        return Ok(Cow::Borrowed(bytes));
    }
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                // Two hex digits make at most 0xFF.
                (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                _ => return Err(i),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(Cow::Owned(out))
}

/// Lenient base64: whitespace ignored, padding optional, URL-safe alphabet accepted.
fn decode_base64(data: &[u8]) -> std::result::Result<Vec<u8>, base64::DecodeError> {
    let data: Cow<'_, [u8]> = if data.iter().any(u8::is_ascii_whitespace) {
        Cow::Owned(
            data.iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect(),
        )
    } else {
        Cow::Borrowed(data)
    };
    LENIENT_STANDARD.decode(&data).or_else(|error| {
        if data.iter().any(|b| matches!(b, b'-' | b'_')) {
            LENIENT_URL_SAFE.decode(&data).map_err(|_| error)
        } else {
            Err(error)
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Content types

/// The content type of `bytes` from their first bytes (magic numbers), when recognised.
///
/// Images: PNG, JPEG, GIF, WebP, BMP, TIFF, ICO, AVIF, HEIC/HEIF. Audio: FLAC, WAV, MP3 (ID3
/// tag or MPEG frame), AAC (ADTS), Ogg, AIFF, M4A. Video: MP4, QuickTime, 3GP, WebM, Matroska,
/// AVI. Documents: PDF. ISO media files (`ftyp`) are `audio/mp4` when their brand says so
/// (`M4A `, …), `video/mp4` otherwise.
///
/// ```
/// use hf_inference::binary::sniff_content_type;
///
/// assert_eq!(sniff_content_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
/// assert_eq!(sniff_content_type(b"RIFF\x24\0\0\0WAVEfmt "), Some("audio/wav"));
/// assert_eq!(sniff_content_type(b"\0\0\0\x20ftypM4A \0\0\0\0"), Some("audio/mp4"));
/// assert_eq!(sniff_content_type(b"hello"), None);
/// ```
pub fn sniff_content_type(bytes: &[u8]) -> Option<&'static str> {
    let b = bytes;
    let at = |offset: usize, magic: &[u8]| b.get(offset..offset + magic.len()) == Some(magic);

    if at(0, b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return Some("image/gif");
    }
    if at(0, b"RIFF") || at(0, b"RF64") {
        match b.get(8..12) {
            Some(b"WEBP") => return Some("image/webp"),
            Some(b"WAVE") => return Some("audio/wav"),
            Some(b"AVI ") => return Some("video/x-msvideo"),
            _ => {}
        }
    }
    if at(0, b"fLaC") {
        return Some("audio/flac");
    }
    if at(0, b"OggS") {
        let head = &b[..b.len().min(96)];
        return Some(if contains(head, b"\x80theora") {
            "video/ogg"
        } else {
            "audio/ogg"
        });
    }
    if at(0, b"%PDF-") {
        return Some("application/pdf");
    }
    if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        // EBML; the DocType sits in the header's first few dozen bytes.
        let head = &b[..b.len().min(64)];
        return Some(if contains(head, b"webm") {
            "video/webm"
        } else {
            "video/x-matroska"
        });
    }
    if at(4, b"ftyp") {
        return b.get(8..12).map(iso_media_type);
    }
    if at(0, b"II*\0") || at(0, b"MM\0*") {
        return Some("image/tiff");
    }
    if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        return Some("audio/aiff");
    }
    if at(0, b"ID3") {
        return Some("audio/mpeg");
    }
    if at(0, b"BM") && is_bmp(b) {
        return Some("image/bmp");
    }
    if at(0, &[0, 0, 1, 0]) && is_ico(b) {
        return Some("image/x-icon");
    }
    mpeg_audio_frame(b)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An ISO base media file (MP4 family) by its major brand.
fn iso_media_type(brand: &[u8]) -> &'static str {
    match brand {
        b"M4A " | b"M4B " | b"M4P " | b"F4A " | b"F4B " => "audio/mp4",
        b"qt  " => "video/quicktime",
        b"avif" | b"avis" => "image/avif",
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" => "image/heic",
        b"mif1" | b"msf1" => "image/heif",
        [b'3', b'g', b'2', _] => "video/3gpp2",
        [b'3', b'g', b'p', _] => "video/3gpp",
        _ => "video/mp4",
    }
}

/// `BM` followed by a plausible DIB header size (two bytes alone are too weak a signal).
fn is_bmp(b: &[u8]) -> bool {
    b.get(14..18)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_le_bytes)
        .is_some_and(|size| matches!(size, 12 | 16 | 40 | 52 | 56 | 64 | 108 | 124))
}

/// An icon directory with at least one entry whose reserved byte is zero.
fn is_ico(b: &[u8]) -> bool {
    let count = b
        .get(4..6)
        .and_then(|s| <[u8; 2]>::try_from(s).ok())
        .map(u16::from_le_bytes);
    count.is_some_and(|n| n > 0) && b.len() >= 22 && b.get(9) == Some(&0)
}

/// An MPEG audio frame header (MP1/2/3: `audio/mpeg`) or an ADTS header (`audio/aac`).
fn mpeg_audio_frame(b: &[u8]) -> Option<&'static str> {
    let (&b0, &b1, &b2) = (b.first()?, b.get(1)?, b.get(2)?);
    if b0 != 0xFF || b1 & 0xE0 != 0xE0 {
        return None;
    }
    let version = (b1 >> 3) & 0b11;
    let layer = (b1 >> 1) & 0b11;
    if layer == 0 {
        // ADTS: 12 sync bits, layer 00, sampling frequency index below 13.
        return (b1 & 0xF6 == 0xF0 && (b2 >> 2) & 0x0F < 13).then_some("audio/aac");
    }
    let bitrate = b2 >> 4;
    let sample_rate = (b2 >> 2) & 0b11;
    (version != 0b01 && bitrate != 0b1111 && sample_rate != 0b11).then_some("audio/mpeg")
}

/// The lower-cased `type/subtype` of a content type, without parameters.
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The usual file extension for a content type.
fn extension_for_mime(content_type: &str) -> Option<&'static str> {
    Some(match essence(content_type).as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/bmp" | "image/x-bmp" | "image/x-ms-bmp" => "bmp",
        "image/tiff" => "tiff",
        "image/x-icon" | "image/vnd.microsoft.icon" => "ico",
        "image/svg+xml" => "svg",
        "image/avif" => "avif",
        "image/heic" => "heic",
        "image/heif" => "heif",
        "audio/flac" | "audio/x-flac" => "flac",
        "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => "wav",
        "audio/mpeg" | "audio/mp3" | "audio/mpeg3" | "audio/x-mpeg-3" => "mp3",
        "audio/aac" | "audio/x-aac" | "audio/aacp" => "aac",
        "audio/ogg" | "audio/vorbis" => "ogg",
        "audio/opus" => "opus",
        "audio/mp4" | "audio/x-m4a" | "audio/m4a" => "m4a",
        "audio/aiff" | "audio/x-aiff" => "aiff",
        "audio/webm" => "weba",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "video/x-matroska" => "mkv",
        "video/quicktime" => "mov",
        "video/ogg" => "ogv",
        "video/x-msvideo" => "avi",
        "video/3gpp" => "3gp",
        "video/3gpp2" => "3g2",
        "video/mpeg" => "mpg",
        "application/pdf" => "pdf",
        "application/json" => "json",
        "text/plain" => "txt",
        _ => return None,
    })
}

/// The content type for a file extension (case-insensitive, without the dot).
fn mime_for_extension(extension: &str) -> Option<&'static str> {
    Some(match extension.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" | "jpe" | "jfif" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        "tif" | "tiff" => "image/tiff",
        "ico" => "image/x-icon",
        "svg" => "image/svg+xml",
        "avif" => "image/avif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "flac" => "audio/flac",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "aac" => "audio/aac",
        "ogg" | "oga" => "audio/ogg",
        "opus" => "audio/opus",
        "m4a" => "audio/mp4",
        "aif" | "aiff" => "audio/aiff",
        "weba" => "audio/webm",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "mov" => "video/quicktime",
        "ogv" => "video/ogg",
        "avi" => "video/x-msvideo",
        "3gp" => "video/3gpp",
        "3g2" => "video/3gpp2",
        "mpg" | "mpeg" => "video/mpeg",
        "pdf" => "application/pdf",
        "json" => "application/json",
        "txt" => "text/plain",
        _ => return None,
    })
}

fn mime_from_path(path: &Path) -> Option<&'static str> {
    mime_for_extension(path.extension()?.to_str()?)
}

fn mime_from_url(url: &Url) -> Option<&'static str> {
    let name = url.path_segments()?.next_back()?;
    mime_for_extension(name.rsplit_once('.')?.1)
}

// ---------------------------------------------------------------------------------------------
// Small helpers

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::InvalidInput {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    strip_prefix_ignore_case(text, prefix).is_some()
}

// ---------------------------------------------------------------------------------------------
// Images (cargo feature `image`)

/// The [`image`](https://docs.rs/image) crate this module decodes and encodes with, re-exported
/// so callers use the same version. Only its PNG, JPEG, WebP, GIF and BMP codecs are enabled.
#[cfg(feature = "image")]
pub use image;

/// `target` of the [`Error::Decode`] returned by [`Blob::to_image`].
#[cfg(feature = "image")]
const DYNAMIC_IMAGE: &str = "DynamicImage";

/// How much of the bytes a failed [`Blob::to_image`] quotes (as the other decode errors do).
#[cfg(feature = "image")]
const IMAGE_EXCERPT_LEN: usize = 1024;

#[cfg(feature = "image")]
impl Blob {
    /// Decodes an image answer (text-to-image, image-to-image, a segmentation mask, …) into an
    /// [`image::DynamicImage`]. Requires the `image` cargo feature.
    ///
    /// The format is recognised from the bytes, or else from the content type; PNG, JPEG,
    /// WebP, GIF (first frame) and BMP are decoded. Decoding is CPU-bound: for large images in
    /// an async context, call it inside `tokio::task::spawn_blocking`.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] with `target: "DynamicImage"` when the bytes are not an image in one
    /// of those formats, or are a corrupt one. Never panics.
    ///
    /// ```
    /// use std::io::Cursor;
    ///
    /// use hf_inference::Error;
    /// use hf_inference::binary::Blob;
    /// use hf_inference::binary::image::{DynamicImage, ImageFormat, Rgb, RgbImage};
    ///
    /// // A PNG, as a text-to-image answer brings it.
    /// let mut png = Vec::new();
    /// DynamicImage::from(RgbImage::from_pixel(4, 3, Rgb([255, 0, 0])))
    ///     .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
    ///     .unwrap();
    /// let blob = Blob::new(png, Some("image/png".into()));
    ///
    /// let image = blob.to_image()?;
    /// assert_eq!((image.width(), image.height()), (4, 3));
    /// assert_eq!(image.to_rgb8().get_pixel(0, 0), &Rgb([255, 0, 0]));
    ///
    /// // Anything else is a decode error, not a panic.
    /// let json = Blob::new(br#"{"error":"overloaded"}"#.to_vec(), Some("application/json".into()));
    /// assert!(matches!(json.to_image(), Err(Error::Decode { target: "DynamicImage", .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn to_image(&self) -> Result<image::DynamicImage> {
        let bytes: &[u8] = &self.bytes;
        let format = image::guess_format(bytes).ok().or_else(|| {
            let mime = self.content_type.as_deref()?;
            let essence = mime.split(';').next().unwrap_or(mime).trim();
            image::ImageFormat::from_mime_type(essence.to_ascii_lowercase())
        });
        let decode_error = |message: String| Error::Decode {
            target: DYNAMIC_IMAGE,
            message,
            body_excerpt: crate::error::excerpt(bytes, IMAGE_EXCERPT_LEN),
        };
        let Some(format) = format else {
            let declared = match self.content_type.as_deref() {
                Some(mime) => format!(" (content type `{mime}`)"),
                None => String::new(),
            };
            return Err(decode_error(format!(
                "not an image in a supported format (PNG, JPEG, WebP, GIF, BMP){declared}"
            )));
        };
        image::load_from_memory_with_format(bytes, format)
            .map_err(|e| decode_error(format!("invalid {format:?} image: {e}")))
    }
}

#[cfg(feature = "image")]
impl BinaryInput {
    /// An image encoded as `format` in memory, with that format's content type (`image/png`,
    /// `image/jpeg`, …), to send a decoded or edited image back to a model. Requires the
    /// `image` cargo feature. `BinaryInput::try_from(&image)` encodes PNG.
    ///
    /// PNG, JPEG, WebP (lossless), GIF and BMP can be written. The image is converted to a
    /// colour type the format holds when it has to be: JPEG drops the alpha channel, and
    /// 16-bit or float images lose precision outside PNG.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] (field `image`) when the format cannot be written (TIFF, AVIF,
    /// … are not compiled in) or the encoder refuses the image.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> hf_inference::Result<()> {
    /// use hf_inference::binary::image::{DynamicImage, ImageFormat, Rgb, RgbImage, RgbaImage};
    /// use hf_inference::binary::BinaryInput;
    ///
    /// let image = DynamicImage::from(RgbImage::from_pixel(8, 8, Rgb([0, 128, 255])));
    /// let input = BinaryInput::from_image(&image, ImageFormat::Jpeg)?;
    /// let blob = input.load(&reqwest::Client::new()).await?;
    /// assert_eq!(blob.content_type(), Some("image/jpeg"));
    /// assert_eq!(blob.to_image()?.width(), 8);
    ///
    /// // PNG (what `try_from` writes) keeps the alpha channel.
    /// let rgba = DynamicImage::from(RgbaImage::new(8, 8));
    /// let blob = BinaryInput::try_from(&rgba)?.load(&reqwest::Client::new()).await?;
    /// assert_eq!(blob.to_image()?, rgba);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_image(image: &image::DynamicImage, format: image::ImageFormat) -> Result<Self> {
        let mut encoded = std::io::Cursor::new(Vec::new());
        image.write_to(&mut encoded, format).map_err(|e| {
            invalid(
                "image",
                format!(
                    "cannot encode a {}x{} {:?} image as {format:?}: {e}",
                    image.width(),
                    image.height(),
                    image.color()
                ),
            )
        })?;
        Ok(Self::from_bytes(encoded.into_inner()).with_content_type(format.to_mime_type()))
    }
}

#[cfg(feature = "image")]
impl TryFrom<&image::DynamicImage> for BinaryInput {
    type Error = Error;

    /// The image encoded as PNG (lossless, keeps alpha), content type `image/png`. Requires
    /// the `image` cargo feature; see [`BinaryInput::from_image`] for other formats.
    ///
    /// ```
    /// # fn main() -> hf_inference::Result<()> {
    /// use hf_inference::binary::image::{DynamicImage, GrayImage};
    /// use hf_inference::binary::BinaryInput;
    ///
    /// let mask = DynamicImage::from(GrayImage::new(16, 16));
    /// let input = BinaryInput::try_from(&mask)?;
    /// # let _ = input;
    /// # Ok(())
    /// # }
    /// ```
    fn try_from(image: &image::DynamicImage) -> Result<Self> {
        Self::from_image(image, image::ImageFormat::Png)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;

    use tokio::io::AsyncWriteExt;

    use super::*;

    const PNG_HEADER: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const SECRET: &[u8] = b"SECRET-PAYLOAD-BYTES";

    fn inputs_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/inputs")
    }

    fn http() -> reqwest::Client {
        reqwest::Client::new()
    }

    /// A temporary file path unique to this test process and `name`.
    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("hf-inference-binary-{}-{name}", std::process::id()))
    }

    fn invalid_message(err: Error) -> (String, String) {
        match err {
            Error::InvalidInput { field, message } => (field, message),
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Sniffing

    #[test]
    fn sniffs_the_conformance_files() {
        for (name, expected) in [
            ("bird_canny.png", "image/png"),
            ("cats.png", "image/png"),
            ("cheetah.png", "image/png"),
            ("invoice.png", "image/png"),
            ("sample1.flac", "audio/flac"),
        ] {
            let bytes = std::fs::read(inputs_dir().join(name)).unwrap();
            assert_eq!(sniff_content_type(&bytes), Some(expected), "{name}");
        }
    }

    #[test]
    fn sniffs_synthetic_headers() {
        let mut bmp = b"BM\0\0\0\0\0\0\0\0\x36\0\0\0".to_vec();
        bmp.extend_from_slice(&40u32.to_le_bytes());
        let mut ico = vec![0, 0, 1, 0, 1, 0, 16, 16, 0, 0];
        ico.resize(22, 0);
        let cases: &[(&[u8], Option<&str>)] = &[
            (PNG_HEADER, Some("image/png")),
            (b"\xFF\xD8\xFF\xE0\0\x10JFIF", Some("image/jpeg")),
            (b"GIF87a\x01\0", Some("image/gif")),
            (b"GIF89a\x01\0", Some("image/gif")),
            (b"RIFF\x24\0\0\0WEBPVP8 ", Some("image/webp")),
            (b"RIFF\x24\0\0\0WAVEfmt ", Some("audio/wav")),
            (b"RF64\xFF\xFF\xFF\xFFWAVEds64", Some("audio/wav")),
            (b"RIFF\x24\0\0\0AVI LIST", Some("video/x-msvideo")),
            (b"RIFF\x24\0\0\0XXXX", None),
            (&bmp, Some("image/bmp")),
            (b"BM but just text", None),
            (b"II*\0\x08\0\0\0", Some("image/tiff")),
            (b"MM\0*\0\0\0\x08", Some("image/tiff")),
            (&ico, Some("image/x-icon")),
            (b"fLaC\0\0\0\x22", Some("audio/flac")),
            (b"OggS\0\x02\0\0\0\0\0\0\0\0\x01vorbis", Some("audio/ogg")),
            (b"OggS\0\x02\0\0\0\0\0\0\0\0\x80theora", Some("video/ogg")),
            (
                b"\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x84webm",
                Some("video/webm"),
            ),
            (
                b"\x1A\x45\xDF\xA3\xA3\x42\x86\x81\x01\x42\x82\x88matroska",
                Some("video/x-matroska"),
            ),
            (b"\0\0\0\x20ftypisom\0\0\x02\0", Some("video/mp4")),
            (b"\0\0\0\x18ftypmp42\0\0\0\0", Some("video/mp4")),
            (b"\0\0\0\x20ftypM4A \0\0\0\0", Some("audio/mp4")),
            (b"\0\0\0\x14ftypqt  \0\0\0\0", Some("video/quicktime")),
            (b"\0\0\0\x1cftypavif\0\0\0\0", Some("image/avif")),
            (b"\0\0\0\x18ftypheic\0\0\0\0", Some("image/heic")),
            (b"\0\0\0\x14ftyp3gp5\0\0\0\0", Some("video/3gpp")),
            (b"\0\0\0\x14ftyp", None),
            (b"%PDF-1.7\n", Some("application/pdf")),
            (b"FORM\0\0\0\x20AIFFCOMM", Some("audio/aiff")),
            (b"ID3\x04\0\0\0\0\0\0", Some("audio/mpeg")),
            (b"\xFF\xFB\x90\x64", Some("audio/mpeg")),
            (b"\xFF\xF3\x64\xC4", Some("audio/mpeg")),
            (b"\xFF\xF1\x50\x80", Some("audio/aac")),
            (b"\xFF\xFB\xF0\x64", None), // bad bitrate index
            (b"\xFF\xEB\x90\x64", None), // reserved MPEG version
            (b"\xFF\xD8", None),
            (b"\x89PNG", None),
            (b"hello world", None),
            (b"", None),
        ];
        for (bytes, expected) in cases {
            assert_eq!(sniff_content_type(bytes), *expected, "{bytes:?}");
        }
    }

    #[test]
    fn extensions_and_types_round_trip() {
        for (mime, ext) in [
            ("image/png", "png"),
            ("image/jpeg", "jpg"),
            ("image/webp", "webp"),
            ("audio/wav", "wav"),
            ("audio/x-wav", "wav"),
            ("audio/flac", "flac"),
            ("audio/mpeg", "mp3"),
            ("video/mp4", "mp4"),
            ("video/webm", "webm"),
            ("audio/mp4", "m4a"),
            ("application/pdf", "pdf"),
        ] {
            assert_eq!(extension_for_mime(mime), Some(ext), "{mime}");
            assert_eq!(
                extension_for_mime(&mime.to_uppercase()),
                Some(ext),
                "{mime}"
            );
            assert_eq!(
                extension_for_mime(&format!("{mime}; charset=binary")),
                Some(ext)
            );
            assert_eq!(
                mime_for_extension(ext).and_then(extension_for_mime),
                Some(ext)
            );
        }
        assert_eq!(mime_for_extension("JPEG"), Some("image/jpeg"));
        assert_eq!(mime_for_extension("exe"), None);
        assert_eq!(extension_for_mime("application/x-unknown"), None);
        let url = Url::parse("https://h.example/a/b/clip.MP3?x=1").unwrap();
        assert_eq!(mime_from_url(&url), Some("audio/mpeg"));
        let url = Url::parse("https://h.example/a/b/").unwrap();
        assert_eq!(mime_from_url(&url), None);
    }

    // -----------------------------------------------------------------------------------------
    // Constructors and conversions

    #[tokio::test]
    async fn every_constructor_loads() {
        let blob = Blob::new(PNG_HEADER, Some("image/x-custom".into()));
        let path = temp_path("ctor.bin");
        std::fs::write(&path, b"fLaC\0\0\0\x22").unwrap();
        let cases: Vec<(BinaryInput, &[u8], Option<&str>)> = vec![
            (
                BinaryInput::from_bytes(PNG_HEADER),
                PNG_HEADER,
                Some("image/png"),
            ),
            (
                BinaryInput::from(PNG_HEADER.to_vec()),
                PNG_HEADER,
                Some("image/png"),
            ),
            (BinaryInput::from(Bytes::from_static(b"abc")), b"abc", None),
            (BinaryInput::from(&b"abc"[..]), b"abc", None),
            (
                BinaryInput::from(path.as_path()),
                b"fLaC\0\0\0\x22",
                Some("audio/flac"),
            ),
            (
                BinaryInput::from(path.clone()),
                b"fLaC\0\0\0\x22",
                Some("audio/flac"),
            ),
            (
                BinaryInput::from_path(&path),
                b"fLaC\0\0\0\x22",
                Some("audio/flac"),
            ),
            (BinaryInput::from(blob), PNG_HEADER, Some("image/x-custom")),
            (
                BinaryInput::from_reader(std::io::Cursor::new(b"%PDF-1.4".to_vec())),
                b"%PDF-1.4",
                Some("application/pdf"),
            ),
            (
                BinaryInput::from_data_url("data:audio/wav;base64,AQID").unwrap(),
                &[1, 2, 3],
                Some("audio/wav"),
            ),
            (
                <BinaryInput as std::str::FromStr>::from_str(path.to_str().unwrap()).unwrap(),
                b"fLaC\0\0\0\x22",
                Some("audio/flac"),
            ),
            (
                BinaryInput::from(path.to_str().unwrap().to_owned()),
                b"fLaC\0\0\0\x22",
                Some("audio/flac"),
            ),
            (
                "data:,hello".parse::<BinaryInput>().unwrap(),
                b"hello",
                None,
            ),
        ];
        for (input, bytes, content_type) in cases {
            let shown = format!("{input:?}");
            let blob = input.load(&http()).await.unwrap();
            assert_eq!(blob.bytes().as_ref(), bytes, "{shown}");
            assert_eq!(blob.content_type(), content_type, "{shown}");
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn from_bytes_does_not_copy() {
        let vec = PNG_HEADER.to_vec();
        let ptr = vec.as_ptr();
        let input = BinaryInput::from(vec);
        let Source::Bytes(bytes) = &input.source else {
            panic!("not bytes")
        };
        assert_eq!(bytes.as_ptr(), ptr);
    }

    #[test]
    fn strings_are_classified() {
        let url =
            <BinaryInput as std::str::FromStr>::from_str("https://example.com/cat.png").unwrap();
        assert_eq!(url.url(), Some("https://example.com/cat.png"));
        let url =
            <BinaryInput as std::str::FromStr>::from_str("HTTP://Example.com/a b.png").unwrap();
        assert_eq!(url.url(), Some("http://example.com/a%20b.png"));
        let data =
            <BinaryInput as std::str::FromStr>::from_str("data:image/png;base64,iVBORw0KGgo=")
                .unwrap();
        assert!(matches!(data.source, Source::DataUrl { .. }));
        let path = <BinaryInput as std::str::FromStr>::from_str("images/cat.png").unwrap();
        assert!(matches!(path.source, Source::Path(ref p) if p == Path::new("images/cat.png")));
        // Other schemes are paths, as in the reference client.
        let ftp = <BinaryInput as std::str::FromStr>::from_str("ftp://example.com/a.png").unwrap();
        assert!(matches!(ftp.source, Source::Path(_)));

        let (field, message) =
            invalid_message(<BinaryInput as std::str::FromStr>::from_str("").unwrap_err());
        assert_eq!(field, "input");
        assert!(message.contains("empty"), "{message}");
        assert!(<BinaryInput as std::str::FromStr>::from_str("data:image/png;base64").is_err());
        assert!("https://".parse::<BinaryInput>().is_err());
    }

    #[test]
    fn from_url_accepts_only_plain_http_urls() {
        let ok = BinaryInput::from_url("https://cdn.example.com/x.png?sig=abc").unwrap();
        assert_eq!(ok.url(), Some("https://cdn.example.com/x.png?sig=abc"));
        assert!(BinaryInput::from_url("http://127.0.0.1:8080/x").is_ok());
        for (bad, needle) in [
            ("ftp://example.com/a.png", "ftp:"),
            ("file:///etc/passwd", "file:"),
            ("data:image/png;base64,AAAA", "from_data_url"),
            ("not a url", "not a valid URL"),
            ("https://user:pw@example.com/a.png", "credentials"),
        ] {
            let (field, message) = invalid_message(BinaryInput::from_url(bad).unwrap_err());
            assert_eq!(field, "input");
            assert!(message.contains(needle), "{bad}: {message}");
            assert!(!message.contains("pw@"), "{message}");
        }
    }

    #[test]
    fn with_content_type_trims_and_clears() {
        let input = BinaryInput::from_bytes(vec![1]).with_content_type(" image/png ");
        assert_eq!(input.content_type.as_deref(), Some("image/png"));
        let input = input.with_content_type("");
        assert_eq!(input.content_type, None);
    }

    #[test]
    fn inputs_and_blobs_are_send_and_sync() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<BinaryInput>();
        check::<Blob>();
    }

    // -----------------------------------------------------------------------------------------
    // data: URLs and base64

    fn data_url(text: &str) -> Result<(Bytes, Option<String>)> {
        parse_data_url(text, INPUT_FIELD)
    }

    #[test]
    fn parses_valid_data_urls() {
        let cases: &[(&str, &[u8], Option<&str>)] = &[
            (
                "data:image/png;base64,iVBORw0KGgo=",
                b"\x89PNG\r\n\x1a\n",
                Some("image/png"),
            ),
            (
                "DATA:Image/PNG;BASE64,iVBORw0KGgo=",
                b"\x89PNG\r\n\x1a\n",
                Some("image/png"),
            ),
            ("data:;base64,AQID", &[1, 2, 3], None),
            ("data:,", b"", None),
            (
                "data:image/png;base64,iVBORw0KGgo",
                b"\x89PNG\r\n\x1a\n",
                Some("image/png"),
            ),
            (
                "data:image/png;base64,iVBO\r\nRw0K Ggo=",
                b"\x89PNG\r\n\x1a\n",
                Some("image/png"),
            ),
            (
                "data:application/octet-stream;base64,-_8",
                &[0xFB, 0xFF],
                Some("application/octet-stream"),
            ),
            (
                "data:application/octet-stream;base64,%2B%2F8%3D",
                &[0xFB, 0xFF],
                Some("application/octet-stream"),
            ),
            (
                "data:text/plain;charset=UTF-8;base64,aGkh",
                b"hi!",
                Some("text/plain;charset=UTF-8"),
            ),
            (
                "data:text/plain,hello%20world%21",
                b"hello world!",
                Some("text/plain"),
            ),
            (
                "data:text/plain;charset=utf-8,caf%C3%A9",
                "café".as_bytes(),
                Some("text/plain;charset=utf-8"),
            ),
            (
                "  data:audio/wav;base64,AAAA  ",
                &[0, 0, 0],
                Some("audio/wav"),
            ),
        ];
        for (text, bytes, mime) in cases {
            let (got, got_mime) = data_url(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(got.as_ref(), *bytes, "{text}");
            assert_eq!(got_mime.as_deref(), *mime, "{text}");
        }
    }

    #[test]
    fn rejects_malformed_data_urls() {
        for (text, needle) in [
            ("data:image/png;base64,iVBOR@@@", "invalid base64"),
            ("data:image/png;base64,A", "invalid base64"),
            ("data:image/png;base64", "no comma"),
            ("data:image/png;base64iVBORw0KGgo=", "no comma"),
            ("data:text/plain,100%", "percent-escape at offset 3"),
            ("data:text/plain,%zz", "percent-escape at offset 0"),
            ("data:image,AAAA", "type/subtype"),
            ("data:image/p ng;base64,AAAA", "type/subtype"),
            ("image/png;base64,AAAA", "must start with `data:`"),
        ] {
            let (field, message) = invalid_message(data_url(text).unwrap_err());
            assert_eq!(field, "input");
            assert!(message.contains(needle), "{text}: {message}");
        }
        // The public constructors report the same errors.
        assert!(BinaryInput::from_data_url("data:image/png;base64,@@").is_err());
        assert!(Blob::from_base64("data:image/png;base64,@@", None).is_err());
    }

    #[test]
    fn blob_base64_round_trips() {
        let cat = std::fs::read(inputs_dir().join("cats.png")).unwrap();
        let blob = Blob::new(cat, None);
        let decoded = Blob::from_base64(&blob.to_base64(), None).unwrap();
        assert_eq!(decoded.bytes(), blob.bytes());
        assert_eq!(decoded.content_type(), Some("image/png"), "sniffed");

        let data_url = blob.to_data_url();
        assert!(
            data_url.starts_with("data:image/png;base64,iVBORw0KGgo"),
            "{}",
            &data_url[..40]
        );
        assert_eq!(
            data_url.len(),
            data_url.capacity(),
            "allocated once, exactly"
        );
        let back = Blob::from_base64(&data_url, None).unwrap();
        assert_eq!(back.bytes(), blob.bytes());
        assert_eq!(back.content_type(), Some("image/png"));

        // An explicit type wins over the data URL's; whitespace and missing padding are fine.
        let blob = Blob::from_base64("data:audio/wav;base64,AQID", Some("audio/x-custom".into()));
        assert_eq!(blob.unwrap().content_type(), Some("audio/x-custom"));
        let blob = Blob::from_base64(" aGk\nh ", None).unwrap();
        assert_eq!(blob.bytes().as_ref(), b"hi!");
        assert_eq!(blob.content_type(), None);
        assert_eq!(
            Blob::from_base64("aGk", None).unwrap().bytes().as_ref(),
            b"hi"
        );

        let (field, message) = invalid_message(Blob::from_base64("not base64!", None).unwrap_err());
        assert_eq!(field, "base64");
        assert!(message.contains("invalid base64"), "{message}");
    }

    #[test]
    fn blob_data_url_type_falls_back() {
        let unknown = Blob::new(vec![1, 2, 3], None);
        assert_eq!(
            unknown.to_data_url(),
            "data:application/octet-stream;base64,AQID"
        );
        assert_eq!(
            unknown.data_url_or("audio/wav"),
            "data:audio/wav;base64,AQID"
        );
        let sniffed = Blob::new(b"fLaC".to_vec(), None);
        assert_eq!(
            sniffed.data_url_or("audio/wav"),
            "data:audio/flac;base64,ZkxhQw=="
        );
        let spaced = Blob::new(vec![1, 2, 3], Some("text/plain; charset=utf-8".into()));
        assert_eq!(
            spaced.to_data_url(),
            "data:text/plain;charset=utf-8;base64,AQID"
        );
        let unusable = Blob::new(vec![1, 2, 3], Some("a,b".into()));
        assert_eq!(
            unusable.data_url_or("image/png"),
            "data:image/png;base64,AQID"
        );
    }

    #[test]
    fn blob_extension() {
        let cases = [
            (Blob::new(vec![], Some("image/png".into())), Some("png")),
            (
                Blob::new(vec![], Some("image/jpeg; q=1".into())),
                Some("jpg"),
            ),
            (Blob::new(vec![], Some("audio/wav".into())), Some("wav")),
            (Blob::new(vec![], Some("audio/mpeg".into())), Some("mp3")),
            (Blob::new(vec![], Some("video/mp4".into())), Some("mp4")),
            (Blob::new(b"fLaC".to_vec(), None), Some("flac")),
            // An unhelpful type falls back to the bytes.
            (
                Blob::new(PNG_HEADER, Some("application/octet-stream".into())),
                Some("png"),
            ),
            (Blob::new(vec![1, 2, 3], None), None),
        ];
        for (blob, ext) in cases {
            assert_eq!(blob.extension(), ext, "{blob:?}");
        }
    }

    #[tokio::test]
    async fn blob_saves() {
        let blob = Blob::new(SECRET, Some("text/plain".into()));
        let path = temp_path("save.txt");
        blob.save(&path).await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), SECRET);
        std::fs::remove_file(&path).unwrap();

        let bad = temp_path("no-such-dir").join("x.txt");
        let (field, message) = invalid_message(blob.save(&bad).await.unwrap_err());
        assert_eq!(field, "path");
        assert!(message.contains(&bad.display().to_string()), "{message}");
        assert_eq!(blob.into_bytes().as_ref(), SECRET);
    }

    // -----------------------------------------------------------------------------------------
    // Files and readers

    #[tokio::test]
    async fn missing_file_names_the_path() {
        let path = temp_path("does-not-exist.png");
        let err = BinaryInput::from_path(&path)
            .load(&http())
            .await
            .unwrap_err();
        let (field, message) = invalid_message(err);
        assert_eq!(field, "input");
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("does not exist"), "{message}");

        let err = <BinaryInput as std::str::FromStr>::from_str("s3://bucket/key.png")
            .unwrap()
            .load(&http())
            .await;
        let (_, message) = invalid_message(err.unwrap_err());
        assert!(
            message.contains("only http://, https:// and data: URLs"),
            "{message}"
        );

        let err = BinaryInput::from_path(std::env::temp_dir())
            .load(&http())
            .await;
        let (_, message) = invalid_message(err.unwrap_err());
        assert!(message.contains("is a directory"), "{message}");
    }

    #[tokio::test]
    async fn file_type_precedence() {
        // Sniffed bytes beat the extension; the extension is the fallback; explicit wins.
        let png_named_jpg = temp_path("really-a-png.jpg");
        std::fs::write(&png_named_jpg, PNG_HEADER).unwrap();
        let unknown_wav = temp_path("raw.WAV");
        std::fs::write(&unknown_wav, [0u8; 8]).unwrap();

        let blob = BinaryInput::from_path(&png_named_jpg)
            .load(&http())
            .await
            .unwrap();
        assert_eq!(blob.content_type(), Some("image/png"));
        let blob = BinaryInput::from_path(&unknown_wav)
            .load(&http())
            .await
            .unwrap();
        assert_eq!(blob.content_type(), Some("audio/wav"));
        let blob = BinaryInput::from_path(&unknown_wav)
            .with_content_type("audio/L16")
            .load(&http())
            .await
            .unwrap();
        assert_eq!(blob.content_type(), Some("audio/L16"));

        // A real file from the conformance set.
        let flac = BinaryInput::from_path(inputs_dir().join("sample1.flac"));
        let blob = flac.load(&http()).await.unwrap();
        assert_eq!(blob.content_type(), Some("audio/flac"));
        assert_eq!(blob.bytes().len(), 282_378);
        std::fs::remove_file(&png_named_jpg).unwrap();
        std::fs::remove_file(&unknown_wav).unwrap();
    }

    /// A reader that yields some bytes and then fails.
    struct FailingReader {
        sent: bool,
    }

    impl AsyncRead for FailingReader {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            if self.sent {
                std::task::Poll::Ready(Err(std::io::Error::other("disk on fire")))
            } else {
                self.sent = true;
                buf.put_slice(b"partial");
                std::task::Poll::Ready(Ok(()))
            }
        }
    }

    #[tokio::test]
    async fn reader_is_read_once_and_shared_by_clones() {
        let (mut writer, reader) = tokio::io::duplex(64);
        let input = BinaryInput::from_reader(reader);
        let copy = input.clone();
        tokio::spawn(async move {
            writer.write_all(b"RIFF\x24\0\0\0WAVEfmt ").await.unwrap();
            writer.write_all(b"more data").await.unwrap();
        });
        let first = input.load(&http()).await.unwrap();
        assert_eq!(first.content_type(), Some("audio/wav"));
        assert_eq!(first.bytes().len(), 25);
        // The clone gets the same bytes (the same allocation), not an empty read.
        let second = copy.load(&http()).await.unwrap();
        assert_eq!(second.bytes().as_ptr(), first.bytes().as_ptr());

        let failing = BinaryInput::from_reader(FailingReader { sent: false });
        let again = failing.clone();
        let (field, message) = invalid_message(failing.load(&http()).await.unwrap_err());
        assert_eq!(field, "input");
        assert!(message.contains("disk on fire"), "{message}");
        let (_, message) = invalid_message(again.load(&http()).await.unwrap_err());
        assert!(message.contains("disk on fire"), "{message}");
    }

    #[tokio::test]
    async fn cancelled_reader_load_is_an_error_not_a_partial_read() {
        let (mut writer, reader) = tokio::io::duplex(64);
        let input = BinaryInput::from_reader(reader);
        let copy = input.clone();
        writer.write_all(b"first half").await.unwrap();
        // The writer stays open, so this load never finishes; cancel it.
        let cancelled = tokio::time::timeout(Duration::from_millis(50), input.load(&http())).await;
        assert!(cancelled.is_err());
        drop(writer);
        let (_, message) = invalid_message(copy.load(&http()).await.unwrap_err());
        assert!(message.contains("partly read"), "{message}");
    }

    // -----------------------------------------------------------------------------------------
    // Downloads

    use std::time::Duration;

    type Reply = (u16, Vec<(&'static str, String)>, Vec<u8>);
    type Handler = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

    /// A loopback HTTP/1.1 server answering with `handler(path)`; returns its base URL and the
    /// request heads it received.
    async fn serve(handler: Handler) -> (String, Arc<StdMutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(StdMutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (handler, log) = (handler.clone(), log.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let target = head.split_whitespace().nth(1).unwrap_or("/");
                    let path = target.split('?').next().unwrap_or_default().to_owned();
                    log.lock().unwrap().push(head);
                    let (status, headers, body) = handler(&path);
                    let mut out = format!(
                        "HTTP/1.1 {status} Reason\r\ncontent-length: {}\r\nconnection: close\r\n",
                        body.len()
                    );
                    for (name, value) in headers {
                        out.push_str(&format!("{name}: {value}\r\n"));
                    }
                    out.push_str("\r\n");
                    let _ = socket.write_all(out.as_bytes()).await;
                    let _ = socket.write_all(&body).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        (base, seen)
    }

    fn asset_server() -> Handler {
        Arc::new(|path: &str| match path {
            "/cat.png" => (
                200,
                vec![("content-type", "image/x-from-header".into())],
                PNG_HEADER.to_vec(),
            ),
            "/generic.bin" => (
                200,
                vec![("content-type", "application/octet-stream".into())],
                PNG_HEADER.to_vec(),
            ),
            "/raw.wav" => (200, vec![], vec![0; 8]),
            "/missing.png" => (
                404,
                vec![("content-type", "text/plain".into())],
                b"no such asset".to_vec(),
            ),
            _ => (500, vec![], vec![]),
        })
    }

    /// The SDK's own client, with a token configured: the download must not carry it.
    fn sdk_http() -> reqwest::Client {
        let client = crate::InferenceClient::builder()
            .token("hf_binary_test_token")
            .build()
            .unwrap();
        client.inner.http.clone()
    }

    #[tokio::test]
    async fn downloads_without_credentials() {
        let (base, seen) = serve(asset_server()).await;
        let input = BinaryInput::from_url(format!("{base}/cat.png")).unwrap();
        let blob = input.load(&sdk_http()).await.unwrap();
        assert_eq!(blob.bytes().as_ref(), PNG_HEADER);
        // The server's Content-Type wins over sniffing.
        assert_eq!(blob.content_type(), Some("image/x-from-header"));

        let heads = seen.lock().unwrap().clone();
        assert_eq!(heads.len(), 1);
        assert!(
            heads[0].starts_with("GET /cat.png HTTP/1.1\r\n"),
            "{}",
            heads[0]
        );
        let lower = heads[0].to_ascii_lowercase();
        assert!(!lower.contains("authorization"), "{}", heads[0]);
        assert!(!lower.contains("hf_binary_test_token"), "{}", heads[0]);
    }

    #[tokio::test]
    async fn download_content_type_precedence() {
        let (base, _) = serve(asset_server()).await;
        // A generic Content-Type is ignored in favour of sniffing.
        let blob = BinaryInput::from_url(format!("{base}/generic.bin"))
            .unwrap()
            .load(&http())
            .await
            .unwrap();
        assert_eq!(blob.content_type(), Some("image/png"));
        // No header, unknown bytes: the URL's extension.
        let blob = BinaryInput::from_url(format!("{base}/raw.wav"))
            .unwrap()
            .load(&http())
            .await
            .unwrap();
        assert_eq!(blob.content_type(), Some("audio/wav"));
        // Explicit wins over everything.
        let blob = BinaryInput::from_url(format!("{base}/cat.png"))
            .unwrap()
            .with_content_type("image/png")
            .load(&http())
            .await
            .unwrap();
        assert_eq!(blob.content_type(), Some("image/png"));
    }

    #[tokio::test]
    async fn download_404_is_an_http_error() {
        let (base, _) = serve(asset_server()).await;
        let input = BinaryInput::from_url(format!("{base}/missing.png?token=t0k3n")).unwrap();
        let err = input.load(&sdk_http()).await.unwrap_err();
        assert_eq!(err.status(), Some(404));
        assert!(matches!(err, Error::Http(_)), "{err:?}");
        let shown = err.to_string();
        assert!(shown.contains("no such asset"), "{shown}");
        assert!(shown.contains("GET"), "{shown}");
        assert!(!shown.contains("t0k3n"), "{shown}");
    }

    #[tokio::test]
    async fn download_follows_cross_origin_redirects() {
        let (assets, _) = serve(asset_server()).await;
        let target = format!("{assets}/cat.png");
        let (front, seen) = serve(Arc::new(move |path: &str| match path {
            "/resolve" => (302, vec![("location", target.clone())], vec![]),
            "/loop" => (302, vec![("location", "/loop".into())], vec![]),
            "/nowhere" => (
                302,
                vec![("location", "ftp://example.com/x".into())],
                vec![],
            ),
            _ => (500, vec![], vec![]),
        }))
        .await;
        // The SDK's client stops at cross-origin redirects; the download follows them itself.
        let blob = BinaryInput::from_url(format!("{front}/resolve"))
            .unwrap()
            .load(&sdk_http())
            .await
            .unwrap();
        assert_eq!(blob.bytes().as_ref(), PNG_HEADER);

        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let err = BinaryInput::from_url(format!("{front}/loop"))
            .unwrap()
            .load(&no_redirects)
            .await
            .unwrap_err();
        let (_, message) = invalid_message(err);
        assert!(message.contains("more than 10 redirects"), "{message}");
        assert_eq!(seen.lock().unwrap().len(), 1 + 11);

        let err = BinaryInput::from_url(format!("{front}/nowhere"))
            .unwrap()
            .load(&no_redirects)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(302));
    }

    #[tokio::test]
    async fn to_url_or_data_url_passes_urls_through() {
        // Nothing listens on this port: a passthrough must not try to connect.
        let url = "http://127.0.0.1:9/private/cat.png?sig=abc";
        let input = BinaryInput::from_url(url)
            .unwrap()
            .with_content_type("image/png");
        assert_eq!(
            input
                .to_url_or_data_url(&http(), "image/jpeg")
                .await
                .unwrap(),
            url
        );

        let cases = [
            (
                BinaryInput::from_bytes(vec![1, 2, 3]),
                "data:image/jpeg;base64,AQID",
            ),
            (
                BinaryInput::from_bytes(vec![1, 2, 3]).with_content_type("audio/wav"),
                "data:audio/wav;base64,AQID",
            ),
            (
                BinaryInput::from_bytes(PNG_HEADER),
                "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==",
            ),
            (
                <BinaryInput as std::str::FromStr>::from_str("data:audio/mpeg;base64,AQID")
                    .unwrap(),
                "data:audio/mpeg;base64,AQID",
            ),
            (
                <BinaryInput as std::str::FromStr>::from_str("data:,%01%02%03").unwrap(),
                "data:image/jpeg;base64,AQID",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                input
                    .to_url_or_data_url(&http(), "image/jpeg")
                    .await
                    .unwrap(),
                expected
            );
        }

        let err = BinaryInput::from_path(temp_path("absent.png"))
            .to_url_or_data_url(&http(), "image/png")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }));
    }

    // -----------------------------------------------------------------------------------------
    // Debug

    #[tokio::test]
    async fn debug_never_shows_the_bytes() {
        let b64 = STANDARD.encode(SECRET);
        let secret_text = std::str::from_utf8(SECRET).unwrap();
        let inputs = [
            BinaryInput::from_bytes(SECRET),
            BinaryInput::from_bytes(SECRET).with_content_type("text/plain"),
            BinaryInput::from_data_url(format!("data:text/plain;base64,{b64}")).unwrap(),
            BinaryInput::from_reader(std::io::Cursor::new(SECRET.to_vec())),
            BinaryInput::from_url("https://h.example/p.png?sig=s3cr3t&x=1#frag").unwrap(),
            BinaryInput::from_path("dir/file.png"),
        ];
        let shown: Vec<String> = inputs.iter().map(|i| format!("{i:?}")).collect();
        for text in &shown {
            assert!(
                !text.contains(secret_text) && !text.contains(&b64),
                "{text}"
            );
            assert!(!text.contains("s3cr3t") && !text.contains("frag"), "{text}");
            assert!(!text.contains("83, 69, 67"), "no byte lists: {text}");
        }
        assert_eq!(shown[0], r#"BinaryInput { kind: "bytes", len: 20 }"#);
        assert_eq!(
            shown[1],
            r#"BinaryInput { kind: "bytes", len: 20, content_type: "text/plain" }"#
        );
        assert_eq!(
            shown[2],
            r#"BinaryInput { kind: "data-url", len: 20, mime: Some("text/plain") }"#
        );
        assert_eq!(shown[3], r#"BinaryInput { kind: "reader" }"#);
        assert_eq!(
            shown[4],
            r#"BinaryInput { kind: "url", url: "https://h.example/p.png?REDACTED" }"#
        );
        assert_eq!(
            shown[5],
            r#"BinaryInput { kind: "path", path: "dir/file.png" }"#
        );

        let blob = Blob::new(SECRET, Some("text/plain".into()));
        let shown = format!("{blob:?} {blob:#?}");
        assert!(
            !shown.contains(secret_text) && !shown.contains("83"),
            "{shown}"
        );
        assert_eq!(
            format!("{blob:?}"),
            r#"Blob { len: 20, content_type: Some("text/plain") }"#
        );
    }

    #[tokio::test]
    async fn an_invalid_string_fails_when_used_not_when_converted() {
        let input = BinaryInput::from("data:image/png;base64");
        let err = input.load(&reqwest::Client::new()).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        let empty = BinaryInput::from(String::new());
        assert!(empty.load(&reqwest::Client::new()).await.is_err());
    }
}

#[cfg(all(test, feature = "image"))]
mod image_tests {
    use std::io::Cursor;

    use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

    use super::*;

    fn inputs_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/inputs")
    }

    fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), format)
            .unwrap();
        bytes
    }

    /// A 16x8 picture: left half red, right half blue.
    fn two_tone() -> DynamicImage {
        DynamicImage::from(RgbImage::from_fn(16, 8, |x, _| {
            if x < 8 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        }))
    }

    fn close(a: Rgb<u8>, b: Rgb<u8>, tolerance: u8) -> bool {
        a.0.iter().zip(b.0).all(|(x, y)| x.abs_diff(y) <= tolerance)
    }

    fn decode_error(result: Result<DynamicImage>) -> (String, String) {
        match result {
            Err(Error::Decode {
                target,
                message,
                body_excerpt,
            }) => {
                assert_eq!(target, "DynamicImage");
                (message, body_excerpt)
            }
            other => panic!("expected Decode, got {other:?}"),
        }
    }

    #[test]
    fn decodes_the_conformance_pngs() {
        for (name, (width, height), color) in [
            ("bird_canny.png", (564, 846), image::ColorType::Rgb8),
            ("cats.png", (640, 420), image::ColorType::Rgba8),
            ("cheetah.png", (320, 239), image::ColorType::Rgba8),
            // Palette PNGs are expanded to RGB(A).
            ("invoice.png", (750, 1061), image::ColorType::Rgb8),
        ] {
            let bytes = std::fs::read(inputs_dir().join(name)).unwrap();
            let blob = Blob::new(bytes, Some("image/png".into()));
            let image = blob.to_image().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!((image.width(), image.height()), (width, height), "{name}");
            assert_eq!(image.color(), color, "{name}");
        }
    }

    #[test]
    fn the_format_comes_from_the_bytes_not_the_content_type() {
        let bytes = std::fs::read(inputs_dir().join("cheetah.png")).unwrap();
        for content_type in [None, Some("application/octet-stream"), Some("image/jpeg")] {
            let blob = Blob::new(bytes.clone(), content_type.map(str::to_owned));
            assert_eq!(blob.to_image().unwrap().width(), 320, "{content_type:?}");
        }
    }

    #[test]
    fn decodes_a_generated_jpeg() {
        let jpeg = encode(&two_tone(), ImageFormat::Jpeg);
        assert_eq!(sniff_content_type(&jpeg), Some("image/jpeg"));
        let image = Blob::new(jpeg, None).to_image().unwrap();
        assert_eq!((image.width(), image.height()), (16, 8));
        let rgb = image.to_rgb8();
        // Lossy: the colours come back close, not exact.
        assert!(
            close(*rgb.get_pixel(1, 4), Rgb([255, 0, 0]), 40),
            "{:?}",
            rgb.get_pixel(1, 4)
        );
        assert!(
            close(*rgb.get_pixel(14, 4), Rgb([0, 0, 255]), 40),
            "{:?}",
            rgb.get_pixel(14, 4)
        );
    }

    #[test]
    fn decodes_webp_gif_and_bmp() {
        let original = two_tone();
        for format in [ImageFormat::WebP, ImageFormat::Gif, ImageFormat::Bmp] {
            let image = Blob::new(encode(&original, format), None)
                .to_image()
                .unwrap();
            assert_eq!(image.to_rgb8(), original.to_rgb8(), "{format:?}");
        }
    }

    #[test]
    fn non_image_bytes_are_a_decode_error() {
        let flac = std::fs::read(inputs_dir().join("sample1.flac")).unwrap();
        let (message, _) = decode_error(Blob::new(flac, Some("audio/flac".into())).to_image());
        assert!(message.contains("not an image"), "{message}");
        assert!(message.contains("audio/flac"), "{message}");

        let json = br#"{"error":"Model is overloaded"}"#;
        let (message, excerpt) = decode_error(Blob::new(json.to_vec(), None).to_image());
        assert!(message.contains("not an image"), "{message}");
        assert_eq!(excerpt, r#"{"error":"Model is overloaded"}"#);

        decode_error(Blob::new(Vec::new(), None).to_image());
    }

    #[test]
    fn a_corrupt_image_is_a_decode_error() {
        // A real PNG cut short, and a bare PNG signature labelled as PNG.
        let png = std::fs::read(inputs_dir().join("cats.png")).unwrap();
        let (message, excerpt) = decode_error(Blob::new(png[..4096].to_vec(), None).to_image());
        assert!(message.contains("Png"), "{message}");
        assert!(excerpt.ends_with('…'), "the excerpt is cut");
        decode_error(Blob::new(PNG_SIGNATURE.to_vec(), Some("image/png".into())).to_image());
        // A type that claims an image does not make text one.
        decode_error(Blob::new(b"hello".to_vec(), Some("image/png".into())).to_image());
    }

    const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

    #[tokio::test]
    async fn try_from_encodes_png_that_round_trips() {
        let bytes = std::fs::read(inputs_dir().join("cheetah.png")).unwrap();
        let original = Blob::new(bytes, None).to_image().unwrap();
        let input = BinaryInput::try_from(&original).unwrap();
        assert_eq!(input.content_type.as_deref(), Some("image/png"));
        let blob = input.load(&reqwest::Client::new()).await.unwrap();
        assert_eq!(blob.content_type(), Some("image/png"));
        assert!(blob.bytes().starts_with(PNG_SIGNATURE));
        let decoded = blob.to_image().unwrap();
        assert_eq!(decoded.color(), original.color());
        assert_eq!(decoded.as_bytes(), original.as_bytes(), "PNG is lossless");
    }

    #[tokio::test]
    async fn from_image_sets_the_content_type_of_the_format() {
        let image = two_tone();
        for (format, mime) in [
            (ImageFormat::Png, "image/png"),
            (ImageFormat::Jpeg, "image/jpeg"),
            (ImageFormat::WebP, "image/webp"),
            (ImageFormat::Gif, "image/gif"),
            (ImageFormat::Bmp, "image/bmp"),
        ] {
            let input = BinaryInput::from_image(&image, format).unwrap();
            let blob = input.load(&reqwest::Client::new()).await.unwrap();
            assert_eq!(blob.content_type(), Some(mime), "{format:?}");
            assert_eq!(sniff_content_type(blob.bytes()), Some(mime), "{format:?}");
            let back = blob.to_image().unwrap();
            assert_eq!((back.width(), back.height()), (16, 8), "{format:?}");
        }
    }

    #[tokio::test]
    async fn jpeg_drops_the_alpha_channel() {
        let rgba = DynamicImage::from(RgbaImage::from_pixel(4, 4, Rgba([200, 100, 50, 10])));
        let input = BinaryInput::from_image(&rgba, ImageFormat::Jpeg).unwrap();
        let back = input
            .load(&reqwest::Client::new())
            .await
            .unwrap()
            .to_image()
            .unwrap();
        assert_eq!(back.color(), image::ColorType::Rgb8);
        assert!(close(
            *back.to_rgb8().get_pixel(1, 1),
            Rgb([200, 100, 50]),
            8
        ));
    }

    #[test]
    fn formats_not_compiled_in_are_invalid_input() {
        let image = two_tone();
        for format in [ImageFormat::Tiff, ImageFormat::Avif, ImageFormat::OpenExr] {
            match BinaryInput::from_image(&image, format) {
                Err(Error::InvalidInput { field, message }) => {
                    assert_eq!(field, "image");
                    assert!(message.contains(&format!("{format:?}")), "{message}");
                    assert!(message.contains("16x8"), "{message}");
                }
                other => panic!("{format:?}: expected InvalidInput, got {other:?}"),
            }
        }
    }
}
