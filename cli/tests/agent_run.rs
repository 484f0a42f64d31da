//! `hfi agent run`: an agent folder, a real MCP server (server-everything over stdio) and a
//! scripted model on loopback, driven through stdin like a user at the terminal.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hf_inference_tests::mcp_fixtures::{everything_js, processes_matching, servers_dir};
use hf_inference_tests::scripted_model::{Reply, ScriptedModel};
use serde_json::json;

#[test]
fn agent_run_streams_tool_calls_and_exits_on_end_of_input() {
    let Some(dir) = servers_dir() else { return };
    let model = ScriptedModel::start(vec![
        Reply::tool("call_1", "get-sum", json!({"a": 2, "b": 3})),
        Reply::tool("call_2", "task_complete", json!({})),
    ]);
    let marker = format!("hfi-agent-test-{}", std::process::id());
    let folder = std::env::temp_dir().join(&marker);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("agent.json"),
        json!({
            "model": "scripted/model",
            "endpointUrl": model.base_url(),
            "apiKey": "${input:llm-key}",
            "inputs": [{"id": "llm-key", "description": "The model's key"}],
            "servers": [{"type": "stdio", "command": "node",
                         "args": [everything_js(&dir), "stdio", marker.clone()],
                         "allowed_tools": ["get-sum"]}]
        })
        .to_string(),
    )
    .unwrap();
    std::fs::write(folder.join("PROMPT.md"), "Be brief.").unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_hfi"))
        .args(["agent", "run"])
        .arg(&folder)
        .env_remove("HF_TOKEN")
        .env("LLM_KEY", "sk-from-env")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // An empty answer to the input: the key comes from LLM_KEY.
    writeln!(stdin).unwrap();
    writeln!(stdin, "Add 2 and 3.").unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !seen.contains("Tool[task_complete] call_2") {
        assert!(Instant::now() < deadline, "no task_complete in:\n{seen}");
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        seen.push_str(&line);
    }
    // Ctrl-D.
    drop(stdin);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "exit {status}:\n{stderr}");
    assert!(stderr.contains("Agent loaded with 1 tools:"), "{stderr}");
    assert!(
        seen.contains(r#"<Tool call_1>get-sum {"a":2,"b":3}"#),
        "{seen}"
    );
    assert!(
        seen.contains("Tool[get-sum] call_1\nThe sum of 2 and 3 is 5."),
        "{seen}"
    );
    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].headers["authorization"], "Bearer sk-from-env");
    assert_eq!(requests[0].body["messages"][0]["content"], "Be brief.");
    assert!(
        processes_matching(&marker).is_empty(),
        "the stdio server is gone after exit"
    );
    let _ = std::fs::remove_dir_all(&folder);
}
