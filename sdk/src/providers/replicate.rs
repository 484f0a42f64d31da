//! Provider-specific wire format of `replicate` (python-client.md §3). Tasks not listed in
//! [`implements`] answer `Error::NotImplemented`.

use serde_json::Value;

use crate::error::Result;
use crate::providers::{Provider, Task};

use super::adapter::{Answer, Call, not_implemented};

/// The tasks this file implements.
pub(crate) fn implements(_task: Task) -> bool {
    false
}

/// The request body.
pub(crate) async fn body(call: &Call<'_>) -> Result<Value> {
    Err(not_implemented(Provider::Replicate, call.task))
}

/// Answers whose shape is the provider's own.
pub(crate) async fn answer(call: &Call<'_>, _last: Value) -> Result<Answer> {
    Err(not_implemented(Provider::Replicate, call.task))
}
