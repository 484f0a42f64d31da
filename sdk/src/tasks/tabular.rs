//! `tabular_classification` and `tabular_regression`: one prediction per row of a table.
//!
//! These tasks have no JSON schema upstream, so their methods and types
//! ([`types::tabular`](crate::types::tabular)) are hand-written on the generic engine. The body
//! is `{"inputs": {"data": {column: [cell, …]}}}`, the shape of the Hub's JavaScript client and
//! of the conformance recordings (the Python reference 2.4.0 sends `{"parameters": {}, "table":
//! …}` instead; see the tabular entries of `specs/providers.toml`).
//!
//! Who serves them: hf-inference serves `tabular-classification`; no provider serves
//! `tabular-regression` (the Python reference registers no helper for it either), so a call on a
//! provider fails with [`Error::ProviderNotSupported`](crate::Error::ProviderNotSupported)
//! before anything is sent. Both work on a URL model (an Inference Endpoint or a local server),
//! which gets the same body.
//!
//! ```no_run
//! use hf_inference::InferenceClient;
//! use hf_inference::types::tabular::TabularData;
//!
//! # async fn demo() -> hf_inference::Result<()> {
//! let client = InferenceClient::builder().token("hf_xxx").build()?;
//! let wines = TabularData::new()
//!     .column("fixed_acidity", ["7.4", "7.8", "10.3"])
//!     .column("alcohol", ["9.4", "9.8", "12.6"]);
//! let quality = client
//!     .tabular_classification(wines)
//!     .model("vvmnnnkv/wine-quality")
//!     .send()
//!     .await?;
//! for label in quality.iter() {
//!     println!("{label}");
//! }
//! # Ok(())
//! # }
//! ```

use crate::client::InferenceClient;
use crate::providers::Task;
use crate::tasks::generic::TaskRequest;
use crate::types::tabular::{
    TabularClassificationInput, TabularClassificationOutput, TabularData, TabularRegressionInput,
    TabularRegressionOutput,
};

/// A `tabular-classification` call being built (see [`InferenceClient::tabular_classification`]).
///
/// ```
/// use hf_inference::InferenceClient;
/// use hf_inference::tasks::tabular::TabularClassificationRequest;
/// use hf_inference::types::tabular::TabularData;
///
/// let client = InferenceClient::builder().build()?;
/// let table: TabularData = [("alcohol", ["9.4"])].into_iter().collect();
/// let request: TabularClassificationRequest<'_> = client.tabular_classification(table);
/// assert_eq!(request.input().inputs.rows(), Some(1));
/// # Ok::<(), hf_inference::Error>(())
/// ```
pub type TabularClassificationRequest<'c> =
    TaskRequest<'c, TabularClassificationInput, TabularClassificationOutput>;

/// A `tabular-regression` call being built (see [`InferenceClient::tabular_regression`]).
///
/// ```
/// use hf_inference::InferenceClient;
/// use hf_inference::tasks::tabular::TabularRegressionRequest;
/// use hf_inference::types::tabular::TabularData;
///
/// let client = InferenceClient::builder().build()?;
/// let request: TabularRegressionRequest<'_> =
///     client.tabular_regression(TabularData::new().column("Height", ["11.52", "12.48"]));
/// assert_eq!(request.input().inputs.rows(), Some(2));
/// # Ok::<(), hf_inference::Error>(())
/// ```
pub type TabularRegressionRequest<'c> =
    TaskRequest<'c, TabularRegressionInput, TabularRegressionOutput>;

impl InferenceClient {
    /// Runs the `tabular-classification` task: one class label per row of `table` (text or
    /// numbers, as the model's classes are). Set the model (a Hub id or an endpoint URL), then
    /// `send()`.
    ///
    /// Served by hf-inference. The body is `{"inputs": {"data": table}}`, on hf-inference as on
    /// a URL model:
    ///
    /// ```
    /// use hf_inference::InferenceClient;
    /// use hf_inference::types::tabular::TabularData;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> hf_inference::Result<()> {
    /// let client = InferenceClient::builder().token("hf_xxx").build()?;
    /// let endpoint = "https://wine-quality.endpoints.huggingface.cloud";
    /// let request = client
    ///     .tabular_classification(TabularData::new().column("alcohol", ["9.4", "12.6"]))
    ///     .model(endpoint);
    /// // What `request.send().await?` would send (nothing is sent here):
    /// let preview = request.preview().await?;
    /// assert_eq!(preview.url, format!("{endpoint}/"));
    /// assert_eq!(
    ///     preview.body_json().unwrap(),
    ///     serde_json::json!({"inputs": {"data": {"alcohol": ["9.4", "12.6"]}}})
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn tabular_classification(
        &self,
        table: impl Into<TabularData>,
    ) -> TabularClassificationRequest<'_> {
        TaskRequest::new(
            self,
            Task::TabularClassification,
            TabularClassificationInput::new(table),
        )
    }

    /// Runs the `tabular-regression` task: one predicted number per row of `table`. Set the
    /// model, then `send()`.
    ///
    /// No provider serves this task (python-client.md §1.3: the reference's method always
    /// fails), so on a provider the call fails with
    /// [`Error::ProviderNotSupported`](crate::Error::ProviderNotSupported) before anything is
    /// sent; on a URL model (an Inference Endpoint running a regression model, a local server)
    /// it sends `{"inputs": {"data": table}}` to the URL.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularData;
    /// use hf_inference::{Error, InferenceClient, Provider};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> hf_inference::Result<()> {
    /// let client = InferenceClient::builder().token("hf_xxx").build()?;
    /// let fish = TabularData::new().column("Height", ["11.52"]).column("Width", ["4.02"]);
    ///
    /// let refused = client
    ///     .tabular_regression(fish.clone())
    ///     .model("scikit-learn/Fish-Weight")
    ///     .provider(Provider::HfInference)
    ///     .send()
    ///     .await;
    /// assert!(matches!(
    ///     refused,
    ///     Err(Error::ProviderNotSupported { ref supported, .. }) if supported.is_empty()
    /// ));
    ///
    /// let endpoint = "https://fish.endpoints.huggingface.cloud";
    /// let preview = client.tabular_regression(fish).model(endpoint).preview().await?;
    /// assert_eq!(preview.url, format!("{endpoint}/"));
    /// assert_eq!(
    ///     preview.body_json().unwrap(),
    ///     serde_json::json!({"inputs": {"data": {"Height": ["11.52"], "Width": ["4.02"]}}})
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn tabular_regression(
        &self,
        table: impl Into<TabularData>,
    ) -> TabularRegressionRequest<'_> {
        TaskRequest::new(
            self,
            Task::TabularRegression,
            TabularRegressionInput::new(table),
        )
    }
}
