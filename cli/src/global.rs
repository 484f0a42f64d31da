//! The flags every command takes, and the client they configure.

use std::time::Duration;

use clap::{Args, ValueEnum};
use hf_inference::{InferenceClient, InferenceClientBuilder, ProviderChoice};

use crate::exit::CliError;

/// How results are printed on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The typed answer as JSON (chat streams: one JSON chunk per line).
    Json,
    /// Readable text: the generated text, `label<TAB>score` lines, …
    Text,
}

/// Flags accepted by every command (before or after the command name).
///
/// Anything not given here comes from the environment, exactly as the SDK's `from_env()` reads
/// it: `HF_TOKEN` (then `HUGGING_FACE_HUB_TOKEN`, then the token file), `HF_ENDPOINT`,
/// `HF_INFERENCE_PROVIDER`, `HF_INFERENCE_ROUTER_URL`, `HF_INFERENCE_PROVIDER_URLS` and
/// `HF_INFERENCE_HOST_REDIRECTS`.
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Model: a Hub id (meta-llama/Llama-3.1-8B-Instruct) or a URL (Inference Endpoint,
    /// llama.cpp / vLLM / TGI / Ollama server).
    #[arg(
        long,
        short = 'm',
        global = true,
        help_heading = "Common options",
        value_name = "MODEL"
    )]
    pub model: Option<String>,

    /// Provider: `auto` (default, or HF_INFERENCE_PROVIDER) or a provider id (`hfi providers`).
    #[arg(
        long,
        global = true,
        help_heading = "Common options",
        value_name = "PROVIDER"
    )]
    pub provider: Option<ProviderChoice>,

    /// Token: a Hugging Face token (hf_…, routed) or a provider key (direct). Default: HF_TOKEN,
    /// HUGGING_FACE_HUB_TOKEN, then the token file of `hf auth login`.
    #[arg(
        long,
        global = true,
        help_heading = "Common options",
        value_name = "TOKEN"
    )]
    pub token: Option<String>,

    /// Bill an organization you belong to instead of your account (X-HF-Bill-To).
    #[arg(
        long,
        global = true,
        help_heading = "Common options",
        value_name = "ORG"
    )]
    pub bill_to: Option<String>,

    /// Timeout of each request and of job polling: seconds (`30`, `2.5`) or with a unit
    /// (`500ms`, `30s`, `5m`).
    #[arg(long, global = true, help_heading = "Common options", value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// Output format on stdout. Default: text for `chat`, json for the tasks.
    #[arg(
        long,
        global = true,
        help_heading = "Common options",
        value_enum,
        value_name = "FORMAT"
    )]
    pub format: Option<Format>,

    /// Print the request as a curl command (token redacted) and send nothing.
    #[arg(long, global = true, help_heading = "Common options")]
    pub dry_run: bool,

    /// No progress display on stderr while a job is polled.
    #[arg(long, global = true, help_heading = "Common options")]
    pub no_progress: bool,
}

impl GlobalArgs {
    /// The client: the environment first (as `from_env()`), then these flags, which win.
    pub fn client(&self) -> Result<InferenceClient, CliError> {
        let mut builder = InferenceClientBuilder::from_env().user_agent(format!(
            "hfi/{} hf-inference-rust/{}",
            env!("CARGO_PKG_VERSION"),
            env!("CARGO_PKG_VERSION")
        ));
        if let Some(token) = &self.token {
            builder = builder.token(token);
        }
        if let Some(provider) = self.provider {
            builder = builder.provider(provider);
        }
        if let Some(model) = &self.model {
            builder = builder.model(model.clone());
        }
        if let Some(org) = &self.bill_to {
            builder = builder.bill_to(org.clone());
        }
        if let Some(timeout) = self.timeout {
            builder = builder.timeout(timeout);
        }
        Ok(builder.build()?)
    }
}

/// Parses `30`, `2.5`, `500ms`, `30s`, `5m`, `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 30, 2.5s, 500ms, 5m)"))?;
    let seconds = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown unit `{other}` (use ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("`{text}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2.5s"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }
}
