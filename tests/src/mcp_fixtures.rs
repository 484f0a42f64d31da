//! Where the MCP tests find the real servers `.ci/run` installs, and how they start them.
//!
//! `.ci/run` installs `tests/mcp-servers/package.json` (server-everything) into
//! `target/mcp-servers`, the conformance suite into `target/mcp-conformance`, and the Python
//! reference (`huggingface_hub[mcp]`) into the venv `target/mcp-ref-venv`. `MCP_SERVERS_DIR`,
//! `MCP_CONFORMANCE_DIR` and `MCP_REF_PYTHON` override those places. When a piece is missing a
//! test skips with a message, except under `CI=true`, where it fails.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// `Some(path)` when `path` exists; otherwise skips (`None`) or, under `CI=true`, panics.
pub fn require(path: PathBuf, what: &str) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    let message = format!(
        "{what} is not installed at {} (run the `== mcp` block of .ci/run)",
        path.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("skipped: {message}");
    None
}

/// The folder holding `node_modules/@modelcontextprotocol/server-everything`.
pub fn servers_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MCP_SERVERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("mcp-servers"));
    require(
        dir.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js"),
        "@modelcontextprotocol/server-everything",
    )?;
    Some(dir)
}

/// server-everything's entry point inside [`servers_dir`].
pub fn everything_js(dir: &Path) -> String {
    dir.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js")
        .display()
        .to_string()
}

/// The preload script that keeps Node servers on 127.0.0.1.
pub fn loopback_preload() -> String {
    repo_root()
        .join("tests/mcp-servers/loopback.cjs")
        .display()
        .to_string()
}

/// The conformance suite's CLI (`dist/index.js`).
pub fn conformance_cli() -> Option<PathBuf> {
    let dir = std::env::var_os("MCP_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("mcp-conformance"));
    require(
        dir.join("node_modules/@modelcontextprotocol/conformance/dist/index.js"),
        "@modelcontextprotocol/conformance",
    )
}

/// The Python of the reference venv (with `huggingface_hub[mcp]`).
pub fn reference_python() -> Option<PathBuf> {
    let python = std::env::var_os("MCP_REF_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("mcp-ref-venv/bin/python"));
    require(python, "the Python reference venv (huggingface_hub[mcp])")
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A Node server started by a test, killed (and reaped) when dropped.
pub struct NodeServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl NodeServer {
    /// Starts server-everything with the given transport (`streamableHttp` or `sse`) on a free
    /// loopback port and waits until it accepts connections.
    pub fn everything(dir: &Path, transport: &str) -> Self {
        let port = free_port();
        let child = Command::new("node")
            .arg("--require")
            .arg(loopback_preload())
            .arg(everything_js(dir))
            .arg(transport)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "server-everything {transport} did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a process with this id still exists (a zombie counts: nobody reaped it).
pub fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits up to `limit` for every process to be gone; returns those still there. Async, so the
/// runtime keeps running the tasks that kill and reap children.
pub async fn wait_gone(pids: &[u32], limit: Duration) -> Vec<u32> {
    let deadline = Instant::now() + limit;
    loop {
        let left: Vec<u32> = pids
            .iter()
            .copied()
            .filter(|p| process_exists(*p))
            .collect();
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Processes whose command line contains `needle` (for children the code under test never
/// reported, e.g. after a failed start).
pub fn processes_matching(needle: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    String::from_utf8_lossy(&c)
                        .replace('\0', " ")
                        .contains(needle)
                })
                .unwrap_or(false)
        })
        .collect()
}
