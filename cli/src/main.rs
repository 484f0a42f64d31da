//! `hfi`: every Hugging Face inference task from the shell, on the hf-inference SDK.
//!
//! ```text
//! hfi chat --model meta-llama/Llama-3.1-8B-Instruct "What is the capital of France?"
//! hfi text-to-image --provider fal-ai -m black-forest-labs/FLUX.1-schnell "A lion" -o lion.png
//! hfi asr -m openai/whisper-large-v3 sample.flac
//! hfi providers --task text-to-image
//! ```
//!
//! Layout: `commands/` has one file per command group, each registered once in
//! [`commands::Command`]; `global.rs` the flags every command takes and the client they build;
//! `exit.rs` the exit codes; `input.rs` / `output.rs` / `progress.rs` what the commands share.

mod commands;
mod exit;
mod global;
mod input;
mod output;
mod params;
mod progress;
// Written by `cargo xtask regen` (codegen/src/cli.rs); rustfmt must not reformat it.
#[rustfmt::skip]
mod generated {
    pub mod tasks;
}

use std::process::ExitCode;

use clap::Parser;

/// Run any Hugging Face inference task from the shell: Inference Providers, Inference Endpoints
/// and local OpenAI-compatible servers.
#[derive(Parser, Debug)]
#[command(
    name = "hfi",
    version,
    after_help = format!(
        "The token and endpoints come from the environment as in the SDK's from_env(): HF_TOKEN, \
         HF_ENDPOINT, HF_INFERENCE_PROVIDER, HF_INFERENCE_ROUTER_URL, HF_INFERENCE_PROVIDER_URLS, \
         HF_INFERENCE_HOST_REDIRECTS.\n\n{}",
        exit::HELP
    )
)]
pub struct Cli {
    #[command(flatten)]
    global: global::GlobalArgs,

    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // `--help` and `--version` are "errors" that print to stdout and succeed.
            let code = if error.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("hfi: error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(cli.command.run(&cli.global)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hfi: error: {error}");
            error.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
