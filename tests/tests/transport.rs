//! The transport as a user sees it: retries on transient statuses (and only those), the error
//! context of a failed call, timeouts, response metadata, and the token staying out of errors.
//!
//! A scripted HTTP/1.1 server on loopback answers each request with the next canned response.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hf_inference::http::retry::RetryPolicy;
use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference::{Error, InferenceClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const OK_CHAT: &str = r#"{"id":"c1","object":"chat.completion","created":1,"model":"m","system_fingerprint":null,"choices":[{"index":0,"message":{"role":"assistant","content":"Paris"},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}"#;

struct Canned {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static str,
    delay: Duration,
}

fn canned(status: u16, headers: &[(&'static str, &'static str)], body: &'static str) -> Canned {
    Canned {
        status,
        headers: headers.to_vec(),
        body,
        delay: Duration::ZERO,
    }
}

/// Starts the server; returns its base URL and the list of request heads it received.
async fn serve(script: Vec<Canned>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut script = script.into_iter();
        while let Ok((mut socket, _)) = listener.accept().await {
            let Some(answer) = script.next() else { break };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then the body by content-length.
            let head_end = loop {
                let n = socket.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break Some(pos + 4);
                }
            };
            let Some(head_end) = head_end else { continue };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < head_end + length {
                let n = socket.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            log.lock().unwrap().push(head);
            tokio::time::sleep(answer.delay).await;
            let mut response = format!(
                "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                answer.status,
                answer.body.len()
            );
            for (k, v) in &answer.headers {
                response.push_str(&format!("{k}: {v}\r\n"));
            }
            response.push_str("\r\n");
            response.push_str(answer.body);
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    (format!("http://{addr}"), seen)
}

fn client(base: &str, retry: RetryPolicy) -> InferenceClient {
    InferenceClient::builder()
        .base_url(base)
        .token("hf_transportTestToken0123456789")
        .retry_policy(retry)
        .http_client(reqwest::Client::builder().no_proxy().build().unwrap())
        .build()
        .unwrap()
}

fn fast_retries(n: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(n)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

fn hello() -> Vec<ChatCompletionInputMessage> {
    vec![ChatCompletionInputMessage::user("Capital of France?")]
}

#[tokio::test]
async fn transient_503_is_retried_then_succeeds() {
    let (base, seen) = serve(vec![
        canned(
            503,
            &[("retry-after", "0")],
            r#"{"error":"Model is loading"}"#,
        ),
        canned(
            200,
            &[
                ("content-type", "application/json"),
                ("x-request-id", "req-42"),
            ],
            OK_CHAT,
        ),
    ])
    .await;
    let out = client(&base, fast_retries(3))
        .chat_completion(hello())
        .send_with_metadata()
        .await
        .unwrap();
    assert_eq!(out.choices[0].message.content.as_deref(), Some("Paris"));
    assert_eq!(out.meta.request_id.as_deref(), Some("req-42"));
    assert_eq!(seen.lock().unwrap().len(), 2, "one retry after the 503");
}

#[tokio::test]
async fn rate_limit_gives_up_after_max_retries_with_context() {
    let body = r#"{"error":{"message":"Too many requests","type":"rate_limit"}}"#;
    let (base, seen) = serve(vec![
        canned(429, &[("retry-after", "0")], body),
        canned(429, &[("retry-after", "0")], body),
        canned(429, &[("retry-after", "0"), ("x-request-id", "rl-3")], body),
    ])
    .await;
    let err = client(&base, fast_retries(2))
        .chat_completion(hello())
        .send()
        .await
        .unwrap_err();
    assert_eq!(seen.lock().unwrap().len(), 3, "initial attempt + 2 retries");
    match &err {
        Error::RateLimited { context, .. } => {
            assert_eq!(context.status, 429);
            assert_eq!(context.request_id.as_deref(), Some("rl-3"));
            assert_eq!(context.server_message.as_deref(), Some("Too many requests"));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[tokio::test]
async fn client_errors_are_not_retried_and_carry_the_server_message() {
    let (base, seen) = serve(vec![canned(
        422,
        &[("content-type", "application/json"), ("x-request-id", "abc")],
        r#"{"error":"Input validation error: `max_tokens` must be strictly positive","error_type":"validation"}"#,
    )])
    .await;
    let err = client(&base, fast_retries(3))
        .chat_completion(hello())
        .max_tokens(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(seen.lock().unwrap().len(), 1, "422 is not retried");
    assert_eq!(err.status(), Some(422));
    assert_eq!(err.request_id(), Some("abc"));
    let text = err.to_string();
    assert!(
        text.contains("max_tokens` must be strictly positive"),
        "{text}"
    );
    assert!(
        text.contains("/v1/chat/completions"),
        "the URL is in the message: {text}"
    );
    assert!(
        !text.contains("transportTestToken"),
        "no token in errors: {text}"
    );
    assert!(!format!("{err:?}").contains("transportTestToken"));
}

#[tokio::test]
async fn retries_can_be_switched_off() {
    let (base, seen) = serve(vec![
        canned(503, &[], "upstream unavailable"),
        canned(200, &[], OK_CHAT),
    ])
    .await;
    let err = client(&base, RetryPolicy::disabled())
        .chat_completion(hello())
        .send()
        .await
        .unwrap_err();
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(err.status(), Some(503));
}

#[tokio::test]
async fn unauthorized_is_its_own_variant() {
    let (base, _) = serve(vec![canned(
        401,
        &[("content-type", "application/json")],
        r#"{"error":"Invalid credentials in Authorization header"}"#,
    )])
    .await;
    let err = client(&base, RetryPolicy::disabled())
        .chat_completion(hello())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
    assert!(err.to_string().contains("Invalid credentials"));
}

#[tokio::test]
async fn slow_server_times_out() {
    let mut slow = canned(200, &[], OK_CHAT);
    slow.delay = Duration::from_secs(5);
    let (base, _) = serve(vec![slow]).await;
    let client = InferenceClient::builder()
        .base_url(&base)
        .timeout(Duration::from_millis(200))
        .retry_policy(RetryPolicy::disabled())
        .http_client(reqwest::Client::builder().no_proxy().build().unwrap())
        .build()
        .unwrap();
    let err = client.chat_completion(hello()).send().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn undecodable_success_is_a_decode_error_with_excerpt() {
    let (base, _) = serve(vec![canned(200, &[], r#"{"unexpected":"shape"}"#)]).await;
    let err = client(&base, RetryPolicy::disabled())
        .chat_completion(hello())
        .send()
        .await
        .unwrap_err();
    match err {
        Error::Decode {
            target,
            body_excerpt,
            ..
        } => {
            assert!(target.contains("ChatCompletionOutput"), "{target}");
            assert!(body_excerpt.contains("unexpected"));
        }
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[tokio::test]
async fn user_headers_bill_to_and_auth_are_sent() {
    let (base, seen) = serve(vec![canned(200, &[], OK_CHAT)]).await;
    let client = InferenceClient::builder()
        .base_url(&base)
        .token("hf_transportTestToken0123456789")
        .bill_to("my-org")
        .header("x-custom", "1")
        .http_client(reqwest::Client::builder().no_proxy().build().unwrap())
        .build()
        .unwrap();
    client.chat_completion(hello()).send().await.unwrap();
    let head = seen.lock().unwrap()[0].to_ascii_lowercase();
    assert!(head.starts_with("post /v1/chat/completions "), "{head}");
    assert!(head.contains("x-hf-bill-to: my-org"));
    assert!(head.contains("x-custom: 1"));
    assert!(head.contains("authorization: bearer hf_transporttesttoken0123456789"));
    assert!(head.contains("user-agent: hf-inference-rust/"));
}

#[tokio::test]
async fn credentials_never_follow_a_redirect_to_another_host() {
    let (other, other_seen) = serve(vec![canned(200, &[], OK_CHAT)]).await;
    let location: &'static str = Box::leak(format!("{other}/v1/chat/completions").into_boxed_str());
    let (base, seen) = serve(vec![canned(307, &[("location", location)], "")]).await;
    let client = InferenceClient::builder()
        .base_url(&base)
        .token("hf_transportTestToken0123456789")
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    let err = client.chat_completion(hello()).send().await.unwrap_err();
    assert_eq!(err.status(), Some(307), "{err:?}");
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert!(
        other_seen.lock().unwrap().is_empty(),
        "the other host must not be contacted with our credentials"
    );
}

/// A Hub answer that maps one model to Together for chat.
const MAPPING: &str = r#"{"_id":"x","id":"org/model","inferenceProviderMapping":{"unknown-new-provider":{"status":"live","providerId":"zzz","task":"conversational"},"together":{"status":"live","providerId":"org/Model-Turbo","task":"conversational"}}}"#;

#[tokio::test]
async fn hub_mapping_is_fetched_once_per_model_under_concurrency() {
    // One canned answer only: a second lookup would find the server gone and fail.
    let (hub, seen) = serve(vec![canned(
        200,
        &[("content-type", "application/json")],
        MAPPING,
    )])
    .await;
    let client = InferenceClient::builder()
        .token("hf_transportTestToken0123456789")
        .hub_url(&hub)
        .http_client(reqwest::Client::builder().no_proxy().build().unwrap())
        .build()
        .unwrap();
    let previews = futures_util::future::join_all((0..16).map(|_| {
        let client = client.clone();
        async move {
            client
                .chat_completion(hello())
                .model("org/model")
                .provider(hf_inference::Provider::Together)
                .preview()
                .await
        }
    }))
    .await;
    for preview in previews {
        let preview = preview.unwrap();
        assert_eq!(
            preview.body_json().unwrap()["model"],
            "org/Model-Turbo",
            "the provider id from the mapping; the unknown provider is skipped"
        );
    }
    let heads = seen.lock().unwrap().clone();
    assert_eq!(heads.len(), 1, "one Hub lookup for 16 concurrent calls");
    assert!(
        heads[0].starts_with("GET /api/models/org/model?expand=inferenceProviderMapping "),
        "{}",
        heads[0]
    );
}

#[tokio::test]
async fn auto_takes_the_first_mapped_provider_that_serves_the_task() {
    // The user's first provider maps this model for another task (and an unknown provider
    // comes next): auto must take together, the first entry that serves embeddings.
    let mapping = r#"{"inferenceProviderMapping":{"nebius":{"status":"live","providerId":"neb/x","task":"text-to-image"},"some-future-provider":{"status":"live","providerId":"f/x","task":"feature-extraction"},"together":{"status":"live","providerId":"BAAI/bge-base-en-v1.5","task":"feature-extraction"}}}"#;
    let mapping: &'static str = Box::leak(mapping.to_owned().into_boxed_str());
    let (hub, _) = serve(vec![canned(200, &[], mapping)]).await;
    let client = InferenceClient::builder()
        .token("hf_transportTestToken0123456789")
        .hub_url(&hub)
        .http_client(reqwest::Client::builder().no_proxy().build().unwrap())
        .build()
        .unwrap();
    let preview = client
        .feature_extraction("hello")
        .model("BAAI/bge-base-en-v1.5")
        .preview()
        .await
        .unwrap();
    assert_eq!(
        preview.url,
        "https://router.huggingface.co/together/v1/embeddings"
    );
    assert_eq!(
        preview.body_json().unwrap()["model"],
        "BAAI/bge-base-en-v1.5"
    );
}

#[tokio::test]
async fn fal_lora_adapter_from_the_hub_mapping_is_sent_as_loras() {
    let mapping = r#"{"inferenceProviderMapping":{"fal-ai":{"status":"live","providerId":"fal-ai/flux-lora","task":"text-to-image","adapter":"lora","adapterWeightsPath":"ghibli.safetensors"}}}"#;
    let mapping: &'static str = Box::leak(mapping.to_owned().into_boxed_str());
    let (hub, _) = serve(vec![canned(200, &[], mapping)]).await;
    let client = InferenceClient::builder()
        .token("hf_transportTestToken0123456789")
        .hub_url(&hub)
        .http_client(reqwest::Client::builder().no_proxy().build().unwrap())
        .build()
        .unwrap();
    let preview = client
        .text_to_image("a whale in the sky")
        .model("openfree/ghibli-lora")
        .provider(hf_inference::Provider::FalAi)
        .preview()
        .await
        .unwrap();
    let body = preview.body_json().unwrap();
    assert_eq!(
        body["loras"],
        serde_json::json!([{
            "path": format!("{hub}/openfree/ghibli-lora/resolve/main/ghibli.safetensors"),
            "scale": 1
        }]),
        "the weights come from the Hub endpoint the client uses (HF_ENDPOINT)"
    );
    assert_eq!(
        preview.url,
        "https://router.huggingface.co/fal-ai/fal-ai/flux-lora"
    );
}
