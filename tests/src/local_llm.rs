//! The real llama.cpp `llama-server` instances the local-server tests
//! (`tests/tests/local_server.rs`, `cli/tests/local_server_cli.rs`) talk to, on loopback, with the
//! tiny generated test model (`../shared/reference/local-server.md`): one open instance and one
//! started with `--api-key`.
//!
//! Where they come from, in this order:
//! 1. `HF_INFERENCE_TEST_LLAMA_URL`, `HF_INFERENCE_TEST_LLAMA_KEYED_URL` and
//!    `HF_INFERENCE_TEST_LLAMA_API_KEY`: servers started outside the tests (`.ci/run` does it
//!    through `.ci/local_llm.sh`);
//! 2. a server binary and model already built in the tiny-llm cache (`$LLM_CACHE`, default
//!    `~/.cache/tiny-llm`, filled by `../shared/tools/local_llm_server.sh setup`): started here,
//!    once per test process, and stopped by a watchdog when the process exits;
//! 3. neither: under `CI=true` the calling test fails; elsewhere it is skipped with a message
//!    that says how to get a server.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

/// The open server's base URL (`http://127.0.0.1:PORT/v1`).
pub const URL_VAR: &str = "HF_INFERENCE_TEST_LLAMA_URL";
/// The base URL of the server started with `--api-key`.
pub const KEYED_URL_VAR: &str = "HF_INFERENCE_TEST_LLAMA_KEYED_URL";
/// The key that server accepts.
pub const API_KEY_VAR: &str = "HF_INFERENCE_TEST_LLAMA_API_KEY";

/// The exact commands that make a server available, for skip and failure messages.
pub const HOW_TO_START: &str = "start the servers from the repository root with\n    \
    eval \"$(.ci/local_llm.sh start /tmp/hf-inference-llm)\"\n\
    (the first run builds llama.cpp's llama-server from PyPI's llama-cpp-python sdist, about 5 \
    minutes; it needs python3, g++ and curl), then run\n    \
    cargo test -p hf-inference-tests --test local_server\n    \
    cargo test -p hfi --test local_server_cli\n\
    Stop them with `.ci/local_llm.sh stop /tmp/hf-inference-llm`. Alternatively, fill the cache \
    once with `../shared/tools/local_llm_server.sh setup` and the tests start the servers \
    themselves.";

/// Two running llama-server instances serving the tiny model.
#[derive(Debug)]
pub struct LocalLlm {
    /// Base URL of the open server, ending in `/v1`.
    pub url: String,
    /// Base URL of the server that requires [`api_key`](Self::api_key), ending in `/v1`.
    pub keyed_url: String,
    /// The key the keyed server accepts.
    pub api_key: String,
}

static SERVERS: OnceLock<Result<LocalLlm, String>> = OnceLock::new();

/// The servers, or `None` when there are none and the calling test should return early (it
/// says so on stderr, past the test harness's capture, with the commands that start them).
///
/// # Panics
///
/// Under `CI=true` when no server is available: CI must run these tests, never skip them.
pub fn local_llm() -> Option<&'static LocalLlm> {
    static HOW_TO_SHOWN: Once = Once::new();
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a local-server test");
    match SERVERS.get_or_init(find_or_start) {
        Ok(servers) => Some(servers),
        Err(why) => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!(
                    "{test}: no llama-server, and CI=true forbids skipping: {why}\nTo fix it, {HOW_TO_START}"
                );
            }
            // `eprintln!` would be captured and shown only for failures.
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "skipping {test}: no llama-server ({why})");
            HOW_TO_SHOWN.call_once(|| {
                let _ = writeln!(stderr, "to run the local-server tests, {HOW_TO_START}");
            });
            None
        }
    }
}

fn find_or_start() -> Result<LocalLlm, String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(url) = var(URL_VAR) {
        return match (var(KEYED_URL_VAR), var(API_KEY_VAR)) {
            (Some(keyed_url), Some(api_key)) => Ok(LocalLlm {
                url,
                keyed_url,
                api_key,
            }),
            _ => Err(format!(
                "{URL_VAR} is set but {KEYED_URL_VAR} or {API_KEY_VAR} is not"
            )),
        };
    }
    let cache = cache_dir().ok_or("neither $LLM_CACHE nor $HOME is set")?;
    let (bin, model) = cached_server(&cache).ok_or_else(|| {
        format!(
            "{URL_VAR} is not set and {} holds no built llama-server and model",
            cache.display()
        )
    })?;
    let scratch = std::env::temp_dir().join(format!("hf-inference-llm-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let url = spawn_watched(&bin, &model, None, &scratch.join("open.log"))?;
    let api_key = format!("hfi-test-{:016x}", fastish_random());
    let keyed_url = spawn_watched(&bin, &model, Some(&api_key), &scratch.join("keyed.log"))?;
    Ok(LocalLlm {
        url,
        keyed_url,
        api_key,
    })
}

fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LLM_CACHE").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache").join("tiny-llm"))
}

/// The newest `llama-server-*/llama-server` and `models/tiny-*.gguf` of the cache.
fn cached_server(cache: &Path) -> Option<(PathBuf, PathBuf)> {
    let newest = |dir: &Path, pick: &dyn Fn(&Path) -> Option<PathBuf>| {
        std::fs::read_dir(dir)
            .ok()?
            .filter_map(|entry| pick(&entry.ok()?.path()))
            .filter_map(|path| Some((path.metadata().ok()?.modified().ok()?, path)))
            .max()
            .map(|(_, path)| path)
    };
    let bin = newest(cache, &|path| {
        let name = path.file_name()?.to_str()?;
        let bin = path.join("llama-server");
        (name.starts_with("llama-server-") && bin.is_file()).then_some(bin)
    })?;
    let model = newest(&cache.join("models"), &|path| {
        let name = path.file_name()?.to_str()?;
        (name.starts_with("tiny-") && name.ends_with(".gguf")).then(|| path.to_path_buf())
    })?;
    Some((bin, model))
}

/// Starts one server on a free loopback port, watched by a shell that stops it when this test
/// process exits (a test binary never runs destructors of statics), and waits until it is
/// healthy. Returns its base URL.
fn spawn_watched(
    bin: &Path,
    model: &Path,
    api_key: Option<&str>,
    log: &Path,
) -> Result<String, String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free loopback port: {e}"))?
        .port();
    let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut args: Vec<String> = [
        "-m",
        &model.to_string_lossy(),
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "-a",
        "tiny",
        "-c",
        "4096",
        "-np",
        "2",
        "--offline",
        "--no-webui",
    ]
    .map(str::to_owned)
    .to_vec();
    match api_key {
        Some(key) => args.extend(["--api-key".to_owned(), key.to_owned()]),
        None => args.push("--embeddings".to_owned()),
    }
    Command::new("sh")
        .arg("-c")
        .arg(
            r#""$@" & srv=$!
while kill -0 "$WATCHED" 2>/dev/null && kill -0 "$srv" 2>/dev/null; do sleep 0.5; done
kill "$srv" 2>/dev/null"#,
        )
        .arg("llama-server-watchdog")
        .arg(bin)
        .args(&args)
        .env("WATCHED", std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if health_ok(port) {
            return Ok(format!("http://127.0.0.1:{port}/v1"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let tail = std::fs::read_to_string(log).unwrap_or_default();
    let tail: String = tail.lines().rev().take(15).collect::<Vec<_>>().join("\n");
    Err(format!(
        "{} did not become healthy on port {port}; log (last lines, newest first):\n{tail}",
        bin.display()
    ))
}

/// `GET /health` answers 200 (a plain socket: this runs before any runtime exists).
fn health_ok(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b"200")
}

/// Enough randomness for a throwaway test key (no extra dependency).
fn fastish_random() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}
