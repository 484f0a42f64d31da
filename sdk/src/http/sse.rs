//! Server-Sent Events: an incremental decoder and a typed JSON event stream on top of it.
//!
//! [`SseDecoder`] implements the event-stream interpretation of the WHATWG HTML standard
//! (§9.2.6): bytes are pushed in as they arrive, split at any point (inside a UTF-8 sequence,
//! between `\r` and `\n`, inside the BOM), and complete events come out. It never buffers more
//! than the current unfinished line plus the current event's data.
//!
//! [`json_event_stream`] turns a response body into a `Stream` of typed values the way
//! inference servers use SSE: every event's `data` is one JSON document, `data: [DONE]` ends
//! the stream, and a `{"error": …}` event becomes an error item.
//!
//! ```
//! use hf_inference::http::sse::SseDecoder;
//!
//! let mut decoder = SseDecoder::new();
//! let mut events = Vec::new();
//! for chunk in ["data: {\"a\"", ":1}\r", "\n\r\ndata: [DONE]\n", "\n"] {
//!     events.extend(decoder.feed(chunk.as_bytes()));
//! }
//! assert_eq!(events.len(), 2);
//! assert_eq!(events[0].data, r#"{"a":1}"#);
//! assert_eq!(events[1].data, "[DONE]");
//! assert_eq!(decoder.finish(), 0); // nothing left unterminated
//! ```

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::Stream;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{
    Error, StreamError, error_type_from_json, message_from_json, redact_reqwest_error,
};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched server-sent event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Event {
    /// The event type from an `event:` field; `None` means the default type, `message`.
    pub event: Option<String>,
    /// The event's data: its `data:` lines joined with `\n`.
    pub data: String,
    /// The last event id seen on the stream so far (`id:` fields persist across events).
    pub id: Option<String>,
}

impl Event {
    /// The event type, `"message"` when the stream did not name one.
    pub fn event_type(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }
}

/// Incremental Server-Sent Events decoder.
///
/// Push bytes with [`push`](Self::push) and pull events with [`next_event`](Self::next_event),
/// or do both with [`feed`](Self::feed). Call [`finish`](Self::finish) at the end of the body:
/// as the standard requires, an event that was not terminated by a blank line is discarded, and
/// `finish` says how many bytes that was so the caller can log it.
///
/// Handles LF, CRLF and CR line endings (also a CRLF split across two pushes), `field:value`
/// with or without the space, comments, multi-line `data`, `event`, `id` and `retry` fields,
/// and a leading byte-order mark. Invalid UTF-8 is replaced by U+FFFD, never an error.
#[derive(Debug, Default)]
pub struct SseDecoder {
    lines: LineSplitter,
    fields: EventFields,
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        SseDecoder::default()
    }

    /// Appends bytes received from the network.
    pub fn push(&mut self, chunk: &[u8]) {
        self.lines.push(chunk);
    }

    /// The next complete event, or `None` when more bytes are needed.
    pub fn next_event(&mut self) -> Option<Event> {
        while let Some((start, end)) = self.lines.next_line() {
            if let Some(event) = self.fields.process_line(&self.lines.buf[start..end]) {
                return Some(event);
            }
        }
        None
    }

    /// Pushes `chunk` and iterates over the events it completes.
    ///
    /// Events left in the iterator when it is dropped stay in the decoder for
    /// [`next_event`](Self::next_event).
    pub fn feed(&mut self, chunk: &[u8]) -> Events<'_> {
        self.push(chunk);
        Events { decoder: self }
    }

    /// Bytes held for the event being received: the unterminated line plus the `data` of an
    /// event that has not been dispatched yet. Complete events still waiting in the decoder
    /// are not counted once [`next_event`](Self::next_event) has returned `None`.
    pub fn buffered(&self) -> usize {
        self.lines.pending() + self.fields.data.len()
    }

    /// The reconnection time set by the last valid `retry:` field, if any.
    pub fn retry(&self) -> Option<Duration> {
        self.fields.retry
    }

    /// Ends the stream: discards whatever was not terminated (a partial line and the data of
    /// an event that lacked its blank line) and returns how many bytes that was (0 when the
    /// stream ended cleanly). The decoder is then ready for a new stream; the last event id
    /// and the reconnection time are kept, as the standard does across reconnections.
    pub fn finish(&mut self) -> usize {
        let dropped =
            self.lines.pending() + self.fields.data.len() + usize::from(self.fields.has_data);
        self.lines = LineSplitter::default();
        self.fields.data.clear();
        self.fields.has_data = false;
        self.fields.event = None;
        dropped
    }
}

/// Iterator over the events completed by one [`SseDecoder::feed`].
#[derive(Debug)]
pub struct Events<'a> {
    decoder: &'a mut SseDecoder,
}

impl Iterator for Events<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.decoder.next_event()
    }
}

/// Splits a byte stream into lines without decoding it.
#[derive(Debug, Default)]
struct LineSplitter {
    /// Unconsumed input is `buf[pos..]`.
    buf: Vec<u8>,
    pos: usize,
    /// Where to resume looking for a line terminator (everything in `pos..scan` has none).
    scan: usize,
    /// The stream start has been checked for a BOM.
    bom_checked: bool,
    /// The last line ended with `\r`; a `\n` right after it belongs to the same terminator.
    skip_lf: bool,
}

impl LineSplitter {
    fn push(&mut self, chunk: &[u8]) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.scan -= self.pos;
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// Bytes received but not yet part of a complete line.
    fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next complete line as a range of `buf` (terminator excluded), or `None` when more
    /// bytes are needed.
    fn next_line(&mut self) -> Option<(usize, usize)> {
        if !self.bom_checked {
            let head = &self.buf[self.pos..];
            if head.len() < BOM.len() && BOM.starts_with(head) {
                return None; // could still become a BOM
            }
            if head.starts_with(BOM) {
                self.pos += BOM.len();
            }
            self.bom_checked = true;
            self.scan = self.scan.max(self.pos);
        }
        if self.skip_lf {
            let &next = self.buf.get(self.pos)?;
            if next == b'\n' {
                self.pos += 1;
                self.scan = self.scan.max(self.pos);
            }
            self.skip_lf = false;
        }
        // memchr2 scans a word (or a vector) at a time: the line search is most of the
        // decoder's work on long streams.
        match memchr::memchr2(b'\n', b'\r', &self.buf[self.scan..]) {
            Some(offset) => {
                let start = self.pos;
                let end = self.scan + offset;
                self.skip_lf = self.buf[end] == b'\r';
                self.pos = end + 1;
                self.scan = self.pos;
                Some((start, end))
            }
            None => {
                self.scan = self.buf.len();
                None
            }
        }
    }
}

/// The fields of the event being built.
#[derive(Debug, Default)]
struct EventFields {
    /// The `data` lines so far, joined with `\n` (no trailing one: see `has_data`).
    data: String,
    /// A `data` line was seen (`data:` with an empty value counts: it dispatches an empty
    /// event).
    has_data: bool,
    event: Option<String>,
    last_event_id: String,
    retry: Option<Duration>,
}

impl EventFields {
    /// Interprets one line; returns an event when the line dispatches one.
    fn process_line(&mut self, line: &[u8]) -> Option<Event> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line[0] == b':' {
            return None; // comment
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" => {
                // The separator goes before a second line, so that the common one-line event
                // is allocated once, at its exact size.
                if self.has_data {
                    self.data.push('\n');
                }
                self.has_data = true;
                match std::str::from_utf8(value) {
                    Ok(text) => self.data.push_str(text),
                    Err(_) => self.data.push_str(&String::from_utf8_lossy(value)),
                }
            }
            b"event" => {
                self.event =
                    (!value.is_empty()).then(|| String::from_utf8_lossy(value).into_owned());
            }
            b"id" if !value.contains(&0) => {
                self.last_event_id = String::from_utf8_lossy(value).into_owned();
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let millis = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(u64::MAX);
                self.retry = Some(Duration::from_millis(millis));
            }
            _ => {} // unknown fields are ignored
        }
        None
    }

    fn dispatch(&mut self) -> Option<Event> {
        let event = self.event.take();
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        let data = std::mem::take(&mut self.data);
        Some(Event {
            event,
            data,
            id: (!self.last_event_id.is_empty()).then(|| self.last_event_id.clone()),
        })
    }
}

/// Decodes a response body of server-sent events into a stream of `T`.
///
/// - each event's `data` is deserialized as one JSON document (`T`);
/// - `data: [DONE]` ends the stream (and drops the body at once, closing the connection);
/// - an event whose JSON has a non-null top-level `error` (a string or an object, as TGI and
///   OpenAI-compatible servers send), or an `event: error`, yields
///   `Err(Error::Stream(StreamError::ServerError { .. }))` with the server's message, then ends;
/// - data that is not valid JSON for `T` yields `Err(Error::Decode { .. })` with an excerpt,
///   then ends;
/// - a transport error while reading yields `Err(Error::Stream(StreamError::ConnectionLost(_)))`
///   (`StreamError::Stalled(_)` when it is the client's read timeout), then ends;
/// - comments and events with empty data are skipped;
/// - the body ending without `[DONE]` is a normal end (TGI does not send it) unless
///   [`require_done`](JsonEventStream::require_done) is set. An unterminated last event is
///   discarded, as the standard says, and logged at `debug` level.
///
/// The body is decoded incrementally and never buffered whole. Dropping the stream drops the
/// body, which closes the connection.
///
/// ```
/// # async fn demo(response: reqwest::Response) -> hf_inference::error::Result<()> {
/// use futures_util::StreamExt;
/// use hf_inference::http::sse::json_event_stream;
///
/// let mut chunks = std::pin::pin!(json_event_stream::<serde_json::Value, _>(response.bytes_stream()));
/// while let Some(chunk) = chunks.next().await {
///     println!("{}", chunk?);
/// }
/// # Ok(())
/// # }
/// ```
pub fn json_event_stream<T, S>(body: S) -> JsonEventStream<S, T>
where
    T: DeserializeOwned,
    S: Stream<Item = Result<Bytes, reqwest::Error>>,
{
    JsonEventStream {
        body: Some(body),
        decoder: SseDecoder::new(),
        require_done: false,
        saw_done: false,
        finished: false,
        max_event_bytes: crate::client::DEFAULT_MAX_RESPONSE_BYTES,
        decode: from_json_str::<T>,
        _target: PhantomData,
    }
}

pin_project_lite::pin_project! {
    /// The stream returned by [`json_event_stream`]: yields `Result<T, Error>` items.
    #[must_use = "streams do nothing unless polled"]
    pub struct JsonEventStream<S, T> {
        #[pin]
        body: Option<S>,
        decoder: SseDecoder,
        require_done: bool,
        saw_done: bool,
        finished: bool,
        // A stream may run for ever, but one event must not: a server that never ends a line
        // would otherwise grow the buffer until memory runs out.
        max_event_bytes: usize,
        // Decodes one event's data (`serde_json::from_str`, or a faster equivalent for a type
        // the SDK knows).
        decode: fn(&str) -> serde_json::Result<T>,
        _target: PhantomData<fn() -> T>,
    }
}

impl<S, T> JsonEventStream<S, T> {
    /// Treat the body ending without `data: [DONE]` as an error
    /// ([`StreamError::Truncated`]): for OpenAI-compatible servers, which always send the
    /// marker, its absence means the response was cut short.
    pub fn require_done(mut self, require: bool) -> Self {
        self.require_done = require;
        self
    }

    /// Caps the size of one event (its unterminated line plus its `data` so far): past it the
    /// stream yields [`StreamError::EventTooLarge`] and closes the connection. The whole
    /// stream stays unbounded. Defaults to the client's default response cap
    /// ([`DEFAULT_MAX_RESPONSE_BYTES`](crate::client::DEFAULT_MAX_RESPONSE_BYTES)); the task
    /// methods pass the client's own
    /// [`max_response_bytes`](crate::InferenceClientBuilder::max_response_bytes).
    pub fn max_event_bytes(mut self, limit: usize) -> Self {
        self.max_event_bytes = limit;
        self
    }

    /// Decodes each event's data with `decode` instead of `serde_json::from_str` (it must give
    /// the same values and fail on the same input).
    pub(crate) fn with_decoder(mut self, decode: fn(&str) -> serde_json::Result<T>) -> Self {
        self.decode = decode;
        self
    }
}

impl<S, T> std::fmt::Debug for JsonEventStream<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonEventStream")
            .field("target", &std::any::type_name::<T>())
            .field("require_done", &self.require_done)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

/// `serde_json::from_str` for owned targets (as a plain `fn` pointer).
fn from_json_str<T: DeserializeOwned>(data: &str) -> serde_json::Result<T> {
    serde_json::from_str(data)
}

/// What one event means for the typed stream.
enum Outcome<T> {
    Skip,
    Item(T),
    Done,
    Fail(Error),
}

fn interpret<T: DeserializeOwned>(
    event: &Event,
    decode: fn(&str) -> serde_json::Result<T>,
) -> Outcome<T> {
    let data = event.data.trim();
    if event.event.as_deref() == Some("error") {
        return Outcome::Fail(error_event(data));
    }
    if data.is_empty() {
        return Outcome::Skip;
    }
    if data == "[DONE]" {
        return Outcome::Done;
    }
    // Cheap pre-check: only data mentioning the key can be an error event.
    let error = if data.contains("\"error\"") {
        top_level_error(data)
    } else {
        None
    };
    if let Some(err) = error {
        return Outcome::Fail(err);
    }
    match decode(data) {
        Ok(value) => Outcome::Item(value),
        Err(err) => Outcome::Fail(Error::decode::<T>(err, data.as_bytes())),
    }
}

/// The error carried by `data` when it is a JSON object with a non-null top-level `error`.
fn top_level_error(data: &str) -> Option<Error> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(default)]
        error: Option<Value>,
        #[serde(default)]
        error_type: Option<Value>,
    }
    let probe: Probe = serde_json::from_str(data).ok()?;
    let error = probe.error?;
    let mut body = serde_json::Map::new();
    if let Some(error_type) = probe.error_type {
        body.insert("error_type".to_owned(), error_type);
    }
    body.insert("error".to_owned(), error);
    let body = Value::Object(body);
    Some(server_error(
        message_from_json(&body).unwrap_or_else(|| "unknown error".to_owned()),
        error_type_from_json(&body),
    ))
}

/// The error carried by an `event: error` event, whatever its data looks like.
fn error_event(data: &str) -> Error {
    match serde_json::from_str::<Value>(data) {
        Ok(value) => server_error(
            message_from_json(&value).unwrap_or_else(|| value.to_string()),
            error_type_from_json(&value),
        ),
        Err(_) if data.is_empty() => server_error("unknown error".to_owned(), None),
        Err(_) => server_error(data.to_owned(), None),
    }
}

fn server_error(message: String, error_type: Option<String>) -> Error {
    Error::Stream(StreamError::ServerError {
        message,
        error_type,
    })
}

impl<S, T> Stream for JsonEventStream<S, T>
where
    T: DeserializeOwned,
    S: Stream<Item = Result<Bytes, reqwest::Error>>,
{
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.finished {
                return Poll::Ready(None);
            }
            while let Some(event) = this.decoder.next_event() {
                let outcome = interpret::<T>(&event, *this.decode);
                match outcome {
                    Outcome::Skip => continue,
                    Outcome::Item(value) => return Poll::Ready(Some(Ok(value))),
                    Outcome::Done | Outcome::Fail(_) => {
                        // Stop reading and close the connection now, not when the caller
                        // gets around to dropping the stream.
                        *this.finished = true;
                        this.body.set(None);
                        return Poll::Ready(match outcome {
                            Outcome::Fail(err) => Some(Err(err)),
                            _ => {
                                *this.saw_done = true;
                                None
                            }
                        });
                    }
                }
            }
            // Every complete event is out: what is left belongs to the one being received.
            if this.decoder.buffered() > *this.max_event_bytes {
                *this.finished = true;
                this.body.set(None);
                let err = StreamError::EventTooLarge {
                    limit: *this.max_event_bytes,
                };
                return Poll::Ready(Some(Err(Error::Stream(err))));
            }
            let Some(body) = this.body.as_mut().as_pin_mut() else {
                *this.finished = true;
                return Poll::Ready(None);
            };
            match ready!(body.poll_next(cx)) {
                Some(Ok(chunk)) => this.decoder.push(&chunk),
                Some(Err(err)) => {
                    *this.finished = true;
                    this.body.set(None);
                    let err = redact_reqwest_error(err);
                    let err = if err.is_timeout() {
                        StreamError::Stalled(err)
                    } else {
                        StreamError::ConnectionLost(err)
                    };
                    return Poll::Ready(Some(Err(Error::Stream(err))));
                }
                None => {
                    *this.finished = true;
                    this.body.set(None);
                    let dropped = this.decoder.finish();
                    if dropped > 0 {
                        tracing::debug!(
                            dropped_bytes = dropped,
                            "event stream ended inside an unterminated event; discarded it"
                        );
                    }
                    if *this.require_done && !*this.saw_done {
                        let err = StreamError::Truncated {
                            dropped_bytes: dropped,
                        };
                        return Poll::Ready(Some(Err(Error::Stream(err))));
                    }
                    return Poll::Ready(None);
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.finished {
            (0, Some(0))
        } else {
            (0, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use serde::Deserialize;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    // -----------------------------------------------------------------------------------------
    // Helpers

    /// `input` split at the given points.
    fn split_at(input: &[u8], points: &[usize]) -> Vec<Vec<u8>> {
        let mut chunks = Vec::new();
        let mut last = 0;
        for &p in points {
            chunks.push(input[last..p].to_vec());
            last = p;
        }
        chunks.push(input[last..].to_vec());
        chunks
    }

    /// Every way of chunking `input` the tests use: whole, 1-byte, and 20 random splits.
    fn chunkings(input: &[u8]) -> Vec<(String, Vec<Vec<u8>>)> {
        let mut out = vec![
            ("whole".to_owned(), vec![input.to_vec()]),
            (
                "1-byte".to_owned(),
                input.iter().map(|b| vec![*b]).collect(),
            ),
        ];
        for seed in 0..20u64 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let n = rng.usize(1..=8.min(input.len().max(1)));
            let mut points: Vec<usize> = (0..n).map(|_| rng.usize(0..=input.len())).collect();
            points.sort_unstable();
            out.push((format!("seed {seed} {points:?}"), split_at(input, &points)));
        }
        out
    }

    fn decode_chunks(chunks: &[Vec<u8>]) -> (Vec<Event>, usize) {
        let mut decoder = SseDecoder::new();
        let mut events = Vec::new();
        for chunk in chunks {
            events.extend(decoder.feed(chunk));
        }
        let dropped = decoder.finish();
        (events, dropped)
    }

    /// Decodes `input` in every chunking and checks they all agree; returns the result.
    fn decode(input: &str) -> (Vec<Event>, usize) {
        decode_bytes(input.as_bytes())
    }

    fn decode_bytes(input: &[u8]) -> (Vec<Event>, usize) {
        let reference = decode_chunks(&[input.to_vec()]);
        for (how, chunks) in chunkings(input) {
            assert_eq!(decode_chunks(&chunks), reference, "{how}");
        }
        reference
    }

    fn data(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    fn body_stream(chunks: Vec<Vec<u8>>) -> impl Stream<Item = Result<Bytes, reqwest::Error>> {
        futures_util::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c))))
    }

    async fn collect<T: DeserializeOwned>(chunks: Vec<Vec<u8>>) -> Vec<Result<T, Error>> {
        json_event_stream::<T, _>(body_stream(chunks))
            .collect()
            .await
    }

    fn tape_body(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/conformance/tapes")
            .join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let tape: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(tape["response"]["is_sse"], true, "{name}");
        tape["response"]["body_text"].as_str().unwrap().to_owned()
    }

    #[derive(Debug, Deserialize)]
    struct ChatChunk {
        choices: Vec<ChatChoice>,
    }
    #[derive(Debug, Deserialize)]
    struct ChatChoice {
        delta: ChatDelta,
    }
    #[derive(Debug, Deserialize)]
    struct ChatDelta {
        content: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    struct TgiChunk {
        token: TgiToken,
        generated_text: Option<String>,
    }
    #[derive(Debug, Deserialize)]
    struct TgiToken {
        text: String,
        special: bool,
    }

    fn content(chunks: &[ChatChunk]) -> String {
        chunks
            .iter()
            .filter_map(|c| c.choices.first()?.delta.content.clone())
            .collect()
    }

    // -----------------------------------------------------------------------------------------
    // Decoder

    #[test]
    fn line_endings_lf_crlf_cr_and_mixed() {
        for input in [
            "data: a\n\ndata: b\n\n",
            "data: a\r\n\r\ndata: b\r\n\r\n",
            "data: a\r\rdata: b\r\r",
            "data: a\r\n\ndata: b\r\r\n",
        ] {
            let (events, dropped) = decode(input);
            assert_eq!(data(&events), ["a", "b"], "{input:?}");
            assert_eq!(dropped, 0, "{input:?}");
        }
        // `\r` then `\n` in the next push is one terminator, not two (which would dispatch).
        let mut d = SseDecoder::new();
        assert_eq!(d.feed(b"data: a\r").count(), 0);
        assert_eq!(d.feed(b"\ndata: b\r").count(), 0);
        assert_eq!(data(&d.feed(b"\n\r\n").collect::<Vec<_>>()), ["a\nb"]);
    }

    #[test]
    fn field_value_space_handling() {
        let (events, _) = decode("data:x\n\ndata: x\n\ndata:  x\n\ndata\n\ndata:\n\n");
        assert_eq!(data(&events), ["x", "x", " x", "", ""]);
    }

    #[test]
    fn multi_line_data_is_joined_with_lf() {
        let (events, _) = decode("data: YHOO\ndata: +2\ndata: 10\n\n");
        assert_eq!(data(&events), ["YHOO\n+2\n10"]);
        // Spec example: an empty data line contributes an empty line.
        let (events, dropped) = decode("data\n\ndata\ndata\n\ndata:");
        assert_eq!(data(&events), ["", "\n"]);
        assert_eq!(dropped, "data:".len());
    }

    #[test]
    fn comments_and_unknown_fields_are_ignored() {
        let (events, dropped) =
            decode(": keep-alive\n\n:\ndata: 1\n: mid-event comment\nfoo: bar\nData: no\n\n");
        assert_eq!(data(&events), ["1"]);
        assert_eq!(dropped, 0);
    }

    #[test]
    fn event_id_and_retry_fields() {
        let input = "retry: 2500\nevent: add\nid: 7\ndata: a\n\nevent:\ndata: b\n\n\
                     id\ndata: c\n\nid: x\0y\nretry: soon\ndata: d\n\nevent: ping\n\n";
        let (events, _) = decode(input);
        assert_eq!(data(&events), ["a", "b", "c", "d"]);
        assert_eq!(events[0].event.as_deref(), Some("add"));
        assert_eq!(events[0].event_type(), "add");
        assert_eq!(events[0].id.as_deref(), Some("7"));
        // The event type resets after dispatch; an empty `event:` means `message`.
        assert_eq!(events[1].event, None);
        assert_eq!(events[1].event_type(), "message");
        // The id persists until changed; `id` alone resets it; an id with NUL is ignored.
        assert_eq!(events[1].id.as_deref(), Some("7"));
        assert_eq!(events[2].id, None);
        assert_eq!(events[3].id, None);
        // `event: ping` without data dispatches nothing.
        assert_eq!(events.len(), 4);

        let mut d = SseDecoder::new();
        d.feed(b"retry: 2500\n\nretry: 1x\n\n").count();
        assert_eq!(d.retry(), Some(Duration::from_millis(2500)));
    }

    #[test]
    fn bom_is_stripped_once_at_the_start() {
        let (events, _) =
            decode_bytes(b"\xEF\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\ndata: c\n\n");
        // The second BOM is part of a field name, so that line is ignored.
        assert_eq!(data(&events), ["a", "c"]);
        // Something that only starts like a BOM is kept.
        let (events, _) = decode_bytes(b"\xEFdata: a\n\ndata: b\n\n");
        assert_eq!(data(&events), ["b"]);
        // A stream that is only part of a BOM drops it.
        assert_eq!(decode_bytes(b"\xEF\xBB"), (vec![], 2));
    }

    #[test]
    fn utf8_split_anywhere_and_invalid_bytes() {
        let text = "data: héllo 🦀 世界\n\n";
        let (events, _) = decode(text);
        assert_eq!(data(&events), ["héllo 🦀 世界"]);
        let (events, _) = decode_bytes(b"data: a\xFFb\n\n");
        assert_eq!(data(&events), ["a\u{FFFD}b"]);
    }

    #[test]
    fn unterminated_last_event_is_discarded_and_reported() {
        let (events, dropped) = decode("data: a\n\ndata: b");
        assert_eq!(data(&events), ["a"]);
        assert_eq!(dropped, "data: b".len());
        // Complete lines without the blank line: the pending data counts.
        let (events, dropped) = decode("data: a\n\ndata: b\n");
        assert_eq!(data(&events), ["a"]);
        assert_eq!(dropped, "b\n".len());
        // Clean end.
        assert_eq!(decode("data: a\n\n").1, 0);
        assert_eq!(decode("").1, 0);
        // A trailing CR is a complete terminator.
        assert_eq!(data(&decode("data: a\r\r").0), ["a"]);
    }

    #[test]
    fn finish_resets_for_a_new_stream() {
        let mut d = SseDecoder::new();
        d.feed(b"id: 1\ndata: partial").count();
        assert_eq!(d.finish(), "data: partial".len());
        let events: Vec<_> = d.feed(b"data: fresh\n\n").collect();
        assert_eq!(data(&events), ["fresh"]);
        assert_eq!(events[0].id.as_deref(), Some("1"));
    }

    #[test]
    fn events_not_taken_from_feed_stay_queued() {
        let mut d = SseDecoder::new();
        let first = d.feed(b"data: 1\n\ndata: 2\n\n").next().unwrap();
        assert_eq!(first.data, "1");
        assert_eq!(d.next_event().unwrap().data, "2");
        assert_eq!(d.next_event(), None);
    }

    #[test]
    fn long_line_fed_byte_by_byte_is_linear() {
        // 1 MB of data one byte at a time must not rescan the buffer each time.
        let payload = "x".repeat(1 << 20);
        let input = format!("data: {payload}\n\n");
        let mut d = SseDecoder::new();
        let mut events = Vec::new();
        for b in input.as_bytes() {
            d.push(std::slice::from_ref(b));
            events.extend(std::iter::from_fn(|| d.next_event()));
        }
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data.len(), 1 << 20);
    }

    #[test]
    fn real_cerebras_stream_drops_its_unterminated_last_event() {
        let body = tape_body("cerebras__chat-completion__b3cad22ff43c.json");
        let last_line = body.rsplit("\n\n").next().unwrap();
        assert!(last_line.starts_with("data: ") && !body.ends_with('\n'));
        let (events, dropped) = decode(&body);
        assert_eq!(events.len(), 7);
        assert_eq!(dropped, last_line.len());
    }

    // -----------------------------------------------------------------------------------------
    // Typed stream

    #[tokio::test]
    async fn real_cerebras_stream_typed() {
        let body = tape_body("cerebras__chat-completion__b3cad22ff43c.json");
        for (how, chunks) in chunkings(body.as_bytes()) {
            let items: Vec<ChatChunk> = collect::<ChatChunk>(chunks)
                .await
                .into_iter()
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("{how}: {e}"));
            assert_eq!(items.len(), 7, "{how}");
            assert_eq!(content(&items), "This is a test.", "{how}");
        }
    }

    #[tokio::test]
    async fn real_tgi_text_generation_stream_without_done() {
        let body = tape_body("hf-inference__text-generation__3694ddcced22.json");
        assert!(!body.contains("[DONE]"));
        for (how, chunks) in chunkings(body.as_bytes()) {
            let items: Vec<TgiChunk> = collect::<TgiChunk>(chunks)
                .await
                .into_iter()
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("{how}: {e}"));
            let text: String = items
                .iter()
                .filter(|c| !c.token.special)
                .map(|c| c.token.text.as_str())
                .collect();
            assert_eq!(text, "one two three four", "{how}");
            assert_eq!(
                items.last().unwrap().generated_text.as_deref(),
                Some("one two three four")
            );
        }
    }

    #[tokio::test]
    async fn real_chat_streams_with_and_without_space_and_done() {
        // TGI 3 (`data: `, ends with [DONE]) and TGI 2 (`data:`, no [DONE]).
        for name in [
            "hf-inference__chat-completion__34b6121b7652.json",
            "hf-inference__chat-completion__e1218ba647f9.json",
        ] {
            let body = tape_body(name);
            for (how, chunks) in chunkings(body.as_bytes()) {
                let items: Vec<ChatChunk> = collect::<ChatChunk>(chunks)
                    .await
                    .into_iter()
                    .collect::<Result<_, _>>()
                    .unwrap_or_else(|e| panic!("{name} {how}: {e}"));
                assert!(content(&items).contains('2'), "{name} {how}");
            }
        }
    }

    #[tokio::test]
    async fn every_recorded_stream_decodes() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/tapes");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let text = std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../shared/conformance/tapes")
                    .join(&name),
            )
            .unwrap();
            let tape: Value = serde_json::from_str(&text).unwrap();
            if tape["response"]["is_sse"] != true {
                continue;
            }
            seen += 1;
            let body = tape["response"]["body_text"]
                .as_str()
                .unwrap()
                .as_bytes()
                .to_vec();
            let items = collect::<Value>(vec![body]).await;
            assert!(!items.is_empty(), "{name}");
            for item in items {
                item.unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        assert!(seen >= 20, "{seen}");
    }

    #[tokio::test]
    async fn done_ends_the_stream_and_drops_the_body() {
        struct DropFlag<S> {
            inner: S,
            dropped: Arc<AtomicBool>,
        }
        impl<S> Drop for DropFlag<S> {
            fn drop(&mut self) {
                self.dropped.store(true, Ordering::SeqCst);
            }
        }
        impl<S: Stream + Unpin> Stream for DropFlag<S> {
            type Item = S::Item;
            fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
                Pin::new(&mut self.inner).poll_next(cx)
            }
        }

        let dropped = Arc::new(AtomicBool::new(false));
        let body = DropFlag {
            inner: body_stream(vec![
                b"data: {\"n\":1}\n\ndata: [DONE]\n\ndata: {\"n\":2}\n\n".to_vec(),
                b"data: {\"n\":3}\n\n".to_vec(),
            ]),
            dropped: dropped.clone(),
        };
        let mut stream = std::pin::pin!(json_event_stream::<Value, _>(body));
        assert_eq!(stream.next().await.unwrap().unwrap()["n"], 1);
        assert!(!dropped.load(Ordering::SeqCst));
        assert!(stream.next().await.is_none());
        assert!(dropped.load(Ordering::SeqCst), "body dropped at [DONE]");
        assert!(stream.next().await.is_none(), "fused");

        // `data:[DONE]` without the space and with trailing whitespace also ends it.
        for done in [
            "data:[DONE]\n\n",
            "data: [DONE] \n\n",
            "data: [DONE]\r\n\r\n",
        ] {
            let input = format!("data: 1\n\n{done}data: 2\n\n");
            let items = collect::<u32>(vec![input.into_bytes()]).await;
            assert_eq!(items.len(), 1, "{done:?}");
        }
    }

    #[tokio::test]
    async fn skips_comments_and_empty_data() {
        let input = ": ping\n\ndata:\n\ndata: \n\ndata: 1\n\n: ping\n\nevent: ping\n\ndata: 2\n\n";
        for (how, chunks) in chunkings(input.as_bytes()) {
            let items: Vec<u32> = collect::<u32>(chunks)
                .await
                .into_iter()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(items, [1, 2], "{how}");
        }
    }

    fn expect_server_error(item: &Result<Value, Error>) -> (&str, Option<&str>) {
        match item {
            Err(Error::Stream(StreamError::ServerError {
                message,
                error_type,
            })) => (message.as_str(), error_type.as_deref()),
            other => panic!("expected a server error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn error_events_become_errors_and_end_the_stream() {
        // TGI: string error with error_type, after a good chunk.
        let input = "data: {\"n\":1}\n\n\
                     data: {\"error\":\"Input validation error: `inputs` must have less than 4096 tokens\",\"error_type\":\"validation\"}\n\n\
                     data: {\"n\":2}\n\n";
        for (how, chunks) in chunkings(input.as_bytes()) {
            let items = collect::<Value>(chunks).await;
            assert_eq!(items.len(), 2, "{how}");
            assert_eq!(items[0].as_ref().unwrap()["n"], 1);
            let (message, kind) = expect_server_error(&items[1]);
            assert!(message.starts_with("Input validation error"), "{how}");
            assert_eq!(kind, Some("validation"));
        }

        // OpenAI-compatible: error object.
        let input = "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"code\":null}}\n\n";
        let items = collect::<Value>(vec![input.into()]).await;
        assert_eq!(items.len(), 1);
        assert_eq!(
            expect_server_error(&items[0]),
            ("The server had an error", Some("server_error"))
        );

        // TGI overloaded → retryable.
        let input = "data: {\"error\":\"Model is overloaded\",\"error_type\":\"overloaded\"}\n\n";
        let items = collect::<Value>(vec![input.into()]).await;
        assert!(items[0].as_ref().unwrap_err().is_retryable());

        // `event: error` with JSON and with plain text data.
        let input = "event: error\ndata: {\"message\":\"quota exceeded\"}\n\n";
        let items = collect::<Value>(vec![input.into()]).await;
        assert_eq!(expect_server_error(&items[0]), ("quota exceeded", None));
        let input = "event: error\ndata: upstream died\n\n";
        let items = collect::<Value>(vec![input.into()]).await;
        assert_eq!(expect_server_error(&items[0]), ("upstream died", None));

        // A null error is not an error; "error" inside content is not an error either.
        let input = "data: {\"error\":null,\"n\":1}\n\ndata: {\"text\":\"\\\"error\\\"\",\"inner\":{\"error\":\"x\"}}\n\n";
        let items = collect::<Value>(vec![input.into()]).await;
        assert_eq!(items.len(), 2);
        assert!(items.iter().all(Result::is_ok), "{items:?}");
    }

    #[tokio::test]
    async fn decode_failure_yields_decode_error_then_ends() {
        let input = "data: {\"n\":1}\n\ndata: {\"n\": oops}\n\ndata: {\"n\":3}\n\n";
        let items = collect::<Value>(vec![input.into()]).await;
        assert_eq!(items.len(), 2);
        match &items[1] {
            Err(Error::Decode {
                target,
                message,
                body_excerpt,
            }) => {
                assert_eq!(*target, "serde_json::value::Value");
                assert!(message.contains("line 1"), "{message}");
                assert_eq!(body_excerpt, "{\"n\": oops}");
            }
            other => panic!("{other:?}"),
        }
        // Valid JSON of the wrong shape for T.
        let items = collect::<ChatChunk>(vec![b"data: {\"choices\":3}\n\n".to_vec()]).await;
        assert!(
            matches!(&items[0], Err(Error::Decode { target, .. }) if target.ends_with("ChatChunk"))
        );
    }

    #[tokio::test]
    async fn an_event_past_the_cap_is_an_error_but_a_long_stream_is_not() {
        // A line that never ends, sent in 1 KiB pieces: the stream must give up near the cap
        // instead of buffering whatever the server sends.
        let pulled = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = pulled.clone();
        let endless = futures_util::stream::repeat_with(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok::<_, reqwest::Error>(Bytes::from(vec![b'x'; 1024]))
        });
        let mut body = b"data: {\"n\":1}\n\n".to_vec();
        body.extend_from_slice(b"data: ");
        let head = futures_util::stream::iter([Ok::<_, reqwest::Error>(Bytes::from(body))]);
        let capped = json_event_stream(head.chain(endless))
            .max_event_bytes(64 * 1024)
            .collect::<Vec<Result<Value, Error>>>();
        // Without the cap this never ends: fail instead of hanging.
        let items = tokio::time::timeout(Duration::from_secs(10), capped)
            .await
            .expect("the endless event was not cut at the cap");
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items[0].as_ref().unwrap()["n"], 1);
        match &items[1] {
            Err(Error::Stream(StreamError::EventTooLarge { limit })) => {
                assert_eq!(*limit, 64 * 1024)
            }
            other => panic!("{other:?}"),
        }
        assert!(pulled.load(Ordering::SeqCst) <= 65, "read past the cap");

        // Many small events whose total is far above the cap are fine.
        let event = b"data: {\"n\":2}\n\n";
        let chunks: Vec<Vec<u8>> = (0..10_000).map(|_| event.to_vec()).collect();
        let items: Vec<Result<Value, Error>> = json_event_stream(body_stream(chunks))
            .max_event_bytes(1024)
            .collect()
            .await;
        assert_eq!(items.len(), 10_000);
        assert!(items.iter().all(|i| i.as_ref().is_ok_and(|v| v["n"] == 2)));
    }

    #[tokio::test]
    async fn require_done_reports_truncation() {
        let body = tape_body("cerebras__chat-completion__b3cad22ff43c.json");
        let last_len = body.rsplit("\n\n").next().unwrap().len();
        let items: Vec<_> = json_event_stream::<Value, _>(body_stream(vec![body.into_bytes()]))
            .require_done(true)
            .collect()
            .await;
        assert_eq!(items.len(), 8);
        assert!(matches!(
            items[7],
            Err(Error::Stream(StreamError::Truncated { dropped_bytes })) if dropped_bytes == last_len
        ));
        // With [DONE], require_done is satisfied.
        let items: Vec<_> =
            json_event_stream::<u8, _>(body_stream(vec![b"data: 1\n\ndata: [DONE]\n\n".to_vec()]))
                .require_done(true)
                .collect()
                .await;
        assert_eq!(items.len(), 1);
        assert!(items[0].is_ok());
    }

    #[tokio::test]
    async fn connection_lost_mid_stream() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await.unwrap();
            let event = "data: {\"n\":1}\n\ndata: {\"n\"";
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                 transfer-encoding: chunked\r\n\r\n{:x}\r\n{event}\r\n",
                event.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
            socket.flush().await.unwrap();
            // Close without the terminating chunk.
        });
        let response = reqwest::Client::new()
            .get(format!("http://{addr}/stream?token=s3cr3t"))
            .send()
            .await
            .unwrap();
        let items: Vec<_> = json_event_stream::<Value, _>(response.bytes_stream())
            .collect()
            .await;
        server.await.unwrap();
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items[0].as_ref().unwrap()["n"], 1);
        let err = items[1].as_ref().unwrap_err();
        assert!(
            matches!(err, Error::Stream(StreamError::ConnectionLost(_))),
            "{err:?}"
        );
        assert!(err.is_retryable());
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    #[test]
    fn stream_is_send_and_sync() {
        fn assert_send_sync<X: Send + Sync>() {}
        type Body = futures_util::stream::Iter<std::vec::IntoIter<Result<Bytes, reqwest::Error>>>;
        assert_send_sync::<JsonEventStream<Body, std::rc::Rc<u8>>>();
        assert_send_sync::<SseDecoder>();
    }
}
