//! The tasks the SDK serves without a Hub JSON schema: `audio-to-audio`,
//! `tabular-classification` and `tabular-regression` (sdk/src/tasks/audio_to_audio.rs and
//! tabular.rs). The generator (codegen/src/cli.rs) builds the task table from the schemas, so
//! these entries, and the calls of their hand-written SDK methods, are written here, in the
//! same shape; `task::tests::every_task_method_has_a_subcommand` fails when a task of the SDK
//! has neither.

use hf_inference::InferenceClient;

use super::task::{Arg, ArgKind, Call, Entry, Outcome, Output, send_files, send_json};
use crate::exit::CliError;

/// The table input of both tabular tasks.
const TABLE: Arg = Arg {
    name: "table",
    pointer: "/inputs/data",
    kind: ArgKind::Table,
    required: true,
    help: "The table: one list of cells per column, one cell per row",
};

/// The tasks without a schema, in the shape of the generated table.
pub static EXTRA_TASKS: &[Entry] = &[
    Entry {
        task: "audio-to-audio",
        aliases: &["a2a"],
        about: "Audio in, audio files out (source separation, speech enhancement); answers with \
                one labelled audio file per source",
        output: Output::Files,
        args: &[Arg {
            name: "inputs",
            pointer: "/inputs",
            kind: ArgKind::Binary,
            required: true,
            help: "The input audio",
        }],
        params: &[],
    },
    Entry {
        task: "tabular-classification",
        aliases: &[],
        about: "Classify each row of a table; answers with one class label per row, in row order",
        output: Output::Json,
        args: &[TABLE],
        params: &[],
    },
    Entry {
        task: "tabular-regression",
        aliases: &[],
        about: "Predict a number for each row of a table; answers with one number per row, in \
                row order. No provider serves it: give an Inference Endpoint or server URL as \
                --model",
        output: Output::Json,
        args: &[TABLE],
        params: &[],
    },
];

/// Calls the SDK method of `call`'s task.
pub async fn dispatch(client: &InferenceClient, call: &Call) -> Result<Outcome, CliError> {
    match call.entry.task {
        "audio-to-audio" => send_files(client.audio_to_audio(call.binary(0)?), call).await,
        "tabular-classification" => {
            send_json(client.tabular_classification(call.table(0)?), call).await
        }
        "tabular-regression" => send_json(client.tabular_regression(call.table(0)?), call).await,
        other => Err(CliError::failure(format!(
            "`{other}` is not a task of this table"
        ))),
    }
}
