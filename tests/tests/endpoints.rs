//! Inference Endpoints on loopback: every control-plane call's request (method, path, body,
//! credentials) and the parsing of the service's answers, replayed from the payloads of
//! `huggingface_hub`'s tests (shared/reference/inference-endpoints.md §11); the wait loop through
//! pending → initializing → running, a failure and a timeout; and a client built from a running
//! endpoint reaching it.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hf_inference::endpoints::{
    EndpointImage, EndpointState, EndpointType, InferenceEndpoint, ScalingMetric, WaitProgress,
};
use hf_inference::http::retry::RetryPolicy;
use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference::{Error, InferenceClient, InferenceClientBuilder};
use hf_inference_tests::support::{RawRequest, loopback_http, read_raw_request};
use serde_json::{Value, json};

const TOKEN: &str = "hf_endpointsFakeToken000000000000000";
const ENDPOINT_HOST: &str = "vksrvs8pc1xnifhq.us-east-1.aws.endpoints.huggingface.cloud";

// ---------------------------------------------------------------------------------------------
// The service's answers (reference note §11)

/// `MOCK_INITIALIZING`: the create answer, no URL, nanosecond timestamps, legacy type.
const PENDING: &str = r#"{
  "name": "my-endpoint-name", "type": "protected", "accountId": null,
  "provider": {"vendor": "aws", "region": "us-east-1"}, "healthRoute": "/health",
  "compute": {"accelerator": "cpu", "instanceType": "intel-icl", "instanceSize": "x2",
              "scaling": {"minReplica": 0, "maxReplica": 1}},
  "model": {"repository": "gpt2", "revision": "11c5a3d5811f50298f278a704980280950aedb10",
            "task": "text-generation", "framework": "pytorch", "image": {"huggingface": {}},
            "secret": {"token": "my-token"}},
  "status": {"createdAt": "2023-10-26T12:41:53.263078506Z",
             "createdBy": {"id": "6273f303f6d63a28483fde12", "name": "Wauplin"},
             "updatedAt": "2023-10-26T12:41:53.263079138Z",
             "updatedBy": {"id": "6273f303f6d63a28483fde12", "name": "Wauplin"},
             "private": null, "state": "pending", "message": "Endpoint waiting to be scheduled",
             "readyReplica": 0, "targetReplica": 0}
}"#;

/// `MOCK_RUNNING`: has a URL.
const RUNNING: &str = r#"{
  "name": "my-endpoint-name", "type": "protected", "accountId": null,
  "provider": {"vendor": "aws", "region": "us-east-1"}, "healthRoute": "/health",
  "compute": {"accelerator": "cpu", "instanceType": "intel-icl", "instanceSize": "x2",
              "scaling": {"minReplica": 0, "maxReplica": 1}},
  "model": {"repository": "gpt2", "revision": "11c5a3d5811f50298f278a704980280950aedb10",
            "task": "text-generation", "framework": "pytorch", "image": {"huggingface": {}},
            "secrets": {"token": "my-token"}},
  "status": {"createdAt": "2023-10-26T12:41:53.263Z",
             "createdBy": {"id": "6273f303f6d63a28483fde12", "name": "Wauplin"},
             "updatedAt": "2023-10-26T12:41:53.263Z",
             "updatedBy": {"id": "6273f303f6d63a28483fde12", "name": "Wauplin"},
             "private": null, "state": "running", "message": "Endpoint is ready",
             "url": "https://vksrvs8pc1xnifhq.us-east-1.aws.endpoints.huggingface.cloud",
             "readyReplica": 1, "targetReplica": 1}
}"#;

/// The catalog deploy answer (§11.3).
const CATALOG_DEPLOYED: &str = r#"{"endpoint": {
  "compute": {"accelerator": "gpu", "id": "aws-us-east-1-nvidia-l4-x1", "instanceSize": "x1",
              "instanceType": "nvidia-l4",
              "scaling": {"maxReplica": 1, "measure": {"hardwareUsage": null}, "metric": "hardwareUsage",
                          "minReplica": 0, "scaleToZeroTimeout": 15}},
  "model": {"env": {}, "framework": "pytorch",
            "image": {"tgi": {"disableCustomKernels": false, "healthRoute": "/health", "port": 80,
                              "url": "ghcr.io/huggingface/text-generation-inference:3.1.1"}},
            "repository": "meta-llama/Llama-3.2-3B-Instruct",
            "revision": "0cb88a4f764b7a12671c53f0838cd831a0843b95", "secrets": {},
            "task": "text-generation"},
  "name": "llama-3-2-3b-instruct-eey", "provider": {"region": "us-east-1", "vendor": "aws"},
  "healthRoute": "/health",
  "status": {"createdAt": "2025-03-07T15:30:13.949Z",
             "createdBy": {"id": "6273f303f6d63a28483fde12", "name": "Wauplin"},
             "message": "Endpoint waiting to be scheduled", "readyReplica": 0, "state": "pending",
             "targetReplica": 1, "updatedAt": "2025-03-07T15:30:13.949Z",
             "updatedBy": {"id": "6273f303f6d63a28483fde12", "name": "Wauplin"}},
  "type": "protected"}}"#;

/// The catalog listing (§11.4, built from the parser's field names).
const CATALOG_LIST: &str = r#"{"items": [{"repoId": "meta-llama/Llama-3.1-8B-Instruct",
  "modelName": "Llama-3.1-8B-Instruct", "authorName": "meta-llama", "license": "Apache 2.0",
  "task": "text-generation", "createdAt": "2025-03-07T15:30:13.949Z",
  "recipes": [{"publicId": "sizzling-biryani-g4xsi1ac", "accelerator": "neuron", "engineType": "vllm"},
              {"publicId": "artisanal-quinoa-yz9ynamx", "accelerator": "gpu", "engineType": "vllm", "revision": null}]}]}"#;

/// The minimal endpoint of the payload tests (§11.4).
const MINIMAL: &str = r#"{"name": "test-endpoint-custom-img",
 "model": {"repository": "meta-llama/Llama-2-7b-chat-hf", "framework": "pytorch", "revision": null, "task": "text-generation"},
 "status": {"state": "pending", "createdAt": "2025-03-07T15:30:13.949Z", "updatedAt": "2025-03-07T15:30:13.949Z"},
 "healthRoute": "/health", "type": "authenticated"}"#;

/// A variant of [`RUNNING`] (`MOCK_FAILED`, the `paused` answer, …): another state and
/// message, no URL.
fn running_as(state: &str, message: &str) -> String {
    let mut value: Value = serde_json::from_str(RUNNING).unwrap();
    value["status"]["state"] = json!(state);
    value["status"]["message"] = json!(message);
    value["status"].as_object_mut().unwrap().remove("url");
    value.to_string()
}

fn with_state(payload: &str, state: &str) -> String {
    let mut value: Value = serde_json::from_str(payload).unwrap();
    value["status"]["state"] = json!(state);
    value.to_string()
}

const CHAT_ANSWER: &str = r#"{"id":"","object":"chat.completion","created":1732500000,"model":"gpt2","system_fingerprint":"3.1.1-sha-abc","choices":[{"index":0,"message":{"role":"assistant","content":"Paris."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#;

const TGI_INFO: &str = r#"{"model_id":"gpt2","model_sha":"11c5a3d5811f50298f278a704980280950aedb10","model_dtype":"torch.float16","model_device_type":"cuda","model_pipeline_tag":"text-generation","max_concurrent_requests":128,"max_best_of":2,"max_stop_sequences":4,"max_input_tokens":1023,"max_total_tokens":1024,"validation_workers":2,"max_client_batch_size":4,"router":"text-generation-router","version":"3.1.1","sha":"abc","docker_label":"sha-abc"}"#;

// ---------------------------------------------------------------------------------------------
// A scripted loopback server

#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
}

fn ok(body: impl Into<String>) -> Reply {
    Reply {
        status: 200,
        headers: Vec::new(),
        body: body.into(),
    }
}

fn status(status: u16, body: impl Into<String>) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.into(),
    }
}

#[derive(Default)]
struct Script {
    /// (method, path and query) → answers in order, the last one repeated.
    routes: HashMap<(String, String), VecDeque<Reply>>,
    log: Vec<RawRequest>,
}

/// Answers each request with the next reply scripted for its method and target, and records
/// it. An unscripted request gets a 599 naming it, which fails the call under test.
struct Server {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
}

impl Server {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = script.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let Some(request) = read_raw_request(&stream) else {
                        return;
                    };
                    let reply = {
                        let mut script = shared.lock().unwrap();
                        let key = (request.method.clone(), request.target.clone());
                        let reply = match script.routes.get_mut(&key) {
                            Some(queue) if queue.len() > 1 => queue.pop_front(),
                            Some(queue) => queue.front().cloned(),
                            None => None,
                        };
                        script.log.push(request.clone());
                        reply.unwrap_or_else(|| {
                            status(599, format!("unscripted {} {}", key.0, key.1))
                        })
                    };
                    let mut head = format!(
                        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                        reply.status,
                        reply.body.len()
                    );
                    for (name, value) in &reply.headers {
                        head.push_str(&format!("{name}: {value}\r\n"));
                    }
                    head.push_str("\r\n");
                    let mut stream = stream;
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(reply.body.as_bytes());
                });
            }
        });
        Self { addr, script }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn on(&self, method: &str, target: &str, replies: Vec<Reply>) {
        self.script
            .lock()
            .unwrap()
            .routes
            .insert((method.to_owned(), target.to_owned()), replies.into());
    }

    fn requests(&self) -> Vec<RawRequest> {
        self.script.lock().unwrap().log.clone()
    }

    fn take_requests(&self) -> Vec<RawRequest> {
        std::mem::take(&mut self.script.lock().unwrap().log)
    }

    fn count(&self, method: &str, target: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.target == target)
            .count()
    }
}

/// A client whose Endpoints API, Catalog API and Hub are on `api` (under their real paths) and
/// whose endpoint host is redirected to `endpoint`.
fn builder(api: &Server, endpoint: &Server) -> InferenceClientBuilder {
    InferenceClient::builder()
        .token(TOKEN)
        .inference_endpoints_url(format!("{}/v2", api.url()))
        .inference_catalog_url(format!("{}/api/v1/catalog", api.url()))
        .hub_url(api.url())
        .redirect_host(ENDPOINT_HOST, endpoint.url())
        .retry_policy(RetryPolicy::disabled())
        .http_client(loopback_http())
}

fn client(api: &Server, endpoint: &Server) -> InferenceClient {
    builder(api, endpoint).build().expect("client")
}

/// Asserts one recorded request: method, target, body (`None`: no body and no content type)
/// and the token.
fn assert_request(request: &RawRequest, method: &str, target: &str, body: Option<&str>) {
    let what = format!("{method} {target}");
    assert_eq!(
        (request.method.as_str(), request.target.as_str()),
        (method, target),
        "{what}"
    );
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str()),
        "{what}: token"
    );
    match body {
        Some(body) => {
            assert_eq!(String::from_utf8_lossy(&request.body), body, "{what}: body");
            assert_eq!(
                request.header("content-type"),
                Some("application/json"),
                "{what}"
            );
        }
        None => {
            assert!(request.body.is_empty(), "{what}: a body was sent");
            assert_eq!(request.header("content-type"), None, "{what}: content type");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Control-plane calls

#[tokio::test]
async fn get_parses_the_pending_answer_as_the_reference_does() {
    let (api, host) = (Server::start(), Server::start());
    api.on(
        "GET",
        "/v2/endpoint/foo/my-endpoint-name",
        vec![ok(PENDING)],
    );
    let endpoints = client(&api, &host).inference_endpoints().namespace("foo");
    let endpoint = endpoints.get("my-endpoint-name").await.expect("get");

    assert_request(
        &api.requests()[0],
        "GET",
        "/v2/endpoint/foo/my-endpoint-name",
        None,
    );
    assert_eq!(endpoint.name(), "my-endpoint-name");
    assert_eq!(endpoint.namespace(), "foo");
    assert_eq!(endpoint.repository(), Some("gpt2"));
    assert_eq!(endpoint.state(), &EndpointState::Pending);
    assert_eq!(endpoint.url(), None);
    let details = endpoint.details();
    assert_eq!(details.model.framework.as_deref(), Some("pytorch"));
    assert_eq!(
        details.model.revision.as_deref(),
        Some("11c5a3d5811f50298f278a704980280950aedb10")
    );
    assert_eq!(details.model.task.as_deref(), Some("text-generation"));
    assert_eq!(details.endpoint_type, Some(EndpointType::Protected));
    assert_eq!(details.health_route.as_deref(), Some("/health"));
    assert_eq!(
        details.status.created_at.as_deref(),
        Some("2023-10-26T12:41:53.263078506Z")
    );
    assert_eq!(
        details.status.message.as_deref(),
        Some("Endpoint waiting to be scheduled")
    );
    let compute = details.compute.as_ref().expect("compute");
    assert_eq!(compute.instance_type.as_deref(), Some("intel-icl"));
    assert_eq!(compute.scaling.as_ref().unwrap().max_replica, Some(1));
    // Unknown fields are kept, not dropped.
    assert!(details.extra.contains_key("accountId"));
    assert!(details.model.extra.contains_key("secret"));
    assert_eq!(
        endpoint.raw(),
        &serde_json::from_str::<Value>(PENDING).unwrap()
    );
    // Debug output never shows the secret the answer carries.
    assert!(!format!("{endpoint:?} {details:?}").contains("my-token"));
}

#[tokio::test]
async fn list_and_lifecycle_calls_send_the_reference_requests() {
    let (api, host) = (Server::start(), Server::start());
    let catalog_endpoint =
        serde_json::from_str::<Value>(CATALOG_DEPLOYED).unwrap()["endpoint"].clone();
    api.on(
        "GET",
        "/v2/endpoint/foo",
        vec![ok(
            json!({"items": [serde_json::from_str::<Value>(RUNNING).unwrap(), catalog_endpoint]})
                .to_string(),
        )],
    );
    api.on(
        "POST",
        "/v2/endpoint/foo/my-endpoint-name/pause",
        vec![ok(running_as("paused", "Endpoint is paused"))],
    );
    api.on(
        "POST",
        "/v2/endpoint/foo/my-endpoint-name/resume",
        vec![ok(with_state(PENDING, "pending"))],
    );
    api.on(
        "POST",
        "/v2/endpoint/foo/my-endpoint-name/scale-to-zero",
        vec![ok(with_state(RUNNING, "scaledToZero"))],
    );
    api.on("DELETE", "/v2/endpoint/foo/my-endpoint-name", vec![ok("")]);
    let endpoints = client(&api, &host).inference_endpoints().namespace("foo");

    let listed = endpoints.list().await.expect("list");
    let names: Vec<(&str, &EndpointState, Option<&str>)> = listed
        .iter()
        .map(|e| (e.name(), e.state(), e.url()))
        .collect();
    assert_eq!(
        names,
        [
            (
                "my-endpoint-name",
                &EndpointState::Running,
                Some("https://vksrvs8pc1xnifhq.us-east-1.aws.endpoints.huggingface.cloud")
            ),
            ("llama-3-2-3b-instruct-eey", &EndpointState::Pending, None),
        ]
    );
    assert!(listed.iter().all(|e| e.namespace() == "foo"));

    let paused = endpoints.pause("my-endpoint-name").await.expect("pause");
    assert_eq!(paused.state(), &EndpointState::Paused);
    assert_eq!(paused.url(), None);
    let resumed = endpoints.resume("my-endpoint-name").await.expect("resume");
    assert_eq!(resumed.state(), &EndpointState::Pending);
    let scaled = endpoints
        .scale_to_zero("my-endpoint-name")
        .await
        .expect("scale to zero");
    assert_eq!(scaled.state(), &EndpointState::ScaledToZero);
    assert!(
        scaled.url().is_some(),
        "a scaled-to-zero endpoint keeps its URL"
    );
    endpoints.delete("my-endpoint-name").await.expect("delete");

    let sent = api.requests();
    let expected = [
        ("GET", "/v2/endpoint/foo"),
        ("POST", "/v2/endpoint/foo/my-endpoint-name/pause"),
        ("POST", "/v2/endpoint/foo/my-endpoint-name/resume"),
        ("POST", "/v2/endpoint/foo/my-endpoint-name/scale-to-zero"),
        ("DELETE", "/v2/endpoint/foo/my-endpoint-name"),
    ];
    assert_eq!(sent.len(), expected.len(), "{sent:#?}");
    for (request, (method, target)) in sent.iter().zip(expected) {
        assert_request(request, method, target, None);
    }
}

#[tokio::test]
async fn the_endpoint_value_updates_itself_from_each_answer() {
    let (api, host) = (Server::start(), Server::start());
    api.on(
        "GET",
        "/v2/endpoint/foo/my-endpoint-name",
        vec![ok(RUNNING)],
    );
    api.on(
        "POST",
        "/v2/endpoint/foo/my-endpoint-name/pause",
        vec![ok(running_as("paused", "Endpoint is paused"))],
    );
    api.on(
        "POST",
        "/v2/endpoint/foo/my-endpoint-name/resume",
        vec![ok(running_as("initializing", "Endpoint is starting"))],
    );
    api.on(
        "POST",
        "/v2/endpoint/foo/my-endpoint-name/scale-to-zero",
        vec![ok(with_state(RUNNING, "scaledToZero"))],
    );
    let endpoints = client(&api, &host).inference_endpoints().namespace("foo");
    let mut endpoint = endpoints.get("my-endpoint-name").await.unwrap();

    endpoint.pause().await.unwrap();
    assert_eq!(endpoint.state(), &EndpointState::Paused);
    endpoint.resume().await.unwrap();
    assert_eq!(endpoint.state(), &EndpointState::Initializing);
    endpoint.refresh().await.unwrap();
    assert_eq!(endpoint.state(), &EndpointState::Running);
    endpoint.scale_to_zero().await.unwrap();
    assert_eq!(endpoint.state(), &EndpointState::ScaledToZero);
    assert_eq!(api.requests().len(), 5);
}

#[tokio::test]
async fn create_sends_the_reference_bodies() {
    let (api, host) = (Server::start(), Server::start());
    api.on("POST", "/v2/endpoint/foo", vec![ok(PENDING)]);
    api.on("POST", "/v2/endpoint/acme", vec![ok(MINIMAL)]);
    let endpoints = client(&api, &host).inference_endpoints();

    // The minimal call: exactly what huggingface_hub 2.4.0 sends (§3.1).
    let endpoint = endpoints
        .clone()
        .namespace("foo")
        .create("my-endpoint-name", "gpt2")
        .hardware("aws", "us-east-1", "cpu", "intel-icl", "x2")
        .send()
        .await
        .expect("create");
    assert_eq!(endpoint.state(), &EndpointState::Pending);
    assert_request(
        &api.take_requests()[0],
        "POST",
        "/v2/endpoint/foo",
        Some(
            r#"{"compute":{"accelerator":"cpu","instanceSize":"x2","instanceType":"intel-icl","scaling":{"maxReplica":1,"minReplica":1,"scaleToZeroTimeout":null}},"model":{"framework":"pytorch","repository":"gpt2","revision":null,"image":{"huggingface":{}}},"name":"my-endpoint-name","provider":{"region":"us-east-1","vendor":"aws"},"type":"authenticated"}"#,
        ),
    );

    // Every field set (§3.1, namespace `acme`).
    let endpoint = endpoints
        .clone()
        .namespace("acme")
        .create("e2", "gpt2")
        .hardware("aws", "us-east-1", "gpu", "nvidia-l4", "x1")
        .min_replica(0)
        .max_replica(2)
        .scale_to_zero_timeout(15)
        .scaling(ScalingMetric::PendingRequests, Some(1.5))
        .revision("abc")
        .image(EndpointImage::custom("my.reg/img:1").port(8080))
        .registry_credentials("u", Some("p".into()))
        .task("text-generation")
        .command(["python"])
        .args(["--x"])
        .env("A", "1")
        .secret("S", "2")
        .endpoint_type(EndpointType::Public)
        .private_link("123", "us-east-1")
        .domain("d.example")
        .path("/m")
        .cache_http_responses(true)
        .tags(["t"])
        .send()
        .await
        .expect("create with every field");
    assert_eq!(endpoint.name(), "test-endpoint-custom-img");
    assert_eq!(endpoint.namespace(), "acme");
    assert_request(
        &api.take_requests()[0],
        "POST",
        "/v2/endpoint/acme",
        Some(
            r#"{"compute":{"accelerator":"gpu","instanceSize":"x1","instanceType":"nvidia-l4","scaling":{"maxReplica":2,"minReplica":0,"scaleToZeroTimeout":15,"measure":{"pendingRequests":1.5}}},"model":{"framework":"pytorch","repository":"gpt2","revision":"abc","image":{"custom":{"url":"my.reg/img:1","port":8080,"credentials":{"username":"u","password":"p"}}},"task":"text-generation","command":["python"],"args":["--x"],"env":{"A":"1"},"secrets":{"S":"2"}},"name":"e2","provider":{"region":"us-east-1","vendor":"aws"},"type":"public","privateService":{"accountId":"123","region":"us-east-1"},"route":{"domain":"d.example","path":"/m"},"cacheHttpResponses":true,"tags":["t"]}"#,
        ),
    );
}

#[tokio::test]
async fn bad_create_input_fails_before_any_traffic() {
    let (api, host) = (Server::start(), Server::start());
    let endpoints = client(&api, &host).inference_endpoints().namespace("foo");
    let field = |err: Error| match err {
        Error::InvalidInput { field, .. } => field,
        other => panic!("expected InvalidInput, got {other:?}"),
    };
    let no_hardware = endpoints.create("e", "gpt2").send().await.unwrap_err();
    assert_eq!(
        field(no_hardware),
        "vendor, region, accelerator, instance_type, instance_size"
    );
    let hw = |c: hf_inference::endpoints::CreateEndpoint| {
        c.hardware("aws", "us-east-1", "cpu", "intel-icl", "x2")
    };
    let protected = hw(endpoints.create("e", "gpt2"))
        .endpoint_type(EndpointType::Protected)
        .send()
        .await
        .unwrap_err();
    assert_eq!(field(protected), "endpoint_type");
    let credentials = hw(endpoints.create("e", "gpt2"))
        .registry_credentials("u", None)
        .send()
        .await
        .unwrap_err();
    assert_eq!(field(credentials), "registry_credentials");
    let bad_name = hw(endpoints.create("a/b", "gpt2"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(field(bad_name), "name");
    assert_eq!(field(endpoints.get("").await.unwrap_err()), "name");
    assert!(api.requests().is_empty(), "{:?}", api.requests());
}

#[tokio::test]
async fn update_sends_only_what_changes() {
    let (api, host) = (Server::start(), Server::start());
    api.on(
        "PUT",
        "/v2/endpoint/acme/my-endpoint-name",
        vec![ok(with_state(RUNNING, "updating"))],
    );
    let vllm = with_image(
        RUNNING,
        json!({"vLLM": {"url": "vllm/vllm-openai:v0.23.0", "port": 8000}}),
    );
    api.on("GET", "/v2/endpoint/acme/my-endpoint-name", vec![ok(vllm)]);
    let endpoints = client(&api, &host).inference_endpoints().namespace("acme");

    // The reference's exact partial body (§3.2).
    let updated = endpoints
        .update("my-endpoint-name")
        .min_replica(1u32)
        .scaling(ScalingMetric::HardwareUsage, Some(80.0))
        .args(Vec::<String>::new())
        .env(Vec::<(String, String)>::new())
        .secrets(Vec::<(String, String)>::new())
        .domain("x")
        .cache_http_responses(false)
        .tags(Vec::<String>::new())
        .send()
        .await
        .expect("update");
    assert_eq!(updated.state(), &EndpointState::Updating);
    assert_request(
        &api.take_requests()[0],
        "PUT",
        "/v2/endpoint/acme/my-endpoint-name",
        Some(
            r#"{"compute":{"scaling":{"minReplica":1,"measure":{"hardwareUsage":80}}},"model":{"args":[],"env":{},"secrets":{}},"route":{"domain":"x"},"cacheHttpResponses":false,"tags":[]}"#,
        ),
    );

    // Parallelism needs the whole image: read it, then send it back with the new setting.
    endpoints
        .update("my-endpoint-name")
        .tensor_parallel_size(4)
        .send()
        .await
        .expect("update parallelism");
    let sent = api.take_requests();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert_request(&sent[0], "GET", "/v2/endpoint/acme/my-endpoint-name", None);
    assert_request(
        &sent[1],
        "PUT",
        "/v2/endpoint/acme/my-endpoint-name",
        Some(
            r#"{"model":{"image":{"vLLM":{"url":"vllm/vllm-openai:v0.23.0","port":8000,"tensorParallelSize":4}}}}"#,
        ),
    );
}

fn with_image(payload: &str, image: Value) -> String {
    let mut value: Value = serde_json::from_str(payload).unwrap();
    value["model"]["image"] = image;
    value.to_string()
}

/// `MOCK_PROVIDERS` (§11.4) with the `gcp` vendor of the full mock.
const HARDWARE: &str = r#"{"vendors": [{"name": "aws", "status": "available", "regions": [{"name": "us-east-1", "label": "N. Virginia", "status": "available", "computes": [
  {"id": "aws-us-east-1-nvidia-l4-x1", "accelerator": "gpu", "numAccelerators": 1, "numCpus": 7, "memoryGb": 30.0, "gpuMemoryGb": 24,
   "instanceType": "nvidia-l4", "instanceSize": "x1", "architecture": "Nvidia L4", "status": "available", "pricePerHour": 0.8,
   "quota": {"maxAccelerators": 16, "usedAccelerators": 1}},
  {"id": "aws-us-east-1-intel-spr-x1", "accelerator": "cpu", "numAccelerators": 1, "memoryGb": 2.0, "gpuMemoryGb": null,
   "instanceType": "intel-spr", "instanceSize": "x1", "architecture": "Intel Sapphire Rapids", "status": "available", "pricePerHour": 0.033,
   "quota": {"maxAccelerators": 60, "usedAccelerators": 0}}]}]},
  {"name": "gcp", "status": "available", "regions": [{"name": "us-east4", "label": "Virginia", "status": "available", "computes": [
  {"id": "gcp-us-east4-nvidia-a100-x8", "accelerator": "gpu", "numAccelerators": 8, "numCpus": 96, "memoryGb": 680.0, "gpuMemoryGb": 640,
   "instanceType": "nvidia-a100", "instanceSize": "x8", "architecture": "Nvidia A100", "status": "reserved", "pricePerHour": 28.8,
   "quota": {"maxAccelerators": 2, "usedAccelerators": 0}}]}]}]}"#;

/// id, vendor, region, status, CPUs, accelerator memory.
type HardwareRow<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<u32>,
    Option<f64>,
);

#[tokio::test]
async fn hardware_is_listed_flat() {
    let (api, host) = (Server::start(), Server::start());
    api.on("GET", "/v2/provider/acme", vec![ok(HARDWARE)]);
    let endpoints = client(&api, &host).inference_endpoints().namespace("acme");
    let hardware = endpoints.hardware().await.expect("hardware");
    assert_request(&api.requests()[0], "GET", "/v2/provider/acme", None);
    let rows: Vec<HardwareRow> = hardware
        .iter()
        .map(|h| {
            (
                h.id.as_str(),
                h.vendor.as_str(),
                h.region.as_str(),
                h.status.as_deref(),
                h.num_cpus,
                h.gpu_memory_gb,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "aws-us-east-1-nvidia-l4-x1",
                "aws",
                "us-east-1",
                Some("available"),
                Some(7),
                Some(24.0)
            ),
            (
                "aws-us-east-1-intel-spr-x1",
                "aws",
                "us-east-1",
                Some("available"),
                None,
                None
            ),
            (
                "gcp-us-east4-nvidia-a100-x8",
                "gcp",
                "us-east4",
                Some("reserved"),
                Some(96),
                Some(640.0)
            ),
        ]
    );
    let l4 = &hardware[0];
    assert_eq!(
        (
            l4.instance_type.as_deref(),
            l4.instance_size.as_deref(),
            l4.price_per_hour
        ),
        (Some("nvidia-l4"), Some("x1"), Some(0.8))
    );
    assert_eq!(
        (l4.max_accelerators, l4.used_accelerators),
        (Some(16), Some(1))
    );
}

#[tokio::test]
async fn catalog_list_and_deploys() {
    let (api, host) = (Server::start(), Server::start());
    api.on(
        "GET",
        "/api/v1/catalog/list?engine=vllm&limit=5",
        vec![ok(CATALOG_LIST)],
    );
    api.on(
        "POST",
        "/api/v1/catalog/model/Qwen/Qwen2.5-Coder-7B-Instruct/deploy",
        vec![ok(CATALOG_DEPLOYED)],
    );
    api.on(
        "POST",
        "/api/v1/catalog/recipe/sizzling-biryani-g4xsi1ac/deploy",
        vec![ok(CATALOG_DEPLOYED)],
    );
    let endpoints = client(&api, &host).inference_endpoints().namespace("acme");

    let models = endpoints
        .catalog()
        .engine("vllm")
        .limit(5)
        .send()
        .await
        .expect("catalog");
    assert_eq!(models.len(), 1);
    let model = &models[0];
    assert_eq!(model.repo_id, "meta-llama/Llama-3.1-8B-Instruct");
    assert_eq!(model.name.as_deref(), Some("Llama-3.1-8B-Instruct"));
    assert_eq!(model.author.as_deref(), Some("meta-llama"));
    let recipes: Vec<(&str, Option<&str>, Option<&str>)> = model
        .recipes
        .iter()
        .map(|r| (r.id.as_str(), r.accelerator.as_deref(), r.engine.as_deref()))
        .collect();
    assert_eq!(
        recipes,
        [
            ("sizzling-biryani-g4xsi1ac", Some("neuron"), Some("vllm")),
            ("artisanal-quinoa-yz9ynamx", Some("gpu"), Some("vllm")),
        ]
    );

    let deployed = endpoints
        .create_from_catalog("Qwen/Qwen2.5-Coder-7B-Instruct")
        .name("n")
        .accelerator("gpu")
        .gguf_file("f.gguf")
        .send()
        .await
        .expect("deploy a model");
    assert_eq!(deployed.name(), "llama-3-2-3b-instruct-eey");
    assert_eq!(deployed.namespace(), "acme");
    assert_eq!(deployed.state(), &EndpointState::Pending);
    let scaling = deployed
        .details()
        .compute
        .as_ref()
        .unwrap()
        .scaling
        .as_ref()
        .unwrap();
    assert_eq!(scaling.metric, Some(ScalingMetric::HardwareUsage));
    assert_eq!(scaling.scale_to_zero_timeout, Some(15));

    endpoints
        .create_from_recipe("sizzling-biryani-g4xsi1ac")
        .send()
        .await
        .expect("deploy a recipe");
    let recipe_with_accelerator = endpoints
        .create_from_recipe("sizzling-biryani-g4xsi1ac")
        .accelerator("gpu")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        recipe_with_accelerator,
        Error::InvalidInput { .. }
    ));

    let sent = api.requests();
    assert_eq!(sent.len(), 3, "{sent:#?}");
    assert_request(
        &sent[0],
        "GET",
        "/api/v1/catalog/list?engine=vllm&limit=5",
        None,
    );
    assert_request(
        &sent[1],
        "POST",
        "/api/v1/catalog/model/Qwen/Qwen2.5-Coder-7B-Instruct/deploy",
        Some(
            r#"{"namespace":"acme","config":{"name":"n"},"accelerator":"gpu","ggufFile":"f.gguf"}"#,
        ),
    );
    assert_request(
        &sent[2],
        "POST",
        "/api/v1/catalog/recipe/sizzling-biryani-g4xsi1ac/deploy",
        Some(r#"{"namespace":"acme"}"#),
    );
}

#[tokio::test]
async fn the_default_namespace_is_the_token_owner_asked_once() {
    let (api, host) = (Server::start(), Server::start());
    api.on(
        "GET",
        "/api/whoami-v2",
        vec![ok(
            r#"{"type":"user","name":"Wauplin","orgs":[{"name":"acme"}]}"#,
        )],
    );
    api.on("GET", "/v2/endpoint/Wauplin", vec![ok(r#"{"items":[]}"#)]);
    api.on(
        "GET",
        "/v2/endpoint/Wauplin/my-endpoint-name",
        vec![ok(RUNNING)],
    );
    let endpoints = client(&api, &host).inference_endpoints();
    assert!(endpoints.list().await.expect("list").is_empty());
    let endpoint = endpoints.get("my-endpoint-name").await.expect("get");
    assert_eq!(endpoint.namespace(), "Wauplin");
    assert_eq!(api.count("GET", "/api/whoami-v2"), 1);
    assert_request(&api.requests()[0], "GET", "/api/whoami-v2", None);

    // Every namespace: the user's, then each organization's; one the token may not list is
    // skipped.
    api.on(
        "GET",
        "/v2/endpoint/acme",
        vec![ok(
            json!({"items": [serde_json::from_str::<Value>(MINIMAL).unwrap()]}).to_string(),
        )],
    );
    api.on(
        "GET",
        "/v2/endpoint/Wauplin",
        vec![ok(
            json!({"items": [serde_json::from_str::<Value>(RUNNING).unwrap()]}).to_string(),
        )],
    );
    api.on(
        "GET",
        "/api/whoami-v2",
        vec![ok(
            r#"{"type":"user","name":"Wauplin","orgs":[{"name":"acme"},{"name":"secret-org"}]}"#,
        )],
    );
    api.on(
        "GET",
        "/v2/endpoint/secret-org",
        vec![status(403, r#"{"error":"Forbidden"}"#)],
    );
    let all = client(&api, &host)
        .inference_endpoints()
        .list_all()
        .await
        .expect("list all");
    let found: Vec<(&str, &str)> = all.iter().map(|e| (e.namespace(), e.name())).collect();
    assert_eq!(
        found,
        [
            ("Wauplin", "my-endpoint-name"),
            ("acme", "test-endpoint-custom-img")
        ]
    );
    api.on(
        "GET",
        "/v2/endpoint/secret-org",
        vec![status(500, r#"{"error":"boom"}"#)],
    );
    let err = client(&api, &host)
        .inference_endpoints()
        .list_all()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500), "{err:?}");

    // An organization token must name its namespace.
    let (api, host) = (Server::start(), Server::start());
    api.on(
        "GET",
        "/api/whoami-v2",
        vec![ok(r#"{"type":"org","name":"acme"}"#)],
    );
    let err = client(&api, &host)
        .inference_endpoints()
        .list()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, message } if field == "namespace" && message.contains("acme")),
        "{err:?}"
    );
}

#[tokio::test]
async fn service_errors_are_typed_and_resume_tolerates_running() {
    let (api, host) = (Server::start(), Server::start());
    api.on(
        "GET",
        "/v2/endpoint/foo/missing",
        vec![Reply {
            status: 404,
            headers: vec![("x-request-id", "req-123")],
            body: r#"{"error":"Endpoint not found"}"#.into(),
        }],
    );
    api.on(
        "POST",
        "/v2/endpoint/foo/my-endpoint-name/resume",
        vec![status(400, r#"{"error":"Endpoint is already running"}"#)],
    );
    api.on(
        "GET",
        "/v2/endpoint/foo/my-endpoint-name",
        vec![ok(RUNNING)],
    );
    api.on(
        "POST",
        "/v2/endpoint/foo/broken/resume",
        vec![status(400, r#"{"error":"Invalid hardware"}"#)],
    );
    let endpoints = client(&api, &host).inference_endpoints().namespace("foo");

    let err = endpoints.get("missing").await.unwrap_err();
    assert!(matches!(err, Error::Http(_)), "{err:?}");
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.request_id(), Some("req-123"));
    let context = err.http_context().unwrap();
    assert_eq!(
        context.server_message.as_deref(),
        Some("Endpoint not found")
    );
    assert_eq!(context.provider.as_deref(), Some("inference-endpoints"));
    assert!(!err.to_string().contains(TOKEN) && !format!("{err:?}").contains(TOKEN));

    let resumed = endpoints
        .resume("my-endpoint-name")
        .await
        .expect("already running is fine");
    assert_eq!(resumed.state(), &EndpointState::Running);
    let err = endpoints.resume("broken").await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err:?}");

    // An unreadable answer is a decode error naming the type.
    api.on(
        "GET",
        "/v2/endpoint/foo/garbled",
        vec![ok(r#"{"name":"garbled"}"#)],
    );
    let err = endpoints.get("garbled").await.unwrap_err();
    assert!(
        matches!(&err, Error::Decode { target, .. } if target.contains("EndpointDetails")),
        "{err:?}"
    );
}

#[tokio::test]
async fn no_hf_token_means_no_request() {
    let (api, host) = (Server::start(), Server::start());
    for token in [None, Some("sk-a-provider-key-0000000000000000")] {
        let mut b = InferenceClient::builder()
            .inference_endpoints_url(format!("{}/v2", api.url()))
            .hub_url(api.url())
            .http_client(loopback_http());
        if let Some(token) = token {
            b = b.token(token);
        }
        let err = b
            .build()
            .unwrap()
            .inference_endpoints()
            .namespace("foo")
            .list()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field, .. } if field == "token"),
            "{err:?}"
        );
    }
    let _ = host;
    assert!(api.requests().is_empty());
}

#[test]
fn from_env_redirects_both_apis() {
    let env = |k: &str| match k {
        "HF_INFERENCE_ENDPOINTS_URL" => Some("http://127.0.0.1:9/v2/".to_owned()),
        "HF_INFERENCE_CATALOG_URL" => Some("http://127.0.0.1:9/catalog".to_owned()),
        _ => None,
    };
    let client = InferenceClientBuilder::from_env_with(&env).build().unwrap();
    assert_eq!(
        client.endpoints().inference_endpoints().as_str(),
        "http://127.0.0.1:9/v2"
    );
    assert_eq!(
        client.endpoints().inference_catalog().as_str(),
        "http://127.0.0.1:9/catalog"
    );
    let defaults = InferenceClient::new();
    assert_eq!(
        defaults.endpoints().inference_endpoints().as_str(),
        "https://api.endpoints.huggingface.cloud/v2"
    );
    assert_eq!(
        defaults.endpoints().inference_catalog().as_str(),
        "https://endpoints.huggingface.co/api/v1/catalog"
    );
}

// ---------------------------------------------------------------------------------------------
// wait()

const GET_TARGET: &str = "/v2/endpoint/foo/my-endpoint-name";

async fn pending_endpoint(api: &Server, host: &Server) -> InferenceEndpoint {
    api.on(
        "POST",
        "/v2/endpoint/foo/my-endpoint-name/resume",
        vec![ok(PENDING)],
    );
    let endpoints = client(api, host).inference_endpoints().namespace("foo");
    let endpoint = endpoints.resume("my-endpoint-name").await.expect("resume");
    api.take_requests();
    endpoint
}

fn recorder() -> (
    Arc<Mutex<Vec<WaitProgress>>>,
    impl Fn(&WaitProgress) + Send + Sync + 'static,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (seen, move |p: &WaitProgress| {
        sink.lock().unwrap().push(p.clone())
    })
}

#[tokio::test]
async fn wait_goes_through_pending_initializing_running() {
    let (api, host) = (Server::start(), Server::start());
    let mut endpoint = pending_endpoint(&api, &host).await;
    api.on(
        "GET",
        GET_TARGET,
        vec![
            ok(PENDING),
            ok(running_as("initializing", "Endpoint is initializing")),
            ok(RUNNING),
            ok(RUNNING),
        ],
    );
    // The first probe finds the server not ready yet; the next one healthy.
    host.on("GET", "/health", vec![status(503, "loading"), ok("")]);
    let (seen, callback) = recorder();
    endpoint
        .wait()
        .interval(Duration::from_millis(10))
        .timeout(Duration::from_secs(20))
        .on_progress(callback)
        .await
        .expect("the endpoint runs");

    assert_eq!(endpoint.state(), &EndpointState::Running);
    let seen = seen.lock().unwrap();
    let states: Vec<&str> = seen.iter().map(|p| p.state.as_str()).collect();
    assert_eq!(
        states,
        ["pending", "pending", "initializing", "running", "running"]
    );
    let changes: Vec<&str> = seen
        .iter()
        .filter(|p| p.changed())
        .map(|p| p.state.as_str())
        .collect();
    assert_eq!(changes, ["pending", "initializing", "running"]);
    assert_eq!(seen.last().unwrap().polls, 4);
    assert_eq!(api.count("GET", GET_TARGET), 4);
    let probes = host.requests();
    assert_eq!(probes.len(), 2, "{probes:#?}");
    for probe in &probes {
        assert_request(probe, "GET", "/health", None);
    }
}

#[tokio::test]
async fn wait_ends_with_the_failed_state() {
    let (api, host) = (Server::start(), Server::start());
    let mut endpoint = pending_endpoint(&api, &host).await;
    api.on(
        "GET",
        GET_TARGET,
        vec![
            ok(PENDING),
            ok(running_as("failed", "Endpoint failed to deploy")),
        ],
    );
    let err = endpoint
        .wait()
        .interval(Duration::from_millis(10))
        .timeout(Duration::from_secs(20))
        .await
        .unwrap_err();
    match &err {
        Error::EndpointFailed {
            name,
            state,
            message,
        } => {
            assert_eq!(name, "my-endpoint-name");
            assert_eq!(state, &EndpointState::Failed);
            assert_eq!(message.as_deref(), Some("Endpoint failed to deploy"));
        }
        other => panic!("expected EndpointFailed, got {other:?}"),
    }
    assert!(err.to_string().contains("failed to deploy"), "{err}");
    assert_eq!(api.count("GET", GET_TARGET), 2);
    assert!(host.requests().is_empty(), "no health probe before running");
}

#[tokio::test]
async fn wait_times_out_with_the_last_state() {
    let (api, host) = (Server::start(), Server::start());
    let mut endpoint = pending_endpoint(&api, &host).await;
    api.on(
        "GET",
        GET_TARGET,
        vec![ok(running_as("initializing", "Endpoint is initializing"))],
    );
    let timeout = Duration::from_millis(150);
    let err = endpoint
        .wait()
        .interval(Duration::from_millis(40))
        .timeout(timeout)
        .await
        .unwrap_err();
    match &err {
        Error::EndpointTimeout { name, state, after } => {
            assert_eq!(name, "my-endpoint-name");
            assert_eq!(
                state,
                &EndpointState::Initializing,
                "the last state, not the first"
            );
            assert_eq!(*after, timeout);
        }
        other => panic!("expected EndpointTimeout, got {other:?}"),
    }
    // 40 ms apart within 150 ms, the last refresh on the deadline.
    let polls = api.count("GET", GET_TARGET);
    assert!((2..=4).contains(&polls), "{polls} refreshes");
}

#[tokio::test]
async fn dropping_the_wait_stops_polling() {
    let (api, host) = (Server::start(), Server::start());
    let mut endpoint = pending_endpoint(&api, &host).await;
    api.on("GET", GET_TARGET, vec![ok(PENDING)]);
    let wait = endpoint
        .wait()
        .interval(Duration::from_millis(10))
        .into_future();
    assert!(
        tokio::time::timeout(Duration::from_millis(100), wait)
            .await
            .is_err()
    );
    let polls = api.count("GET", GET_TARGET);
    assert!(polls >= 1, "it was polling");
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        api.count("GET", GET_TARGET),
        polls,
        "polling went on after the drop"
    );
}

use std::future::IntoFuture as _;

// ---------------------------------------------------------------------------------------------
// Using a running endpoint

#[tokio::test]
async fn a_client_from_a_running_endpoint_reaches_it() {
    let (api, host) = (Server::start(), Server::start());
    api.on("GET", GET_TARGET, vec![ok(RUNNING)]);
    host.on("POST", "/v1/chat/completions", vec![ok(CHAT_ANSWER)]);
    host.on("GET", "/info", vec![ok(TGI_INFO)]);
    host.on("GET", "/health", vec![ok(""), status(503, "")]);
    let endpoints = client(&api, &host).inference_endpoints().namespace("foo");
    let endpoint = endpoints.get("my-endpoint-name").await.unwrap();

    let bound = endpoint.client().expect("a running endpoint has a client");
    let answer = bound
        .chat_completion(vec![ChatCompletionInputMessage::user(
            "What is the capital of France?",
        )])
        .max_tokens(16)
        .send()
        .await
        .expect("chat");
    assert_eq!(answer.choices[0].message.content.as_deref(), Some("Paris."));

    let info = bound.endpoint_info().await.expect("info");
    assert_eq!(info.model_id.as_deref(), Some("gpt2"));
    assert_eq!(info.max_total_tokens, Some(1024));
    assert_eq!(info.version.as_deref(), Some("3.1.1"));
    assert!(info.extra.contains_key("router"));
    assert!(
        bound.health_check().await.expect("health"),
        "200 is healthy"
    );
    assert!(!bound.health_check().await.expect("health"), "503 is not");

    let sent = host.requests();
    assert_eq!(sent.len(), 4, "{sent:#?}");
    let chat = &sent[0];
    assert_eq!(
        (chat.method.as_str(), chat.target.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(
        chat.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let body: Value = serde_json::from_slice(&chat.body).unwrap();
    assert_eq!(
        body,
        json!({"messages": [{"role": "user", "content": "What is the capital of France?"}], "max_tokens": 16})
    );
    assert_request(&sent[1], "GET", "/info", None);
    assert_request(&sent[2], "GET", "/health", None);
}

#[tokio::test]
async fn no_client_before_the_endpoint_has_a_url() {
    let (api, host) = (Server::start(), Server::start());
    let endpoint = pending_endpoint(&api, &host).await;
    let err = endpoint.client().unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { message, .. } if message.contains("pending")),
        "{err:?}"
    );
    // The URL-model helpers say what they need on a client without a URL.
    let plain = InferenceClient::builder().token(TOKEN).build().unwrap();
    assert!(matches!(
        plain.health_check().await.unwrap_err(),
        Error::InvalidInput { .. }
    ));
    assert!(matches!(
        plain.endpoint_info().await.unwrap_err(),
        Error::InvalidInput { .. }
    ));
}
