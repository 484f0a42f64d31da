//! [`FeatureExtractionOutput`]: embeddings nested at any depth.
//!
//! The Hub's schema says "one vector per input" (`[[f32]]`), but real servers also answer one
//! flat vector (sentence-transformers given one string) and token-level hidden states nested
//! three or four levels deep, whose token counts differ from input to input (ragged). This type
//! reads all of them without buffering: each level is decoded once, straight into `Vec<f32>`
//! leaves.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A vector of `f32`, or a list of such arrays nested to any depth.
///
/// ```
/// use hf_inference::types::feature_extraction::FeatureExtractionOutput;
///
/// // One vector per input: the usual sentence-embedding answer.
/// let out: FeatureExtractionOutput = serde_json::from_str("[[0.5, 1.0], [2.0, 3.0]]").unwrap();
/// assert_eq!(out.shape(), Some(vec![2, 2]));
/// assert_eq!(out.rows().nth(1), Some(&[2.0, 3.0][..]));
///
/// // One flat vector (a single input to sentence-transformers).
/// let one: FeatureExtractionOutput = serde_json::from_str("[0.25, 0.75]").unwrap();
/// assert_eq!(one.shape(), Some(vec![2]));
///
/// // Token-level hidden states of two inputs of different lengths: ragged, no single shape.
/// let ragged: FeatureExtractionOutput = serde_json::from_str("[[[1, 2]], [[3, 4], [5, 6]]]").unwrap();
/// assert_eq!(ragged.shape(), None);
/// assert_eq!(ragged.rows().count(), 3);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FeatureExtractionOutput {
    /// The innermost level: one vector.
    Vector(Vec<f32>),
    /// A list of arrays one level shallower (per input, per token, …).
    Nested(Vec<FeatureExtractionOutput>),
}

impl FeatureExtractionOutput {
    /// The innermost vectors in order (one per input for sentence embeddings, one per token
    /// for hidden states).
    pub fn rows(&self) -> Rows<'_> {
        Rows { stack: vec![self] }
    }

    /// The size of each level, outermost first, when the array is rectangular.
    pub fn shape(&self) -> Option<Vec<usize>> {
        match self {
            Self::Vector(v) => Some(vec![v.len()]),
            Self::Nested(items) => {
                let mut inner: Option<Vec<usize>> = None;
                for item in items {
                    let shape = item.shape()?;
                    match &inner {
                        None => inner = Some(shape),
                        Some(s) if *s == shape => {}
                        Some(_) => return None,
                    }
                }
                let mut shape = vec![items.len()];
                shape.extend(inner.unwrap_or_default());
                Some(shape)
            }
        }
    }

    /// One vector per input, when the answer has that shape (a list of vectors, or a single
    /// vector for a single input).
    pub fn into_vectors(self) -> Option<Vec<Vec<f32>>> {
        match self {
            Self::Vector(v) => Some(vec![v]),
            Self::Nested(items) => items
                .into_iter()
                .map(|item| match item {
                    Self::Vector(v) => Some(v),
                    Self::Nested(_) => None,
                })
                .collect(),
        }
    }
}

impl FeatureExtractionOutput {
    /// Decodes a JSON answer (UTF-8 bytes) with a parser specialised for arrays of numbers:
    /// the SDK decodes feature-extraction answers with it. The result is the same as through
    /// `serde_json` ([`Deserialize`]); each number is rounded to the nearest `f64` and then to
    /// `f32`. Anything it does not expect (whitespace aside) is handed to `serde_json`, so the
    /// error for a malformed answer is `serde_json`'s own.
    ///
    /// Why a parser of its own: an embeddings answer is tens of thousands of numbers, and
    /// `serde_json`'s generic number path (a visitor call and a float conversion per number)
    /// is several times slower than reading the digits straight into an integer.
    ///
    /// ```
    /// use hf_inference::types::feature_extraction::FeatureExtractionOutput;
    ///
    /// let out = FeatureExtractionOutput::from_json_slice(b"[[0.5, -1.25e-3], [2, 3.0]]").unwrap();
    /// assert_eq!(out.into_vectors(), Some(vec![vec![0.5, -0.00125], vec![2.0, 3.0]]));
    /// assert!(FeatureExtractionOutput::from_json_slice(b"[[0.5], null]").is_err());
    /// ```
    pub fn from_json_slice(json: &[u8]) -> serde_json::Result<Self> {
        let mut parser = FastParser { json, pos: 0 };
        parser.skip_ws();
        match parser.array(0, 0) {
            Some(out) => {
                parser.skip_ws();
                if parser.pos == json.len() {
                    return Ok(out);
                }
                serde_json::from_slice(json)
            }
            None => serde_json::from_slice(json),
        }
    }
}

/// Exact powers of ten in `f64` (10^22 is the largest).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// serde_json's nesting limit: deeper input goes to serde_json, which reports it.
pub(crate) const MAX_DEPTH: usize = 128;

/// The fast path of [`FeatureExtractionOutput::from_json_slice`]: `None` means "not the
/// expected shape here; let serde_json decide".
pub(crate) struct FastParser<'a> {
    json: &'a [u8],
    pos: usize,
}

impl<'a> FastParser<'a> {
    /// A parser at the start of `json`.
    pub(crate) fn new(json: &'a [u8]) -> Self {
        Self { json, pos: 0 }
    }

    pub(crate) fn seek(&mut self, pos: usize) {
        self.pos = pos;
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.json.len()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.json.get(self.pos) {
            self.pos += 1;
        }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.json.get(self.pos).copied()
    }

    /// One array at `self.pos`; `hint` is the length of the previous sibling (rows usually
    /// share a length, so the vector is allocated once).
    fn array(&mut self, depth: usize, hint: usize) -> Option<FeatureExtractionOutput> {
        if depth > MAX_DEPTH || self.peek()? != b'[' {
            return None;
        }
        self.pos += 1;
        self.skip_ws();
        match self.peek()? {
            b']' => {
                self.pos += 1;
                Some(FeatureExtractionOutput::Vector(Vec::new()))
            }
            b'[' => {
                let mut items = Vec::with_capacity(hint.max(1));
                let mut inner_hint = 0;
                loop {
                    let item = self.array(depth + 1, inner_hint)?;
                    inner_hint = match &item {
                        FeatureExtractionOutput::Vector(v) => v.len(),
                        FeatureExtractionOutput::Nested(v) => v.len(),
                    };
                    items.push(item);
                    if self.after_item()? {
                        return Some(FeatureExtractionOutput::Nested(items));
                    }
                }
            }
            _ => {
                let mut vector = Vec::with_capacity(hint.max(16));
                loop {
                    vector.push(self.number()?);
                    if self.after_item()? {
                        return Some(FeatureExtractionOutput::Vector(vector));
                    }
                }
            }
        }
    }

    /// The separator after an array item: `Some(false)` after a `,` (and the whitespace after
    /// it), `Some(true)` after the array's `]`, `None` for anything else.
    #[inline]
    fn after_item(&mut self) -> Option<bool> {
        // The common case first: the separator right after the item, no whitespace to skip.
        if !matches!(self.peek(), Some(b',' | b']')) {
            self.skip_ws();
        }
        match self.peek()? {
            b',' => {
                self.pos += 1;
                self.skip_ws();
                Some(false)
            }
            b']' => {
                self.pos += 1;
                Some(true)
            }
            _ => None,
        }
    }

    /// One JSON number, as the nearest `f64` rounded to `f32`.
    pub(crate) fn number(&mut self) -> Option<f32> {
        if let Some(value) = self.embedding_value() {
            return Some(value);
        }
        self.number_careful()
    }

    /// The shape of nearly every embedding value, away from the end of the body: one integer
    /// digit, then 8 to 14 fraction digits and no exponent (`-0.0123456789`, the shortest `f32`
    /// spelling of a value below 10). About a third fewer instructions than the general reader,
    /// same value (the same exact division). `None` for anything else, which the general reader
    /// then reads (and judges).
    #[inline]
    fn embedding_value(&mut self) -> Option<f32> {
        let start = self.pos;
        // One bounds check for everything below: at most 1 + 2 + 14 bytes, then the next one.
        let bytes: &[u8; 32] = self.json.get(start..start + 32)?.try_into().ok()?;
        let negative = bytes[0] == b'-';
        let int_at = usize::from(negative);
        let integer = bytes[int_at].wrapping_sub(b'0');
        if integer > 9 || bytes[int_at + 1] != b'.' {
            return None;
        }
        let fraction_at = int_at + 2;
        let word = u64::from_le_bytes(bytes[fraction_at..fraction_at + 8].try_into().ok()?);
        if !is_eight_digits(word) {
            return None;
        }
        let mut mantissa = u64::from(integer) * 100_000_000 + eight_digits(word);
        let mut i = fraction_at + 8;
        while i < fraction_at + 14 {
            let digit = bytes[i].wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            mantissa = mantissa * 10 + u64::from(digit);
            i += 1;
        }
        // A fifteenth digit or an exponent: the general reader's case. At most 15 digits, so
        // the mantissa is exact in `f64`, and so is 10^14.
        if matches!(bytes[i], b'0'..=b'9' | b'e' | b'E') {
            return None;
        }
        self.pos = start + i;
        let value = mantissa as f64 / POW10[i - fraction_at];
        Some((if negative { -value } else { value }) as f32)
    }

    /// One JSON number, byte by byte. Up to 19 digits with a small exponent take Clinger's
    /// fast path: the digits and the power of ten are both exact in `f64`, so one division or
    /// multiplication rounds correctly. Anything else goes through the standard library's
    /// parser. Fraction digits are read eight at a time (SWAR).
    fn number_careful(&mut self) -> Option<f32> {
        let json = self.json;
        let start = self.pos;
        let mut i = start;
        let negative = json.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        // Every digit goes into `mantissa`; past 19 it has wrapped, and `digits` says so.
        let mut mantissa: u64 = 0;
        let mut digits = 0usize;
        match json.get(i) {
            Some(b'0') => {
                i += 1;
                digits = 1;
            }
            Some(b'1'..=b'9') => {
                while let Some(&d @ b'0'..=b'9') = json.get(i) {
                    mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                    digits += 1;
                    i += 1;
                }
            }
            _ => return None,
        }
        let mut exponent: i64 = 0;
        if json.get(i) == Some(&b'.') {
            i += 1;
            let first = i;
            while let Some(chunk) = json.get(i..i + 8) {
                let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
                    break;
                };
                let word = u64::from_le_bytes(bytes);
                if !is_eight_digits(word) {
                    break;
                }
                mantissa = mantissa
                    .wrapping_mul(100_000_000)
                    .wrapping_add(eight_digits(word));
                i += 8;
            }
            while let Some(&d @ b'0'..=b'9') = json.get(i) {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                i += 1;
            }
            if i == first {
                return None;
            }
            digits += i - first;
            exponent = -((i - first) as i64);
        }
        if let Some(b'e' | b'E') = json.get(i) {
            i += 1;
            let exp_negative = match json.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let first = i;
            let mut value: i64 = 0;
            while let Some(&d @ b'0'..=b'9') = json.get(i) {
                value = (value * 10 + i64::from(d - b'0')).min(1 << 20);
                i += 1;
            }
            if i == first {
                return None;
            }
            exponent += if exp_negative { -value } else { value };
        }
        self.pos = i;
        let value = if digits <= 19 && mantissa <= 1 << 53 && (-22..=22).contains(&exponent) {
            let m = mantissa as f64;
            if exponent < 0 {
                m / POW10[exponent.unsigned_abs() as usize]
            } else {
                m * POW10[exponent as usize]
            }
        } else {
            std::str::from_utf8(&json[start + usize::from(negative)..i])
                .ok()?
                .parse::<f64>()
                .ok()?
        };
        Some(if negative { -value } else { value } as f32)
    }
}

/// Whether all eight bytes of `word` are ASCII digits.
fn is_eight_digits(word: u64) -> bool {
    let above = word.wrapping_add(0x4646_4646_4646_4646);
    let below = word.wrapping_sub(0x3030_3030_3030_3030);
    (above | below) & 0x8080_8080_8080_8080 == 0
}

/// The value of eight ASCII digits read little-endian (first digit in the lowest byte).
fn eight_digits(word: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 0x000F_4240_0000_0064; // 100 + (1_000_000 << 32)
    const MUL2: u64 = 0x0000_2710_0000_0001; // 1 + (10_000 << 32)
    let mut v = word.wrapping_sub(0x3030_3030_3030_3030);
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    (v & MASK)
        .wrapping_mul(MUL1)
        .wrapping_add(((v >> 16) & MASK).wrapping_mul(MUL2))
        >> 32
}

impl From<Vec<Vec<f32>>> for FeatureExtractionOutput {
    fn from(rows: Vec<Vec<f32>>) -> Self {
        Self::Nested(rows.into_iter().map(Self::Vector).collect())
    }
}

impl From<Vec<f32>> for FeatureExtractionOutput {
    fn from(vector: Vec<f32>) -> Self {
        Self::Vector(vector)
    }
}

/// Iterator over the innermost vectors of a [`FeatureExtractionOutput`], depth first.
#[derive(Debug, Clone)]
pub struct Rows<'a> {
    stack: Vec<&'a FeatureExtractionOutput>,
}

impl<'a> Iterator for Rows<'a> {
    type Item = &'a [f32];

    fn next(&mut self) -> Option<&'a [f32]> {
        while let Some(top) = self.stack.pop() {
            match top {
                FeatureExtractionOutput::Vector(v) => return Some(v),
                FeatureExtractionOutput::Nested(items) => self.stack.extend(items.iter().rev()),
            }
        }
        None
    }
}

impl<'de> Deserialize<'de> for FeatureExtractionOutput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(ArrayVisitor)
    }
}

/// Reads one array: its first element decides whether it is a vector (numbers) or a list of
/// arrays; every other element must be of the same kind.
struct ArrayVisitor;

impl<'de> Visitor<'de> for ArrayVisitor {
    type Value = FeatureExtractionOutput;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of numbers, or of such arrays")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let Some(first) = seq.next_element_seed(ElementSeed)? else {
            return Ok(FeatureExtractionOutput::Vector(Vec::new()));
        };
        let hint = seq.size_hint().unwrap_or(0) + 1;
        match first {
            Element::Number(x) => {
                let mut vector = Vec::with_capacity(hint);
                vector.push(x);
                while let Some(x) = seq.next_element::<f32>()? {
                    vector.push(x);
                }
                Ok(FeatureExtractionOutput::Vector(vector))
            }
            Element::Array(inner) => {
                let mut items = Vec::with_capacity(hint);
                items.push(inner);
                while let Some(inner) = seq.next_element::<FeatureExtractionOutput>()? {
                    items.push(inner);
                }
                Ok(FeatureExtractionOutput::Nested(items))
            }
        }
    }
}

enum Element {
    Number(f32),
    Array(FeatureExtractionOutput),
}

struct ElementSeed;

impl<'de> DeserializeSeed<'de> for ElementSeed {
    type Value = Element;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Element, D::Error> {
        deserializer.deserialize_any(ElementVisitor)
    }
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or an array")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Element, E> {
        Ok(Element::Number(v as f32))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Element, E> {
        Ok(Element::Number(v as f32))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Element, E> {
        Ok(Element::Number(v as f32))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Element, A::Error> {
        ArrayVisitor.visit_seq(seq).map(Element::Array)
    }
}

/// Bodies that are not an embeddings answer, each in its own way: every decoder of one must
/// answer them with serde_json's error.
#[cfg(test)]
pub(crate) const MALFORMED_EMBEDDINGS: [&str; 12] = [
    "[[1.0],2.0]",
    "[1.0,[2.0]]",
    "1.0",
    r#"["a"]"#,
    "[1.0,]",
    "[1.0",
    "[1.0] x",
    "[01]",
    "[1.]",
    "[1e]",
    "[-]",
    "[[0.5], null]",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FeatureExtractionOutput, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn every_depth_round_trips() {
        for (text, shape) in [
            ("[0.5,1.5]", Some(vec![2])),
            ("[[0.5,1.5],[2.5,3.5],[4.5,5.5]]", Some(vec![3, 2])),
            (
                "[[[[1.0,2.0,3.0]],[[4.0,5.0,6.0]]]]",
                Some(vec![1, 2, 1, 3]),
            ),
            ("[[[1.0,2.0]],[[3.0,4.0],[5.0,6.0]]]", None),
            ("[]", Some(vec![0])),
        ] {
            let out = parse(text).unwrap();
            assert_eq!(out.shape(), shape, "{text}");
            let a: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_value(&out).unwrap(), a, "{text}");
        }
    }

    #[test]
    fn integers_are_numbers_too() {
        let out = parse("[[1,2]]").unwrap();
        assert_eq!(out.into_vectors(), Some(vec![vec![1.0, 2.0]]));
    }

    #[test]
    fn mixed_levels_and_non_numbers_are_rejected() {
        assert!(parse("[[1.0],2.0]").is_err());
        assert!(parse("[1.0,[2.0]]").is_err());
        assert!(parse("1.0").is_err());
        assert!(parse(r#"["a"]"#).is_err());
    }

    /// The fast parser agrees with serde_json's shape rules and with the standard library's
    /// rounding (`str::parse::<f64>` then `as f32`) on every kind of number.
    /// `text` as the first of many numbers, far from the end of the body.
    fn padded(text: &str) -> String {
        format!("[{text}{}]", ",0.5".repeat(16))
    }

    #[test]
    fn every_digit_count_reads_as_the_standard_parser_does() {
        // 1 to 3 integer digits and 0 to 17 fraction digits, each sign: both sides of every
        // boundary of the embedding-value path (one integer digit; 8 and 14 fraction digits).
        let digits = "98765432109876543210";
        for sign in ["", "-"] {
            for int in ["0", "7", "12", "345"] {
                for fraction in 0..=17 {
                    let text = match fraction {
                        0 => format!("{sign}{int}"),
                        _ => format!("{sign}{int}.{}", &digits[3..3 + fraction]),
                    };
                    for body in [
                        padded(&text),
                        format!("{}e-3", padded(&text)),
                        padded(&format!("{text}e-3")),
                    ] {
                        let fast = FeatureExtractionOutput::from_json_slice(body.as_bytes());
                        let reference = parse(&body);
                        match (fast, reference) {
                            (Ok(fast), Ok(reference)) => {
                                let (fast, reference) = (
                                    fast.into_vectors().unwrap(),
                                    reference.into_vectors().unwrap(),
                                );
                                let bits = |v: &Vec<Vec<f32>>| {
                                    v[0].iter().map(|x| x.to_bits()).collect::<Vec<_>>()
                                };
                                assert_eq!(bits(&fast), bits(&reference), "{body}");
                                assert_eq!(fast[0].len(), 17, "{body}");
                            }
                            (Err(fast), Err(reference)) => {
                                assert_eq!(fast.to_string(), reference.to_string(), "{body}")
                            }
                            (fast, reference) => panic!("{body}: {fast:?} / {reference:?}"),
                        }
                    }
                }
            }
        }
        // Malformed numbers far from the end fail exactly as serde_json says.
        for bad in [
            "01",
            "-01",
            "00.5",
            "1.",
            "-",
            "-.5",
            ".5",
            "+1",
            "1e",
            "1.e5",
            "1..2",
            "1.5.5",
            "0x1",
            "1-2",
            "0.12345678.",
            "0.5e",
            "--1",
            "1.5-",
            "0.123456789012345678901",
        ] {
            let body = padded(bad);
            let fast = FeatureExtractionOutput::from_json_slice(body.as_bytes());
            let reference = parse(&body);
            match (fast, reference) {
                (Err(fast), Err(reference)) => {
                    assert_eq!(fast.to_string(), reference.to_string(), "{bad}")
                }
                (Ok(fast), Ok(reference)) => assert_eq!(fast, reference, "{bad}"),
                (fast, reference) => panic!("{bad}: {fast:?} / {reference:?}"),
            }
        }
    }

    #[test]
    fn fast_parser_matches_the_reference_decoding() {
        let numbers = [
            "0",
            "-0",
            "1",
            "-1",
            "0.5",
            "-0.031782318",
            "0.0000012345678",
            "123456789012345678",
            "1.7976931348623157e308",
            "1e-45",
            "2.5E+3",
            "-7.25e-2",
            "0.1000000000000000055511151231257827",
            "9007199254740993",
            "12345678901234567890123",
            "3.4028235e38",
            "1e39",
            "4.9e-324",
            "0.30000000000000004",
            "100000000000000000000000",
            "8.5e-5",
        ];
        for n in numbers {
            let expected = n.parse::<f64>().unwrap() as f32;
            // Alone (the general reader, near the end) and followed by more numbers.
            for body in [format!("[{n}]"), padded(n)] {
                let out = FeatureExtractionOutput::from_json_slice(body.as_bytes()).unwrap();
                let got = out.into_vectors().unwrap()[0][0];
                assert_eq!(got.to_bits(), expected.to_bits(), "{body}");
            }
        }
        // A pseudo-random sweep of the shapes servers write (shortest f32 and f64 spellings).
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = f64::from_bits(x >> 2) % 3.0 - 1.5;
            for text in [
                format!("{}", f as f32),
                format!("{f}"),
                format!("{:e}", f as f32),
            ] {
                let expected = text.parse::<f64>().unwrap() as f32;
                for body in [format!("[{text}]"), padded(&text)] {
                    let out = FeatureExtractionOutput::from_json_slice(body.as_bytes());
                    let got = out.unwrap().into_vectors().unwrap()[0][0];
                    assert_eq!(got.to_bits(), expected.to_bits(), "{body}");
                }
            }
        }
    }

    #[test]
    fn fast_parser_gives_serde_json_shapes_and_errors() {
        for text in [
            "[0.5,1.5]",
            " [ [0.5 , 1.5] ,\n [2.5,3.5] ] ",
            "[[[[1.0,2.0,3.0]],[[4.0,5.0,6.0]]]]",
            "[[[1.0,2.0]],[[3.0,4.0],[5.0,6.0]]]",
            "[]",
            "[[],[]]",
            "[[1,2]]",
        ] {
            let fast = FeatureExtractionOutput::from_json_slice(text.as_bytes()).unwrap();
            assert_eq!(fast, parse(text).unwrap(), "{text}");
        }
        for bad in MALFORMED_EMBEDDINGS {
            let fast = FeatureExtractionOutput::from_json_slice(bad.as_bytes());
            let reference = parse(bad);
            assert!(fast.is_err(), "{bad}");
            assert_eq!(
                fast.unwrap_err().to_string(),
                reference.unwrap_err().to_string(),
                "{bad}"
            );
        }
        // Deeper than serde_json's limit: serde_json's error.
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert!(FeatureExtractionOutput::from_json_slice(deep.as_bytes()).is_err());
    }

    #[test]
    fn rows_iterate_innermost_vectors_in_order() {
        let out = parse("[[[1.0,2.0],[3.0,4.0]],[[5.0,6.0]]]").unwrap();
        let rows: Vec<&[f32]> = out.rows().collect();
        assert_eq!(
            rows,
            vec![&[1.0, 2.0][..], &[3.0, 4.0][..], &[5.0, 6.0][..]]
        );
    }
}
