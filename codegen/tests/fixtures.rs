//! Snapshot of the generator's output for small schema fixtures, one per rewrite family, so a
//! generator change is a reviewable diff (in the manner of typify's own schema tests).
//!
//! A fixture is `{"task": …, "files": {"input": <schema>, "output": <schema>, …}}`.

use std::path::{Path, PathBuf};

use hf_inference_codegen::{SpecFile, generate_task_module};

fn common_definitions() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../specs/tasks/common-definitions.json");
    std::fs::read_to_string(path).expect("common definitions")
}

fn render_fixture(path: &Path) -> String {
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("fixture is JSON");
    let task = fixture["task"].as_str().expect("fixture names its task");
    let files: Vec<SpecFile> = fixture["files"]
        .as_object()
        .expect("fixture has files")
        .iter()
        .map(|(kind, schema)| SpecFile {
            task: task.to_owned(),
            kind: kind.clone(),
            text: serde_json::to_string_pretty(schema).unwrap(),
        })
        .collect();
    match generate_task_module(task, &files, &common_definitions()) {
        Ok(source) => source,
        Err(e) => format!("error: {e}\n"),
    }
}

#[test]
fn fixtures() {
    insta::glob!("fixtures/*.json", |path| {
        insta::assert_snapshot!(render_fixture(path));
    });
}
