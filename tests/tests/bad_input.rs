//! Bad input fails with a clear, typed error before any network traffic.
//!
//! Every URL a client could call (Hub, router, every provider host, the base URL) points at a
//! loopback listener that counts connections; each test asserts it saw none. The first test
//! shows the listener does see a call that is really made, so the "none" is meaningful.
//!
//! Each bad call is tried through all three entry points (`preview`, `send`, `stream`), which
//! must fail the same way.

use hf_inference::providers::UnknownProvider;
use hf_inference::tasks::chat_completion::ChatCompletionRequest;
use hf_inference::tasks::text_generation::TextGenerationRequest;
use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference::{Error, InferenceClientBuilder, Provider, ProviderChoice, Task};
use hf_inference_tests::support::ConnectionCounter;

const HF_TOKEN: &str = "hf_badInputSecret0123456789abcdef";
const PROVIDER_KEY: &str = "pk-badInputSecret0123456789abcdef";
const HUB_MODEL: &str = "meta-llama/Llama-3.3-70B-Instruct";

/// A builder whose every endpoint is the counter ([`ConnectionCounter::builder`]).
fn builder(counter: &ConnectionCounter) -> InferenceClientBuilder {
    counter.builder()
}

fn messages() -> Vec<ChatCompletionInputMessage> {
    vec![
        ChatCompletionInputMessage::system("Answer in one sentence."),
        ChatCompletionInputMessage::user("What is the capital of France?"),
    ]
}

/// The error of a chat call through `preview`, `send` and `stream`, which must agree.
async fn chat_error(request: ChatCompletionRequest<'_>) -> Error {
    let previewed = request.clone().preview().await.expect_err("preview fails");
    let sent = request.clone().send().await.expect_err("send fails");
    let streamed = match request.stream().await {
        Ok(_) => panic!("stream should fail: {previewed}"),
        Err(e) => e,
    };
    assert_eq!(previewed.to_string(), sent.to_string());
    assert_eq!(previewed.to_string(), streamed.to_string());
    no_secret(&sent);
    sent
}

/// The error of a text-generation call through `preview`, `send` and `stream`.
async fn text_generation_error(request: TextGenerationRequest<'_>) -> Error {
    let previewed = request.clone().preview().await.expect_err("preview fails");
    let sent = request.clone().send().await.expect_err("send fails");
    let streamed = match request.stream().await {
        Ok(_) => panic!("stream should fail: {previewed}"),
        Err(e) => e,
    };
    assert_eq!(previewed.to_string(), sent.to_string());
    assert_eq!(previewed.to_string(), streamed.to_string());
    no_secret(&sent);
    sent
}

fn no_secret(error: &Error) {
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains("InputSecret"), "token leaked: {shown}");
    }
}

/// Control: the counter does see a call that really goes out, so the zero counts below mean
/// something.
#[tokio::test]
async fn the_counter_sees_a_real_call() {
    let counter = ConnectionCounter::start();
    let client = builder(&counter)
        .token(HF_TOKEN)
        .base_url(counter.url())
        .build()
        .unwrap();
    // The listener hangs up without answering: the call fails, after connecting.
    let result = client.chat_completion(messages()).send().await;
    assert!(result.is_err());
    assert_eq!(counter.connections(), 1);
}

#[tokio::test]
async fn empty_messages() {
    let counter = ConnectionCounter::start();
    let client = builder(&counter).token(HF_TOKEN).build().unwrap();
    for provider in [
        ProviderChoice::Provider(Provider::Together),
        ProviderChoice::Provider(Provider::HfInference),
        ProviderChoice::Auto,
    ] {
        let err = chat_error(
            client
                .chat_completion(Vec::new())
                .model(HUB_MODEL)
                .provider(provider),
        )
        .await;
        match &err {
            Error::InvalidInput { field, message } => {
                assert_eq!(field, "messages", "{provider}");
                assert!(message.contains("at least one message"), "{message}");
            }
            other => panic!("{provider}: expected InvalidInput, got {other:?}"),
        }
        assert!(err.to_string().contains("`messages`"), "{err}");
    }
    // A URL model too: the local server is not called.
    let local = builder(&counter).base_url(counter.url()).build().unwrap();
    let err = chat_error(local.chat_completion(Vec::new())).await;
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "messages"),
        "{err:?}"
    );
    assert_eq!(counter.connections(), 0);
}

#[test]
fn unknown_provider_id() {
    let err: UnknownProvider = "nope"
        .parse::<ProviderChoice>()
        .expect_err("`nope` is no provider");
    assert_eq!(err, UnknownProvider("nope".to_owned()));
    let message = err.to_string();
    assert!(message.starts_with("unknown provider `nope`"), "{message}");
    assert!(message.contains("known providers:"), "{message}");
    for provider in Provider::ALL {
        assert!(
            message.contains(provider.as_str()),
            "`{provider}` missing from: {message}"
        );
    }
    // The ids are the Hub's, exactly: no case folding, no display names.
    for near_miss in ["Together", "fal_ai", "fireworks", "HF-Inference", ""] {
        assert!(
            near_miss.parse::<ProviderChoice>().is_err(),
            "{near_miss:?} should not parse"
        );
    }
    // Controls: the real ids and `auto` parse.
    assert_eq!(
        "auto".parse::<ProviderChoice>().unwrap(),
        ProviderChoice::Auto
    );
    for provider in Provider::ALL {
        assert_eq!(
            provider.as_str().parse::<ProviderChoice>().unwrap(),
            ProviderChoice::Provider(*provider)
        );
    }
}

#[tokio::test]
async fn url_model_with_an_explicit_provider() {
    let counter = ConnectionCounter::start();
    let endpoint = format!("{}/v1", counter.url());
    // The client's base URL with a call's provider.
    let client = builder(&counter)
        .token(HF_TOKEN)
        .base_url(&endpoint)
        .build()
        .unwrap();
    let err = chat_error(
        client
            .chat_completion(messages())
            .provider(Provider::Together),
    )
    .await;
    match &err {
        Error::InvalidInput { field, message } => {
            assert_eq!(field, "provider");
            assert!(message.contains("URL"), "{message}");
            assert!(message.contains("`together`"), "{message}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    // A call's URL model with the client's provider, for text generation.
    let client = builder(&counter)
        .token(HF_TOKEN)
        .provider(Provider::Groq)
        .build()
        .unwrap();
    let err =
        text_generation_error(client.text_generation("Once upon a time").model(&endpoint)).await;
    match &err {
        Error::InvalidInput { field, message } => {
            assert_eq!(field, "provider");
            assert!(message.contains("`groq`"), "{message}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert_eq!(counter.connections(), 0);
}

#[tokio::test]
async fn missing_token() {
    let counter = ConnectionCounter::start();
    let client = builder(&counter)
        .model_mapping(
            HUB_MODEL,
            Provider::Together,
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        )
        .build()
        .unwrap();
    let err = chat_error(
        client
            .chat_completion(messages())
            .model(HUB_MODEL)
            .provider(Provider::Together),
    )
    .await;
    assert!(
        matches!(&err, Error::MissingToken { provider } if provider == "together"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("`together`"), "{message}");
    assert!(message.contains("hf_"), "{message}");
    assert!(message.contains("API key"), "{message}");

    let err = text_generation_error(
        client
            .text_generation("Hello")
            .model(HUB_MODEL)
            .provider(Provider::Together),
    )
    .await;
    assert!(
        matches!(&err, Error::MissingToken { provider } if provider == "together"),
        "{err:?}"
    );
    // The chat auto-router needs a Hugging Face token too.
    let err = chat_error(client.chat_completion(messages()).model(HUB_MODEL)).await;
    assert!(
        matches!(&err, Error::MissingToken { provider } if provider == "auto"),
        "{err:?}"
    );
    assert_eq!(counter.connections(), 0);
}

#[tokio::test]
async fn provider_that_does_not_serve_the_task() {
    let counter = ConnectionCounter::start();
    let client = builder(&counter).token(HF_TOKEN).build().unwrap();
    let err = text_generation_error(
        client
            .text_generation("Once upon a time")
            .model(HUB_MODEL)
            .provider(Provider::Groq),
    )
    .await;
    let expected: Vec<String> = Task::TextGeneration
        .providers()
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    match &err {
        Error::ProviderNotSupported {
            provider,
            task,
            supported,
        } => {
            assert_eq!(provider, "groq");
            assert_eq!(task, "text-generation");
            assert_eq!(supported, &expected);
        }
        other => panic!("expected ProviderNotSupported, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.starts_with("provider `groq` does not support task `text-generation`"),
        "{message}"
    );
    for id in &expected {
        assert!(
            message.contains(id.as_str()),
            "`{id}` missing from: {message}"
        );
    }

    // Chat on a provider without chat: the list is the chat providers.
    let err = chat_error(
        client
            .chat_completion(messages())
            .model(HUB_MODEL)
            .provider(Provider::FalAi),
    )
    .await;
    match &err {
        Error::ProviderNotSupported {
            provider,
            task,
            supported,
        } => {
            assert_eq!(provider, "fal-ai");
            assert_eq!(task, "chat-completion");
            let chat: Vec<&str> = Task::ChatCompletion
                .providers()
                .iter()
                .map(|p| p.as_str())
                .collect();
            assert_eq!(supported, &chat);
        }
        other => panic!("expected ProviderNotSupported, got {other:?}"),
    }
    assert_eq!(counter.connections(), 0);
}

#[tokio::test]
async fn no_model_at_all() {
    let counter = ConnectionCounter::start();
    let client = builder(&counter).token(HF_TOKEN).build().unwrap();
    // hf-inference falls back to the Hub's recommended model (`GET /api/tasks`, §2.4; see
    // hf_inference_routing.rs); the others need a model.
    for provider in [
        ProviderChoice::Auto,
        ProviderChoice::Provider(Provider::Together),
    ] {
        let err = chat_error(client.chat_completion(messages()).provider(provider)).await;
        match &err {
            Error::InvalidInput { field, message } => {
                assert_eq!(field, "model", "{provider}");
                assert!(message.contains("`chat-completion`"), "{message}");
                assert!(message.contains(".model("), "{message}");
            }
            other => panic!("{provider}: expected InvalidInput, got {other:?}"),
        }
        let err = text_generation_error(client.text_generation("Hello").provider(provider)).await;
        match &err {
            Error::InvalidInput { field, message } => {
                assert_eq!(field, "model", "{provider}");
                assert!(message.contains("`text-generation`"), "{message}");
            }
            other => panic!("{provider}: expected InvalidInput, got {other:?}"),
        }
    }
    // A blank model id is no model either.
    let err = chat_error(
        client
            .chat_completion(messages())
            .model("  ")
            .provider(Provider::Together),
    )
    .await;
    assert!(
        matches!(&err, Error::InvalidInput { field, message } if field == "model" && message.contains("empty")),
        "{err:?}"
    );
    assert_eq!(counter.connections(), 0);
}

#[tokio::test]
async fn openai_with_a_hugging_face_token() {
    let counter = ConnectionCounter::start();
    let client = builder(&counter).token(HF_TOKEN).build().unwrap();
    let err = chat_error(
        client
            .chat_completion(messages())
            .model("gpt-4o-mini")
            .provider(Provider::Openai),
    )
    .await;
    match &err {
        Error::InvalidInput { field, message } => {
            assert_eq!(field, "token");
            assert!(message.contains("`openai`"), "{message}");
            assert!(
                message.contains("not available through the Hugging Face router"),
                "{message}"
            );
            assert!(message.contains("API key"), "{message}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    // Control: with an OpenAI key the same call is valid (previewed only: nothing is sent).
    let direct = builder(&counter).token(PROVIDER_KEY).build().unwrap();
    let preview = direct
        .chat_completion(messages())
        .model("gpt-4o-mini")
        .provider(Provider::Openai)
        .preview()
        .await
        .expect("a provider key is fine");
    assert_eq!(
        preview.url,
        format!("{}/v1/chat/completions", counter.url())
    );
    assert_eq!(counter.connections(), 0);
}

#[tokio::test]
async fn a_task_no_provider_serves_fails_before_the_hub_lookup() {
    let counter = hf_inference_tests::support::ConnectionCounter::start();
    let client = hf_inference::InferenceClient::builder()
        .token("hf_badInputToken0123456789abcdef")
        .hub_url(counter.url())
        .router_url(counter.url())
        .build()
        .unwrap();
    let table = hf_inference::types::tabular::TabularData::new().column("x", ["1"]);
    let err = client
        .tabular_regression(table)
        .model("org/model")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, hf_inference::Error::ProviderNotSupported { supported, .. } if supported.is_empty()),
        "{err:?}"
    );
    assert!(err.to_string().contains("no provider supports it"), "{err}");
    assert_eq!(counter.connections(), 0, "nothing was sent");
}
