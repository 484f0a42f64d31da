//! `cargo xtask regen [--check]`: regenerate `sdk/src/generated/` and the README's support
//! matrix from `specs/`, offline.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hf_inference_codegen::{GENERATED_DIR, GeneratedFile, Specs};

/// Markers around the generated part of the README.
const README_START: &str = "<!-- support-matrix:start (written by `cargo xtask regen`) -->";
const README_END: &str = "<!-- support-matrix:end -->";

/// Runs the generator; writes its files, or with `check` only compares them.
pub fn run(root: &Path, check: bool) -> Result<(), String> {
    let started = Instant::now();
    let specs = Specs::load(&root.join("specs")).map_err(|e| e.to_string())?;
    let output = hf_inference_codegen::generate(&specs).map_err(|e| e.to_string())?;

    let mut expected: BTreeMap<PathBuf, String> = output
        .files
        .iter()
        .map(|GeneratedFile { path, contents }| (root.join(path), contents.clone()))
        .collect();
    let readme_path = root.join("README.md");
    let readme = fs::read_to_string(&readme_path)
        .map_err(|e| format!("cannot read {}: {e}", readme_path.display()))?;
    expected.insert(
        readme_path,
        splice_readme(&readme, &output.matrix_markdown)?,
    );

    let mut stale = Vec::new();
    for (path, contents) in &expected {
        if fs::read_to_string(path).ok().as_deref() != Some(contents.as_str()) {
            stale.push(path.clone());
        }
    }
    let generated_dir = root.join(GENERATED_DIR);
    let mut orphans = Vec::new();
    list_files(&generated_dir, &mut orphans);
    orphans.retain(|p| !expected.contains_key(p));

    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    if check {
        if stale.is_empty() && orphans.is_empty() {
            println!(
                "regen --check: {} files up to date ({:.2?})",
                expected.len(),
                started.elapsed()
            );
            return Ok(());
        }
        let mut message =
            String::from("generated code is stale; run `cargo xtask regen` and commit the result:");
        for p in &stale {
            message.push_str(&format!("\n  differs: {}", rel(p)));
        }
        for p in &orphans {
            message.push_str(&format!("\n  not generated any more: {}", rel(p)));
        }
        return Err(message);
    }

    for path in &stale {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        fs::write(path, &expected[path])
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    for path in &orphans {
        fs::remove_file(path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
    }
    println!(
        "regen: @huggingface/tasks {}: {} tasks ({} with generated task methods), {} types, {} providers, {} supported (provider, task) pairs",
        specs.tasks_version,
        output.tasks,
        output.task_methods,
        output.types,
        output.providers,
        output.supported_pairs
    );
    println!(
        "regen: {} files, {} rewritten, {} removed, in {:.2?}",
        expected.len(),
        stale.len(),
        orphans.len(),
        started.elapsed()
    );
    for p in stale.iter().chain(&orphans) {
        println!("  {}", rel(p));
    }
    Ok(())
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            list_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Replaces the README's generated section (between the markers) with the matrix.
fn splice_readme(readme: &str, matrix: &str) -> Result<String, String> {
    let (Some(start), Some(end)) = (readme.find(README_START), readme.find(README_END)) else {
        return Err(format!(
            "README.md lacks the support-matrix markers `{README_START}` … `{README_END}`"
        ));
    };
    if end < start {
        return Err("README.md: support-matrix end marker precedes the start marker".into());
    }
    let mut out = String::with_capacity(readme.len() + matrix.len());
    out.push_str(&readme[..start + README_START.len()]);
    out.push('\n');
    out.push_str(matrix.trim_end());
    out.push('\n');
    out.push_str(&readme[end..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_splice_replaces_only_the_marked_section() {
        let readme = format!("intro\n{README_START}\nold\n{README_END}\noutro\n");
        let out = splice_readme(&readme, "| a | b |\n").unwrap();
        assert_eq!(
            out,
            format!("intro\n{README_START}\n| a | b |\n{README_END}\noutro\n")
        );
        assert!(splice_readme("no markers", "x").is_err());
    }
}
