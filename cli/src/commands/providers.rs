//! `hfi providers [--task T]`: the support matrix, from the SDK's provider table.

use clap::Args;
use hf_inference::{Provider, Task};
use serde_json::json;

use crate::exit::CliError;
use crate::global::{Format, GlobalArgs};
use crate::output::print_value;

/// Arguments of `hfi providers`.
#[derive(Args, Debug)]
pub struct ProvidersArgs {
    /// Only this task (`text-to-image`, `chat-completion`, …): one line per provider serving it.
    #[arg(long, value_name = "TASK")]
    task: Option<Task>,
}

impl ProvidersArgs {
    /// Prints the matrix (text: the Markdown table; json: one record per provider and task).
    pub fn run(self, global: &GlobalArgs) -> Result<(), CliError> {
        let format = global.format.unwrap_or(Format::Text);
        let tasks: Vec<Task> = match self.task {
            Some(task) => vec![task],
            None => Task::ALL.to_vec(),
        };
        if self.task.is_none() && format == Format::Text {
            print!("{}", hf_inference::providers::SUPPORT_MATRIX_MARKDOWN);
            return Ok(());
        }
        let mut records = Vec::new();
        for task in tasks {
            for provider in task.providers() {
                records.push(record(*provider, task));
            }
        }
        match format {
            Format::Json => print_value(&serde_json::Value::Array(records), Format::Json),
            Format::Text => {
                if records.is_empty() {
                    println!("no provider serves this task yet");
                }
                for r in &records {
                    println!(
                        "{}\t{}\t{}{}",
                        r["provider"].as_str().unwrap_or_default(),
                        r["modes"]
                            .as_array()
                            .map(|m| m
                                .iter()
                                .filter_map(|v| v.as_str())
                                .collect::<Vec<_>>()
                                .join(","))
                            .unwrap_or_default(),
                        if r["job"] == true { "job" } else { "-" },
                        if r["routed"] == false {
                            "\t(direct only)"
                        } else {
                            ""
                        }
                    );
                }
                Ok(())
            }
        }
    }
}

/// The (provider, modes) cells of one task, read from the generated support matrix (the same
/// table the README and the crate docs show): `R` routed, `D` direct, `*` asynchronous job.
fn record(provider: Provider, task: Task) -> serde_json::Value {
    let cell = matrix_cell(provider, task).unwrap_or_default();
    let mut modes = Vec::new();
    if cell.contains('R') {
        modes.push("routed");
    }
    if cell.contains('D') {
        modes.push("direct");
    }
    json!({
        "task": task.as_str(),
        "provider": provider.as_str(),
        "name": provider.display_name(),
        "modes": modes,
        "routed": cell.contains('R'),
        "job": cell.contains('*'),
    })
}

fn matrix_cell(provider: Provider, task: Task) -> Option<String> {
    let mut lines = hf_inference::providers::SUPPORT_MATRIX_MARKDOWN.lines();
    let cells = |line: &str| -> Vec<String> {
        line.trim()
            .trim_matches('|')
            .split('|')
            .map(|c| {
                c.trim()
                    .trim_matches('`')
                    .trim_end_matches('\u{2020}')
                    .to_owned()
            })
            .collect()
    };
    let header = cells(lines.next()?);
    let column = header.iter().position(|h| h == provider.as_str())?;
    lines
        .map(cells)
        .find(|row| row.first().map(String::as_str) == Some(task.as_str()))
        .and_then(|row| row.get(column).cloned())
}
