//! The hf-inference code generator: a pure library that turns the vendored specs (the Hub's JSON
//! task schemas and our provider table) into Rust source text.
//!
//! It never touches the network and writes no files: `cargo xtask regen` reads `specs/` into a
//! [`Specs`], calls [`generate`], and writes (or, with `--check`, compares) the returned files.
//!
//! ```no_run
//! use hf_inference_codegen::Specs;
//!
//! let specs = Specs::load(std::path::Path::new("specs"))?;
//! let output = hf_inference_codegen::generate(&specs)?;
//! for file in &output.files {
//!     println!("{} ({} bytes)", file.path, file.contents.len());
//! }
//! # Ok::<(), hf_inference_codegen::CodegenError>(())
//! ```

pub mod cli;
mod error;
pub mod providers;
pub mod render;
pub mod schema;
pub mod tasks;
pub mod types;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use heck::ToSnakeCase;
use quote::{format_ident, quote};

pub use error::CodegenError;
pub use schema::SpecFile;

/// Everything the generator reads, as text.
#[derive(Debug, Clone, Default)]
pub struct Specs {
    /// `specs/tasks/<task>/spec/*.json`, keyed by task folder name (`placeholder` is skipped).
    pub tasks: BTreeMap<String, Vec<SpecFile>>,
    /// `specs/tasks/common-definitions.json`.
    pub common_definitions: String,
    /// `specs/providers.toml`.
    pub providers_toml: String,
    /// The `@huggingface/tasks` version recorded in `specs/tasks.lock`.
    pub tasks_version: String,
}

impl Specs {
    /// Reads everything the generator needs from a `specs/` folder. Reading is the generator's
    /// only contact with the file system.
    pub fn load(specs_dir: &Path) -> Result<Self, CodegenError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|e| CodegenError::Parse {
                file: p.display().to_string(),
                message: e.to_string(),
            })
        };
        let tasks_dir = specs_dir.join("tasks");
        let mut tasks = BTreeMap::new();
        let entries = std::fs::read_dir(&tasks_dir).map_err(|e| CodegenError::Parse {
            file: tasks_dir.display().to_string(),
            message: e.to_string(),
        })?;
        for entry in entries.flatten() {
            let spec_dir = entry.path().join("spec");
            if !spec_dir.is_dir() {
                continue;
            }
            let task = entry.file_name().to_string_lossy().into_owned();
            let mut paths: Vec<PathBuf> = std::fs::read_dir(&spec_dir)
                .map_err(|e| CodegenError::Parse {
                    file: spec_dir.display().to_string(),
                    message: e.to_string(),
                })?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            paths.sort();
            let mut files = Vec::new();
            for path in paths {
                let kind = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                files.push(SpecFile {
                    task: task.clone(),
                    kind,
                    text: read(&path)?,
                });
            }
            tasks.insert(task, files);
        }
        let lock = read(&specs_dir.join("tasks.lock"))?;
        let tasks_version = lock
            .lines()
            .find_map(|l| l.strip_prefix("version = "))
            .map(|v| v.trim().trim_matches('"').to_owned())
            .ok_or_else(|| CodegenError::Parse {
                file: "tasks.lock".into(),
                message: "no `version = \"…\"` line".into(),
            })?;
        Ok(Self {
            tasks,
            common_definitions: read(&tasks_dir.join("common-definitions.json"))?,
            providers_toml: read(&specs_dir.join("providers.toml"))?,
            tasks_version,
        })
    }
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the workspace root, `/`-separated.
    pub path: String,
    /// Full contents, first line the generated-file header.
    pub contents: String,
}

/// The generator's output and the numbers for the regen summary.
#[derive(Debug, Clone)]
pub struct Output {
    /// Files to write, sorted by path.
    pub files: Vec<GeneratedFile>,
    /// The support matrix as Markdown (for the README section).
    pub matrix_markdown: String,
    /// Number of tasks with generated types.
    pub tasks: usize,
    /// Number of tasks with a generated task method.
    pub task_methods: usize,
    /// Number of generated Rust types (structs and enums).
    pub types: usize,
    /// Number of providers in the table.
    pub providers: usize,
    /// Number of (provider, task) pairs the table supports.
    pub supported_pairs: usize,
}

/// Folder of the generated code, relative to the workspace root.
pub const GENERATED_DIR: &str = "sdk/src/generated";

/// Tasks whose methods are hand-written in `sdk/src/tasks/` (streaming, per-provider formats).
const HAND_WRITTEN_TASKS: &[&str] = &["chat-completion", "text-generation"];

/// Task folders that are not tasks.
const SKIPPED_TASKS: &[&str] = &["placeholder"];

/// Generates the Rust module of one task from its schema files, with the given
/// `common-definitions.json` text. Used by the fixture snapshots; [`generate`] does the same for
/// every task.
pub fn generate_task_module(
    task: &str,
    files: &[SpecFile],
    common_definitions: &str,
) -> Result<String, CodegenError> {
    let common = schema::normalize_common(common_definitions)?;
    let normalized = schema::normalize_task(task, files, &common)?;
    let (tokens, _info) = types::generate_module(
        task,
        &normalized.definitions,
        &normalized.roots,
        &normalized.common_refs,
    )?;
    render::format_file(task, tokens)
}

/// Generates every file of `sdk/src/generated/` from the specs. Deterministic: the same specs
/// give the same bytes.
pub fn generate(specs: &Specs) -> Result<Output, CodegenError> {
    let common = schema::normalize_common(&specs.common_definitions)?;
    let mut files = Vec::new();
    let mut type_count = 0;
    let mut task_docs = Vec::new();

    // Which common definitions some task uses: only those are generated.
    let mut task_modules = Vec::new();
    let mut used_common = BTreeSet::new();
    for (task, spec_files) in &specs.tasks {
        if SKIPPED_TASKS.contains(&task.as_str()) {
            continue;
        }
        let mut sorted = spec_files.clone();
        sorted.sort_by_key(|f| match f.kind.as_str() {
            "input" => 0,
            "output" => 1,
            _ => 2,
        });
        let normalized = schema::normalize_task(task, &sorted, &common)?;
        used_common.extend(normalized.common_refs.iter().cloned());
        task_modules.push(normalized);
    }

    let common_names: BTreeSet<String> = BTreeSet::new();
    let common_roots: Vec<String> = used_common.iter().cloned().collect();
    let (tokens, common_info) =
        types::generate_module("common", &common, &common_roots, &common_names)?;
    type_count += common_info.types;
    let doc = "Definitions shared by several tasks (`common-definitions.json`).";
    files.push(GeneratedFile {
        path: format!("{GENERATED_DIR}/types/common.rs"),
        contents: render::format_file("types/common.rs", quote! { #![doc = #doc] #tokens })?,
    });

    let mut infos = Vec::new();
    for task in &task_modules {
        let (tokens, info) = types::generate_module(
            &task.task,
            &task.definitions,
            &task.roots,
            &task.common_refs,
        )?;
        type_count += info.types;
        infos.push(info);
        let module = task.task.to_snake_case();
        let doc = format!(
            "Types of the `{}` task: {}.\n\nGenerated from the Hub's task schemas (`@huggingface/tasks` {}).",
            task.task,
            task.roots
                .iter()
                .map(|r| format!("[`{r}`](crate::types::{module}::{r})"))
                .collect::<Vec<_>>()
                .join(", "),
            specs.tasks_version
        );
        files.push(GeneratedFile {
            path: format!("{GENERATED_DIR}/types/{module}.rs"),
            contents: render::format_file(
                &format!("types/{module}.rs"),
                quote! { #![doc = #doc] #tokens },
            )?,
        });
        task_docs.push((task.task.clone(), module));
    }

    let mods = task_docs.iter().map(|(task, module)| {
        let ident = format_ident!("{}", module);
        let doc = format!("The `{task}` task.");
        quote! { #[doc = #doc] pub mod #ident; }
    });
    let mod_doc = "Typed inputs, parameters and outputs of every task, one module per task.";
    files.push(GeneratedFile {
        path: format!("{GENERATED_DIR}/types/mod.rs"),
        contents: render::format_file(
            "types/mod.rs",
            quote! {
                #![doc = #mod_doc]
                pub mod common;
                #(#mods)*
            },
        )?,
    });

    let spec_tasks: Vec<String> = task_docs.iter().map(|(t, _)| t.clone()).collect();
    let providers = providers::generate(&specs.providers_toml, &spec_tasks)?;
    files.push(GeneratedFile {
        path: format!("{GENERATED_DIR}/providers.rs"),
        contents: providers.rust.clone(),
    });
    let methods: Vec<tasks::TaskMethod<'_>> = task_modules
        .iter()
        .zip(&infos)
        .filter(|(t, _)| {
            providers.served_tasks.contains(&t.task)
                && !HAND_WRITTEN_TASKS.contains(&t.task.as_str())
        })
        .map(|(t, info)| tasks::TaskMethod {
            task: &t.task,
            roots: &t.roots,
            info,
            binary_fields: &t.binary_fields,
            file_output: providers.file_output_tasks.contains(&t.task),
        })
        .collect();
    let task_method_count = methods.len();
    let (task_tokens, skipped) = tasks::generate(&methods);
    if let Some(task) = skipped.first() {
        return Err(CodegenError::Unsupported {
            task: task.clone(),
            pointer: "#".into(),
            detail: "its input type does not have the shape task methods are generated from \
                     (`<Task>Input` with an optional `parameters` struct)"
                .into(),
        });
    }
    // The `hfi` task commands: every task with a method, and the hand-written ones.
    let cli_tasks: Vec<cli::CliTask<'_>> = task_modules
        .iter()
        .zip(&infos)
        .filter_map(|(t, info)| {
            let method = methods.iter().find(|m| m.task == t.task);
            (method.is_some() || HAND_WRITTEN_TASKS.contains(&t.task.as_str())).then_some(
                cli::CliTask {
                    task: &t.task,
                    info,
                    roots: &t.roots,
                    definitions: &t.definitions,
                    method,
                },
            )
        })
        .collect();
    files.push(GeneratedFile {
        path: cli::CLI_TASKS_PATH.to_owned(),
        contents: cli::generate(&cli_tasks, &common)?,
    });
    let tasks_doc = "Task methods of `InferenceClient` for the tasks the generic JSON engine calls, \
                     with one typed setter per parameter.";
    files.push(GeneratedFile {
        path: format!("{GENERATED_DIR}/tasks.rs"),
        contents: render::format_file("tasks.rs", quote! { #![doc = #tasks_doc] #task_tokens })?,
    });
    files.push(GeneratedFile {
        path: format!("{GENERATED_DIR}/support_matrix.md"),
        contents: render::with_text_header("<!-- ", " -->", &providers.matrix_markdown),
    });

    let version = &specs.tasks_version;
    let gen_doc = "Code written by `cargo xtask regen` from `specs/`. Never edit by hand.";
    files.push(GeneratedFile {
        path: format!("{GENERATED_DIR}/mod.rs"),
        contents: render::format_file(
            "mod.rs",
            quote! {
                #![doc = #gen_doc]
                pub mod providers;
                pub mod tasks;
                pub mod types;
                /// The `@huggingface/tasks` release the task types were generated from.
                pub const TASKS_SPEC_VERSION: &str = #version;
            },
        )?,
    });

    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Output {
        files,
        matrix_markdown: providers.matrix_markdown,
        tasks: task_docs.len(),
        task_methods: task_method_count,
        types: type_count,
        providers: providers.provider_count,
        supported_pairs: providers.supported_pairs,
    })
}
