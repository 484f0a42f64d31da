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
use futures_util::StreamExt;
use hf_inference::tasks::generic::TaskRequest;
use hf_inference::types::audio_to_audio::AudioToAudioOutput;
use hf_inference::types::tabular::TabularData;
use hf_inference::{BinaryInput, Blob, InferenceClient, RequestPreview};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::exit::CliError;
use crate::generated::tasks::{TASKS, dispatch};

use super::extra_tasks::{self, EXTRA_TASKS};
use crate::global::{Format, GlobalArgs, dry_run_error};
use crate::input::Source;
use crate::output::{
    TokenPrinter, check_file_destination, check_files_destination, print_dry_run, print_value,
    write_blob, write_labelled_blobs,
};
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
    /// Several labelled files (audio-to-audio), written to `-o FILE` (numbered) or `-o DIR/`.
    Files,
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
    /// A table: a JSON object of columns, each a list of cells (or `@file`, `-`).
    Table,
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

/// Every task: the generated table (tasks with a schema) and the hand-written one (tasks the SDK
/// serves without a schema).
fn all_entries() -> impl Iterator<Item = &'static Entry> {
    TASKS.iter().chain(EXTRA_TASKS)
}

/// The entry of a task, by id or alias.
pub fn entry(name: &str) -> Option<&'static Entry> {
    all_entries().find(|e| e.task == name || e.aliases.contains(&name))
}

/// Tasks with their own command file (`chat`), not a generic subcommand.
const OWN_COMMAND: &[&str] = &["chat-completion"];

/// The task subcommands, in task order.
fn subcommand_entries() -> Vec<&'static Entry> {
    let mut entries: Vec<&'static Entry> = all_entries()
        .filter(|e| !OWN_COMMAND.contains(&e.task))
        .collect();
    entries.sort_by_key(|e| e.task);
    entries
}

/// The task whose answer `hfi` prints as the tokens stream (in text format).
const STREAMED: &str = "text-generation";

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
    no_stream: bool,
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
            ArgKind::Table => {
                "a JSON object of columns, e.g. {\"alcohol\": [\"9.4\", \"12.6\"]}, @FILE or - (stdin)"
            }
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
    let output_help = match entry.output {
        Output::Json => None,
        Output::File => {
            Some("Where to write the answer's file (- for stdout when it is not a terminal)")
        }
        Output::Files => Some(
            "Where to write the answer's files: FILE when there is one, FILE-1, FILE-2, … (before \
             the extension) when there are several; or an existing directory (or DIR/), which \
             gets N-LABEL.EXT files. The labels, types and paths are printed on stdout",
        ),
    };
    if let Some(help) = output_help {
        command = command.arg(
            ClapArg::new("output")
                .long("output")
                .short('o')
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help(help),
        );
    }
    if entry.task == STREAMED {
        command = command.arg(
            ClapArg::new("no-stream")
                .long("no-stream")
                .action(ArgAction::SetTrue)
                .help("Wait for the whole answer instead of printing the tokens as they stream (text format; json never streams)"),
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
        let _ = write!(text, "  {} ({})", param.name, param.kind.describe());
        let _ = match param.help {
            "" => writeln!(text),
            help => writeln!(text, ": {help}"),
        };
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
            output: if entry.output == Output::Json {
                None
            } else {
                sub.get_one::<PathBuf>("output").cloned()
            },
            no_stream: entry.task == STREAMED && sub.get_flag("no-stream"),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Subcommand for TaskCommand {
    fn augment_subcommands(command: ClapCommand) -> ClapCommand {
        command.subcommands(subcommand_entries().into_iter().map(build_command))
    }

    fn augment_subcommands_for_update(command: ClapCommand) -> ClapCommand {
        Self::augment_subcommands(command)
    }

    fn has_subcommand(name: &str) -> bool {
        subcommand_entries()
            .iter()
            .any(|e| e.task == name || e.aliases.contains(&name))
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
    /// Labelled files (audio-to-audio).
    Files(AudioToAudioOutput),
    /// Already printed as it streamed.
    Streamed,
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
    /// Print the tokens as they stream (text-generation in text format, unless --no-stream).
    stream: bool,
    progress: Progress,
}

impl Call {
    fn new(command: &TaskCommand, global: &GlobalArgs, format: Format) -> Result<Self, CliError> {
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
            stream: entry.task == STREAMED && format == Format::Text && !command.no_stream,
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

    /// A required table input: a JSON object of columns (`{"col": [cells]}`, also accepted
    /// inside `{"data": …}`); number and boolean cells are taken as their text.
    pub fn table(&self, index: usize) -> Result<TabularData, CliError> {
        let arg = &self.entry.args[index];
        let value = match self.raw(index)?.ok_or_else(|| self.missing(index))? {
            RawInput::Arg(text) => serde_json::from_str(&Source::parse(text).text()?)
                .map_err(|e| CliError::usage(format!("{}: not valid JSON: {e}", arg.name)))?,
            RawInput::Json(value) => value.clone(),
        };
        table_of(value).map_err(|message| CliError::usage(format!("{}: {message}", arg.name)))
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

/// A table from its JSON: columns of text, number or boolean cells, all of one length.
fn table_of(value: Value) -> Result<TabularData, String> {
    let mut columns = match value {
        Value::Object(columns) => columns,
        _ => {
            return Err(
                "expected a JSON object of columns, e.g. {\"alcohol\": [\"9.4\", \"12.6\"]}".into(),
            );
        }
    };
    if columns.len() == 1 && columns.get("data").is_some_and(Value::is_object) {
        return table_of(columns.remove("data").unwrap_or_default());
    }
    let mut table = TabularData::new();
    for (name, cells) in columns {
        let Value::Array(cells) = cells else {
            return Err(format!("column `{name}` must be a list of cells"));
        };
        let cells = cells
            .into_iter()
            .map(|cell| match cell {
                Value::String(text) => Ok(text),
                Value::Number(_) | Value::Bool(_) => Ok(cell.to_string()),
                other => Err(format!(
                    "column `{name}`: a cell is text or a number, not {other}"
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        table = table.column(name, cells);
    }
    if table.data.is_empty() {
        return Err("the table has no column".into());
    }
    if table.rows().is_none() {
        let lengths: Vec<String> = table
            .data
            .iter()
            .map(|(name, cells)| format!("{name}: {}", cells.len()))
            .collect();
        return Err(format!(
            "the columns must all have one cell per row; their lengths are {}",
            lengths.join(", ")
        ));
    }
    Ok(table)
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

/// Applies what every call shares (progress, --extra-body), then previews the request under
/// `--dry-run`, else sends it and makes the outcome of its answer with `outcome`.
async fn send<I: Serialize, O>(
    request: TaskRequest<'_, I, O>,
    call: &Call,
    outcome: impl FnOnce(O) -> Result<Outcome, CliError>,
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
    outcome(result?)
}

/// Previews or sends a task with a JSON answer.
pub async fn send_json<I: Serialize, O: Serialize>(
    request: TaskRequest<'_, I, O>,
    call: &Call,
) -> Result<Outcome, CliError> {
    send(request, call, |answer| {
        serde_json::to_value(answer)
            .map(Outcome::Json)
            .map_err(|e| CliError::failure(format!("cannot print the answer: {e}")))
    })
    .await
}

/// Previews or sends a task with a file answer.
pub async fn send_file<I: Serialize>(
    request: TaskRequest<'_, I, Blob>,
    call: &Call,
) -> Result<Outcome, CliError> {
    send(request, call, |blob| Ok(Outcome::File(blob))).await
}

/// Previews or sends a task with labelled files as its answer.
pub async fn send_files<I: Serialize>(
    request: TaskRequest<'_, I, AudioToAudioOutput>,
    call: &Call,
) -> Result<Outcome, CliError> {
    send(request, call, |files| Ok(Outcome::Files(files))).await
}

impl TaskCommand {
    /// Runs the task and prints its answer.
    pub async fn run(self, global: &GlobalArgs) -> Result<(), CliError> {
        let default_format = if self.entry.task == STREAMED {
            Format::Text
        } else {
            Format::Json
        };
        let format = global.format.unwrap_or(default_format);
        if !global.dry_run {
            match self.entry.output {
                Output::Json => {}
                Output::File => check_file_destination(self.output.as_deref())?,
                Output::Files => check_files_destination(self.output.as_deref())?,
            }
        }
        let call = Call::new(&self, global, format)?;
        let client = global.client_for(self.entry.task)?;
        let outcome = match run_call(&client, &call).await {
            Err(error) if global.dry_run => return Err(dry_run_error(error)),
            outcome => outcome?,
        };
        let output = || {
            self.output
                .as_deref()
                .ok_or_else(|| CliError::usage("pass -o FILE"))
        };
        match outcome {
            Outcome::Preview(preview) => {
                print_dry_run(&preview, &client);
                Ok(())
            }
            Outcome::Json(value) => print_value(&value, format),
            Outcome::Streamed => Ok(()),
            Outcome::File(blob) => write_blob(&blob, output()?, format),
            Outcome::Files(files) => write_labelled_blobs(&files, output()?, format),
        }
    }
}

/// The hand-written SDK methods (text generation, the tasks without a schema), else the
/// generated dispatch.
async fn run_call(client: &InferenceClient, call: &Call) -> Result<Outcome, CliError> {
    if call.entry.task == STREAMED {
        return text_generation(client, call).await;
    }
    if EXTRA_TASKS.iter().any(|e| e.task == call.entry.task) {
        return extra_tasks::dispatch(client, call).await;
    }
    dispatch(client, call).await
}

/// Text generation: streamed to stdout where the target streams (in text format), else the
/// whole answer.
async fn text_generation(client: &InferenceClient, call: &Call) -> Result<Outcome, CliError> {
    let mut request = client.text_generation(call.argument::<String>(0)?);
    if !call.params.is_empty() {
        let parameters = serde_json::from_value(Value::Object(call.params.clone()))
            .map_err(|e| CliError::usage(format!("invalid text-generation parameters: {e}")))?;
        request = request.parameters(parameters);
    }
    if let Some(extra) = &call.extra_body {
        request = request.extra_body(Value::Object(extra.clone()));
    }
    let stream = call.stream && request.streams().await?;
    if call.dry_run {
        let preview = if stream {
            request.preview_stream().await?
        } else {
            request.preview().await?
        };
        return Ok(Outcome::Preview(preview));
    }
    if stream {
        let mut tokens = request.stream().await?;
        let mut out = TokenPrinter::stdout();
        while let Some(event) = tokens.next().await {
            let event = event?;
            // Special tokens (`</s>`, …) are not text: TGI leaves them out of `generated_text`.
            if !event.token.special {
                out.print(&event.token.text)?;
            }
        }
        out.finish()?;
        return Ok(Outcome::Streamed);
    }
    let answer = request.send().await?;
    serde_json::to_value(answer)
        .map(Outcome::Json)
        .map_err(|e| CliError::failure(format!("cannot print the answer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tasks the Hub lists that no provider serves and the SDK has no method for: nothing to
    /// call, so no command.
    const NO_METHOD: &[&str] = &[
        "depth-estimation",
        "text-to-audio",
        "video-classification",
        "zero-shot-object-detection",
    ];

    #[test]
    fn every_task_method_has_a_subcommand() {
        for task in hf_inference::Task::ALL {
            let name = task.as_str();
            if NO_METHOD.contains(&name) {
                assert!(
                    task.providers().is_empty(),
                    "{name} is served: give it a command"
                );
                assert!(entry(name).is_none());
                continue;
            }
            let entry = entry(name).unwrap_or_else(|| panic!("no command for {name}"));
            assert_eq!(entry.task, name);
            let command = if name == "chat-completion" {
                "chat"
            } else {
                name
            };
            assert!(
                command == "chat" || <TaskCommand as clap::Subcommand>::has_subcommand(command),
                "{name} has no subcommand"
            );
        }
        // The tasks without a schema (tabular-regression has no provider at all) are there.
        for name in [
            "audio-to-audio",
            "tabular-classification",
            "tabular-regression",
        ] {
            assert!(
                <TaskCommand as clap::Subcommand>::has_subcommand(name),
                "{name}"
            );
        }
    }

    async fn preview_of(client: &InferenceClient, call: &Call) -> RequestPreview {
        match run_call(client, call).await.unwrap() {
            Outcome::Preview(preview) => preview,
            other => panic!("not a preview: {other:?}"),
        }
    }

    /// Each task without a schema reaches its SDK method: the dry run of a URL model shows the
    /// body the SDK builds from the command-line input.
    #[tokio::test]
    async fn the_tasks_without_a_schema_call_their_sdk_methods() {
        let client = InferenceClient::builder()
            .model("http://127.0.0.1:9/model")
            .build()
            .unwrap();
        let command = |task: &str, input: &str| TaskCommand {
            entry: entry(task).unwrap(),
            inputs: vec![Some(input.to_owned())],
            params: Vec::new(),
            input_json: None,
            extra_body: None,
            output: None,
            no_stream: false,
        };
        let dry_run = GlobalArgs {
            dry_run: true,
            no_progress: true,
            ..GlobalArgs::default()
        };
        for task in ["tabular-classification", "tabular-regression"] {
            let call = Call::new(
                &command(
                    task,
                    r#"{"Height": [11.52, "12.48"], "Species": ["Bream", "Pike"]}"#,
                ),
                &dry_run,
                Format::Json,
            )
            .unwrap();
            let preview = preview_of(&client, &call).await;
            assert_eq!(preview.url, "http://127.0.0.1:9/model");
            assert_eq!(
                preview.body_json().unwrap(),
                serde_json::json!({"inputs": {"data": {
                    "Height": ["11.52", "12.48"], "Species": ["Bream", "Pike"]
                }}})
            );
        }
        let call = Call::new(
            &command("audio-to-audio", "data:audio/flac;base64,ZkxhQw=="),
            &dry_run,
            Format::Json,
        )
        .unwrap();
        let preview = preview_of(&client, &call).await;
        assert_eq!(preview.header("content-type"), Some("audio/flac"));
        assert_eq!(preview.body.as_deref(), Some(&b"fLaC"[..]));
    }

    #[test]
    fn tables_are_read_from_columns() {
        let ok = table_of(serde_json::json!({"data": {"a": [1, true, "x"]}})).unwrap();
        assert_eq!(ok.data["a"], ["1", "true", "x"]);
        let err = table_of(serde_json::json!({"a": ["1"], "b": ["1", "2"]})).unwrap_err();
        assert!(err.contains("a: 1, b: 2"), "{err}");
        assert!(table_of(serde_json::json!(["a"])).is_err());
        assert!(table_of(serde_json::json!({"a": [["nested"]]})).is_err());
    }

    /// Each subcommand's help names its inputs and lists every parameter with its kind.
    #[test]
    fn every_subcommand_help_shows_its_parameters() {
        for entry in subcommand_entries() {
            let help = build_command(entry).render_long_help().to_string();
            for arg in entry.args {
                assert!(
                    help.contains(&arg.name.to_uppercase()),
                    "{}: {help}",
                    entry.task
                );
            }
            for param in entry.params {
                let line = format!("  {} ({})", param.name, param.kind.describe());
                assert!(
                    help.contains(&line),
                    "{}: no {line:?} in {help}",
                    entry.task
                );
            }
            if entry.params.is_empty() {
                assert!(help.contains("no optional parameters"), "{}", entry.task);
            }
        }
        let chat = parameters_help_of("chat-completion");
        assert!(chat.contains("  temperature (number): "), "{chat}");
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
