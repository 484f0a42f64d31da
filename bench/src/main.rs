//! `hfi-bench`: one measurement of one scenario with one Rust client, printed as a JSON line,
//! and the bar chart of a finished run. `cargo xtask bench` drives it (it starts nginx, runs
//! every client in turn, and computes the medians); it is not meant to be run by hand, though it
//! can be:
//!
//! ```text
//! hfi-bench run <ours|async-openai> <scenario> <base-url> <seconds> [streams]
//! hfi-bench chart <results.json> <chart.png> <font.ttf>
//! ```
//!
//! Scenarios: `chat-seq`, `chat-64`, `stream`, `embed`, `image`, `streams-1000`.

mod chart;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;

/// Counts the bytes allocated, so that the image scenario can tell how many times the body was
/// copied after it arrived (allocations of at least half the body size).
struct Counting;

static LARGE_ALLOCATED: AtomicU64 = AtomicU64::new(0);
static LARGE_THRESHOLD: AtomicU64 = AtomicU64::new(u64::MAX);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() as u64 >= LARGE_THRESHOLD.load(Ordering::Relaxed) {
            LARGE_ALLOCATED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size as u64 >= LARGE_THRESHOLD.load(Ordering::Relaxed) {
            LARGE_ALLOCATED.fetch_add(new_size as u64, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") if args.len() >= 5 => run(&args[1..]),
        Some("chart") if args.len() == 4 => chart::draw(&args[1], &args[2], &args[3]),
        _ => Err(
            "usage: hfi-bench run <ours|async-openai> <scenario> <base-url> <seconds> [streams]\n\
             \x20      hfi-bench chart <results.json> <chart.png> <font.ttf>"
                .into(),
        ),
    };
    if let Err(error) = result {
        eprintln!("hfi-bench: {error}");
        std::process::exit(1);
    }
}

fn run(args: &[String]) -> Result<(), BoxError> {
    let client = args[0].as_str();
    let scenario = args[1].as_str();
    let base = args[2].trim_end_matches('/').to_owned();
    let seconds: f64 = args[3].parse()?;
    let streams: usize = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let window = Duration::from_secs_f64(seconds);
    // Scenarios on one connection run on a current-thread runtime (no cross-thread wake-ups);
    // the concurrent ones on a two-worker runtime, the machine's core count. The same for both
    // Rust clients.
    let runtime = match scenario {
        "chat-64" | "streams-1000" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?,
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
    };
    let measured = runtime.block_on(async {
        match client {
            "ours" => ours::run(scenario, &base, window, streams).await,
            "async-openai" => openai::run(scenario, &base, window, streams).await,
            other => Err(format!("unknown client `{other}`").into()),
        }
    })?;
    println!(
        "{}",
        json!({"client": client, "scenario": scenario, "value": measured.value, "unit": measured.unit, "extra": measured.extra})
    );
    Ok(())
}

/// One measurement.
struct Measured {
    value: f64,
    unit: &'static str,
    extra: serde_json::Value,
}

impl Measured {
    fn rate(count: u64, elapsed: Duration, unit: &'static str) -> Self {
        Self {
            value: count as f64 / elapsed.as_secs_f64(),
            unit,
            extra: json!({"count": count, "seconds": elapsed.as_secs_f64()}),
        }
    }
}

/// Runs `call` back to back for a warm-up of a tenth of `window`, then for `window`; returns the
/// number of completed calls and the time they took.
async fn sequential<F, Fut>(window: Duration, mut call: F) -> Result<(u64, Duration), BoxError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, BoxError>>,
{
    let warm = Instant::now();
    while warm.elapsed() < window / 10 {
        call().await?;
    }
    let start = Instant::now();
    let mut count = 0;
    while start.elapsed() < window {
        count += call().await?;
    }
    Ok((count, start.elapsed()))
}

/// Runs `call` in 64 tasks at once for `window` (after a warm-up); returns the calls completed.
async fn in_flight<F, Fut>(window: Duration, call: F) -> Result<(u64, Duration), BoxError>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send,
{
    let call = Arc::new(call);
    let counted = Arc::new(AtomicU64::new(0));
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (call, counted, counting, stop) = (
                call.clone(),
                counted.clone(),
                counting.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    call().await?;
                    if counting.load(Ordering::Relaxed) {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok::<(), BoxError>(())
            })
        })
        .collect();
    tokio::time::sleep(window / 10).await;
    let start = Instant::now();
    counting.store(true, Ordering::Relaxed);
    tokio::time::sleep(window).await;
    counting.store(false, Ordering::Relaxed);
    let elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await??;
    }
    Ok((counted.load(Ordering::Relaxed), elapsed))
}

/// Peak and current resident set size of this process, in MiB (`/proc/self/status`).
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

mod ours {
    use super::*;
    use hf_inference::InferenceClient;
    use hf_inference::types::chat_completion::ChatCompletionInputMessage;

    fn client() -> Result<InferenceClient, BoxError> {
        Ok(InferenceClient::builder().build()?)
    }

    pub async fn run(
        scenario: &str,
        base: &str,
        window: Duration,
        streams: usize,
    ) -> Result<Measured, BoxError> {
        let client = client()?;
        match scenario {
            "chat-seq" => {
                let (n, t) = sequential(window, || chat(&client, base)).await?;
                Ok(Measured::rate(n, t, "req/s"))
            }
            "chat-64" => {
                let base = base.to_owned();
                let (n, t) = in_flight(window, move || {
                    let (client, base) = (client.clone(), base.clone());
                    async move { chat(&client, &base).await.map(drop) }
                })
                .await?;
                Ok(Measured::rate(n, t, "req/s"))
            }
            "stream" => {
                let url = format!("{base}/stream");
                let (n, t) = sequential(window, || async {
                    let stream = client
                        .chat_completion(vec![ChatCompletionInputMessage::user("Hello")])
                        .model(url.as_str())
                        .stream()
                        .await?;
                    let mut stream = std::pin::pin!(stream);
                    let mut chunks = 0;
                    while let Some(chunk) = stream.next().await {
                        let chunk = chunk?;
                        chunks += chunk.choices.len() as u64;
                    }
                    Ok(chunks)
                })
                .await?;
                Ok(Measured::rate(n, t, "chunks/s"))
            }
            "embed" => {
                let url = format!("{base}/embed");
                let (n, t) = sequential(window, || async {
                    let out = client
                        .feature_extraction("Today is a sunny day")
                        .model(url.as_str())
                        .send()
                        .await?;
                    let rows = out.into_vectors().ok_or("not one vector per input")?;
                    if rows.len() != 64 || rows[0].len() != 1024 {
                        return Err("wrong embedding shape".into());
                    }
                    Ok(1)
                })
                .await?;
                Ok(Measured::rate(n, t, "resp/s"))
            }
            "image" => {
                let url = format!("{base}/image");
                let call = || async {
                    let blob = client
                        .text_to_image("An astronaut riding a horse")
                        .model(url.as_str())
                        .send()
                        .await?;
                    Ok::<usize, BoxError>(blob.bytes().len())
                };
                let size = call().await?;
                // Allocations of at least half the body, during one call: each is a copy (or
                // the one buffer the body is received into).
                LARGE_THRESHOLD.store(size as u64 / 2, Ordering::Relaxed);
                let before = LARGE_ALLOCATED.load(Ordering::Relaxed);
                call().await?;
                let large = LARGE_ALLOCATED.load(Ordering::Relaxed) - before;
                LARGE_THRESHOLD.store(u64::MAX, Ordering::Relaxed);
                let (n, t) = sequential(window, || async { call().await.map(|_| 1) }).await?;
                let mut measured = Measured::rate(n, t, "resp/s");
                measured.extra["body_bytes"] = json!(size);
                measured.extra["large_alloc_bytes_per_call"] = json!(large);
                measured.extra["body_buffers_per_call"] = json!(large as f64 / size as f64);
                Ok(measured)
            }
            "streams-1000" => {
                let url = format!("{base}/slow");
                let opened = futures_util::future::try_join_all((0..streams).map(|_| {
                    let (client, url) = (client.clone(), url.clone());
                    async move {
                        let stream = client
                            .chat_completion(vec![ChatCompletionInputMessage::user("Hello")])
                            .model(url)
                            .stream()
                            .await?;
                        let mut stream = Box::pin(stream);
                        stream.next().await.ok_or("empty stream")??;
                        Ok::<_, BoxError>(stream)
                    }
                }))
                .await?;
                let (peak, now) = rss_mib();
                drop(opened);
                Ok(Measured {
                    value: peak,
                    unit: "MiB peak RSS",
                    extra: json!({"streams": streams, "rss_mib_open": now}),
                })
            }
            other => Err(format!("unknown scenario `{other}`").into()),
        }
    }

    async fn chat(client: &InferenceClient, base: &str) -> Result<u64, BoxError> {
        let out = client
            .chat_completion(vec![ChatCompletionInputMessage::user(
                "What is the capital of France?",
            )])
            .model(base)
            .max_tokens(64)
            .send()
            .await?;
        if out.choices.is_empty() {
            return Err("no choice".into());
        }
        Ok(1)
    }
}

mod openai {
    use super::*;
    use async_openai::Client;
    use async_openai::config::OpenAIConfig;
    use async_openai::types::chat::{
        ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequest,
        CreateChatCompletionRequestArgs,
    };

    fn request(stream: bool) -> Result<CreateChatCompletionRequest, BoxError> {
        let mut args = CreateChatCompletionRequestArgs::default();
        args.model("bench-model")
            .messages([ChatCompletionRequestUserMessageArgs::default()
                .content(if stream {
                    "Hello"
                } else {
                    "What is the capital of France?"
                })
                .build()?
                .into()]);
        if !stream {
            args.max_completion_tokens(64u32);
        }
        Ok(args.build()?)
    }

    fn client(base: &str) -> Client<OpenAIConfig> {
        Client::with_config(
            OpenAIConfig::new()
                .with_api_base(format!("{base}/v1"))
                .with_api_key("bench"),
        )
    }

    pub async fn run(
        scenario: &str,
        base: &str,
        window: Duration,
        streams: usize,
    ) -> Result<Measured, BoxError> {
        match scenario {
            "chat-seq" => {
                let client = client(base);
                let req = request(false)?;
                let (n, t) = sequential(window, || async {
                    let out = client.chat().create(req.clone()).await?;
                    Ok(out.choices.len() as u64)
                })
                .await?;
                Ok(Measured::rate(n, t, "req/s"))
            }
            "chat-64" => {
                let client = client(base);
                let req = request(false)?;
                let (n, t) = in_flight(window, move || {
                    let (client, req) = (client.clone(), req.clone());
                    async move {
                        let out = client.chat().create(req).await?;
                        if out.choices.is_empty() {
                            return Err("no choice".into());
                        }
                        Ok(())
                    }
                })
                .await?;
                Ok(Measured::rate(n, t, "req/s"))
            }
            "stream" => {
                let client = client(&format!("{base}/stream"));
                let req = request(true)?;
                let (n, t) = sequential(window, || async {
                    let mut stream = client.chat().create_stream(req.clone()).await?;
                    let mut chunks = 0;
                    while let Some(chunk) = stream.next().await {
                        chunks += chunk?.choices.len() as u64;
                    }
                    Ok(chunks)
                })
                .await?;
                Ok(Measured::rate(n, t, "chunks/s"))
            }
            "streams-1000" => {
                let client = client(&format!("{base}/slow"));
                let req = request(true)?;
                let opened = futures_util::future::try_join_all((0..streams).map(|_| {
                    let (client, req) = (client.clone(), req.clone());
                    async move {
                        let mut stream = client.chat().create_stream(req).await?;
                        stream.next().await.ok_or("empty stream")??;
                        Ok::<_, BoxError>(stream)
                    }
                }))
                .await?;
                let (peak, now) = rss_mib();
                drop(opened);
                Ok(Measured {
                    value: peak,
                    unit: "MiB peak RSS",
                    extra: json!({"streams": streams, "rss_mib_open": now}),
                })
            }
            other => Err(format!("async-openai has no `{other}` scenario").into()),
        }
    }
}
