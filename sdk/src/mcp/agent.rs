//! [`Agent`]: the tiny-agent loop of the reference on top of [`McpClient`].

use futures_util::Stream;
use serde_json::json;

use super::client::{McpClient, TurnItem, TurnOptions};
use super::config::{AgentConfig, AgentDefinition, ServerConfig};
use super::error::{McpError, McpResult};
use super::generator::generate;
use crate::client::ProviderChoice;
use crate::types::chat::{ChatCompletionInputMessage, ChatRole};
use crate::types::chat_completion::{
    ChatCompletionInputFunctionDefinition, ChatCompletionInputTool,
};

/// The system prompt of an agent without `PROMPT.md` (the reference's text).
pub const DEFAULT_SYSTEM_PROMPT: &str =
    "You are an agent - please keep going until the user’s query is completely
resolved, before ending your turn and yielding back to the user. Only terminate
your turn when you are sure that the problem is solved, or if you need more
info from the user to solve the problem.
If you are not sure about anything pertaining to the user’s request, use your
tools to read files and gather the relevant information: do NOT guess or make
up an answer.
You MUST plan extensively before each function call, and reflect extensively
on the outcomes of the previous function calls. DO NOT do this entire process
by making function calls only, as this can impair your ability to solve the
problem and think insightfully.";

/// Turns after which the agent stops once the model answers without a tool call.
pub const MAX_NUM_TURNS: usize = 10;

/// The exit tool the model calls when the task is done.
pub const TASK_COMPLETE: &str = "task_complete";
/// The exit tool the model calls when it needs the user.
pub const ASK_QUESTION: &str = "ask_question";

/// The two exit tools (`task_complete`, `ask_question`), argument-less, as offered to the model.
pub fn exit_loop_tools() -> Vec<ChatCompletionInputTool> {
    [
        (
            TASK_COMPLETE,
            "Call this tool when the task given by the user is complete",
        ),
        (
            ASK_QUESTION,
            "Ask the user for more info required to solve or clarify their problem.",
        ),
    ]
    .into_iter()
    .map(|(name, description)| {
        let mut function = ChatCompletionInputFunctionDefinition::new(name);
        function.description = Some(description.to_owned());
        function.parameters = Some(json!({"type": "object", "properties": {}}));
        ChatCompletionInputTool::new(function, "function")
    })
    .collect()
}

/// A tiny agent: a conversation with a model that uses MCP tools until the task is done.
///
/// Each [`run`](Self::run) adds the user's message and loops: a turn with tools (plus the exit
/// tools `task_complete` and `ask_question`); it stops when an exit tool is called, when the
/// model answers in text and then, asked once more, starts without a tool call, or after
/// [`MAX_NUM_TURNS`] turns. The conversation is kept across runs.
///
/// ```no_run
/// use futures_util::StreamExt;
/// use hf_inference::mcp::{Agent, AgentDefinition, TurnItem};
///
/// # async fn demo() -> Result<(), hf_inference::mcp::McpError> {
/// let definition = AgentDefinition::load("my-agent/")?;
/// let mut agent = Agent::from_config(definition.config, definition.prompt)?;
/// agent.load_tools().await?;
/// let mut run = agent.run("What files are in the current folder?");
/// while let Some(item) = run.next().await {
///     if let TurnItem::Chunk(chunk) = item? {
///         if let Some(text) = chunk.choices.first().and_then(|c| c.delta.content.as_deref()) {
///             print!("{text}");
///         }
///     }
/// }
/// drop(run);
/// agent.close().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Agent {
    client: McpClient,
    servers: Vec<ServerConfig>,
    messages: Vec<ChatCompletionInputMessage>,
    max_turns: usize,
}

impl Agent {
    /// An agent over `client` that will connect to `servers` on [`load_tools`](Self::load_tools),
    /// with `prompt` (or [`DEFAULT_SYSTEM_PROMPT`]) as its system message.
    pub fn new(client: McpClient, servers: Vec<ServerConfig>, prompt: Option<String>) -> Self {
        let prompt = prompt
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| DEFAULT_SYSTEM_PROMPT.to_owned());
        Self {
            client,
            servers,
            messages: vec![ChatCompletionInputMessage::system(prompt)],
            max_turns: MAX_NUM_TURNS,
        }
    }

    /// An agent from an `agent.json` (its inputs already resolved, see
    /// [`AgentConfig::resolve_inputs`]): model, provider or `endpointUrl`, `apiKey` and servers.
    pub fn from_config(config: AgentConfig, prompt: Option<String>) -> McpResult<Self> {
        let mut builder = McpClient::builder();
        if let Some(model) = config.model {
            builder = builder.model(model);
        }
        if let Some(url) = config.endpoint_url {
            builder = builder.base_url(url);
        } else if let Some(provider) = config.provider {
            let choice: ProviderChoice = provider
                .parse()
                .map_err(|e| McpError::config("provider", format!("{e}")))?;
            builder = builder.provider(choice);
        }
        if let Some(key) = config.api_key {
            builder = builder.api_key(key);
        }
        Ok(Self::new(builder.build()?, config.servers, prompt))
    }

    /// [`from_config`](Self::from_config) on a loaded definition.
    pub fn from_definition(definition: AgentDefinition) -> McpResult<Self> {
        Self::from_config(definition.config, definition.prompt)
    }

    /// Sets the turn limit (default [`MAX_NUM_TURNS`]).
    pub fn with_max_turns(mut self, max_turns: usize) -> Self {
        self.max_turns = max_turns;
        self
    }

    /// Connects to every configured server, in order, and collects their tools. On an error
    /// the servers already started stay attached (and are stopped by [`close`](Self::close)).
    pub async fn load_tools(&mut self) -> McpResult<()> {
        for server in std::mem::take(&mut self.servers) {
            self.client.add_server(server).await?;
        }
        Ok(())
    }

    /// The MCP client (its tools, its servers' process ids).
    pub fn client(&self) -> &McpClient {
        &self.client
    }

    /// The conversation so far (system prompt first).
    pub fn messages(&self) -> &[ChatCompletionInputMessage] {
        &self.messages
    }

    /// Runs the agent on one user message, yielding the model's chunks and the tool results
    /// as they come. Dropping the stream aborts the run (the conversation keeps what was done).
    pub fn run(
        &mut self,
        user_input: impl Into<String>,
    ) -> impl Stream<Item = McpResult<TurnItem>> + Send + '_ {
        let user_input = user_input.into();
        generate(move |out| async move {
            let Self {
                client,
                messages,
                max_turns,
                ..
            } = self;
            messages.push(ChatCompletionInputMessage::user(user_input));
            let exit_tools = exit_loop_tools();
            let mut num_turns = 0;
            let mut next_turn_should_call_tools = true;
            loop {
                let options = TurnOptions::new()
                    .exit_loop_tools(exit_tools.clone())
                    .exit_if_first_chunk_no_tool(num_turns > 0 && next_turn_should_call_tools);
                if let Err(e) = client.turn(messages, &options, &out).await {
                    out.emit(Err(e)).await;
                    return;
                }
                if out.is_closed() {
                    return;
                }
                num_turns += 1;
                let last = messages.last();
                let last_is_tool = last.is_some_and(|m| m.role == ChatRole::Tool);
                if last_is_tool
                    && last
                        .and_then(|m| m.name.as_deref())
                        .is_some_and(|n| exit_tools.iter().any(|t| t.function.name == n))
                {
                    return;
                }
                if !last_is_tool && (num_turns > *max_turns || next_turn_should_call_tools) {
                    return;
                }
                next_turn_should_call_tools = !last_is_tool;
            }
        })
    }

    /// Stops every server (see [`McpClient::close`]).
    pub async fn close(&mut self) {
        self.client.close().await;
    }
}
