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
