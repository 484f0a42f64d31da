//! The flags every command takes, and the client they configure.

use std::time::Duration;

use clap::{Args, ValueEnum};
use hf_inference::{InferenceClient, InferenceClientBuilder, Provider, ProviderChoice, Task};

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
#[command(next_help_heading = "Common options")]
pub struct GlobalArgs {
    /// Model: a Hub id (meta-llama/Llama-3.1-8B-Instruct) or a URL (Inference Endpoint,
    /// llama.cpp / vLLM / TGI / Ollama server).
    #[arg(long, short = 'm', global = true, value_name = "MODEL")]
    pub model: Option<String>,

    /// Provider: `auto` (default, or HF_INFERENCE_PROVIDER) or a provider id (`hfi providers`).
    #[arg(long, global = true, value_name = "PROVIDER")]
    pub provider: Option<ProviderChoice>,

    /// Token: a Hugging Face token (hf_…, routed) or a provider key (direct). Default: HF_TOKEN,
    /// HUGGING_FACE_HUB_TOKEN, then the token file of `hf auth login`.
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,

    /// Bill an organization you belong to instead of your account (X-HF-Bill-To).
    #[arg(long, global = true, value_name = "ORG")]
    pub bill_to: Option<String>,

    /// Timeout of each request and of job polling: seconds (`30`, `2.5`) or with a unit
    /// (`500ms`, `30s`, `5m`).
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// Output format on stdout. Default: text for `chat` and `text-generation` (printed as the
    /// tokens stream), json for the other tasks.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// Print the request as a curl command (token redacted) and send nothing: not even the Hub
    /// lookup of the provider's model id, which shows as $PROVIDER_MODEL_ID, nor the download
    /// of a URL input.
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// No progress display on stderr while a job is polled.
    #[arg(long, global = true)]
    pub no_progress: bool,
}

/// What a dry run shows in place of a provider's model id: only the Hub knows it, and a dry run
/// asks nobody. `$` keeps it readable in a URL path (no percent-encoding) and marks it as a
/// value to fill in.
pub const PROVIDER_MODEL_ID: &str = "$PROVIDER_MODEL_ID";

impl GlobalArgs {
    /// The client: the environment first (as `from_env()`), then these flags, which win.
    pub fn client(&self) -> Result<InferenceClient, CliError> {
        Ok(self.builder().build()?)
    }

    /// The client of one call of `task`. Under `--dry-run` it contacts nothing, not even the
    /// Hub: the provider's model id of a Hub model is pinned to [`PROVIDER_MODEL_ID`] and the
    /// hf-inference model/task check is off. What cannot be known offline (the provider `auto`
    /// picks for a task other than chat, the model the Hub recommends) is a usage error that
    /// says what to pass instead.
    pub fn client_for(&self, task: &str) -> Result<InferenceClient, CliError> {
        let client = self.client()?;
        if !self.dry_run {
            return Ok(client);
        }
        let Ok(task) = task.parse::<Task>() else {
            return Ok(self.offline_builder()?.build()?);
        };
        let served = !task.providers().is_empty();
        match (client.provider(), client.model()) {
            // A URL model (kept apart from `model()`) or no model: the SDK decides offline,
            // except hf-inference's recommended model, which is a Hub lookup.
            (ProviderChoice::Provider(Provider::HfInference), None) if !self.url_model() => {
                Err(CliError::usage(format!(
                    "--dry-run asks nobody, so it cannot look up the model the Hub recommends \
                     for {task}: pass --model"
                )))
            }
            (_, None) => Ok(self.offline_builder()?.build()?),
            // Chat on `auto` goes to the router as is; a task nobody serves fails offline.
            (ProviderChoice::Auto, Some(_)) if task == Task::ChatCompletion || !served => {
                Ok(self.offline_builder()?.build()?)
            }
            (ProviderChoice::Auto, Some(model)) => Err(CliError::usage(format!(
                "--dry-run asks nobody, so it cannot ask the Hub which provider serves {model} \
                 for {task} (--provider auto): pass --provider (`hfi providers --task {task}` \
                 lists them)"
            ))),
            (ProviderChoice::Provider(provider), Some(model)) => Ok(self
                .offline_builder()?
                .check_model_task(false)
                .model_mapping(model, provider, PROVIDER_MODEL_ID)
                .build()?),
            (_, Some(_)) => Ok(self.offline_builder()?.build()?),
        }
    }

    /// The builder of a dry run's client, whose HTTP client cannot reach anything: all its
    /// requests go to a proxy on port 0 of the loopback interface, which refuses them at once,
    /// so nothing leaves the machine. What the SDK would still fetch to build the request (a
    /// URL input that the provider takes as bytes) fails instead of being downloaded; see
    /// [`dry_run_error`].
    fn offline_builder(&self) -> Result<InferenceClientBuilder, CliError> {
        let unreachable = reqwest::Proxy::all("http://127.0.0.1:0")
            .and_then(|proxy| reqwest::Client::builder().proxy(proxy).build())
            .map_err(|e| CliError::failure(format!("cannot build the dry run's client: {e}")))?;
        Ok(self.builder().http_client(unreachable))
    }

    /// Whether `--model` is a URL (an Inference Endpoint or a local server).
    fn url_model(&self) -> bool {
        self.model
            .as_deref()
            .is_some_and(|m| m.starts_with("http://") || m.starts_with("https://"))
    }

    fn builder(&self) -> InferenceClientBuilder {
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
        builder
    }
}

/// A dry run's error: what the SDK could not fetch through the unreachable client of
/// [`GlobalArgs::client_for`] (a network error) becomes a usage error that says why.
pub fn dry_run_error(error: CliError) -> CliError {
    if error.code != crate::exit::NETWORK {
        return error;
    }
    CliError::usage(format!(
        "--dry-run sends nothing and downloads nothing, but this request needs something fetched \
         first (a URL input that this provider takes as the file's bytes): give a local file to \
         preview it ({})",
        error.message
    ))
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
