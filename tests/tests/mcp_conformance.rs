//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, 0.1.10: the newest
//! that runs on Node 20) drives our client (`src/bin/mcp_conformance_client.rs`) through its
//! client scenarios. Its scenario servers are kept on 127.0.0.1 by `tests/mcp-servers/loopback.cjs`.
//!
//! Not run: `elicitation-sep1034-client-defaults` (the agent offers no elicitation, so it does
//! not advertise the capability) and the `auth/*` suite (OAuth is not implemented).

use std::process::Command;

use hf_inference_tests::mcp_fixtures::{conformance_cli, loopback_preload};
use serde_json::Value;

fn run_scenario(scenario: &str) {
    let Some(cli) = conformance_cli() else { return };
    let out_dir = std::env::temp_dir().join(format!(
        "hfi-mcp-conformance-{}-{scenario}",
        std::process::id()
    ));
    let output = Command::new("node")
        .arg(&cli)
        .args([
            "client",
            "--command",
            env!("CARGO_BIN_EXE_mcp_conformance_client"),
        ])
        .args(["--scenario", scenario, "--timeout", "30000", "-o"])
        .arg(&out_dir)
        .env("NODE_OPTIONS", format!("--require {}", loopback_preload()))
        .output()
        .expect("node runs the conformance suite");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains("OVERALL: PASSED") || stderr.contains("OVERALL: PASSED"),
        "scenario {scenario} failed:\n{stdout}\n{stderr}"
    );
    // The verdicts, from the suite's own report: at least one success, no failure or warning.
    let mut verdicts = Vec::new();
    for entry in walk(&out_dir) {
        if entry.file_name().is_some_and(|n| n == "checks.json") {
            let checks: Value = serde_json::from_slice(&std::fs::read(&entry).unwrap()).unwrap();
            for check in checks.as_array().unwrap() {
                verdicts.push((
                    check["id"].as_str().unwrap_or_default().to_owned(),
                    check["status"].as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&out_dir);
    assert!(
        verdicts.iter().any(|(_, s)| s == "SUCCESS"),
        "{scenario}: no successful check in {verdicts:?}"
    );
    assert!(
        verdicts.iter().all(|(_, s)| s == "SUCCESS" || s == "INFO"),
        "{scenario}: {verdicts:?}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn conformance_initialize() {
    run_scenario("initialize");
}

#[test]
fn conformance_tools_call() {
    run_scenario("tools_call");
}

#[test]
fn conformance_sse_retry() {
    run_scenario("sse-retry");
}
