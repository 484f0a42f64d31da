//! Test support for the hf-inference workspace tests.
