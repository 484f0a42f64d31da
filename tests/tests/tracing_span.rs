//! One span per request, with provider, task, model, status and attempt, and never a token or a
//! body in what is logged.

use hf_inference::InferenceClient;
use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference_tests::support::LogCapture;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const SECRET_PROMPT: &str = "my-private-prompt-text";
const TOKEN: &str = "hf_tracingTestToken0123456789abcdef";

#[tokio::test(flavor = "current_thread")]
async fn request_span_has_context_and_no_secrets() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 65536];
        let _ = socket.read(&mut buf).await;
        let body = r#"{"id":"c","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#;
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(response.as_bytes()).await.unwrap();
    });

    let capture = LogCapture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let client = InferenceClient::builder()
        .base_url(&base)
        .token(TOKEN)
        .http_client(reqwest::Client::builder().no_proxy().build().unwrap())
        .build()
        .unwrap();
    client
        .chat_completion(vec![ChatCompletionInputMessage::user(SECRET_PROMPT)])
        .model("my-model")
        .send()
        .await
        .unwrap();

    let log = capture.text();
    let span_lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("hf_inference.request") && l.contains("close"))
        .collect();
    assert_eq!(span_lines.len(), 1, "one request span:\n{log}");
    let line = span_lines[0];
    for field in [
        "provider=\"url\"",
        "task=\"chat-completion\"",
        "status=200",
        "attempt=1",
    ] {
        assert!(line.contains(field), "span lacks {field}: {line}");
    }
    assert!(!log.contains(&TOKEN[3..]), "a token was logged:\n{log}");
    assert!(!log.contains(SECRET_PROMPT), "a body was logged:\n{log}");
}
