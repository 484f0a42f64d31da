//! Decoding an embeddings answer while it arrives.
//!
//! An embeddings answer is hundreds of kilobytes of numbers. Decoded only once the last byte is
//! in, the client first waits for the network and then computes; decoded chunk by chunk, the
//! numbers of one chunk are read while the server sends the next, and the body is never
//! gathered into one buffer. The result is the same as
//! [`FeatureExtractionOutput::from_json_slice`] on the whole body: the same number reader, and
//! any shape this reader does not follow (an error, a mixed array, an odd number) is handed to
//! that function with the whole body, which the chunks (shared, not copied) still make up.

use bytes::Bytes;

use super::embedding::{FastParser, FeatureExtractionOutput, MAX_DEPTH};

/// A number cut by a chunk boundary longer than this is not an embedding value: the whole body
/// goes to the careful decoder instead.
const MAX_CARRY: usize = 512;

/// Reads an embeddings answer chunk by chunk ([`feed`](Self::feed)), then gives the output
/// ([`finish`](Self::finish)).
#[derive(Debug, Default)]
pub(crate) struct EmbeddingsReader {
    /// Every chunk so far, for the whole-body decoder if this reader gives up.
    chunks: Vec<Bytes>,
    /// The beginning of a number that the end of the previous chunk cut.
    carry: Vec<u8>,
    /// The open arrays, outermost first.
    stack: Vec<Frame>,
    /// The length of the last array closed at each depth: its next sibling is allocated once.
    hints: Vec<usize>,
    expect: Expect,
    done: Option<FeatureExtractionOutput>,
    /// The body left the shapes this reader follows; `finish` decodes it whole.
    gave_up: bool,
}

#[derive(Debug)]
enum Frame {
    /// Just opened: its first item decides what it holds.
    Open,
    Nested(Vec<FeatureExtractionOutput>),
    Vector(Vec<f32>),
}

#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
enum Expect {
    /// An item (or `]` right after `[`); at the start, the outermost `[`.
    #[default]
    Item,
    /// `,` or `]` after an item.
    Separator,
    /// Nothing but whitespace: the outermost array is closed.
    End,
}

fn is_number_byte(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
}

fn skip_ws(data: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = data.get(pos) {
        pos += 1;
    }
    pos
}

impl EmbeddingsReader {
    /// Reads one more chunk of the body.
    pub(crate) fn feed(&mut self, chunk: Bytes) {
        if !self.gave_up {
            let start = if self.carry.is_empty() {
                0
            } else {
                self.finish_carried_number(&chunk)
            };
            if !self.gave_up && start < chunk.len() {
                self.read(&chunk, start);
            }
        }
        self.chunks.push(chunk);
    }

    /// The decoded answer; for a body it could not follow, the answer of
    /// [`FeatureExtractionOutput::from_json_slice`] on the whole body, which is also returned
    /// with the error.
    pub(crate) fn finish(self) -> Result<FeatureExtractionOutput, (serde_json::Error, Bytes)> {
        if let (false, Some(out), true) = (self.gave_up, self.done, self.carry.is_empty()) {
            return Ok(out);
        }
        let body = match self.chunks.len() {
            1 => self.chunks.into_iter().next().unwrap_or_default(),
            _ => Bytes::from(self.chunks.concat()),
        };
        FeatureExtractionOutput::from_json_slice(&body).map_err(|e| (e, body))
    }

    /// Completes the number carried over from the previous chunk with the first bytes of
    /// `chunk`; returns where reading goes on.
    fn finish_carried_number(&mut self, chunk: &[u8]) -> usize {
        let end = chunk
            .iter()
            .position(|&b| !is_number_byte(b))
            .unwrap_or(chunk.len());
        self.carry.extend_from_slice(&chunk[..end]);
        if self.carry.len() > MAX_CARRY {
            self.gave_up = true;
            return end;
        }
        if end == chunk.len() {
            // Still not ended: wait for the next chunk.
            return end;
        }
        let mut parser = FastParser::new(&self.carry);
        match (parser.number(), &mut self.stack.last_mut()) {
            (Some(value), Some(Frame::Vector(vector))) if parser.at_end() => {
                vector.push(value);
                self.carry.clear();
                self.expect = Expect::Separator;
            }
            _ => self.gave_up = true,
        }
        end
    }

    /// Reads `data` from `pos` to its end (or until the body leaves the expected shapes).
    fn read(&mut self, data: &[u8], mut pos: usize) {
        loop {
            pos = skip_ws(data, pos);
            let Some(&byte) = data.get(pos) else {
                return;
            };
            match (self.expect, byte) {
                (Expect::Item, b'[') => {
                    if self.stack.len() >= MAX_DEPTH {
                        self.gave_up = true;
                        return;
                    }
                    let hint = self.hints.get(self.stack.len()).copied().unwrap_or(0);
                    match self.stack.last_mut() {
                        None => {}
                        Some(parent @ Frame::Open) => {
                            *parent = Frame::Nested(Vec::with_capacity(hint.max(1)));
                        }
                        Some(Frame::Nested(_)) => {}
                        // `[1, [2]]`: mixed levels.
                        Some(Frame::Vector(_)) => {
                            self.gave_up = true;
                            return;
                        }
                    }
                    self.stack.push(Frame::Open);
                    pos += 1;
                }
                (Expect::Item, b']') if matches!(self.stack.last(), Some(Frame::Open)) => {
                    pos += 1;
                    self.close();
                }
                (Expect::Item, b'-' | b'0'..=b'9') => {
                    let depth = self.stack.len();
                    match self.stack.last_mut() {
                        Some(frame @ Frame::Open) => {
                            *frame = Frame::Vector(Vec::with_capacity(
                                self.hints.get(depth).copied().unwrap_or(0).max(16),
                            ));
                        }
                        Some(Frame::Vector(_)) => {}
                        // A number at the top level, or beside arrays.
                        _ => {
                            self.gave_up = true;
                            return;
                        }
                    }
                    let Some(Frame::Vector(vector)) = self.stack.last_mut() else {
                        unreachable!("the frame was made a vector just above");
                    };
                    match read_numbers(data, pos, vector) {
                        Numbers::Closed(next) => {
                            pos = next;
                            self.close();
                        }
                        Numbers::Paused(next, expect) => {
                            pos = next;
                            self.expect = expect;
                        }
                        Numbers::Cut(start) => {
                            self.carry.extend_from_slice(&data[start..]);
                            self.expect = Expect::Separator;
                            return;
                        }
                        Numbers::Unexpected => {
                            self.gave_up = true;
                            return;
                        }
                    }
                }
                (Expect::Separator, b',') if !self.stack.is_empty() => {
                    pos += 1;
                    self.expect = Expect::Item;
                }
                (Expect::Separator, b']') if !self.stack.is_empty() => {
                    pos += 1;
                    self.close();
                }
                // Anything else (a string, `null`, `[1,]`, text after the end) is for the
                // careful decoder to accept or to name.
                _ => {
                    self.gave_up = true;
                    return;
                }
            }
        }
    }

    /// Closes the innermost open array and hands it to its parent.
    fn close(&mut self) {
        let Some(frame) = self.stack.pop() else {
            self.gave_up = true;
            return;
        };
        let item = match frame {
            Frame::Open => FeatureExtractionOutput::Vector(Vec::new()),
            Frame::Nested(items) => FeatureExtractionOutput::Nested(items),
            Frame::Vector(values) => FeatureExtractionOutput::Vector(values),
        };
        let depth = self.stack.len() + 1;
        if self.hints.len() <= depth {
            self.hints.resize(depth + 1, 0);
        }
        self.hints[depth] = match &item {
            FeatureExtractionOutput::Vector(v) => v.len(),
            FeatureExtractionOutput::Nested(v) => v.len(),
        };
        match self.stack.last_mut() {
            None => {
                self.done = Some(item);
                self.expect = Expect::End;
            }
            Some(Frame::Nested(items)) => {
                items.push(item);
                self.expect = Expect::Separator;
            }
            Some(parent @ Frame::Open) => {
                *parent = Frame::Nested(vec![item]);
                self.expect = Expect::Separator;
            }
            // Arrays inside a vector are refused where they open.
            Some(Frame::Vector(_)) => self.gave_up = true,
        }
    }
}

/// How a run of numbers inside one vector ended.
enum Numbers {
    /// At the vector's `]`; reading goes on after it.
    Closed(usize),
    /// At the end of the chunk (or at whitespace before it), with what comes next.
    Paused(usize, Expect),
    /// A number runs to the end of the chunk, from this position: it may go on in the next.
    Cut(usize),
    /// Something this reader does not follow.
    Unexpected,
}

/// The hot loop: the numbers of one vector, from the start of a number at `pos`.
fn read_numbers(data: &[u8], pos: usize, vector: &mut Vec<f32>) -> Numbers {
    let mut parser = FastParser::new(data);
    parser.seek(pos);
    loop {
        let start = parser.position();
        let Some(value) = parser.number() else {
            // Invalid here, unless the number is still arriving.
            return if data[start..].iter().all(|&b| is_number_byte(b)) {
                Numbers::Cut(start)
            } else {
                Numbers::Unexpected
            };
        };
        if parser.at_end() {
            return Numbers::Cut(start);
        }
        vector.push(value);
        match parser.peek() {
            Some(b',') => {
                let next = skip_ws(data, parser.position() + 1);
                match data.get(next) {
                    Some(b'-' | b'0'..=b'9') => parser.seek(next),
                    Some(_) => return Numbers::Unexpected,
                    None => return Numbers::Paused(next, Expect::Item),
                }
            }
            Some(b']') => return Numbers::Closed(parser.position() + 1),
            _ => return Numbers::Paused(parser.position(), Expect::Separator),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::embedding::MALFORMED_EMBEDDINGS;

    /// Reads `body` cut into chunks at `cuts`; also says whether the reader followed it to the
    /// end by itself (without the whole-body decoder).
    fn read_followed(
        body: &[u8],
        cuts: &[usize],
    ) -> (Result<FeatureExtractionOutput, String>, bool) {
        let mut reader = EmbeddingsReader::default();
        let mut start = 0;
        for &cut in cuts.iter().chain([&body.len()]) {
            let cut = cut.clamp(start, body.len());
            reader.feed(Bytes::copy_from_slice(&body[start..cut]));
            start = cut;
        }
        let followed = !reader.gave_up && reader.done.is_some() && reader.carry.is_empty();
        (reader.finish().map_err(|(e, _)| e.to_string()), followed)
    }

    fn read_in_chunks(body: &[u8], cuts: &[usize]) -> Result<FeatureExtractionOutput, String> {
        read_followed(body, cuts).0
    }

    fn whole(body: &[u8]) -> Result<FeatureExtractionOutput, String> {
        FeatureExtractionOutput::from_json_slice(body).map_err(|e| e.to_string())
    }

    #[test]
    fn every_cut_of_small_bodies_gives_the_whole_body_answer() {
        let bodies = [
            "[[0.5,-1.25e-3],[2,3.0]]",
            " [ [0.5 , 1.5] ,\n [2.5,3.5] ] ",
            "[-0.031782318,0.0000012345678,123456789012345678,1.7976931348623157e308]",
            "[[[1.0,2.0]],[[3.0,4.0],[5.0,6.0]]]",
            "[]",
            "[[],[]]",
            "[[], [1]]",
            "[1.5,\n\n2.5 ]",
        ];
        // Malformed or not for this reader: the whole-body decoder's answer and error.
        let others = ["", "[1.5 2.5]"];
        let bodies = bodies.iter().chain(&MALFORMED_EMBEDDINGS).chain(&others);
        for (i, body) in bodies.enumerate() {
            let expected = whole(body.as_bytes());
            for a in 0..=body.len() {
                for b in a..=body.len() {
                    let (got, followed) = read_followed(body.as_bytes(), &[a, b]);
                    assert_eq!(got, expected, "{body:?} cut at {a} and {b}");
                    // The first eight are read here, chunk by chunk, wherever they are cut.
                    assert_eq!(followed, i < 8, "{body:?} cut at {a} and {b}");
                }
            }
        }
    }

    #[test]
    fn a_large_answer_in_uneven_chunks_matches_the_whole_body_decoding() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let rows: Vec<String> = (0..8)
            .map(|_| {
                let values: Vec<String> = (0..300)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let v = ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.12;
                        match x % 3 {
                            0 => format!("{}", v as f32),
                            1 => format!("{v}"),
                            _ => format!("{:e}", v as f32),
                        }
                    })
                    .collect();
                format!("[{}]", values.join(", "))
            })
            .collect();
        let body = format!("[{}]", rows.join(",\n")).into_bytes();
        let expected = whole(&body).unwrap();
        for step in [1, 7, 64, 1000, 4096] {
            let cuts: Vec<usize> = (step..body.len()).step_by(step).collect();
            let (got, followed) = read_followed(&body, &cuts);
            assert_eq!(got.unwrap(), expected, "chunks of {step} bytes");
            assert!(followed, "chunks of {step} bytes");
        }
    }

    #[test]
    fn deep_nesting_goes_to_the_careful_decoder() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let got = read_in_chunks(deep.as_bytes(), &[50, 201]);
        assert_eq!(got, whole(deep.as_bytes()));
        assert!(got.is_err());
    }
}
