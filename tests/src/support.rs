//! Helpers shared by the integration tests (`tests/tests/*.rs`): loopback listeners and the
//! clients pointed at them, preview renderings, JSON comparison, and the bookkeeping of tape
//! replays.
//!
//! Only what several test files need lives here; a helper used by one file stays in that file.

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hf_inference::http::retry::RetryPolicy;
use hf_inference::{InferenceClient, InferenceClientBuilder, Provider, RequestPreview};
use serde_json::Value;

use crate::replay::{HUB_HOST, ReplayServer};

/// The router's base URL, as previews show it.
pub const ROUTER: &str = "https://router.huggingface.co";
/// The router's host: the [`ReplayServer`] listener that stands for it.
pub const ROUTER_HOST: &str = "router.huggingface.co";

/// The token of tape replays in routed mode (fake: never a real secret).
pub const FAKE_HF_TOKEN: &str = "hf_replayFakeToken00000000000000000";
/// The provider key of tape replays in direct mode (fake: never a real secret).
pub const FAKE_PROVIDER_KEY: &str = "replay-fake-provider-key-0000";

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
