//! hf-inference.
