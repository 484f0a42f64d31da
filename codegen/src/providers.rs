//! Provider table: parse specs/providers.toml and emit the provider code.
