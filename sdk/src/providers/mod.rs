//! Inference providers: the table of who serves what and how, and the provider-specific code
//! the table cannot express.
//!
//! The table itself is generated from `specs/providers.toml` (see [`Provider::spec`],
//! [`task_spec`] and [`SUPPORT_MATRIX_MARKDOWN`]); [`spec`] defines the types it is made of.

pub(crate) mod adapter;
pub(crate) mod black_forest_labs;
pub(crate) mod deepinfra;
pub(crate) mod fal_ai;
pub(crate) mod hyperbolic;
pub mod jobs;
pub(crate) mod nebius;
pub(crate) mod novita;
pub(crate) mod nscale;
pub(crate) mod replicate;
pub mod spec;
pub(crate) mod together;
pub(crate) mod wavespeed;
pub(crate) mod zai_org;

pub use crate::generated::providers::{
    AUTO_ROUTER_CHAT_ROUTE, Provider, ROUTER_BASE_URL, SUPPORT_MATRIX_MARKDOWN, Task, task_spec,
};
pub use spec::{
    AuthScheme, BodyKind, Host, HttpMethod, JsonSchemaFormat, PayloadStyle, Polling, ProviderSpec,
    ProviderStatus, ResponseStyle, StreamStyle, TaskSpec, UnknownProvider, UnknownTask,
};
