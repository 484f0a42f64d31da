//! Code generator for hf-inference.
