#![no_main]
//! Fuzz target: `hf_inference::fuzzing::sse` on arbitrary bytes (see fuzz/README.md).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hf_inference::fuzzing::sse(data);
});
