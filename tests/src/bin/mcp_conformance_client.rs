//! The client the official MCP conformance suite drives (`conformance client --command …`):
//! it is started as `mcp_conformance_client <server URL>` (with `MCP_CONFORMANCE_SCENARIO` set),
//! connects with our `McpClient` over streamable HTTP, lists the tools and calls each one with
//! arguments made from its input schema, then closes. The suite judges what it saw on the wire.

use std::process::ExitCode;

use hf_inference::mcp::{McpClient, ServerConfig, format_tool_result};
use serde_json::{Map, Value};

/// Arguments for a tool: each required property gets a small value of its type.
fn arguments_for(schema: Option<&Value>) -> Map<String, Value> {
    let mut args = Map::new();
    let Some(schema) = schema else { return args };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for name in required {
        let value = match schema["properties"][name]["type"].as_str() {
            Some("number" | "integer") => Value::from(if args.is_empty() { 5 } else { 3 }),
            Some("boolean") => Value::Bool(true),
            Some("array") => Value::Array(Vec::new()),
            Some("object") => Value::Object(Map::new()),
            _ => Value::String("test".into()),
        };
        args.insert(name.to_owned(), value);
    }
    args
}

#[tokio::main]
async fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: mcp_conformance_client <server URL>");
        return ExitCode::from(2);
    };
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    eprintln!("scenario `{scenario}` against {url}");
    // Only the tools are exercised; the model URL is never called.
    let mut client = match McpClient::builder()
        .base_url("http://127.0.0.1:9/v1")
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = client.add_server(ServerConfig::http(url)).await {
        eprintln!("connect: {e}");
        return ExitCode::FAILURE;
    }
    let tools: Vec<_> = client.tools().to_vec();
    let mut failed = false;
    for tool in tools {
        let name = tool.function.name;
        let args = arguments_for(tool.function.parameters.as_ref());
        match client.call_tool(&name, Some(args)).await {
            Ok(result) => println!("{name}: {}", format_tool_result(&result)),
            Err(e) => {
                eprintln!("{name}: {e}");
                failed = true;
            }
        }
    }
    client.close().await;
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
