//! [`FeatureExtractionOutput`]: embeddings of any shape, stored flat.
//!
//! The Hub's schema says "one vector per input" (`[[f32]]`), but real servers also answer one
//! flat vector (sentence-transformers given one string) and token-level hidden states nested
//! three or four levels deep. This type accepts every rectangular nesting, keeps the numbers in
//! one contiguous `Vec<f32>` (no per-row allocation), and records the shape, like the NumPy
//! array the Python client returns.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// An n-dimensional array of `f32` in row-major order.
///
/// ```
/// use hf_inference::types::feature_extraction::FeatureExtractionOutput;
///
/// let out: FeatureExtractionOutput = serde_json::from_str("[[0.5, 1.0], [2.0, 3.0]]").unwrap();
/// assert_eq!(out.shape(), &[2, 2]);
/// assert_eq!(out.rows().nth(1), Some(&[2.0, 3.0][..]));
/// let one: FeatureExtractionOutput = serde_json::from_str("[0.25, 0.75]").unwrap();
/// assert_eq!(one.shape(), &[2]);
/// assert_eq!(serde_json::to_string(&one).unwrap(), "[0.25,0.75]");
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FeatureExtractionOutput {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl FeatureExtractionOutput {
    /// Builds an array from its shape and row-major data; `None` if they do not agree.
    pub fn from_parts(shape: Vec<usize>, data: Vec<f32>) -> Option<Self> {
        (shape.iter().product::<usize>() == data.len() && !shape.is_empty())
            .then_some(Self { shape, data })
    }

    /// The size of each dimension, outermost first (`[inputs, dimensions]` for sentence
    /// embeddings).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Every number, row-major.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// The innermost vectors (one per input for sentence embeddings; one per token for
    /// hidden states). A 1-D array is a single row.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, f32> {
        let width = self.shape.last().copied().unwrap_or(0).max(1);
        self.data.chunks_exact(width)
    }

    /// The numbers and the shape.
    pub fn into_parts(self) -> (Vec<usize>, Vec<f32>) {
        (self.shape, self.data)
    }
}

impl From<Vec<Vec<f32>>> for FeatureExtractionOutput {
    fn from(rows: Vec<Vec<f32>>) -> Self {
        let width = rows.first().map_or(0, Vec::len);
        let shape = vec![rows.len(), width];
        let data = rows.into_iter().flatten().collect();
        Self { shape, data }
    }
}

impl Serialize for FeatureExtractionOutput {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn level<S: Serializer>(
            serializer: S,
            shape: &[usize],
            data: &[f32],
        ) -> Result<S::Ok, S::Error> {
            struct Nested<'a>(&'a [usize], &'a [f32]);
            impl Serialize for Nested<'_> {
                fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    level(s, self.0, self.1)
                }
            }
            let (len, rest) = shape.split_first().map_or((0, &[][..]), |(l, r)| (*l, r));
            let mut seq = serializer.serialize_seq(Some(len))?;
            if rest.is_empty() {
                for x in data {
                    seq.serialize_element(x)?;
                }
            } else {
                let step = rest.iter().product::<usize>();
                for i in 0..len {
                    seq.serialize_element(&Nested(rest, &data[i * step..(i + 1) * step]))?;
                }
            }
            seq.end()
        }
        level(serializer, &self.shape, &self.data)
    }
}

impl<'de> Deserialize<'de> for FeatureExtractionOutput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut builder = Builder::default();
        Element {
            depth: 0,
            builder: &mut builder,
        }
        .deserialize(deserializer)?;
        let levels = builder.leaf_depth.unwrap_or(builder.shape.len());
        let shape = builder.shape[..levels.min(builder.shape.len())]
            .iter()
            .map(|n| n.unwrap_or(0))
            .collect::<Vec<_>>();
        if shape.is_empty() {
            return Err(de::Error::custom(
                "expected an array of numbers, found a number",
            ));
        }
        Ok(FeatureExtractionOutput {
            shape,
            data: builder.data,
        })
    }
}

/// What the decoder has learned so far: the depth at which numbers sit and the length of every
/// level, both fixed by the first occurrence and checked against every other.
#[derive(Default)]
struct Builder {
    leaf_depth: Option<usize>,
    shape: Vec<Option<usize>>,
    data: Vec<f32>,
}

impl Builder {
    fn leaf<E: de::Error>(&mut self, depth: usize, value: f32) -> Result<(), E> {
        match self.leaf_depth {
            None => self.leaf_depth = Some(depth),
            Some(d) if d == depth => {}
            Some(_) => return Err(E::custom("ragged array: numbers at different depths")),
        }
        self.data.push(value);
        Ok(())
    }

    fn close<E: de::Error>(&mut self, depth: usize, len: usize) -> Result<(), E> {
        if self.shape.len() <= depth {
            self.shape.resize(depth + 1, None);
        }
        match self.shape[depth] {
            None => self.shape[depth] = Some(len),
            Some(n) if n == len => {}
            Some(n) => {
                return Err(E::custom(format!(
                    "ragged array: a row at depth {depth} has {len} elements, another {n}"
                )));
            }
        }
        Ok(())
    }
}

/// One element at a given depth: a number (a leaf) or an array (one level deeper).
struct Element<'b> {
    depth: usize,
    builder: &'b mut Builder,
}

impl<'de> DeserializeSeed<'de> for Element<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Element<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a rectangular nested array of numbers")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.builder.leaf(self.depth, v as f32)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.builder.leaf(self.depth, v as f32)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.builder.leaf(self.depth, v as f32)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.builder.leaf_depth.is_some_and(|d| self.depth >= d) {
            return Err(de::Error::custom(
                "ragged array: an array where a number was expected",
            ));
        }
        if self.depth == 0 {
            self.builder.data.reserve(seq.size_hint().unwrap_or(0));
        }
        let mut len = 0;
        while seq
            .next_element_seed(Element {
                depth: self.depth + 1,
                builder: &mut *self.builder,
            })?
            .is_some()
        {
            len += 1;
        }
        self.builder.close(self.depth, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FeatureExtractionOutput, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn every_rectangular_depth_round_trips() {
        for (text, shape) in [
            ("[0.5,1.5]", vec![2]),
            ("[[0.5,1.5],[2.5,3.5],[4.5,5.5]]", vec![3, 2]),
            ("[[[[1.0,2.0,3.0]],[[4.0,5.0,6.0]]]]", vec![1, 2, 1, 3]),
            ("[]", vec![0]),
            ("[[],[]]", vec![2, 0]),
        ] {
            let out = parse(text).unwrap();
            assert_eq!(out.shape(), &shape[..], "{text}");
            let back = serde_json::to_string(&out).unwrap();
            let a: serde_json::Value = serde_json::from_str(text).unwrap();
            let b: serde_json::Value = serde_json::from_str(&back).unwrap();
            assert_eq!(a, b, "{text}");
        }
    }

    #[test]
    fn integers_are_numbers_too() {
        assert_eq!(parse("[[1,2]]").unwrap().as_slice(), &[1.0, 2.0]);
    }

    #[test]
    fn ragged_and_mixed_arrays_are_rejected() {
        assert!(parse("[[1.0,2.0],[3.0]]").is_err());
        assert!(parse("[[1.0],2.0]").is_err());
        assert!(parse("[1.0,[2.0]]").is_err());
        assert!(parse("1.0").is_err());
        assert!(parse(r#"["a"]"#).is_err());
    }

    #[test]
    fn rows_iterate_innermost_vectors() {
        let out = parse("[[[1.0,2.0],[3.0,4.0]]]").unwrap();
        let rows: Vec<&[f32]> = out.rows().collect();
        assert_eq!(rows, vec![&[1.0, 2.0][..], &[3.0, 4.0][..]]);
    }
}
