//! The `hfi` binary and the blocking client against a real llama.cpp `llama-server` on loopback
//! (the tiny generated model, which answers every prompt with `Hello from the tiny test model`).
//! The async client's full set is `tests/tests/local_server.rs`; this file checks the same key
//! behaviours through the other two front ends. Servers: `hf_inference_tests::local_llm` (started
//! by `.ci/run`; without them these tests skip, except under `CI=true`, where they fail).

use std::process::{Command, Output, Stdio};

use hf_inference::Error;
use hf_inference::blocking::InferenceClient;
use hf_inference::blocking::prelude::*;
use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference_tests::local_llm::local_llm;
use serde_json::{Value, json};

const REPLY: &str = "Hello from the tiny test model";
/// `hfi`'s exit code for an error status from the server.
const EXIT_HTTP: i32 = 3;

macro_rules! servers {
    () => {
        match local_llm() {
            Some(servers) => servers,
            None => return,
        }
    };
}

/// `hfi` with no token from the machine (empty environment, `HF_HOME` pointing at nothing).
fn hfi(args: &[&str]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_hfi"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(
            "HF_HOME",
            std::env::temp_dir().join("hfi-local-server-no-hf-home"),
        )
        .env("NO_PROXY", "127.0.0.1,localhost")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run hfi");
    (
        status.code().expect("hfi exited normally"),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

#[test]
fn hfi_chat_streams_the_models_reply() {
    let servers = servers!();
    let (code, stdout, stderr) = hfi(&["chat", "--model", &servers.url, "Say hello."]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim_end(), REPLY);
}

/// `hfi text-generation` on the server's `/v1/completions` streams the completion (OpenAI
/// completion chunks) and prints it; `--format json` is the whole structured answer.
#[test]
fn hfi_text_generation_streams_the_completion() {
    let servers = servers!();
    let completions = format!("{}/completions", servers.url);
    let (code, stdout, stderr) = hfi(&["text-generation", "-m", &completions, "Say hello."]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, format!("{REPLY}\n"));
    let (code, stdout, stderr) = hfi(&[
        "text-generation",
        "-m",
        &completions,
        "--format",
        "json",
        "--param",
        "max_new_tokens=2",
        "Say hello.",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let answer: Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(answer["generated_text"], "Hello from");
    assert_eq!(answer["finish_reason"], "length");
}

#[test]
fn hfi_chat_json_answer_and_max_tokens_cut_off() {
    let servers = servers!();
    let (code, stdout, stderr) = hfi(&[
        "chat",
        "--model",
        &servers.url,
        "--no-stream",
        "--format",
        "json",
        "Say hello.",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let answer: Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(answer["choices"][0]["message"]["content"], REPLY);
    assert_eq!(answer["choices"][0]["finish_reason"], "stop");

    // Streamed as JSON: one chunk per line, the last choice cut by the token limit.
    let (code, stdout, stderr) = hfi(&[
        "chat",
        "--model",
        &servers.url,
        "--format",
        "json",
        "--max-tokens",
        "2",
        "Say hello.",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let chunks: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON chunk per line"))
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello from");
    let finish: Vec<_> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["finish_reason"].as_str())
        .collect();
    assert_eq!(finish, ["length"]);
}

#[test]
fn hfi_chat_with_required_tools_prints_the_tool_call() {
    let servers = servers!();
    let input = json!({
        "tools": [{"type": "function", "function": {
            "name": "get_weather",
            "parameters": {"type": "object",
                           "properties": {"city": {"type": "string"},
                                          "unit": {"type": "string", "enum": ["c", "f"]}},
                           "required": ["city", "unit"]}}}],
        "tool_choice": "required"
    })
    .to_string();
    let (code, stdout, stderr) = hfi(&[
        "chat",
        "--model",
        &servers.url,
        "--no-stream",
        "--format",
        "json",
        "--input-json",
        &input,
        "What is the weather in Paris?",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let answer: Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(answer["choices"][0]["finish_reason"], "tool_calls");
    let call = &answer["choices"][0]["message"]["tool_calls"][0]["function"];
    assert_eq!(call["name"], "get_weather");
    let arguments: Value =
        serde_json::from_str(call["arguments"].as_str().expect("arguments string"))
            .expect("arguments are JSON");
    assert_eq!(arguments, json!({"city": "lorem ipsum", "unit": "f"}));
}

#[test]
fn hfi_reports_the_servers_400_and_401_with_the_http_exit_code() {
    let servers = servers!();
    let long = "a ".repeat(3000);
    let (code, stdout, stderr) = hfi(&["chat", "--model", &servers.url, &long]);
    assert_eq!(code, EXIT_HTTP, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("400"), "{stderr}");
    assert!(
        stderr.contains("exceeds the available context size"),
        "{stderr}"
    );

    let (code, _, stderr) = hfi(&["chat", "--model", &servers.keyed_url, "Say hello."]);
    assert_eq!(code, EXIT_HTTP, "{stderr}");
    assert!(stderr.contains("401"), "{stderr}");
    assert!(stderr.contains("Invalid API Key"), "{stderr}");

    let (code, stdout, stderr) = hfi(&[
        "chat",
        "--model",
        &servers.keyed_url,
        "--token",
        &servers.api_key,
        "Say hello.",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim_end(), REPLY);
    assert!(
        !stdout.contains(&servers.api_key) && !stderr.contains(&servers.api_key),
        "the key was printed"
    );
}

fn blocking_client(url: &str) -> InferenceClient {
    InferenceClient::from_builder(hf_inference::InferenceClient::builder().model(url))
        .expect("a URL model and no token is a valid configuration")
}

fn ask() -> Vec<ChatCompletionInputMessage> {
    vec![ChatCompletionInputMessage::user("Say hello.")]
}

#[test]
fn blocking_chat_send_and_stream() {
    let servers = servers!();
    let client = blocking_client(&servers.url);
    let out = client
        .chat_completion(ask())
        .send_blocking()
        .expect("chat completion");
    assert_eq!(out.choices[0].message.content.as_deref(), Some(REPLY));
    assert_eq!(out.choices[0].finish_reason, "stop");

    let mut text = String::new();
    let mut finish = Vec::new();
    for chunk in client
        .chat_completion(ask())
        .max_tokens(3)
        .stream_blocking()
        .expect("stream starts")
    {
        let chunk = chunk.expect("every chunk decodes");
        for choice in chunk.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or_default());
            finish.extend(choice.finish_reason);
        }
    }
    assert_eq!(text, "Hello from the");
    assert_eq!(finish, ["length"]);
}

#[test]
fn blocking_text_generation_and_embeddings_on_the_openai_routes() {
    let servers = servers!();
    let client = blocking_client(&servers.url);
    let out = client
        .text_generation("Once upon a time")
        .model(format!("{}/completions", servers.url))
        .max_new_tokens(4)
        .send_blocking()
        .expect("text generation");
    assert_eq!(out.generated_text, "Hello from the tiny");

    let vectors = client
        .feature_extraction("The quick brown fox")
        .model(format!("{}/embeddings", servers.url))
        .send_blocking()
        .expect("embedding")
        .into_vectors()
        .expect("vectors");
    assert_eq!(vectors.len(), 1);
    assert_eq!(vectors[0].len(), 64);
}

#[test]
fn blocking_errors_are_typed_with_the_servers_message() {
    let servers = servers!();
    let err = blocking_client(&servers.url)
        .chat_completion(vec![ChatCompletionInputMessage::user("a ".repeat(3000))])
        .send_blocking()
        .expect_err("too long");
    let Error::Http(context) = &err else {
        panic!("expected Error::Http, got {err:?}");
    };
    assert_eq!(context.status, 400);
    assert!(
        context
            .server_message
            .as_deref()
            .is_some_and(|m| m.contains("exceeds the available context size")),
        "{context:?}"
    );

    let err = blocking_client(&servers.keyed_url)
        .chat_completion(ask())
        .send_blocking()
        .expect_err("no key");
    let Error::Unauthorized(context) = &err else {
        panic!("expected Error::Unauthorized, got {err:?}");
    };
    assert_eq!(context.status, 401);
    assert_eq!(context.server_message.as_deref(), Some("Invalid API Key"));
}
