//! Server entries and `agent.json`, in the format of the reference tiny agents.
//!
//! ```
//! use hf_inference::mcp::{AgentConfig, ServerConfig};
//!
//! let config: AgentConfig = serde_json::from_str(r#"{
//!     "model": "Qwen/Qwen2.5-72B-Instruct",
//!     "provider": "nebius",
//!     "inputs": [{"id": "gh-token", "description": "GitHub token", "password": true}],
//!     "servers": [
//!         {"type": "stdio", "command": "node", "args": ["server.js"], "env": {"TOKEN": "${input:gh-token}"}},
//!         {"type": "http", "url": "http://127.0.0.1:3001/mcp", "allowed_tools": ["echo"]}
//!     ]
//! }"#).unwrap();
//! assert!(matches!(config.servers[0], ServerConfig::Stdio(_)));
//! assert_eq!(config.servers[1].allowed_tools(), Some(&["echo".to_owned()][..]));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::{McpError, McpResult};

/// How to reach one MCP server (`{"type": "stdio" | "http" | "sse", ...}`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
#[non_exhaustive]
pub enum ServerConfig {
    /// A child process speaking MCP on its stdin and stdout.
    Stdio(StdioServer),
    /// A streamable HTTP server.
    Http(HttpServer),
    /// A legacy HTTP+SSE server (the 2024-11-05 transport).
    Sse(HttpServer),
}

impl ServerConfig {
    /// A stdio server started with `command`.
    pub fn stdio(command: impl Into<String>) -> StdioServer {
        StdioServer {
            command: command.into(),
            args: Vec::new(),
            env: BTreeMap::new(),
            cwd: None,
            allowed_tools: None,
        }
    }

    /// A streamable HTTP server at `url`.
    pub fn http(url: impl Into<String>) -> Self {
        Self::Http(HttpServer::new(url))
    }

    /// A legacy SSE server at `url` (the URL of its event stream, e.g. `…/sse`).
    pub fn sse(url: impl Into<String>) -> Self {
        Self::Sse(HttpServer::new(url))
    }

    /// The tools of this server the model may see (`None`: all).
    pub fn allowed_tools(&self) -> Option<&[String]> {
        match self {
            Self::Stdio(s) => s.allowed_tools.as_deref(),
            Self::Http(s) | Self::Sse(s) => s.allowed_tools.as_deref(),
        }
    }

    /// Restricts the tools of this server the model may see.
    pub fn with_allowed_tools<I, S>(mut self, tools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let tools = Some(tools.into_iter().map(Into::into).collect());
        match &mut self {
            Self::Stdio(s) => s.allowed_tools = tools,
            Self::Http(s) | Self::Sse(s) => s.allowed_tools = tools,
        }
        self
    }

    /// A short name for messages: the command or the URL.
    pub fn label(&self) -> String {
        match self {
            Self::Stdio(s) => s.command.clone(),
            Self::Http(s) | Self::Sse(s) => s.url.clone(),
        }
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stdio(s) => f.debug_tuple("Stdio").field(s).finish(),
            Self::Http(s) => f.debug_tuple("Http").field(s).finish(),
            Self::Sse(s) => f.debug_tuple("Sse").field(s).finish(),
        }
    }
}

/// A stdio server: `command args…`, run with a minimal environment plus `env`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StdioServer {
    /// The program (looked up on `PATH`).
    pub command: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Variables given to the server, on top of `HOME LOGNAME PATH SHELL TERM USER` (the only ones
    /// taken from this process: the rest of the environment may hold secrets).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory (default: this process's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<PathBuf>,
    /// The tools the model may see (`None`: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_tools: Option<Vec<String>>,
}

impl StdioServer {
    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets one environment variable of the server.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Sets the working directory.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }
}

impl From<StdioServer> for ServerConfig {
    fn from(server: StdioServer) -> Self {
        Self::Stdio(server)
    }
}

impl fmt::Debug for StdioServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values of `env` are often credentials: only their names are shown.
        f.debug_struct("StdioServer")
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("cwd", &self.cwd)
            .field("allowed_tools", &self.allowed_tools)
            .finish()
    }
}

/// A server reached over HTTP (streamable HTTP or legacy SSE).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HttpServer {
    /// The endpoint (streamable HTTP: e.g. `…/mcp`; SSE: the event stream, e.g. `…/sse`).
    pub url: String,
    /// Headers sent with every request (e.g. `Authorization`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The tools the model may see (`None`: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_tools: Option<Vec<String>>,
    /// Seconds to wait for an answer to any request (default: the client's timeouts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
}

impl HttpServer {
    fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            headers: BTreeMap::new(),
            allowed_tools: None,
            timeout: None,
        }
    }

    pub(crate) fn timeout(&self) -> Option<Duration> {
        self.timeout
            .filter(|t| t.is_finite() && *t > 0.0)
            .map(Duration::from_secs_f64)
    }
}

impl ServerConfig {
    /// Adds a header sent to an HTTP or SSE server (ignored for stdio servers).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if let Self::Http(s) | Self::Sse(s) = &mut self {
            s.headers.insert(name.into(), value.into());
        }
        self
    }
}

impl fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServer")
            .field("url", &self.url)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("allowed_tools", &self.allowed_tools)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A value the agent asks the user for at start-up (`inputs` in `agent.json`), used as
/// `${input:ID}` in server `env` and `headers` values and in `apiKey`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgentInput {
    /// The id referenced as `${input:ID}`.
    pub id: String,
    /// What to ask.
    #[serde(default)]
    pub description: String,
    /// The kind of input (`promptString` in VS Code's format).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether the answer is a secret (not echoed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<bool>,
}

impl AgentInput {
    /// The environment variable read when the user gives no value: the id upper-cased, with
    /// `-` replaced by `_` (`hf-token` → `HF_TOKEN`).
    pub fn env_variable(&self) -> String {
        self.id.replace('-', "_").to_uppercase()
    }

    fn placeholder(&self) -> String {
        format!("${{input:{}}}", self.id)
    }
}

/// The content of `agent.json`.
#[derive(Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AgentConfig {
    /// The model (a Hub id; with `endpointUrl`, the name sent in the body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The provider (ignored when `endpointUrl` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// An OpenAI-compatible server to use instead of the providers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    /// The token or provider key (may contain `${input:ID}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// Values asked at start-up.
    #[serde(default)]
    pub inputs: Vec<AgentInput>,
    /// The MCP servers whose tools the agent uses.
    #[serde(default)]
    pub servers: Vec<ServerConfig>,
}

impl fmt::Debug for AgentConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentConfig")
            .field("model", &self.model)
            .field("provider", &self.provider)
            .field("endpoint_url", &self.endpoint_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("inputs", &self.inputs)
            .field("servers", &self.servers)
            .finish()
    }
}

impl AgentConfig {
    /// The inputs referenced somewhere (a stdio `env` value, an HTTP/SSE header value or
    /// `apiKey`), in their declared order. Inputs referenced nowhere are not asked for.
    pub fn used_inputs(&self) -> Vec<&AgentInput> {
        self.inputs
            .iter()
            .filter(|input| {
                let placeholder = input.placeholder();
                self.substitutable_values()
                    .any(|value| value.contains(&placeholder))
            })
            .collect()
    }

    /// Replaces `${input:ID}` by `value` wherever the reference substitutes it (stdio `env`
    /// values, HTTP/SSE `headers` values, `apiKey`; never in commands, arguments or URLs).
    pub fn substitute_input(&mut self, id: &str, value: &str) {
        let placeholder = format!("${{input:{id}}}");
        for server in &mut self.servers {
            let values = match server {
                ServerConfig::Stdio(s) => &mut s.env,
                ServerConfig::Http(s) | ServerConfig::Sse(s) => &mut s.headers,
            };
            for v in values.values_mut() {
                if v.contains(&placeholder) {
                    *v = v.replace(&placeholder, value);
                }
            }
        }
        if let Some(key) = &mut self.api_key {
            *key = key.replace(&placeholder, value);
        }
    }

    /// Resolves every used input: `answer` gives the user's value; when it gives nothing (or an
    /// empty string), the input's [environment variable](AgentInput::env_variable) is read through
    /// `env`, and an unset variable resolves to the empty string, as in the reference.
    pub fn resolve_inputs(
        &mut self,
        mut answer: impl FnMut(&AgentInput) -> Option<String>,
        env: impl Fn(&str) -> Option<String>,
    ) {
        let used: Vec<AgentInput> = self.used_inputs().into_iter().cloned().collect();
        for input in used {
            let value = answer(&input)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .or_else(|| env(&input.env_variable()))
                .unwrap_or_default();
            self.substitute_input(&input.id, &value);
        }
    }

    fn substitutable_values(&self) -> impl Iterator<Item = &String> {
        self.servers
            .iter()
            .flat_map(|server| match server {
                ServerConfig::Stdio(s) => s.env.values(),
                ServerConfig::Http(s) | ServerConfig::Sse(s) => s.headers.values(),
            })
            .chain(self.api_key.iter())
    }
}

/// An agent read from disk: its configuration and, for a folder, its system prompt.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct AgentDefinition {
    /// The parsed `agent.json`.
    pub config: AgentConfig,
    /// `PROMPT.md` or else `AGENTS.md` beside it (`None` when absent, or for a bare file).
    pub prompt: Option<String>,
}

/// The names tried, in order, for the system prompt beside `agent.json`.
pub const PROMPT_FILES: [&str; 2] = ["PROMPT.md", "AGENTS.md"];

impl AgentDefinition {
    /// Reads a folder holding `agent.json` (and optionally `PROMPT.md` or `AGENTS.md`), or an
    /// `agent.json` file given directly (then without a prompt, as in the reference).
    pub fn load(path: impl AsRef<Path>) -> McpResult<Self> {
        let path = path.as_ref();
        let io = |source| McpError::Io {
            path: path.to_owned(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        let (file, dir) = if meta.is_dir() {
            (path.join("agent.json"), Some(path))
        } else {
            (path.to_owned(), None)
        };
        let text = std::fs::read_to_string(&file).map_err(|source| McpError::Io {
            path: file.clone(),
            source,
        })?;
        let config: AgentConfig = serde_json::from_str(&text).map_err(|e| {
            McpError::config(
                file.display().to_string(),
                format!("not a valid agent.json: {e}"),
            )
        })?;
        let mut prompt = None;
        if let Some(dir) = dir {
            for name in PROMPT_FILES {
                match std::fs::read_to_string(dir.join(name)) {
                    Ok(text) => {
                        prompt = Some(text);
                        break;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => {
                        return Err(McpError::Io {
                            path: dir.join(name),
                            source,
                        });
                    }
                }
            }
        }
        Ok(Self { config, prompt })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> AgentConfig {
        serde_json::from_value(json!({
            "model": "m",
            "apiKey": "${input:llm-key}",
            "inputs": [
                {"id": "llm-key", "description": "key"},
                {"id": "gh", "description": "GitHub token", "password": true},
                {"id": "unused", "description": "nobody uses it"}
            ],
            "servers": [
                {"type": "stdio", "command": "srv", "args": ["${input:gh}"], "env": {"GH": "token ${input:gh}"}},
                {"type": "sse", "url": "http://127.0.0.1:1/sse?x=${input:gh}", "headers": {"Authorization": "Bearer ${input:gh}"}}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn inputs_resolve_from_answers_then_env_and_only_where_the_reference_substitutes() {
        let mut config = sample();
        let used: Vec<_> = config.used_inputs().iter().map(|i| i.id.clone()).collect();
        assert_eq!(used, ["llm-key", "gh"]);
        let mut asked = Vec::new();
        config.resolve_inputs(
            |input| {
                asked.push(input.id.clone());
                (input.id == "gh").then(|| " secret ".to_owned())
            },
            |name| (name == "LLM_KEY").then(|| "from-env".to_owned()),
        );
        assert_eq!(asked, ["llm-key", "gh"]);
        assert_eq!(config.api_key.as_deref(), Some("from-env"));
        let ServerConfig::Stdio(stdio) = &config.servers[0] else {
            panic!()
        };
        assert_eq!(stdio.env["GH"], "token secret");
        assert_eq!(stdio.args, ["${input:gh}"], "arguments are not substituted");
        let ServerConfig::Sse(sse) = &config.servers[1] else {
            panic!()
        };
        assert_eq!(sse.headers["Authorization"], "Bearer secret");
        assert!(
            sse.url.ends_with("x=${input:gh}"),
            "URLs are not substituted"
        );
    }

    #[test]
    fn missing_answer_and_variable_resolve_to_empty() {
        let mut config = sample();
        config.resolve_inputs(|_| None, |_| None);
        assert_eq!(config.api_key.as_deref(), Some(""));
    }

    #[test]
    fn debug_hides_secrets() {
        let mut config = sample();
        config.substitute_input("gh", "ghp_topsecret");
        config.substitute_input("llm-key", "hf_topsecret");
        let text = format!("{config:?}");
        assert!(!text.contains("topsecret"), "{text}");
        assert!(text.contains("Authorization"));
    }

    #[test]
    fn nested_config_form_is_rejected_with_the_field() {
        let err = serde_json::from_value::<AgentConfig>(
            json!({"servers": [{"type": "stdio", "config": {"command": "x"}}]}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("command"), "{err}");
    }

    #[test]
    fn folder_prompt_order_and_bare_file() {
        let dir = std::env::temp_dir().join(format!("hfi-agent-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("agent.json"), r#"{"model": "m", "servers": []}"#).unwrap();
        std::fs::write(dir.join("AGENTS.md"), "agents").unwrap();
        assert_eq!(
            AgentDefinition::load(&dir).unwrap().prompt.as_deref(),
            Some("agents")
        );
        std::fs::write(dir.join("PROMPT.md"), "prompt").unwrap();
        assert_eq!(
            AgentDefinition::load(&dir).unwrap().prompt.as_deref(),
            Some("prompt")
        );
        let bare = AgentDefinition::load(dir.join("agent.json")).unwrap();
        assert_eq!(bare.prompt, None);
        assert_eq!(bare.config.model.as_deref(), Some("m"));
        let missing = AgentDefinition::load(dir.join("nope")).unwrap_err();
        assert!(matches!(missing, McpError::Io { .. }), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
