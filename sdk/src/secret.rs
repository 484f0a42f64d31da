//! The API token as a secret value.
//!
//! [`Token`] keeps the credential out of logs: its `Debug` and `Display` show at most a short
//! scheme prefix such as `hf_`, it has no `Serialize`, and the only way to read the value is the
//! explicitly named [`Token::expose`].

use std::fmt;

use reqwest::header::HeaderValue;

use crate::error::Error;

/// Longest prefix (before the first `_` or `-`) that is shown in redacted output.
const MAX_SHOWN_PREFIX: usize = 5;
/// A prefix is shown only when at least this many characters follow it, so that short secrets
/// never lose a meaningful share of their entropy to a log line.
const MIN_HIDDEN_LEN: usize = 16;

/// An API token: a Hugging Face token (`hf_…`) or a provider's own key.
///
/// The value is cleaned on construction the way the reference client cleans it (carriage
/// returns and line feeds removed, surrounding whitespace trimmed) and an empty result counts as
/// no token at all.
///
/// Formatting never reveals the secret: `Debug` prints `Token(hf_***)` and `Display` prints
/// `hf_***`. Only a recognisable scheme prefix (`hf_`, `sk-`, `r8_`, …) is ever shown.
///
/// ```
/// use hf_inference::Token;
///
/// let token = Token::new("  hf_abcdefghijklmnopqrstuvwxyz012345\n").expect("non-empty");
/// assert!(token.is_hf_token());
/// assert_eq!(format!("{token:?}"), "Token(hf_***)");
/// assert_eq!(token.to_string(), "hf_***");
/// assert_eq!(token.expose(), "hf_abcdefghijklmnopqrstuvwxyz012345");
///
/// assert!(Token::new(" \r\n ").is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Token(Box<str>);

impl Token {
    /// Cleans `raw` and wraps it, or returns `None` when nothing is left.
    ///
    /// Cleaning removes every `\r` and `\n` (a token pasted from a file or a terminal often
    /// carries one) and trims surrounding whitespace.
    pub fn new(raw: impl AsRef<str>) -> Option<Token> {
        let raw = raw.as_ref();
        let cleaned: String = if raw.contains(['\r', '\n']) {
            raw.chars().filter(|c| !matches!(c, '\r' | '\n')).collect()
        } else {
            raw.to_owned()
        };
        let trimmed = cleaned.trim();
        if trimmed.is_empty() {
            None
        } else if trimmed.len() == cleaned.len() {
            Some(Token(cleaned.into_boxed_str()))
        } else {
            Some(Token(trimmed.into()))
        }
    }

    /// The secret value, for building the `Authorization` header.
    ///
    /// Named so that every use stands out in review; never log what it returns.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether this is a Hugging Face token (`hf_` prefix).
    ///
    /// A Hugging Face token sends calls through the Hugging Face router (routed mode, billed to
    /// the Hugging Face account); any other key goes straight to the provider's own API.
    pub fn is_hf_token(&self) -> bool {
        self.0.starts_with("hf_")
    }

    /// Builds a header value carrying the token, marked sensitive so that `reqwest` and `http`
    /// redact it in their own `Debug` output.
    ///
    /// With `Some(scheme)` the value is `"<scheme> <token>"` (`Bearer` for most providers, `Key`
    /// for fal.ai); with `None` it is the bare token (for headers such as Black Forest Labs'
    /// `X-Key`).
    ///
    /// Returns [`Error::InvalidInput`] (without the token in the message) when the token holds
    /// characters that cannot appear in an HTTP header.
    ///
    /// ```
    /// use hf_inference::Token;
    ///
    /// let token = Token::new("hf_abcdefghijklmnopqrstuvwxyz012345").unwrap();
    /// let value = token.header_value(Some("Bearer")).unwrap();
    /// assert!(value.is_sensitive());
    /// assert_eq!(format!("{value:?}"), "Sensitive");
    /// ```
    pub fn header_value(&self, scheme: Option<&str>) -> Result<HeaderValue, Error> {
        let joined;
        let text = match scheme {
            Some(scheme) => {
                joined = format!("{scheme} {}", self.0);
                joined.as_str()
            }
            None => &self.0,
        };
        let mut value = HeaderValue::from_str(text).map_err(|_| Error::InvalidInput {
            field: "token".to_owned(),
            message: "the token contains characters that are not allowed in an HTTP header"
                .to_owned(),
        })?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// The part that may be shown: a short alphanumeric scheme prefix with its separator
    /// (`hf_`, `sk-`, `r8_`, `api_`), or nothing.
    fn shown_prefix(&self) -> &str {
        let Some(sep) = self.0.find(['_', '-']) else {
            return "";
        };
        let prefix = &self.0[..sep];
        let hidden_len = self.0.len() - sep - 1;
        if (1..=MAX_SHOWN_PREFIX).contains(&prefix.len())
            && prefix.bytes().all(|b| b.is_ascii_alphanumeric())
            && hidden_len >= MIN_HIDDEN_LEN
        {
            // `sep` is the index of an ASCII separator, so `sep + 1` is a char boundary.
            &self.0[..=sep]
        } else {
            ""
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({}***)", self.shown_prefix())
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}***", self.shown_prefix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HF: &str = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456";

    #[test]
    fn cleans_like_the_reference() {
        let t = Token::new(format!("  {HF}\r\n")).unwrap();
        assert_eq!(t.expose(), HF);
        // Line breaks inside are removed, not just at the ends.
        let t = Token::new("hf_abc\ndef\r").unwrap();
        assert_eq!(t.expose(), "hf_abcdef");
        assert_eq!(Token::new("\t x \t").unwrap().expose(), "x");
    }

    #[test]
    fn empty_is_none() {
        assert!(Token::new("").is_none());
        assert!(Token::new("   ").is_none());
        assert!(Token::new("\r\n\n").is_none());
        assert!(Token::new(" \r \n ").is_none());
    }

    #[test]
    fn hf_prefix_means_routed() {
        assert!(Token::new(HF).unwrap().is_hf_token());
        assert!(
            !Token::new("sk-proj-abcdefghijklmnopqrstuvwxyz")
                .unwrap()
                .is_hf_token()
        );
        assert!(
            !Token::new("HF_uppercase_is_not_a_token_prefix")
                .unwrap()
                .is_hf_token()
        );
    }

    #[test]
    fn debug_and_display_never_leak() {
        let secrets = [
            HF,
            "sk-proj-abcdefghijklmnopqrstuvwxyz0123",
            "r8_abcdefghijklmnopqrstuvwxyz0123",
            "0123456789abcdef0123456789abcdef0123456789abcdef",
            "8f5a2b1c-1234-4abc-9def-0123456789ab:0123456789abcdef0123456789abcdef",
            "hf_short",
            "a",
            "verylongprefix_abcdefghijklmnopqrstuvwxyz",
            "ключ_абвгдеёжзийклмнопрстуфхцчшщ",
        ];
        for s in secrets {
            let t = Token::new(s).unwrap();
            let debug = format!("{t:?}");
            let display = t.to_string();
            let alt = format!("{t:#?}");
            for shown in [&debug, &display, &alt] {
                assert!(shown.ends_with("***") || shown.ends_with("***)"), "{shown}");
                let visible = shown
                    .trim_start_matches("Token(")
                    .trim_end_matches(')')
                    .trim_end_matches("***");
                assert!(visible.len() <= MAX_SHOWN_PREFIX + 1, "{s} -> {shown}");
                let tail: String = s
                    .chars()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                if s.chars().count() > 4 {
                    assert!(!shown.contains(&tail), "{s} -> {shown}");
                }
            }
        }
    }

    #[test]
    fn redaction_shows_only_scheme_prefix() {
        assert_eq!(format!("{:?}", Token::new(HF).unwrap()), "Token(hf_***)");
        assert_eq!(Token::new(HF).unwrap().to_string(), "hf_***");
        let openai = Token::new("sk-proj-abcdefghijklmnopqrstuvwxyz").unwrap();
        assert_eq!(openai.to_string(), "sk-***");
        let replicate = Token::new("r8_abcdefghijklmnopqrstuvwxyz").unwrap();
        assert_eq!(replicate.to_string(), "r8_***");
        // Too short after the prefix: nothing shown.
        assert_eq!(Token::new("hf_short").unwrap().to_string(), "***");
        // No separator (Together-style hex keys): nothing shown.
        let hex = Token::new("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(format!("{hex:?}"), "Token(***)");
        // A long or non-alphanumeric "prefix" is part of the secret.
        let uuid = Token::new("8f5a2b1c-1234-4abc-9def-0123456789ab:secret").unwrap();
        assert_eq!(uuid.to_string(), "***");
    }

    #[test]
    fn header_value_is_sensitive_and_schemed() {
        let t = Token::new(HF).unwrap();
        let bearer = t.header_value(Some("Bearer")).unwrap();
        assert!(bearer.is_sensitive());
        assert_eq!(bearer.to_str().unwrap(), format!("Bearer {HF}"));
        assert!(!format!("{bearer:?}").contains(HF));
        let bare = t.header_value(None).unwrap();
        assert_eq!(bare.to_str().unwrap(), HF);
    }

    #[test]
    fn header_value_rejects_control_chars_without_leaking() {
        let t = Token::new("hf_abc\u{7}defghijklmnopqrstuvwxyz").unwrap();
        let err = t.header_value(Some("Bearer")).unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains("defghij"), "{msg}");
        assert!(matches!(err, Error::InvalidInput { .. }));
    }
}
