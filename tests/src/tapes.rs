//! Conformance tapes: real HTTP interactions recorded by the JavaScript
//! inference client, one JSON file per interaction.
//!
//! The record format is described in `shared/conformance/README.md`. The
//! types here mirror it leniently: fields that are absent in some records are
//! `Option`s, and parts whose shape varies (request and response bodies,
//! `test.expected`) are kept as [`serde_json::Value`].
//!
//! Where the tapes live: [`conformance_dir`] reads `HF_INFERENCE_TAPES` and
//! falls back to `shared/conformance` next to the workspace root.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Environment variable naming the conformance directory (the one holding
/// `tapes/` and `inputs/`). A path to the `tapes/` folder itself is accepted
/// too. Relative paths are resolved against the workspace root.
pub const TAPES_ENV: &str = "HF_INFERENCE_TAPES";

/// Errors raised while loading tapes or rebuilding recorded request bodies.
#[derive(Debug, thiserror::Error)]
pub enum TapeError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A tape file is not valid JSON or does not have the record shape.
    #[error("cannot parse tape {path}: {source}")]
    Parse {
        /// The tape file.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// An input file the request body refers to is not in `inputs/`
    /// (e.g. `sample2.wav`, left out of the corpus because of its size).
    #[error("input file {file} referenced by tape {tape} is missing from {dir}")]
    MissingInput {
        /// The file name under `inputs/`.
        file: String,
        /// The tape's file name.
        tape: String,
        /// The inputs directory searched.
        dir: PathBuf,
    },
    /// The tape does not have the data needed for the requested operation.
    #[error("tape {tape}: {message}")]
    Invalid {
        /// The tape's file name.
        tape: String,
        /// What is missing or inconsistent.
        message: String,
    },
}

/// The workspace root (the parent of the `tests` package).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.to_path_buf())
}

/// The conformance directory: `$HF_INFERENCE_TAPES` when set (relative paths
/// are taken from the workspace root; a path ending in a `tapes/` folder is
/// mapped to its parent), else `<workspace root>/../shared/conformance`.
pub fn conformance_dir() -> PathBuf {
    match std::env::var_os(TAPES_ENV) {
        Some(value) if !value.is_empty() => {
            let path = PathBuf::from(value);
            let path = if path.is_absolute() {
                path
            } else {
                workspace_root().join(path)
            };
            let is_tapes_folder =
                path.file_name().is_some_and(|n| n == "tapes") && !path.join("tapes").is_dir();
            if is_tapes_folder {
                path.parent().map(Path::to_path_buf).unwrap_or(path)
            } else {
                path
            }
        }
        _ => workspace_root()
            .join("..")
            .join("shared")
            .join("conformance"),
    }
}

/// `<conformance dir>/tapes`.
pub fn tapes_dir() -> PathBuf {
    conformance_dir().join("tapes")
}

/// `<conformance dir>/inputs`.
pub fn inputs_dir() -> PathBuf {
    conformance_dir().join("inputs")
}

/// Deserializes a present field as `Some(value)` even when the value is JSON
/// `null`, so that "absent" (`None`) and "null" (`Some(Value::Null)` or
/// `Some(None)`) stay distinguishable.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// How the request body was recorded (`request.body_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyKind {
    /// A JSON body, stored parsed in `body_json`.
    Json,
    /// A non-JSON text body, stored in `body_text`.
    Text,
    /// Raw bytes (a Blob); the bytes are `inputs/<body_file>` when known.
    Binary,
    /// No body.
    None,
    /// A body existed but was not recorded (also used for unrecognised kinds).
    #[serde(other)]
    Unknown,
}

/// Where a `{{base64:<file>}}` placeholder sits in a templated JSON body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodySubstitution {
    /// JSON pointer of the string holding the placeholder.
    pub pointer: String,
    /// The file under `inputs/` whose base64 replaces the placeholder.
    pub file: String,
    /// `base64` or `data-url`.
    #[serde(default)]
    pub encoding: Option<String>,
    /// For `data-url`: the `data:<mime>;base64,` text before the placeholder.
    #[serde(default)]
    pub prefix: Option<String>,
}

/// The recorded request (`request`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TapeRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// Full URL as sent (signatures replaced by `REDACTED`); `data:` URL for inline records.
    pub url: String,
    /// Headers the client set explicitly (no `Authorization`, `X-Key`, `User-Agent`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How the body was recorded.
    #[serde(default = "unknown_kind")]
    pub body_kind: BodyKind,
    /// The parsed JSON body (`Some(Value::Null)` if the body was literally `null`).
    #[serde(default, deserialize_with = "present")]
    pub body_json: Option<Value>,
    /// A non-JSON text body.
    #[serde(default)]
    pub body_text: Option<String>,
    /// For binary bodies: the file under `inputs/` that was sent.
    #[serde(default)]
    pub body_file: Option<String>,
    /// For binary bodies: the Blob type fetch derived the Content-Type from.
    #[serde(default)]
    pub body_content_type: Option<String>,
    /// `true` when `body_json` contains `{{base64:<file>}}` placeholders.
    #[serde(default)]
    pub body_template: Option<bool>,
    /// Where the placeholders are.
    #[serde(default)]
    pub body_substitutions: Option<Vec<BodySubstitution>>,
    /// sha256 (hex) of the exact body bytes sent, when known.
    #[serde(default)]
    pub body_sha256: Option<String>,
    /// Length of the exact body bytes sent, when known.
    #[serde(default)]
    pub body_length: Option<u64>,
    /// `false` when the recorder kept no body.
    #[serde(default)]
    pub body_recorded: Option<bool>,
    /// The input file the test read, when the body was not recorded.
    #[serde(default)]
    pub body_input_hint: Option<String>,
    /// Free-text note about the body.
    #[serde(default)]
    pub body_note: Option<String>,
    /// `null` for requests without a body (kept verbatim).
    #[serde(default, deserialize_with = "present")]
    pub body: Option<Value>,
}

fn unknown_kind() -> BodyKind {
    BodyKind::Unknown
}

/// The recorded response (`response`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TapeResponse {
    /// HTTP status.
    pub status: u16,
    /// Reason phrase as received.
    #[serde(default)]
    pub status_text: Option<String>,
    /// Headers that matter to a client (lower-case names).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `true` for `text/event-stream` bodies (raw stream in `body_text`).
    #[serde(default)]
    pub is_sse: bool,
    /// The body parsed as JSON (content type containing `json`).
    #[serde(default, deserialize_with = "present")]
    pub body_json: Option<Value>,
    /// The raw text body (non-JSON content types, SSE streams).
    #[serde(default)]
    pub body_text: Option<String>,
    /// `false` for binary bodies that were not stored.
    #[serde(default)]
    pub body_recorded: Option<bool>,
    /// Always `null` in this corpus (binary bodies were not stored).
    #[serde(default)]
    pub body_base64: Option<String>,
    /// Free-text note about the body.
    #[serde(default)]
    pub body_note: Option<String>,
    /// JSON pointers of base64 strings cut to their first 1000 characters.
    #[serde(default)]
    pub truncated_base64_pointers: Option<Vec<String>>,
}

impl TapeResponse {
    /// The `content-type` header, if recorded.
    pub fn content_type(&self) -> Option<&str> {
        header_lookup(&self.headers, "content-type")
    }

    /// `true` when the body bytes are known (JSON or text was stored).
    pub fn has_body(&self) -> bool {
        self.body_json.is_some() || self.body_text.is_some() || self.body_base64.is_some()
    }

    /// The recorded body bytes: `body_json` serialized compactly, `body_text`
    /// verbatim, decoded `body_base64`; `None` when the body was not stored.
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        if let Some(json) = &self.body_json {
            return Some(serde_json::to_vec(json).unwrap_or_default());
        }
        if let Some(text) = &self.body_text {
            return Some(text.as_bytes().to_vec());
        }
        if let Some(b64) = &self.body_base64 {
            return base64::engine::general_purpose::STANDARD.decode(b64).ok();
        }
        None
    }
}

/// `test.provider_mapping`: which provider model id the client used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderMapping {
    /// Hugging Face model id.
    pub hf_model_id: String,
    /// Provider name.
    pub provider: String,
    /// The provider's own model id.
    pub provider_model_id: String,
    /// Hub task of the mapping, when it came from a Hub lookup.
    #[serde(default)]
    pub task: Option<String>,
    /// Where the mapping came from (hard-coded in the spec, Hub lookup, ...).
    #[serde(default)]
    pub source: Option<String>,
}

/// The test that made the call (`test`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TapeTest {
    /// `<describe> > <it>`.
    pub name: String,
    /// `final` or `legacy`.
    pub spec: String,
    /// Commit of the spec version.
    #[serde(default)]
    pub spec_commit: Option<String>,
    /// Date of the spec version.
    #[serde(default)]
    pub spec_date: Option<String>,
    /// How the interaction was tied to the test.
    #[serde(default)]
    pub attribution: Option<String>,
    /// What the test asserted (`{"assert": ...}`), final spec only; see [`crate::expect`].
    #[serde(default)]
    pub expected: Option<Value>,
    /// 1-based position of this request among the test's requests.
    #[serde(default)]
    pub step: Option<u32>,
    /// Number of requests the test made.
    #[serde(default)]
    pub steps: Option<u32>,
    /// Other tests replaying the same interaction.
    #[serde(default)]
    pub also_used_by: Vec<String>,
    /// Hugging Face model id -> provider model id.
    #[serde(default)]
    pub provider_mapping: Option<ProviderMapping>,
    /// TypeScript source of the test.
    #[serde(default)]
    pub source: Option<String>,
}

/// Where the record comes from (`provenance`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// The original file.
    #[serde(default)]
    pub source: Option<String>,
    /// huggingface.js commit that first recorded it.
    #[serde(default)]
    pub first_recorded_commit: Option<String>,
    /// Date of that commit.
    #[serde(default)]
    pub first_recorded_date: Option<String>,
    /// Whether `id` is reproduced from the stored request (`None`: absent or unknown).
    #[serde(default)]
    pub key_matches_request: Option<bool>,
    /// The URL originally recorded, when the maintainers rewrote it.
    #[serde(default)]
    pub recorded_url: Option<String>,
    /// Explanation of the rewrite.
    #[serde(default)]
    pub url_rewritten: Option<String>,
    /// Id of the call whose response this download/poll came from.
    #[serde(default)]
    pub follows: Option<String>,
    /// `Some(None)`: the client sent no auth header; `None`: not recorded.
    #[serde(default, deserialize_with = "present")]
    pub auth_scheme: Option<Option<String>>,
}

/// One recorded interaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tape {
    /// The tape's file name (e.g. `fal-ai__text-to-image__1749bc9f014e.json`).
    #[serde(skip)]
    pub file_name: String,
    /// VCR key: sha256 of the JS serialization of `{url, method, body}`.
    pub id: String,
    /// Inference provider (`hf-inference`, `fal-ai`, ..., `hf-hub`).
    pub provider: String,
    /// Hub task of the call, `hub-api` or `asset-download`.
    pub task: String,
    /// `routed`, `direct` or `inline`.
    pub mode: String,
    /// Whether the April 2025 suite produces exactly this request.
    #[serde(default)]
    pub in_final_spec: bool,
    /// The request.
    pub request: TapeRequest,
    /// The response.
    pub response: TapeResponse,
    /// The test that made it.
    pub test: TapeTest,
    /// Provenance details.
    #[serde(default)]
    pub provenance: Provenance,
}

/// The request body a tape expects, after placeholder substitution.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectedBody {
    /// No body (`body_kind: none`).
    Empty,
    /// A JSON body, placeholders substituted.
    Json(Value),
    /// A text body.
    Text(String),
    /// Exact bytes (binary body with a known `body_file`).
    Bytes(Vec<u8>),
    /// Not recorded: only the sha256/length may be known.
    Unknown {
        /// Recorded sha256, if any.
        sha256: Option<String>,
        /// Recorded length, if any.
        length: Option<u64>,
    },
}

/// Reads input files once and hands out their bytes and base64.
#[derive(Debug, Default)]
pub struct InputCache {
    dir: PathBuf,
    bytes: HashMap<String, Option<Vec<u8>>>,
    b64: HashMap<String, Option<String>>,
}

impl InputCache {
    /// A cache over `dir` (usually [`inputs_dir`]).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            ..Self::default()
        }
    }

    /// The directory the files are read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bytes of `inputs/<file>`, or `None` if it does not exist.
    pub fn bytes(&mut self, file: &str) -> Option<&[u8]> {
        let dir = &self.dir;
        self.bytes
            .entry(file.to_string())
            .or_insert_with(|| std::fs::read(dir.join(file)).ok())
            .as_deref()
    }

    /// The standard base64 of `inputs/<file>`, or `None` if it does not exist.
    pub fn base64(&mut self, file: &str) -> Option<&str> {
        if !self.b64.contains_key(file) {
            let encoded = self
                .bytes(file)
                .map(|b| base64::engine::general_purpose::STANDARD.encode(b));
            self.b64.insert(file.to_string(), encoded);
        }
        self.b64.get(file).and_then(|v| v.as_deref())
    }
}

/// Finds every `{{base64:<file>}}` placeholder in `s` (file names, in order).
pub fn placeholders_in(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{base64:") {
        let after = &rest[start + "{{base64:".len()..];
        match after.find("}}") {
            Some(end) => {
                out.push(after[..end].to_string());
                rest = &after[end + 2..];
            }
            None => break,
        }
    }
    out
}

/// Replaces the `{{base64:<file>}}` placeholders of every string in `value`.
/// Returns the files that could not be substituted (missing from `inputs`);
/// their placeholders are left in place.
pub fn substitute_placeholders(value: &mut Value, inputs: &mut InputCache) -> Vec<String> {
    let mut missing = Vec::new();
    substitute_rec(value, inputs, &mut missing);
    missing
}

fn substitute_rec(value: &mut Value, inputs: &mut InputCache, missing: &mut Vec<String>) {
    match value {
        Value::String(s) if s.contains("{{base64:") => {
            for file in placeholders_in(s) {
                let placeholder = format!("{{{{base64:{file}}}}}");
                match inputs.base64(&file) {
                    Some(b64) => *s = s.replace(&placeholder, b64),
                    None => {
                        if !missing.contains(&file) {
                            missing.push(file);
                        }
                    }
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| substitute_rec(v, inputs, missing)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| substitute_rec(v, inputs, missing)),
        _ => {}
    }
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn header_lookup<'a>(headers: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl Tape {
    /// Loads one tape file; `file_name` is set from the path.
    pub fn load(path: impl AsRef<Path>) -> Result<Tape, TapeError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TapeError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut tape: Tape = serde_json::from_str(&text).map_err(|source| TapeError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        tape.file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(tape)
    }

    /// Loads every `*.json` file of `dir`, sorted by file name.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<Tape>, TapeError> {
        let dir = dir.as_ref();
        let entries = std::fs::read_dir(dir).map_err(|source| TapeError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| TapeError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        paths.iter().map(Tape::load).collect()
    }

    /// Loads all tapes of [`tapes_dir`].
    pub fn load_all() -> Result<Vec<Tape>, TapeError> {
        Tape::load_dir(tapes_dir())
    }

    /// Loads the tapes used by the spec test `name` (its own and those listing
    /// it in `also_used_by`), sorted by step then file name.
    pub fn load_for_test(name: &str) -> Result<Vec<Tape>, TapeError> {
        let mut tapes: Vec<Tape> = Tape::load_all()?
            .into_iter()
            .filter(|t| t.used_by(name))
            .collect();
        tapes.sort_by_key(Tape::replay_order_key);
        Ok(tapes)
    }

    /// The first 12 hex digits of `id`, as in the file name.
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }

    /// `true` for `routed` records.
    pub fn is_routed(&self) -> bool {
        self.mode == "routed"
    }

    /// `true` for `direct` records.
    pub fn is_direct(&self) -> bool {
        self.mode == "direct"
    }

    /// `true` for `inline` records (a `data:` URL; not a network request).
    pub fn is_inline(&self) -> bool {
        self.mode == "inline" || self.request.url.starts_with("data:")
    }

    /// `true` when recorded by the final (April 2025) spec.
    pub fn is_final(&self) -> bool {
        self.test.spec == "final"
    }

    /// `true` when the test `name` made or replays this interaction.
    pub fn used_by(&self, name: &str) -> bool {
        self.test.name == name || self.test.also_used_by.iter().any(|n| n == name)
    }

    /// Sort key for serving tapes that share a request key: recorded step
    /// first (records without a step last), then recording date, then file name.
    pub fn replay_order_key(&self) -> (bool, u32, String, String) {
        (
            self.test.step.is_none(),
            self.test.step.unwrap_or(0),
            self.provenance
                .first_recorded_date
                .clone()
                .unwrap_or_default(),
            self.file_name.clone(),
        )
    }

    /// The parsed request URL (`None` for unparsable URLs).
    pub fn url(&self) -> Option<url::Url> {
        url::Url::parse(&self.request.url).ok()
    }

    /// The original host of the request URL (`None` for `data:` URLs).
    pub fn host(&self) -> Option<String> {
        self.url().and_then(|u| u.host_str().map(str::to_string))
    }

    /// Path plus `?query` of the request URL (`None` for `data:` URLs).
    pub fn path_and_query(&self) -> Option<String> {
        let url = self.url()?;
        url.host_str()?;
        Some(match url.query() {
            Some(q) => format!("{}?{}", url.path(), q),
            None => url.path().to_string(),
        })
    }

    /// The path of the request URL.
    pub fn path(&self) -> Option<String> {
        let url = self.url()?;
        url.host_str()?;
        Some(url.path().to_string())
    }

    /// The query string of the request URL, without `?`.
    pub fn query(&self) -> Option<String> {
        self.url().and_then(|u| u.query().map(str::to_string))
    }

    /// A request header the client set (case-insensitive name).
    pub fn request_header(&self, name: &str) -> Option<&str> {
        header_lookup(&self.request.headers, name)
    }

    /// `true` when the request body was a JSON template with base64 placeholders.
    pub fn is_template(&self) -> bool {
        self.request.body_template == Some(true)
            || self
                .request
                .body_json
                .as_ref()
                .is_some_and(|v| v.to_string().contains("{{base64:"))
    }

    /// The input files the request body's placeholders refer to.
    pub fn template_files(&self) -> Vec<String> {
        let mut files: Vec<String> = self
            .request
            .body_substitutions
            .iter()
            .flatten()
            .map(|s| s.file.clone())
            .collect();
        if let Some(json) = &self.request.body_json {
            for f in placeholders_in(&json.to_string()) {
                if !files.contains(&f) {
                    files.push(f);
                }
            }
        }
        files
    }

    /// The request body this tape expects, reading inputs from [`inputs_dir`].
    pub fn expected_body(&self) -> Result<ExpectedBody, TapeError> {
        self.expected_body_with(&mut InputCache::new(inputs_dir()))
    }

    /// Like [`Tape::expected_body`], reading inputs through `inputs`.
    ///
    /// Fails with [`TapeError::MissingInput`] when a referenced input file is
    /// absent (the fal-ai whisper tape needs `sample2.wav`, not shipped).
    pub fn expected_body_with(&self, inputs: &mut InputCache) -> Result<ExpectedBody, TapeError> {
        let req = &self.request;
        let unknown = || ExpectedBody::Unknown {
            sha256: req.body_sha256.clone(),
            length: req.body_length,
        };
        match req.body_kind {
            BodyKind::None => Ok(ExpectedBody::Empty),
            BodyKind::Json => {
                let Some(json) = &req.body_json else {
                    return Ok(unknown());
                };
                let mut json = json.clone();
                let missing = substitute_placeholders(&mut json, inputs);
                if let Some(file) = missing.into_iter().next() {
                    return Err(TapeError::MissingInput {
                        file,
                        tape: self.file_name.clone(),
                        dir: inputs.dir().to_path_buf(),
                    });
                }
                Ok(ExpectedBody::Json(json))
            }
            BodyKind::Text => Ok(match &req.body_text {
                Some(text) => ExpectedBody::Text(text.clone()),
                None => unknown(),
            }),
            BodyKind::Binary => match &req.body_file {
                Some(file) => match inputs.bytes(file) {
                    Some(bytes) => Ok(ExpectedBody::Bytes(bytes.to_vec())),
                    None => Err(TapeError::MissingInput {
                        file: file.clone(),
                        tape: self.file_name.clone(),
                        dir: inputs.dir().to_path_buf(),
                    }),
                },
                None => Ok(unknown()),
            },
            BodyKind::Unknown => Ok(unknown()),
        }
    }

    /// The exact request body bytes the JS client sent, rebuilt from the tape:
    /// JSON serialized compactly in recorded key order (as `JSON.stringify`
    /// does), text verbatim, binary from `inputs/<body_file>`, empty for none.
    /// `Ok(None)` when the body was not recorded.
    pub fn expected_body_bytes(&self) -> Result<Option<Vec<u8>>, TapeError> {
        Ok(match self.expected_body()? {
            ExpectedBody::Empty => Some(Vec::new()),
            ExpectedBody::Json(v) => Some(serde_json::to_vec(&v).unwrap_or_default()),
            ExpectedBody::Text(t) => Some(t.into_bytes()),
            ExpectedBody::Bytes(b) => Some(b),
            ExpectedBody::Unknown { .. } => None,
        })
    }

    /// The parsed `test.expected`, if the test asserted something.
    pub fn expectation(&self) -> Option<Result<crate::expect::Expectation, String>> {
        self.test
            .expected
            .as_ref()
            .map(crate::expect::Expectation::parse)
    }
}

/// Groups tapes by test name (a tape listed in `also_used_by` appears under
/// each of its tests). Each group is sorted in replay order.
pub fn group_by_test(tapes: &[Tape]) -> BTreeMap<String, Vec<&Tape>> {
    let mut groups: BTreeMap<String, Vec<&Tape>> = BTreeMap::new();
    for tape in tapes {
        groups.entry(tape.test.name.clone()).or_default().push(tape);
        for other in &tape.test.also_used_by {
            groups.entry(other.clone()).or_default().push(tape);
        }
    }
    for group in groups.values_mut() {
        group.sort_by_key(|t| t.replay_order_key());
    }
    groups
}
