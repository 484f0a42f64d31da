//! The commands. A command group is one file here plus one variant of [`Command`] (and its arm
//! in [`Command::run`]).

pub mod agent;
pub mod chat;
pub mod endpoints;
// The tasks without a schema, beside the generated table that `task` reads.
pub mod extra_tasks;
pub mod providers;
pub mod task;

use clap::Subcommand;

use crate::exit::CliError;
use crate::global::GlobalArgs;

/// Every `hfi` command.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Chat with a model (the `chat-completion` task); prints tokens as they stream.
    #[command(
        visible_alias = "chat-completion",
        after_help = task::parameters_help_of("chat-completion")
    )]
    Chat(chat::ChatArgs),
    /// Run a tiny agent (agent.json + MCP servers) in the terminal: `hfi agent run <folder>`.
    Agent(agent::AgentArgs),
    /// Manage dedicated Inference Endpoints: list, get, create, pause, resume, scale-to-zero,
    /// delete, wait.
    Endpoints(endpoints::EndpointsArgs),
    /// Print the support matrix: which provider serves which task, routed (R) or direct (D).
    Providers(providers::ProvidersArgs),
    /// One command per task (generated from the task schemas).
    #[command(flatten)]
    Task(task::TaskCommand),
}

impl Command {
    /// Runs the command with the common flags.
    pub async fn run(self, global: &GlobalArgs) -> Result<(), CliError> {
        // These commands make several calls, each depending on the last answer: there is no
        // single request to preview, and running them would not be "sending nothing".
        let no_preview = match &self {
            Command::Agent(_) => Some("agent"),
            Command::Endpoints(_) => Some("endpoints"),
            _ => None,
        };
        if let Some(name) = no_preview.filter(|_| global.dry_run) {
            return Err(CliError::usage(format!(
                "`hfi {name}` has no --dry-run (it is for chat and the task commands); nothing was sent"
            )));
        }
        match self {
            Command::Agent(args) => args.run(global).await,
            Command::Chat(args) => args.run(global).await,
            Command::Endpoints(args) => args.run(global).await,
            Command::Providers(args) => args.run(global),
            Command::Task(command) => command.run(global).await,
        }
    }
}
