//! [`McpClient`]: MCP servers' tools offered to a chat model, and one turn of tool use.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, ProtocolVersion,
};
use rmcp::service::{RoleClient, RunningService, ServiceExt};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use serde_json::{Map, Value};
use tokio::io::AsyncBufReadExt;

use super::config::{HttpServer, ServerConfig, StdioServer};
use super::error::{McpError, McpResult};
use super::format::format_result;
use super::generator::{Yielder, generate};
use super::transport_sse::SseTransport;
use crate::client::{InferenceClient, InferenceClientBuilder, ProviderChoice};
use crate::types::chat::{ChatCompletionInputMessage, ChatCompletionInputToolChoice, ChatRole};
use crate::types::chat_completion::{
    ChatCompletionInputFunctionDefinition, ChatCompletionInputMessageContent,
    ChatCompletionInputTool, ChatCompletionInputToolCall, ChatCompletionStreamOutput,
};

/// The only variables a stdio server inherits from this process (the same list as the Python
/// MCP SDK): the rest of the environment may hold tokens the server has no business seeing.
pub const INHERITED_ENV: [&str; 6] = ["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"];

/// The protocol version offered in `initialize`: the newest one with the `initialize`
/// handshake, which the reference servers and the conformance suite accept (rmcp's own default,
/// 2026-07-28, is refused by some of them).
pub const PROTOCOL_VERSION: &str = "2025-11-25";

const STDERR_LINES_KEPT: usize = 20;

/// One item of a turn: a streamed piece of the model's answer, or the result of a tool call.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TurnItem {
    /// A chunk of the model's streamed answer (text or tool-call pieces).
    Chunk(ChatCompletionStreamOutput),
    /// A `tool` message: the answer of a tool call, as it was appended to the conversation
    /// (`tool_call_id`, the tool's `name`, and the result as text).
    ToolResult(ChatCompletionInputMessage),
}

/// Settings of one turn (see [`McpClient::process_single_turn_with_tools`]).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct TurnOptions {
    /// Tools offered before the servers' tools that end the turn when called (the agent's
    /// `task_complete` and `ask_question`); their call gets an empty tool message.
    pub exit_loop_tools: Vec<ChatCompletionInputTool>,
    /// End the turn silently (nothing appended) when the answer starts without a tool call:
    /// the agent's check that the model has nothing more to do.
    pub exit_if_first_chunk_no_tool: bool,
}

impl TurnOptions {
    /// No exit tools, no early exit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the exit tools.
    pub fn exit_loop_tools(mut self, tools: Vec<ChatCompletionInputTool>) -> Self {
        self.exit_loop_tools = tools;
        self
    }

    /// Sets the early exit.
    pub fn exit_if_first_chunk_no_tool(mut self, exit: bool) -> Self {
        self.exit_if_first_chunk_no_tool = exit;
        self
    }
}

struct Connection {
    label: String,
    service: RunningService<RoleClient, ClientConfig>,
    pid: Option<u32>,
    stderr: Option<Arc<Mutex<VecDeque<String>>>>,
    timeout: Option<Duration>,
}

/// A chat model plus the tools of MCP servers: connects to servers (stdio, streamable HTTP,
/// legacy SSE), offers their tools to the model, and runs the tool calls the model makes.
///
/// Built on the official Rust MCP SDK (`rmcp`). Stdio servers are child processes with a
/// minimal environment ([`INHERITED_ENV`] plus their configured `env`), in their own process
/// group; [`close`](Self::close) stops them and waits for them, and dropping the client kills
/// them.
///
/// ```no_run
/// use futures_util::StreamExt;
/// use hf_inference::mcp::{McpClient, ServerConfig, TurnItem, TurnOptions};
/// use hf_inference::types::chat_completion::ChatCompletionInputMessage;
///
/// # async fn demo() -> Result<(), hf_inference::mcp::McpError> {
/// let mut client = McpClient::builder()
///     .model("Qwen/Qwen2.5-72B-Instruct")
///     .provider("nebius".parse().unwrap())
///     .build()?;
/// client
///     .add_server(ServerConfig::stdio("npx").args(["-y", "@modelcontextprotocol/server-everything"]).into())
///     .await?;
/// let mut messages = vec![ChatCompletionInputMessage::user("Add 2 and 3 with your tools.")];
/// let mut turn = client.process_single_turn_with_tools(&mut messages, TurnOptions::new());
/// while let Some(item) = turn.next().await {
///     match item? {
///         TurnItem::ToolResult(message) => println!("tool answered: {:?}", message.content),
///         TurnItem::Chunk(_) | _ => {}
///     }
/// }
/// drop(turn);
/// client.close().await;
/// # Ok(())
/// # }
/// ```
pub struct McpClient {
    inference: InferenceClient,
    model: Option<String>,
    http: reqwest::Client,
    servers: Vec<Connection>,
    tools: Vec<ChatCompletionInputTool>,
    routes: HashMap<String, usize>,
    startup_timeout: Duration,
    tool_timeout: Duration,
}

impl fmt::Debug for McpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpClient")
            .field("inference", &self.inference)
            .field("model", &self.model)
            .field(
                "servers",
                &self.servers.iter().map(|s| &s.label).collect::<Vec<_>>(),
            )
            .field(
                "tools",
                &self
                    .tools
                    .iter()
                    .map(|t| &t.function.name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Builder of [`McpClient`].
#[derive(Default)]
#[must_use]
pub struct McpClientBuilder {
    inference: Option<InferenceClient>,
    model: Option<String>,
    provider: Option<ProviderChoice>,
    base_url: Option<String>,
    api_key: Option<String>,
    startup_timeout: Option<Duration>,
    tool_timeout: Option<Duration>,
}

impl fmt::Debug for McpClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpClientBuilder")
            .field("model", &self.model)
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl McpClientBuilder {
    /// The model: a Hub id, or (with [`base_url`](Self::base_url)) the name sent in the body.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The provider (ignored with a [`base_url`](Self::base_url), as in the reference).
    pub fn provider(mut self, provider: ProviderChoice) -> Self {
        self.provider = Some(provider);
        self
    }

    /// An OpenAI-compatible server to use instead of the providers (`endpointUrl`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The token or provider key (default: the environment's `HF_TOKEN` or stored token).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Use this inference client (its settings win over `provider`, `base_url` and `api_key`).
    pub fn inference_client(mut self, client: InferenceClient) -> Self {
        self.inference = Some(client);
        self
    }

    /// How long a server may take to start and list its tools (default 60 s).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = Some(timeout);
        self
    }

    /// How long one tool call may take before the model is told it timed out (default 300 s;
    /// an HTTP server's own `timeout` wins).
    pub fn tool_timeout(mut self, timeout: Duration) -> Self {
        self.tool_timeout = Some(timeout);
        self
    }

    /// Builds the client (no server is contacted yet).
    pub fn build(self) -> McpResult<McpClient> {
        if self.model.is_none() && self.base_url.is_none() && self.inference.is_none() {
            return Err(McpError::config(
                "model",
                "set a model, a base URL (endpointUrl), or both",
            ));
        }
        let inference = match self.inference {
            Some(client) => client,
            None => {
                let mut builder = InferenceClientBuilder::from_env();
                if let Some(key) = self.api_key.as_deref().filter(|k| !k.is_empty()) {
                    builder = builder.api_key(key);
                }
                match self.base_url {
                    Some(url) => builder = builder.base_url(url),
                    None => {
                        if let Some(provider) = self.provider {
                            builder = builder.provider(provider);
                        }
                    }
                }
                builder.build()?
            }
        };
        let http = reqwest::Client::builder()
            // Same reasons as rmcp's default client: no pooled connections (a half-read SSE body
            // stalls reuse) and no redirects (they would replay our headers to another host).
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| McpError::config("http", e.to_string()))?;
        Ok(McpClient {
            inference,
            model: self.model,
            http,
            servers: Vec::new(),
            tools: Vec::new(),
            routes: HashMap::new(),
            startup_timeout: self.startup_timeout.unwrap_or(Duration::from_secs(60)),
            tool_timeout: self.tool_timeout.unwrap_or(Duration::from_secs(300)),
        })
    }
}

fn client_config() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("hf-inference.McpClient", env!("CARGO_PKG_VERSION")),
    )
    .with_protocol_version(ProtocolVersion::V_2025_11_25)
}

impl McpClient {
    /// Starts a builder.
    pub fn builder() -> McpClientBuilder {
        McpClientBuilder::default()
    }

    /// The inference client used for the model.
    pub fn inference_client(&self) -> &InferenceClient {
        &self.inference
    }

    /// The model named in every chat request.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// The servers' tools, as offered to the model (in server order, then each server's order).
    pub fn tools(&self) -> &[ChatCompletionInputTool] {
        &self.tools
    }

    /// Process ids of the stdio servers still attached (for supervision and tests).
    pub fn process_ids(&self) -> Vec<u32> {
        self.servers.iter().filter_map(|s| s.pid).collect()
    }

    /// Connects to a server, lists all its tools (every page) and adds the allowed ones.
    ///
    /// A tool whose name an earlier server already offers is skipped (the first server wins),
    /// as in the reference. A server that cannot start, fails the handshake or does not answer
    /// within the start-up timeout gives [`McpError::Start`] or [`McpError::Timeout`]; a child
    /// process that was started is stopped again.
    pub async fn add_server(&mut self, config: ServerConfig) -> McpResult<()> {
        let label = config.label();
        let mut connection = match &config {
            ServerConfig::Stdio(stdio) => self.connect_stdio(stdio).await?,
            ServerConfig::Http(http) => self.connect_http(http).await?,
            ServerConfig::Sse(sse) => self.connect_sse(sse).await?,
        };
        let listed = tokio::time::timeout(
            connection.timeout.unwrap_or(self.startup_timeout),
            connection.service.peer().list_all_tools(),
        )
        .await;
        let tools = match listed {
            Ok(Ok(tools)) => tools,
            Ok(Err(e)) => {
                let message = e.to_string();
                let _ = connection.service.close().await;
                return Err(McpError::Server {
                    server: label,
                    operation: "tools/list".into(),
                    message,
                });
            }
            Err(_) => {
                let _ = connection.service.close().await;
                return Err(McpError::Timeout {
                    server: label,
                    operation: "tools/list".into(),
                    timeout: self.startup_timeout,
                });
            }
        };
        let index = self.servers.len();
        let allowed = config.allowed_tools();
        for tool in tools {
            let tool = serde_json::to_value(&tool).unwrap_or(Value::Null);
            let Some(name) = tool.get("name").and_then(Value::as_str) else {
                continue;
            };
            if allowed.is_some_and(|list| !list.iter().any(|a| a == name)) {
                continue;
            }
            if self.routes.contains_key(name) {
                tracing::warn!(tool = name, server = %label, "tool already offered by another server; skipped");
                continue;
            }
            let mut function = ChatCompletionInputFunctionDefinition::new(name);
            function.description = tool
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned);
            function.parameters = tool.get("inputSchema").cloned();
            self.routes.insert(name.to_owned(), index);
            self.tools
                .push(ChatCompletionInputTool::new(function, "function"));
        }
        self.servers.push(connection);
        Ok(())
    }

    async fn connect_stdio(&self, config: &StdioServer) -> McpResult<Connection> {
        let label = config.command.clone();
        let mut command = tokio::process::Command::new(&config.command);
        command.args(&config.args).env_clear();
        for name in INHERITED_ENV {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command.envs(&config.env);
        if let Some(dir) = &config.cwd {
            command.current_dir(dir);
        }
        // A backstop: if the runtime goes away before rmcp's cleanup task runs, the child still dies.
        command.kill_on_drop(true);
        let mut wrapped = process_wrap::tokio::CommandWrap::from(command);
        // Its own process group: a Ctrl-C in the terminal reaches the agent, which then stops
        // the servers itself (and a kill reaches the server's own children too).
        wrapped.wrap(process_wrap::tokio::ProcessGroup::leader());
        let (process, stderr) = TokioChildProcess::builder(wrapped)
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| McpError::Start {
                server: label.clone(),
                message: format!("cannot run `{}`: {e}", config.command),
            })?;
        let pid = process.id();
        let tail = stderr.map(|stderr| {
            let tail = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_LINES_KEPT)));
            let keep = tail.clone();
            let server = label.clone();
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    tracing::debug!(server = %server, "{line}");
                    let mut tail = keep.lock().unwrap_or_else(|e| e.into_inner());
                    if tail.len() == STDERR_LINES_KEPT {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            });
            tail
        });
        let service = self
            .handshake(&label, None, client_config().serve(process), &tail)
            .await?;
        Ok(Connection {
            label,
            service,
            pid,
            stderr: tail,
            timeout: None,
        })
    }

    async fn connect_http(&self, config: &HttpServer) -> McpResult<Connection> {
        let label = config.url.clone();
        let headers = header_map(&label, config)?;
        let transport_config =
            rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
                config.url.as_str(),
            )
            .custom_headers(
                headers
                    .into_iter()
                    .filter_map(|(k, v)| Some((k?, v)))
                    .collect(),
            );
        let transport =
            StreamableHttpClientTransport::with_client(self.http.clone(), transport_config);
        let service = self
            .handshake(
                &label,
                config.timeout(),
                client_config().serve(transport),
                &None,
            )
            .await?;
        Ok(Connection {
            label,
            service,
            pid: None,
            stderr: None,
            timeout: config.timeout(),
        })
    }

    async fn connect_sse(&self, config: &HttpServer) -> McpResult<Connection> {
        let label = config.url.clone();
        let headers = header_map(&label, config)?;
        let timeout = config.timeout().unwrap_or(self.startup_timeout);
        let transport = SseTransport::connect(self.http.clone(), &config.url, headers, timeout)
            .await
            .map_err(|message| McpError::Start {
                server: label.clone(),
                message,
            })?;
        let service = self
            .handshake(
                &label,
                config.timeout(),
                client_config().serve(transport),
                &None,
            )
            .await?;
        Ok(Connection {
            label,
            service,
            pid: None,
            stderr: None,
            timeout: config.timeout(),
        })
    }

    async fn handshake<E: fmt::Display>(
        &self,
        label: &str,
        timeout: Option<Duration>,
        serve: impl Future<Output = Result<RunningService<RoleClient, ClientConfig>, E>>,
        stderr: &Option<Arc<Mutex<VecDeque<String>>>>,
    ) -> McpResult<RunningService<RoleClient, ClientConfig>> {
        let timeout = timeout.unwrap_or(self.startup_timeout);
        match tokio::time::timeout(timeout, serve).await {
            Ok(Ok(service)) => Ok(service),
            Ok(Err(e)) => {
                // Give the child a moment to finish writing why it quit.
                tokio::time::sleep(Duration::from_millis(100)).await;
                let mut message = e.to_string();
                if let Some(tail) = stderr {
                    let tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                    if !tail.is_empty() {
                        message.push_str("; its stderr ends with:\n");
                        message.push_str(&tail.iter().cloned().collect::<Vec<_>>().join("\n"));
                    }
                }
                Err(McpError::Start {
                    server: label.to_owned(),
                    message,
                })
            }
            Err(_) => Err(McpError::Timeout {
                server: label.to_owned(),
                operation: "initialize".into(),
                timeout,
            }),
        }
    }

    /// Calls a tool of the server that offers it; returns the raw `CallToolResult` JSON (use
    /// [`format_tool_result`] for the text the model sees). A result with `isError: true` is a
    /// normal result here.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Option<Map<String, Value>>,
    ) -> McpResult<Value> {
        let Some(&index) = self.routes.get(name) else {
            return Err(McpError::UnknownTool { name: name.into() });
        };
        let server = &self.servers[index];
        let mut params = CallToolRequestParams::new(name.to_owned());
        if let Some(arguments) = arguments {
            params = params.with_arguments(arguments);
        }
        let timeout = server.timeout.unwrap_or(self.tool_timeout);
        // Dropping the call on timeout makes rmcp send `notifications/cancelled`.
        match tokio::time::timeout(timeout, server.service.peer().call_tool(params)).await {
            Ok(Ok(result)) => Ok(serde_json::to_value(&result).unwrap_or(Value::Null)),
            Ok(Err(e)) => Err(McpError::Server {
                server: server.label.clone(),
                operation: format!("tools/call {name}"),
                message: e.to_string(),
            }),
            Err(_) => Err(McpError::Timeout {
                server: server.label.clone(),
                operation: format!("tools/call {name}"),
                timeout,
            }),
        }
    }

    /// One model turn with tools: streams the model's answer (yielding every chunk), appends
    /// the assistant message to `messages`, then runs each tool call in order and yields (and
    /// appends) its `tool` message.
    ///
    /// The request offers `exit_loop_tools` then the servers' tools, with `tool_choice: auto`.
    /// A tool call that cannot be run (no name, invalid JSON arguments, unknown tool, failing
    /// or timed-out server) becomes an error text in its tool message, so the model can react;
    /// an exit tool gets an empty tool message and ends the turn. The stream's errors are the
    /// model request's. Dropping the stream stops the turn (closing the model stream and
    /// cancelling a running tool call).
    pub fn process_single_turn_with_tools<'a>(
        &'a self,
        messages: &'a mut Vec<ChatCompletionInputMessage>,
        options: TurnOptions,
    ) -> impl Stream<Item = McpResult<TurnItem>> + Send + 'a {
        generate(move |out| async move {
            if let Err(e) = self.turn(messages, &options, &out).await {
                out.emit(Err(e)).await;
            }
        })
    }

    pub(crate) async fn turn(
        &self,
        messages: &mut Vec<ChatCompletionInputMessage>,
        options: &TurnOptions,
        out: &Yielder<McpResult<TurnItem>>,
    ) -> McpResult<()> {
        let mut tools = options.exit_loop_tools.clone();
        tools.extend(self.tools.iter().cloned());
        let mut request = self
            .inference
            .chat_completion(messages.clone())
            .tools(tools)
            .tool_choice(ChatCompletionInputToolChoice::Auto);
        if let Some(model) = &self.model {
            request = request.model(model.clone());
        }
        let mut stream = Box::pin(request.stream().await?);

        let mut role: Option<ChatRole> = None;
        let mut content = String::new();
        let mut calls: Vec<PendingCall> = Vec::new();
        let mut decided = !options.exit_if_first_chunk_no_tool;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            let Some(delta) = chunk.choices.first().map(|c| &c.delta) else {
                continue;
            };
            if let Some(r) = &delta.role {
                role = Some(r.clone());
            }
            if let Some(text) = &delta.content {
                content.push_str(text);
            }
            for piece in delta.tool_calls.iter().flatten() {
                let function = piece.function.as_ref();
                match calls.iter_mut().find(|c| c.index == piece.index) {
                    Some(call) => {
                        if call.id.is_none() {
                            call.id.clone_from(&piece.id);
                        }
                        if call.name.is_none() {
                            call.name = function.and_then(|f| f.name.clone());
                        }
                        if let Some(args) = function.and_then(|f| f.arguments.as_deref()) {
                            call.arguments.push_str(args);
                        }
                    }
                    None => calls.push(PendingCall {
                        index: piece.index,
                        id: piece.id.clone(),
                        name: function.and_then(|f| f.name.clone()),
                        arguments: function
                            .and_then(|f| f.arguments.clone())
                            .unwrap_or_default(),
                    }),
                }
            }
            if !decided {
                // Deliberate fix: the reference decides on the first chunk even when it only
                // carries the role, so it never sees a tool call streamed after a role-only
                // chunk (what most OpenAI-compatible servers send first). Decide on the first
                // chunk that says something.
                if !calls.is_empty() {
                    decided = true;
                } else if !content.is_empty() {
                    return Ok(());
                }
            }
            if !out.emit(Ok(TurnItem::Chunk(chunk))).await {
                return Ok(());
            }
        }
        if !decided {
            return Ok(());
        }
        drop(stream);

        if !content.is_empty() || !calls.is_empty() {
            let mut message = ChatCompletionInputMessage::new(
                role.unwrap_or(ChatRole::Assistant),
                ChatCompletionInputMessageContent::String(content),
            );
            if !calls.is_empty() {
                message.tool_calls = Some(
                    calls
                        .iter()
                        .map(|c| {
                            let mut function = ChatCompletionInputFunctionDefinition::new(
                                c.name.clone().unwrap_or_default(),
                            );
                            function.arguments = Some(Value::String(if c.arguments.is_empty() {
                                "{}".to_owned()
                            } else {
                                c.arguments.clone()
                            }));
                            ChatCompletionInputToolCall::new(
                                function,
                                c.id.clone().unwrap_or_default(),
                                "function",
                            )
                        })
                        .collect(),
                );
            }
            messages.push(message);
        }

        for call in calls {
            let id = call.id.clone().unwrap_or_default();
            let Some(name) = call.name.filter(|n| !n.is_empty()) else {
                let message = ChatCompletionInputMessage::tool(
                    id,
                    "Invalid tool call with no function name.",
                );
                messages.push(message.clone());
                if !out.emit(Ok(TurnItem::ToolResult(message))).await {
                    return Ok(());
                }
                continue;
            };
            let arguments = if call.arguments.is_empty() {
                "{}"
            } else {
                &call.arguments
            };
            let tool_message = |text: String| {
                ChatCompletionInputMessage::tool(id.clone(), text).with_name(name.clone())
            };
            let parsed = match serde_json::from_str::<Value>(arguments) {
                Ok(value) => value,
                Err(e) => {
                    let message = tool_message(format!("Invalid JSON generated by the model: {e}"));
                    messages.push(message.clone());
                    if !out.emit(Ok(TurnItem::ToolResult(message))).await {
                        return Ok(());
                    }
                    continue;
                }
            };
            if options
                .exit_loop_tools
                .iter()
                .any(|t| t.function.name == name)
            {
                let message = tool_message(String::new());
                messages.push(message.clone());
                out.emit(Ok(TurnItem::ToolResult(message))).await;
                return Ok(());
            }
            let text = if !self.routes.contains_key(&name) {
                format!("Error: No session found for tool: {name}")
            } else {
                let arguments = match parsed {
                    Value::Object(map) => Ok(Some(map)),
                    Value::Null => Ok(None),
                    other => Err(format!(
                        "the arguments must be a JSON object, not `{other}`"
                    )),
                };
                let result = match arguments {
                    Ok(arguments) => self.call_tool(&name, arguments).await.map_err(|e| match e {
                        McpError::Server { message, .. } => message,
                        other => other.to_string(),
                    }),
                    Err(message) => Err(message),
                };
                match result {
                    Ok(result) => format_result(&result),
                    Err(message) => {
                        format!("Error: MCP tool call failed with error message: {message}")
                    }
                }
            };
            let message = tool_message(text);
            messages.push(message.clone());
            if !out.emit(Ok(TurnItem::ToolResult(message))).await {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Stops every server: closes each session (a stdio child gets its stdin closed, then
    /// SIGTERM, then SIGKILL, and is waited for). Safe to call twice.
    pub async fn close(&mut self) {
        self.tools.clear();
        self.routes.clear();
        for mut server in self.servers.drain(..) {
            if let Err(e) = server.service.close().await {
                tracing::warn!(server = %server.label, error = %e, "closing the MCP session failed");
            }
            // The session task closed the transport, which waited for the child; make sure of it.
            if let Some(pid) = server.pid {
                wait_gone(pid).await;
            }
            drop(server.stderr);
        }
    }
}

/// Waits (briefly) until the process has been reaped: rmcp's shutdown waits for the child, but
/// the kill path runs on a spawned task.
async fn wait_gone(pid: u32) {
    for _ in 0..50 {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The text the model sees for a tool result (the reference's formatting: text parts joined by
/// newlines, binary parts summarised, resource links dropped, `[No content]` when empty).
///
/// ```
/// let result = serde_json::json!({"content": [{"type": "text", "text": "Echo: hi"}]});
/// assert_eq!(hf_inference::mcp::format_tool_result(&result), "Echo: hi");
/// ```
pub fn format_tool_result(result: &Value) -> String {
    format_result(result)
}

struct PendingCall {
    index: i32,
    id: Option<String>,
    name: Option<String>,
    arguments: String,
}

fn header_map(label: &str, config: &HttpServer) -> McpResult<HeaderMap> {
    let mut headers = HeaderMap::new();
    for (name, value) in &config.headers {
        let bad = |what: &str| McpError::Config {
            field: format!("headers.{name}"),
            message: format!("invalid header {what} for `{label}`"),
        };
        let name_parsed = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("name"))?;
        let mut value = HeaderValue::from_str(value).map_err(|_| bad("value"))?;
        value.set_sensitive(true);
        headers.insert(name_parsed, value);
    }
    Ok(headers)
}
