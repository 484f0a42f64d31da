//! `cargo xtask fetch-specs [VERSION]` (being written).

use std::path::Path;

pub fn run(_root: &Path, _version: Option<&str>) -> Result<(), String> {
    Err("fetch-specs is not implemented yet".to_owned())
}
