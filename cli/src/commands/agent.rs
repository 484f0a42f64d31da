//! `hfi agent run <folder|agent.json>`: a tiny agent in the terminal (the reference's
//! `tiny-agents run`), on the SDK's `hf_inference::mcp`.
//!
//! Reads the agent folder (`agent.json`, and `PROMPT.md` or `AGENTS.md`), asks for its `inputs`,
//! starts its MCP servers, then loops: a line from stdin, the agent's streamed answer and tool
//! calls on stdout. Ctrl-C during an answer stops it; Ctrl-C at the prompt, or the end of input
//! (Ctrl-D), stops the servers and exits with 0.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use futures_util::StreamExt;
use hf_inference::mcp::{Agent, AgentDefinition, McpError, TurnItem};

use crate::exit::{self, CliError};
use crate::global::GlobalArgs;

/// Arguments of `hfi agent`.
#[derive(Args, Debug)]
pub struct AgentArgs {
    #[command(subcommand)]
    command: AgentCommand,
}

#[derive(Subcommand, Debug)]
enum AgentCommand {
    /// Run an agent: a folder with agent.json (and PROMPT.md or AGENTS.md), or an agent.json
    /// file. --model, --provider and --token override the file's model, provider and apiKey.
    Run {
        /// The agent folder or its agent.json.
        path: PathBuf,
    },
}

fn mcp_error(error: McpError) -> CliError {
    let code = match error {
        McpError::Inference(e) => return CliError::from(e),
        McpError::Config { .. } | McpError::Io { .. } => exit::USAGE,
        McpError::Timeout { .. } => exit::TIMEOUT,
        _ => exit::FAILURE,
    };
    CliError {
        code,
        message: error.to_string(),
    }
}

/// Lines of stdin, read on a thread of their own: a blocking read pending in the async runtime
/// would keep it from shutting down at exit.
fn stdin_lines() -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl AgentArgs {
    /// Runs the subcommand.
    pub async fn run(self, global: &GlobalArgs) -> Result<(), CliError> {
        let AgentCommand::Run { path } = self.command;
        let mut definition = AgentDefinition::load(&path).map_err(mcp_error)?;
        let config = &mut definition.config;
        if let Some(model) = &global.model {
            config.model = Some(model.clone());
        }
        if let Some(provider) = global.provider {
            config.provider = Some(provider.to_string());
        }
        if let Some(token) = &global.token {
            config.api_key = Some(token.clone());
        }
        let mut lines = stdin_lines();

        let used: Vec<_> = config.used_inputs().into_iter().cloned().collect();
        let mut answers = HashMap::new();
        if !used.is_empty() {
            eprintln!(
                "Some inputs are required by the agent. Give a value, or leave empty to load it from the environment."
            );
        }
        for input in &used {
            eprint!(
                " • {}: {}. (default: load from {}) ",
                input.id,
                input.description,
                input.env_variable()
            );
            let _ = std::io::stderr().flush();
            let answer = tokio::select! {
                line = lines.recv() => line,
                _ = tokio::signal::ctrl_c() => return Ok(()),
            };
            answers.insert(input.id.clone(), answer.unwrap_or_default());
        }
        config.resolve_inputs(
            |input| answers.get(&input.id).cloned(),
            |name| std::env::var(name).ok(),
        );

        let mut agent = Agent::from_definition(definition).map_err(mcp_error)?;
        if let Err(e) = agent.load_tools().await {
            agent.close().await;
            return Err(mcp_error(e));
        }
        eprintln!("Agent loaded with {} tools:", agent.client().tools().len());
        for tool in agent.client().tools() {
            eprintln!(" • {}", tool.function.name);
        }

        loop {
            eprint!("\n» ");
            let _ = std::io::stderr().flush();
            let line = tokio::select! {
                line = lines.recv() => line,
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("\nExiting.");
                    break;
                }
            };
            let Some(line) = line else {
                // End of input. (The reference keeps sending empty turns here.)
                eprintln!();
                break;
            };
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let mut run = agent.run(line);
            let mut out = std::io::stdout();
            loop {
                tokio::select! {
                    item = run.next() => match item {
                        None => break,
                        Some(Ok(item)) => show(&mut out, item),
                        Some(Err(e)) => {
                            let _ = out.flush();
                            eprintln!("\nhfi: error: {e}");
                            break;
                        }
                    },
                    _ = tokio::signal::ctrl_c() => {
                        eprintln!("\nInterrupted. Ctrl-C again at the prompt (or Ctrl-D) quits.");
                        break;
                    }
                }
            }
            let _ = out.flush();
            println!();
        }
        agent.close().await;
        Ok(())
    }
}

/// Prints one item as the reference does: text as it streams, `<Tool id>name args` for tool
/// calls, then `Tool[name] id` and the result.
fn show(out: &mut impl Write, item: TurnItem) {
    match item {
        TurnItem::Chunk(chunk) => {
            let Some(delta) = chunk.choices.first().map(|c| &c.delta) else {
                return;
            };
            if let Some(text) = &delta.content {
                let _ = write!(out, "{text}");
            }
            for call in delta.tool_calls.iter().flatten() {
                if let Some(id) = &call.id {
                    let _ = write!(out, "<Tool {id}>");
                }
                if let Some(function) = &call.function {
                    if let Some(name) = &function.name {
                        let _ = write!(out, "{name} ");
                    }
                    if let Some(args) = &function.arguments {
                        let _ = write!(out, "{args}");
                    }
                }
            }
            let _ = out.flush();
        }
        TurnItem::ToolResult(message) => {
            let content = serde_json::to_value(&message.content).unwrap_or_default();
            let _ = writeln!(
                out,
                "\n\nTool[{}] {}\n{}",
                message.name.unwrap_or_default(),
                message.tool_call_id.unwrap_or_default(),
                content.as_str().unwrap_or_default()
            );
            let _ = out.flush();
        }
        _ => {}
    }
}
