#![no_main]
//! Fuzz target: `hf_inference::fuzzing::provider_answer` on arbitrary bytes (see fuzz/README.md).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hf_inference::fuzzing::provider_answer(data);
});
