//! Where an input comes from: the argument itself, `@file`, `-` (stdin) or a URL.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use hf_inference::BinaryInput;

use crate::exit::CliError;

/// One input as written on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The argument itself.
    Literal(String),
    /// `@path`: the file's contents.
    File(PathBuf),
    /// `-`: standard input.
    Stdin,
    /// `http(s)://…` or `data:…`.
    Url(String),
}

impl Source {
    /// Classifies an argument.
    pub fn parse(arg: &str) -> Self {
        if arg == "-" {
            Self::Stdin
        } else if let Some(path) = arg.strip_prefix('@') {
            Self::File(PathBuf::from(path))
        } else if arg.starts_with("http://")
            || arg.starts_with("https://")
            || arg.starts_with("data:")
        {
            Self::Url(arg.to_owned())
        } else {
            Self::Literal(arg.to_owned())
        }
    }

    /// The input as text: a literal or URL as written, a file's or stdin's contents.
    pub fn text(&self) -> Result<String, CliError> {
        match self {
            Self::Literal(s) | Self::Url(s) => Ok(s.clone()),
            Self::File(path) => std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display()))),
            Self::Stdin => {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
                Ok(text)
            }
        }
    }

    /// The input as a file (image, audio): a literal is a path, as `@path` is; a URL is passed
    /// to the SDK (sent as a URL where the provider takes one, else downloaded without
    /// credentials).
    pub fn binary(&self) -> Result<BinaryInput, CliError> {
        match self {
            Self::Literal(path) => Self::File(PathBuf::from(path)).binary(),
            Self::File(path) => {
                if !path.is_file() {
                    return Err(CliError::usage(format!(
                        "{} is not a readable file",
                        path.display()
                    )));
                }
                Ok(BinaryInput::from_path(path.clone()))
            }
            Self::Url(url) if url.starts_with("data:") => Ok(BinaryInput::from_data_url(url)?),
            Self::Url(url) => Ok(BinaryInput::from_url(url)?),
            Self::Stdin => {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut bytes)
                    .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
                Ok(BinaryInput::from_bytes(bytes))
            }
        }
    }
}

/// The text of an optional positional input; without one, standard input when it is piped.
pub fn text_or_stdin(arg: Option<&str>, what: &str) -> Result<String, CliError> {
    match arg {
        Some(arg) => Source::parse(arg).text(),
        None if !std::io::stdin().is_terminal() => Source::Stdin.text(),
        None => Err(CliError::usage(format!(
            "missing {what}: give it as an argument, @FILE, or - (stdin)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(Source::parse("-"), Source::Stdin);
        assert_eq!(Source::parse("@a.txt"), Source::File("a.txt".into()));
        assert_eq!(
            Source::parse("https://x.org/a.png"),
            Source::Url("https://x.org/a.png".into())
        );
        assert_eq!(Source::parse("hello"), Source::Literal("hello".into()));
    }

    #[test]
    fn a_missing_file_is_a_usage_error() {
        let err = Source::parse("@/no/such/file").text().unwrap_err();
        assert_eq!(err.code, crate::exit::USAGE);
        let err = Source::parse("/no/such/file.png").binary().unwrap_err();
        assert_eq!(err.code, crate::exit::USAGE);
    }
}
