//! Streaming chat against a loopback SSE server (hand-rolled HTTP/1.1, chunked encoding):
//!
//! - dropping the stream closes the connection, and the server sees it promptly;
//! - an OpenAI-style provider stream cut before `data: [DONE]` ends with an `Err`, never a
//!   silent end (while a TGI-style URL-model stream may end without `[DONE]`);
//! - a `{"error": …}` event becomes `Error::Stream` carrying the server's message.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hf_inference::error::StreamError;
use hf_inference::http::retry::RetryPolicy;
use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference::{Error, InferenceClient, Provider};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

const PROVIDER_KEY: &str = "tgp_streamSecret0123456789abcdef";
const HUB_MODEL: &str = "meta-llama/Llama-3.3-70B-Instruct";
const TOGETHER_ID: &str = "meta-llama/Llama-3.3-70B-Instruct-Turbo";

/// How long the endless server keeps streaming at most.
const SERVER_LIMIT: Duration = Duration::from_secs(10);
/// Interval of the endless server's chunks.
const TICK: Duration = Duration::from_millis(50);

fn messages() -> Vec<ChatCompletionInputMessage> {
    vec![ChatCompletionInputMessage::user("Count to infinity.")]
}

/// One SSE event of an OpenAI chat completion chunk carrying `text`.
fn chunk_event(text: &str) -> String {
    let chunk = json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": TOGETHER_ID,
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]
    });
    format!("data: {chunk}\n\n")
}

/// `data` framed as one HTTP/1.1 chunk.
fn http_chunk(data: &str) -> Vec<u8> {
    format!("{:x}\r\n{data}\r\n", data.len()).into_bytes()
}

const STREAM_HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";

/// The request as the server read it.
#[derive(Debug)]
struct Request {
    target: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request (head, then the body by content-length).
async fn read_request(reader: &mut BufReader<TcpStream>) -> Request {
    let mut line = String::new();
    reader.read_line(&mut line).await.expect("request line");
    let target = line
        .split_whitespace()
        .nth(1)
        .expect("request target")
        .to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.expect("header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("header");
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.parse().expect("content-length"))
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.expect("body");
    Request {
        target,
        headers,
        body: serde_json::from_slice(&body).expect("JSON body"),
    }
}

/// What a scripted server sends after the response head.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// `data: [DONE]`, then the end of the body.
    Done,
    /// The end of the body (chunked terminator) without `[DONE]`.
    EndOfBody,
    /// Half an HTTP chunk, then the connection is closed: the body is cut.
    Abort,
    /// `data: {"error": {"message": "boom"}}`, then the end of the body.
    ErrorEvent,
}

/// Serves one streamed chat: two chunk events, then `ending`. Returns the address and the
/// request it read.
async fn scripted_server(ending: Ending) -> (SocketAddr, oneshot::Receiver<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (request_tx, request_rx) = oneshot::channel();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accept");
        let mut reader = BufReader::new(socket);
        let request = read_request(&mut reader).await;
        let _ = request_tx.send(request);
        let socket = reader.get_mut();
        socket.write_all(STREAM_HEAD.as_bytes()).await.unwrap();
        for text in ["Hello", " world"] {
            socket
                .write_all(&http_chunk(&chunk_event(text)))
                .await
                .unwrap();
        }
        match ending {
            Ending::Done => {
                socket
                    .write_all(&http_chunk("data: [DONE]\n\n"))
                    .await
                    .unwrap();
                socket.write_all(b"0\r\n\r\n").await.unwrap();
            }
            Ending::EndOfBody => socket.write_all(b"0\r\n\r\n").await.unwrap(),
            Ending::Abort => {
                // Announce 0x40 bytes, send a few, hang up.
                socket.write_all(b"40\r\ndata: {\"id\"").await.unwrap();
                socket.flush().await.unwrap();
                let _ = socket.shutdown().await;
                return;
            }
            Ending::ErrorEvent => {
                socket
                    .write_all(&http_chunk(
                        "data: {\"error\": {\"message\": \"boom\"}}\n\n",
                    ))
                    .await
                    .unwrap();
                socket.write_all(b"0\r\n\r\n").await.unwrap();
            }
        }
        socket.flush().await.unwrap();
        // Keep the connection open a little: only the body framing ends the stream.
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    (addr, request_rx)
}

/// A client that sends Together calls straight to `addr` with a Together key.
fn together_client(addr: SocketAddr) -> InferenceClient {
    InferenceClient::builder()
        .token(PROVIDER_KEY)
        // Not used (the mapping is pinned); an address where nothing listens.
        .hub_url("http://127.0.0.1:9")
        .provider_url(Provider::Together, format!("http://{addr}"))
        .model_mapping(HUB_MODEL, Provider::Together, TOGETHER_ID)
        .retry_policy(RetryPolicy::disabled())
        .build()
        .expect("client")
}

/// Every item of a stream, each `Ok` as its delta text, within a bound.
async fn collect<S>(stream: S) -> Vec<Result<String, Error>>
where
    S: futures_util::Stream<
            Item = Result<hf_inference::types::chat_completion::ChatCompletionStreamOutput, Error>,
        >,
{
    let items = tokio::time::timeout(Duration::from_secs(5), stream.collect::<Vec<_>>())
        .await
        .expect("the stream ends within 5 s");
    items
        .into_iter()
        .map(|item| {
            item.map(|chunk| {
                chunk.choices[0]
                    .delta
                    .content
                    .clone()
                    .expect("delta content")
            })
        })
        .collect()
}

async fn together_stream(ending: Ending) -> (Vec<Result<String, Error>>, Request) {
    let (addr, request) = scripted_server(ending).await;
    let client = together_client(addr);
    let stream = client
        .chat_completion(messages())
        .model(HUB_MODEL)
        .provider(Provider::Together)
        .max_tokens(16)
        .stream()
        .await
        .expect("the stream starts");
    let items = collect(stream).await;
    (items, request.await.expect("the server read a request"))
}

fn texts(items: &[Result<String, Error>]) -> Vec<&str> {
    items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .map(String::as_str)
        .collect()
}

// ---------------------------------------------------------------------------------------------

/// What the endless server saw.
#[derive(Debug)]
enum Observed {
    /// The client closed the connection (`how`: EOF on read, or a write error).
    Closed {
        at: Instant,
        how: String,
        sent: usize,
    },
    /// Still open when the server gave up.
    StillOpen { sent: usize },
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_stream_closes_the_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (observed_tx, observed_rx) = oneshot::channel();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accept");
        let mut reader = BufReader::new(socket);
        read_request(&mut reader).await;
        let (mut read_half, mut write_half) = reader.into_inner().into_split();
        let mut head = STREAM_HEAD.as_bytes().to_vec();
        for i in 0..3 {
            head.extend(http_chunk(&chunk_event(&format!("tok{i}"))));
        }
        write_half.write_all(&head).await.unwrap();
        let mut sent = 3;
        let deadline = Instant::now() + SERVER_LIMIT;
        let mut ticks = tokio::time::interval(TICK);
        let mut buf = [0u8; 256];
        let observed = loop {
            if Instant::now() >= deadline {
                break Observed::StillOpen { sent };
            }
            tokio::select! {
                read = read_half.read(&mut buf) => match read {
                    Ok(0) => break Observed::Closed { at: Instant::now(), how: "EOF".into(), sent },
                    Err(e) => break Observed::Closed { at: Instant::now(), how: format!("read error: {e}"), sent },
                    Ok(_) => {} // the client has nothing more to say; ignore
                },
                _ = ticks.tick() => {
                    let chunk = http_chunk(&chunk_event(&format!("tok{sent}")));
                    if let Err(e) = write_half.write_all(&chunk).await {
                        break Observed::Closed { at: Instant::now(), how: format!("write error: {e}"), sent };
                    }
                    sent += 1;
                }
            }
        };
        let _ = observed_tx.send(observed);
    });

    // A URL model (the server is the endpoint), no token.
    let client = InferenceClient::builder()
        .base_url(format!("http://{addr}"))
        .build()
        .expect("client");
    let mut stream = Box::pin(
        client
            .chat_completion(messages())
            .stream()
            .await
            .expect("the stream starts"),
    );
    let mut got = Vec::new();
    for _ in 0..2 {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("a chunk within 5 s")
            .expect("the stream is not over")
            .expect("a chunk, not an error");
        got.push(chunk.choices[0].delta.content.clone().unwrap());
    }
    assert_eq!(got, ["tok0", "tok1"]);
    let dropped_at = Instant::now();
    drop(stream);
    // The client stays alive: dropping the stream alone must release the connection (it may
    // not sit in the pool with an unread body).

    let observed = tokio::time::timeout(SERVER_LIMIT + Duration::from_secs(2), observed_rx)
        .await
        .expect("the server reports")
        .expect("the server task ran");
    match observed {
        Observed::Closed { at, how, sent } => {
            let after = at.saturating_duration_since(dropped_at);
            assert!(
                after < Duration::from_secs(2),
                "the server saw the close ({how}) only {after:?} after the drop"
            );
            // It was still streaming when the client left.
            assert!(sent >= 3, "sent {sent}");
        }
        Observed::StillOpen { sent } => panic!(
            "the connection was still open {SERVER_LIMIT:?} after the drop ({sent} chunks sent)"
        ),
    }
    drop(client);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_stream_cut_before_done_is_an_error() {
    // The body ends cleanly, but without `data: [DONE]`.
    let (items, request) = together_stream(Ending::EndOfBody).await;
    assert_eq!(texts(&items), ["Hello", " world"]);
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(
        matches!(
            &items[2],
            Err(Error::Stream(StreamError::Truncated { dropped_bytes: 0 }))
        ),
        "{:?}",
        items[2]
    );
    assert!(
        items[2]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("[DONE]")
    );

    // The request went straight to the provider, as a stream.
    assert_eq!(request.target, "/v1/chat/completions");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {PROVIDER_KEY}").as_str())
    );
    assert_eq!(request.header("accept"), Some("text/event-stream"));
    assert_eq!(request.body["model"], TOGETHER_ID);
    assert_eq!(request.body["stream"], true);

    // The connection drops mid-chunk.
    let (items, _) = together_stream(Ending::Abort).await;
    assert_eq!(texts(&items), ["Hello", " world"]);
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(
        matches!(
            &items[2],
            Err(Error::Stream(StreamError::ConnectionLost(_)))
        ),
        "{:?}",
        items[2]
    );
}

/// Controls for the test above: with `[DONE]` the same provider stream ends cleanly; and a
/// URL-model (TGI-style) stream may end without `[DONE]` (TGI does not always send it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_streams_end_without_error() {
    let (items, _) = together_stream(Ending::Done).await;
    assert!(items.iter().all(Result::is_ok), "{items:?}");
    assert_eq!(texts(&items), ["Hello", " world"]);

    let (addr, _request) = scripted_server(Ending::EndOfBody).await;
    let client = InferenceClient::builder()
        .base_url(format!("http://{addr}"))
        .build()
        .unwrap();
    let stream = client.chat_completion(messages()).stream().await.unwrap();
    let items = collect(stream).await;
    assert!(items.iter().all(Result::is_ok), "{items:?}");
    assert_eq!(texts(&items), ["Hello", " world"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_event_becomes_a_stream_error() {
    // On a provider target and on a URL model.
    let (provider_items, _) = together_stream(Ending::ErrorEvent).await;
    let (addr, _request) = scripted_server(Ending::ErrorEvent).await;
    let client = InferenceClient::builder()
        .base_url(format!("http://{addr}"))
        .build()
        .unwrap();
    let url_items = collect(client.chat_completion(messages()).stream().await.unwrap()).await;
    for items in [provider_items, url_items] {
        assert_eq!(texts(&items), ["Hello", " world"]);
        // The error is the last item: the stream ends after it.
        assert_eq!(items.len(), 3, "{items:?}");
        match &items[2] {
            Err(Error::Stream(StreamError::ServerError {
                message,
                error_type,
            })) => {
                assert_eq!(message, "boom");
                assert_eq!(error_type, &None);
            }
            other => panic!("expected a ServerError, got {other:?}"),
        }
        assert!(items[2].as_ref().unwrap_err().to_string().contains("boom"));
    }
}
