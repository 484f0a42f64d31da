//! A scripted OpenAI-compatible chat model on loopback, for the MCP agent tests.
//!
//! Each `POST …/chat/completions` is recorded (path, headers, JSON body) and answered with the
//! next [`Reply`] of the script, streamed as server-sent events the way OpenAI-compatible
//! servers do: a role-only chunk, then the text or the tool-call pieces (arguments split in two
//! halves), then a chunk with `finish_reason`, then `data: [DONE]`. A request past the end of
//! the script gets HTTP 500, so a test notices an unexpected extra call.
//!
//! The server runs on its own thread and runtime, so a test can point a Python subprocess at it
//! as well as our own client.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// One scripted answer of the model.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A text answer, streamed in pieces of a few characters.
    Text(String),
    /// Tool calls: `(id, name, arguments JSON)`, streamed in one turn.
    ToolCalls(Vec<(String, String, String)>),
}

impl Reply {
    /// One tool call.
    pub fn tool(id: &str, name: &str, arguments: Value) -> Self {
        Self::ToolCalls(vec![(id.into(), name.into(), arguments.to_string())])
    }

    /// The SSE chunks of this reply.
    pub fn chunks(&self, model: &str) -> Vec<Value> {
        let chunk = |delta: Value, finish: Option<&str>| {
            json!({"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 1_700_000_000,
                   "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        };
        let mut out = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
        match self {
            Self::Text(text) => {
                let chars: Vec<char> = text.chars().collect();
                for piece in chars.chunks(8) {
                    out.push(chunk(
                        json!({"content": piece.iter().collect::<String>()}),
                        None,
                    ));
                }
                out.push(chunk(json!({}), Some("stop")));
            }
            Self::ToolCalls(calls) => {
                for (index, (id, name, arguments)) in calls.iter().enumerate() {
                    let half = arguments.len() / 2;
                    let half = (0..=half)
                        .rev()
                        .find(|i| arguments.is_char_boundary(*i))
                        .unwrap_or(0);
                    out.push(chunk(
                        json!({"tool_calls": [{"index": index, "id": id, "type": "function",
                                              "function": {"name": name, "arguments": &arguments[..half]}}]}),
                        None,
                    ));
                    out.push(chunk(
                        json!({"tool_calls": [{"index": index, "function": {"arguments": &arguments[half..]}}]}),
                        None,
                    ));
                }
                out.push(chunk(json!({}), Some("tool_calls")));
            }
        }
        out
    }
}

/// A request the model received.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The request path.
    pub path: String,
    /// Headers, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// The JSON body.
    pub body: Value,
}

struct State {
    script: Mutex<Vec<Reply>>,
    recorded: Mutex<Vec<Recorded>>,
}

/// The running scripted model. Stops when dropped.
pub struct ScriptedModel {
    state: Arc<State>,
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ScriptedModel {
    /// Starts a model that answers with `script`, in order, on 127.0.0.1 (a free port).
    pub fn start(script: Vec<Reply>) -> Self {
        let state = Arc::new(State {
            script: Mutex::new(script.into_iter().rev().collect()),
            recorded: Mutex::new(Vec::new()),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let shared = state.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let state = shared.clone();
                            tokio::spawn(async move {
                                let service = service_fn(move |req| handle(state.clone(), req));
                                let _ = http1::Builder::new()
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            });
                        }
                    }
                }
            });
        });
        Self {
            state,
            port,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The base URL to give as `endpointUrl` (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.recorded.lock().unwrap().clone()
    }

    /// How many scripted replies are left.
    pub fn remaining(&self) -> usize {
        self.state.script.lock().unwrap().len()
    }
}

impl Drop for ScriptedModel {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let bytes = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("scripted")
        .to_owned();
    state.recorded.lock().unwrap().push(Recorded {
        path: path.clone(),
        headers,
        body,
    });
    let reply = if path.ends_with("/chat/completions") {
        state.script.lock().unwrap().pop()
    } else {
        None
    };
    let Some(reply) = reply else {
        return Ok(Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(
                br#"{"error":"the script has no reply for this request"}"#,
            )))
            .expect("response"));
    };
    let mut sse = String::new();
    for chunk in reply.chunks(&model) {
        sse.push_str("data: ");
        sse.push_str(&chunk.to_string());
        sse.push_str("\n\n");
    }
    sse.push_str("data: [DONE]\n\n");
    Ok(Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Full::new(Bytes::from(sse)))
        .expect("response"))
}
