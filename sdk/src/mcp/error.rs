//! [`McpError`]: what can go wrong while connecting to MCP servers or running an agent.

use std::path::PathBuf;
use std::time::Duration;

/// An error of the MCP client or the agent.
///
/// Problems of a single tool call (the server returns an error, dies, or takes too long) are not
/// errors here: they become the tool's answer to the model, as in the reference, so the model can
/// react. What ends a call with an `McpError` is a server that cannot be reached or started, a
/// bad configuration, or a failed model request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The server could not be started or did not complete the MCP handshake.
    #[error("MCP server `{server}` failed to start: {message}")]
    Start {
        /// The server's command or URL.
        server: String,
        /// What went wrong (including the last lines of a stdio server's stderr, when any).
        message: String,
    },
    /// The server did not answer in time.
    #[error("MCP server `{server}` did not answer {operation} within {timeout:?}")]
    Timeout {
        /// The server's command or URL.
        server: String,
        /// The request that timed out (`initialize`, `tools/list`, ...).
        operation: String,
        /// The limit that was reached.
        timeout: Duration,
    },
    /// The server answered a request with an error, or the connection broke.
    #[error("MCP server `{server}`: {operation} failed: {message}")]
    Server {
        /// The server's command or URL.
        server: String,
        /// The request that failed.
        operation: String,
        /// The server's message or the transport error.
        message: String,
    },
    /// No connected server offers this tool.
    #[error("no MCP server offers the tool `{name}`")]
    UnknownTool {
        /// The tool name.
        name: String,
    },
    /// A configuration value is missing or invalid (agent.json, a server entry, a builder).
    #[error("invalid MCP configuration `{field}`: {message}")]
    Config {
        /// The offending field (e.g. `servers[1].url`).
        field: String,
        /// Why it is rejected.
        message: String,
    },
    /// An agent file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The model request failed (HTTP error, bad stream, ...).
    #[error(transparent)]
    Inference(#[from] crate::Error),
}

impl McpError {
    pub(crate) fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Config {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The result type of this module.
pub type McpResult<T> = std::result::Result<T, McpError>;
