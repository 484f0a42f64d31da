//! A loopback HTTP/1.1 server that misbehaves on purpose, for the fault-injection tests
//! (`tests/tests/faults.rs`) and the other hardening tests.
//!
//! Each request the client sends takes the next [`Script`]: raw bytes to write (so a response
//! can be broken in any way: a cut body, bad chunk framing, invalid UTF-8), pauses, an abrupt
//! reset, a silent hold, an endless body. The server runs on its own threads, outside the test's
//! Tokio runtime, so that counting the runtime's live tasks counts only the client's.
//!
//! It also keeps the books the tests check: every request with its arrival time, and every
//! connection with who closed it. A connection the client still holds open after its call
//! failed, or after it was dropped, shows up in [`FaultServer::open_connections`].

use std::collections::VecDeque;
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{RawRequest, read_raw_request};

/// How long a connection handler waits for the client before giving up on it (it then counts
/// as still open: the client never closed it).
const PATIENCE: Duration = Duration::from_secs(30);

/// One thing the server does after reading a request.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write these bytes (and flush).
    Send(Vec<u8>),
    /// Wait this long.
    Pause(Duration),
    /// Hang up abruptly: the socket is closed with `SO_LINGER` 0, which sends a TCP reset.
    Reset,
    /// Close the connection cleanly.
    Close,
    /// Send nothing more; wait until the client closes the connection.
    Hold,
    /// Write this chunk again and again until the client stops reading and closes.
    Flood(Vec<u8>),
}

/// The server's whole answer to one request. When a script ends with none of `Reset`, `Close`,
/// `Hold`, `Flood`, the connection stays open for the client's next request (keep-alive).
pub type Script = Vec<Step>;

/// A request as the server saw it, with when it arrived.
#[derive(Clone, Debug)]
pub struct Seen {
    pub at: Instant,
    pub request: RawRequest,
}

#[derive(Default)]
struct Books {
    requests: Mutex<Vec<Seen>>,
    accepted: AtomicUsize,
    closed_by_client: AtomicUsize,
    closed_by_server: AtomicUsize,
    abandoned: AtomicUsize,
}

/// The misbehaving server. Dropping it stops accepting (handlers of open connections finish on
/// their own when the client closes or after [`PATIENCE`]).
pub struct FaultServer {
    addr: SocketAddr,
    books: Arc<Books>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl FaultServer {
    /// Serves `scripts` in order, one per request; the last one answers every further request.
    pub fn start(scripts: Vec<Script>) -> Self {
        assert!(!scripts.is_empty(), "a fault server needs a script");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let books = Arc::new(Books::default());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let queue = Arc::new(Mutex::new(VecDeque::from(scripts)));
        let (books_, stop_) = (books.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop_.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                books_.accepted.fetch_add(1, Ordering::SeqCst);
                let (books, queue) = (books_.clone(), queue.clone());
                std::thread::spawn(move || handle(stream, &books, &queue));
            }
        });
        Self { addr, books, stop }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests received so far, in arrival order.
    pub fn requests(&self) -> Vec<Seen> {
        self.books.requests.lock().unwrap().clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.books.accepted.load(Ordering::SeqCst)
    }

    /// Connections neither side has closed yet.
    pub fn open_connections(&self) -> usize {
        let closed = self.books.closed_by_client.load(Ordering::SeqCst)
            + self.books.closed_by_server.load(Ordering::SeqCst)
            + self.books.abandoned.load(Ordering::SeqCst);
        self.connections() - closed
    }

    /// Waits (up to `within`, without blocking the runtime the client runs on) until every
    /// connection is closed, failing the test naming how many the client kept open.
    pub async fn assert_all_closed(&self, within: Duration, what: &str) {
        let deadline = Instant::now() + within;
        while self.open_connections() > 0 {
            assert!(
                Instant::now() < deadline,
                "{what}: {} of {} connections still open {within:?} later",
                self.open_connections(),
                self.connections()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            self.books.abandoned.load(Ordering::SeqCst),
            0,
            "{what}: a connection was held open for {PATIENCE:?}"
        );
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

enum Waited {
    Data,
    ClientClosed,
    GaveUp,
}

/// Waits until the client sends something or closes the connection.
fn wait_for_client(stream: &TcpStream) -> Waited {
    let deadline = Instant::now() + PATIENCE;
    let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
    let mut probe = [0u8; 1];
    while Instant::now() < deadline {
        match stream.peek(&mut probe) {
            Ok(0) => return Waited::ClientClosed,
            Ok(_) => return Waited::Data,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Waited::ClientClosed,
        }
    }
    Waited::GaveUp
}

fn handle(mut stream: TcpStream, books: &Books, queue: &Mutex<VecDeque<Script>>) {
    let closed = |counter: &AtomicUsize| {
        counter.fetch_add(1, Ordering::SeqCst);
    };
    loop {
        match wait_for_client(&stream) {
            Waited::Data => {}
            Waited::ClientClosed => return closed(&books.closed_by_client),
            Waited::GaveUp => return closed(&books.abandoned),
        }
        let Some(request) = read_raw_request(&stream) else {
            return closed(&books.closed_by_client);
        };
        books.requests.lock().unwrap().push(Seen {
            at: Instant::now(),
            request,
        });
        let script = {
            let mut queue = queue.lock().unwrap();
            if queue.len() > 1 {
                queue.pop_front().expect("non-empty")
            } else {
                queue[0].clone()
            }
        };
        for step in script {
            match step {
                Step::Send(bytes) => {
                    if stream
                        .write_all(&bytes)
                        .and_then(|()| stream.flush())
                        .is_err()
                    {
                        return closed(&books.closed_by_client);
                    }
                }
                Step::Pause(pause) => std::thread::sleep(pause),
                Step::Reset => {
                    let _ = socket_linger_zero(&stream);
                    drop(stream);
                    return closed(&books.closed_by_server);
                }
                Step::Close => {
                    let _ = stream.shutdown(Shutdown::Both);
                    return closed(&books.closed_by_server);
                }
                Step::Hold => {
                    return match wait_until_closed(&stream) {
                        true => closed(&books.closed_by_client),
                        false => closed(&books.abandoned),
                    };
                }
                Step::Flood(chunk) => {
                    let deadline = Instant::now() + PATIENCE;
                    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
                    loop {
                        match stream.write_all(&chunk) {
                            Ok(()) => {}
                            Err(e)
                                if matches!(
                                    e.kind(),
                                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                                ) => {}
                            Err(_) => return closed(&books.closed_by_client),
                        }
                        if Instant::now() > deadline {
                            return closed(&books.abandoned);
                        }
                    }
                }
            }
        }
    }
}

/// Reads and discards until the client closes (`true`) or [`PATIENCE`] runs out (`false`).
fn wait_until_closed(stream: &TcpStream) -> bool {
    let deadline = Instant::now() + PATIENCE;
    let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
    let mut sink = [0u8; 4096];
    let mut reader = stream;
    while Instant::now() < deadline {
        match std::io::Read::read(&mut reader, &mut sink) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

/// `SO_LINGER` with a zero timeout, so that closing the socket resets the connection.
fn socket_linger_zero(stream: &TcpStream) -> std::io::Result<()> {
    // std has `set_linger` only on nightly; Tokio's `set_zero_linger` makes the same setsockopt
    // on a duplicate of the descriptor (the option belongs to the socket, not the descriptor).
    let std = stream.try_clone()?;
    std.set_nonblocking(true)?;
    let _guard = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?
        .enter();
    tokio::net::TcpStream::from_std(std)?.set_zero_linger()
}

// ---------------------------------------------------------------------------------------------
// Building answers

/// A complete response with a `content-length` body (the connection is kept alive).
pub fn response(status: u16, headers: &[(&str, &str)], body: impl AsRef<[u8]>) -> Vec<u8> {
    let body = body.as_ref();
    let mut out = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// A `200` JSON answer.
pub fn json_ok(body: impl AsRef<[u8]>) -> Vec<u8> {
    response(200, &[("content-type", "application/json")], body)
}

/// The head of a chunked `text/event-stream` answer.
pub fn sse_head() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        .to_vec()
}

/// `data` framed as one HTTP/1.1 chunk.
pub fn chunk(data: impl AsRef<[u8]>) -> Vec<u8> {
    let data = data.as_ref();
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// The last chunk of a chunked body.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// One SSE event of an OpenAI chat completion chunk whose delta is `text`.
pub fn chat_chunk_event(text: &str) -> String {
    let chunk = serde_json::json!({
        "id": "chatcmpl-fault",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "fault-model",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]
    });
    format!("data: {chunk}\n\n")
}

/// A complete OpenAI chat completion answering `text`.
pub fn chat_answer(text: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "fault-model",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    })
    .to_string()
}

// ---------------------------------------------------------------------------------------------
// What the client leaves behind

/// Tasks alive on the current Tokio runtime (the client's connection tasks among them).
pub fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Waits (up to `within`) until the runtime has no more live tasks than `baseline`.
pub async fn assert_tasks_back_to(baseline: usize, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    loop {
        let alive = alive_tasks();
        if alive <= baseline {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {alive} tasks alive {within:?} later, {baseline} before the client"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
