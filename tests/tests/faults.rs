//! Fault injection: one test per way a server or the network can misbehave, against the
//! [`FaultServer`] on loopback. Each test checks what a user relies on:
//!
//! - the typed error (variant, status, message) — never a panic, never a hang;
//! - that the call ends within a generous bound ([`BOUND`]: it proves the call ends, it does not
//!   measure speed);
//! - that nothing is left behind: once the call has failed and the client is dropped, every
//!   connection the server accepted has been closed by the client, and the test's Tokio runtime
//!   has no more live tasks than before the client existed;
//! - that the token is in no error's `Display` or `Debug`.
//!
//! Retries, where they are part of the fault, use short backoffs so that the tests stay quick; the
//! `Retry-After` test keeps the server's one-second wait and checks it was honoured.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hf_inference::error::StreamError;
use hf_inference::http::retry::RetryPolicy;
use hf_inference::types::chat_completion::{ChatCompletionInputMessage, ChatCompletionOutput};
use hf_inference::{Error, InferenceClient, InferenceClientBuilder, Provider};
use hf_inference_tests::faults::{
    FaultServer, LAST_CHUNK, Step, alive_tasks, assert_tasks_back_to, chat_answer,
    chat_chunk_event, chunk, json_ok, response, sse_head,
};
use serde_json::json;

/// Every call must end well within this (the slowest fault waits one second).
const BOUND: Duration = Duration::from_secs(10);
/// How long the client may take to release its connections and tasks once dropped.
const CLEANUP: Duration = Duration::from_secs(5);

const TOKEN: &str = "hf_faultSecret0123456789abcdefghij";
const SECRET_PART: &str = "faultSecret";

fn messages() -> Vec<ChatCompletionInputMessage> {
    vec![ChatCompletionInputMessage::user("Say something.")]
}

/// A client builder calling `server` as a URL model, with the token and no retries.
fn on(server: &FaultServer) -> InferenceClientBuilder {
    InferenceClient::builder()
        .base_url(server.url())
        .token(TOKEN)
        .retry_policy(RetryPolicy::disabled())
}

fn quick_retries(n: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(n)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

/// Builds the client, runs `call` on it within [`BOUND`], drops the client and checks that the
/// connections to `servers` are closed and the runtime's tasks are back to what they were.
async fn exercise<T>(
    what: &str,
    servers: &[&FaultServer],
    builder: InferenceClientBuilder,
    call: impl AsyncFnOnce(&InferenceClient) -> T,
) -> T {
    let baseline = alive_tasks();
    let client = builder.build().expect("client");
    let started = Instant::now();
    let out = tokio::time::timeout(BOUND, call(&client))
        .await
        .unwrap_or_else(|_| panic!("{what}: the call did not end within {BOUND:?}"));
    assert!(started.elapsed() < BOUND, "{what}");
    drop(client);
    for server in servers {
        server.assert_all_closed(CLEANUP, what).await;
    }
    assert_tasks_back_to(baseline, CLEANUP, what).await;
    out
}

/// [`exercise`] of one chat call on `server`.
async fn chat_call(
    what: &str,
    server: &FaultServer,
    builder: InferenceClientBuilder,
) -> Result<ChatCompletionOutput, Error> {
    exercise(what, &[server], builder, send_chat).await
}

/// The error of a call that must fail, checked free of the token.
fn failed<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) -> Error {
    let err = result.expect_err(what);
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(SECRET_PART), "{what}: token in {shown}");
    }
    err
}

/// A chat call's answer.
async fn send_chat(client: &InferenceClient) -> Result<ChatCompletionOutput, Error> {
    client.chat_completion(messages()).send().await
}

/// Every item of a chat stream: `Ok` deltas as text.
async fn stream_items(client: &InferenceClient) -> Vec<Result<String, Error>> {
    let stream = client
        .chat_completion(messages())
        .stream()
        .await
        .expect("the stream starts");
    stream
        .map(|item| item.map(|c| c.choices[0].delta.content.clone().unwrap_or_default()))
        .collect()
        .await
}

fn oks(items: &[Result<String, Error>]) -> Vec<&str> {
    items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .map(String::as_str)
        .collect()
}

/// The last item of a stream, which must be its only error.
fn last_error(items: Vec<Result<String, Error>>, what: &str) -> Error {
    let errors = items.iter().filter(|i| i.is_err()).count();
    assert_eq!(errors, 1, "{what}: {items:?}");
    let last = items.into_iter().last().expect("items");
    failed(last, what)
}

/// An SSE answer carrying two chat deltas, `Hello` and ` world`.
fn two_chunks() -> Vec<u8> {
    let mut out = sse_head();
    out.extend(chunk(chat_chunk_event("Hello")));
    out.extend(chunk(chat_chunk_event(" world")));
    out
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn connection_reset_mid_stream() {
    let server = FaultServer::start(vec![vec![
        Step::Send(two_chunks()),
        Step::Pause(Duration::from_millis(50)),
        Step::Reset,
    ]]);
    let items = exercise("reset mid-stream", &[&server], on(&server), stream_items).await;
    assert_eq!(
        oks(&items),
        ["Hello", " world"],
        "the chunks before the reset"
    );
    let err = last_error(items, "reset mid-stream");
    assert!(
        matches!(err, Error::Stream(StreamError::ConnectionLost(_))),
        "{err:?}"
    );
    assert!(err.is_retryable(), "a lost connection is worth retrying");

    // The same reset in the middle of a plain JSON body.
    let server = FaultServer::start(vec![vec![
        Step::Send(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"id\":\"x\",".to_vec()),
        Step::Pause(Duration::from_millis(50)),
        Step::Reset,
    ]]);
    let result = chat_call("reset mid-body", &server, on(&server)).await;
    let err = failed(result, "reset mid-body");
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(
        server.requests().len(),
        1,
        "a body that broke is not re-sent"
    );
}

#[tokio::test]
async fn truncated_json_body() {
    let answer = chat_answer("Paris");
    let half = &answer[..answer.len() / 2];

    // Well-framed HTTP, but the JSON stops halfway.
    let server = FaultServer::start(vec![vec![Step::Send(json_ok(half))]]);
    let result = chat_call("cut JSON", &server, on(&server)).await;
    match failed(result, "cut JSON") {
        Error::Decode {
            target,
            message,
            body_excerpt,
        } => {
            assert!(target.contains("ChatCompletionOutput"), "{target}");
            assert!(message.contains("EOF"), "{message}");
            assert_eq!(body_excerpt, half);
        }
        other => panic!("cut JSON: expected Decode, got {other:?}"),
    }

    // The server announces the whole answer and hangs up halfway.
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        answer.len()
    );
    let server = FaultServer::start(vec![vec![
        Step::Send([head.as_bytes(), half.as_bytes()].concat()),
        Step::Close,
    ]]);
    let result = chat_call("short body", &server, on(&server)).await;
    let err = failed(result, "short body");
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn html_502_page() {
    let page = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
    let server = FaultServer::start(vec![vec![Step::Send(response(
        502,
        &[("content-type", "text/html"), ("x-request-id", "gw-7")],
        page,
    ))]]);
    let result = chat_call(
        "HTML 502",
        &server,
        on(&server).retry_policy(quick_retries(2)),
    )
    .await;
    let err = failed(result, "HTML 502");
    assert_eq!(
        server.requests().len(),
        3,
        "the first attempt and two retries"
    );
    let Error::Http(context) = &err else {
        panic!("expected Http, got {err:?}")
    };
    assert_eq!(context.status, 502);
    assert_eq!(context.request_id.as_deref(), Some("gw-7"));
    assert_eq!(context.server_message, None, "an HTML page is no message");
    assert!(context.body_excerpt.starts_with("<html>"), "{context:?}");
    let shown = err.to_string();
    assert!(shown.contains("502 Bad Gateway"), "{shown}");
    assert!(!shown.contains("<html>"), "the page is not dumped: {shown}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn rate_limited_with_retry_after_is_retried_after_that_wait() {
    let server = FaultServer::start(vec![
        vec![Step::Send(response(
            429,
            &[("retry-after", "1"), ("content-type", "application/json")],
            r#"{"error":"Rate limit reached"}"#,
        ))],
        vec![Step::Send(json_ok(chat_answer("Paris")))],
    ]);
    // The computed backoff is a few milliseconds: only the server's `Retry-After` makes the
    // client wait a second.
    let result = chat_call("429", &server, on(&server).retry_policy(quick_retries(3))).await;
    let answer = result.expect("the retry succeeds");
    assert_eq!(answer.choices[0].message.content.as_deref(), Some("Paris"));
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    let waited = seen[1].at - seen[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "Retry-After: 1 honoured, waited {waited:?}"
    );

    // A wait longer than the policy allows is not slept through: the caller gets the 429.
    let server = FaultServer::start(vec![vec![Step::Send(response(
        429,
        &[("retry-after", "3600")],
        r#"{"error":"Rate limit reached"}"#,
    ))]]);
    let result = chat_call(
        "429 for an hour",
        &server,
        on(&server).retry_policy(quick_retries(3)),
    )
    .await;
    match failed(result, "429 for an hour") {
        Error::RateLimited {
            retry_after,
            context,
        } => {
            assert_eq!(retry_after, Some(Duration::from_secs(3600)));
            assert_eq!(
                context.server_message.as_deref(),
                Some("Rate limit reached")
            );
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn model_loading_503_is_retried_within_the_budget() {
    let loading = || {
        Step::Send(response(
            503,
            &[("content-type", "application/json")],
            r#"{"error":"Model org/model is currently loading","estimated_time":20.0}"#,
        ))
    };
    let labels = r#"[{"label":"POSITIVE","score":0.99},{"label":"NEGATIVE","score":0.01}]"#;
    let server = FaultServer::start(vec![
        vec![loading()],
        vec![loading()],
        vec![Step::Send(json_ok(labels))],
    ]);
    let result = exercise(
        "loading, then ready",
        &[&server],
        on(&server).retry_policy(quick_retries(3)),
        async |c| c.text_classification("I like you").send().await,
    )
    .await;
    let out = result.expect("ready on the third attempt");
    assert_eq!(out[0].label, "POSITIVE");
    assert_eq!(server.requests().len(), 3);

    // Still loading when the retries are spent: the 503 with the server's message.
    let server = FaultServer::start(vec![vec![loading()]]);
    let result = exercise(
        "loading for ever",
        &[&server],
        on(&server).retry_policy(quick_retries(3)),
        async |c| c.text_classification("I like you").send().await,
    )
    .await;
    let err = failed(result, "loading for ever");
    assert_eq!(server.requests().len(), 4, "one attempt and three retries");
    assert_eq!(err.status(), Some(503));
    assert!(err.to_string().contains("currently loading"), "{err}");
}

#[tokio::test]
async fn headers_that_never_come_time_out() {
    let server = FaultServer::start(vec![vec![Step::Hold]]);
    let limit = Duration::from_millis(300);
    // The request timeout, for a call and for a stream (where it covers the wait for headers).
    let (sent, streamed) = exercise(
        "no headers",
        &[&server],
        on(&server).timeout(limit),
        async |c| {
            let sent = c.chat_completion(messages()).send().await;
            let streamed = c.chat_completion(messages()).stream().await.map(|_| ());
            (sent, streamed)
        },
    )
    .await;
    for (what, result) in [("send", sent.map(|_| ())), ("stream", streamed)] {
        match failed(result, what) {
            Error::Timeout { after, url } => {
                assert_eq!(after, limit, "{what}");
                assert!(url.ends_with("/v1/chat/completions"), "{url}");
            }
            other => panic!("{what}: expected Timeout, got {other:?}"),
        }
    }
    // The read timeout alone bounds the wait too.
    let server = FaultServer::start(vec![vec![Step::Hold]]);
    let result = chat_call(
        "no headers, read timeout",
        &server,
        on(&server).read_timeout(Some(limit)),
    )
    .await;
    match failed(result, "read timeout") {
        Error::Timeout { after, .. } => assert_eq!(after, limit),
        other => panic!("expected Timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn stream_that_stalls_after_some_chunks_hits_the_read_timeout() {
    let server = FaultServer::start(vec![vec![Step::Send(two_chunks()), Step::Hold]]);
    let started = Instant::now();
    let items = exercise(
        "stalled stream",
        &[&server],
        // No request timeout: a live stream may run for as long as it keeps sending.
        on(&server).read_timeout(Some(Duration::from_millis(300))),
        stream_items,
    )
    .await;
    assert_eq!(oks(&items), ["Hello", " world"]);
    let err = last_error(items, "stalled stream");
    assert!(
        matches!(err, Error::Stream(StreamError::Stalled(_))),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the stream ended only after the read timeout"
    );
}

const TOGETHER_KEY: &str = "tgp_faultSecret0123456789abcdef";
const VIDEO_MODEL: &str = "Wan-AI/Wan2.2-T2V-A14B";

/// A client sending Together calls (direct, with a Together key) to `server`.
fn together_on(server: &FaultServer) -> InferenceClientBuilder {
    InferenceClient::builder()
        .token(TOGETHER_KEY)
        .provider_url(Provider::Together, server.url())
        .model_mapping(VIDEO_MODEL, Provider::Together, VIDEO_MODEL)
        .retry_policy(RetryPolicy::disabled())
}

#[tokio::test]
async fn a_job_that_never_finishes_stops_polling_at_the_deadline() {
    let server = FaultServer::start(vec![
        vec![Step::Send(json_ok(r#"{"id":"job-42","status":"queued"}"#))],
        vec![Step::Send(json_ok(
            r#"{"id":"job-42","status":"in_progress"}"#,
        ))],
    ]);
    let timeout = Duration::from_secs(1);
    let interval = Duration::from_millis(50);
    let result = exercise(
        "endless job",
        &[&server],
        together_on(&server).timeout(timeout),
        async |c| {
            c.text_to_video("a cat surfing")
                .model(VIDEO_MODEL)
                .provider(Provider::Together)
                .poll_interval(interval)
                .send()
                .await
        },
    )
    .await;
    match failed(result, "endless job") {
        Error::JobTimeout {
            provider,
            job_id,
            after,
        } => {
            assert_eq!((provider.as_str(), job_id.as_str()), ("together", "job-42"));
            assert_eq!(after, timeout);
        }
        other => panic!("expected JobTimeout, got {other:?}"),
    }
    let seen = server.requests();
    let polls = seen.len() - 1;
    assert!(
        (5..=21).contains(&polls),
        "about one poll per interval until the deadline, got {polls}"
    );
    assert!(
        seen[1..]
            .iter()
            .all(|s| s.request.target == "/v2/videos/job-42")
    );
}

#[tokio::test]
async fn redirects_to_another_host_never_carry_the_token() {
    // An inference call redirected elsewhere: not followed, the other host sees nothing.
    let elsewhere = FaultServer::start(vec![vec![Step::Send(json_ok(chat_answer("Paris")))]]);
    let location = format!("{}/v1/chat/completions", elsewhere.url());
    let server = FaultServer::start(vec![vec![Step::Send(response(
        307,
        &[("location", location.as_str())],
        "",
    ))]]);
    let result = exercise(
        "redirected call",
        &[&server, &elsewhere],
        on(&server),
        send_chat,
    )
    .await;
    let err = failed(result, "redirected call");
    assert_eq!(err.status(), Some(307), "{err:?}");
    assert_eq!(
        elsewhere.requests().len(),
        0,
        "the other host was not contacted"
    );

    // A produced file behind a redirect to another host: followed, without any credential.
    let video = b"\x00\x00\x00\x18ftypmp42 fake video".to_vec();
    let cdn = FaultServer::start(vec![vec![Step::Send(response(
        200,
        &[("content-type", "video/mp4")],
        &video,
    ))]]);
    let cdn_location = format!("{}/signed/v.mp4", cdn.url());
    let files = FaultServer::start(vec![vec![Step::Send(response(
        302,
        &[("location", cdn_location.as_str())],
        "",
    ))]]);
    let done = json!({
        "id": "job-7",
        "status": "completed",
        "outputs": {"video_url": format!("{}/files/v.mp4", files.url())}
    });
    let api = FaultServer::start(vec![vec![Step::Send(json_ok(done.to_string()))]]);
    let result = exercise(
        "redirected download",
        &[&api, &files, &cdn],
        together_on(&api),
        async |c| {
            c.text_to_video("a cat surfing")
                .model(VIDEO_MODEL)
                .provider(Provider::Together)
                .send()
                .await
        },
    )
    .await;
    let blob = result.expect("the video");
    assert_eq!(blob.bytes().as_ref(), video.as_slice());
    let api_seen = api.requests();
    assert_eq!(
        api_seen[0].request.header("authorization"),
        Some(format!("Bearer {TOGETHER_KEY}").as_str()),
        "the key goes to its own host"
    );
    for (host, server) in [("file host", &files), ("CDN", &cdn)] {
        let seen = server.requests();
        assert_eq!(seen.len(), 1, "{host}");
        let request = &seen[0].request;
        assert_eq!(request.header("authorization"), None, "{host}");
        for (name, value) in &request.headers {
            assert!(!value.contains(SECRET_PART), "{host}: {name}: {value}");
        }
    }
}

#[tokio::test]
async fn an_oversized_body_is_refused_at_the_cap() {
    let cap = 1 << 20;
    // Announced: refused before reading.
    let server = FaultServer::start(vec![vec![
        Step::Send(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10000000000\r\n\r\n[0.0,"
                .to_vec(),
        ),
        Step::Hold,
    ]]);
    let result = exercise(
        "announced too large",
        &[&server],
        on(&server).max_response_bytes(cap),
        async |c| c.feature_extraction("hello").send().await,
    )
    .await;
    match failed(result, "announced too large") {
        Error::ResponseTooLarge {
            limit,
            declared,
            url,
        } => {
            assert_eq!(limit, cap);
            assert_eq!(declared, Some(10_000_000_000));
            assert!(url.starts_with(&server.url()), "{url}");
        }
        other => panic!("expected ResponseTooLarge, got {other:?}"),
    }

    // Not announced (chunked, endless): refused once past the cap.
    let mut head =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    head.extend(chunk("[0.0"));
    let server = FaultServer::start(vec![vec![
        Step::Send(head),
        Step::Flood(chunk(",0.0".repeat(16 * 1024))),
    ]]);
    let result = exercise(
        "endless body",
        &[&server],
        on(&server).max_response_bytes(cap),
        async |c| c.feature_extraction("hello").send().await,
    )
    .await;
    let err = failed(result, "endless body");
    assert!(
        matches!(err, Error::ResponseTooLarge { limit, declared: None, .. } if limit == cap),
        "{err:?}"
    );
    assert!(err.to_string().contains("1048576 bytes"), "{err}");

    // Control: an answer under the cap is read whole, even in many chunks.
    let mut body = Vec::new();
    body.extend(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    body.extend(chunk("[0.5"));
    for _ in 0..999 {
        body.extend(chunk(",0.5"));
    }
    body.extend(chunk("]"));
    body.extend(LAST_CHUNK);
    let server = FaultServer::start(vec![vec![Step::Send(body)]]);
    let result = exercise(
        "under the cap",
        &[&server],
        on(&server).max_response_bytes(cap),
        async |c| c.feature_extraction("hello").send().await,
    )
    .await;
    let vector = result.expect("under the cap");
    assert_eq!(vector.shape(), Some(vec![1000]));
}

#[tokio::test]
async fn invalid_utf8_in_a_stream() {
    let mut body = sse_head();
    // Invalid bytes inside a JSON string: replaced, the chunk still arrives.
    body.extend(chunk(
        [&b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"caf\xC3\"}}],\"created\":1,\"id\":\"x\",\"model\":\"m\",\"object\":\"chat.completion.chunk\"}\n\n"[..]].concat(),
    ));
    // A line whose field name is not UTF-8 is no field: ignored.
    body.extend(chunk(b"\xFF\xFE: junk\n\n"));
    body.extend(chunk(chat_chunk_event("ok")));
    // Invalid bytes where JSON syntax is expected: a decode error ends the stream.
    body.extend(chunk(b"data: {\xFF}\n\n"));
    body.extend(chunk(chat_chunk_event("never")));
    body.extend(LAST_CHUNK);
    let server = FaultServer::start(vec![vec![Step::Send(body)]]);
    let items = exercise("invalid UTF-8", &[&server], on(&server), stream_items).await;
    assert_eq!(oks(&items), ["caf\u{FFFD}", "ok"]);
    let err = last_error(items, "invalid UTF-8");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[tokio::test]
async fn an_error_event_mid_stream_ends_it_and_releases_the_connection() {
    let mut head = two_chunks();
    head.extend(chunk(
        "data: {\"error\":\"Model is overloaded\",\"error_type\":\"overloaded\"}\n\n",
    ));
    // The server would go on: the client must stop reading and hang up.
    let server = FaultServer::start(vec![vec![
        Step::Send(head),
        Step::Flood(chunk(chat_chunk_event("more"))),
    ]]);
    let baseline = alive_tasks();
    let client = on(&server).build().unwrap();
    let items = tokio::time::timeout(BOUND, stream_items(&client))
        .await
        .expect("bounded");
    assert_eq!(oks(&items), ["Hello", " world"]);
    match last_error(items, "error event") {
        err @ Error::Stream(StreamError::ServerError { .. }) => {
            let Error::Stream(StreamError::ServerError {
                message,
                error_type,
            }) = &err
            else {
                unreachable!()
            };
            assert_eq!(message, "Model is overloaded");
            assert_eq!(error_type.as_deref(), Some("overloaded"));
            assert!(err.is_retryable());
        }
        other => panic!("expected ServerError, got {other:?}"),
    }
    // With the client still alive: the error itself released the connection.
    server.assert_all_closed(CLEANUP, "error event").await;
    drop(client);
    assert_tasks_back_to(baseline, CLEANUP, "error event").await;
}

#[tokio::test]
async fn an_empty_200_body() {
    let server = FaultServer::start(vec![vec![Step::Send(json_ok(""))]]);
    let (chat, labels) = exercise("empty body", &[&server], on(&server), async |c| {
        let chat = c.chat_completion(messages()).send().await;
        let labels = c.text_classification("I like you").send().await;
        (chat, labels)
    })
    .await;
    for (what, err) in [
        ("chat", failed(chat, "chat")),
        ("text classification", failed(labels, "labels")),
    ] {
        match err {
            Error::Decode {
                message,
                body_excerpt,
                ..
            } => {
                assert!(message.contains("EOF"), "{what}: {message}");
                assert_eq!(body_excerpt, "", "{what}");
            }
            other => panic!("{what}: expected Decode, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn json_of_the_wrong_shape_for_the_task() {
    let server = FaultServer::start(vec![
        // A chat answer where labels were expected, labels where a chat answer was.
        vec![Step::Send(json_ok(chat_answer("Paris")))],
        vec![Step::Send(json_ok(r#"[{"label":"POSITIVE","score":0.9}]"#))],
        vec![Step::Send(json_ok(r#"{"embedding":"not numbers"}"#))],
    ]);
    let (labels, chat, vectors) = exercise("wrong shape", &[&server], on(&server), async |c| {
        (
            c.text_classification("I like you").send().await,
            c.chat_completion(messages()).send().await,
            c.feature_extraction("hello").send().await,
        )
    })
    .await;
    for (what, err, expected_type, excerpt) in [
        (
            "labels",
            failed(labels, "labels"),
            "TextClassificationOutput",
            "chat.completion",
        ),
        (
            "chat",
            failed(chat, "chat"),
            "ChatCompletionOutput",
            "POSITIVE",
        ),
        (
            "vectors",
            failed(vectors, "vectors"),
            "FeatureExtractionOutput",
            "not numbers",
        ),
    ] {
        match err {
            Error::Decode {
                target,
                body_excerpt,
                ..
            } => {
                assert!(target.contains(expected_type), "{what}: {target}");
                assert!(body_excerpt.contains(excerpt), "{what}: {body_excerpt}");
            }
            other => panic!("{what}: expected Decode, got {other:?}"),
        }
    }
}

/// An embeddings answer of `rows` vectors of `dim` values in the shortest `f32` spelling, as TEI
/// writes them.
fn embeddings_body(rows: usize, dim: usize) -> String {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let rows: Vec<String> = (0..rows)
        .map(|_| {
            let values: Vec<String> = (0..dim)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    format!("{}", ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) as f32)
                })
                .collect();
            format!("[{}]", values.join(","))
        })
        .collect();
    format!("[{}]", rows.join(","))
}

/// The head of a chunked JSON answer.
fn chunked_json_head() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
        .to_vec()
}

/// `body` as HTTP/1.1 chunks of uneven sizes, with pauses, so that the client receives it in
/// many pieces cut inside numbers.
fn uneven_chunks(body: &[u8]) -> Vec<Step> {
    let mut steps = vec![Step::Send(chunked_json_head())];
    let (mut start, mut k) = (0, 0);
    while start < body.len() {
        let size = [1, 7, 4093, 13, 65_537, 3][k % 6];
        let end = (start + size).min(body.len());
        steps.push(Step::Send(chunk(&body[start..end])));
        if k % 4 == 0 {
            steps.push(Step::Pause(Duration::from_millis(2)));
        }
        start = end;
        k += 1;
    }
    steps.push(Step::Send(LAST_CHUNK.to_vec()));
    steps
}

#[tokio::test]
async fn embeddings_arriving_in_uneven_chunks_decode_like_the_whole_body() {
    let body = embeddings_body(32, 384);
    let expected =
        hf_inference::types::feature_extraction::FeatureExtractionOutput::from_json_slice(
            body.as_bytes(),
        )
        .unwrap();
    let server = FaultServer::start(vec![uneven_chunks(body.as_bytes())]);
    let out = exercise("uneven embeddings", &[&server], on(&server), async |c| {
        c.feature_extraction("Today is a sunny day").send().await
    })
    .await
    .expect("uneven embeddings");
    assert_eq!(out.shape(), Some(vec![32, 384]));
    assert_eq!(out, expected);
}

#[tokio::test]
async fn embeddings_broken_mid_body_fail_with_the_whole_decoders_error_or_the_transport() {
    // Malformed in the middle (a `null` row), sent in pieces: serde_json's error, with the body.
    let good = embeddings_body(2, 64);
    let bad = format!("{},null]", &good[..good.len() - 1]);
    let server = FaultServer::start(vec![uneven_chunks(bad.as_bytes())]);
    let result = exercise("null row", &[&server], on(&server), async |c| {
        c.feature_extraction("x").send().await
    })
    .await;
    match failed(result, "null row") {
        Error::Decode {
            target,
            body_excerpt,
            ..
        } => {
            assert!(target.contains("FeatureExtractionOutput"), "{target}");
            assert!(
                bad.starts_with(body_excerpt.trim_end_matches('…')),
                "{body_excerpt}"
            );
        }
        other => panic!("null row: expected Decode, got {other:?}"),
    }

    // The connection drops halfway through the numbers: a transport error, not half a result.
    let body = embeddings_body(8, 256);
    let mut steps = uneven_chunks(&body.as_bytes()[..body.len() / 2]);
    steps.pop(); // no last chunk
    steps.push(Step::Reset);
    let server = FaultServer::start(vec![steps]);
    let result = exercise("cut embeddings", &[&server], on(&server), async |c| {
        c.feature_extraction("x").send().await
    })
    .await;
    let err = failed(result, "cut embeddings");
    assert!(matches!(err, Error::Transport(_)), "{err:?}");

    // Larger than the client's cap, without a length announced: refused once past the cap.
    let server = FaultServer::start(vec![uneven_chunks(body.as_bytes())]);
    let result = exercise(
        "capped embeddings",
        &[&server],
        on(&server).max_response_bytes(10_000),
        async |c| c.feature_extraction("x").send().await,
    )
    .await;
    match failed(result, "capped embeddings") {
        Error::ResponseTooLarge {
            limit, declared, ..
        } => {
            assert_eq!(limit, 10_000);
            assert_eq!(declared, None);
        }
        other => panic!("capped embeddings: expected ResponseTooLarge, got {other:?}"),
    }
}
