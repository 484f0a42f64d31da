//! `hfi endpoints …`: create, inspect, pause, resume, scale to zero, delete and wait for
//! dedicated Inference Endpoints (the SDK's `hf_inference::endpoints`).
//!
//! ```text
//! hfi endpoints list
//! hfi endpoints create my-llm --repository Qwen/Qwen2.5-0.5B-Instruct --vendor aws \
//!     --region us-east-1 --accelerator gpu --instance-type nvidia-t4 --instance-size x1 --wait
//! hfi endpoints wait my-llm --timeout 20m
//! hfi chat -m "$(hfi endpoints get my-llm --format json | jq -r .url)" "Hello"
//! hfi endpoints pause my-llm
//! ```

use std::io::IsTerminal;
use std::time::Duration;

use clap::{Args, Subcommand};
use hf_inference::Error;
use hf_inference::endpoints::{
    EndpointImage, EndpointType, InferenceEndpoint, InferenceEndpoints, WaitProgress,
};
use serde_json::{Value, json};

use crate::exit::{self, CliError};
use crate::global::{Format, GlobalArgs, parse_duration};
use crate::output::print_value;

/// Arguments of `hfi endpoints`.
#[derive(Args, Debug)]
pub struct EndpointsArgs {
    /// The user or organization the endpoints belong to. Default: the token owner's user name.
    #[arg(long, short = 'n', global = true, value_name = "NAMESPACE")]
    namespace: Option<String>,

    #[command(subcommand)]
    action: Action,
}

/// One `hfi endpoints` action.
#[derive(Subcommand, Debug)]
enum Action {
    /// List the endpoints of the namespace (--all: yours and your organizations').
    List {
        /// Every namespace the token owner belongs to.
        #[arg(long)]
        all: bool,
    },
    /// Show one endpoint.
    Get {
        /// The endpoint name.
        name: String,
    },
    /// Create an endpoint serving a Hub repository.
    Create(Box<CreateArgs>),
    /// Pause an endpoint (not billed; only `resume` restarts it).
    Pause {
        /// The endpoint name.
        name: String,
    },
    /// Resume a paused or scaled-to-zero endpoint (already running is fine).
    Resume {
        /// The endpoint name.
        name: String,
        /// Then wait until it runs.
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        waiting: WaitArgs,
    },
    /// Scale an endpoint to zero replicas (its next request starts one).
    ScaleToZero {
        /// The endpoint name.
        name: String,
    },
    /// Delete an endpoint, for good.
    Delete {
        /// The endpoint name.
        name: String,
        /// Confirm the deletion (required).
        #[arg(long)]
        yes: bool,
    },
    /// Wait until an endpoint runs and answers its health route, showing its state.
    Wait {
        /// The endpoint name.
        name: String,
        #[command(flatten)]
        waiting: WaitArgs,
    },
}

/// How long and how often `wait` looks.
#[derive(Args, Debug, Clone)]
struct WaitArgs {
    /// Time between two looks (`5s`, `500ms`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    interval: Duration,
    /// Give up after this long (`30m`, `900`); exit code 4.
    #[arg(long = "wait-timeout", value_name = "DURATION", value_parser = parse_duration, default_value = "30m")]
    wait_timeout: Duration,
}

/// Arguments of `hfi endpoints create`.
#[derive(Args, Debug)]
struct CreateArgs {
    /// The endpoint name.
    name: String,
    /// The Hub repository to serve.
    #[arg(long, value_name = "REPO")]
    repository: String,
    /// Cloud vendor (`aws`, `gcp`, `azure`).
    #[arg(long)]
    vendor: String,
    /// Region (`us-east-1`).
    #[arg(long)]
    region: String,
    /// Accelerator (`cpu`, `gpu`, `neuron`).
    #[arg(long)]
    accelerator: String,
    /// Instance type (`intel-icl`, `nvidia-l4`).
    #[arg(long)]
    instance_type: String,
    /// Instance size (`x1`, `x2`).
    #[arg(long)]
    instance_size: String,
    /// Framework (default `pytorch`).
    #[arg(long)]
    framework: Option<String>,
    /// Task (`text-generation`); default: the repository's.
    #[arg(long)]
    task: Option<String>,
    /// Repository revision.
    #[arg(long)]
    revision: Option<String>,
    /// Fewest replicas (0 allows scaling to zero).
    #[arg(long)]
    min_replica: Option<u32>,
    /// Most replicas.
    #[arg(long)]
    max_replica: Option<u32>,
    /// Idle minutes before scaling to zero.
    #[arg(long, value_name = "MINUTES")]
    scale_to_zero_timeout: Option<u32>,
    /// Who may call it: public, authenticated (default) or private.
    #[arg(long = "type", value_name = "TYPE")]
    endpoint_type: Option<String>,
    /// A container image of your own (URL).
    #[arg(long, value_name = "URL")]
    custom_image: Option<String>,
    /// An environment variable of the container (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// A secret environment variable of the container (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    secret: Vec<String>,
    /// Then wait until it runs.
    #[arg(long)]
    wait: bool,
    #[command(flatten)]
    waiting: WaitArgs,
}

impl EndpointsArgs {
    /// Runs the action.
    pub async fn run(self, global: &GlobalArgs) -> Result<(), CliError> {
        let format = global.format.unwrap_or(Format::Text);
        let client = global.client()?;
        let mut api = client.inference_endpoints();
        if let Some(namespace) = self.namespace {
            api = api.namespace(namespace);
        }
        match self.action {
            Action::List { all } => {
                let found = if all {
                    api.list_all().await
                } else {
                    api.list().await
                }?;
                match format {
                    Format::Json => print_value(
                        &Value::Array(found.iter().map(summary).collect()),
                        Format::Json,
                    ),
                    Format::Text => {
                        if found.is_empty() {
                            eprintln!("no endpoints");
                        }
                        for endpoint in &found {
                            println!("{}", line(endpoint));
                        }
                        Ok(())
                    }
                }
            }
            Action::Get { name } => show(&api.get(&name).await?, format),
            Action::Create(args) => {
                let mut endpoint = create(&api, &args).await?;
                if args.wait {
                    wait(&mut endpoint, &args.waiting, global).await?;
                }
                show(&endpoint, format)
            }
            Action::Pause { name } => show(&api.pause(&name).await?, format),
            Action::Resume {
                name,
                wait: then_wait,
                waiting,
            } => {
                let mut endpoint = api.resume(&name).await?;
                if then_wait {
                    wait(&mut endpoint, &waiting, global).await?;
                }
                show(&endpoint, format)
            }
            Action::ScaleToZero { name } => show(&api.scale_to_zero(&name).await?, format),
            Action::Delete { name, yes } => {
                if !yes {
                    return Err(CliError::usage(format!(
                        "deleting `{name}` cannot be undone: add --yes to confirm"
                    )));
                }
                api.delete(&name).await?;
                eprintln!("deleted {name}");
                Ok(())
            }
            Action::Wait { name, waiting } => {
                let mut endpoint = api.get(&name).await?;
                wait(&mut endpoint, &waiting, global).await?;
                show(&endpoint, format)
            }
        }
    }
}

async fn create(
    api: &InferenceEndpoints,
    args: &CreateArgs,
) -> Result<InferenceEndpoint, CliError> {
    let mut request = api.create(&args.name, &args.repository).hardware(
        &args.vendor,
        &args.region,
        &args.accelerator,
        &args.instance_type,
        &args.instance_size,
    );
    if let Some(framework) = &args.framework {
        request = request.framework(framework);
    }
    if let Some(task) = &args.task {
        request = request.task(task);
    }
    if let Some(revision) = &args.revision {
        request = request.revision(revision);
    }
    if let Some(n) = args.min_replica {
        request = request.min_replica(n);
    }
    if let Some(n) = args.max_replica {
        request = request.max_replica(n);
    }
    if let Some(minutes) = args.scale_to_zero_timeout {
        request = request.scale_to_zero_timeout(minutes);
    }
    if let Some(kind) = &args.endpoint_type {
        request = request.endpoint_type(EndpointType::from(kind.as_str()));
    }
    if let Some(url) = &args.custom_image {
        request = request.image(EndpointImage::custom(url));
    }
    for pair in &args.env {
        let (key, value) = key_value("--env", pair)?;
        request = request.env(key, value);
    }
    for pair in &args.secret {
        let (key, value) = key_value("--secret", pair)?;
        request = request.secret(key, value);
    }
    Ok(request.send().await?)
}

fn key_value<'a>(flag: &str, pair: &'a str) -> Result<(&'a str, &'a str), CliError> {
    pair.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| CliError::usage(format!("{flag} expects KEY=VALUE, got `{pair}`")))
}

/// Waits with a progress display on stderr: a spinner on a terminal, one line per state change
/// otherwise (logs, pipes); nothing with --no-progress.
async fn wait(
    endpoint: &mut InferenceEndpoint,
    args: &WaitArgs,
    global: &GlobalArgs,
) -> Result<(), CliError> {
    let bar = (!global.no_progress && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let spinner = bar.clone();
    let quiet = global.no_progress;
    let waited = endpoint
        .wait()
        .interval(args.interval)
        .timeout(args.wait_timeout)
        .on_progress(move |p: &WaitProgress| {
            let text = format!(
                "{}: {}{} ({}s)",
                p.name,
                p.state,
                p.message
                    .as_deref()
                    .map(|m| format!(" — {m}"))
                    .unwrap_or_default(),
                p.elapsed.as_secs()
            );
            match &spinner {
                Some(bar) => bar.set_message(text),
                None if !quiet && p.changed() => eprintln!("hfi: {text}"),
                None => {}
            }
        })
        .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match waited {
        Ok(()) => {
            if !global.no_progress {
                eprintln!(
                    "hfi: {} is running at {}",
                    endpoint.name(),
                    endpoint.url().unwrap_or_default()
                );
            }
            Ok(())
        }
        Err(error @ Error::EndpointTimeout { .. }) => Err(CliError {
            code: exit::TIMEOUT,
            message: error.to_string(),
        }),
        Err(error) => Err(error.into()),
    }
}

/// The fields a user looks at, as JSON.
fn summary(endpoint: &InferenceEndpoint) -> Value {
    let details = endpoint.details();
    let compute = details.compute.as_ref();
    let cloud = details.provider.as_ref();
    json!({
        "name": endpoint.name(),
        "namespace": endpoint.namespace(),
        "state": endpoint.state().as_str(),
        "message": details.status.message,
        "url": endpoint.url(),
        "repository": endpoint.repository(),
        "revision": details.model.revision,
        "task": details.model.task,
        "framework": details.model.framework,
        "type": details.endpoint_type.as_ref().map(|t| t.as_str()),
        "vendor": cloud.and_then(|c| c.vendor.as_deref()),
        "region": cloud.and_then(|c| c.region.as_deref()),
        "accelerator": compute.and_then(|c| c.accelerator.as_deref()),
        "instance_type": compute.and_then(|c| c.instance_type.as_deref()),
        "instance_size": compute.and_then(|c| c.instance_size.as_deref()),
        "replicas": {"ready": details.status.ready_replica, "target": details.status.target_replica},
    })
}

/// `name<TAB>state<TAB>url<TAB>repository`.
fn line(endpoint: &InferenceEndpoint) -> String {
    format!(
        "{}\t{}\t{}\t{}",
        endpoint.name(),
        endpoint.state(),
        endpoint.url().unwrap_or("-"),
        endpoint.repository().unwrap_or("-")
    )
}

fn show(endpoint: &InferenceEndpoint, format: Format) -> Result<(), CliError> {
    match format {
        Format::Json => print_value(&summary(endpoint), Format::Json),
        Format::Text => {
            println!("{}", line(endpoint));
            Ok(())
        }
    }
}
