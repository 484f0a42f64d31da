//! End-to-end tests of the `hfi` binary and of the blocking client, against the loopback replay
//! server of the workspace tests (`tests/src/replay.rs`) serving real recorded traffic
//! (`../shared/conformance`).
//!
//! `hfi` runs as a child process with a clean environment: only the variables the test sets
//! (the SDK's redirections, `HF_TOKEN`, …), so the behaviour seen is the one a user gets from
//! the same variables.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use hf_inference::Provider;
use hf_inference::blocking::prelude::*;
use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference_tests::replay::{HUB_HOST, RecordedRequest, ReplayServer};
use hf_inference_tests::support::{ROUTER_HOST, host_of};
use hf_inference_tests::tapes::{Tape, tapes_dir};
use serde_json::{Value, json};

const HF_TOKEN: &str = "hf_cliSecretToken0123456789abcdefgh";
const PROVIDER_KEY: &str = "pk-cliSecretKey0123456789abcdefgh";
/// A fragment of both credentials: never printed.
const SECRET_PART: &str = "cliSecret";

// ---------------------------------------------------------------------------------------------
// Harness

fn tape(name: &str) -> Tape {
    let matches: Vec<PathBuf> = std::fs::read_dir(tapes_dir())
        .expect("the conformance tapes (../shared/conformance)")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(name))
        })
        .collect();
    let [path] = matches.as_slice() else {
        panic!("expected one tape named {name}*, found {matches:?}");
    };
    Tape::load(path).expect("tape")
}

/// `hfi` with only the environment a test gives it, pointed at the replay server's router and
/// Hub listeners.
fn hfi(server: &ReplayServer) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hfi"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        // No token file of the machine: HF_HOME points at nothing.
        .env("HF_HOME", std::env::temp_dir().join("hfi-tests-no-hf-home"))
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("HF_ENDPOINT", server.url_for_host(HUB_HOST))
        .env("HF_INFERENCE_ROUTER_URL", server.url_for_host(ROUTER_HOST))
        .stdin(Stdio::null());
    command
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(command: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run hfi");
    let run = Run {
        code: status.code().expect("hfi exited normally"),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(SECRET_PART) && !run.stderr.contains(SECRET_PART),
        "a credential was printed:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    run
}

/// The replay server for one tape, with the tape's provider mapping on the Hub listener.
fn server_for(tape: &Tape) -> ReplayServer {
    let server = ReplayServer::start([tape]).expect("replay server");
    server.add_provider_mappings([tape]);
    server
}

/// A replay server with no tape: whatever reaches it is recorded, and answered with an error.
fn empty_server() -> ReplayServer {
    ReplayServer::start(Vec::<Tape>::new()).expect("replay server")
}

/// The recorded Together chat stream, called directly (the provider key, Together's host on
/// the replay server): the server and the `hfi` command with that environment.
fn together_chat() -> (Tape, ReplayServer, Command) {
    let tape = tape("together__chat-completion__0115ba6e5ac0");
    let server = server_for(&tape);
    let together = server.url_for_host(&host_of("https://api.together.xyz"));
    let mut command = hfi(&server);
    command
        .env("HF_INFERENCE_PROVIDER_URLS", format!("together={together}"))
        .env("HF_TOKEN", PROVIDER_KEY);
    (tape, server, command)
}

/// The body of a `--dry-run`'s curl command (its `--data-raw`), as JSON.
fn dry_run_body(stdout: &str) -> Value {
    let body = stdout
        .split("--data-raw '")
        .nth(1)
        .and_then(|b| b.trim_end().strip_suffix('\''))
        .unwrap_or_else(|| panic!("no --data-raw body in {stdout}"));
    serde_json::from_str(body).expect("JSON body")
}

/// Runs `hfi ARGS` (with a token) against a server that records everything: a usage error
/// (exit 2) whose message has each of `expected`, and nothing sent anywhere.
fn assert_usage_error(args: &[&str], expected: &[&str]) {
    let server = empty_server();
    let out = run(hfi(&server).env("HF_TOKEN", HF_TOKEN).args(args));
    assert_eq!(out.code, 2, "{}", out.stderr);
    for text in expected {
        assert!(out.stderr.contains(text), "no {text:?} in {}", out.stderr);
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

/// The concatenated `choices[0].delta.content` of a recorded SSE answer.
fn streamed_text(tape: &Tape) -> String {
    let body = tape.response.body_text.as_deref().expect("SSE body");
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

fn inference_requests(server: &ReplayServer) -> Vec<RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| !r.is_hub_lookup())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// chat

/// The recorded Together stream, called directly with a provider key: the tokens are printed as
/// they arrive, and the request is the recorded one.
#[test]
fn chat_streams_the_recorded_tokens() {
    let (tape, server, mut hfi) = together_chat();
    let out = run(hfi
        .args(["chat", "--provider", "together", "--model"])
        .arg("meta-llama/Llama-3.3-70B-Instruct")
        .arg("Complete the equation 1 + 1 = , just the answer"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let expected = streamed_text(&tape);
    assert!(expected.contains('2'), "the tape's answer: {expected:?}");
    assert_eq!(out.stdout.trim_end(), expected.trim_end());
    server.assert_all_matched();
    let sent = inference_requests(&server);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {PROVIDER_KEY}").as_str())
    );
}

/// `--format json` prints one JSON chunk per line.
#[test]
fn chat_json_stream_is_one_chunk_per_line() {
    let (tape, _server, mut hfi) = together_chat();
    let out = run(hfi
        .env_remove("HF_TOKEN")
        .args(["--format", "json", "chat", "--provider", "together"])
        .args([
            "--token",
            PROVIDER_KEY,
            "-m",
            "meta-llama/Llama-3.3-70B-Instruct",
        ])
        .arg("Complete the equation 1 + 1 = , just the answer"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let chunks: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(chunks.len() > 1, "{}", out.stdout);
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, streamed_text(&tape));
}

// ---------------------------------------------------------------------------------------------
// dry run

/// `--dry-run` with a Hub model id and a provider prints the request as curl, with the token
/// redacted, and contacts nobody: not the inference host, not even the Hub for the provider's
/// model id, which shows as a placeholder explained on stderr.
#[test]
fn dry_run_prints_curl_and_contacts_nobody() {
    let tape = tape("together__chat-completion__0115ba6e5ac0");
    let server = server_for(&tape);
    let out = run(hfi(&server)
        .env("HF_TOKEN", HF_TOKEN)
        .args([
            "chat",
            "--dry-run",
            "--provider",
            "together",
            "--bill-to",
            "my-org",
        ])
        .args([
            "-m",
            "meta-llama/Llama-3.3-70B-Instruct",
            "--max-tokens",
            "12",
            "Hello",
        ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        server.requests().is_empty(),
        "a dry run sent {:?}",
        server.requests()
    );
    let router = server.url_for_host(ROUTER_HOST);
    assert!(
        out.stdout.starts_with(&format!(
            "curl -X POST '{router}/together/v1/chat/completions'"
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("-H 'authorization: <redacted>'"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("-H 'x-hf-bill-to: my-org'"),
        "{}",
        out.stdout
    );
    assert_eq!(
        dry_run_body(&out.stdout),
        json!({
            "model": "$PROVIDER_MODEL_ID",
            "messages": [{"role": "user", "content": "Hello"}],
            "max_tokens": 12,
            "stream": true,
        })
    );
    assert!(
        out.stderr.contains(
            "$PROVIDER_MODEL_ID stands for together's id of meta-llama/Llama-3.3-70B-Instruct"
        ),
        "{}",
        out.stderr
    );
}

/// The dry run of `hfi chat` shows the very request `hfi chat` sends (streamed: `"stream":
/// true`, `accept: text/event-stream`), the placeholder apart; `--no-stream` previews the
/// unstreamed one.
#[test]
fn the_chat_dry_run_is_the_request_chat_sends() {
    let args = [
        "chat",
        "--provider",
        "together",
        "-m",
        "meta-llama/Llama-3.3-70B-Instruct",
        "Complete the equation 1 + 1 = , just the answer",
    ];
    let (tape, server, mut hfi) = together_chat();
    let dry = run(hfi.args(args).arg("--dry-run"));
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(server.requests().is_empty(), "{:?}", server.requests());

    let (_, server, mut hfi) = together_chat();
    let sent = run(hfi.args(args));
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    let sent = inference_requests(&server);
    let [sent] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    let mapped = tape
        .test
        .provider_mapping
        .clone()
        .unwrap()
        .provider_model_id;
    let previewed = dry_run_body(&dry.stdout)
        .to_string()
        .replace("$PROVIDER_MODEL_ID", &mapped);
    assert_eq!(
        serde_json::from_str::<Value>(&previewed).unwrap(),
        sent.json().unwrap()
    );
    assert_eq!(sent.json().unwrap()["stream"], true);
    assert_eq!(sent.header("accept"), Some("text/event-stream"));
    assert!(
        dry.stdout.contains("-H 'accept: text/event-stream'"),
        "{}",
        dry.stdout
    );

    let (_, _server, mut hfi) = together_chat();
    let unstreamed = run(hfi.args(args).args(["--dry-run", "--no-stream"]));
    assert_eq!(dry_run_body(&unstreamed.stdout).get("stream"), None);
}

/// What a dry run cannot know without asking the Hub is a usage error that says what to pass.
#[test]
fn a_dry_run_that_needs_the_hub_says_what_to_pass() {
    assert_usage_error(
        &[
            "text-to-image",
            "--dry-run",
            "-m",
            "black-forest-labs/FLUX.1-schnell",
            "a lion",
        ],
        &[
            "cannot ask the Hub which provider serves black-forest-labs/FLUX.1-schnell for \
             text-to-image (--provider auto): pass --provider",
        ],
    );
    // hf-inference without a model would take the one the Hub recommends.
    assert_usage_error(
        &[
            "text-classification",
            "--dry-run",
            "--provider",
            "hf-inference",
            "I like it",
        ],
        &["cannot look up the model the Hub recommends for text-classification: pass --model"],
    );
}

/// A dry run downloads nothing either: a URL input that the provider would take as bytes is a
/// usage error saying so (the file server hears nothing); one the provider takes as a URL is
/// previewed as it is.
#[test]
fn a_dry_run_downloads_no_input() {
    let server = empty_server();
    let image = format!("{}/cat.jpg", server.url_for_host("images.example.com"));
    let out = run(hfi(&server).env("HF_TOKEN", HF_TOKEN).args([
        "image-classification",
        "--dry-run",
        "--provider",
        "hf-inference",
        "-m",
        "google/vit-base-patch16-224",
        &image,
    ]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("give a local file"), "{}", out.stderr);
    let out = run(hfi(&server).env("HF_TOKEN", HF_TOKEN).args([
        "image-to-image",
        "--dry-run",
        "--provider",
        "fal-ai",
        "-m",
        "black-forest-labs/FLUX.1-Kontext-dev",
        &image,
        "--param",
        "prompt=a hat",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(dry_run_body(&out.stdout)["image_url"], image.as_str());
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

/// The commands that cannot preview a request refuse `--dry-run` rather than run.
#[test]
fn endpoints_and_agent_refuse_a_dry_run() {
    assert_usage_error(&["endpoints", "list", "--dry-run"], &["has no --dry-run"]);
    assert_usage_error(
        &["--dry-run", "endpoints", "delete", "my-endpoint", "--yes"],
        &["has no --dry-run"],
    );
    assert_usage_error(&["agent", "run", "--dry-run", "."], &["has no --dry-run"]);
}

// ---------------------------------------------------------------------------------------------
// usage errors

#[test]
fn a_malformed_param_is_a_usage_error() {
    assert_usage_error(
        &["chat", "-m", "some/model", "--param", "temperature", "Hi"],
        &["expected KEY=VALUE"],
    );
}

// ---------------------------------------------------------------------------------------------
// task commands

/// The Hub's answer about a model: its task (for hf-inference's model/task check) and its
/// provider mapping, as `GET /api/models/{id}` gives them.
fn hub_model(server: &ReplayServer, model: &str, task: &str, provider: &str, provider_id: &str) {
    server.add_route(
        HUB_HOST,
        "GET",
        &format!("/api/models/{model}"),
        200,
        json!({
            "_id": "replay",
            "id": model,
            "pipeline_tag": task,
            "tags": [],
            "inferenceProviderMapping": {
                provider: {"providerId": provider_id, "task": task, "status": "live"}
            },
        }),
    );
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hfi-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The replay server for one hf-inference tape, with the Hub's answer about `model` (its
/// pipeline tag `hub_task`, for the model/task check).
fn hf_inference_server(name: &str, model: &str, hub_task: &str) -> (Tape, ReplayServer) {
    let tape = tape(name);
    let server = ReplayServer::start([&tape]).expect("replay server");
    hub_model(&server, model, hub_task, "hf-inference", model);
    (tape, server)
}

/// `hfi TASK --provider hf-inference -m MODEL` with the token, on the replay server.
fn hfi_task(server: &ReplayServer, task: &str, model: &str) -> Command {
    let mut command = hfi(server);
    command
        .env("HF_TOKEN", HF_TOKEN)
        .args([task, "--provider", "hf-inference", "-m", model]);
    command
}

/// `hfi text-to-image … -o FILE`: the recorded hf-inference call, the image written to the file
/// and described on stdout.
#[test]
fn text_to_image_writes_the_image_to_the_file() {
    let model = "stabilityai/stable-diffusion-2";
    let (tape, server) = hf_inference_server(
        "hf-inference__text-to-image__0c4b97c07f3d",
        model,
        "text-to-image",
    );
    let prompt = tape.request.body_json.as_ref().unwrap()["inputs"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = temp_dir("t2i").join("tortoise.jpg");
    let out = run(hfi_task(&server, "text-to-image", model)
        .arg(&prompt)
        .arg("-o")
        .arg(&file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    server.assert_all_matched();
    let written = std::fs::read(&file).expect("the image file");
    assert!(!written.is_empty());
    let report: Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    assert_eq!(report["content_type"], "image/jpeg");
    assert_eq!(report["bytes"], written.len());
    assert_eq!(report["file"], file.display().to_string());
    let sent = inference_requests(&server);
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {HF_TOKEN}").as_str())
    );
}

/// A task with a file answer refuses to run without `-o` (nothing is sent).
#[test]
fn a_file_answer_needs_an_output_file() {
    assert_usage_error(
        &["text-to-image", "-m", "some/model", "a lion"],
        &["-o FILE"],
    );
}

/// `hfi asr @FILE`: the recorded upload of `sample1.flac` (raw bytes) and its transcript.
#[test]
fn asr_uploads_the_file_and_prints_the_transcript() {
    let model = "facebook/wav2vec2-large-960h-lv60-self";
    let (tape, server) = hf_inference_server(
        "hf-inference__automatic-speech-recognition__9fe84ea3771c",
        model,
        "automatic-speech-recognition",
    );
    let audio = hf_inference_tests::tapes::inputs_dir().join("sample1.flac");
    let out = run(hfi_task(&server, "asr", model).arg(format!("@{}", audio.display())));
    assert_eq!(out.code, 0, "{}", out.stderr);
    server.assert_all_matched();
    let answer: Value = serde_json::from_str(&out.stdout).expect("JSON answer");
    assert_eq!(
        answer["text"],
        tape.response.body_json.as_ref().unwrap()["text"]
    );
    let sent = inference_requests(&server);
    assert_eq!(
        sent[0].body.as_ref(),
        std::fs::read(&audio).unwrap().as_slice()
    );
    // Text format prints the transcript alone.
    let out = run(hfi_task(&server, "asr", model)
        .args(["--format", "text"])
        .arg(&audio));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("GOING ALONG SLUSHY COUNTRY ROADS"),
        "{}",
        out.stdout
    );
}

/// The text of a recorded TGI token stream, as TGI counts it: the final `generated_text`.
fn tgi_generated_text(tape: &Tape) -> String {
    let body = tape.response.body_text.as_deref().expect("SSE body");
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find_map(|v| v["generated_text"].as_str().map(str::to_owned))
        .expect("a final event with generated_text")
}

/// `hfi text-generation` prints the tokens of the recorded TGI stream (hf-inference,
/// flan-t5-xxl) as they arrive, leaving out the special `</s>`; the request asks for a stream.
#[test]
fn text_generation_prints_the_streamed_tokens() {
    let model = "google/flan-t5-xxl";
    let (tape, server) = hf_inference_server(
        "hf-inference__text-generation__3694ddcced22",
        model,
        "text2text-generation",
    );
    let out = run(hfi_task(&server, "text-generation", model)
        .arg(r#"repeat "one two three four""#)
        // The JS client sent `options: {}` along.
        .args(["--extra-body", r#"{"options": {}}"#]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    server.assert_all_matched();
    let expected = tgi_generated_text(&tape);
    assert_eq!(expected, "one two three four");
    assert_eq!(out.stdout, format!("{expected}\n"));
    let sent = inference_requests(&server);
    assert_eq!(sent[0].json().unwrap()["stream"], true);
    assert_eq!(sent[0].header("accept"), Some("text/event-stream"));
}

/// `--format json` gives the whole structured answer (not streamed), and its dry run previews
/// that request; the text dry run previews the streamed one.
#[test]
fn text_generation_json_is_the_whole_answer() {
    let model = "google/flan-t5-xxl";
    let (_, server) = hf_inference_server(
        "hf-inference__text-generation__e64d5b8d2371",
        model,
        "text2text-generation",
    );
    let args = ["one plus two equals", "--extra-body", r#"{"options": {}}"#];
    let out = run(hfi_task(&server, "text-generation", model)
        .args(["--format", "json"])
        .args(args));
    assert_eq!(out.code, 0, "{}", out.stderr);
    server.assert_all_matched();
    let answer: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(answer, json!({"generated_text": "three"}));
    assert_eq!(
        inference_requests(&server)[0].json().unwrap().get("stream"),
        None
    );

    let json_dry = run(hfi_task(&server, "text-generation", model)
        .args(["--format", "json", "--dry-run"])
        .args(args));
    assert_eq!(dry_run_body(&json_dry.stdout).get("stream"), None);
    let text_dry = run(hfi_task(&server, "text-generation", model)
        .arg("--dry-run")
        .args(args));
    assert_eq!(
        dry_run_body(&text_dry.stdout),
        json!({"inputs": "one plus two equals", "options": {}, "stream": true})
    );
}

/// `hfi tabular-classification`: the recorded wine table, from a file of columns, and the
/// recorded labels on stdout.
#[test]
fn tabular_classification_reads_a_table_file() {
    let model = "vvmnnnkv/wine-quality";
    let (tape, server) = hf_inference_server(
        "hf-inference__tabular-classification__c6cc07285960",
        model,
        "tabular-classification",
    );
    let table = temp_dir("tabular").join("wine.json");
    let recorded = &tape.request.body_json.as_ref().unwrap()["inputs"]["data"];
    std::fs::write(&table, recorded.to_string()).unwrap();
    let out = run(hfi_task(&server, "tabular-classification", model)
        .arg(format!("@{}", table.display()))
        // The JS client sent `options: {}` along.
        .args(["--extra-body", r#"{"options": {}}"#]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    server.assert_all_matched();
    let labels: Value = serde_json::from_str(&out.stdout).expect("JSON labels");
    assert_eq!(labels, json!([5, 5, 7]));
}

/// `hfi tabular-regression`: no provider serves it, which the SDK says (exit 6, nothing sent);
/// on an Inference Endpoint URL it is sent and answered (the recorded fish table).
#[test]
fn tabular_regression_is_refused_on_providers_and_runs_on_a_url() {
    let tape = tape("hf-inference__tabular-regression__c858038f8450");
    let server = ReplayServer::start([&tape]).expect("replay server");
    let table = tape.request.body_json.as_ref().unwrap()["inputs"]["data"].to_string();
    for provider in ["auto", "hf-inference"] {
        let out = run(hfi(&server).env("HF_TOKEN", HF_TOKEN).args([
            "tabular-regression",
            "--provider",
            provider,
            "-m",
            "scikit-learn/Fish-Weight",
            &table,
        ]));
        assert_eq!(out.code, 6, "{}", out.stderr);
        assert!(
            out.stderr.contains(&format!(
                "provider `{provider}` does not support task `tabular-regression`; no provider supports it"
            )),
            "{}",
            out.stderr
        );
    }
    assert!(server.requests().is_empty());
    // The endpoint URL stands for the recorded route.
    let endpoint = format!(
        "{}/hf-inference/models/scikit-learn/Fish-Weight",
        server.url_for_host(ROUTER_HOST)
    );
    let out = run(hfi(&server)
        .env("HF_TOKEN", HF_TOKEN)
        .args(["tabular-regression", "-m", &endpoint, &table])
        .args(["--extra-body", r#"{"options": {}}"#]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    server.assert_all_matched();
    let answer: Value = serde_json::from_str(&out.stdout).expect("JSON numbers");
    assert_eq!(&answer, tape.response.body_json.as_ref().unwrap());
}

/// `hfi audio-to-audio`: the upload, then each labelled file of the answer written to a
/// numbered file (or into a directory), described on stdout; never to a terminal or stdout.
#[test]
fn audio_to_audio_writes_each_file() {
    use base64::Engine as _;
    let server = empty_server();
    let model = "speechbrain/sepformer-wham";
    hub_model(&server, model, "audio-to-audio", "hf-inference", model);
    let (speech, noise) = (b"fLaC speech".to_vec(), b"fLaC noise!!".to_vec());
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    server.add_route(
        ROUTER_HOST,
        "POST",
        &format!("/hf-inference/models/{model}"),
        200,
        json!([
            {"label": "speech", "content-type": "audio/flac", "blob": b64(&speech)},
            {"label": "noise", "content-type": "audio/flac", "blob": b64(&noise)},
        ]),
    );
    let audio = hf_inference_tests::tapes::inputs_dir().join("sample1.flac");
    let dir = temp_dir("a2a");
    let out = run(hfi_task(&server, "audio-to-audio", model)
        .arg(&audio)
        .arg("-o")
        .arg(dir.join("sources.flac")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (first, second) = (dir.join("sources-1.flac"), dir.join("sources-2.flac"));
    assert_eq!(std::fs::read(&first).unwrap(), speech);
    assert_eq!(std::fs::read(&second).unwrap(), noise);
    let report: Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    assert_eq!(
        report,
        json!([
            {"label": "speech", "content_type": "audio/flac",
             "file": first.display().to_string(), "bytes": speech.len()},
            {"label": "noise", "content_type": "audio/flac",
             "file": second.display().to_string(), "bytes": noise.len()},
        ])
    );
    let sent = inference_requests(&server);
    assert_eq!(
        sent[0].body.as_ref(),
        std::fs::read(&audio).unwrap().as_slice()
    );

    // Into a directory: N-LABEL.EXT.
    let into = dir.join("separated/");
    let out = run(hfi_task(&server, "audio-to-audio", model)
        .arg(&audio)
        .arg("-o")
        .arg(&into));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::read(into.join("1-speech.flac")).unwrap(), speech);
    assert_eq!(std::fs::read(into.join("2-noise.flac")).unwrap(), noise);

    // Without -o, or with -o -, nothing is sent.
    let before = server.requests().len();
    for output in [None, Some("-")] {
        let mut command = hfi_task(&server, "audio-to-audio", model);
        command.arg(&audio);
        if let Some(output) = output {
            command.args(["-o", output]);
        }
        let out = run(&mut command);
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(out.stderr.contains("or -o DIR/"), "{}", out.stderr);
    }
    assert_eq!(server.requests().len(), before);
}

/// A Black Forest Labs job (submit, polls until `Ready`, image download): the statuses are shown
/// on stderr as the SDK reports them, the image lands in the file.
#[test]
fn a_polling_job_reports_progress_and_writes_the_result() {
    let tapes: Vec<Tape> = std::fs::read_dir(tapes_dir())
        .expect("tapes")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("black-forest-labs__"))
        })
        .map(|p| Tape::load(p).expect("tape"))
        .collect();
    let submit = tapes
        .iter()
        .find(|t| t.request.method == "POST")
        .expect("the submission");
    let body = submit.request.body_json.clone().expect("recorded body");
    let server = ReplayServer::start_with(
        &tapes,
        hf_inference_tests::replay::ReplayOptions::default().ignore_query_param("attempt"),
    )
    .expect("replay server");
    server.add_provider_mappings([submit]);
    let bfl = server.url_for_host("api.us1.bfl.ai");
    let file = temp_dir("bfl").join("raccoon.png");
    let out = run(hfi(&server)
        .env(
            "HF_INFERENCE_PROVIDER_URLS",
            format!("black-forest-labs={bfl}"),
        )
        .env("HF_TOKEN", PROVIDER_KEY)
        .args(["text-to-image", "--provider", "black-forest-labs"])
        .args(["-m", "black-forest-labs/FLUX.1-dev", "--timeout", "60"])
        .arg(body["prompt"].as_str().unwrap())
        .args(["--param", &format!("height={}", body["height"])])
        .args(["--param", &format!("width={}", body["width"])])
        .args(["--param", &format!("seed={}", body["seed"])])
        // The JS client sent `num_inference_steps` as is (the SDK renames it `steps`).
        .arg("--extra-body")
        .arg(json!({"num_inference_steps": body["num_inference_steps"]}).to_string())
        .arg("-o")
        .arg(&file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    server.assert_all_matched();
    let job = "black-forest-labs job dd8b1c92-587b-428c-9095-d8c12a641160";
    let statuses: Vec<&str> = out.stderr.lines().filter(|l| l.contains(job)).collect();
    assert!(
        !statuses.is_empty(),
        "no progress on stderr:\n{}",
        out.stderr
    );
    assert!(std::fs::read(&file).is_ok_and(|b| !b.is_empty()));
}

/// An unknown `--param` is a usage error (exit 2) naming the valid parameters; nothing is sent.
#[test]
fn an_unknown_param_names_the_valid_ones() {
    let t2i = [
        "text-to-image",
        "-m",
        "some/model",
        "-o",
        "x.png",
        "a lion",
        "--param",
    ];
    assert_usage_error(
        &[&t2i[..], &["guidance=7"]].concat(),
        &["unknown parameter `guidance`", "guidance_scale"],
    );
    // A known parameter with a value of the wrong kind.
    assert_usage_error(
        &[&t2i[..], &["num_inference_steps=many"]].concat(),
        &["expects integer"],
    );
}

/// The recorded 401 of an OpenAI-compatible server: exit code 3, the server's message and the
/// request id on stderr.
#[test]
fn an_http_error_exits_with_its_code_and_message() {
    let tape = tape("openai-compatible__chat-completion__e01b3c04b2df");
    let server = ReplayServer::start([&tape]).expect("replay server");
    let url = server.url_for_host("api.mistral.ai");
    let prompt = tape.request.body_json.as_ref().unwrap()["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = run(hfi(&server).args(["chat", "-m"]).arg(&url).arg(&prompt));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("401"), "{}", out.stderr);
    assert!(
        out.stderr.contains("No API key found in request"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("ab5386689131886ef950356f5333e057"),
        "{}",
        out.stderr
    );
    server.assert_all_matched();
}

/// A task's dry run: the curl command of the generated method's request.
#[test]
fn a_task_dry_run_shows_the_body_with_its_parameters() {
    let server = empty_server();
    let model = "stabilityai/stable-diffusion-2";
    let out = run(hfi(&server)
        .env("HF_TOKEN", HF_TOKEN)
        .args([
            "text-to-image",
            "--dry-run",
            "--provider",
            "hf-inference",
            "-m",
            model,
        ])
        .args([
            "a lion",
            "--param",
            "guidance_scale=7.5",
            "--param",
            "width=512",
        ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let router = server.url_for_host(ROUTER_HOST);
    assert!(
        out.stdout.starts_with(&format!(
            "curl -X POST '{router}/hf-inference/models/{model}'"
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            r#"--data-raw '{"inputs":"a lion","parameters":{"guidance_scale":7.5,"width":512}}'"#
        ),
        "{}",
        out.stdout
    );
    // Not even the Hub's model/task check.
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

// ---------------------------------------------------------------------------------------------
// The blocking client (feature `blocking`), from plain `fn` tests: no runtime anywhere.

/// A blocking client on the replay server, with the tape's model mapping pinned.
fn blocking_client(server: &ReplayServer, tape: &Tape) -> hf_inference::blocking::InferenceClient {
    let mapping = tape
        .test
        .provider_mapping
        .clone()
        .expect("provider mapping");
    let provider: Provider = mapping.provider.parse().expect("provider");
    let builder = hf_inference_tests::support::loopback_builder(PROVIDER_KEY, server)
        .provider(provider)
        .model_mapping(mapping.hf_model_id, provider, mapping.provider_model_id);
    let builder = hf_inference_tests::support::provider_hosts_on(builder, provider, server);
    hf_inference::blocking::InferenceClient::from_builder(builder).expect("client")
}

fn recorded_messages(tape: &Tape) -> Vec<ChatCompletionInputMessage> {
    let body = tape.request.body_json.clone().expect("recorded body");
    serde_json::from_value(body["messages"].clone()).expect("messages")
}

/// `send_blocking` returns the recorded answer of a chat (Novita, direct).
#[test]
fn blocking_chat_returns_the_recorded_answer() {
    let tape = tape("novita__chat-completion__75477fa339f5");
    let server = ReplayServer::start([&tape]).expect("replay server");
    let client = blocking_client(&server, &tape);
    let model = tape.test.provider_mapping.clone().unwrap().hf_model_id;
    let answer = client
        .chat_completion(recorded_messages(&tape))
        .model(model)
        .send_blocking()
        .expect("answer");
    let recorded = tape.response.body_json.clone().expect("recorded answer");
    assert_eq!(
        answer.choices[0].message.content.as_deref(),
        recorded["choices"][0]["message"]["content"].as_str()
    );
    server.assert_all_matched();
}

/// `stream_blocking` is an iterator over the recorded chunks (Together, direct).
#[test]
fn blocking_stream_iterates_the_recorded_chunks() {
    let tape = tape("together__chat-completion__0115ba6e5ac0");
    let server = ReplayServer::start([&tape]).expect("replay server");
    let client = blocking_client(&server, &tape);
    let model = tape.test.provider_mapping.clone().unwrap().hf_model_id;
    let chunks: Vec<_> = client
        .chat_completion(recorded_messages(&tape))
        .model(model)
        .stream_blocking()
        .expect("stream")
        .collect::<Result<_, _>>()
        .expect("every chunk");
    assert!(chunks.len() > 1);
    let text: String = chunks
        .iter()
        .filter_map(|c| c.choices.first().and_then(|c| c.delta.content.clone()))
        .collect();
    assert_eq!(text, streamed_text(&tape));
    server.assert_all_matched();
}

/// Inside an async runtime a blocking call is a typed error, not a panic, and sends nothing.
#[test]
fn blocking_inside_a_runtime_is_an_error_not_a_panic() {
    let tape = tape("novita__chat-completion__75477fa339f5");
    let server = ReplayServer::start([&tape]).expect("replay server");
    let client = blocking_client(&server, &tape);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = runtime.block_on(async {
        client
            .chat_completion(recorded_messages(&tape))
            .model("meta-llama/llama-3.1-8b-instruct")
            .send_blocking()
            .unwrap_err()
    });
    assert!(matches!(err, hf_inference::Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("async"), "{err}");
    assert!(server.requests().is_empty(), "nothing was sent");
}

/// `hfi chat --param` is checked against the chat-completion schema.
#[test]
fn chat_params_are_checked_against_the_schema() {
    assert_usage_error(
        &["chat", "-m", "some/model", "--param", "top_q=0.5", "Hi"],
        &["unknown parameter `top_q`", "top_p"],
    );
}

/// `hfi --help` lists every task; a task's help lists its parameters with their kinds.
#[test]
fn help_lists_every_task_and_each_task_its_parameters() {
    let server = empty_server();
    let out = run(hfi(&server).arg("--help"));
    assert_eq!(out.code, 0);
    for task in hf_inference::Task::ALL {
        // Every task with a provider, and tabular-regression (served by URL models).
        if !task.providers().is_empty() || task.as_str() == "tabular-regression" {
            let name = task.as_str();
            let shown = out.stdout.contains(&format!("  {name} "))
                || (name == "chat-completion" && out.stdout.contains("  chat "));
            assert!(shown, "{name} is not in hfi --help:\n{}", out.stdout);
        }
    }
    let out = run(hfi(&server).args(["image-segmentation", "--help"]));
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("subtask (one of"), "{}", out.stdout);
    assert!(out.stdout.contains("threshold (number)"), "{}", out.stdout);
}
