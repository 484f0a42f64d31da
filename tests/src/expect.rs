//! Evaluation of a tape's `test.expected` against what the client returned.
//!
//! `test.expected` is `{"assert": "<kind>", ...}` (see the conformance
//! README). [`Expectation::parse`] understands every kind the README lists;
//! [`Expectation::check`] evaluates it against an [`Actual`] and returns a
//! message naming the path of the first mismatch with expected vs actual.
//!
//! Value patterns may contain the placeholders `"<number>"`, `"<string>"`,
//! `"<boolean>"` (any value of that JSON type) and
//! `{"$close_to": x, "digits": d}` (a number with |actual - x| < 10^-d / 2,
//! `d` defaulting to 2 as in Jest's `toBeCloseTo`).
//!
//! Semantics follow the Jest matchers the JS tests used:
//! - `equals` (`toEqual`): recursive equality; an object key whose value is
//!   `null` on one side and absent on the other is ignored (the JSON analogue
//!   of `undefined`, which a Rust client produces for `Option::None`);
//! - `match_object` (`toMatchObject`): objects are matched as subsets,
//!   arrays element-wise with equal lengths;
//! - `array_containing` (`arrayContaining`): some element equals `item`.

use regex::Regex;
use serde_json::{Map, Value};

/// Every assertion kind of the README.
pub const KNOWN_KINDS: &[&str] = &[
    "equals",
    "match_object",
    "array_containing",
    "binary",
    "url_string",
    "chat_content_contains",
    "chat_content_matches",
    "stream_content_contains",
    "stream_content_matches",
    "stream_content_nonempty",
    "stream_each_match_object",
    "stream_error",
    "string_includes",
    "shape",
    "ragged_shape",
    "array_of_arrays",
];

/// What a client call produced, in the form an assertion is evaluated on.
#[derive(Debug, Clone, Copy)]
pub enum Actual<'a> {
    /// A JSON result (the client's output serialized with serde).
    Json(&'a Value),
    /// Raw bytes (images, audio).
    Bytes(&'a [u8]),
    /// A URL string (e.g. a provider's output URL).
    Url(&'a str),
    /// A stream: the events received (each parsed JSON chunk) and, if
    /// iterating failed, the error message.
    Stream {
        /// The chunks received before the end or the error.
        events: &'a [Value],
        /// The error that ended the stream, if any.
        error: Option<&'a str>,
    },
    /// The call itself failed with this message.
    Error(&'a str),
}

/// The form of [`Actual`] an expectation is evaluated on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActualKind {
    /// [`Actual::Json`].
    Json,
    /// [`Actual::Bytes`].
    Bytes,
    /// [`Actual::Url`] (a JSON string is accepted too).
    Url,
    /// [`Actual::Stream`].
    Stream,
}

/// One dimension of a `shape` assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// `"*"`: any length.
    Any,
    /// Exactly this length.
    Exact(usize),
}

/// A compiled JS-style regular expression (`regex` + `flags`).
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The source as written in the tape.
    pub source: String,
    /// The JS flags as written in the tape.
    pub flags: String,
    regex: Regex,
}

impl Pattern {
    /// Compiles `source` with JS `flags` (`i`, `m`, `s` honoured; `g`, `u`,
    /// `y`, `d` have no effect on a single test).
    pub fn new(source: &str, flags: &str) -> Result<Pattern, String> {
        let mut builder = regex::RegexBuilder::new(source);
        for flag in flags.chars() {
            match flag {
                'i' => {
                    builder.case_insensitive(true);
                }
                'm' => {
                    builder.multi_line(true);
                }
                's' => {
                    builder.dot_matches_new_line(true);
                }
                'g' | 'u' | 'y' | 'd' | 'v' => {}
                other => {
                    return Err(format!(
                        "unsupported regex flag `{other}` in /{source}/{flags}"
                    ));
                }
            }
        }
        let regex = builder
            .build()
            .map_err(|e| format!("invalid regex /{source}/{flags}: {e}"))?;
        Ok(Pattern {
            source: source.to_string(),
            flags: flags.to_string(),
            regex,
        })
    }

    /// `true` when the pattern matches somewhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "/{}/{}", self.source, self.flags)
    }
}

/// A parsed `test.expected`.
#[derive(Debug, Clone)]
pub enum Expectation {
    /// `equals`: the result equals `value` (placeholders allowed).
    Equals(Value),
    /// `match_object`: the result matches `value` as a subset.
    MatchObject(Value),
    /// `array_containing`: the result is an array with an element equal to
    /// `item` (and at least `min_length` elements).
    ArrayContaining {
        /// The pattern some element must equal.
        item: Value,
        /// Minimum array length, when asserted.
        min_length: Option<usize>,
    },
    /// `binary`: the call returns raw bytes.
    Binary,
    /// `url_string`: the call returns a URL string.
    UrlString {
        /// Exact URL, when asserted.
        value: Option<String>,
        /// Required prefix, when asserted.
        prefix: Option<String>,
    },
    /// `chat_content_contains`: the content at `path` contains `value`.
    ChatContentContains {
        /// Path of the content (`choices[0].message.content`).
        path: String,
        /// The substring.
        value: String,
        /// `false`: vacuously true when `choices` is missing or empty.
        require_choices: bool,
    },
    /// `chat_content_matches`: the content at `path` matches `pattern`.
    ChatContentMatches {
        /// Path of the content (`choices[0].message.content`).
        path: String,
        /// The regular expression.
        pattern: Pattern,
        /// `false`: vacuously true when `choices` is missing or empty.
        require_choices: bool,
    },
    /// `stream_content_contains`: concatenated `choices[0].delta.content` contains `value`.
    StreamContentContains(String),
    /// `stream_content_matches`: concatenated content matches the pattern.
    StreamContentMatches(Pattern),
    /// `stream_content_nonempty`: concatenated content is non-empty.
    StreamContentNonempty,
    /// `stream_each_match_object`: every event matches `value` as a subset.
    StreamEachMatchObject(Value),
    /// `stream_error`: iterating the stream (or the call) fails with an error
    /// whose message contains `message`.
    StreamError {
        /// Substring of the error message (`None`: any error).
        message: Option<String>,
    },
    /// `string_includes`: the string at `path` contains `value`.
    StringIncludes {
        /// Dotted path (`generated_text`, `a.b[0].c`; empty = the result itself).
        path: String,
        /// The substring.
        value: String,
    },
    /// `shape`: nested array sizes.
    Shape(Vec<Dim>),
    /// `ragged_shape`: the result is an array whose i-th element has shape `i`.
    RaggedShape(Vec<Vec<Dim>>),
    /// `array_of_arrays`: the result is an array of arrays.
    ArrayOfArrays {
        /// Minimum outer length (default 1).
        min_length: Option<usize>,
        /// Pattern every inner element must equal, when asserted.
        item: Option<Value>,
    },
}

fn field<'a>(obj: &'a Map<String, Value>, name: &str, kind: &str) -> Result<&'a Value, String> {
    obj.get(name)
        .ok_or_else(|| format!("assertion `{kind}` lacks field `{name}`"))
}

fn str_field(obj: &Map<String, Value>, name: &str, kind: &str) -> Result<String, String> {
    field(obj, name, kind)?
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("assertion `{kind}`: field `{name}` is not a string"))
}

fn opt_str(obj: &Map<String, Value>, name: &str) -> Option<String> {
    obj.get(name).and_then(Value::as_str).map(str::to_string)
}

fn opt_usize(obj: &Map<String, Value>, name: &str, kind: &str) -> Result<Option<usize>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(|n| Some(n as usize)).ok_or_else(|| {
            format!("assertion `{kind}`: field `{name}` is not a non-negative integer")
        }),
    }
}

fn parse_pattern(obj: &Map<String, Value>, kind: &str) -> Result<Pattern, String> {
    let source = obj
        .get("regex")
        .or_else(|| obj.get("pattern"))
        .or_else(|| obj.get("value"))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("assertion `{kind}` lacks a string field `regex`"))?;
    let flags = opt_str(obj, "flags").unwrap_or_default();
    Pattern::new(source, &flags)
}

fn parse_dims(value: &Value, kind: &str) -> Result<Vec<Dim>, String> {
    let items = value
        .as_array()
        .ok_or_else(|| format!("assertion `{kind}`: a shape must be an array"))?;
    items
        .iter()
        .map(|d| match d {
            Value::String(s) if s == "*" => Ok(Dim::Any),
            Value::Number(n) if n.as_u64().is_some() => {
                Ok(Dim::Exact(n.as_u64().unwrap_or(0) as usize))
            }
            other => Err(format!("assertion `{kind}`: bad dimension {other}")),
        })
        .collect()
}

fn requires_choices(obj: &Map<String, Value>) -> bool {
    if let Some(b) = obj.get("require_choices").and_then(Value::as_bool) {
        return b;
    }
    opt_str(obj, "note").is_some_and(|n| n.contains("must be defined"))
}

impl Expectation {
    /// Parses a `test.expected` object. Fails on unknown kinds and missing fields.
    pub fn parse(value: &Value) -> Result<Expectation, String> {
        let obj = value
            .as_object()
            .ok_or_else(|| format!("expected must be an object, got {value}"))?;
        let kind = obj
            .get("assert")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("expected lacks a string `assert`: {value}"))?;
        let default_chat_path = "choices[0].message.content".to_string();
        Ok(match kind {
            "equals" => Expectation::Equals(field(obj, "value", kind)?.clone()),
            "match_object" => Expectation::MatchObject(field(obj, "value", kind)?.clone()),
            "array_containing" => Expectation::ArrayContaining {
                item: field(obj, "item", kind)?.clone(),
                min_length: opt_usize(obj, "min_length", kind)?,
            },
            "binary" => Expectation::Binary,
            "url_string" => Expectation::UrlString {
                value: opt_str(obj, "value"),
                prefix: opt_str(obj, "prefix"),
            },
            "chat_content_contains" => Expectation::ChatContentContains {
                path: opt_str(obj, "path").unwrap_or(default_chat_path),
                value: str_field(obj, "value", kind)?,
                require_choices: requires_choices(obj),
            },
            "chat_content_matches" => Expectation::ChatContentMatches {
                path: opt_str(obj, "path").unwrap_or(default_chat_path),
                pattern: parse_pattern(obj, kind)?,
                require_choices: requires_choices(obj),
            },
            "stream_content_contains" => {
                Expectation::StreamContentContains(str_field(obj, "value", kind)?)
            }
            "stream_content_matches" => {
                Expectation::StreamContentMatches(parse_pattern(obj, kind)?)
            }
            "stream_content_nonempty" => Expectation::StreamContentNonempty,
            "stream_each_match_object" => {
                Expectation::StreamEachMatchObject(field(obj, "value", kind)?.clone())
            }
            "stream_error" => Expectation::StreamError {
                message: opt_str(obj, "message").or_else(|| opt_str(obj, "value")),
            },
            "string_includes" => Expectation::StringIncludes {
                path: opt_str(obj, "path").unwrap_or_default(),
                value: str_field(obj, "value", kind)?,
            },
            "shape" => Expectation::Shape(parse_dims(field(obj, "value", kind)?, kind)?),
            "ragged_shape" => {
                let shapes = field(obj, "value", kind)?.as_array().ok_or_else(|| {
                    format!("assertion `{kind}`: value must be an array of shapes")
                })?;
                Expectation::RaggedShape(
                    shapes
                        .iter()
                        .map(|s| parse_dims(s, kind))
                        .collect::<Result<_, _>>()?,
                )
            }
            "array_of_arrays" => Expectation::ArrayOfArrays {
                min_length: opt_usize(obj, "min_length", kind)?,
                item: obj.get("item").cloned(),
            },
            other => return Err(format!("unknown assertion kind `{other}`")),
        })
    }

    /// The assertion kind as written in the tape.
    pub fn kind(&self) -> &'static str {
        match self {
            Expectation::Equals(_) => "equals",
            Expectation::MatchObject(_) => "match_object",
            Expectation::ArrayContaining { .. } => "array_containing",
            Expectation::Binary => "binary",
            Expectation::UrlString { .. } => "url_string",
            Expectation::ChatContentContains { .. } => "chat_content_contains",
            Expectation::ChatContentMatches { .. } => "chat_content_matches",
            Expectation::StreamContentContains(_) => "stream_content_contains",
            Expectation::StreamContentMatches(_) => "stream_content_matches",
            Expectation::StreamContentNonempty => "stream_content_nonempty",
            Expectation::StreamEachMatchObject(_) => "stream_each_match_object",
            Expectation::StreamError { .. } => "stream_error",
            Expectation::StringIncludes { .. } => "string_includes",
            Expectation::Shape(_) => "shape",
            Expectation::RaggedShape(_) => "ragged_shape",
            Expectation::ArrayOfArrays { .. } => "array_of_arrays",
        }
    }

    /// Which form of [`Actual`] this assertion is evaluated on.
    pub fn actual_kind(&self) -> ActualKind {
        match self {
            Expectation::Binary => ActualKind::Bytes,
            Expectation::UrlString { .. } => ActualKind::Url,
            Expectation::StreamContentContains(_)
            | Expectation::StreamContentMatches(_)
            | Expectation::StreamContentNonempty
            | Expectation::StreamEachMatchObject(_)
            | Expectation::StreamError { .. } => ActualKind::Stream,
            _ => ActualKind::Json,
        }
    }

    /// Evaluates the assertion. `Err` names the failing path, the expected
    /// pattern and the actual value.
    pub fn check(&self, actual: Actual<'_>) -> Result<(), String> {
        if let Expectation::StreamError { message } = self {
            let error = match actual {
                Actual::Stream { error, events } => error.ok_or_else(|| {
                    format!("stream_error: the stream ended normally after {} events; expected an error", events.len())
                })?,
                Actual::Error(msg) => msg,
                other => return Err(format!("stream_error: expected a failing stream, got {}", describe_actual(&other))),
            };
            return match message {
                Some(m) if !error.contains(m.as_str()) => Err(format!(
                    "stream_error: error message {} does not contain {}",
                    show_str(error),
                    show_str(m)
                )),
                _ => Ok(()),
            };
        }
        if let Actual::Error(msg) = actual {
            return Err(format!("{}: the call failed: {msg}", self.kind()));
        }
        match self {
            Expectation::Binary => match actual {
                Actual::Bytes(b) if !b.is_empty() => Ok(()),
                Actual::Bytes(_) => Err("binary: got an empty byte body".to_string()),
                other => Err(format!(
                    "binary: expected raw bytes, got {}",
                    describe_actual(&other)
                )),
            },
            Expectation::UrlString { value, prefix } => {
                let s = match actual {
                    Actual::Url(s) => s,
                    Actual::Json(Value::String(s)) => s.as_str(),
                    other => {
                        return Err(format!(
                            "url_string: expected a URL string, got {}",
                            describe_actual(&other)
                        ));
                    }
                };
                let parsed = url::Url::parse(s)
                    .map_err(|e| format!("url_string: {} is not a URL: {e}", show_str(s)))?;
                if !matches!(parsed.scheme(), "http" | "https" | "data") {
                    return Err(format!(
                        "url_string: unexpected scheme `{}` in {}",
                        parsed.scheme(),
                        show_str(s)
                    ));
                }
                if value.as_ref().is_some_and(|v| v != s) {
                    let v = value.as_deref().unwrap_or_default();
                    return Err(format!(
                        "url_string: expected {}, got {}",
                        show_str(v),
                        show_str(s)
                    ));
                }
                if prefix.as_ref().is_some_and(|p| !s.starts_with(p.as_str())) {
                    let p = prefix.as_deref().unwrap_or_default();
                    return Err(format!(
                        "url_string: {} does not start with {}",
                        show_str(s),
                        show_str(p)
                    ));
                }
                Ok(())
            }
            Expectation::StreamContentContains(_)
            | Expectation::StreamContentMatches(_)
            | Expectation::StreamContentNonempty
            | Expectation::StreamEachMatchObject(_) => {
                let Actual::Stream { events, error } = actual else {
                    return Err(format!(
                        "{}: expected a stream, got {}",
                        self.kind(),
                        describe_actual(&actual)
                    ));
                };
                if let Some(e) = error {
                    return Err(format!(
                        "{}: the stream failed after {} events: {e}",
                        self.kind(),
                        events.len()
                    ));
                }
                self.check_stream(events)
            }
            _ => {
                let Actual::Json(value) = actual else {
                    return Err(format!(
                        "{}: expected a JSON result, got {}",
                        self.kind(),
                        describe_actual(&actual)
                    ));
                };
                self.check_json(value)
            }
        }
    }

    fn check_stream(&self, events: &[Value]) -> Result<(), String> {
        let content = stream_content(events);
        match self {
            Expectation::StreamContentContains(needle) => {
                if content.contains(needle.as_str()) {
                    Ok(())
                } else {
                    Err(format!(
                        "stream_content_contains: streamed content {} ({} events) does not contain {}",
                        show_str(&content),
                        events.len(),
                        show_str(needle)
                    ))
                }
            }
            Expectation::StreamContentMatches(pattern) => {
                if pattern.is_match(&content) {
                    Ok(())
                } else {
                    Err(format!(
                        "stream_content_matches: streamed content {} does not match {pattern}",
                        show_str(&content)
                    ))
                }
            }
            Expectation::StreamContentNonempty => {
                if content.is_empty() {
                    Err(format!(
                        "stream_content_nonempty: streamed content is empty ({} events)",
                        events.len()
                    ))
                } else {
                    Ok(())
                }
            }
            Expectation::StreamEachMatchObject(pattern) => {
                if events.is_empty() {
                    return Err(
                        "stream_each_match_object: the stream produced no events".to_string()
                    );
                }
                for (i, event) in events.iter().enumerate() {
                    match_value(pattern, event, Mode::Subset, &format!("$events[{i}]"))
                        .map_err(|e| format!("stream_each_match_object: {e}"))?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn check_json(&self, value: &Value) -> Result<(), String> {
        match self {
            Expectation::Equals(expected) => {
                match_value(expected, value, Mode::Equals, "$").map_err(|e| format!("equals: {e}"))
            }
            Expectation::MatchObject(expected) => match_value(expected, value, Mode::Subset, "$")
                .map_err(|e| format!("match_object: {e}")),
            Expectation::ArrayContaining { item, min_length } => {
                let items = value.as_array().ok_or_else(|| {
                    format!(
                        "array_containing: at $: expected an array, got {}",
                        show(value)
                    )
                })?;
                if min_length.is_some_and(|min| items.len() < min) {
                    let min = min_length.unwrap_or_default();
                    return Err(format!(
                        "array_containing: at $: expected at least {min} elements, got {}",
                        items.len()
                    ));
                }
                let mut first_error = None;
                for (i, el) in items.iter().enumerate() {
                    match match_value(item, el, Mode::Equals, &format!("$[{i}]")) {
                        Ok(()) => return Ok(()),
                        Err(e) => {
                            first_error.get_or_insert(e);
                        }
                    }
                }
                Err(format!(
                    "array_containing: no element of $ ({} elements) equals {}{}",
                    items.len(),
                    show(item),
                    first_error
                        .map(|e| format!("; first element: {e}"))
                        .unwrap_or_default()
                ))
            }
            Expectation::ChatContentContains {
                path,
                value: needle,
                require_choices,
            } => {
                let Some(content) = chat_content(value, path, *require_choices)? else {
                    return Ok(());
                };
                if content.contains(needle.as_str()) {
                    Ok(())
                } else {
                    Err(format!(
                        "chat_content_contains: at $.{path}: {} does not contain {}",
                        show_str(content),
                        show_str(needle)
                    ))
                }
            }
            Expectation::ChatContentMatches {
                path,
                pattern,
                require_choices,
            } => {
                let Some(content) = chat_content(value, path, *require_choices)? else {
                    return Ok(());
                };
                if pattern.is_match(content) {
                    Ok(())
                } else {
                    Err(format!(
                        "chat_content_matches: at $.{path}: {} does not match {pattern}",
                        show_str(content)
                    ))
                }
            }
            Expectation::StringIncludes {
                path,
                value: needle,
            } => {
                let target =
                    lookup_path(value, path).map_err(|e| format!("string_includes: {e}"))?;
                let s = target.as_str().ok_or_else(|| {
                    format!(
                        "string_includes: at {}: expected a string, got {}",
                        display_path(path),
                        show(target)
                    )
                })?;
                if s.contains(needle.as_str()) {
                    Ok(())
                } else {
                    Err(format!(
                        "string_includes: at {}: {} does not contain {}",
                        display_path(path),
                        show_str(s),
                        show_str(needle)
                    ))
                }
            }
            Expectation::Shape(dims) => {
                check_shape(value, dims, "$").map_err(|e| format!("shape: {e}"))
            }
            Expectation::RaggedShape(shapes) => {
                let items = value.as_array().ok_or_else(|| {
                    format!("ragged_shape: at $: expected an array, got {}", show(value))
                })?;
                if items.len() != shapes.len() {
                    return Err(format!(
                        "ragged_shape: at $: expected {} elements, got {}",
                        shapes.len(),
                        items.len()
                    ));
                }
                for (i, (item, dims)) in items.iter().zip(shapes).enumerate() {
                    check_shape(item, dims, &format!("$[{i}]"))
                        .map_err(|e| format!("ragged_shape: {e}"))?;
                }
                Ok(())
            }
            Expectation::ArrayOfArrays { min_length, item } => {
                let items = value.as_array().ok_or_else(|| {
                    format!(
                        "array_of_arrays: at $: expected an array, got {}",
                        show(value)
                    )
                })?;
                let min = min_length.unwrap_or(1);
                if items.len() < min {
                    return Err(format!(
                        "array_of_arrays: at $: expected at least {min} elements, got {}",
                        items.len()
                    ));
                }
                for (i, el) in items.iter().enumerate() {
                    let inner = el.as_array().ok_or_else(|| {
                        format!(
                            "array_of_arrays: at $[{i}]: expected an array, got {}",
                            show(el)
                        )
                    })?;
                    if let Some(pattern) = item {
                        for (j, x) in inner.iter().enumerate() {
                            match_value(pattern, x, Mode::Equals, &format!("$[{i}][{j}]"))
                                .map_err(|e| format!("array_of_arrays: {e}"))?;
                        }
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Parses and evaluates `expected` (a `test.expected` object) in one go.
pub fn check(expected: &Value, actual: Actual<'_>) -> Result<(), String> {
    Expectation::parse(expected)?.check(actual)
}

/// Concatenation of the string `choices[0].delta.content` of every event.
pub fn stream_content(events: &[Value]) -> String {
    events
        .iter()
        .filter_map(|e| {
            e.pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
        })
        .collect()
}

/// Splits a raw server-sent-events body into its JSON `data:` payloads, up to
/// `data: [DONE]`. Multi-line `data:` fields are joined with `\n`; comments
/// and other fields are ignored; a trailing event without its terminating
/// blank line is dropped. Fails on a payload that is not JSON.
pub fn parse_sse_events(text: &str) -> Result<Vec<Value>, String> {
    let mut events = Vec::new();
    let mut data: Vec<&str> = Vec::new();
    let flush = |data: &mut Vec<&str>, events: &mut Vec<Value>| -> Result<bool, String> {
        if data.is_empty() {
            return Ok(true);
        }
        let payload = data.join("\n");
        data.clear();
        if payload.trim() == "[DONE]" {
            return Ok(false);
        }
        let value = serde_json::from_str(&payload)
            .map_err(|e| format!("SSE data is not JSON ({e}): {payload}"))?;
        events.push(value);
        Ok(true)
    };
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            if !flush(&mut data, &mut events)? {
                return Ok(events);
            }
        } else if let Some(rest) = line.strip_prefix("data:") {
            data.push(rest.strip_prefix(' ').unwrap_or(rest));
        }
    }
    // An event not terminated by a blank line is incomplete and, as the SSE
    // specification requires, not dispatched (the cerebras tape ends with
    // such a fragment: the last chunk followed by a stray `"`).
    Ok(events)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Equals,
    Subset,
}

/// Matches `actual` against the pattern `expected` with `toEqual` semantics
/// (placeholders allowed). `Err` names the path of the first mismatch.
pub fn equals(expected: &Value, actual: &Value) -> Result<(), String> {
    match_value(expected, actual, Mode::Equals, "$")
}

/// Matches `actual` against the pattern `expected` with `toMatchObject`
/// semantics (objects as subsets, arrays element-wise).
pub fn match_object(expected: &Value, actual: &Value) -> Result<(), String> {
    match_value(expected, actual, Mode::Subset, "$")
}

fn match_placeholder(expected: &Value, actual: &Value, path: &str) -> Option<Result<(), String>> {
    let mismatch = |what: &str| Err(format!("at {path}: expected {what}, got {}", show(actual)));
    match expected {
        Value::String(s) => match s.as_str() {
            "<number>" => Some(if actual.is_number() {
                Ok(())
            } else {
                mismatch("any number")
            }),
            "<string>" => Some(if actual.is_string() {
                Ok(())
            } else {
                mismatch("any string")
            }),
            "<boolean>" => Some(if actual.is_boolean() {
                Ok(())
            } else {
                mismatch("any boolean")
            }),
            _ => None,
        },
        Value::Object(obj) if obj.contains_key("$close_to") => {
            let Some(target) = obj.get("$close_to").and_then(Value::as_f64) else {
                return Some(Err(format!(
                    "at {path}: malformed $close_to pattern {expected}"
                )));
            };
            let digits = obj.get("digits").and_then(Value::as_i64).unwrap_or(2);
            let tolerance = 10f64.powi(-(digits as i32)) / 2.0;
            Some(match actual.as_f64() {
                Some(x) if (x - target).abs() < tolerance => Ok(()),
                Some(x) => Err(format!(
                    "at {path}: expected a number close to {target} (|diff| < {tolerance}), got {x} (|diff| = {})",
                    (x - target).abs()
                )),
                None => mismatch(&format!("a number close to {target}")),
            })
        }
        _ => None,
    }
}

fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

fn match_value(expected: &Value, actual: &Value, mode: Mode, path: &str) -> Result<(), String> {
    if let Some(result) = match_placeholder(expected, actual, path) {
        return result;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                let child = format!("{path}{}", key_segment(key));
                match a.get(key) {
                    Some(av) => match_value(ev, av, mode, &child)?,
                    None if ev.is_null() && mode == Mode::Equals => {}
                    None => return Err(format!("at {child}: missing; expected {}", show(ev))),
                }
            }
            if mode == Mode::Equals {
                for (key, av) in a {
                    if !e.contains_key(key) && !av.is_null() {
                        return Err(format!(
                            "at {path}{}: unexpected key with value {}",
                            key_segment(key),
                            show(av)
                        ));
                    }
                }
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Err(format!(
                    "at {path}: expected an array of {} elements, got {} elements: {}",
                    e.len(),
                    a.len(),
                    show(actual)
                ));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                match_value(ev, av, mode, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Number(e), Value::Number(a)) if numbers_equal(e, a) => Ok(()),
        (e, a) if e == a => Ok(()),
        _ => Err(format!(
            "at {path}: expected {}, got {}",
            show(expected),
            show(actual)
        )),
    }
}

fn key_segment(key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!(".{key}")
    } else {
        format!("[{}]", Value::String(key.to_string()))
    }
}

/// One step of a dotted path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let path = path.strip_prefix('$').unwrap_or(path);
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            segments.push(Segment::Key(name.to_string()));
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let end = stripped
                .find(']')
                .ok_or_else(|| format!("bad path `{path}`"))?;
            let index = stripped[..end]
                .parse()
                .map_err(|_| format!("bad index in path `{path}`"))?;
            segments.push(Segment::Index(index));
            rest = &stripped[end + 1..];
        }
        if !rest.is_empty() {
            return Err(format!("bad path `{path}`"));
        }
    }
    Ok(segments)
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "$".to_string()
    } else {
        format!("$.{path}")
    }
}

fn lookup_path<'a>(value: &'a Value, path: &str) -> Result<&'a Value, String> {
    let mut current = value;
    let mut walked = String::from("$");
    for segment in parse_path(path)? {
        let next = match &segment {
            Segment::Key(k) => current.get(k.as_str()),
            Segment::Index(i) => current.get(*i),
        };
        match &segment {
            Segment::Key(k) => walked.push_str(&key_segment(k)),
            Segment::Index(i) => walked.push_str(&format!("[{i}]")),
        }
        current = next.ok_or_else(|| format!("at {walked}: missing (in {})", show(current)))?;
    }
    Ok(current)
}

/// The chat content at `path`; `Ok(None)` when the check is vacuous
/// (`choices` missing or empty and not required).
fn chat_content<'a>(
    value: &'a Value,
    path: &str,
    require_choices: bool,
) -> Result<Option<&'a str>, String> {
    let kind = "chat_content";
    let segments = parse_path(path)?;
    if let Some(Segment::Key(first)) = segments.first() {
        let list = value.get(first.as_str());
        let empty = match list {
            None | Some(Value::Null) => true,
            Some(Value::Array(a)) => a.is_empty(),
            Some(_) => false,
        };
        if empty {
            return if require_choices {
                Err(format!(
                    "{kind}: at $.{first}: expected a non-empty array, got {}",
                    list.map(show).unwrap_or("nothing".into())
                ))
            } else {
                Ok(None)
            };
        }
    }
    let target = lookup_path(value, path).map_err(|e| format!("{kind}: {e}"))?;
    target.as_str().map(Some).ok_or_else(|| {
        format!(
            "{kind}: at $.{path}: expected a string, got {}",
            show(target)
        )
    })
}

fn check_shape(value: &Value, dims: &[Dim], path: &str) -> Result<(), String> {
    let Some((first, rest)) = dims.split_first() else {
        return Ok(());
    };
    let items = value
        .as_array()
        .ok_or_else(|| format!("at {path}: expected an array, got {}", show(value)))?;
    if matches!(first, Dim::Exact(n) if items.len() != *n) {
        let n = match first {
            Dim::Exact(n) => *n,
            Dim::Any => 0,
        };
        return Err(format!(
            "at {path}: expected length {n}, got {}",
            items.len()
        ));
    }
    for (i, item) in items.iter().enumerate() {
        check_shape(item, rest, &format!("{path}[{i}]"))?;
    }
    Ok(())
}

const SHOW_LIMIT: usize = 200;

fn truncate(s: String) -> String {
    if s.chars().count() <= SHOW_LIMIT {
        return s;
    }
    let cut: String = s.chars().take(SHOW_LIMIT).collect();
    format!("{cut}... ({} chars)", s.chars().count())
}

/// A JSON value rendered compactly, cut to 200 characters.
pub fn show(value: &Value) -> String {
    truncate(value.to_string())
}

fn show_str(s: &str) -> String {
    show(&Value::String(s.to_string()))
}

fn describe_actual(actual: &Actual<'_>) -> String {
    match actual {
        Actual::Json(v) => format!("JSON {}", show(v)),
        Actual::Bytes(b) => format!("{} bytes", b.len()),
        Actual::Url(u) => format!("URL {}", show_str(u)),
        Actual::Stream { events, error } => match error {
            Some(e) => format!("a stream of {} events that failed: {e}", events.len()),
            None => format!("a stream of {} events", events.len()),
        },
        Actual::Error(e) => format!("an error: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn path_parsing() {
        assert_eq!(
            parse_path("choices[0].message.content").unwrap(),
            vec![
                Segment::Key("choices".into()),
                Segment::Index(0),
                Segment::Key("message".into()),
                Segment::Key("content".into())
            ]
        );
        assert_eq!(parse_path("").unwrap(), vec![]);
        assert_eq!(
            parse_path("[1][2]").unwrap(),
            vec![Segment::Index(1), Segment::Index(2)]
        );
        assert!(parse_path("a[x]").is_err());
    }

    #[test]
    fn sse_parsing() {
        let text = "data: {\"a\":1}\n\ndata:{\"b\":2}\r\n\r\n: comment\n\ndata: [DONE]\n\ndata: {\"c\":3}\n\n";
        assert_eq!(
            parse_sse_events(text).unwrap(),
            vec![json!({"a":1}), json!({"b":2})]
        );
        assert!(parse_sse_events("data: nope\n\n").is_err());
        let unterminated = "data: {\"a\":1}\n\ndata: {\"b\":2}\"";
        assert_eq!(
            parse_sse_events(unterminated).unwrap(),
            vec![json!({"a":1})]
        );
    }
}
