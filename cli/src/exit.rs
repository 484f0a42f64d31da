//! Exit codes, and the one error type every command returns.
//!
//! Scripts branch on the code: a usage error means "fix the command line" (nothing was sent), an
//! HTTP error means the server refused or failed the request, a timeout may be worth a retry with
//! a longer `--timeout`.

use std::fmt;
use std::process::ExitCode;

use hf_inference::Error;

/// Success.
pub const OK: u8 = 0;
/// Any other failure: an unreadable answer, a failed job, a file that cannot be written.
pub const FAILURE: u8 = 1;
/// Bad command line, input or configuration (missing token, unknown parameter, …); nothing was
/// sent. Also what clap uses for its own parse errors.
pub const USAGE: u8 = 2;
/// The server answered with an error status (4xx/5xx), including 401/403 and 429.
pub const HTTP: u8 = 3;
/// A request or an asynchronous job did not finish within the timeout.
pub const TIMEOUT: u8 = 4;
/// The server could not be reached, or the connection broke mid-answer.
pub const NETWORK: u8 = 5;
/// The provider, model or task combination is not served (or not implemented by this SDK).
pub const UNSUPPORTED: u8 = 6;

/// The exit codes and what they mean, for `hfi --help`.
pub const HELP: &str = "Exit codes: 0 success, 1 other failure, 2 usage error (nothing sent), \
3 HTTP error from the server, 4 timeout, 5 network error, 6 provider/model/task not supported.";

/// A failure of a command: what to print and which exit code to end with.
#[derive(Debug)]
pub struct CliError {
    /// One of the constants of this module.
    pub code: u8,
    /// The message printed on stderr after `hfi: error: `.
    pub message: String,
}

impl CliError {
    /// A usage error (exit code [`USAGE`]).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: USAGE,
            message: message.into(),
        }
    }

    /// Any other failure (exit code [`FAILURE`]).
    pub fn failure(message: impl Into<String>) -> Self {
        Self {
            code: FAILURE,
            message: message.into(),
        }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The exit code of an SDK error.
pub fn code_of(error: &Error) -> u8 {
    match error {
        Error::MissingToken { .. } | Error::InvalidInput { .. } | Error::Config(_) => USAGE,
        Error::Unauthorized(_) | Error::Http(_) | Error::RateLimited { .. } => HTTP,
        Error::Timeout { .. } | Error::JobTimeout { .. } => TIMEOUT,
        Error::Transport(e) if e.is_timeout() => TIMEOUT,
        Error::Transport(_)
        | Error::Stream(hf_inference::error::StreamError::ConnectionLost(_)) => NETWORK,
        Error::ProviderNotSupported { .. }
        | Error::TaskNotSupported { .. }
        | Error::ModelNotSupported { .. }
        | Error::NotImplemented { .. } => UNSUPPORTED,
        _ => FAILURE,
    }
}

impl From<Error> for CliError {
    fn from(error: Error) -> Self {
        let mut message = error.to_string();
        if let Some(id) = error.request_id()
            && !message.contains(id)
        {
            message.push_str(&format!(" (request id {id})"));
        }
        Self {
            code: code_of(&error),
            message,
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> Self {
        Self::failure(error.to_string())
    }
}
