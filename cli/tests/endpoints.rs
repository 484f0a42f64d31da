//! `hfi endpoints …` as a child process against a scripted loopback Inference Endpoints API
//! (answers from `huggingface_hub`'s test payloads, shared/reference/inference-endpoints.md
//! §11): the requests it sends, what it prints, the progress lines of `wait` and its exit codes.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use hf_inference_tests::support::{RawRequest, read_raw_request};
use serde_json::{Value, json};

const TOKEN: &str = "hf_cliEndpointsSecret000000000000000";
const ENDPOINT_HOST: &str = "vksrvs8pc1xnifhq.us-east-1.aws.endpoints.huggingface.cloud";

fn endpoint(state: &str, url: bool) -> String {
    named("my-endpoint-name", state, url)
}

fn named(name: &str, state: &str, url: bool) -> String {
    let mut value = json!({
        "name": name, "type": "protected", "healthRoute": "/health",
        "provider": {"vendor": "aws", "region": "us-east-1"},
        "compute": {"accelerator": "cpu", "instanceType": "intel-icl", "instanceSize": "x2",
                    "scaling": {"minReplica": 0, "maxReplica": 1}},
        "model": {"repository": "gpt2", "revision": "11c5a3d5811f50298f278a704980280950aedb10",
                  "task": "text-generation", "framework": "pytorch", "image": {"huggingface": {}}},
        "status": {"createdAt": "2023-10-26T12:41:53.263Z", "updatedAt": "2023-10-26T12:41:53.263Z",
                   "state": state, "message": format!("Endpoint is {state}"),
                   "readyReplica": 0, "targetReplica": 1}
    });
    if url {
        value["status"]["url"] = json!(format!("https://{ENDPOINT_HOST}"));
    }
    value.to_string()
}

type Routes = HashMap<(String, String), VecDeque<(u16, String)>>;

/// Answers each request with the next reply scripted for its method and target (the last one
/// repeated; 599 when none), and records it.
struct Server {
    url: String,
    routes: Arc<Mutex<Routes>>,
    log: Arc<Mutex<Vec<RawRequest>>>,
}

impl Server {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<Mutex<Routes>> = Arc::default();
        let log: Arc<Mutex<Vec<RawRequest>>> = Arc::default();
        let (r, l) = (routes.clone(), log.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let Some(request) = read_raw_request(&stream) else {
                    continue;
                };
                let key = (request.method.clone(), request.target.clone());
                let (status, body) = match r.lock().unwrap().get_mut(&key) {
                    Some(queue) if queue.len() > 1 => queue.pop_front().unwrap(),
                    Some(queue) => queue.front().cloned().unwrap(),
                    None => (599, format!("unscripted {} {}", key.0, key.1)),
                };
                l.lock().unwrap().push(request);
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { url, routes, log }
    }

    fn on(&self, method: &str, target: &str, replies: Vec<(u16, String)>) {
        self.routes
            .lock()
            .unwrap()
            .insert((method.into(), target.into()), replies.into());
    }

    fn requests(&self) -> Vec<(String, String)> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|r| (r.method.clone(), r.target.clone()))
            .collect()
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `hfi` with a clean environment: the token, the Endpoints API and the endpoint host on loopback.
fn hfi(api: &Server, host: &Server, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_hfi"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HF_HOME", std::env::temp_dir().join("hfi-tests-no-hf-home"))
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("HF_TOKEN", TOKEN)
        .env("HF_ENDPOINT", &api.url)
        .env("HF_INFERENCE_ENDPOINTS_URL", format!("{}/v2", api.url))
        .env(
            "HF_INFERENCE_HOST_REDIRECTS",
            format!("{ENDPOINT_HOST}={}", host.url),
        )
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run hfi");
    let run = Run {
        code: output.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains("cliEndpointsSecret") && !run.stderr.contains("cliEndpointsSecret"),
        "the token was printed"
    );
    run
}

fn pair(method: &str, target: &str) -> (String, String) {
    (method.into(), target.into())
}

#[test]
fn list_get_and_lifecycle_print_what_the_service_said() {
    let (api, host) = (Server::start(), Server::start());
    api.on(
        "GET",
        "/v2/endpoint/foo",
        vec![(
            200,
            format!(r#"{{"items":[{}]}}"#, endpoint("running", true)),
        )],
    );
    api.on(
        "POST",
        "/v2/endpoint/foo/my-endpoint-name/pause",
        vec![(200, endpoint("paused", false))],
    );
    api.on(
        "DELETE",
        "/v2/endpoint/foo/my-endpoint-name",
        vec![(200, String::new())],
    );

    let run = hfi(
        &api,
        &host,
        &["endpoints", "-n", "foo", "list", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let listed: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(listed[0]["name"], "my-endpoint-name");
    assert_eq!(listed[0]["namespace"], "foo");
    assert_eq!(listed[0]["state"], "running");
    assert_eq!(listed[0]["url"], format!("https://{ENDPOINT_HOST}"));
    assert_eq!(listed[0]["instance_type"], "intel-icl");

    let run = hfi(
        &api,
        &host,
        &[
            "endpoints",
            "pause",
            "my-endpoint-name",
            "--namespace",
            "foo",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "my-endpoint-name\tpaused\t-\tgpt2\n");

    // Deleting needs --yes; without it nothing is sent.
    let run = hfi(
        &api,
        &host,
        &["endpoints", "-n", "foo", "delete", "my-endpoint-name"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    let run = hfi(
        &api,
        &host,
        &[
            "endpoints",
            "-n",
            "foo",
            "delete",
            "my-endpoint-name",
            "--yes",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);

    assert_eq!(
        api.requests(),
        [
            pair("GET", "/v2/endpoint/foo"),
            pair("POST", "/v2/endpoint/foo/my-endpoint-name/pause"),
            pair("DELETE", "/v2/endpoint/foo/my-endpoint-name"),
        ]
    );
    let sent = api.log.lock().unwrap();
    assert!(
        sent.iter()
            .all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}")))
    );
}

#[test]
fn create_sends_the_reference_body() {
    let (api, host) = (Server::start(), Server::start());
    api.on(
        "POST",
        "/v2/endpoint/foo",
        vec![(200, endpoint("pending", false))],
    );
    let run = hfi(
        &api,
        &host,
        &[
            "endpoints",
            "-n",
            "foo",
            "create",
            "my-endpoint-name",
            "--repository",
            "gpt2",
            "--vendor",
            "aws",
            "--region",
            "us-east-1",
            "--accelerator",
            "cpu",
            "--instance-type",
            "intel-icl",
            "--instance-size",
            "x2",
            "--env",
            "A=1",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "my-endpoint-name\tpending\t-\tgpt2\n");
    let sent = api.log.lock().unwrap();
    let body: Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(
        body,
        json!({"compute":{"accelerator":"cpu","instanceSize":"x2","instanceType":"intel-icl","scaling":{"maxReplica":1,"minReplica":1,"scaleToZeroTimeout":null}},"model":{"framework":"pytorch","repository":"gpt2","revision":null,"image":{"huggingface":{}},"env":{"A":"1"}},"name":"my-endpoint-name","provider":{"region":"us-east-1","vendor":"aws"},"type":"authenticated"})
    );
}

#[test]
fn wait_shows_each_state_until_running() {
    let (api, host) = (Server::start(), Server::start());
    api.on(
        "GET",
        "/v2/endpoint/foo/my-endpoint-name",
        vec![
            (200, endpoint("pending", false)),
            (200, endpoint("pending", false)),
            (200, endpoint("initializing", false)),
            (200, endpoint("running", true)),
        ],
    );
    host.on("GET", "/health", vec![(200, String::new())]);
    let run = hfi(
        &api,
        &host,
        &[
            "endpoints",
            "-n",
            "foo",
            "wait",
            "my-endpoint-name",
            "--interval",
            "10ms",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let states: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("hfi: my-endpoint-name: "))
        .map(|l| l.split_whitespace().next().unwrap_or_default())
        .collect();
    assert_eq!(
        states,
        ["pending", "initializing", "running"],
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("is running at https://{ENDPOINT_HOST}")),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stdout,
        format!("my-endpoint-name\trunning\thttps://{ENDPOINT_HOST}\tgpt2\n")
    );
    assert_eq!(host.requests(), [pair("GET", "/health")]);
}

#[test]
fn wait_exit_codes_for_timeout_and_failure() {
    let (api, host) = (Server::start(), Server::start());
    api.on(
        "GET",
        "/v2/endpoint/foo/stuck",
        vec![(200, named("stuck", "initializing", false))],
    );
    api.on(
        "GET",
        "/v2/endpoint/foo/broken",
        vec![
            (200, named("broken", "pending", false)),
            (200, named("broken", "failed", false)),
        ],
    );
    let args = ["--interval", "20ms", "--wait-timeout", "200ms"];
    let stuck = hfi(
        &api,
        &host,
        &[&["endpoints", "-n", "foo", "wait", "stuck"][..], &args].concat(),
    );
    assert_eq!(stuck.code, 4, "{}", stuck.stderr);
    assert!(
        stuck.stderr.contains("last state `initializing`"),
        "{}",
        stuck.stderr
    );
    let broken = hfi(
        &api,
        &host,
        &[&["endpoints", "-n", "foo", "wait", "broken"][..], &args].concat(),
    );
    assert_eq!(broken.code, 1, "{}", broken.stderr);
    assert!(
        broken.stderr.contains("state `failed`"),
        "{}",
        broken.stderr
    );
}
