//! Side by side with the reference: the same `agent.json`, the same MCP servers and the same
//! scripted model, run once by our [`Agent`] and once by Python's tiny-agents `Agent`
//! (`huggingface_hub[mcp]` 2.4.0, from the venv `.ci/run` makes), must produce the same model
//! requests (model, messages, tools, `tool_choice`, `stream`) and the same tool results.
//!
//! Documented deliberate differences, which this script does not trigger:
//! - the check turn after a text answer ends on the first chunk that carries text, not on a
//!   role-only first chunk, so a tool call streamed after the role is not lost (README);
//! - Python sends `"tool_calls": null` on tool messages; we leave the field out (the same
//!   meaning for every OpenAI-compatible server), so null fields are dropped before comparing;
//! - headers (`User-Agent`, Python's random `X-Amzn-Trace-Id`) are not compared.

use std::path::Path;

use futures_util::StreamExt;
use hf_inference::mcp::{Agent, AgentDefinition, TurnItem};
use hf_inference_tests::mcp_fixtures::{NodeServer, everything_js, reference_python, servers_dir};
use hf_inference_tests::scripted_model::{Recorded, Reply, ScriptedModel};
use serde_json::{Value, json};

const DRIVER: &str = r#"
import asyncio, json, sys
from huggingface_hub.inference._mcp.agent import Agent
from huggingface_hub.inference._mcp.utils import _load_agent_config

async def main():
    config, prompt = _load_agent_config(sys.argv[1])
    async with Agent(model=config.get("model"), provider=config.get("provider"),
                     base_url=config.get("endpointUrl"), api_key=config.get("apiKey"),
                     servers=config["servers"], prompt=prompt) as agent:
        await agent.load_tools()
        async for item in agent.run(sys.argv[2]):
            if hasattr(item, "choices"):
                continue
            print(json.dumps({"tool_call_id": item.tool_call_id, "name": item.name,
                              "content": item.content}), flush=True)

asyncio.run(main())
"#;

const PROMPT: &str = "Add 2 and 3, echo a word, then show the tiny image.";

fn script() -> Vec<Reply> {
    vec![
        Reply::ToolCalls(vec![
            (
                "call_sum".into(),
                "get-sum".into(),
                r#"{"a": 2, "b": 3}"#.into(),
            ),
            (
                "call_echo".into(),
                "echo".into(),
                r#"{"message": "side by side"}"#.into(),
            ),
        ]),
        Reply::tool("call_image", "get-tiny-image", json!({})),
        Reply::Text("The sum is 5 and the image is shown.".into()),
        Reply::Text("Nothing more to do.".into()),
    ]
}

/// Writes the agent folder (agent.json + PROMPT.md) for a model at `endpoint`.
fn agent_folder(dir: &Path, servers_dir: &Path, http_port: u16, endpoint: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let config = json!({
        "model": "scripted/agent-model",
        "provider": "nebius",
        "endpointUrl": endpoint,
        "apiKey": "sk-side-by-side",
        "servers": [
            {"type": "stdio", "command": "node", "args": [everything_js(servers_dir), "stdio"],
             "env": {"FROM_CONFIG": "1"}, "allowed_tools": ["echo", "get-sum"]},
            {"type": "http", "url": format!("http://127.0.0.1:{http_port}/mcp"),
             "allowed_tools": ["get-tiny-image"]}
        ]
    });
    std::fs::write(
        dir.join("agent.json"),
        serde_json::to_string_pretty(&config).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("PROMPT.md"), "You are the side-by-side agent.").unwrap();
}

/// `value` without object fields that are `null`.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// What is compared of a model request.
fn comparable(request: &Recorded) -> Value {
    let body = &request.body;
    json!({
        "path": request.path,
        "authorization": request.headers.get("authorization"),
        "model": body["model"],
        "messages": without_nulls(&body["messages"]),
        "tools": body["tools"],
        "tool_choice": body["tool_choice"],
        "stream": body["stream"],
    })
}

#[tokio::test]
async fn same_requests_and_tool_results_as_python_tiny_agents() {
    let Some(dir) = servers_dir() else { return };
    let Some(python) = reference_python() else {
        return;
    };
    let http = NodeServer::everything(&dir, "streamableHttp");
    let work = std::env::temp_dir().join(format!("hfi-mcp-reference-{}", std::process::id()));

    // Ours.
    let ours_model = ScriptedModel::start(script());
    agent_folder(&work.join("ours"), &dir, http.port, &ours_model.base_url());
    let definition = AgentDefinition::load(work.join("ours")).unwrap();
    let mut agent = Agent::from_definition(definition).unwrap();
    agent.load_tools().await.unwrap();
    let mut our_results = Vec::new();
    {
        let mut run = agent.run(PROMPT);
        while let Some(item) = run.next().await {
            if let TurnItem::ToolResult(m) = item.unwrap() {
                our_results.push(json!({
                    "tool_call_id": m.tool_call_id,
                    "name": m.name,
                    "content": m.content,
                }));
            }
        }
    }
    agent.close().await;

    // Python's.
    let theirs_model = ScriptedModel::start(script());
    agent_folder(
        &work.join("theirs"),
        &dir,
        http.port,
        &theirs_model.base_url(),
    );
    let home = work.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let driver = work.join("driver.py");
    std::fs::write(&driver, DRIVER).unwrap();
    let output = tokio::process::Command::new(&python)
        .arg(&driver)
        .arg(work.join("theirs"))
        .arg(PROMPT)
        .env_remove("HF_TOKEN")
        .env_remove("HUGGING_FACE_HUB_TOKEN")
        .env_remove("HF_HUB_OFFLINE")
        .env("HOME", &home)
        .env("HF_HOME", home.join("hf"))
        .kill_on_drop(true)
        .output()
        .await
        .expect("python runs");
    assert!(
        output.status.success(),
        "the reference agent failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let their_results: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    let ours: Vec<Value> = ours_model.requests().iter().map(comparable).collect();
    let theirs: Vec<Value> = theirs_model.requests().iter().map(comparable).collect();
    assert_eq!(theirs.len(), 4, "the reference made the scripted requests");
    for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(o, t, "request {i} differs:\nours   {o:#}\ntheirs {t:#}");
    }
    assert_eq!(ours.len(), theirs.len(), "same number of model requests");
    assert_eq!(our_results, their_results, "same tool results");
    assert_eq!(our_results.len(), 3);
    let _ = std::fs::remove_dir_all(&work);
}
