//! The MCP client and the tiny agent against real MCP servers (the reference
//! `@modelcontextprotocol/server-everything` from npm, over stdio, streamable HTTP and legacy
//! SSE), with the model played by a scripted OpenAI-compatible server on loopback.

use std::time::Duration;

use futures_util::StreamExt;
use hf_inference::mcp::{Agent, AgentConfig, McpClient, McpError, ServerConfig, TurnItem};
use hf_inference::types::chat::ChatRole;
use hf_inference_tests::mcp_fixtures::{
    NodeServer, everything_js, processes_matching, servers_dir, wait_gone,
};
use hf_inference_tests::scripted_model::{Reply, ScriptedModel};
use serde_json::{Value, json};

fn stdio_everything(dir: &std::path::Path) -> ServerConfig {
    ServerConfig::stdio("node")
        .args([everything_js(dir), "stdio".into()])
        .into()
}

async fn run_to_end(agent: &mut Agent, input: &str) -> Vec<TurnItem> {
    let run = agent.run(input);
    tokio::time::timeout(
        Duration::from_secs(60),
        run.map(|i| i.expect("run item")).collect(),
    )
    .await
    .expect("the agent run finished")
}

fn tool_results(items: &[TurnItem]) -> Vec<(String, String, String)> {
    items
        .iter()
        .filter_map(|i| match i {
            TurnItem::ToolResult(m) => Some((
                m.tool_call_id.clone().unwrap_or_default(),
                m.name.clone().unwrap_or_default(),
                serde_json::to_value(&m.content)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            )),
            _ => None,
        })
        .collect()
}

fn tool_names(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .expect("tools offered")
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
        .collect()
}

fn agent_for(model: &ScriptedModel, servers: Vec<ServerConfig>) -> Agent {
    let config: AgentConfig = serde_json::from_value(json!({
        "model": "scripted/model",
        "endpointUrl": model.base_url(),
        "apiKey": "sk-scripted",
        "servers": servers,
    }))
    .unwrap();
    Agent::from_config(config, Some("You are a test agent.".into())).unwrap()
}

#[tokio::test]
async fn stdio_agent_calls_tools_feeds_results_back_and_ends_on_task_complete() {
    let Some(dir) = servers_dir() else { return };
    let model = ScriptedModel::start(vec![
        Reply::ToolCalls(vec![
            (
                "call_sum".into(),
                "get-sum".into(),
                r#"{"a": 20, "b": 22}"#.into(),
            ),
            (
                "call_echo".into(),
                "echo".into(),
                r#"{"message": "hello from rust"}"#.into(),
            ),
        ]),
        Reply::tool("call_done", "task_complete", json!({})),
    ]);
    let server = stdio_everything(&dir).with_allowed_tools(["echo", "get-sum"]);
    let mut agent = agent_for(&model, vec![server]);
    agent.load_tools().await.expect("server-everything starts");
    let pids = agent.client().process_ids();
    assert_eq!(pids.len(), 1, "one stdio child");

    let items = run_to_end(&mut agent, "Add 20 and 22, then echo a greeting.").await;

    // Both tools ran, in the order the model asked, with the arguments it gave.
    let results = tool_results(&items);
    assert_eq!(results.len(), 3, "{results:?}");
    assert_eq!(results[0].0, "call_sum");
    assert_eq!(results[0].1, "get-sum");
    assert!(results[0].2.contains("42"), "{}", results[0].2);
    assert_eq!(
        results[1],
        (
            "call_echo".into(),
            "echo".into(),
            "Echo: hello from rust".into()
        )
    );
    assert_eq!(
        results[2],
        ("call_done".into(), "task_complete".into(), String::new())
    );
    assert!(
        items.iter().any(|i| matches!(i, TurnItem::Chunk(_))),
        "chunks are streamed to the caller"
    );

    // The loop ended on task_complete: exactly the two scripted requests were made.
    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(model.remaining(), 0);
    let first = &requests[0].body;
    assert_eq!(requests[0].path, "/v1/chat/completions");
    assert_eq!(requests[0].headers["authorization"], "Bearer sk-scripted");
    assert_eq!(first["model"], "scripted/model");
    assert_eq!(first["stream"], true);
    assert_eq!(first["tool_choice"], "auto");
    assert_eq!(
        tool_names(first),
        ["task_complete", "ask_question", "echo", "get-sum"]
    );
    assert_eq!(
        first["messages"][0],
        json!({"role": "system", "content": "You are a test agent."})
    );
    assert_eq!(first["messages"][1]["role"], "user");

    // The results reached the next model request, after the assistant's tool calls.
    let messages = requests[1].body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 5, "{messages:#?}");
    assert_eq!(messages[2]["role"], "assistant");
    assert_eq!(
        messages[2]["tool_calls"][0]["function"]["arguments"],
        r#"{"a": 20, "b": 22}"#
    );
    assert_eq!(messages[2]["tool_calls"][1]["id"], "call_echo");
    assert_eq!(messages[3]["role"], "tool");
    assert_eq!(messages[3]["tool_call_id"], "call_sum");
    assert!(messages[3]["content"].as_str().unwrap().contains("42"));
    assert_eq!(
        messages[4],
        json!({"role": "tool", "content": "Echo: hello from rust", "name": "echo", "tool_call_id": "call_echo"})
    );
    // The conversation keeps the exit call's empty answer too.
    assert_eq!(agent.messages().last().unwrap().role, ChatRole::Tool);

    agent.close().await;
    assert_eq!(
        wait_gone(&pids, Duration::from_secs(5)).await,
        Vec::<u32>::new(),
        "the stdio server is gone"
    );
}

#[tokio::test]
async fn agent_with_one_stdio_and_one_http_server() {
    let Some(dir) = servers_dir() else { return };
    let http = NodeServer::everything(&dir, "streamableHttp");
    let model = ScriptedModel::start(vec![
        Reply::ToolCalls(vec![
            ("c1".into(), "get-sum".into(), r#"{"a": 1, "b": 2}"#.into()),
            (
                "c2".into(),
                "echo".into(),
                r#"{"message": "via stdio"}"#.into(),
            ),
        ]),
        Reply::Text("1 + 2 = 3.".into()),
        // The agent asks once more after a text answer; a text start ends the run.
        Reply::Text("Done.".into()),
    ]);
    let servers = vec![
        stdio_everything(&dir).with_allowed_tools(["echo"]),
        ServerConfig::http(format!("http://127.0.0.1:{}/mcp", http.port))
            .with_allowed_tools(["get-sum"]),
    ];
    let mut agent = agent_for(&model, servers);
    agent.load_tools().await.expect("both servers connect");
    let names: Vec<_> = agent
        .client()
        .tools()
        .iter()
        .map(|t| t.function.name.clone())
        .collect();
    assert_eq!(
        names,
        ["echo", "get-sum"],
        "allowed_tools per server, in server order"
    );

    let items = run_to_end(&mut agent, "Add 1 and 2.").await;
    let results = tool_results(&items);
    assert_eq!(results.len(), 2);
    assert!(
        results[0].2.contains('3'),
        "the HTTP server answered: {}",
        results[0].2
    );
    assert_eq!(results[1].2, "Echo: via stdio");
    let requests = model.requests();
    assert_eq!(
        requests.len(),
        3,
        "tool turn, text answer, and the one check turn"
    );
    let last = agent.messages().last().unwrap();
    assert_eq!(
        last.role,
        ChatRole::Assistant,
        "the check turn appends nothing"
    );
    let pids = agent.client().process_ids();
    agent.close().await;
    assert!(wait_gone(&pids, Duration::from_secs(5)).await.is_empty());
}

#[tokio::test]
async fn legacy_sse_server_lists_and_calls_tools() {
    let Some(dir) = servers_dir() else { return };
    let sse = NodeServer::everything(&dir, "sse");
    let mut client = McpClient::builder()
        .base_url("http://127.0.0.1:9/v1")
        .build()
        .unwrap();
    client
        .add_server(ServerConfig::sse(format!(
            "http://127.0.0.1:{}/sse",
            sse.port
        )))
        .await
        .expect("SSE server connects");
    assert!(
        client.tools().len() >= 10,
        "server-everything offers its tools over SSE"
    );
    let result = client
        .call_tool(
            "get-sum",
            Some(json!({"a": 20, "b": 22}).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert!(
        hf_inference::mcp::format_tool_result(&result).contains("42"),
        "{result}"
    );
    client.close().await;
}

#[tokio::test]
async fn tools_list_follows_every_page() {
    let Some(dir) = servers_dir() else { return };
    let script =
        hf_inference_tests::mcp_fixtures::repo_root().join("tests/mcp-servers/paginated.mjs");
    let copy = dir.join("paginated.mjs");
    std::fs::copy(&script, &copy).unwrap();
    let mut client = McpClient::builder()
        .base_url("http://127.0.0.1:9/v1")
        .build()
        .unwrap();
    client
        .add_server(
            ServerConfig::stdio("node")
                .args([copy.display().to_string()])
                .into(),
        )
        .await
        .unwrap();
    let names: Vec<_> = client
        .tools()
        .iter()
        .map(|t| t.function.name.clone())
        .collect();
    assert_eq!(names, ["alpha", "beta", "gamma", "delta"]);
    let result = client
        .call_tool(
            "delta",
            Some(json!({"word": "last page"}).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(
        hf_inference::mcp::format_tool_result(&result),
        "delta: last page"
    );
    client.close().await;
}

#[tokio::test]
async fn stdio_server_gets_only_a_minimal_environment() {
    let Some(dir) = servers_dir() else { return };
    // Cargo sets this for the test process; it stands for any secret in the caller's env.
    let secret = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let mut client = McpClient::builder()
        .base_url("http://127.0.0.1:9/v1")
        .build()
        .unwrap();
    let ServerConfig::Stdio(stdio) = stdio_everything(&dir) else {
        unreachable!()
    };
    client
        .add_server(stdio.env("FROM_CONFIG", "configured-value").into())
        .await
        .unwrap();
    let result = client.call_tool("get-env", None).await.unwrap();
    let text = hf_inference::mcp::format_tool_result(&result);
    let env: Value = serde_json::from_str(&text).expect("get-env answers JSON");
    let names: Vec<&str> = env
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(env["FROM_CONFIG"], "configured-value");
    assert!(
        !text.contains(&secret),
        "the caller's environment leaked: {names:?}"
    );
    for name in &names {
        assert!(
            [
                "HOME",
                "LOGNAME",
                "PATH",
                "SHELL",
                "TERM",
                "USER",
                "FROM_CONFIG"
            ]
            .contains(name),
            "unexpected variable {name} reached the server"
        );
    }
    client.close().await;
}

#[tokio::test]
async fn a_server_that_cannot_start_is_a_typed_error() {
    let mut client = McpClient::builder()
        .base_url("http://127.0.0.1:9/v1")
        .build()
        .unwrap();
    let missing = client
        .add_server(ServerConfig::stdio("/nonexistent/mcp-server").into())
        .await
        .unwrap_err();
    assert!(matches!(missing, McpError::Start { .. }), "{missing}");
    assert!(
        missing.to_string().contains("/nonexistent/mcp-server"),
        "{missing}"
    );

    let crashed = client
        .add_server(
            ServerConfig::stdio("sh")
                .args(["-c", "echo 'config file missing' >&2; exit 3"])
                .into(),
        )
        .await
        .unwrap_err();
    assert!(matches!(crashed, McpError::Start { .. }), "{crashed}");
    assert!(
        crashed.to_string().contains("config file missing"),
        "stderr is reported: {crashed}"
    );
    assert!(client.tools().is_empty());
}

#[tokio::test]
async fn a_silent_server_times_out_and_is_killed() {
    let mut client = McpClient::builder()
        .base_url("http://127.0.0.1:9/v1")
        .startup_timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let marker = "1234.5678";
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        client.add_server(ServerConfig::stdio("sleep").args([marker]).into()),
    )
    .await
    .expect("no hang")
    .unwrap_err();
    assert!(matches!(err, McpError::Timeout { .. }), "{err}");
    let left = processes_matching(&format!("sleep {marker}"));
    assert!(
        wait_gone(&left, Duration::from_secs(5)).await.is_empty(),
        "the silent child was killed"
    );
}

#[tokio::test]
async fn tool_failures_become_messages_to_the_model() {
    let Some(dir) = servers_dir() else { return };
    let model = ScriptedModel::start(vec![
        Reply::ToolCalls(vec![
            (
                "slow".into(),
                "trigger-long-running-operation".into(),
                r#"{"duration": 10, "steps": 2}"#.into(),
            ),
            ("bad_json".into(), "echo".into(), r#"{"message": "#.into()),
            ("unknown".into(), "no-such-tool".into(), "{}".into()),
            ("bad_args".into(), "get-sum".into(), r#"{"a": "x"}"#.into()),
        ]),
        Reply::tool("kill", "echo", json!({"message": "after the crash"})),
        Reply::tool("done", "task_complete", json!({})),
    ]);
    let client = McpClient::builder()
        .base_url(model.base_url())
        .model("scripted/model")
        .tool_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let mut agent = Agent::new(client, vec![stdio_everything(&dir)], None);
    agent.load_tools().await.unwrap();
    let pids = agent.client().process_ids();

    let mut results = Vec::new();
    {
        let mut run = agent.run("Try the tools.");
        while let Some(item) = tokio::time::timeout(Duration::from_secs(30), run.next())
            .await
            .expect("no hang")
        {
            if let TurnItem::ToolResult(m) = item.unwrap() {
                let text = serde_json::to_value(&m.content)
                    .unwrap()
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                results.push((m.tool_call_id.clone().unwrap_or_default(), text));
                if results.len() == 4 {
                    // The server dies between two calls.
                    std::process::Command::new("kill")
                        .args(["-9", &pids[0].to_string()])
                        .status()
                        .unwrap();
                }
            }
        }
    }
    let find = |id: &str| {
        results
            .iter()
            .find(|r| r.0 == id)
            .map(|r| r.1.clone())
            .unwrap()
    };
    assert!(
        find("slow").starts_with("Error: MCP tool call failed with error message:"),
        "{}",
        find("slow")
    );
    assert!(find("slow").contains("within 1s"), "{}", find("slow"));
    assert!(
        find("bad_json").starts_with("Invalid JSON generated by the model: "),
        "{}",
        find("bad_json")
    );
    assert_eq!(
        find("unknown"),
        "Error: No session found for tool: no-such-tool"
    );
    assert!(!find("bad_args").is_empty());
    assert!(
        find("kill").starts_with("Error: MCP tool call failed with error message:"),
        "a dead server is reported to the model: {}",
        find("kill")
    );
    assert_eq!(find("done"), "");
    assert_eq!(model.requests().len(), 3);
    agent.close().await;
    assert!(wait_gone(&pids, Duration::from_secs(5)).await.is_empty());
}

#[tokio::test]
async fn dropping_the_agent_stops_its_servers() {
    let Some(dir) = servers_dir() else { return };
    let model = ScriptedModel::start(vec![]);
    let mut agent = agent_for(&model, vec![stdio_everything(&dir), stdio_everything(&dir)]);
    agent.load_tools().await.unwrap();
    let pids = agent.client().process_ids();
    assert_eq!(pids.len(), 2);
    drop(agent);
    assert!(
        wait_gone(&pids, Duration::from_secs(10)).await.is_empty(),
        "children killed and reaped after a drop without close()"
    );
}

#[tokio::test]
async fn a_tool_call_after_a_role_only_chunk_is_not_lost_in_the_check_turn() {
    // Deliberate fix (README): the reference ends the check turn on any first chunk without a
    // tool call, even a role-only one, and would drop this task_complete.
    let Some(dir) = servers_dir() else { return };
    let model = ScriptedModel::start(vec![
        Reply::tool("c1", "echo", json!({"message": "x"})),
        Reply::Text("Echoed.".into()),
        // The check turn: a role-only chunk, then the tool call.
        Reply::tool("done", "task_complete", json!({})),
    ]);
    let mut agent = agent_for(
        &model,
        vec![stdio_everything(&dir).with_allowed_tools(["echo"])],
    );
    agent.load_tools().await.unwrap();
    let items = run_to_end(&mut agent, "Echo x.").await;
    let results = tool_results(&items);
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(results[0].2, "Echo: x");
    assert_eq!(
        results[1].1, "task_complete",
        "the check turn's tool call was run"
    );
    assert_eq!(model.requests().len(), 3);
    agent.close().await;
}
