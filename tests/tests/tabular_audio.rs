//! The hand-written tasks without a JSON schema upstream (`extra_tasks` of
//! `specs/providers.toml`): `tabular_classification`, `tabular_regression` and `audio_to_audio`
//! (sdk/src/tasks/tabular.rs, sdk/src/tasks/audio_to_audio.rs), against python-client.md §1.3,
//! §1.6 and §3.13 and the conformance tapes.
//!
//! - Requests: previews snapshotted with insta (hf-inference routed; an Inference Endpoint URL),
//!   the token absent from every rendering, and the reference facts asserted one by one (URL,
//!   auth, content type, body). Tabular bodies are `{"inputs": {"data": table}}` (the recorded
//!   JS shape, see the tabular entries of `specs/providers.toml`); audio is the raw body typed
//!   `audio/flac`, or base64 `inputs` in JSON when other fields go with it (§3.13).
//! - Answers: the same calls really sent to loopback servers answering realistic bodies; the
//!   typed output must be the answer as the reference maps it (labels as served, numbers, and
//!   for audio-to-audio each base64 `blob` decoded to exactly its bytes with its
//!   `content-type`, §1.6); malformed answers come back as `Error::Decode`.
//! - `tabular_regression`: no provider serves it (§1.3, the support matrix): every provider
//!   refuses it with `Error::ProviderNotSupported` naming no provider, before any connection;
//!   on a URL model it is sent and answered.
//! - `replay_tabular_and_audio_to_audio_tapes`: the conformance tapes of the three tasks
//!   replayed through the public API with the tape toolkit, as tests/tests/replay_tasks.rs does:
//!   request compared with the recording (legacy tapes: response parsing only, with the
//!   reason), the typed output serialized back equal to the recorded answer, `test.expected`
//!   checked when present; one line per tape and a closing count line.
//!
//! Run with `cargo test -p hf-inference-tests --test tabular_audio -- --nocapture`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hf_inference::binary::BinaryInput;
use hf_inference::types::audio_to_audio::AudioToAudioOutput;
use hf_inference::types::tabular::{
    TabularClassificationLabel, TabularClassificationOutput, TabularData, TabularRegressionOutput,
};
use hf_inference::{Error, InferenceClient, Provider, RequestPreview, Task};
use hf_inference_tests::expect::{self, Actual, Expectation};
use hf_inference_tests::replay::{HUB_HOST, RecordedRequest, ReplayServer, json_diff};
use hf_inference_tests::support::{
    ConnectionCounter, FAKE_HF_TOKEN, ROUTER, ROUTER_HOST, check_preview, loopback_builder,
    preview_head, render_json, render_preview,
};
use hf_inference_tests::tapes::{Tape, inputs_dir, tapes_dir};
use serde_json::{Map, Value, json};

const HF_TOKEN: &str = "hf_tabAudioSecret0123456789abcdef";
/// A fragment of the token: must never appear in a preview.
const SECRET_PART: &str = "tabAudioSecret";

const WINE_MODEL: &str = "vvmnnnkv/wine-quality";
const FISH_MODEL: &str = "scikit-learn/Fish-Weight";
const AUDIO_MODEL: &str = "speechbrain/sepformer-wham";
/// Inference Endpoints (URL models).
const WINE_ENDPOINT: &str = "https://wine-quality.us-east-1.aws.endpoints.huggingface.cloud";
const FISH_ENDPOINT: &str = "https://fish-weight.us-east-1.aws.endpoints.huggingface.cloud";
const AUDIO_ENDPOINT: &str = "https://sepformer.us-east-1.aws.endpoints.huggingface.cloud";
/// The audio input: the conformance input file the audio tapes send.
const AUDIO_FILE: &str = "sample1.flac";

// ---------------------------------------------------------------------------------------------
// Inputs and answers

/// A table of three rows: `(column, cells)`, columns in order.
type Table = [(&'static str, [&'static str; 3])];

/// The wine table of the tabular-classification tape (three rows).
const WINE: &Table = &[
    ("fixed_acidity", ["7.4", "7.8", "10.3"]),
    ("volatile_acidity", ["0.7", "0.88", "0.32"]),
    ("citric_acid", ["0", "0", "0.45"]),
    ("residual_sugar", ["1.9", "2.6", "6.4"]),
    ("chlorides", ["0.076", "0.098", "0.073"]),
    ("free_sulfur_dioxide", ["11", "25", "5"]),
    ("total_sulfur_dioxide", ["34", "67", "13"]),
    ("density", ["0.9978", "0.9968", "0.9976"]),
    ("pH", ["3.51", "3.2", "3.23"]),
    ("sulphates", ["0.56", "0.68", "0.82"]),
    ("alcohol", ["9.4", "9.8", "12.6"]),
];

/// The fish table of the tabular-regression tape (three rows).
const FISH: &Table = &[
    ("Height", ["11.52", "12.48", "12.3778"]),
    ("Length1", ["23.2", "24", "23.9"]),
    ("Length2", ["25.4", "26.3", "26.5"]),
    ("Length3", ["30", "31.2", "31.1"]),
    ("Species", ["Bream", "Bream", "Bream"]),
    ("Width", ["4.02", "4.3056", "4.6961"]),
];

/// `table` as the SDK's input, built column by column.
fn tabular_data(table: &Table) -> TabularData {
    table
        .iter()
        .fold(TabularData::new(), |data, (name, cells)| {
            data.column(*name, *cells)
        })
}

fn wine() -> TabularData {
    tabular_data(WINE)
}

fn fish() -> TabularData {
    tabular_data(FISH)
}

/// A table as the reference body writes it: `{"inputs": {"data": {column: [cells]}}}`, written
/// out here (not serialized by the SDK), columns in order.
fn tabular_body(table: &Table) -> Value {
    let data: Map<String, Value> = table
        .iter()
        .map(|(name, cells)| ((*name).to_owned(), json!(cells)))
        .collect();
    json!({"inputs": {"data": data}})
}

fn wine_body() -> Value {
    tabular_body(WINE)
}

fn fish_body() -> Value {
    tabular_body(FISH)
}

/// The column names of a body's table, in order (the table is an `IndexMap`: order is kept).
fn columns(body: &Value) -> Vec<String> {
    body.pointer("/inputs/data")
        .and_then(Value::as_object)
        .map(|data| data.keys().cloned().collect())
        .unwrap_or_default()
}

fn audio() -> Vec<u8> {
    let path = inputs_dir().join(AUDIO_FILE);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Two small but real audio files: the sources an audio-to-audio model separates.
fn separated_sources() -> [(&'static str, &'static str, Vec<u8>); 2] {
    // A WAV header with 4 samples of 16-bit mono PCM, and the first bytes of a FLAC stream.
    let mut wav = b"RIFF\x2c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00data\x08\x00\x00\x00".to_vec();
    wav.extend_from_slice(&[0x00, 0x00, 0xff, 0x7f, 0x00, 0x80, 0x10, 0x00]);
    let flac = audio()[..64].to_vec();
    [
        ("label_0", "audio/wav", wav),
        ("label_1", "audio/flac", flac),
    ]
}

/// An hf-inference audio-to-audio answer (python-client.md §1.6): `[{label, content-type,
/// blob}]`, base64 blobs; `extra` adds fields to every element.
fn audio_answer(sources: &[(&str, &str, Vec<u8>)], extra: &Value) -> Value {
    Value::Array(
        sources
            .iter()
            .map(|(label, content_type, bytes)| {
                let mut element = json!({
                    "label": label,
                    "content-type": content_type,
                    "blob": STANDARD.encode(bytes),
                });
                if let (Value::Object(map), Value::Object(more)) = (&mut element, extra) {
                    map.extend(more.clone());
                }
                element
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Clients and renderings

/// A client on the real router (previews only), the Hub on `hub` (which must see no
/// connection); the Hub models are pinned to themselves on hf-inference, so nothing needs the
/// Hub.
fn preview_client(hub: &ConnectionCounter) -> InferenceClient {
    pinned(
        InferenceClient::builder()
            .token(HF_TOKEN)
            .hub_url(hub.url()),
    )
    .build()
    .expect("client")
}

/// The same client with the router and the Hub on `server`.
fn wire_client(server: &ReplayServer) -> InferenceClient {
    pinned(loopback_builder(HF_TOKEN, server))
        .build()
        .expect("client")
}

fn pinned(builder: hf_inference::InferenceClientBuilder) -> hf_inference::InferenceClientBuilder {
    [WINE_MODEL, FISH_MODEL, AUDIO_MODEL]
        .into_iter()
        .fold(builder, |b, model| {
            b.model_mapping(model, Provider::HfInference, model)
        })
}

/// Facts every preview of this file satisfies: POST, the token sent and shown redacted (absent
/// from every rendering, `rendered` included), the content type, the SDK's user-agent.
fn check_common(preview: &RequestPreview, what: &str, content_type: &str, rendered: &str) {
    check_preview(preview, &[SECRET_PART], Some(rendered), content_type, what);
    assert!(
        preview
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("hf-inference-rust/")),
        "{what}: user-agent"
    );
}

/// A raw audio body as a snapshot: the head, then the body named (its bytes are compared in
/// full by the caller).
fn render_raw(preview: &RequestPreview) -> String {
    let len = preview.body.as_ref().map_or(0, |b| b.len());
    format!("{}<{len} bytes: {AUDIO_FILE}>\n", preview_head(preview))
}

/// A JSON body with the audio's base64 as `inputs` as a snapshot: the base64 (compared in full
/// by the caller) shown by name.
fn render_base64(preview: &RequestPreview) -> String {
    let mut body = preview.body_json().expect("a JSON body");
    body["inputs"] = json!(format!("<base64 of {AUDIO_FILE}>"));
    render_json(preview, &body)
}

/// The one request `server` received outside the Hub.
fn only_inference_request(server: &ReplayServer, what: &str) -> RecordedRequest {
    let requests: Vec<RecordedRequest> = server
        .requests()
        .into_iter()
        .filter(|r| r.host != HUB_HOST)
        .collect();
    assert_eq!(requests.len(), 1, "{what}: one request: {requests:?}");
    requests.into_iter().next().expect("one")
}

/// The wire request is the preview, with the real token.
fn check_sent(sent: &RecordedRequest, preview: &RequestPreview, path: &str, what: &str) {
    assert_eq!(sent.method, "POST", "{what}");
    assert_eq!(sent.path, path, "{what}: path");
    assert_eq!(sent.query, None, "{what}: no query");
    assert_eq!(
        sent.body.as_ref(),
        preview.body.as_deref().unwrap_or_default(),
        "{what}: the body on the wire is the preview's"
    );
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {HF_TOKEN}").as_str()),
        "{what}: auth"
    );
    assert_eq!(
        sent.header("content-type"),
        preview.header("content-type"),
        "{what}: content type"
    );
}

fn labels(out: &TabularClassificationOutput) -> Vec<String> {
    out.iter().map(ToString::to_string).collect()
}

// ---------------------------------------------------------------------------------------------
// tabular-classification

#[tokio::test]
async fn tabular_classification_on_hf_inference() {
    let what = "tabular-classification on hf-inference";
    let hub = ConnectionCounter::start();
    let client = preview_client(&hub);
    let request = client
        .tabular_classification(wine())
        .model(WINE_MODEL)
        .provider(Provider::HfInference);
    let preview = request.preview().await.expect("preview");
    let rendered = render_preview(&preview);
    check_common(&preview, what, "application/json", &rendered);
    // §2.4: `…/hf-inference/models/{id}`; §3.13 (JS shape): `{"inputs": {"data": table}}`.
    assert_eq!(
        preview.url,
        format!("{ROUTER}/hf-inference/models/{WINE_MODEL}"),
        "{what}: URL"
    );
    let body = preview.body_json().expect("JSON body");
    assert_eq!(body, wine_body(), "{what}: body");
    assert_eq!(
        columns(&body),
        columns(&wine_body()),
        "{what}: column order"
    );
    insta::assert_snapshot!("tabular-classification__hf-inference", rendered);

    // On the wire: the recorded answer (numeric classes), then named classes.
    let server = ReplayServer::start(Vec::<Tape>::new()).expect("replay server");
    let path = format!("/hf-inference/models/{WINE_MODEL}");
    server.add_route(ROUTER_HOST, "POST", &path, 200, json!([5, 5, 7]));
    let client = wire_client(&server);
    let out = client
        .tabular_classification(wine())
        .model(WINE_MODEL)
        .provider(Provider::HfInference)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(labels(&out), ["5", "5", "7"], "{what}");
    assert_eq!(
        out.iter().map(|l| l.as_i64()).collect::<Vec<_>>(),
        [Some(5), Some(5), Some(7)],
        "{what}: integer classes stay integers"
    );
    assert_eq!(serde_json::to_value(&out).unwrap(), json!([5, 5, 7]));
    let sent = only_inference_request(&server, what);
    assert_eq!(sent.host, ROUTER_HOST, "{what}: host");
    check_sent(&sent, &preview, &path, what);

    server.add_route(
        ROUTER_HOST,
        "POST",
        &path,
        200,
        json!(["good", "bad", "good"]),
    );
    let out = client
        .tabular_classification(wine())
        .model(WINE_MODEL)
        .provider(Provider::HfInference)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(
        out.0,
        ["good", "bad", "good"].map(TabularClassificationLabel::from),
        "{what}: named classes"
    );

    // Not a list of labels: a decode error naming the output type, never a silent default.
    server.add_route(ROUTER_HOST, "POST", &path, 200, json!({"label": "good"}));
    let err = client
        .tabular_classification(wine())
        .model(WINE_MODEL)
        .provider(Provider::HfInference)
        .send()
        .await
        .expect_err("an object is not a list of labels");
    assert!(
        matches!(&err, Error::Decode { target, .. } if target.ends_with("TabularClassificationOutput")),
        "{what}: {err:?}"
    );

    // An error answer: the typed error with the server's message.
    let message = "Model vvmnnnkv/wine-quality is currently loading";
    server.add_route(ROUTER_HOST, "POST", &path, 503, json!({"error": message}));
    let err = client
        .tabular_classification(wine())
        .model(WINE_MODEL)
        .provider(Provider::HfInference)
        .send()
        .await
        .expect_err("503");
    assert_eq!(err.status(), Some(503), "{what}: {err:?}");
    assert_eq!(
        err.http_context().and_then(|c| c.server_message.as_deref()),
        Some(message),
        "{what}: the server's message"
    );
    assert_eq!(hub.connections(), 0, "{what}: the model is pinned");
}

// ---------------------------------------------------------------------------------------------
// tabular-regression

#[tokio::test]
async fn tabular_regression_is_refused_on_every_provider_before_any_traffic() {
    assert!(
        Task::TabularRegression.providers().is_empty(),
        "python-client.md §1.3 and the support matrix: no provider serves tabular-regression; \
         the table now lists {:?}: test it like tabular-classification",
        Task::TabularRegression.providers()
    );
    // Every URL of the client on one counter: any request would be a connection.
    let counter = ConnectionCounter::start();
    for token in [HF_TOKEN, "pk-tabAudioSecret0123456789abcdef"] {
        let mut builder = InferenceClient::builder()
            .token(token)
            .hub_url(counter.url())
            .router_url(counter.url());
        for &provider in Provider::ALL {
            for host in provider.spec().hosts {
                builder = builder.provider_host_url(provider, host.name, counter.url());
            }
        }
        let client = builder.build().expect("client");
        for &provider in Provider::ALL {
            let what = format!("tabular-regression on {provider}");
            let request = client
                .tabular_regression(fish())
                .model(FISH_MODEL)
                .provider(provider);
            let refused = [
                request.preview().await.expect_err("refused"),
                request.send().await.expect_err("refused"),
            ];
            for err in refused {
                match &err {
                    Error::ProviderNotSupported {
                        provider: p,
                        task,
                        supported,
                    } => {
                        assert_eq!(p, provider.as_str(), "{what}");
                        assert_eq!(task, "tabular-regression", "{what}");
                        assert!(supported.is_empty(), "{what}: {supported:?}");
                    }
                    other => panic!("{what}: expected ProviderNotSupported, got {other:?}"),
                }
                assert_eq!(
                    err.to_string(),
                    format!(
                        "provider `{provider}` does not support task `tabular-regression`; no \
                         provider supports it"
                    ),
                    "{what}"
                );
            }
        }
    }
    assert_eq!(counter.connections(), 0, "refused before any connection");
}

#[tokio::test]
async fn tabular_regression_without_a_provider_sends_nothing_to_the_router() {
    // `auto`: the Hub is asked which providers serve the model; whatever it says, nobody in the
    // SDK's table serves tabular-regression, so the call fails without an inference request.
    let server = ReplayServer::start(Vec::<Tape>::new()).expect("replay server");
    server.add_route(
        HUB_HOST,
        "GET",
        &format!("/api/models/{FISH_MODEL}"),
        200,
        json!({
            "_id": "63c8f0a5a1c3d5c6e5f0a001",
            "id": FISH_MODEL,
            "pipeline_tag": "tabular-regression",
            "inferenceProviderMapping": {
                "hf-inference": {
                    "status": "live",
                    "providerId": FISH_MODEL,
                    "task": "tabular-regression"
                }
            }
        }),
    );
    let client = loopback_builder(HF_TOKEN, &server).build().expect("client");
    let err = client
        .tabular_regression(fish())
        .model(FISH_MODEL)
        .send()
        .await
        .expect_err("no provider serves tabular-regression");
    assert!(
        err.to_string().contains("tabular-regression"),
        "the error names the task: {err}"
    );
    assert!(
        !matches!(err, Error::Transport(_) | Error::Http(_)),
        "refused, not failed on the wire: {err:?}"
    );
    let inference: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.host != HUB_HOST)
        .collect();
    assert!(inference.is_empty(), "no inference request: {inference:?}");
}

// ---------------------------------------------------------------------------------------------
// Tabular tasks on a URL model (Inference Endpoint)

#[tokio::test]
async fn tabular_tasks_on_a_url_model() {
    let hub = ConnectionCounter::start();
    let client = preview_client(&hub);

    // Previews: the URL as given, the token as a bearer, the same body as on hf-inference.
    let classification = client.tabular_classification(wine()).model(WINE_ENDPOINT);
    let regression = client.tabular_regression(fish()).model(FISH_ENDPOINT);
    let previews = [
        (
            "tabular-classification__endpoint",
            classification.preview().await.expect("preview"),
            WINE_ENDPOINT,
            wine_body(),
        ),
        (
            "tabular-regression__endpoint",
            regression.preview().await.expect("preview"),
            FISH_ENDPOINT,
            fish_body(),
        ),
    ];
    for (name, preview, endpoint, body) in &previews {
        let rendered = render_preview(preview);
        check_common(preview, name, "application/json", &rendered);
        // §2.4: a URL model's non-chat URL is the URL exactly as given.
        assert_eq!(preview.url, format!("{endpoint}/"), "{name}: URL");
        let sent = preview.body_json().expect("JSON body");
        assert_eq!(&sent, body, "{name}: body");
        assert_eq!(columns(&sent), columns(body), "{name}: column order");
        insta::assert_snapshot!(*name, rendered);
    }
    // hf-inference chosen explicitly with a URL model: the URL wins, regression included.
    let explicit = client
        .tabular_regression(fish())
        .model(FISH_ENDPOINT)
        .provider(Provider::HfInference)
        .preview()
        .await
        .expect("a URL model is not refused");
    assert_eq!(explicit.url, format!("{FISH_ENDPOINT}/"));

    // On the wire, to loopback endpoints: the tapes' answers.
    let server = ReplayServer::start(Vec::<Tape>::new()).expect("replay server");
    let wine_host = "wine-quality.us-east-1.aws.endpoints.huggingface.cloud";
    let fish_host = "fish-weight.us-east-1.aws.endpoints.huggingface.cloud";
    server.add_route(wine_host, "POST", "/", 200, json!([5, 5, 7]));
    let predicted = [270.5473526976245, 313.6843425638086, 328.3727133404402];
    server.add_route(fish_host, "POST", "/", 200, json!(predicted));
    let client = wire_client(&server);

    let out = client
        .tabular_classification(wine())
        .model(format!("{}/", server.url_for_host(wine_host)))
        .send()
        .await
        .expect("classification on an endpoint");
    assert_eq!(labels(&out), ["5", "5", "7"]);
    let sent = only_inference_request(&server, "classification on an endpoint");
    assert_eq!(sent.host, wine_host);
    check_sent(&sent, &previews[0].1, "/", "classification on an endpoint");

    server.clear_requests();
    for provider in [None, Some(Provider::HfInference)] {
        let mut request = client
            .tabular_regression(fish())
            .model(format!("{}/", server.url_for_host(fish_host)));
        if let Some(p) = provider {
            request = request.provider(p);
        }
        let out: TabularRegressionOutput = request.send().await.expect("regression on an endpoint");
        assert_eq!(*out, predicted, "exact values, provider {provider:?}");
        let sent = only_inference_request(&server, "regression on an endpoint");
        assert_eq!(sent.host, fish_host);
        check_sent(&sent, &previews[1].1, "/", "regression on an endpoint");
        server.clear_requests();
    }

    // A regression answer that is not a list of numbers.
    server.add_route(fish_host, "POST", "/", 200, json!(["270.5"]));
    let err = client
        .tabular_regression(fish())
        .model(format!("{}/", server.url_for_host(fish_host)))
        .send()
        .await
        .expect_err("strings are not predictions");
    assert!(
        matches!(&err, Error::Decode { target, .. } if target.ends_with("TabularRegressionOutput")),
        "{err:?}"
    );
    assert_eq!(hub.connections(), 0, "URL models: no Hub lookup");
}

// ---------------------------------------------------------------------------------------------
// audio-to-audio

#[tokio::test]
async fn audio_to_audio_on_hf_inference() {
    let what = "audio-to-audio on hf-inference";
    let hub = ConnectionCounter::start();
    let client = preview_client(&hub);
    let flac = audio();
    let url = format!("{ROUTER}/hf-inference/models/{AUDIO_MODEL}");

    // §3.13, no parameters: the raw bytes, typed with their media type.
    let raw = client
        .audio_to_audio(flac.clone())
        .model(AUDIO_MODEL)
        .provider(Provider::HfInference)
        .preview()
        .await
        .expect("preview");
    let rendered = render_raw(&raw);
    check_common(&raw, what, "audio/flac", &rendered);
    assert_eq!(raw.url, url, "{what}: URL");
    assert!(
        raw.body.as_deref() == Some(&flac[..]),
        "{what}: the body is the file's {} bytes",
        flac.len()
    );
    insta::assert_snapshot!("audio-to-audio__hf-inference__raw", rendered);

    // With other fields: `{"inputs": <base64>, …}` as JSON.
    let parameters = json!({"parameters": {"sampling_rate": 16000}});
    let json_preview = client
        .audio_to_audio(BinaryInput::from_path(inputs_dir().join(AUDIO_FILE)))
        .model(AUDIO_MODEL)
        .provider(Provider::HfInference)
        .extra_body(parameters.clone())
        .preview()
        .await
        .expect("preview");
    let rendered = render_base64(&json_preview);
    check_common(&json_preview, what, "application/json", &rendered);
    assert_eq!(json_preview.url, url, "{what}: URL");
    assert_eq!(
        json_preview.body_json().expect("JSON body"),
        json!({"inputs": STANDARD.encode(&flac), "parameters": {"sampling_rate": 16000}}),
        "{what}: base64 body"
    );
    insta::assert_snapshot!("audio-to-audio__hf-inference__base64", rendered);

    // On the wire: two separated sources, decoded to exactly their bytes and types (§1.6).
    let server = ReplayServer::start(Vec::<Tape>::new()).expect("replay server");
    let path = format!("/hf-inference/models/{AUDIO_MODEL}");
    let sources = separated_sources();
    server.add_route(
        ROUTER_HOST,
        "POST",
        &path,
        200,
        audio_answer(&sources, &json!({})),
    );
    let client = wire_client(&server);
    let out: AudioToAudioOutput = client
        .audio_to_audio(flac.clone())
        .model(AUDIO_MODEL)
        .provider(Provider::HfInference)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(out.len(), sources.len(), "{what}");
    for (element, (label, content_type, bytes)) in out.iter().zip(&sources) {
        assert_eq!(element.label, *label, "{what}");
        assert_eq!(element.content_type, *content_type, "{what}");
        assert_eq!(element.blob.bytes().as_ref(), &bytes[..], "{what}: {label}");
        assert_eq!(element.blob.content_type(), Some(*content_type), "{what}");
        assert!(element.extra.is_empty(), "{what}: {:?}", element.extra);
    }
    assert_eq!(
        out[0].blob.extension(),
        Some("wav"),
        "{what}: a savable file"
    );
    let sent = only_inference_request(&server, what);
    assert_eq!(sent.host, ROUTER_HOST, "{what}: host");
    check_sent(&sent, &raw, &path, what);

    // Unknown fields are kept, and serialize back with the rest.
    let answer = audio_answer(
        &sources[..1],
        &json!({"score": 0.97, "sampling_rate": 8000}),
    );
    server.add_route(ROUTER_HOST, "POST", &path, 200, answer.clone());
    let out = client
        .audio_to_audio(flac.clone())
        .model(AUDIO_MODEL)
        .provider(Provider::HfInference)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(out[0].extra["score"], json!(0.97), "{what}");
    assert_eq!(out[0].extra["sampling_rate"], json!(8000), "{what}");
    assert_eq!(serde_json::to_value(&out).unwrap(), answer, "{what}");

    // A blob that is not base64: a decode error naming the element, not a truncated list.
    let bad = json!([
        {"label": "label_0", "content-type": "audio/wav", "blob": STANDARD.encode(b"RIFF")},
        {"label": "label_1", "content-type": "audio/wav", "blob": "<html>not base64</html>"}
    ]);
    server.add_route(ROUTER_HOST, "POST", &path, 200, bad);
    let err = client
        .audio_to_audio(flac)
        .model(AUDIO_MODEL)
        .provider(Provider::HfInference)
        .send()
        .await
        .expect_err("invalid base64");
    match &err {
        Error::Decode {
            target, message, ..
        } => {
            assert!(target.ends_with("AudioToAudioOutput"), "{what}: {target}");
            assert!(message.contains("\"label_1\""), "{what}: {message}");
        }
        other => panic!("{what}: expected Error::Decode, got {other:?}"),
    }
    assert_eq!(hub.connections(), 0, "{what}: the model is pinned");
}

#[tokio::test]
async fn audio_to_audio_on_a_url_model() {
    let what = "audio-to-audio on an endpoint";
    let hub = ConnectionCounter::start();
    let flac = audio();
    let preview = preview_client(&hub)
        .audio_to_audio(flac.clone())
        .model(AUDIO_ENDPOINT)
        .preview()
        .await
        .expect("preview");
    assert_eq!(preview.url, format!("{AUDIO_ENDPOINT}/"), "{what}: URL");
    assert_eq!(preview.method, "POST", "{what}");
    assert_eq!(
        preview.header("authorization"),
        Some("<redacted>"),
        "{what}"
    );
    // The audio reaches the endpoint whole, in one of the two §3.13 forms.
    let delivered = match preview.header("content-type") {
        Some("audio/flac") => preview.body.as_deref().map(<[u8]>::to_vec),
        Some("application/json") => preview
            .body_json()
            .and_then(|b| b["inputs"].as_str().map(str::to_owned))
            .and_then(|b64| STANDARD.decode(b64).ok()),
        other => panic!("{what}: content type {other:?}"),
    };
    assert!(
        delivered.as_deref() == Some(&flac[..]),
        "{what}: the endpoint gets the file's bytes"
    );

    let server = ReplayServer::start(Vec::<Tape>::new()).expect("replay server");
    let host = "sepformer.us-east-1.aws.endpoints.huggingface.cloud";
    let sources = separated_sources();
    server.add_route(host, "POST", "/", 200, audio_answer(&sources, &json!({})));
    let out = wire_client(&server)
        .audio_to_audio(flac)
        .model(format!("{}/", server.url_for_host(host)))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let got: Vec<(&str, &[u8])> = out
        .iter()
        .map(|e| (e.label.as_str(), e.blob.bytes().as_ref()))
        .collect();
    let want: Vec<(&str, &[u8])> = sources.iter().map(|(l, _, b)| (*l, &b[..])).collect();
    assert_eq!(got, want, "{what}");
    let sent = only_inference_request(&server, what);
    check_sent(&sent, &preview, "/", what);
    assert_eq!(hub.connections(), 0, "{what}: no Hub lookup");
}

// ---------------------------------------------------------------------------------------------
// Conformance tapes

/// The tasks of this file.
const TAPE_TASKS: [Task; 3] = [
    Task::AudioToAudio,
    Task::TabularClassification,
    Task::TabularRegression,
];

/// The tasks without any conformance tape, and why.
const TASKS_WITHOUT_TAPES: &[(Task, &str)] = &[(
    Task::AudioToAudio,
    "the huggingface.js suite recorded no audio-to-audio call; \
     `audio_to_audio_on_hf_inference` covers it on loopback",
)];

/// Body fields of legacy recordings that the SDK does not send: obsolete JS-client options.
const OBSOLETE_JS_FIELDS: [&str; 1] = ["options"];

enum Verdict {
    Pass,
    Fail(String),
    NotApplicable(String),
}

/// The Hub model id of an hf-inference URL (`…/models/<id>`).
fn model_of(url: &str) -> Option<String> {
    let path = url::Url::parse(url).ok()?.path().to_owned();
    let (_, id) = path.split_once("/models/")?;
    let id = id.trim_end_matches('/');
    (!id.is_empty()).then(|| id.to_owned())
}

/// The typed output of a tape's call, serialized back (for the comparison with the recording).
async fn call_tabular(
    client: &InferenceClient,
    task: Task,
    table: TabularData,
    model: &str,
    provider: Option<Provider>,
    extra_body: &Map<String, Value>,
) -> Result<Value, Error> {
    macro_rules! send {
        ($request:expr) => {{
            let mut request = $request.model(model);
            if let Some(p) = provider {
                request = request.provider(p);
            }
            if !extra_body.is_empty() {
                request = request.extra_body(Value::Object(extra_body.clone()));
            }
            let out = request.send().await?;
            Ok(serde_json::to_value(&out).expect("serializable output"))
        }};
    }
    match task {
        Task::TabularClassification => send!(client.tabular_classification(table)),
        Task::TabularRegression => send!(client.tabular_regression(table)),
        other => panic!("not a tabular task: {other}"),
    }
}

/// Replays one tabular tape.
async fn replay_tabular(tape: &Tape, task: Task) -> Verdict {
    let Ok(provider) = tape.provider.parse::<Provider>() else {
        return Verdict::NotApplicable(format!(
            "provider `{}` is not in the SDK's provider table",
            tape.provider
        ));
    };
    let Some(model) = tape
        .provenance
        .recorded_url
        .as_deref()
        .and_then(model_of)
        .or_else(|| model_of(&tape.request.url))
    else {
        return Verdict::Fail("no model id in the recorded URL".into());
    };
    let Some(Value::Object(recorded)) = tape.request.body_json.clone() else {
        return Verdict::Fail("the recording has no JSON body".into());
    };
    let table: TabularData = match recorded.get("inputs").and_then(|i| i.get("data")) {
        Some(data) => match serde_json::from_value(json!({ "data": data })) {
            Ok(table) => table,
            Err(e) => return Verdict::Fail(format!("`inputs.data` is not a table: {e}")),
        },
        None => return Verdict::Fail("no `inputs.data` in the recorded body".into()),
    };
    // What the recording sends besides the table: obsolete JS options are left out of legacy
    // tapes; anything else travels in `extra_body`.
    let mut dropped = Vec::new();
    let mut extra_body = Map::new();
    for (key, value) in &recorded {
        if key == "inputs" {
            continue;
        }
        if !tape.in_final_spec && OBSOLETE_JS_FIELDS.contains(&key.as_str()) {
            dropped.push(key.clone());
        } else {
            extra_body.insert(key.clone(), value.clone());
        }
    }
    let expected_body = {
        let mut body = recorded.clone();
        body.retain(|k, _| !dropped.contains(k));
        Value::Object(body)
    };
    let (Some(host), Some(path)) = (tape.host(), tape.path()) else {
        return Verdict::Fail(format!("unparsable recorded URL {}", tape.request.url));
    };

    let server = match ReplayServer::start([tape]) {
        Ok(s) => s,
        Err(e) => return Verdict::Fail(format!("cannot start the replay server: {e}")),
    };
    let client = match loopback_builder(FAKE_HF_TOKEN, &server)
        .model_mapping(model.clone(), provider, model.clone())
        .build()
    {
        Ok(c) => c,
        Err(e) => return Verdict::Fail(format!("client: {e}")),
    };

    // The call: on the tape's provider when the SDK's table has the task there; otherwise the
    // SDK must refuse it before any traffic, and the recording is replayed through a URL model
    // at the recorded URL (an endpoint serving the same model).
    let mut notes = Vec::new();
    let (target_model, target_provider) = if task.providers().contains(&provider) {
        (model.clone(), Some(provider))
    } else {
        let refused = call_tabular(
            &client,
            task,
            table.clone(),
            &model,
            Some(provider),
            &extra_body,
        )
        .await;
        match refused {
            Err(Error::ProviderNotSupported { supported, .. })
                if supported
                    == task
                        .providers()
                        .iter()
                        .map(|p| p.as_str().to_owned())
                        .collect::<Vec<_>>() => {}
            other => {
                return Verdict::Fail(format!(
                    "`{task}` is not in the table for {provider}: expected \
                     Error::ProviderNotSupported, got {other:?}"
                ));
            }
        }
        if !server.requests().is_empty() {
            return Verdict::Fail(format!(
                "the refused call sent {} request(s)",
                server.requests().len()
            ));
        }
        notes.push(format!(
            "{provider} has no `{task}` in the SDK's table (python-client.md §1.3: no provider \
             serves it), so the call is refused with Error::ProviderNotSupported before any \
             traffic; replayed through a URL model at the recorded URL"
        ));
        (format!("{}{path}", server.url_for_host(&host)), None)
    };
    let first = call_tabular(
        &client,
        task,
        table.clone(),
        &target_model,
        target_provider,
        &extra_body,
    )
    .await;
    let requests: Vec<RecordedRequest> = server
        .requests()
        .into_iter()
        .filter(|r| r.host != HUB_HOST)
        .collect();
    let [sent] = requests.as_slice() else {
        return Verdict::Fail(format!(
            "{} inference requests sent, 1 recorded; the SDK returned {first:?}",
            requests.len()
        ));
    };

    // The request: host, method, path, auth, content type and body (the recording's, minus the
    // obsolete fields of legacy tapes).
    let mut problems = Vec::new();
    if sent.host != host {
        problems.push(format!("host: recorded {host}, sent to {}", sent.host));
    }
    if sent.method != tape.request.method {
        problems.push(format!(
            "method: recorded {}, sent {}",
            tape.request.method, sent.method
        ));
    }
    if sent.path != path || sent.query.is_some() {
        problems.push(format!(
            "path: recorded {path}, sent {}",
            sent.path_and_query()
        ));
    }
    if sent.header("authorization") != Some(format!("Bearer {FAKE_HF_TOKEN}").as_str()) {
        problems.push("auth: expected `Authorization: Bearer <token>`".into());
    }
    if sent.header("content-type") != Some("application/json") {
        problems.push(format!(
            "content type: {:?}, not application/json",
            sent.header("content-type")
        ));
    }
    match sent.json() {
        Some(body) if body == expected_body => {}
        Some(body) => problems.extend(
            json_diff(&expected_body, &body, 8)
                .into_iter()
                .map(|d| format!("body {d}")),
        ),
        None => problems.push(format!("body: {} non-JSON bytes", sent.body.len())),
    }
    if !problems.is_empty() {
        return Verdict::Fail(format!(
            "request differs from the recording: {}",
            problems.join("; ")
        ));
    }

    // The response: when the recording did not answer (a legacy body), serve it on the SDK's
    // path whatever the body.
    let outcome = if sent.is_matched() {
        first
    } else {
        server.add_raw_route(
            &sent.host,
            &sent.method,
            &sent.path,
            tape.response.status,
            tape.response.content_type().unwrap_or("application/json"),
            tape.response.body_bytes().unwrap_or_default(),
        );
        call_tabular(
            &client,
            task,
            table,
            &target_model,
            target_provider,
            &extra_body,
        )
        .await
    };
    let checked = match check_response(tape, outcome) {
        Ok(checked) => checked,
        Err(e) => return Verdict::Fail(format!("response: {e}")),
    };

    if !tape.in_final_spec {
        let recorded_url = tape
            .provenance
            .recorded_url
            .clone()
            .unwrap_or_else(|| tape.request.url.clone());
        let dropped = if dropped.is_empty() {
            String::new()
        } else {
            format!(
                " without the obsolete JS-client field(s) `{}`",
                dropped.join("`, `")
            )
        };
        let called = if target_provider.is_some() {
            format!("the SDK calls https://{host}{path} (today's route)")
        } else {
            format!("the URL model is the recorded path, https://{host}{path}")
        };
        notes.push(format!(
            "legacy tape (in_final_spec: false), recorded by an older JS client against \
             {recorded_url}; {called}, with the recorded body{dropped}"
        ));
        return Verdict::NotApplicable(format!(
            "not applicable (request): {}; response parsing only: {checked}",
            notes.join("; ")
        ));
    }
    if !notes.is_empty() {
        return Verdict::NotApplicable(format!(
            "not applicable (request): {}; the request matches the recording; response: \
             {checked}",
            notes.join("; ")
        ));
    }
    Verdict::Pass
}

/// The typed output (serialized back) against the recorded answer and `test.expected`.
fn check_response(tape: &Tape, outcome: Result<Value, Error>) -> Result<String, String> {
    let status = tape.response.status;
    if status >= 400 {
        return match outcome {
            Err(e) if e.status() == Some(status) => {
                Ok(format!("HTTP {status} as the typed error {e}"))
            }
            other => Err(format!(
                "recorded HTTP {status}, the SDK returned {other:?}"
            )),
        };
    }
    let value = outcome.map_err(|e| format!("the call failed: {e}"))?;
    let recorded = tape
        .response
        .body_json
        .as_ref()
        .ok_or("the recorded response has no JSON body")?;
    if &value != recorded {
        return Err(format!(
            "the typed output {} differs from the recorded body {}: {}",
            expect::show(&value),
            expect::show(recorded),
            json_diff(recorded, &value, 4).join("; ")
        ));
    }
    let mut checked = vec![format!(
        "the typed output equals the recorded body {}",
        expect::show(recorded)
    )];
    if let Some(expected) = &tape.test.expected {
        let expectation = Expectation::parse(expected)?;
        expectation
            .check(Actual::Json(&value))
            .map_err(|e| format!("test.expected: {e}"))?;
        checked.push(format!("test.expected `{}` holds", expectation.kind()));
    }
    Ok(checked.join("; "))
}

#[tokio::test]
async fn replay_tabular_and_audio_to_audio_tapes() {
    let dir = tapes_dir();
    let tapes = Tape::load_dir(&dir)
        .unwrap_or_else(|e| panic!("load the conformance tapes from {}: {e}", dir.display()));
    let (mut passed, mut failed, mut not_applicable) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut per_task: BTreeMap<&str, usize> = BTreeMap::new();
    for tape in &tapes {
        let Some(&task) = TAPE_TASKS.iter().find(|t| t.as_str() == tape.task) else {
            continue;
        };
        if tape.is_inline() {
            continue;
        }
        *per_task.entry(task.as_str()).or_default() += 1;
        let verdict = match task {
            Task::AudioToAudio => Verdict::Fail(
                "an audio-to-audio tape exists now: replay it here (decode the recorded blobs \
                 and compare the bytes) and drop the TASKS_WITHOUT_TAPES entry"
                    .into(),
            ),
            _ => replay_tabular(tape, task).await,
        };
        match verdict {
            Verdict::Pass => {
                passed += 1;
                println!("PASS {}", tape.file_name);
            }
            Verdict::Fail(why) => {
                failed += 1;
                println!("FAIL {}: {why}", tape.file_name);
                failures.push(format!("{}: {why}", tape.file_name));
            }
            Verdict::NotApplicable(why) => {
                not_applicable += 1;
                println!("N/A  {}: {why}", tape.file_name);
            }
        }
    }
    let without: Vec<Task> = TAPE_TASKS
        .into_iter()
        .filter(|t| !per_task.contains_key(t.as_str()))
        .collect();
    for (task, why) in TASKS_WITHOUT_TAPES {
        println!("NO TAPE {task}: {why}");
    }
    println!(
        "tabular and audio-to-audio replay: {passed} passed, {failed} failed, {not_applicable} \
         not applicable"
    );
    assert!(
        failures.is_empty(),
        "failed tapes:\n{}",
        failures.join("\n")
    );
    assert_eq!(
        without,
        TASKS_WITHOUT_TAPES
            .iter()
            .map(|(t, _)| *t)
            .collect::<Vec<_>>(),
        "the tasks without tapes are the documented ones"
    );
    assert_eq!(
        per_task.get("tabular-classification").copied(),
        Some(1),
        "one tabular-classification tape"
    );
    assert_eq!(
        per_task.get("tabular-regression").copied(),
        Some(1),
        "one tabular-regression tape"
    );
    assert_eq!(
        passed + failed + not_applicable,
        2,
        "every tape has a verdict"
    );
}
