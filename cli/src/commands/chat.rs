//! `hfi chat`: chat completion, streamed to stdout as the tokens arrive.

use clap::Args;
use futures_util::StreamExt;
use hf_inference::types::chat_completion::{ChatCompletionInput, ChatCompletionInputMessage};
use serde_json::{Map, Value};

use crate::exit::CliError;
use crate::global::{Format, GlobalArgs, dry_run_error};
use crate::input::{Source, text_or_stdin};
use crate::output::{TokenPrinter, print_dry_run, print_value};
use crate::params;

use super::task;

/// Arguments of `hfi chat`.
#[derive(Args, Debug)]
pub struct ChatArgs {
    /// The user message: text, @FILE, or - (stdin). Default: stdin when it is piped. Not needed
    /// when --input-json has the messages.
    message: Option<String>,

    /// A system message sent before the user message.
    #[arg(long, value_name = "TEXT")]
    system: Option<String>,

    /// The maximum number of tokens to generate.
    #[arg(long, value_name = "N")]
    max_tokens: Option<i32>,

    /// Sampling temperature (0 to 2).
    #[arg(long, value_name = "T")]
    temperature: Option<f32>,

    /// Any other field of the chat-completion input (`--param top_p=0.9`, `--param
    /// stop=END`), checked against the schema (listed below).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,

    /// The whole chat-completion input as JSON (or @FILE): messages, tools, response_format, …
    /// The message and flags above are added to it.
    #[arg(long, value_name = "JSON")]
    input_json: Option<String>,

    /// Wait for the whole answer instead of streaming it.
    #[arg(long)]
    no_stream: bool,
}

impl ChatArgs {
    /// Runs the chat.
    pub async fn run(self, global: &GlobalArgs) -> Result<(), CliError> {
        let format = global.format.unwrap_or(Format::Text);
        let input = self.input()?;
        let client = global.client_for("chat-completion")?;
        let request = client.chat_completion_input(input);
        if global.dry_run {
            // The request this command would send: streamed unless --no-stream.
            let preview = if self.no_stream {
                request.preview().await
            } else {
                request.preview_stream().await
            };
            let preview = preview.map_err(|e| dry_run_error(e.into()))?;
            print_dry_run(&preview, &client);
            return Ok(());
        }
        if self.no_stream {
            let answer = request.send().await?;
            let value = serde_json::to_value(&answer)
                .map_err(|e| CliError::failure(format!("cannot print the answer: {e}")))?;
            return match format {
                Format::Json => print_value(&value, Format::Json),
                Format::Text => {
                    let text = answer
                        .choices
                        .first()
                        .and_then(|c| c.message.content.clone())
                        .unwrap_or_default();
                    println!("{text}");
                    Ok(())
                }
            };
        }
        let mut stream = request.stream().await?;
        let mut out = TokenPrinter::stdout();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            match format {
                Format::Json => out.line(
                    &serde_json::to_string(&chunk)
                        .map_err(|e| CliError::failure(format!("cannot print a chunk: {e}")))?,
                )?,
                Format::Text => {
                    if let Some(text) = chunk
                        .choices
                        .first()
                        .and_then(|c| c.delta.content.as_deref())
                    {
                        out.print(text)?;
                    }
                }
            }
        }
        out.finish()
    }

    /// The typed input: --input-json, then the messages, flags and --param on top.
    fn input(&self) -> Result<ChatCompletionInput, CliError> {
        let mut fields = match &self.input_json {
            Some(text) => params::json_object(&Source::parse(text).text()?, "--input-json")?,
            None => Map::new(),
        };
        let has_messages = fields
            .get("messages")
            .and_then(Value::as_array)
            .is_some_and(|m| !m.is_empty());
        let message = match (&self.message, has_messages) {
            (Some(message), _) => Some(Source::parse(message).text()?),
            (None, true) => None,
            (None, false) => Some(text_or_stdin(None, "message")?),
        };
        let mut messages: Vec<Value> = match fields.remove("messages") {
            Some(Value::Array(messages)) => messages,
            Some(_) => return Err(CliError::usage("--input-json: `messages` must be a list")),
            None => Vec::new(),
        };
        let to_value = |m: ChatCompletionInputMessage| {
            serde_json::to_value(m).map_err(|e| CliError::failure(e.to_string()))
        };
        if let Some(system) = &self.system {
            messages.insert(
                0,
                to_value(ChatCompletionInputMessage::system(system.clone()))?,
            );
        }
        if let Some(message) = message {
            messages.push(to_value(ChatCompletionInputMessage::user(message))?);
        }
        fields.insert("messages".into(), Value::Array(messages));
        if let Some(n) = self.max_tokens {
            fields.insert("max_tokens".into(), n.into());
        }
        if let Some(t) = self.temperature {
            fields.insert("temperature".into(), serde_json::json!(t));
        }
        // Checked against the chat-completion schema's fields (the generated table).
        let entry = task::entry("chat-completion")
            .ok_or_else(|| CliError::failure("the chat-completion schema is missing"))?;
        for pair in &self.params {
            let (key, value) = params::split_pair(pair)?;
            let param = task::find_param(entry, key)?;
            fields.insert(key.to_owned(), task::parse_value(entry, param, value)?);
        }
        serde_json::from_value(Value::Object(fields))
            .map_err(|e| CliError::usage(format!("invalid chat-completion input: {e}")))
    }
}
