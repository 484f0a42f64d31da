//! A loopback HTTP server that replays conformance tapes.
//!
//! # Design: one listener per original host
//!
//! [`ReplayServer`] binds one `127.0.0.1:<ephemeral port>` listener for each
//! host the tapes were sent to (`router.huggingface.co`, `fal.run`,
//! `api.replicate.com`, `replicate.delivery`, ...). A test points each
//! configurable base URL of the client at the listener of the host it stands
//! for, e.g. the router base URL at
//! `server.url_for_host("router.huggingface.co")` (`http://127.0.0.1:PORT`,
//! no trailing slash). Paths and queries are served unchanged, so the client
//! builds exactly the URL it would build against the real host.
//!
//! Absolute `https://<host>` URLs in served bodies are rewritten to
//! `http://127.0.0.1:<port of host>`, binding a listener for hosts seen for
//! the first time, so follow-up requests (file downloads, Replicate
//! `output`, fal `images[].url`, Black Forest Labs `polling_url`) land here
//! too and never reach the network.
//!
//! The server runs on its own Tokio runtime (one worker thread), so it works
//! from synchronous tests and from `#[tokio::test]` alike. It shuts down when
//! dropped.
//!
//! # Matching
//!
//! A request matches a tape on the host (listener), the method, the
//! percent-decoded path, the query (decoded pairs, order-insensitive, minus
//! [`ReplayOptions::ignore_query_params`]) and the body:
//! - `json`: the body parsed as JSON equals `body_json` after `{{base64:..}}`
//!   substitution (key order, whitespace and `1` vs `1.0` do not matter);
//!   a placeholder whose input file is missing (`sample2.wav`) matches any
//!   string with the same text around it;
//! - `binary` with a known file or sha256: same sha256 (and length);
//! - `text`: same bytes; `none`: empty body;
//! - `unknown` / not recorded: no body check.
//!
//! Tapes that share a request key are served in replay order
//! ([`Tape::replay_order_key`]: `test.step`, then recording date, then file
//! name), the last one repeated. A request that matches nothing gets status
//! [`UNMATCHED_STATUS`] and a JSON body naming the closest tape and why it did
//! not match. Every request is recorded ([`ReplayServer::requests`]).

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use regex::Regex;
use serde_json::{Value, json};

use crate::tapes::{
    BodyKind, InputCache, ProviderMapping, Tape, inputs_dir, placeholders_in, sha256_hex,
};

/// Status of the answer to a request no tape matches.
pub const UNMATCHED_STATUS: u16 = 599;

/// Host of the Hub API (provider-mapping lookups).
pub const HUB_HOST: &str = "huggingface.co";

/// Options of a [`ReplayServer`].
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Query parameters left out of matching (e.g. `attempt`, which the JS
    /// client appended to Black Forest Labs polls: ignoring it makes the polls
    /// share a key, served in step order).
    pub ignore_query_params: Vec<String>,
    /// Rewrite `https://<host>` in served bodies to loopback (default `true`).
    pub rewrite_urls: bool,
    /// Directory of the input files (default [`inputs_dir`]).
    pub inputs_dir: Option<std::path::PathBuf>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            ignore_query_params: Vec::new(),
            rewrite_urls: true,
            inputs_dir: None,
        }
    }
}

impl ReplayOptions {
    /// Adds a query parameter to ignore when matching.
    pub fn ignore_query_param(mut self, name: &str) -> Self {
        self.ignore_query_params.push(name.to_string());
        self
    }

    /// Enables or disables URL rewriting in served bodies.
    pub fn rewrite_urls(mut self, on: bool) -> Self {
        self.rewrite_urls = on;
        self
    }
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The original host the receiving listener stands for.
    pub host: String,
    /// HTTP method.
    pub method: String,
    /// Path as received (not decoded).
    pub path: String,
    /// Query as received, without `?`.
    pub query: Option<String>,
    /// Headers as received (lower-case names, in order).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Bytes,
    /// The tape (file name) or route that answered; `None` if unmatched.
    pub matched: Option<String>,
    /// For unmatched requests: the diagnostic served with [`UNMATCHED_STATUS`].
    pub diagnostic: Option<Value>,
}

impl RecordedRequest {
    /// First value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `true` if the header was sent.
    pub fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    /// Path plus `?query`.
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    /// The URL the request stands for on the original host (`https://host/path?query`).
    pub fn original_url(&self) -> String {
        format!("https://{}{}", self.host, self.path_and_query())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `true` when a tape or route answered.
    pub fn is_matched(&self) -> bool {
        self.matched.is_some()
    }

    /// `true` for a model lookup on the Hub (`huggingface.co/api/models/...`).
    pub fn is_hub_lookup(&self) -> bool {
        self.host == HUB_HOST && self.path.starts_with("/api/models/")
    }
}

#[derive(Debug, Clone, PartialEq)]
enum QueryMatch {
    Any,
    Exact(Vec<(String, String)>),
}

#[derive(Debug, Clone, PartialEq)]
struct Wildcard {
    pointer: String,
    prefix: String,
    suffix: String,
    file: String,
}

#[derive(Debug, Clone, PartialEq)]
enum BodyMatch {
    Any,
    Empty,
    Json {
        expected: Value,
        wildcards: Vec<Wildcard>,
    },
    Digest {
        sha256: String,
        length: Option<u64>,
    },
    Text(String),
}

impl BodyMatch {
    fn is_specific(&self) -> bool {
        !matches!(self, BodyMatch::Any)
    }
}

#[derive(Debug, Clone)]
struct Canned {
    label: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
    rewrite: bool,
    hits: usize,
}

#[derive(Debug, Clone)]
struct Route {
    host: String,
    method: String,
    path: String,
    query: QueryMatch,
    body: BodyMatch,
    responses: Vec<Canned>,
    served: usize,
    synthetic: bool,
}

impl Route {
    fn same_key(&self, other: &Route) -> bool {
        self.host == other.host
            && self.method == other.method
            && self.path == other.path
            && self.query == other.query
            && self.body == other.body
            && self.synthetic == other.synthetic
    }

    fn describe(&self) -> Value {
        let labels: Vec<&str> = self.responses.iter().map(|c| c.label.as_str()).collect();
        json!({
            "tapes": labels,
            "host": self.host,
            "method": self.method,
            "path": self.path,
            "query": match &self.query {
                QueryMatch::Any => Value::String("<any>".into()),
                QueryMatch::Exact(pairs) => Value::String(join_pairs(pairs)),
            },
            "body": match &self.body {
                BodyMatch::Any => "<not checked>".to_string(),
                BodyMatch::Empty => "<empty>".to_string(),
                BodyMatch::Json { .. } => "<json>".to_string(),
                BodyMatch::Digest { sha256, length } => format!("<bytes sha256={sha256} length={length:?}>"),
                BodyMatch::Text(t) => format!("<text {} bytes>", t.len()),
            },
        })
    }
}

fn join_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes `%XX` escapes (invalid escapes are kept verbatim).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded `key=value` pairs of a query, sorted, without the keys in `ignore`.
pub fn query_pairs(query: Option<&str>, ignore: &[String]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .filter(|(k, _)| !ignore.contains(k))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    pairs
}

/// Bytes served for a binary body that was not recorded: a few magic bytes
/// of the content type (PNG, JPEG, WebP, FLAC, WAV) followed by a fixed
/// marker text, so a client that sniffs the type sees the right one.
pub fn placeholder_bytes(content_type: Option<&str>) -> Vec<u8> {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let ct = ct.replace(' ', "");
    let mut out: Vec<u8> = if ct.starts_with("image/png") {
        vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]
    } else if ct.starts_with("image/jpeg") || ct.starts_with("image/jpg") {
        vec![0xFF, 0xD8, 0xFF, 0xE0]
    } else if ct.starts_with("image/webp") {
        b"RIFF\x00\x00\x00\x00WEBPVP8 ".to_vec()
    } else if ct.starts_with("audio/flac") || ct.starts_with("audio/x-flac") {
        b"fLaC".to_vec()
    } else if ct.starts_with("audio/x-wav")
        || ct.starts_with("audio/wav")
        || ct.starts_with("audio/wave")
    {
        b"RIFF\x00\x00\x00\x00WAVEfmt ".to_vec()
    } else {
        Vec::new()
    };
    out.extend_from_slice(format!("hf-inference replay placeholder body ({ct})").as_bytes());
    out
}

/// The Hub task to announce for a provider mapping: `test.provider_mapping.task`
/// when recorded, else the tape's task (`chat-completion` -> `conversational`).
pub fn mapping_task(tape: &Tape, mapping: &ProviderMapping) -> String {
    match &mapping.task {
        Some(t) => t.clone(),
        None if tape.task == "chat-completion" => "conversational".to_string(),
        None => tape.task.clone(),
    }
}

/// The Hub answers to `GET /api/models/<id>?expand[]=inferenceProviderMapping`
/// built from the `test.provider_mapping` of `tapes` (README step 7), keyed by
/// Hugging Face model id. Providers of one model are merged:
/// `{"_id": ..., "id": <id>, "inferenceProviderMapping": {"<provider>":
/// {"providerId": ..., "task": ..., "status": "live"}}}`.
pub fn provider_mapping_answers<I, T>(tapes: I) -> BTreeMap<String, Value>
where
    I: IntoIterator<Item = T>,
    T: Borrow<Tape>,
{
    let mut answers: BTreeMap<String, Value> = BTreeMap::new();
    for tape in tapes {
        let tape = tape.borrow();
        let Some(mapping) = &tape.test.provider_mapping else {
            continue;
        };
        let answer = answers
            .entry(mapping.hf_model_id.clone())
            .or_insert_with(|| {
                json!({
                    "_id": format!("replay-{}", mapping.hf_model_id),
                    "id": mapping.hf_model_id,
                    "inferenceProviderMapping": {},
                })
            });
        if let Some(map) = answer
            .get_mut("inferenceProviderMapping")
            .and_then(Value::as_object_mut)
        {
            map.insert(
                mapping.provider.clone(),
                json!({
                    "providerId": mapping.provider_model_id,
                    "task": mapping_task(tape, mapping),
                    "status": "live",
                }),
            );
        }
    }
    answers
}

fn build_route(tape: &Tape, options: &ReplayOptions, inputs: &mut InputCache) -> Option<Route> {
    if tape.is_inline() {
        return None;
    }
    let url = tape.url()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let req = &tape.request;
    let body = match req.body_kind {
        BodyKind::None => BodyMatch::Empty,
        BodyKind::Json => match &req.body_json {
            Some(json) => {
                let mut expected = json.clone();
                let missing = crate::tapes::substitute_placeholders(&mut expected, inputs);
                let mut wildcards = Vec::new();
                if !missing.is_empty() {
                    collect_wildcards(&expected, "", &missing, &mut wildcards);
                }
                BodyMatch::Json {
                    expected,
                    wildcards,
                }
            }
            None => BodyMatch::Any,
        },
        BodyKind::Text => match &req.body_text {
            Some(t) => BodyMatch::Text(t.clone()),
            None => BodyMatch::Any,
        },
        BodyKind::Binary => {
            let from_file = req
                .body_file
                .as_deref()
                .and_then(|f| inputs.bytes(f))
                .map(|b| (sha256_hex(b), Some(b.len() as u64)));
            match (from_file, &req.body_sha256) {
                (Some((sha256, length)), _) => BodyMatch::Digest { sha256, length },
                (None, Some(sha)) => BodyMatch::Digest {
                    sha256: sha.clone(),
                    length: req.body_length,
                },
                (None, None) => BodyMatch::Any,
            }
        }
        BodyKind::Unknown => BodyMatch::Any,
    };
    let resp = &tape.response;
    let mut headers: Vec<(String, String)> = resp
        .headers
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.to_ascii_lowercase().as_str(),
                "content-length"
                    | "transfer-encoding"
                    | "content-encoding"
                    | "connection"
                    | "keep-alive"
            )
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let has_ct = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    let (body_bytes, rewrite) = match resp.body_bytes() {
        Some(b) => (b, true),
        None => (placeholder_bytes(resp.content_type()), false),
    };
    if !has_ct {
        let ct = if resp.is_sse {
            "text/event-stream"
        } else if resp.body_json.is_some() {
            "application/json"
        } else {
            "application/octet-stream"
        };
        headers.push(("content-type".into(), ct.into()));
    }
    Some(Route {
        host,
        method: req.method.to_ascii_uppercase(),
        path: percent_decode(url.path()),
        query: QueryMatch::Exact(query_pairs(url.query(), &options.ignore_query_params)),
        body,
        responses: vec![Canned {
            label: tape.file_name.clone(),
            status: resp.status,
            headers,
            body: Bytes::from(body_bytes),
            rewrite,
            hits: 0,
        }],
        served: 0,
        synthetic: false,
    })
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn collect_wildcards(value: &Value, pointer: &str, missing: &[String], out: &mut Vec<Wildcard>) {
    match value {
        Value::String(s) => {
            for file in placeholders_in(s) {
                if missing.contains(&file) {
                    let placeholder = format!("{{{{base64:{file}}}}}");
                    if let Some(pos) = s.find(&placeholder) {
                        out.push(Wildcard {
                            pointer: pointer.to_string(),
                            prefix: s[..pos].to_string(),
                            suffix: s[pos + placeholder.len()..].to_string(),
                            file,
                        });
                    }
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_wildcards(v, &format!("{pointer}/{i}"), missing, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                collect_wildcards(v, &format!("{pointer}/{}", escape_pointer(k)), missing, out);
            }
        }
        _ => {}
    }
}

fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    matches!((a.as_f64(), b.as_f64()), (Some(x), Some(y)) if x == y)
}

fn excerpt(value: &Value) -> String {
    let s = value.to_string();
    if s.chars().count() <= 120 {
        s
    } else {
        format!(
            "{}... ({} chars)",
            s.chars().take(120).collect::<String>(),
            s.chars().count()
        )
    }
}

/// Differences between two JSON values as `pointer: message` lines (at most
/// `limit`); empty when equal. Key order does not matter and numbers compare
/// by value (`1` equals `1.0`).
pub fn json_diff(expected: &Value, actual: &Value, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    diff_rec(expected, actual, "", &mut out, limit);
    out
}

fn diff_rec(expected: &Value, actual: &Value, pointer: &str, out: &mut Vec<String>, limit: usize) {
    if out.len() >= limit {
        return;
    }
    let here = if pointer.is_empty() { "/" } else { pointer };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let child = format!("{pointer}/{}", escape_pointer(k));
                match a.get(k) {
                    Some(av) => diff_rec(ev, av, &child, out, limit),
                    None => out.push(format!("{child}: missing (expected {})", excerpt(ev))),
                }
                if out.len() >= limit {
                    return;
                }
            }
            for (k, av) in a {
                if !e.contains_key(k) && out.len() < limit {
                    out.push(format!(
                        "{pointer}/{}: unexpected (got {})",
                        escape_pointer(k),
                        excerpt(av)
                    ));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!(
                    "{here}: expected {} elements, got {}",
                    e.len(),
                    a.len()
                ));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                diff_rec(ev, av, &format!("{pointer}/{i}"), out, limit);
            }
        }
        (Value::Number(e), Value::Number(a)) if numbers_equal(e, a) => {}
        (e, a) if e == a => {}
        (e, a) => out.push(format!(
            "{here}: expected {}, got {}",
            excerpt(e),
            excerpt(a)
        )),
    }
}

/// Why a request body does not match; empty when it does.
fn body_mismatches(expected: &BodyMatch, body: &[u8]) -> Vec<String> {
    match expected {
        BodyMatch::Any => Vec::new(),
        BodyMatch::Empty if body.is_empty() => Vec::new(),
        BodyMatch::Empty => vec![format!("body: expected no body, got {} bytes", body.len())],
        BodyMatch::Text(t) if t.as_bytes() == body => Vec::new(),
        BodyMatch::Text(t) => vec![format!(
            "body: expected text {:?}, got {:?}",
            t.chars().take(120).collect::<String>(),
            String::from_utf8_lossy(&body[..body.len().min(120)])
        )],
        BodyMatch::Digest { sha256, length } => {
            let actual = sha256_hex(body);
            if &actual == sha256 {
                Vec::new()
            } else {
                vec![format!(
                    "body: expected bytes with sha256 {sha256} (length {}), got sha256 {actual} (length {})",
                    length.map(|l| l.to_string()).unwrap_or_else(|| "?".into()),
                    body.len()
                )]
            }
        }
        BodyMatch::Json {
            expected,
            wildcards,
        } => {
            let mut actual: Value = match serde_json::from_slice(body) {
                Ok(v) => v,
                Err(e) => {
                    return vec![format!(
                        "body: expected JSON, got {} bytes that do not parse ({e}): {:?}",
                        body.len(),
                        String::from_utf8_lossy(&body[..body.len().min(120)])
                    )];
                }
            };
            let mut expected = expected.clone();
            let mut problems = Vec::new();
            for w in wildcards {
                match actual.pointer(&w.pointer).and_then(Value::as_str) {
                    Some(s) if s.starts_with(&w.prefix) && s.ends_with(&w.suffix) => {}
                    Some(s) => problems.push(format!(
                        "{}: expected {:?}<base64 of {}>{:?}, got {:?}...",
                        w.pointer,
                        w.prefix,
                        w.file,
                        w.suffix,
                        s.chars().take(60).collect::<String>()
                    )),
                    None => problems.push(format!(
                        "{}: expected a string with the base64 of {}",
                        w.pointer, w.file
                    )),
                }
                if let Some(v) = actual.pointer_mut(&w.pointer) {
                    *v = Value::Null;
                }
                if let Some(v) = expected.pointer_mut(&w.pointer) {
                    *v = Value::Null;
                }
            }
            problems.extend(
                json_diff(&expected, &actual, 12)
                    .into_iter()
                    .map(|d| format!("body {d}")),
            );
            problems
        }
    }
}

struct State {
    routes: Mutex<Vec<Route>>,
    listeners: Mutex<BTreeMap<String, SocketAddr>>,
    requests: Mutex<Vec<RecordedRequest>>,
    handle: tokio::runtime::Handle,
    options: ReplayOptions,
    url_pattern: Regex,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn ensure_listener(state: &Arc<State>, host: &str) -> std::io::Result<SocketAddr> {
    let host = host.to_ascii_lowercase();
    let mut listeners = lock(&state.listeners);
    if let Some(addr) = listeners.get(&host) {
        return Ok(*addr);
    }
    let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let listener = {
        let _guard = state.handle.enter();
        tokio::net::TcpListener::from_std(std_listener)?
    };
    listeners.insert(host.clone(), addr);
    drop(listeners);
    state
        .handle
        .spawn(accept_loop(Arc::clone(state), host, listener));
    Ok(addr)
}

async fn accept_loop(state: Arc<State>, host: String, listener: tokio::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let state = Arc::clone(&state);
        let host = host.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let state = Arc::clone(&state);
                let host = host.clone();
                async move { Ok::<_, Infallible>(handle(state, host, req).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn plain_response(status: u16, headers: &[(String, String)], body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

async fn handle(state: Arc<State>, host: String, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            return plain_response(
                400,
                &[("content-type".into(), "text/plain".into())],
                Bytes::from(format!("replay server: cannot read request body: {e}")),
            );
        }
    };
    let mut recorded = RecordedRequest {
        host: host.clone(),
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        matched: None,
        diagnostic: None,
    };
    let response = match dispatch(&state, &recorded) {
        Ok(canned) => {
            recorded.matched = Some(canned.label.clone());
            let body = if canned.rewrite && state.options.rewrite_urls {
                rewrite_body(&state, &canned.body)
            } else {
                canned.body.clone()
            };
            let mut headers = canned.headers.clone();
            headers.push(("x-replay-tape".into(), canned.label.clone()));
            plain_response(canned.status, &headers, body)
        }
        Err(diagnostic) => {
            let body = serde_json::to_vec_pretty(&diagnostic).unwrap_or_default();
            recorded.diagnostic = Some(diagnostic);
            plain_response(
                UNMATCHED_STATUS,
                &[("content-type".into(), "application/json".into())],
                Bytes::from(body),
            )
        }
    };
    lock(&state.requests).push(recorded);
    response
}

fn rewrite_body(state: &Arc<State>, body: &Bytes) -> Bytes {
    let Ok(text) = std::str::from_utf8(body) else {
        return body.clone();
    };
    if !text.contains("https://") {
        return body.clone();
    }
    let rewritten = state
        .url_pattern
        .replace_all(text, |caps: &regex::Captures<'_>| {
            let host = caps[1].trim_end_matches('.');
            let trailing = &caps[1][host.len()..];
            match ensure_listener(state, host) {
                Ok(addr) => format!("http://{addr}{trailing}"),
                Err(_) => caps[0].to_string(),
            }
        });
    Bytes::from(rewritten.into_owned())
}

struct Evaluation {
    index: usize,
    problems: Vec<String>,
    score: usize,
}

fn evaluate(
    route: &Route,
    index: usize,
    req: &RecordedRequest,
    ignore: &[String],
    with_body: bool,
) -> Evaluation {
    let mut problems = Vec::new();
    let mut score = 0;
    if route.host != req.host {
        problems.push(format!(
            "host: tape is for {}, request came to the listener of {}",
            route.host, req.host
        ));
    } else {
        score += 8;
    }
    if route.method != req.method {
        problems.push(format!(
            "method: expected {}, got {}",
            route.method, req.method
        ));
    } else {
        score += 2;
    }
    let path = percent_decode(&req.path);
    if route.path != path {
        problems.push(format!("path: expected {}, got {}", route.path, path));
    } else {
        score += 16;
    }
    if let QueryMatch::Exact(expected) = &route.query {
        let actual = query_pairs(req.query.as_deref(), ignore);
        if &actual != expected {
            let missing: Vec<String> = expected
                .iter()
                .filter(|p| !actual.contains(p))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let extra: Vec<String> = actual
                .iter()
                .filter(|p| !expected.contains(p))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            problems.push(format!(
                "query: expected `{}`, got `{}` (missing: [{}]; unexpected: [{}])",
                join_pairs(expected),
                join_pairs(&actual),
                missing.join(", "),
                extra.join(", ")
            ));
        } else {
            score += 4;
        }
    } else {
        score += 4;
    }
    if with_body || problems.is_empty() {
        let body = body_mismatches(&route.body, &req.body);
        if body.is_empty() {
            score += 1;
        }
        problems.extend(body);
    }
    // Prefer longer common path prefixes among equally scored candidates.
    let common = route
        .path
        .chars()
        .zip(path.chars())
        .take_while(|(a, b)| a == b)
        .count();
    Evaluation {
        index,
        problems,
        score: score * 10_000 + common.min(9_999),
    }
}

fn dispatch(state: &Arc<State>, req: &RecordedRequest) -> Result<Canned, Value> {
    let ignore = &state.options.ignore_query_params;
    let mut routes = lock(&state.routes);
    let mut best: Option<(usize, (bool, bool, bool, bool))> = None;
    for (index, route) in routes.iter().enumerate() {
        if route.host != req.host {
            continue;
        }
        let eval = evaluate(route, index, req, ignore, false);
        if !eval.problems.is_empty() {
            continue;
        }
        let rank = (
            route.synthetic,
            route.body.is_specific(),
            matches!(route.query, QueryMatch::Exact(_)),
            route.served < route.responses.len(),
        );
        if best.is_none_or(|(_, r)| rank > r) {
            best = Some((index, rank));
        }
    }
    if let Some((index, _)) = best {
        let route = &mut routes[index];
        let i = route.served.min(route.responses.len() - 1);
        route.served += 1;
        route.responses[i].hits += 1;
        return Ok(route.responses[i].clone());
    }
    // Unmatched: find the closest candidate (same host first, then any).
    let mut closest: Option<Evaluation> = None;
    let on_host = routes.iter().filter(|r| r.host == req.host).count();
    for (index, route) in routes.iter().enumerate() {
        let eval = evaluate(route, index, req, ignore, false);
        if closest.as_ref().is_none_or(|c| eval.score > c.score) {
            closest = Some(eval);
        }
    }
    let closest = closest.map(|c| {
        let route = &routes[c.index];
        let full = evaluate(route, c.index, req, ignore, true);
        let mut described = route.describe();
        described["mismatches"] = json!(full.problems);
        described
    });
    let body_summary = match std::str::from_utf8(&req.body) {
        Ok(text) if text.chars().count() <= 300 => Value::String(text.to_string()),
        Ok(text) => Value::String(format!(
            "{}... ({} bytes, sha256 {})",
            text.chars().take(300).collect::<String>(),
            req.body.len(),
            sha256_hex(&req.body)
        )),
        Err(_) => Value::String(format!(
            "<{} binary bytes, sha256 {}>",
            req.body.len(),
            sha256_hex(&req.body)
        )),
    };
    let hosts: Vec<String> = lock(&state.listeners).keys().cloned().collect();
    Err(json!({
        "error": "hf-inference replay server: no tape matches this request",
        "request": {
            "host": req.host,
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "body": body_summary,
        },
        "closest": closest,
        "candidates_on_host": on_host,
        "hosts": hosts,
    }))
}

/// Differences between the headers a tape's client set explicitly
/// (`request.headers`, plus the Blob type of a binary body as
/// `Content-Type`) and those of a received request. Names compare
/// case-insensitively; `Content-Type` compares its media type only
/// (`application/json; charset=utf-8` equals `application/json`), other
/// values exactly. Headers the client sent in addition are not reported.
pub fn header_mismatches(tape: &Tape, request: &RecordedRequest) -> Vec<String> {
    let mut expected: Vec<(String, String)> = tape
        .request
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let has_content_type = expected
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    if let (Some(ct), false) = (&tape.request.body_content_type, has_content_type) {
        expected.push(("Content-Type".into(), ct.clone()));
    }
    let mut out = Vec::new();
    for (name, value) in expected {
        match request.header(&name) {
            None => out.push(format!("header {name}: expected {value:?}, not sent")),
            Some(actual) if name.eq_ignore_ascii_case("content-type") => {
                if media_type(actual) != media_type(&value) {
                    out.push(format!("header {name}: expected {value:?}, got {actual:?}"));
                }
            }
            Some(actual) if actual != value => {
                out.push(format!("header {name}: expected {value:?}, got {actual:?}"))
            }
            Some(_) => {}
        }
    }
    out
}

/// The media type of a `Content-Type` value, lower-case and without parameters or spaces
/// (`Application/JSON; charset=utf-8` → `application/json`).
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .replace(' ', "")
        .to_ascii_lowercase()
}

/// The replay server. See the module documentation.
pub struct ReplayServer {
    state: Arc<State>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for ReplayServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayServer")
            .field("hosts", &*lock(&self.state.listeners))
            .finish()
    }
}

impl ReplayServer {
    /// Starts a server replaying `tapes` (inline records are skipped) with
    /// default options. Accepts `&[Tape]`, `Vec<&Tape>`, ...
    pub fn start<I, T>(tapes: I) -> std::io::Result<ReplayServer>
    where
        I: IntoIterator<Item = T>,
        T: Borrow<Tape>,
    {
        Self::start_with(tapes, ReplayOptions::default())
    }

    /// Starts a server replaying `tapes` with `options`.
    pub fn start_with<I, T>(tapes: I, options: ReplayOptions) -> std::io::Result<ReplayServer>
    where
        I: IntoIterator<Item = T>,
        T: Borrow<Tape>,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("hf-inference-replay")
            .enable_all()
            .build()?;
        let mut tapes: Vec<T> = tapes.into_iter().collect();
        tapes.sort_by_key(|t| t.borrow().replay_order_key());
        let mut inputs = InputCache::new(options.inputs_dir.clone().unwrap_or_else(inputs_dir));
        let mut routes: Vec<Route> = Vec::new();
        for tape in &tapes {
            let Some(route) = build_route(tape.borrow(), &options, &mut inputs) else {
                continue;
            };
            match routes.iter_mut().find(|r| r.same_key(&route)) {
                Some(existing) => existing.responses.extend(route.responses),
                None => routes.push(route),
            }
        }
        let hosts: Vec<String> = routes.iter().map(|r| r.host.clone()).collect();
        let state = Arc::new(State {
            routes: Mutex::new(routes),
            listeners: Mutex::new(BTreeMap::new()),
            requests: Mutex::new(Vec::new()),
            handle: runtime.handle().clone(),
            options,
            url_pattern: Regex::new(r"https://([A-Za-z0-9][A-Za-z0-9.-]*)").expect("static regex"),
        });
        for host in hosts {
            ensure_listener(&state, &host)?;
        }
        Ok(ReplayServer {
            state,
            runtime: Some(runtime),
        })
    }

    /// The loopback address standing for `host`, binding a listener if needed.
    pub fn addr_for_host(&self, host: &str) -> SocketAddr {
        ensure_listener(&self.state, host).expect("bind a loopback listener")
    }

    /// `http://127.0.0.1:PORT` standing for `host` (no trailing slash); use it
    /// as the client's base URL for that host.
    pub fn url_for_host(&self, host: &str) -> String {
        format!("http://{}", self.addr_for_host(host))
    }

    /// Rewrites an absolute `https://<host>/...` URL to its loopback
    /// counterpart (other URLs are returned unchanged).
    pub fn rewrite_url(&self, url: &str) -> String {
        match url::Url::parse(url) {
            Ok(u) if u.scheme() == "https" && u.host_str().is_some() => {
                let mut out = self.url_for_host(u.host_str().unwrap_or_default());
                out.push_str(u.path());
                if let Some(q) = u.query() {
                    out.push('?');
                    out.push_str(q);
                }
                out
            }
            _ => url.to_string(),
        }
    }

    /// The loopback URL of a tape's request (`None` for inline records).
    pub fn tape_url(&self, tape: &Tape) -> Option<String> {
        if tape.is_inline() {
            return None;
        }
        let host = tape.host()?;
        Some(format!(
            "{}{}",
            self.url_for_host(&host),
            tape.path_and_query()?
        ))
    }

    /// The original hosts that have a listener, with their addresses.
    pub fn hosts(&self) -> BTreeMap<String, SocketAddr> {
        lock(&self.state.listeners).clone()
    }

    /// Registers a synthesized JSON answer (e.g. a Hub lookup that was never
    /// recorded). `path_and_query` without `?` matches any query; with `?`
    /// the decoded query pairs must match. The body is not checked.
    /// Synthesized routes take precedence over tapes and replace an earlier
    /// route with the same key.
    pub fn add_route(
        &self,
        host: &str,
        method: &str,
        path_and_query: &str,
        status: u16,
        json: Value,
    ) {
        self.add_raw_route(
            host,
            method,
            path_and_query,
            status,
            "application/json",
            serde_json::to_vec(&json).unwrap_or_default(),
        );
    }

    /// Like [`ReplayServer::add_route`] with an arbitrary content type and body.
    pub fn add_raw_route(
        &self,
        host: &str,
        method: &str,
        path_and_query: &str,
        status: u16,
        content_type: &str,
        body: impl Into<Bytes>,
    ) {
        let host = host.to_ascii_lowercase();
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (
                p,
                QueryMatch::Exact(query_pairs(
                    Some(q),
                    &self.state.options.ignore_query_params,
                )),
            ),
            None => (path_and_query, QueryMatch::Any),
        };
        let label = format!(
            "route {} {}{}",
            method.to_ascii_uppercase(),
            host,
            path_and_query
        );
        let route = Route {
            host: host.clone(),
            method: method.to_ascii_uppercase(),
            path: percent_decode(path),
            query,
            body: BodyMatch::Any,
            responses: vec![Canned {
                label,
                status,
                headers: vec![("content-type".into(), content_type.to_string())],
                body: body.into(),
                rewrite: true,
                hits: 0,
            }],
            served: 0,
            synthetic: true,
        };
        {
            let mut routes = lock(&self.state.routes);
            routes.retain(|r| !r.same_key(&route));
            routes.push(route);
        }
        self.addr_for_host(&host);
    }

    /// Registers the Hub provider-mapping answers built from the
    /// `test.provider_mapping` of `tapes` ([`provider_mapping_answers`]) at
    /// `GET https://huggingface.co/api/models/<id>` (any query). Returns the
    /// number of models registered.
    pub fn add_provider_mappings<I, T>(&self, tapes: I) -> usize
    where
        I: IntoIterator<Item = T>,
        T: Borrow<Tape>,
    {
        let answers = provider_mapping_answers(tapes);
        for (model, answer) in &answers {
            self.add_route(
                HUB_HOST,
                "GET",
                &format!("/api/models/{model}"),
                200,
                answer.clone(),
            );
        }
        answers.len()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// The requests received by the listener of `host`.
    pub fn requests_to(&self, host: &str) -> Vec<RecordedRequest> {
        let host = host.to_ascii_lowercase();
        lock(&self.state.requests)
            .iter()
            .filter(|r| r.host == host)
            .cloned()
            .collect()
    }

    /// The requests no tape or route matched.
    pub fn unmatched(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests)
            .iter()
            .filter(|r| !r.is_matched())
            .cloned()
            .collect()
    }

    /// Forgets the recorded requests (the serving order is kept).
    pub fn clear_requests(&self) {
        lock(&self.state.requests).clear();
    }

    /// File names of the loaded tapes that have not been served yet.
    pub fn unserved_tapes(&self) -> Vec<String> {
        lock(&self.state.routes)
            .iter()
            .filter(|r| !r.synthetic)
            .flat_map(|r| r.responses.iter())
            .filter(|c| c.hits == 0)
            .map(|c| c.label.clone())
            .collect()
    }

    /// Panics with the diagnostics of every unmatched request, if any.
    pub fn assert_all_matched(&self) {
        let unmatched = self.unmatched();
        if unmatched.is_empty() {
            return;
        }
        let details: Vec<String> = unmatched
            .iter()
            .map(|r| {
                format!(
                    "{} {}: {}",
                    r.method,
                    r.original_url(),
                    r.diagnostic
                        .as_ref()
                        .and_then(|d| serde_json::to_string_pretty(d).ok())
                        .unwrap_or_default()
                )
            })
            .collect();
        panic!(
            "{} request(s) matched no tape:\n{}",
            unmatched.len(),
            details.join("\n")
        );
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("/a%2Fb%20c"), "/a/b c");
        assert_eq!(percent_decode("/bad%zz%4"), "/bad%zz%4");
        assert_eq!(percent_decode("%41"), "A");
    }

    #[test]
    fn query_pairs_sorted_and_filtered() {
        let pairs = query_pairs(
            Some("b=2&a=1&attempt=0&expand%5B%5D=x"),
            &["attempt".to_string()],
        );
        assert_eq!(
            pairs,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "2".into()),
                ("expand[]".into(), "x".into())
            ]
        );
    }

    #[test]
    fn diff_reports_pointers() {
        let d = json_diff(
            &json!({"a": [1, {"b": "x"}], "c": 1}),
            &json!({"a": [1.0, {"b": "y"}], "d": 2}),
            10,
        );
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(
            d[0].starts_with("/a/1/b: expected \"x\", got \"y\""),
            "{d:?}"
        );
        assert!(d[1].starts_with("/c: missing"), "{d:?}");
        assert!(d[2].starts_with("/d: unexpected"), "{d:?}");
    }
}
