//! Types of the `tabular-classification` and `tabular-regression` tasks:
//! [`TabularClassificationInput`], [`TabularClassificationOutput`], [`TabularRegressionInput`],
//! [`TabularRegressionOutput`], and the table they share, [`TabularData`].
//!
//! Hand-written: `@huggingface/tasks` has no JSON schema for these tasks. The shapes are those
//! of the Hub's JavaScript client and of the hf-inference API: the body is
//! `{"inputs": {"data": {column: [cell, …], …}}}` (one row per index of the columns), and the
//! answer is one value per row: a class label (classification) or a number (regression).
//!
//! ```
//! use hf_inference::types::tabular::{TabularClassificationInput, TabularData};
//!
//! let table = TabularData::new()
//!     .column("fixed_acidity", ["7.4", "7.8"])
//!     .column("alcohol", ["9.4", "9.8"]);
//! assert_eq!(table.rows(), Some(2));
//! assert_eq!(
//!     serde_json::to_string(&TabularClassificationInput::new(table)).unwrap(),
//!     r#"{"inputs":{"data":{"fixed_acidity":["7.4","7.8"],"alcohol":["9.4","9.8"]}}}"#
//! );
//! ```

use std::fmt;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A table: column name → one cell per row, every cell as text (as the Hub widgets and the
/// JavaScript client send them; the server parses numbers). Columns keep their insertion order.
///
/// ```
/// use hf_inference::types::tabular::TabularData;
///
/// // From an iterator of (column, cells) pairs…
/// let table: TabularData = [("Height", ["11.52", "12.48"]), ("Width", ["4.02", "4.3056"])]
///     .into_iter()
///     .collect();
/// // …or column by column.
/// let same = TabularData::new()
///     .column("Height", ["11.52", "12.48"])
///     .column("Width", ["4.02", "4.3056"]);
/// assert_eq!(table, same);
/// assert_eq!(table.data["Width"][1], "4.3056");
/// ```
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct TabularData {
    /// The columns, by name; every column holds one cell per row.
    pub data: IndexMap<String, Vec<String>>,
}

impl TabularData {
    /// An empty table (add columns with [`column`](Self::column)).
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularData;
    /// assert!(TabularData::new().data.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The table with the column `name` set to `cells` (replacing a column of that name, in
    /// its place).
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularData;
    /// let table = TabularData::new().column("pH", ["3.51", "3.2"]).column("pH", ["3.3", "3.4"]);
    /// assert_eq!(table.data["pH"], ["3.3", "3.4"]);
    /// ```
    pub fn column(
        mut self,
        name: impl Into<String>,
        cells: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.data
            .insert(name.into(), cells.into_iter().map(Into::into).collect());
        self
    }

    /// The number of rows: the length of the columns when they all have the same, `None` when
    /// they differ (or there is no column).
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularData;
    /// assert_eq!(TabularData::new().column("a", ["1", "2"]).rows(), Some(2));
    /// assert_eq!(TabularData::new().column("a", ["1"]).column("b", ["1", "2"]).rows(), None);
    /// assert_eq!(TabularData::new().rows(), None);
    /// ```
    pub fn rows(&self) -> Option<usize> {
        let mut lengths = self.data.values().map(Vec::len);
        let first = lengths.next()?;
        lengths.all(|n| n == first).then_some(first)
    }
}

impl From<IndexMap<String, Vec<String>>> for TabularData {
    /// The columns as they are.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularData;
    /// let mut columns = indexmap::IndexMap::new();
    /// columns.insert("Species".to_owned(), vec!["Bream".to_owned()]);
    /// assert_eq!(TabularData::from(columns).rows(), Some(1));
    /// ```
    fn from(data: IndexMap<String, Vec<String>>) -> Self {
        Self { data }
    }
}

impl<K, C> FromIterator<(K, C)> for TabularData
where
    K: Into<String>,
    C: IntoIterator,
    C::Item: Into<String>,
{
    /// (column, cells) pairs, in order; a repeated column name replaces the earlier cells.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularData;
    /// let table: TabularData = vec![("a", vec!["1"]), ("b", vec!["2"])].into_iter().collect();
    /// assert_eq!(table.data.keys().collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    fn from_iter<T: IntoIterator<Item = (K, C)>>(columns: T) -> Self {
        columns
            .into_iter()
            .fold(Self::new(), |table, (name, cells)| {
                table.column(name, cells)
            })
    }
}

// ---------------------------------------------------------------------------------------------
// tabular-classification

/// Inputs of the `tabular-classification` task: the table whose rows to classify.
///
/// ```
/// use hf_inference::types::tabular::{TabularClassificationInput, TabularData};
///
/// let input = TabularClassificationInput::new(TabularData::new().column("alcohol", ["12.6"]));
/// assert_eq!(
///     serde_json::to_value(&input).unwrap(),
///     serde_json::json!({"inputs": {"data": {"alcohol": ["12.6"]}}})
/// );
/// ```
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct TabularClassificationInput {
    /// The table.
    pub inputs: TabularData,
}

impl TabularClassificationInput {
    /// The input for `table`.
    ///
    /// ```
    /// use hf_inference::types::tabular::{TabularClassificationInput, TabularData};
    /// let input = TabularClassificationInput::new(TabularData::new().column("a", ["1"]));
    /// assert_eq!(input.inputs.rows(), Some(1));
    /// ```
    pub fn new(table: impl Into<TabularData>) -> Self {
        Self {
            inputs: table.into(),
        }
    }
}

/// The class of one row, as the model's classes are: text (`"good"`), a number (`5`, as the
/// wine-quality models answer), or a boolean. Written back exactly as served.
///
/// ```
/// use hf_inference::types::tabular::TabularClassificationLabel;
///
/// let labels: Vec<TabularClassificationLabel> =
///     serde_json::from_str(r#"[5, "setosa", 0.5, true]"#).unwrap();
/// assert_eq!(labels[0].as_i64(), Some(5));
/// assert_eq!(labels[1].as_str(), Some("setosa"));
/// assert_eq!(labels[2].as_f64(), Some(0.5));
/// let shown: Vec<String> = labels.iter().map(ToString::to_string).collect();
/// assert_eq!(shown, ["5", "setosa", "0.5", "true"]);
/// assert_eq!(serde_json::to_string(&labels).unwrap(), r#"[5,"setosa",0.5,true]"#);
/// ```
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq, Hash)]
#[serde(untagged)]
pub enum TabularClassificationLabel {
    /// A numeric class (integer or not, as served).
    Number(serde_json::Number),
    /// A named class.
    Text(String),
    /// A boolean class.
    Bool(bool),
}

impl TabularClassificationLabel {
    /// The class name, for a text label.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularClassificationLabel;
    /// assert_eq!(TabularClassificationLabel::from("good").as_str(), Some("good"));
    /// assert_eq!(TabularClassificationLabel::from(5).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The class as an integer, for an integer label.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularClassificationLabel;
    /// assert_eq!(TabularClassificationLabel::from(7).as_i64(), Some(7));
    /// assert_eq!(TabularClassificationLabel::from("7").as_i64(), None);
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The class as a number, for a numeric label.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularClassificationLabel;
    /// assert_eq!(TabularClassificationLabel::from(7).as_f64(), Some(7.0));
    /// assert_eq!(TabularClassificationLabel::from(true).as_f64(), None);
    /// ```
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(n) => n.as_f64(),
            _ => None,
        }
    }
}

impl fmt::Display for TabularClassificationLabel {
    /// Text as is; a number or a boolean as JSON writes it.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularClassificationLabel;
    /// assert_eq!(TabularClassificationLabel::from("good").to_string(), "good");
    /// assert_eq!(TabularClassificationLabel::from(5).to_string(), "5");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => fmt::Display::fmt(n, f),
            Self::Text(text) => f.write_str(text),
            Self::Bool(b) => fmt::Display::fmt(b, f),
        }
    }
}

impl From<&str> for TabularClassificationLabel {
    /// A text label.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularClassificationLabel;
    /// assert_eq!(TabularClassificationLabel::from("a"), TabularClassificationLabel::Text("a".into()));
    /// ```
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for TabularClassificationLabel {
    /// A text label.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularClassificationLabel;
    /// assert_eq!(TabularClassificationLabel::from(String::from("a")).as_str(), Some("a"));
    /// ```
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<i64> for TabularClassificationLabel {
    /// An integer label.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularClassificationLabel;
    /// assert_eq!(TabularClassificationLabel::from(-1).as_i64(), Some(-1));
    /// ```
    fn from(n: i64) -> Self {
        Self::Number(n.into())
    }
}

impl From<bool> for TabularClassificationLabel {
    /// A boolean label.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularClassificationLabel;
    /// assert_eq!(TabularClassificationLabel::from(true).to_string(), "true");
    /// ```
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

/// Outputs of the `tabular-classification` task: one label per row of the table, in row order.
///
/// ```
/// use hf_inference::types::tabular::TabularClassificationOutput;
///
/// let out: TabularClassificationOutput = serde_json::from_str("[5, 5, 7]").unwrap();
/// assert_eq!(out.len(), 3);
/// assert_eq!(out[2].as_i64(), Some(7));
/// ```
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(transparent)]
pub struct TabularClassificationOutput(pub Vec<TabularClassificationLabel>);

impl std::ops::Deref for TabularClassificationOutput {
    type Target = Vec<TabularClassificationLabel>;

    /// The labels.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularClassificationOutput;
    /// let out = TabularClassificationOutput(vec!["a".into()]);
    /// assert_eq!(out.first().and_then(|l| l.as_str()), Some("a"));
    /// ```
    fn deref(&self) -> &Vec<TabularClassificationLabel> {
        &self.0
    }
}

impl From<TabularClassificationOutput> for Vec<TabularClassificationLabel> {
    /// The labels, without a copy.
    ///
    /// ```
    /// use hf_inference::types::tabular::{TabularClassificationLabel, TabularClassificationOutput};
    /// let labels: Vec<TabularClassificationLabel> =
    ///     TabularClassificationOutput(vec![5.into()]).into();
    /// assert_eq!(labels.len(), 1);
    /// ```
    fn from(value: TabularClassificationOutput) -> Self {
        value.0
    }
}

impl From<Vec<TabularClassificationLabel>> for TabularClassificationOutput {
    /// The labels as an output.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularClassificationOutput;
    /// let out = TabularClassificationOutput::from(vec![true.into()]);
    /// assert_eq!(out.len(), 1);
    /// ```
    fn from(value: Vec<TabularClassificationLabel>) -> Self {
        Self(value)
    }
}

impl IntoIterator for TabularClassificationOutput {
    type Item = TabularClassificationLabel;
    type IntoIter = std::vec::IntoIter<TabularClassificationLabel>;

    /// The labels, in row order.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularClassificationOutput;
    /// let out = TabularClassificationOutput(vec![5.into(), 7.into()]);
    /// let classes: Vec<i64> = out.into_iter().filter_map(|l| l.as_i64()).collect();
    /// assert_eq!(classes, [5, 7]);
    /// ```
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

// ---------------------------------------------------------------------------------------------
// tabular-regression

/// Inputs of the `tabular-regression` task: the table whose rows to predict a number for.
///
/// ```
/// use hf_inference::types::tabular::{TabularData, TabularRegressionInput};
///
/// let input = TabularRegressionInput::new(TabularData::new().column("Height", ["11.52"]));
/// assert_eq!(
///     serde_json::to_value(&input).unwrap(),
///     serde_json::json!({"inputs": {"data": {"Height": ["11.52"]}}})
/// );
/// ```
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct TabularRegressionInput {
    /// The table.
    pub inputs: TabularData,
}

impl TabularRegressionInput {
    /// The input for `table`.
    ///
    /// ```
    /// use hf_inference::types::tabular::{TabularData, TabularRegressionInput};
    /// let input = TabularRegressionInput::new(TabularData::new().column("a", ["1", "2"]));
    /// assert_eq!(input.inputs.rows(), Some(2));
    /// ```
    pub fn new(table: impl Into<TabularData>) -> Self {
        Self {
            inputs: table.into(),
        }
    }
}

/// Outputs of the `tabular-regression` task: one predicted value per row, in row order.
///
/// ```
/// use hf_inference::types::tabular::TabularRegressionOutput;
///
/// let out: TabularRegressionOutput = serde_json::from_str("[270.5473526976245, 313]").unwrap();
/// assert_eq!(*out, [270.5473526976245, 313.0]);
/// ```
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[serde(transparent)]
pub struct TabularRegressionOutput(pub Vec<f64>);

impl std::ops::Deref for TabularRegressionOutput {
    type Target = Vec<f64>;

    /// The values.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularRegressionOutput;
    /// assert_eq!(TabularRegressionOutput(vec![1.5]).iter().sum::<f64>(), 1.5);
    /// ```
    fn deref(&self) -> &Vec<f64> {
        &self.0
    }
}

impl From<TabularRegressionOutput> for Vec<f64> {
    /// The values, without a copy.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularRegressionOutput;
    /// let values: Vec<f64> = TabularRegressionOutput(vec![1.5]).into();
    /// assert_eq!(values, [1.5]);
    /// ```
    fn from(value: TabularRegressionOutput) -> Self {
        value.0
    }
}

impl From<Vec<f64>> for TabularRegressionOutput {
    /// The values as an output.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularRegressionOutput;
    /// assert_eq!(TabularRegressionOutput::from(vec![2.0]).len(), 1);
    /// ```
    fn from(value: Vec<f64>) -> Self {
        Self(value)
    }
}

impl IntoIterator for TabularRegressionOutput {
    type Item = f64;
    type IntoIter = std::vec::IntoIter<f64>;

    /// The values, in row order.
    ///
    /// ```
    /// use hf_inference::types::tabular::TabularRegressionOutput;
    /// let doubled: Vec<f64> = TabularRegressionOutput(vec![1.5]).into_iter().map(|v| v * 2.0).collect();
    /// assert_eq!(doubled, [3.0]);
    /// ```
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_keep_their_served_form() {
        let body = r#"[5,"5",5.0,-2,false]"#;
        let out: TabularClassificationOutput = serde_json::from_str(body).unwrap();
        assert_eq!(out[0], TabularClassificationLabel::from(5));
        assert_eq!(out[1], TabularClassificationLabel::from("5"));
        assert_eq!(out[2].as_i64(), None, "5.0 is not read as an integer");
        assert_eq!(out[2].as_f64(), Some(5.0));
        assert_eq!(out[3].as_i64(), Some(-2));
        assert_eq!(out[4], TabularClassificationLabel::Bool(false));
        assert_eq!(serde_json::to_string(&out).unwrap(), body);
    }

    #[test]
    fn a_nested_label_is_refused() {
        assert!(serde_json::from_str::<TabularClassificationOutput>(r#"[[5]]"#).is_err());
        assert!(serde_json::from_str::<TabularRegressionOutput>(r#"["1.5"]"#).is_err());
    }

    #[test]
    fn the_table_reads_back() {
        let body = r#"{"inputs":{"data":{"b":["1"],"a":["2"]}}}"#;
        let input: TabularRegressionInput = serde_json::from_str(body).unwrap();
        assert_eq!(input.inputs.data.keys().collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(serde_json::to_string(&input).unwrap(), body);
    }
}
