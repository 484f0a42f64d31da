//! Test support for the hf-inference workspace tests.
//!
//! - [`tapes`]: load the conformance tapes (`shared/conformance`) and rebuild
//!   the request bodies they expect;
//! - [`replay`]: a loopback HTTP server replaying tapes, one listener per
//!   original host;
//! - [`faults`]: a loopback server that misbehaves on purpose (fault injection);
//! - [`expect`]: evaluate a tape's `test.expected` against a client result;
//! - [`local_llm`]: the real llama-server instances of the local-server tests;
//! - [`mcp_fixtures`]: where the MCP tests find the real MCP servers, and starting them;
//! - [`scripted_model`]: a scripted OpenAI-compatible chat model for the MCP agent tests;
//! - [`support`]: helpers shared by several integration tests (loopback listeners and
//!   clients, preview renderings, JSON comparison, replay verdicts).

pub mod expect;
pub mod faults;
pub mod local_llm;
pub mod mcp_fixtures;
pub mod replay;
pub mod scripted_model;
pub mod support;
pub mod tapes;
