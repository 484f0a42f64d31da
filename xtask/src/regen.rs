//! `cargo xtask regen [--check]` (being written).

use std::path::Path;

pub fn run(_root: &Path, _check: bool) -> Result<(), String> {
    Err("regen is not implemented yet".to_owned())
}
