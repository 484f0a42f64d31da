//! Micro-benchmarks of the decoding hot paths: the SSE decoder, the typed stream (SSE + JSON
//! chunks), whole chat answers, and embeddings. `cargo bench -p hf-inference`; the side-by-side
//! numbers come from `cargo xtask bench`.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt;
use hf_inference::http::chat_chunk::decode_chat_chunk;
use hf_inference::http::sse::{SseDecoder, json_event_stream};
use hf_inference::types::chat_completion::{ChatCompletionOutput, ChatCompletionStreamOutput};
use hf_inference::types::feature_extraction::FeatureExtractionOutput;

const CHUNKS: usize = 10_000;

/// An OpenAI-style stream of `n` chunks, as `cargo xtask bench` serves it.
fn stream_body(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let delta = if i == 0 {
            r#"{"role":"assistant","content":""}"#.to_owned()
        } else {
            format!(r#"{{"content":" word{}"}}"#, i % 10)
        };
        out.extend_from_slice(
            format!(
                "data: {{\"id\":\"chatcmpl-bench-0001\",\"object\":\"chat.completion.chunk\",\
                 \"created\":1764000000,\"model\":\"bench-model\",\"system_fingerprint\":\"fp_bench\",\
                 \"choices\":[{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n"
            )
            .as_bytes(),
        );
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

/// The body cut the way a socket delivers it (16 KiB reads).
fn network_chunks(body: &[u8]) -> Vec<Bytes> {
    body.chunks(16 * 1024).map(Bytes::copy_from_slice).collect()
}

fn sse(c: &mut Criterion) {
    let body = stream_body(CHUNKS);
    let chunks = network_chunks(&body);
    let mut group = c.benchmark_group("sse");
    group.throughput(Throughput::Elements(CHUNKS as u64 + 1));
    group.bench_function("decoder: events of a 10k-chunk stream", |b| {
        b.iter(|| {
            let mut decoder = SseDecoder::new();
            let mut events = 0;
            for chunk in &chunks {
                for event in decoder.feed(chunk) {
                    events += black_box(event).data.len().min(1);
                }
            }
            assert_eq!(events, CHUNKS + 1);
        })
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    group.bench_function("typed stream: ChatCompletionStreamOutput chunks", |b| {
        b.iter(|| {
            let body =
                futures_util::stream::iter(chunks.iter().cloned().map(Ok::<_, reqwest::Error>));
            let count = runtime.block_on(async {
                let mut stream =
                    std::pin::pin!(json_event_stream::<ChatCompletionStreamOutput, _>(body));
                let mut count = 0;
                while let Some(chunk) = stream.next().await {
                    count += black_box(chunk.expect("a chunk")).choices.len();
                }
                count
            });
            assert_eq!(count, CHUNKS);
        })
    });
    group.finish();
}

fn chat_output(c: &mut Criterion) {
    let body = br#"{"id":"chatcmpl-bench-0001","object":"chat.completion","created":1764000000,"model":"bench-model","system_fingerprint":"fp_bench","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris. It is located in the north of the country, on the Seine, and has been the seat of government for most of the last millennium."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":15,"completion_tokens":42,"total_tokens":57}}"#;
    let chunk = &stream_body(2)[6..];
    let chunk = &chunk[..chunk.iter().position(|&b| b == b'\n').expect("a line")];
    let mut group = c.benchmark_group("typed");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ChatCompletionOutput", |b| {
        b.iter(|| {
            let out: ChatCompletionOutput = serde_json::from_slice(black_box(body)).expect("valid");
            out
        })
    });
    group.bench_function("ChatCompletionStreamOutput (derived, serde_json)", |b| {
        b.iter(|| {
            let out: ChatCompletionStreamOutput =
                serde_json::from_slice(black_box(chunk)).expect("valid");
            out
        })
    });
    let chunk = std::str::from_utf8(chunk).expect("UTF-8");
    group.bench_function("ChatCompletionStreamOutput (decode_chat_chunk)", |b| {
        b.iter(|| decode_chat_chunk(black_box(chunk)).expect("valid"))
    });
    group.finish();
}

/// 64 vectors of 1024 values in their shortest `f32` spelling.
fn embedding_body() -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let rows: Vec<String> = (0..64)
        .map(|_| {
            let values: Vec<String> = (0..1024)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let v = ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.12;
                    format!("{}", v as f32)
                })
                .collect();
            format!("[{}]", values.join(","))
        })
        .collect();
    format!("[{}]", rows.join(",")).into_bytes()
}

fn embeddings(c: &mut Criterion) {
    let body = embedding_body();
    let mut group = c.benchmark_group("embeddings 64x1024");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("FeatureExtractionOutput::from_json_slice", |b| {
        b.iter(|| FeatureExtractionOutput::from_json_slice(black_box(&body)).expect("valid"))
    });
    group.bench_function("serde_json into FeatureExtractionOutput", |b| {
        b.iter(|| {
            serde_json::from_slice::<FeatureExtractionOutput>(black_box(&body)).expect("valid")
        })
    });
    group.bench_function("serde_json into Vec<Vec<f32>>", |b| {
        b.iter(|| serde_json::from_slice::<Vec<Vec<f32>>>(black_box(&body)).expect("valid"))
    });
    group.finish();
}

criterion_group!(benches, sse, chat_output, embeddings);
criterion_main!(benches);
