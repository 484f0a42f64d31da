//! MCP (Model Context Protocol) tools for chat models, and tiny agents (feature `mcp`).
//!
//! [`McpClient`] connects to MCP servers over stdio, streamable HTTP or legacy SSE (through the
//! official Rust SDK, `rmcp`), offers their tools to a chat model of any provider, and runs one
//! turn of tool use. [`Agent`] is the reference's tiny-agent loop on top of it, and
//! [`AgentDefinition`] reads an `agent.json` folder in the reference format.

mod agent;
mod client;
mod config;
mod error;
mod format;
mod generator;
mod transport_sse;

pub use agent::{
    ASK_QUESTION, Agent, DEFAULT_SYSTEM_PROMPT, MAX_NUM_TURNS, TASK_COMPLETE, exit_loop_tools,
};
pub use client::{
    INHERITED_ENV, McpClient, McpClientBuilder, PROTOCOL_VERSION, TurnItem, TurnOptions,
    format_tool_result,
};
pub use config::{
    AgentConfig, AgentDefinition, AgentInput, HttpServer, PROMPT_FILES, ServerConfig, StdioServer,
};
pub use error::{McpError, McpResult};
