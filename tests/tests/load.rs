//! Load: 10,000 concurrent calls from one client against a loopback server, in a test binary of
//! its own so that the process's memory and descriptors are this test's alone.
//!
//! The server speaks HTTP/2 (prior knowledge), as the Hugging Face router does over TLS: the
//! calls share one connection instead of opening 10,000 sockets. It runs on its own runtime, so
//! that the test's runtime counts only the client's tasks.
//!
//! Checked: every call succeeds with its own answer; the peak resident memory of the process
//! (`VmHWM`, client and server together) and the open descriptors (`/proc/self/fd`, sampled while
//! the calls run) stay under generous bounds; once the client is dropped, the descriptors and
//! the client's tasks are back to what they were before it existed. The bounds say the client
//! neither holds a socket per call nor memory per call past its end; they are not a benchmark
//! (`benches/` measures speed).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hf_inference::InferenceClient;
use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference_tests::faults::{alive_tasks, assert_tasks_back_to, chat_answer};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};

const CALLS: usize = 10_000;
/// Peak resident memory allowed for the whole process, in KiB.
const MAX_RSS_KIB: u64 = 400 * 1024;
/// Descriptors the run may add at its peak: a handful of connections, not one per call.
const MAX_EXTRA_FDS: usize = 64;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// `VmHWM` (peak resident set) of this process, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// An HTTP/2 server answering each chat request with a completion echoing its prompt. Returns
/// its URL and the count of requests served.
fn start_server() -> (String, Arc<AtomicUsize>) {
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr")).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                        let counter = counter.clone();
                        async move {
                            let body = request.into_body().collect().await.map(|b| b.to_bytes());
                            let prompt = body
                                .ok()
                                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                                .and_then(|v| {
                                    v["messages"][0]["content"].as_str().map(str::to_owned)
                                })
                                .unwrap_or_default();
                            counter.fetch_add(1, Ordering::Relaxed);
                            let answer = Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(chat_answer(&prompt))))
                                .unwrap();
                            Ok::<_, Infallible>(answer)
                        }
                    });
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .max_concurrent_streams(1000)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    let addr = rx.recv().expect("server address");
    (format!("http://{addr}"), served)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_calls_from_one_client() {
    let (url, served) = start_server();
    let fds_before = open_fds();
    let tasks_before = alive_tasks();

    let http = reqwest::Client::builder()
        .http2_prior_knowledge()
        .no_proxy()
        .build()
        .unwrap();
    let client = InferenceClient::builder()
        .base_url(&url)
        .token("hf_loadTestToken0123456789abcdefgh")
        .http_client(http)
        .build()
        .unwrap();

    // Sample the descriptors while the calls run.
    let sampling = Arc::new(AtomicBool::new(true));
    let peak_fds = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (sampling, peak_fds) = (sampling.clone(), peak_fds.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                peak_fds.fetch_max(open_fds(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    let started = Instant::now();
    let calls = (0..CALLS).map(|i| {
        let client = client.clone();
        tokio::spawn(async move {
            let prompt = format!("call {i}");
            let answer = client
                .chat_completion(vec![ChatCompletionInputMessage::user(prompt.clone())])
                .send()
                .await?;
            let echoed = answer.choices[0]
                .message
                .content
                .clone()
                .unwrap_or_default();
            Ok::<bool, hf_inference::Error>(echoed == prompt)
        })
    });
    let results = tokio::time::timeout(
        Duration::from_secs(120),
        futures_util::future::join_all(calls),
    )
    .await
    .expect("10,000 calls end within two minutes");
    let elapsed = started.elapsed();
    sampling.store(false, Ordering::Relaxed);
    sampler.await.unwrap();

    let mut failures = Vec::new();
    for (i, result) in results.into_iter().enumerate() {
        match result.expect("the task ran") {
            Ok(true) => {}
            Ok(false) => failures.push(format!("call {i}: another call's answer")),
            Err(e) => failures.push(format!("call {i}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {CALLS} calls failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(
        served.load(Ordering::Relaxed),
        CALLS,
        "one request per call, no retry"
    );

    let peak_rss = peak_rss_kib();
    let peak_fds = peak_fds.load(Ordering::Relaxed);
    println!(
        "{CALLS} calls in {elapsed:?}; peak RSS {} MiB; descriptors {fds_before} before, {peak_fds} at the peak",
        peak_rss / 1024
    );
    assert!(
        peak_rss < MAX_RSS_KIB,
        "peak RSS {peak_rss} KiB over the bound {MAX_RSS_KIB} KiB"
    );
    assert!(
        peak_fds <= fds_before + MAX_EXTRA_FDS,
        "{peak_fds} descriptors at the peak, {fds_before} before: a socket per call?"
    );

    drop(client);
    // The connection closes and its tasks end once the last clone of the client is gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    while open_fds() > fds_before {
        assert!(
            Instant::now() < deadline,
            "{} descriptors 5 s after the client was dropped, {fds_before} before",
            open_fds()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_tasks_back_to(tasks_before, Duration::from_secs(5), "after the load").await;
}
