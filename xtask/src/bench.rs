//! `cargo xtask bench [--quick]`: hf-inference side by side with Python's `huggingface_hub`,
//! `async-openai` and `wrk`, against nginx on loopback serving canned answers.
//!
//! It installs what is missing (nginx, wrk and a font from Debian's packages; the Python client
//! into a venv under `target/bench/`), writes the bodies and the nginx configuration, builds the
//! bench-only crate (`bench/`, a workspace of its own), then runs every scenario with every
//! client, in an order that rotates from round to round, and prints one table of medians. A full
//! run writes `bench/results/results.json` and `bench/results/chart.png` (the README shows
//! them); `--quick` (CI: does everything run?) writes them under `target/bench/` instead.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The scenarios, in table order: (key, label, unit, higher is better).
const SCENARIOS: [(&str, &str, &str, bool); 6] = [
    ("chat-seq", "chat, sequential", "req/s", true),
    ("chat-64", "chat, 64 in flight", "req/s", true),
    ("stream", "stream, 100k chunks", "chunks/s", true),
    ("embed", "embeddings 64×1024", "resp/s", true),
    ("image", "image, 5 MB body", "resp/s", true),
    ("streams-1000", "1,000 open streams", "MiB peak RSS", false),
];

const CLIENTS: [&str; 4] = ["ours", "async-openai", "python", "wrk"];

/// Chunks in the long stream, and in each of the streams held open at once.
const STREAM_CHUNKS: usize = 100_000;
const SLOW_CHUNKS: usize = 1_000;
const EMBED_ROWS: usize = 64;
const EMBED_DIM: usize = 1024;
/// The image's side: a 1292×1292 RGB PNG stored without compression is just over 5 MB.
const IMAGE_SIDE: usize = 1292;
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const HUB_VERSION: &str = "2.4.0";

struct Settings {
    quick: bool,
    rounds: usize,
    seconds: f64,
    streams: usize,
}

pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let mut quick = false;
    let mut only: Option<String> = None;
    let mut rounds = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--only" => only = it.next().cloned(),
            "--rounds" => rounds = it.next().and_then(|r| r.parse().ok()),
            other => return Err(format!("bench: unknown argument `{other}`")),
        }
    }
    let settings = if quick {
        Settings {
            quick,
            rounds: rounds.unwrap_or(1),
            seconds: 0.2,
            streams: 100,
        }
    } else {
        Settings {
            quick,
            rounds: rounds.unwrap_or(3),
            seconds: 2.0,
            streams: 1000,
        }
    };
    let started = Instant::now();
    let work = target_dir(root).join("bench");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;

    install_tools()?;
    let python = install_python(&work)?;
    let www = work.join("www");
    write_bodies(&www)?;
    let bench_bin = build_bench_crate(root, quick)?;
    let port = free_port()?;
    let _nginx = Nginx::start(&work, &www, port)?;
    let base = format!("http://127.0.0.1:{port}");
    let lua = work.join("post.lua");
    write_file(&lua, WRK_LUA.as_bytes())?;

    let scenarios: Vec<_> = SCENARIOS
        .iter()
        .filter(|s| only.as_deref().is_none_or(|o| o == s.0))
        .collect();
    if scenarios.is_empty() {
        return Err(format!("bench: no scenario named {only:?}"));
    }
    eprintln!(
        "bench: {} round(s) of {} s per client and scenario, nginx on {base}",
        settings.rounds, settings.seconds
    );
    // results[scenario][client] = every round's value
    let mut results: BTreeMap<&str, BTreeMap<&str, Vec<f64>>> = BTreeMap::new();
    let mut extras: BTreeMap<(&str, &str), Value> = BTreeMap::new();
    for round in 0..settings.rounds {
        for scenario in &scenarios {
            let key = scenario.0;
            // Rotate who goes first, so that no client always runs on a cold (or hot) machine.
            for k in 0..CLIENTS.len() {
                let client = CLIENTS[(k + round) % CLIENTS.len()];
                let measured = match client {
                    "ours" | "async-openai" => {
                        if client == "async-openai" && matches!(key, "embed" | "image") {
                            continue; // no such call in its API (OpenAI shapes only)
                        }
                        let mut cmd = Command::new(&bench_bin);
                        cmd.args(["run", client, key, &base])
                            .arg(settings.seconds.to_string())
                            .arg(settings.streams.to_string());
                        run_json(cmd, client, key)?
                    }
                    "python" => {
                        let mut cmd = Command::new(&python);
                        cmd.arg(root.join("bench/python/bench_hub.py"))
                            .args([key, &base])
                            .arg(settings.seconds.to_string())
                            .arg(settings.streams.to_string());
                        run_json(cmd, client, key)?
                    }
                    _ => match run_wrk(key, &base, &lua, settings.seconds)? {
                        Some(value) => json!({"value": value}),
                        None => continue,
                    },
                };
                let value = measured["value"]
                    .as_f64()
                    .ok_or_else(|| format!("bench: {client} {key}: no value in {measured}"))?;
                eprintln!("  round {} {key:<13} {client:<13} {value:>14.1}", round + 1);
                results
                    .entry(key)
                    .or_default()
                    .entry(client)
                    .or_default()
                    .push(value);
                if let Some(extra) = measured.get("extra").filter(|e| !e.is_null()) {
                    extras.insert((key, client), extra.clone());
                }
            }
        }
    }

    let date = utc_now();
    let machine = machine_description();
    let mut table_rows = Vec::new();
    for (key, label, unit, higher_is_better) in scenarios.iter().copied().copied() {
        let medians: BTreeMap<&str, f64> = results
            .get(key)
            .map(|by_client| {
                by_client
                    .iter()
                    .map(|(client, values)| (*client, median(values)))
                    .collect()
            })
            .unwrap_or_default();
        let extra: BTreeMap<String, Value> = extras
            .iter()
            .filter(|((s, _), _)| *s == key)
            .map(|((_, c), v)| ((*c).to_owned(), v.clone()))
            .collect();
        table_rows.push(json!({
            "name": key, "label": label, "unit": unit, "higher_is_better": higher_is_better,
            "medians": medians, "rounds": results.get(key), "extra": extra,
        }));
    }
    let report = json!({
        "date": date,
        "machine": machine,
        "command": if settings.quick { "cargo xtask bench --quick" } else { "cargo xtask bench" },
        "rounds": settings.rounds,
        "seconds_per_measurement": settings.seconds,
        "scenarios": table_rows,
    });
    let table = render_table(&report);
    println!("{table}");

    let out_dir = if settings.quick {
        work.clone()
    } else {
        root.join("bench/results")
    };
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let json_path = out_dir.join("results.json");
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n";
    write_file(&json_path, text.as_bytes())?;
    write_file(&out_dir.join("table.md"), table.as_bytes())?;
    let chart = out_dir.join("chart.png");
    let status = Command::new(&bench_bin)
        .arg("chart")
        .arg(&json_path)
        .arg(&chart)
        .arg(FONT)
        .status()
        .map_err(|e| format!("bench: cannot run {}: {e}", bench_bin.display()))?;
    if !status.success() {
        return Err("bench: drawing the chart failed".into());
    }
    eprintln!(
        "bench: wrote {}, {} and {} in {:.0} s",
        json_path.display(),
        out_dir.join("table.md").display(),
        chart.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// The Markdown table: medians, then ours relative to each (throughput: ours / theirs; memory:
/// theirs / ours — above 1 means ours is better either way), then the issue's targets.
fn render_table(report: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| scenario | unit | hf-inference | async-openai | Python hub | wrk | ours vs async-openai | ours vs Python | ours vs wrk | target |"
    );
    let _ = writeln!(out, "|---|---|--:|--:|--:|--:|--:|--:|--:|---|");
    for row in report["scenarios"].as_array().into_iter().flatten() {
        let m = &row["medians"];
        let higher = row["higher_is_better"].as_bool().unwrap_or(true);
        let cell = |c: &str| m[c].as_f64().map_or("—".to_owned(), format_value);
        let ratio = |c: &str| -> Option<f64> {
            let (ours, theirs) = (m["ours"].as_f64()?, m[c].as_f64()?);
            Some(if higher { ours / theirs } else { theirs / ours })
        };
        let ratio_cell = |c: &str| ratio(c).map_or("—".to_owned(), |r| format!("{r:.2}×"));
        let target = target_verdict(row, &ratio);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row["label"].as_str().unwrap_or(""),
            row["unit"].as_str().unwrap_or(""),
            cell("ours"),
            cell("async-openai"),
            cell("python"),
            cell("wrk"),
            ratio_cell("async-openai"),
            ratio_cell("python"),
            ratio_cell("wrk"),
            target
        );
    }
    out
}

/// The issue's target for a scenario and whether this run met it.
fn target_verdict(row: &Value, ratio: &dyn Fn(&str) -> Option<f64>) -> String {
    let ours = row["medians"]["ours"].as_f64();
    let check = |ok: Option<bool>| match ok {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "n/a",
    };
    match row["name"].as_str().unwrap_or("") {
        "chat-seq" => format!(
            "≥ 1.2× async-openai: {}; ≥ 0.4× wrk: {}",
            check(ratio("async-openai").map(|r| r >= 1.2)),
            check(ratio("wrk").map(|r| r >= 0.4))
        ),
        "chat-64" => format!(
            "≥ 1.2× async-openai: {}; ≥ 0.5× wrk: {}",
            check(ratio("async-openai").map(|r| r >= 1.2)),
            check(ratio("wrk").map(|r| r >= 0.5))
        ),
        "stream" => format!(
            "≥ 1,000,000 chunks/s: {}",
            check(ours.map(|v| v >= 1_000_000.0))
        ),
        "embed" => format!(
            "≥ 10× Python: {}",
            check(ratio("python").map(|r| r >= 10.0))
        ),
        "image" => {
            let buffers = row["extra"]["ours"]["body_buffers_per_call"].as_f64();
            format!(
                "≤ 1 copy after receipt: {} ({} body-sized buffers per call)",
                check(buffers.map(|b| b <= 1.05)),
                buffers.map_or("?".to_owned(), |b| format!("{b:.2}"))
            )
        }
        "streams-1000" => format!("≤ 64 MiB: {}", check(ours.map(|v| v <= 64.0))),
        _ => String::new(),
    }
}

fn format_value(v: f64) -> String {
    if v >= 100.0 {
        let digits = format!("{:.0}", v);
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else {
        format!("{v:.1}")
    }
}

/// Runs one measurement process and parses the JSON line it prints last.
fn run_json(mut cmd: Command, client: &str, scenario: &str) -> Result<Value, String> {
    let output = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .map_err(|e| format!("bench: cannot start {client}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "bench: {client} {scenario} failed ({}):\n{}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line).map_err(|e| format!("bench: {client} {scenario}: `{line}`: {e}"))
}

/// wrk on the same URL as the clients: the most this nginx and loopback serve. `None` where
/// wrk measures nothing comparable (memory).
fn run_wrk(scenario: &str, base: &str, lua: &Path, seconds: f64) -> Result<Option<f64>, String> {
    let (path, threads, connections, per_request) = match scenario {
        "chat-seq" => ("/v1/chat/completions", 1, 1, 1.0),
        "chat-64" => ("/v1/chat/completions", 2, 64, 1.0),
        "stream" => ("/stream/v1/chat/completions", 1, 1, STREAM_CHUNKS as f64),
        "embed" => ("/embed", 1, 1, 1.0),
        "image" => ("/image", 1, 1, 1.0),
        _ => return Ok(None),
    };
    // wrk counts whole seconds; at least one.
    let duration = format!("{}s", seconds.ceil().max(1.0) as u64);
    let output = Command::new("wrk")
        .args([
            format!("-t{threads}"),
            format!("-c{connections}"),
            format!("-d{duration}"),
        ])
        .arg("-s")
        .arg(lua)
        .arg(format!("{base}{path}"))
        .output()
        .map_err(|e| format!("bench: cannot run wrk: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || text.contains("Non-2xx") || text.contains("Socket errors") {
        return Err(format!("bench: wrk {scenario} failed:\n{text}"));
    }
    let rate = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("bench: no Requests/sec in wrk's output:\n{text}"))?;
    Ok(Some(rate * per_request))
}

/// wrk sends the same POST as the clients' chat calls.
const WRK_LUA: &str = r#"wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"messages":[{"role":"user","content":"What is the capital of France?"}],"max_tokens":64}'
"#;

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_relative() { root.join(p) } else { p })
        .unwrap_or_else(|| root.join("target"))
}

fn on_path(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        || Path::new("/usr/sbin").join(program).exists()
}

/// nginx, wrk and the chart's font from Debian's packages, when any is missing.
fn install_tools() -> Result<(), String> {
    if on_path("nginx") && on_path("wrk") && Path::new(FONT).exists() {
        return Ok(());
    }
    eprintln!("bench: installing nginx, wrk and fonts-dejavu-core (apt-get)");
    let script = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                  --no-install-recommends nginx-light wrk fonts-dejavu-core >/dev/null";
    let status = Command::new("sh")
        .args(["-c", script])
        .status()
        .map_err(|e| format!("bench: cannot run apt-get: {e}"))?;
    if !status.success() {
        return Err(
            "bench: apt-get could not install nginx-light, wrk and fonts-dejavu-core \
             (root and Debian's package registry are needed)"
                .into(),
        );
    }
    Ok(())
}

/// A venv under target/bench/ with the Python client (the version our reference tests use).
fn install_python(work: &Path) -> Result<PathBuf, String> {
    let venv = work.join("venv");
    let python = venv.join("bin/python");
    let check = format!(
        "import huggingface_hub, numpy, PIL; assert huggingface_hub.__version__ == '{HUB_VERSION}'"
    );
    let ready = |python: &Path| {
        Command::new(python)
            .args(["-c", &check])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready(&python) {
        return Ok(python);
    }
    eprintln!(
        "bench: installing huggingface_hub=={HUB_VERSION}, numpy and pillow into {}",
        venv.display()
    );
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .map_err(|e| format!("bench: cannot run python3: {e}"))?;
    if !status.success() {
        return Err("bench: python3 -m venv failed".into());
    }
    let status = Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "--disable-pip-version-check"])
        .arg(format!("huggingface_hub=={HUB_VERSION}"))
        .args(["numpy", "pillow"])
        .status()
        .map_err(|e| format!("bench: cannot run pip: {e}"))?;
    if !status.success() || !ready(&python) {
        return Err("bench: pip could not install huggingface_hub, numpy and pillow".into());
    }
    Ok(python)
}

/// Builds `hfi-bench` (release for a real run; a cheap profile for `--quick`).
fn build_bench_crate(root: &Path, quick: bool) -> Result<PathBuf, String> {
    let profile = if quick { "dev" } else { "release" };
    eprintln!("bench: building bench/ ({profile} profile)");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--quiet", "--profile", profile, "--manifest-path"])
        .arg(root.join("bench/Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir(root))
        .status()
        .map_err(|e| format!("bench: cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("bench: building the bench crate failed".into());
    }
    let dir = if quick { "debug" } else { profile };
    Ok(target_dir(root).join(dir).join("hfi-bench"))
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bench: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("bench: {e}"))
}

/// nginx in the foreground, stopped when dropped.
struct Nginx {
    child: Child,
}

impl Nginx {
    fn start(work: &Path, www: &Path, port: u16) -> Result<Self, String> {
        let prefix = work.join("nginx");
        std::fs::create_dir_all(prefix.join("tmp")).map_err(|e| e.to_string())?;
        let conf = prefix.join("nginx.conf");
        write_file(&conf, nginx_conf(&prefix, www, port).as_bytes())?;
        let nginx = if on_path("nginx") && !Path::new("/usr/sbin/nginx").exists() {
            PathBuf::from("nginx")
        } else {
            PathBuf::from("/usr/sbin/nginx")
        };
        let child = Command::new(nginx)
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("bench: cannot start nginx: {e}"))?;
        let mut server = Nginx { child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "bench: nginx exited ({status}); see {}",
                    prefix.join("error.log").display()
                ));
            }
            if Instant::now() > deadline {
                return Err("bench: nginx did not start listening within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM through kill(1): std only offers SIGKILL, which leaves the workers behind.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One worker (the clients get the other core), keep-alive without limits, no access log; POSTs
/// to the static bodies are answered by turning nginx's 405 for them into a 200 with the file.
fn nginx_conf(prefix: &Path, www: &Path, port: u16) -> String {
    let p = prefix.display();
    let w = www.display();
    let user = if is_root() { "user root;\n" } else { "" };
    let chat = String::from_utf8(chat_body()).unwrap_or_default();
    format!(
        r#"{user}worker_processes 1;
daemon off;
master_process on;
pid {p}/nginx.pid;
error_log {p}/error.log warn;
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {p}/tmp/body;
    proxy_temp_path {p}/tmp/proxy;
    fastcgi_temp_path {p}/tmp/fastcgi;
    uwsgi_temp_path {p}/tmp/uwsgi;
    scgi_temp_path {p}/tmp/scgi;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    open_file_cache max=64;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        error_page 405 =200 $uri;
        location = /v1/chat/completions {{
            default_type application/json;
            return 200 '{chat}';
        }}
        location = /stream/v1/chat/completions {{ alias {w}/stream.sse; default_type text/event-stream; }}
        location = /slow/v1/chat/completions {{ alias {w}/slow.sse; default_type text/event-stream; }}
        location = /embed {{ alias {w}/embed.json; default_type application/json; }}
        location = /image {{ alias {w}/image.png; default_type image/png; }}
    }}
}}
"#
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// The canned answers. Deterministic, so every run serves the same bytes.
fn write_bodies(www: &Path) -> Result<(), String> {
    std::fs::create_dir_all(www).map_err(|e| format!("{}: {e}", www.display()))?;
    write_file(&www.join("stream.sse"), &stream_body(STREAM_CHUNKS))?;
    write_file(&www.join("slow.sse"), &stream_body(SLOW_CHUNKS))?;
    let image = www.join("image.png");
    if !image.exists() {
        write_file(&image, &png_body(IMAGE_SIDE))?;
    }
    write_file(&www.join("embed.json"), &embed_body())?;
    Ok(())
}

/// An OpenAI-style chat answer, as servers send it (about 500 bytes).
fn chat_body() -> Vec<u8> {
    let content = "The capital of France is Paris. It is located in the north of the country, on \
                   the Seine, and has been the seat of government for most of the last \
                   millennium.";
    json!({
        "id": "chatcmpl-bench-0001",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": "bench-model",
        "system_fingerprint": "fp_bench",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 15, "completion_tokens": 42, "total_tokens": 57}
    })
    .to_string()
    .into_bytes()
}

/// `chunks` OpenAI-style stream chunks (the first carries the role, the last the finish
/// reason), then `data: [DONE]`.
fn stream_body(chunks: usize) -> Vec<u8> {
    let words = [
        "The", " capital", " of", " France", " is", " Paris", ".", " It", " lies", " on",
    ];
    let mut out = Vec::with_capacity(chunks * 200);
    for i in 0..chunks {
        let delta = if i == 0 {
            json!({"role": "assistant", "content": ""})
        } else if i + 1 == chunks {
            json!({})
        } else {
            json!({"content": words[i % words.len()]})
        };
        let finish = if i + 1 == chunks {
            json!("stop")
        } else {
            Value::Null
        };
        let chunk = json!({
            "id": "chatcmpl-bench-0001",
            "object": "chat.completion.chunk",
            "created": 1_764_000_000,
            "model": "bench-model",
            "system_fingerprint": "fp_bench",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
        });
        let _ = write!(out, "data: {chunk}\n\n");
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

/// A small deterministic generator (xorshift), for the embedding values and the image noise.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// 64 vectors of 1024 `f32`, each written in its shortest round-trip form (as a Rust or
/// JavaScript server writes them; e.g. `-0.031782318`), sentence-embedding sized values.
fn embed_body() -> Vec<u8> {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(EMBED_ROWS * EMBED_DIM * 13);
    out.push(b'[');
    for row in 0..EMBED_ROWS {
        if row > 0 {
            out.push(b',');
        }
        out.push(b'[');
        for i in 0..EMBED_DIM {
            if i > 0 {
                out.push(b',');
            }
            let v = ((rng.unit() - 0.5) * 0.12) as f32;
            let _ = write!(out, "{v}");
        }
        out.push(b']');
    }
    out.push(b']');
    out
}

/// A valid PNG of noise, `side`×`side` RGB, stored without compression (so it stays > 5 MB).
fn png_body(side: usize) -> Vec<u8> {
    use flate2::Compression;
    use flate2::write::ZlibEncoder;

    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let row_len = side * 3 + 1; // a filter byte (0: none), then the pixels
    let mut raw = Vec::with_capacity(side * row_len + 8);
    while raw.len() < side * row_len {
        raw.extend_from_slice(&rng.next().to_le_bytes());
    }
    raw.truncate(side * row_len);
    for row in raw.chunks_mut(row_len) {
        row[0] = 0;
    }
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::none());
    let _ = encoder.write_all(&raw);
    let idat = encoder.finish().unwrap_or_default();

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&(side as u32).to_be_bytes());
    ihdr.extend_from_slice(&(side as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    for (kind, data) in [(&b"IHDR"[..], &ihdr[..]), (b"IDAT", &idat), (b"IEND", &[])] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        png.extend_from_slice(&crc.sum().to_be_bytes());
    }
    png
}

fn utc_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// CPU model, core count and memory, from /proc.
fn machine_description() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let kernel = Command::new("uname")
        .arg("-r")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{model}, {cores} cores, {mem_gib:.0} GiB, Linux {kernel}")
}
