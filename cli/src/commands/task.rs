//! One subcommand per task (`hfi text-to-image`, `hfi asr`, …), built from the generated table
//! (`crate::generated::tasks`, written by `cargo xtask regen` from the task schemas).
//!
//! Each subcommand takes the task's inputs as positional arguments (text, `@file`, `-` for stdin,
//! a URL; files for image and audio inputs), its parameters as `--param key=value` (checked
//! against the schema's names and kinds, then by the SDK's typed setters), or the whole input as
//! `--input-json`.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Arg as ClapArg, ArgAction, ArgMatches, Command as ClapCommand, FromArgMatches};
use hf_inference::tasks::generic::TaskRequest;
use hf_inference::{BinaryInput, Blob, InferenceClient, RequestPreview};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::exit::CliError;
use crate::generated::tasks::{TASKS, dispatch};
use crate::global::{Format, GlobalArgs};
use crate::input::Source;
use crate::output::{check_file_destination, curl, print_value, write_blob};
use crate::params::{json_object, split_pair};
use crate::progress::Progress;

/// A task of the table.
#[derive(Debug)]
pub struct Entry {
    /// Task id, also the subcommand name.
    pub task: &'static str,
    /// Short names of the subcommand.
    pub aliases: &'static [&'static str],
    /// Help text, from the schema's descriptions.
    pub about: &'static str,
    /// What the task answers.
    pub output: Output,
    /// Inputs, in the order of the SDK method's arguments.
    pub args: &'static [Arg],
    /// Optional parameters.
    pub params: &'static [Param],
}

/// What a task answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Structured data, printed as JSON (or text).
    Json,
    /// A file (image, audio, video), written to `-o FILE`.
    File,
}

/// An input of a task.
#[derive(Debug)]
pub struct Arg {
    /// Its name in the schema.
    pub name: &'static str,
    /// Where it sits in the task's JSON input (`/inputs`, `/inputs/image`, …).
    pub pointer: &'static str,
    /// How the command-line value is read.
    pub kind: ArgKind,
    /// Whether the call needs it.
    pub required: bool,
    /// Help text from the schema.
    pub help: &'static str,
}

/// How an input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A file: a path, `@path`, `-` (stdin), an http(s) or `data:` URL.
    Binary,
    /// Text: the argument, `@file` or `-`.
    Text,
    /// A list of strings: `a,b,c` or JSON (or `@file`, `-`).
    List,
    /// Structured: JSON text (or `@file`, `-`).
    Json,
}

/// A parameter of a task.
#[derive(Debug)]
pub struct Param {
    /// Its name in the schema (and in `--param`).
    pub name: &'static str,
    /// Where it goes in the input.
    pub location: Location,
    /// How its value is parsed.
    pub kind: Kind,
    /// Help text from the schema.
    pub help: &'static str,
}

/// Where a parameter sits in the task's JSON input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// Inside `parameters`.
    Parameters,
    /// At the top level, next to `inputs`.
    Top,
}

/// The kind of a parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `true` / `false`.
    Boolean,
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// Text.
    String,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// A list of strings: JSON (`["a","b"]`) or comma-separated (`a,b`).
    StringList,
    /// Any JSON value (objects, lists of objects).
    Json,
}

impl Kind {
    fn describe(self) -> String {
        match self {
            Kind::Boolean => "boolean".into(),
            Kind::Integer => "integer".into(),
            Kind::Number => "number".into(),
            Kind::String => "string".into(),
            Kind::Enum(values) => format!("one of {}", values.join("|")),
            Kind::StringList => "list of strings".into(),
            Kind::Json => "JSON".into(),
        }
    }
}

/// The entry of a task, by id or alias.
pub fn entry(name: &str) -> Option<&'static Entry> {
    TASKS
        .iter()
        .find(|e| e.task == name || e.aliases.contains(&name))
}

/// Tasks with their own command file (`chat`), not a generic subcommand.
const OWN_COMMAND: &[&str] = &["chat-completion"];

fn subcommand_entries() -> impl Iterator<Item = &'static Entry> {
    TASKS.iter().filter(|e| !OWN_COMMAND.contains(&e.task))
}

// ---------------------------------------------------------------------------------------------
// The clap side

/// A task subcommand as parsed.
#[derive(Debug)]
pub struct TaskCommand {
    entry: &'static Entry,
    inputs: Vec<Option<String>>,
    params: Vec<String>,
    input_json: Option<String>,
    extra_body: Option<String>,
    output: Option<PathBuf>,
}

fn build_command(entry: &'static Entry) -> ClapCommand {
    let mut command = ClapCommand::new(entry.task)
        .about(entry.about)
        .visible_aliases(entry.aliases.iter().copied());
    for arg in entry.args {
        let value_name = arg.name.to_uppercase();
        let how = match arg.kind {
            ArgKind::Binary => "a file path, @FILE, - (stdin), or an http(s)/data: URL",
            ArgKind::Text => "text, @FILE or - (stdin)",
            ArgKind::List => "comma-separated or a JSON list, @FILE or - (stdin)",
            ArgKind::Json => "JSON, @FILE or - (stdin)",
        };
        command = command.arg(ClapArg::new(arg.name).value_name(value_name).help(format!(
            "{}{} [{how}]",
            arg.help.trim_end_matches('.'),
            if arg.required { "" } else { " (optional)" }
        )));
    }
    command = command
        .arg(
            ClapArg::new("param")
                .long("param")
                .value_name("KEY=VALUE")
                .action(ArgAction::Append)
                .help("A parameter of the task (see the list below); repeatable"),
        )
        .arg(
            ClapArg::new("input-json")
                .long("input-json")
                .value_name("JSON")
                .help("The whole task input as JSON (or @FILE), as the schema has it: {\"inputs\": …, \"parameters\": {…}}"),
        )
        .arg(
            ClapArg::new("extra-body")
                .long("extra-body")
                .value_name("JSON")
                .help("Fields merged into the request body as they are (provider-specific options the schema does not name)"),
        );
    if entry.output == Output::File {
        command = command.arg(
            ClapArg::new("output")
                .long("output")
                .short('o')
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Where to write the answer's file (- for stdout when it is not a terminal)"),
        );
    }
    command.after_help(parameters_help(entry))
}

/// The parameter list of a task's help, by task id (for commands of their own, like `chat`).
pub fn parameters_help_of(task: &str) -> String {
    entry(task).map(parameters_help).unwrap_or_default()
}

/// The parameter list of a task's help.
fn parameters_help(entry: &Entry) -> String {
    if entry.params.is_empty() {
        return "This task has no optional parameters.".into();
    }
    let mut text = String::from("Parameters (--param KEY=VALUE):\n");
    for param in entry.params {
        let _ = writeln!(
            text,
            "  {} ({}): {}",
            param.name,
            param.kind.describe(),
            param.help
        );
    }
    text
}

impl FromArgMatches for TaskCommand {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let (name, sub) = matches
            .subcommand()
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::MissingSubcommand))?;
        let entry = entry(name)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidSubcommand))?;
        Ok(Self {
            entry,
            inputs: entry
                .args
                .iter()
                .map(|a| sub.get_one::<String>(a.name).cloned())
                .collect(),
            params: sub
                .get_many::<String>("param")
                .map(|v| v.cloned().collect())
                .unwrap_or_default(),
            input_json: sub.get_one::<String>("input-json").cloned(),
            extra_body: sub.get_one::<String>("extra-body").cloned(),
            output: if entry.output == Output::File {
                sub.get_one::<PathBuf>("output").cloned()
            } else {
                None
            },
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Subcommand for TaskCommand {
    fn augment_subcommands(command: ClapCommand) -> ClapCommand {
        command.subcommands(subcommand_entries().map(build_command))
    }

    fn augment_subcommands_for_update(command: ClapCommand) -> ClapCommand {
        Self::augment_subcommands(command)
    }

    fn has_subcommand(name: &str) -> bool {
        subcommand_entries().any(|e| e.task == name || e.aliases.contains(&name))
    }
}

// ---------------------------------------------------------------------------------------------
// Running a task

/// What a task call produced.
#[derive(Debug)]
pub enum Outcome {
    /// Structured data.
    Json(Value),
    /// A file.
    File(Blob),
    /// The request, not sent (`--dry-run`).
    Preview(RequestPreview),
}

/// One call of a task command: its inputs and parameters, resolved and checked.
pub struct Call {
    /// The task.
    pub entry: &'static Entry,
    inputs: Vec<Option<String>>,
    input_json: Map<String, Value>,
    params: Map<String, Value>,
    extra_body: Option<Map<String, Value>>,
    dry_run: bool,
    progress: Progress,
}

impl Call {
    fn new(command: &TaskCommand, global: &GlobalArgs) -> Result<Self, CliError> {
        let entry = command.entry;
        let input_json = match &command.input_json {
            Some(text) => json_object(&Source::parse(text).text()?, "--input-json")?,
            None => Map::new(),
        };
        let mut params = Map::new();
        check_input_json(entry, &input_json, &mut params)?;
        for pair in &command.params {
            let (key, value) = split_pair(pair)?;
            let param = find_param(entry, key)?;
            params.insert(key.to_owned(), parse_value(entry, param, value)?);
        }
        let extra_body = command
            .extra_body
            .as_deref()
            .map(|text| json_object(&Source::parse(text).text()?, "--extra-body"))
            .transpose()?;
        Ok(Self {
            entry,
            inputs: command.inputs.clone(),
            input_json,
            params,
            extra_body,
            dry_run: global.dry_run,
            progress: Progress::new(!global.no_progress),
        })
    }

    /// The raw value of input `index`: the positional argument, else the one in --input-json.
    fn raw(&self, index: usize) -> Result<Option<RawInput<'_>>, CliError> {
        let arg = &self.entry.args[index];
        if let Some(text) = self.inputs.get(index).and_then(Option::as_deref) {
            return Ok(Some(RawInput::Arg(text)));
        }
        Ok(pointer(&self.input_json, arg.pointer).map(RawInput::Json))
    }

    fn missing(&self, index: usize) -> CliError {
        let arg = &self.entry.args[index];
        CliError::usage(format!(
            "missing {} (`{}`): give it as an argument or in --input-json at {}",
            arg.name.to_uppercase(),
            arg.name,
            arg.pointer
        ))
    }

    /// A required file input.
    pub fn binary(&self, index: usize) -> Result<BinaryInput, CliError> {
        self.optional_binary(index)?
            .ok_or_else(|| self.missing(index))
    }

    /// An optional file input.
    pub fn optional_binary(&self, index: usize) -> Result<Option<BinaryInput>, CliError> {
        match self.raw(index)? {
            None => Ok(None),
            Some(RawInput::Arg(text)) => Source::parse(text).binary().map(Some),
            Some(RawInput::Json(Value::String(text))) => Source::parse(text).binary().map(Some),
            Some(RawInput::Json(_)) => Err(CliError::usage(format!(
                "--input-json {}: expected a file path or URL string",
                self.entry.args[index].pointer
            ))),
        }
    }

    /// A required typed input (text or JSON).
    pub fn argument<T: DeserializeOwned>(&self, index: usize) -> Result<T, CliError> {
        let arg = &self.entry.args[index];
        let value = match self.raw(index)?.ok_or_else(|| self.missing(index))? {
            RawInput::Arg(text) => {
                let text = Source::parse(text).text()?;
                match arg.kind {
                    ArgKind::Json => serde_json::from_str(&text).map_err(|e| {
                        CliError::usage(format!("{}: not valid JSON: {e}", arg.name))
                    })?,
                    ArgKind::List if !text.trim_start().starts_with('[') => Value::Array(
                        text.split(',')
                            .map(|s| Value::String(s.trim().to_owned()))
                            .collect(),
                    ),
                    ArgKind::List => serde_json::from_str(&text).map_err(|e| {
                        CliError::usage(format!("{}: not a valid JSON list: {e}", arg.name))
                    })?,
                    _ => Value::String(text),
                }
            }
            RawInput::Json(value) => value.clone(),
        };
        serde_json::from_value(value)
            .map_err(|e| CliError::usage(format!("invalid {} (`{}`): {e}", arg.name, arg.pointer)))
    }

    /// A parameter, if given, as the setter's type.
    pub fn param<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, CliError> {
        let Some(value) = self.params.get(name) else {
            return Ok(None);
        };
        serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|e| {
                CliError::usage(format!(
                    "invalid value for parameter `{name}` of {}: {e}",
                    self.entry.task
                ))
            })
    }
}

enum RawInput<'a> {
    Arg(&'a str),
    Json(&'a Value),
}

fn pointer<'a>(object: &'a Map<String, Value>, pointer: &str) -> Option<&'a Value> {
    let mut parts = pointer.trim_start_matches('/').split('/');
    let first = object.get(parts.next()?)?;
    parts.try_fold(first, |value, part| value.get(part))
}

/// Checks --input-json against the task's inputs and parameters, and takes its parameters.
fn check_input_json(
    entry: &'static Entry,
    input: &Map<String, Value>,
    params: &mut Map<String, Value>,
) -> Result<(), CliError> {
    let top_inputs: Vec<&str> = entry
        .args
        .iter()
        .filter_map(|a| a.pointer.trim_start_matches('/').split('/').next())
        .collect();
    for (key, value) in input {
        if key == "parameters" {
            let Value::Object(fields) = value else {
                return Err(CliError::usage(
                    "--input-json: `parameters` must be an object",
                ));
            };
            for (name, value) in fields {
                let is_required_arg = entry
                    .args
                    .iter()
                    .any(|a| a.pointer == format!("/parameters/{name}"));
                if is_required_arg {
                    continue;
                }
                let param = find_param(entry, name)?;
                if param.location != Location::Parameters {
                    return Err(CliError::usage(format!(
                        "--input-json: `{name}` goes at the top level, not in `parameters`"
                    )));
                }
                params.insert(name.clone(), value.clone());
            }
        } else if top_inputs.contains(&key.as_str()) {
            continue;
        } else {
            let param = find_param(entry, key)?;
            if param.location != Location::Top {
                return Err(CliError::usage(format!(
                    "--input-json: `{key}` goes in `parameters`"
                )));
            }
            params.insert(key.clone(), value.clone());
        }
    }
    Ok(())
}

pub fn find_param(entry: &'static Entry, name: &str) -> Result<&'static Param, CliError> {
    entry.params.iter().find(|p| p.name == name).ok_or_else(|| {
        let valid: Vec<&str> = entry.params.iter().map(|p| p.name).collect();
        CliError::usage(if valid.is_empty() {
            format!(
                "unknown parameter `{name}`: {} takes no parameters",
                entry.task
            )
        } else {
            format!(
                "unknown parameter `{name}` for {}; valid parameters: {}",
                entry.task,
                valid.join(", ")
            )
        })
    })
}

/// Parses `value` as the parameter's kind.
pub fn parse_value(entry: &'static Entry, param: &Param, value: &str) -> Result<Value, CliError> {
    let bad = || {
        CliError::usage(format!(
            "parameter `{}` of {} expects {}, got `{value}`",
            param.name,
            entry.task,
            param.kind.describe()
        ))
    };
    match param.kind {
        Kind::Boolean => match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(Value::Bool(true)),
            "false" | "0" | "no" => Ok(Value::Bool(false)),
            _ => Err(bad()),
        },
        Kind::Integer => value
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| bad()),
        Kind::Number => value
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number))
            .ok_or_else(bad),
        Kind::String => Ok(Value::String(value.to_owned())),
        Kind::Enum(values) => values
            .contains(&value)
            .then(|| Value::String(value.to_owned()))
            .ok_or_else(bad),
        Kind::StringList => {
            if value.trim_start().starts_with('[') {
                serde_json::from_str(value).map_err(|_| bad())
            } else {
                Ok(Value::Array(
                    value
                        .split(',')
                        .map(|s| Value::String(s.trim().to_owned()))
                        .collect(),
                ))
            }
        }
        Kind::Json => {
            Ok(serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned())))
        }
    }
}

/// Applies what every call shares, then previews or sends a task with a JSON answer.
pub async fn send_json<I: Serialize, O: Serialize>(
    request: TaskRequest<'_, I, O>,
    call: &Call,
) -> Result<Outcome, CliError> {
    let mut request = request.on_status(call.progress.observer());
    if let Some(extra) = &call.extra_body {
        request = request.extra_body(Value::Object(extra.clone()));
    }
    if call.dry_run {
        return Ok(Outcome::Preview(request.preview().await?));
    }
    let result = request.send().await;
    call.progress.finish();
    let value = serde_json::to_value(result?)
        .map_err(|e| CliError::failure(format!("cannot print the answer: {e}")))?;
    Ok(Outcome::Json(value))
}

/// Applies what every call shares, then previews or sends a task with a file answer.
pub async fn send_file<I: Serialize>(
    request: TaskRequest<'_, I, Blob>,
    call: &Call,
) -> Result<Outcome, CliError> {
    let mut request = request.on_status(call.progress.observer());
    if let Some(extra) = &call.extra_body {
        request = request.extra_body(Value::Object(extra.clone()));
    }
    if call.dry_run {
        return Ok(Outcome::Preview(request.preview().await?));
    }
    let result = request.send().await;
    call.progress.finish();
    Ok(Outcome::File(result?))
}

impl TaskCommand {
    /// Runs the task and prints its answer.
    pub async fn run(self, global: &GlobalArgs) -> Result<(), CliError> {
        let format = global.format.unwrap_or(Format::Json);
        if self.entry.output == Output::File && !global.dry_run {
            check_file_destination(self.output.as_deref())?;
        }
        let call = Call::new(&self, global)?;
        let client = global.client()?;
        let outcome = run_call(&client, &call).await?;
        match outcome {
            Outcome::Preview(preview) => {
                println!("{}", curl(&preview));
                Ok(())
            }
            Outcome::Json(value) => print_value(&value, format),
            Outcome::File(blob) => {
                let output = self
                    .output
                    .as_deref()
                    .ok_or_else(|| CliError::usage("pass -o FILE"))?;
                write_blob(&blob, output, format)
            }
        }
    }
}

/// The hand-written SDK method of text generation, else the generated dispatch.
async fn run_call(client: &InferenceClient, call: &Call) -> Result<Outcome, CliError> {
    if call.entry.task != "text-generation" {
        return dispatch(client, call).await;
    }
    let mut request = client.text_generation(call.argument::<String>(0)?);
    if !call.params.is_empty() {
        let parameters = serde_json::from_value(Value::Object(call.params.clone()))
            .map_err(|e| CliError::usage(format!("invalid text-generation parameters: {e}")))?;
        request = request.parameters(parameters);
    }
    if let Some(extra) = &call.extra_body {
        request = request.extra_body(Value::Object(extra.clone()));
    }
    if call.dry_run {
        return Ok(Outcome::Preview(request.preview().await?));
    }
    let answer = request.send().await?;
    serde_json::to_value(answer)
        .map(Outcome::Json)
        .map_err(|e| CliError::failure(format!("cannot print the answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_method_has_a_subcommand() {
        for task in hf_inference::Task::ALL {
            let name = task.as_str();
            let has_method = !matches!(
                name,
                "audio-to-audio" | "tabular-classification" | "tabular-regression"
            ) && !task.providers().is_empty();
            if has_method {
                assert!(entry(name).is_some(), "no command for {name}");
            }
        }
    }

    #[test]
    fn values_are_parsed_by_kind() {
        let entry = entry("text-to-image").expect("text-to-image");
        let steps = find_param(entry, "num_inference_steps").unwrap();
        assert_eq!(parse_value(entry, steps, "20").unwrap(), Value::from(20));
        assert!(parse_value(entry, steps, "many").is_err());
        let err = find_param(entry, "nope").unwrap_err();
        assert!(err.message.contains("guidance_scale"), "{}", err.message);
    }
}
