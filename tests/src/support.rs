//! Helpers shared by the integration tests (`tests/tests/*.rs`): loopback listeners and the
//! clients pointed at them, preview renderings, JSON comparison, and the bookkeeping of tape
//! replays.
//!
//! Only what several test files need lives here; a helper used by one file stays in that file.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hf_inference::http::retry::RetryPolicy;
use hf_inference::{Error, InferenceClient, InferenceClientBuilder, Provider, RequestPreview};
use serde_json::{Value, json};

use crate::replay::{HUB_HOST, RecordedRequest, ReplayServer, placeholder_bytes};
use crate::tapes::{Tape, TapeResponse};

/// The router's base URL, as previews show it.
pub const ROUTER: &str = "https://router.huggingface.co";
/// The router's host: the [`ReplayServer`] listener that stands for it.
pub const ROUTER_HOST: &str = "router.huggingface.co";

/// The token of tape replays in routed mode (fake: never a real secret).
pub const FAKE_HF_TOKEN: &str = "hf_replayFakeToken00000000000000000";
/// The provider key of tape replays in direct mode (fake: never a real secret).
pub const FAKE_PROVIDER_KEY: &str = "replay-fake-provider-key-0000";

/// The fake credential of a replay: [`FAKE_HF_TOKEN`] for a routed tape, else
/// [`FAKE_PROVIDER_KEY`].
pub fn fake_token(routed: bool) -> &'static str {
    if routed {
        FAKE_HF_TOKEN
    } else {
        FAKE_PROVIDER_KEY
    }
}

// ---------------------------------------------------------------------------------------------
// Loopback listeners

/// A listener that accepts and immediately closes connections, remembering each one. Point a
/// URL the client must not use (the Hub of a pinned client, every endpoint of a call that must
/// fail before any traffic) at it: a request shows up as a connection.
#[derive(Debug)]
pub struct ConnectionCounter {
    addr: SocketAddr,
    peers: Arc<Mutex<Vec<SocketAddr>>>,
}

impl ConnectionCounter {
    /// Binds `127.0.0.1:<ephemeral port>` and accepts on a background thread.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let peers = Arc::new(Mutex::new(Vec::new()));
        let seen = peers.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Ok(peer) = stream.peer_addr() {
                    seen.lock().unwrap().push(peer);
                }
            }
        });
        Self { addr, peers }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections made so far. A sentinel connection is made and waited for first: accepts
    /// are in arrival order, so every earlier connection has been counted by then.
    pub fn connections(&self) -> usize {
        let sentinel = TcpStream::connect(self.addr).expect("connect sentinel");
        let me = sentinel.local_addr().expect("sentinel addr");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let peers = self.peers.lock().unwrap();
            if let Some(pos) = peers.iter().position(|p| *p == me) {
                return peers.iter().enumerate().filter(|(i, _)| *i != pos).count();
            }
            drop(peers);
            assert!(Instant::now() < deadline, "sentinel connection never seen");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl ConnectionCounter {
    /// A client builder whose every endpoint (Hub, router, every provider's hosts) is this
    /// counter, with retries off so that a call that does go out is seen once and fails fast.
    pub fn builder(&self) -> InferenceClientBuilder {
        let mut builder = InferenceClient::builder()
            .hub_url(self.url())
            .router_url(self.url())
            .retry_policy(RetryPolicy::disabled());
        for provider in Provider::ALL {
            builder = builder.provider_url(*provider, self.url());
        }
        builder
    }
}

/// One HTTP/1.1 request as a hand-written loopback server reads it.
#[derive(Clone, Debug)]
pub struct RawRequest {
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    /// Headers in arrival order, names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// `content-length` bytes of body.
    pub body: Vec<u8>,
}

impl RawRequest {
    /// The first header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request from `stream` (a 10 s read timeout): the request line, the headers and a
/// `content-length` body. `None` when the connection ends early or the request is malformed.
pub fn read_raw_request(stream: &TcpStream) -> Option<RawRequest> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let mut request = RawRequest {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    let length = request
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    request.body = vec![0; length];
    reader.read_exact(&mut request.body).ok()?;
    Some(request)
}

// ---------------------------------------------------------------------------------------------
// Modes

/// How a call reaches a provider: through the router (with a Hugging Face token) or directly
/// (with the provider's key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Routed,
    Direct,
}

impl Mode {
    pub const BOTH: [Mode; 2] = [Mode::Routed, Mode::Direct];

    /// `routed` or `direct` (snapshot names, messages).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Routed => "routed",
            Mode::Direct => "direct",
        }
    }

    /// `routed` in routed mode, `direct` in direct mode: e.g. the credential of the mode,
    /// `mode.pick(HF_TOKEN, PROVIDER_KEY)`.
    pub fn pick<T>(self, routed: T, direct: T) -> T {
        match self {
            Mode::Routed => routed,
            Mode::Direct => direct,
        }
    }
}

/// The modes the reference gives `provider` (`routed`; `direct`: it names a direct host),
/// asserted to be those of the provider table.
pub fn reference_modes(provider: Provider, routed: bool, direct: bool) -> Vec<Mode> {
    let spec = provider.spec();
    assert_eq!(spec.is_routed(), routed, "{provider}: routed support");
    assert_eq!(spec.is_direct(), direct, "{provider}: direct support");
    let mut modes = Vec::new();
    if routed {
        modes.push(Mode::Routed);
    }
    if direct {
        modes.push(Mode::Direct);
    }
    modes
}

// ---------------------------------------------------------------------------------------------
// Clients on loopback

/// A `reqwest` client for loopback servers: proxies set in the environment are ignored.
pub fn loopback_http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

/// The host of an absolute URL (`https://api.replicate.com/v1` → `api.replicate.com`).
pub fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .expect("URL")
        .host_str()
        .expect("host")
        .to_owned()
}

/// A client builder with `token`, the router and the Hub on the listeners of `server`, retries
/// off (a failed call is seen once), and [`loopback_http`].
pub fn loopback_builder(token: &str, server: &ReplayServer) -> InferenceClientBuilder {
    InferenceClient::builder()
        .token(token)
        .hub_url(server.url_for_host(HUB_HOST))
        .router_url(server.url_for_host(ROUTER_HOST))
        .retry_policy(RetryPolicy::disabled())
        .http_client(loopback_http())
}

/// `builder` with every direct host of `provider` on the listener of `server` for that host, so
/// a request to the wrong host lands on a listener without its tape.
pub fn provider_hosts_on(
    mut builder: InferenceClientBuilder,
    provider: Provider,
    server: &ReplayServer,
) -> InferenceClientBuilder {
    for host in provider.spec().hosts {
        builder = builder.provider_host_url(
            provider,
            host.name,
            server.url_for_host(&host_of(host.base_url)),
        );
    }
    builder
}

// ---------------------------------------------------------------------------------------------
// Recorded requests

/// The host, path and query of an absolute URL.
pub fn url_parts(url: &str) -> (String, String, Option<String>) {
    let u = url::Url::parse(url).expect("URL");
    (
        u.host_str().expect("host").to_owned(),
        u.path().to_owned(),
        u.query().map(str::to_owned),
    )
}

/// Asserts that `sent` is a `method` request to `url` (host listener, path, query).
pub fn assert_sent_to(sent: &RecordedRequest, method: &str, url: &str, what: &str) {
    let (host, path, query) = url_parts(url);
    assert_eq!(
        (
            sent.method.as_str(),
            sent.host.as_str(),
            sent.path.as_str(),
            sent.query.as_deref()
        ),
        (method, host.as_str(), path.as_str(), query.as_deref()),
        "{what}: expected {method} {url}, got {} {}",
        sent.method,
        sent.original_url()
    );
}

/// Asserts that `sent` (a request to another host, e.g. a file download) carries no credential
/// header and no header containing `secret`.
pub fn assert_no_credentials(sent: &RecordedRequest, secret: &str, what: &str) {
    for name in ["authorization", "x-key", "cookie", "proxy-authorization"] {
        assert!(!sent.has_header(name), "{what}: carried `{name}`");
    }
    let dump = format!("{:?}", sent.headers);
    assert!(
        !dump.contains(secret),
        "{what}: a credential leaked: {dump}"
    );
}

// ---------------------------------------------------------------------------------------------
// Errors

/// Asserts that `err` is `Error::Http` with `status` and a server message containing `message`.
pub fn assert_http_error(err: &Error, status: u16, message: &str, what: &str) {
    assert!(matches!(err, Error::Http(_)), "{what}: {err:?}");
    assert_eq!(err.status(), Some(status), "{what}");
    let got = err
        .http_context()
        .and_then(|c| c.server_message.clone())
        .unwrap_or_default();
    assert!(
        got.contains(message),
        "{what}: the server's message, got {got:?}"
    );
}

/// Asserts that `err` is `Error::JobFailed` of `provider`'s job `job_id` with exactly `message`.
pub fn assert_job_failed(err: &Error, provider: &str, job_id: &str, message: &str, what: &str) {
    match err {
        Error::JobFailed {
            provider: p,
            message: m,
            job_id: j,
        } => {
            assert_eq!(p, provider, "{what}: the provider");
            assert_eq!(m, message, "{what}: the message");
            assert_eq!(j.as_deref(), Some(job_id), "{what}: the job id");
        }
        other => panic!("{what}: expected Error::JobFailed, got {other:?}"),
    }
}

/// Asserts that `err` is `Error::JobTimeout` of `provider`'s job `job_id` after `after`, and that
/// its message names the job.
pub fn assert_job_timeout(err: &Error, provider: &str, job_id: &str, after: Duration, what: &str) {
    match err {
        Error::JobTimeout {
            provider: p,
            job_id: j,
            after: a,
        } => {
            assert_eq!(p, provider, "{what}: the provider");
            assert_eq!(j, job_id, "{what}: the job id");
            assert_eq!(*a, after, "{what}: the timeout");
        }
        other => panic!("{what}: expected Error::JobTimeout, got {other:?}"),
    }
    assert!(
        err.to_string().contains(job_id),
        "{what}: the message names the job: {err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Previews as snapshots

/// The head of a preview's snapshot: `METHOD URL`, the headers sorted by name (the SDK version in
/// `user-agent` masked as `<version>`), then an empty line.
pub fn preview_head(preview: &RequestPreview) -> String {
    let mut headers = preview.headers.clone();
    headers.sort();
    let mut out = format!("{} {}\n", preview.method, preview.url);
    for (name, value) in headers {
        let value = if name == "user-agent" {
            value.replace(env!("CARGO_PKG_VERSION"), "<version>")
        } else {
            value
        };
        out.push_str(&format!("{name}: {value}\n"));
    }
    out.push('\n');
    out
}

/// Asserts what every preview of a call with a credential shows: none of `secrets` (the
/// credential, a fragment of it) in its `Debug`, its `Display` or its snapshot text (`rendered`,
/// when given); a POST; the `authorization` header sent, and shown redacted; a body of
/// `content_type`.
pub fn check_preview(
    preview: &RequestPreview,
    secrets: &[&str],
    rendered: Option<&str>,
    content_type: &str,
    what: &str,
) {
    let mut shown = vec![format!("{preview:?}"), format!("{preview}")];
    shown.extend(rendered.map(str::to_owned));
    for shown in &shown {
        for secret in secrets {
            assert!(
                !shown.contains(secret),
                "{what}: a credential appears in the preview:\n{shown}"
            );
        }
    }
    assert_eq!(preview.method, "POST", "{what}");
    assert_eq!(
        preview.header("authorization"),
        Some("<redacted>"),
        "{what}: the credential is sent, and shown redacted"
    );
    assert_eq!(preview.header("content-type"), Some(content_type), "{what}");
}

/// A preview as a snapshot: [`preview_head`], then `body` (the preview's body, or a version of it
/// made readable) as pretty JSON.
pub fn render_json(preview: &RequestPreview, body: &Value) -> String {
    let mut out = preview_head(preview);
    out.push_str(&serde_json::to_string_pretty(body).expect("pretty"));
    out.push('\n');
    out
}

/// A preview with a JSON body as a snapshot ([`render_json`] of its own body).
pub fn render_preview(preview: &RequestPreview) -> String {
    let body = preview.body_json().expect("a JSON body");
    render_json(preview, &body)
}

// ---------------------------------------------------------------------------------------------
// JSON comparison

/// JSON equality for round trips (a recorded or reference document against what the SDK
/// returned): key order does not matter, a `null` member equals an absent one, integers compare
/// exactly and other numbers within [`tolerance`](Self::tolerance).
#[derive(Clone, Copy, Debug)]
pub struct SameJson {
    /// Relative tolerance of non-integer numbers (at least absolute: `1e-6` lets `f32` fields
    /// through); `0.0` compares them exactly.
    pub tolerance: f64,
    /// What messages call the first document: `recorded` (a tape), `expected` (a reference).
    pub expected: &'static str,
}

impl SameJson {
    /// `Ok` when `actual` equals `expected`; otherwise the first difference, at its `path`
    /// (`$` for the root).
    pub fn check(&self, expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
        let what = self.expected;
        match (expected, actual) {
            (Value::Object(e), Value::Object(a)) => {
                let keys: BTreeSet<&String> = e.keys().chain(a.keys()).collect();
                for key in keys {
                    let ev = e.get(key).unwrap_or(&Value::Null);
                    let av = a.get(key).unwrap_or(&Value::Null);
                    self.check(ev, av, &format!("{path}.{key}"))?;
                }
                Ok(())
            }
            (Value::Array(e), Value::Array(a)) => {
                if e.len() != a.len() {
                    return Err(format!(
                        "at {path}: {} elements {what}, {} returned",
                        e.len(),
                        a.len()
                    ));
                }
                for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                    self.check(ev, av, &format!("{path}[{i}]"))?;
                }
                Ok(())
            }
            (Value::Number(e), Value::Number(a)) => {
                let exact = match (e.as_i64(), a.as_i64(), e.as_u64(), a.as_u64()) {
                    (Some(x), Some(y), _, _) => Some(x == y),
                    (_, _, Some(x), Some(y)) => Some(x == y),
                    _ => None,
                };
                let ok = exact.unwrap_or_else(|| match (e.as_f64(), a.as_f64()) {
                    (Some(x), Some(y)) => {
                        (x - y).abs() <= self.tolerance * x.abs().max(y.abs()).max(1.0)
                    }
                    _ => false,
                });
                if ok {
                    Ok(())
                } else {
                    Err(format!("at {path}: {what} {e}, returned {a}"))
                }
            }
            (e, a) if e == a => Ok(()),
            (e, a) => Err(format!(
                "at {path}: {what} {}, returned {}",
                crate::expect::show(e),
                crate::expect::show(a)
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Synthetic tapes

/// What a synthetic tape expects of the request body.
#[derive(Debug, Clone)]
pub enum BodyExpect {
    /// This JSON document (key order, whitespace and `1` vs `1.0` do not matter).
    Json(Value),
    /// No body.
    Empty,
    /// Any body (another check looks at it).
    Any,
}

/// What a synthetic tape answers.
#[derive(Debug, Clone)]
pub enum Reply<'a> {
    /// A JSON document.
    Json(Value),
    /// These bytes, of this content type.
    Bytes(&'a str, &'a [u8]),
    /// A body of this content type that was not recorded: the replay server serves its
    /// placeholder bytes ([`placeholder_bytes`]).
    Unrecorded(&'a str),
}

/// A tape made up by a test: the [`ReplayServer`] answers `status` and `reply` to `method url`
/// when the body is as `body` says. Tapes of the same request are served in `step` order, the
/// last one repeated. `name` is its file name: what [`RecordedRequest::matched`] reports.
pub fn synthetic_tape(
    name: &str,
    step: u32,
    method: &str,
    url: &str,
    body: BodyExpect,
    status: u16,
    reply: Reply<'_>,
) -> Tape {
    let mut request = json!({"method": method, "url": url});
    match body {
        BodyExpect::Json(value) => {
            request["body_kind"] = json!("json");
            request["body_json"] = value;
        }
        BodyExpect::Empty => request["body_kind"] = json!("none"),
        BodyExpect::Any => request["body_kind"] = json!("unknown"),
    }
    let mut response = json!({"status": status});
    match reply {
        Reply::Json(value) => {
            response["headers"] = json!({"content-type": "application/json"});
            response["body_json"] = value;
        }
        Reply::Bytes(content_type, bytes) => {
            response["headers"] = json!({"content-type": content_type});
            response["body_base64"] =
                json!(base64::engine::general_purpose::STANDARD.encode(bytes));
        }
        Reply::Unrecorded(content_type) => {
            response["headers"] = json!({"content-type": content_type});
        }
    }
    let mut tape: Tape = serde_json::from_value(json!({
        "id": name,
        "provider": "synthetic",
        "task": "synthetic",
        "mode": "direct",
        "in_final_spec": true,
        "request": request,
        "response": response,
        "test": {"name": "synthetic", "spec": "final", "step": step},
    }))
    .expect("a synthetic tape");
    tape.file_name = name.to_owned();
    tape
}

// ---------------------------------------------------------------------------------------------
// Tape replays

/// The verdict on one replayed tape, with what was checked (`Pass`; may be empty) or why.
#[derive(Debug)]
pub enum Verdict {
    Pass(String),
    Fail(String),
    NotApplicable(String),
}

/// Verdicts counted as they come, with one line printed per tape: `PASS`, `FAIL` or `N/A`, its
/// name, and what was checked or why.
#[derive(Debug, Default)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub not_applicable: usize,
    /// The names of the failed tapes, in order.
    pub failures: Vec<String>,
}

impl Tally {
    /// Counts and prints the verdict on the tape `name`.
    pub fn record(&mut self, name: &str, verdict: &Verdict) {
        match verdict {
            Verdict::Pass(checked) if checked.is_empty() => {
                self.passed += 1;
                println!("PASS {name}");
            }
            Verdict::Pass(checked) => {
                self.passed += 1;
                println!("PASS {name}: {checked}");
            }
            Verdict::Fail(why) => {
                self.failed += 1;
                println!("FAIL {name}: {why}");
                self.failures.push(name.to_owned());
            }
            Verdict::NotApplicable(why) => {
                self.not_applicable += 1;
                println!("N/A {name}: {why}");
            }
        }
    }

    /// The number of verdicts.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.not_applicable
    }

    /// Fails the test when a tape failed, naming them all.
    pub fn assert_no_failures(&self) {
        assert!(
            self.failures.is_empty(),
            "failed tapes: {:?}",
            self.failures
        );
    }
}

impl std::fmt::Display for Tally {
    /// `<n> passed, <n> failed, <n> not applicable`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} not applicable",
            self.passed, self.failed, self.not_applicable
        )
    }
}

/// Serves `tape`'s recorded response on the host, method, path and query of `sent`, whatever the
/// body: for legacy tapes whose recorded request differs from what the SDK sends today. Without a
/// recorded content type: `text/event-stream` for a stream, `application/json` for a JSON body,
/// else `text/plain`; without a recorded body, [`placeholder_bytes`].
pub fn serve_regardless_of_body(server: &ReplayServer, tape: &Tape, sent: &RecordedRequest) {
    let response = &tape.response;
    let content_type = response
        .content_type()
        .map(str::to_owned)
        .unwrap_or_else(|| {
            if response.is_sse {
                "text/event-stream".to_owned()
            } else if response.body_json.is_some() {
                "application/json".to_owned()
            } else {
                "text/plain".to_owned()
            }
        });
    server.add_raw_route(
        &sent.host,
        &sent.method,
        &sent.path_and_query(),
        response.status,
        &content_type,
        response
            .body_bytes()
            .unwrap_or_else(|| placeholder_bytes(response.content_type())),
    );
}

/// Of the requests a replayed call made, the inference request (`None`: there was none) and
/// what is wrong around it: more than one inference request, a Hub lookup no tape answered, no
/// lookup although the mapping came from the Hub (`via_hub`).
pub fn inference_request(
    requests: Vec<RecordedRequest>,
    via_hub: bool,
) -> Option<(RecordedRequest, Vec<String>)> {
    let (lookups, inference): (Vec<_>, Vec<_>) = requests
        .into_iter()
        .partition(RecordedRequest::is_hub_lookup);
    let sent = inference.first().cloned()?;
    let mut problems = Vec::new();
    if inference.len() > 1 {
        problems.push(format!(
            "{} inference requests sent, 1 recorded",
            inference.len()
        ));
    }
    if let Some(bad) = lookups.iter().find(|r| !r.is_matched()) {
        problems.push(format!(
            "unexpected Hub lookup {} {}",
            bad.method,
            bad.original_url()
        ));
    }
    if via_hub && lookups.is_empty() {
        problems.push("the mapping came from a Hub lookup, the SDK made none".into());
    }
    Some((sent, problems))
}

/// The checks of a replayed call together: the problems around the inference request
/// ([`Replayed::request_problems`]), the request check (`None`: not made, e.g. for a legacy
/// tape) and the response check. `Ok`: the deliberate differences of the request and what the
/// response check found; `Err`: the failing verdict, which says whether the response passed all
/// the same.
pub fn combine_checks(
    mut request_problems: Vec<String>,
    request: Option<RequestCheck>,
    response: Result<String, String>,
) -> Result<(Vec<String>, String), Verdict> {
    let mut deliberate = Vec::new();
    match request {
        None | Some(RequestCheck::Matched) => {}
        Some(RequestCheck::Deliberate(reasons)) => deliberate = reasons,
        Some(RequestCheck::Mismatch(problems)) => request_problems.extend(problems),
    }
    if !request_problems.is_empty() {
        return Err(Verdict::Fail(format!(
            "request differs from the recording: {}; (response parsing: {})",
            request_problems.join("; "),
            match &response {
                Ok(_) => "OK".to_owned(),
                Err(e) => format!("FAILED: {e}"),
            }
        )));
    }
    let checked = response.map_err(|e| Verdict::Fail(format!("response: {e}")))?;
    Ok((deliberate, checked))
}

/// What one replayed call did: the inference request the SDK sent, what is wrong around it (see
/// [`inference_request`]), and what the call returned.
#[derive(Debug)]
pub struct Replayed<O> {
    pub sent: RecordedRequest,
    pub request_problems: Vec<String>,
    pub outcome: O,
}

/// Replays the call of `tape` on a [`ReplayServer`] serving it (and its provider mapping on the
/// Hub listener when `via_hub`): `attempt` builds a client on the server and makes the call
/// (`Err`: it could not). When the tape did not answer the SDK's request (the request differs
/// from the recording), the recorded answer is served on the SDK's path regardless of body
/// ([`serve_regardless_of_body`]) and the call is made again, so that the answer is checked all
/// the same. `describe` tells what a call returned, for the failure "no inference request".
pub async fn replay_call<O>(
    tape: &Tape,
    via_hub: bool,
    attempt: impl AsyncFn(&ReplayServer) -> Result<O, String>,
    describe: impl Fn(&O) -> String,
) -> Result<Replayed<O>, Verdict> {
    let server = ReplayServer::start([tape])
        .map_err(|e| Verdict::Fail(format!("cannot start the replay server: {e}")))?;
    if via_hub {
        server.add_provider_mappings([tape]);
    }
    let first = attempt(&server).await.map_err(Verdict::Fail)?;
    let Some((sent, request_problems)) = inference_request(server.requests(), via_hub) else {
        return Err(Verdict::Fail(format!(
            "the SDK sent no inference request; it returned {}",
            describe(&first)
        )));
    };
    let outcome = if sent.matched.as_deref() == Some(tape.file_name.as_str()) {
        first
    } else {
        serve_regardless_of_body(&server, tape, &sent);
        server.clear_requests();
        attempt(&server).await.map_err(Verdict::Fail)?
    };
    Ok(Replayed {
        sent,
        request_problems,
        outcome,
    })
}

/// How the request the SDK sent compares with the recording of a final-spec tape.
#[derive(Debug)]
pub enum RequestCheck {
    Matched,
    /// It differs only by documented deliberate differences (the reasons).
    Deliberate(Vec<String>),
    /// It differs otherwise (the problems).
    Mismatch(Vec<String>),
}

impl RequestCheck {
    /// `Mismatch` when there are `problems`, else `Deliberate` when there are `deliberate`
    /// differences, else `Matched`.
    pub fn new(problems: Vec<String>, deliberate: Vec<String>) -> Self {
        if !problems.is_empty() {
            RequestCheck::Mismatch(problems)
        } else if !deliberate.is_empty() {
            RequestCheck::Deliberate(deliberate)
        } else {
            RequestCheck::Matched
        }
    }
}

/// The message(s) a server put in a recorded error body: a JSON string; `error` (a string, an
/// object's `message`, an array of strings), `message`, `detail` (a string, or the `msg` of
/// each item) of a JSON object; a text body that is not HTML.
pub fn server_messages(response: &TapeResponse) -> Vec<String> {
    let mut out = Vec::new();
    match &response.body_json {
        Some(Value::String(s)) => out.push(s.clone()),
        Some(Value::Object(map)) => {
            match map.get("error") {
                Some(Value::String(s)) => out.push(s.clone()),
                Some(Value::Object(e)) => {
                    if let Some(m) = e.get("message").and_then(Value::as_str) {
                        out.push(m.to_owned());
                    }
                }
                Some(Value::Array(items)) => {
                    out.extend(items.iter().filter_map(Value::as_str).map(str::to_owned))
                }
                _ => {}
            }
            if let Some(m) = map.get("message").and_then(Value::as_str) {
                out.push(m.to_owned());
            }
            match map.get("detail") {
                Some(Value::String(s)) => out.push(s.clone()),
                Some(Value::Array(items)) => out.extend(
                    items
                        .iter()
                        .filter_map(|i| i.get("msg").and_then(Value::as_str))
                        .map(str::to_owned),
                ),
                _ => {}
            }
        }
        _ => {
            if let Some(text) = &response.body_text {
                let text = text.trim();
                if !text.is_empty() && !text.starts_with('<') {
                    out.push(text.to_owned());
                }
            }
        }
    }
    out.retain(|m| !m.trim().is_empty());
    out
}

/// Checks the SDK's `error` against a recorded error answer (status 400 or more): the variant
/// of the status (`Unauthorized` for 401 and 403, `RateLimited` for 429, else `Http`), the
/// status, and every [`server_messages`] within the error's server message. `Ok` says what was
/// checked.
pub fn check_error_answer(response: &TapeResponse, error: &Error) -> Result<String, String> {
    let status = response.status;
    let (variant_ok, variant) = match status {
        401 | 403 => (
            matches!(error, Error::Unauthorized(_)),
            "Error::Unauthorized",
        ),
        429 => (
            matches!(error, Error::RateLimited { .. }),
            "Error::RateLimited",
        ),
        _ => (matches!(error, Error::Http(_)), "Error::Http"),
    };
    if !variant_ok {
        return Err(format!(
            "recorded HTTP {status}: expected {variant}, got {error:?}"
        ));
    }
    if error.status() != Some(status) {
        return Err(format!(
            "recorded HTTP {status}: the error says status {:?}",
            error.status()
        ));
    }
    let got = error
        .http_context()
        .and_then(|c| c.server_message.clone())
        .unwrap_or_default();
    for message in server_messages(response) {
        if !got.contains(message.trim()) {
            return Err(format!(
                "recorded HTTP {status} with the message {message:?}; the error's server \
                 message is {got:?}"
            ));
        }
    }
    Ok(format!("{variant} {status} with the server's message"))
}

/// Whether the SDK authenticated the way the JS client did (`provenance.auth_scheme`), with the
/// credential it was given (`token`). Header values are not printed.
pub fn auth_problem(tape: &Tape, token: &str, sent: &RecordedRequest) -> Option<String> {
    let scheme_of = |v: Option<&str>| match v {
        Some(v) => format!("`{}`", v.split(' ').next().unwrap_or_default()),
        None => "none".to_owned(),
    };
    match &tape.provenance.auth_scheme {
        Some(Some(scheme)) if scheme.eq_ignore_ascii_case("x-key") => (sent.header("x-key")
            != Some(token))
        .then(|| "auth: expected an `X-Key` header with the key".to_owned()),
        Some(Some(scheme)) => {
            let want = format!("{scheme} {token}");
            (sent.header("authorization") != Some(want.as_str())).then(|| {
                format!(
                    "auth: expected `Authorization: {scheme} <token>`, got {}",
                    scheme_of(sent.header("authorization"))
                )
            })
        }
        Some(None) => (sent.has_header("authorization") || sent.has_header("x-key"))
            .then(|| "auth: the JS client sent no credentials here, the SDK did".to_owned()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUND_TRIP: SameJson = SameJson {
        tolerance: 1e-6,
        expected: "recorded",
    };
    const EXACT: SameJson = SameJson {
        tolerance: 0.0,
        expected: "expected",
    };

    #[test]
    fn same_json_rules() {
        let check = |how: SameJson, e: Value, a: Value| how.check(&e, &a, "$");
        assert!(check(ROUND_TRIP, json!({"a": 1, "b": null}), json!({"a": 1})).is_ok());
        assert!(check(ROUND_TRIP, json!({"x": 0.1}), json!({"x": 0.100_000_01})).is_ok());
        assert!(check(EXACT, json!({"x": 0.1}), json!({"x": 0.100_000_01})).is_err());
        assert!(check(ROUND_TRIP, json!(1_000_000_000), json!(1_000_000_001)).is_err());
        assert_eq!(
            check(ROUND_TRIP, json!({"l": [1, 2]}), json!({"l": [1]})),
            Err("at $.l: 2 elements recorded, 1 returned".to_owned())
        );
        assert_eq!(
            check(EXACT, json!(["a"]), json!(["b"])),
            Err("at $[0]: expected \"a\", returned \"b\"".to_owned())
        );
    }

    /// A routed text-generation preview with `token` (its model pinned: nothing is sent).
    async fn preview(token: &str) -> RequestPreview {
        let hub = ConnectionCounter::start();
        let client = InferenceClient::builder()
            .token(token)
            .hub_url(hub.url())
            .model_mapping("org/model", Provider::Together, "org/Model-Turbo")
            .build()
            .expect("client");
        let preview = client
            .text_generation("hi")
            .model("org/model")
            .provider(Provider::Together)
            .preview()
            .await
            .expect("preview");
        assert_eq!(hub.connections(), 0, "pinned: no Hub lookup");
        preview
    }

    #[tokio::test]
    async fn previews_render_sorted_with_the_version_masked() {
        let preview = preview("hf_supportSecret").await;
        let shown = render_preview(&preview);
        let head: Vec<&str> = shown.lines().take_while(|l| !l.is_empty()).collect();
        assert!(head[0].starts_with("POST https://"), "{shown}");
        assert!(head[1..].is_sorted(), "{shown}");
        assert!(
            head.contains(&"user-agent: hf-inference-rust/<version>"),
            "{shown}"
        );
        assert!(shown.ends_with("}\n"), "the pretty body: {shown}");
        check_preview(
            &preview,
            &["hf_supportSecret", "supportSecret"],
            Some(&shown),
            "application/json",
            "redacted",
        );
    }

    #[tokio::test]
    #[should_panic(expected = "a credential appears in the preview")]
    async fn a_secret_in_a_preview_fails_the_check() {
        let preview = preview("hf_supportSecret").await;
        // The provider's model id is in the body: as a "secret", it must be found.
        check_preview(
            &preview,
            &["Model-Turbo"],
            None,
            "application/json",
            "shown",
        );
    }

    #[test]
    fn tally_counts_and_sums_up() {
        let mut tally = Tally::default();
        tally.record("a.json", &Verdict::Pass(String::new()));
        tally.record("b.json", &Verdict::NotApplicable("legacy".into()));
        tally.record("c.json", &Verdict::Fail("differs".into()));
        assert_eq!(tally.total(), 3);
        assert_eq!(tally.failures, ["c.json"]);
        assert_eq!(tally.to_string(), "1 passed, 1 failed, 1 not applicable");
    }

    #[test]
    fn reference_modes_follow_the_reference() {
        assert_eq!(
            reference_modes(Provider::Together, true, true),
            [Mode::Routed, Mode::Direct]
        );
        assert_eq!(
            reference_modes(Provider::HfInference, true, false),
            [Mode::Routed]
        );
        assert_eq!(Mode::Direct.pick("hf", "key"), "key");
    }
}

// ---------------------------------------------------------------------------------------------
// Log capture

/// A `Write` that keeps what is written, for a `tracing_subscriber` writer: clone it into the
/// subscriber's `with_writer(move || capture.clone())`, read it back with [`text`](Self::text).
#[derive(Clone, Debug, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Everything written so far (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
