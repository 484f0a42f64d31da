//! A tiny agent with one stdio MCP server and one streamable HTTP MCP server.
//!
//! ```text
//! # an HTTP MCP server to talk to (any will do; this one is the MCP reference server):
//! PORT=3001 npx -y @modelcontextprotocol/server-everything streamableHttp &
//! HF_TOKEN=hf_… cargo run -p hf-inference --features mcp --example mcp_agent -- "Add 2 and 3, then echo the result"
//! ```
//!
//! Settings (environment): `MODEL` (default `Qwen/Qwen2.5-72B-Instruct`), `PROVIDER` (default
//! `nebius`), or `ENDPOINT_URL` for any OpenAI-compatible server (then `MODEL` is the name sent);
//! `MCP_STDIO` (the stdio server's command line, default
//! `npx -y @modelcontextprotocol/server-everything stdio`); `MCP_HTTP_URL` (default
//! `http://127.0.0.1:3001/mcp`).

use std::io::Write;

use futures_util::StreamExt;
use hf_inference::mcp::{Agent, McpClient, ServerConfig, TurnItem};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let question = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Add 2 and 3 with your tools, then echo the result.".into());
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());

    let mut client = McpClient::builder().model(env("MODEL", "Qwen/Qwen2.5-72B-Instruct"));
    client = match std::env::var("ENDPOINT_URL") {
        Ok(url) => client.base_url(url),
        Err(_) => client.provider(env("PROVIDER", "nebius").parse()?),
    };

    let stdio = env(
        "MCP_STDIO",
        "npx -y @modelcontextprotocol/server-everything stdio",
    );
    let mut words = stdio.split_whitespace();
    let command = words.next().ok_or("MCP_STDIO is empty")?;
    let servers = vec![
        // A child process; it sees only HOME, PATH, … plus the `env` given here.
        ServerConfig::stdio(command).args(words).into(),
        // Only two of this server's tools are offered to the model.
        ServerConfig::http(env("MCP_HTTP_URL", "http://127.0.0.1:3001/mcp"))
            .with_allowed_tools(["get-sum", "get-env"]),
    ];

    let mut agent = Agent::new(client.build()?, servers, None);
    agent.load_tools().await?;
    let names: Vec<_> = agent
        .client()
        .tools()
        .iter()
        .map(|t| t.function.name.as_str())
        .collect();
    eprintln!("tools: {}", names.join(", "));

    let mut run = agent.run(question);
    while let Some(item) = run.next().await {
        match item? {
            TurnItem::Chunk(chunk) => {
                let Some(delta) = chunk.choices.first().map(|c| &c.delta) else {
                    continue;
                };
                if let Some(text) = &delta.content {
                    print!("{text}");
                }
                for call in delta.tool_calls.iter().flatten() {
                    if let Some(name) = call.function.as_ref().and_then(|f| f.name.as_deref()) {
                        print!("\n[calling {name}] ");
                    }
                }
                std::io::stdout().flush()?;
            }
            TurnItem::ToolResult(message) => {
                let text = serde_json::to_value(&message.content)?;
                println!(
                    "\n[{}] {}",
                    message.name.unwrap_or_default(),
                    text.as_str().unwrap_or_default()
                );
            }
            _ => {}
        }
    }
    drop(run);
    println!();
    // Stops the stdio server (stdin closed, then SIGTERM, then SIGKILL) and waits for it.
    agent.close().await;
    Ok(())
}
