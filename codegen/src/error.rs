//! The one error type of the generator.

/// Why generation failed. Every variant names the spec file, definition or rule at fault, so a
/// schema update that breaks generation says where to look.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodegenError {
    /// A spec file is not valid JSON or TOML.
    #[error("{file}: cannot parse: {message}")]
    Parse {
        /// Path of the file relative to `specs/`.
        file: String,
        /// The parser's message.
        message: String,
    },
    /// A named schema fix no longer applies: the schema changed upstream and the fix must be
    /// reviewed (removed or rewritten).
    #[error("schema fix {fix} no longer applies to {task}: {detail}")]
    StaleFix {
        /// Name of the fix, e.g. `R5-required-name-mismatch`.
        fix: String,
        /// Task whose schema was being fixed.
        task: String,
        /// What was expected and not found.
        detail: String,
    },
    /// Something in a schema that the generator does not understand.
    #[error("{task}: unsupported schema construct at {pointer}: {detail}")]
    Unsupported {
        /// Task whose schema holds it.
        task: String,
        /// JSON pointer to the construct.
        pointer: String,
        /// What it is.
        detail: String,
    },
    /// The provider table is inconsistent.
    #[error("providers.toml: {0}")]
    ProviderTable(String),
    /// typify rejected or panicked on a schema.
    #[error("{task}: typify failed: {message}")]
    Typify {
        /// Task being generated.
        task: String,
        /// typify's message (or panic payload).
        message: String,
    },
    /// Generated tokens did not parse as a Rust file (a generator bug).
    #[error("{file}: generated code does not parse: {message}")]
    Render {
        /// Output file.
        file: String,
        /// syn's message.
        message: String,
    },
}
