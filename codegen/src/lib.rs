//! The hf-inference code generator: a pure library that turns the vendored specs (the Hub's JSON
//! task schemas and our provider table) into Rust source text.
//!
//! It never touches the network and writes no files: `cargo xtask regen` reads `specs/`, calls
//! [`generate`], and writes (or, with `--check`, compares) the returned files.

mod error;
pub mod providers;
pub mod render;

pub use error::CodegenError;
