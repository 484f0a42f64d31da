//! Maintainer tasks for the hf-inference workspace.
//!
//! - `cargo xtask regen` regenerates `sdk/src/generated/` (and the README's support matrix) from
//!   `specs/`, offline.
//! - `cargo xtask regen --check` fails, naming the stale files, when the committed output differs
//!   from a fresh generation.
//! - `cargo xtask fetch-specs [VERSION]` replaces `specs/tasks/` with the task schemas of that
//!   release of `@huggingface/tasks` from the npm registry (default: the locked version).
//! - `cargo xtask bench [--quick]` runs the benchmarks side by side (see `bench.rs`).

mod bench;
mod fetch_specs;
mod regen;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  regen [--check]          regenerate sdk/src/generated from specs/ (--check: fail on drift)
  fetch-specs [VERSION]    vendor @huggingface/tasks VERSION (default: the locked one) into specs/tasks
  bench [--quick]          hf-inference side by side with Python's huggingface_hub, async-openai and wrk
                           (--only SCENARIO, --rounds N); see the README's Performance section";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("regen") => match args.get(1).map(String::as_str) {
            None => regen::run(&root, false),
            Some("--check") => regen::run(&root, true),
            Some(other) => Err(format!("regen: unknown argument `{other}`\n\n{USAGE}")),
        },
        Some("fetch-specs") => fetch_specs::run(&root, args.get(1).map(String::as_str)),
        Some("bench") => bench::run(&root, &args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
        None => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask's manifest lives one level below it. `cargo run` tells the
/// manifest directory at run time; the compile-time value is the fallback (a binary built in
/// another checkout that shares the target directory would otherwise regenerate that checkout).
fn workspace_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
