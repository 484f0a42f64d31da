//! What the Inference Endpoints and Catalog APIs return, and the closed sets of values they use.
//!
//! Reading is lenient: every field the service may leave out is an `Option`, fields this crate
//! does not know yet land in an `extra` map, and enum values it does not know are kept as
//! `Other(String)`, so a new field or state on the service never breaks a caller. Timestamps are
//! kept as the RFC 3339 text the service sent (`2023-10-26T12:41:53.263078506Z`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Declares a string enum with an `Other(String)` fallback: `as_str`, `Display`, `From<&str>`,
/// `FromStr` (never fails) and string (de)serialization.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version of the crate does not know, kept as the service spelled it.
            Other(String),
        }

        impl $name {
            /// The value as the service spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Other(text) => text,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $( $text => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(text))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Ok(Self::from(text.as_str()))
            }
        }
    };
}

string_enum! {
    /// The state of an Inference Endpoint (`status.state`).
    ///
    /// The service drives the transitions: create → `pending` → `initializing` → `running`;
    /// pause → `paused` → resume → `pending` …; scale to zero → `scaledToZero` → (a request) →
    /// `running`; update → `updating` → `running` or `updateFailed`.
    ///
    /// ```
    /// use hf_inference::endpoints::EndpointState;
    ///
    /// assert_eq!("scaledToZero".parse::<EndpointState>().unwrap(), EndpointState::ScaledToZero);
    /// let new = EndpointState::from("hibernating");
    /// assert_eq!(new, EndpointState::Other("hibernating".into()));
    /// assert_eq!(new.to_string(), "hibernating");
    /// ```
    pub enum EndpointState {
        /// Accepted, waiting to be scheduled.
        Pending = "pending",
        /// Replicas are being provisioned and the model loaded.
        Initializing = "initializing",
        /// An update is being rolled out.
        Updating = "updating",
        /// The update failed.
        UpdateFailed = "updateFailed",
        /// Deployed and serving.
        Running = "running",
        /// Paused by its owner; only a resume restarts it. Not billed.
        Paused = "paused",
        /// The deployment failed.
        Failed = "failed",
        /// No replica; the URL is kept and the next request starts one. Not billed.
        ScaledToZero = "scaledToZero",
    }
}

impl EndpointState {
    /// Whether the endpoint ended in failure (`failed`, `updateFailed`): waiting longer will not
    /// make it run.
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::Failed | Self::UpdateFailed)
    }
}

string_enum! {
    /// Who may call an Inference Endpoint.
    pub enum EndpointType {
        /// Anyone, without a token.
        Public = "public",
        /// Anyone with a Hugging Face token.
        Authenticated = "authenticated",
        /// Only through a private link (AWS PrivateLink and the like).
        Private = "private",
        /// A legacy type the service still reports on older endpoints; it cannot be requested.
        Protected = "protected",
    }
}

string_enum! {
    /// What drives autoscaling (`compute.scaling.metric`).
    pub enum ScalingMetric {
        /// Requests waiting per replica.
        PendingRequests = "pendingRequests",
        /// Accelerator (or CPU) usage, in percent.
        HardwareUsage = "hardwareUsage",
    }
}

/// Serializes a `Map` of unknown fields with `Debug` naming only the keys: unknown fields may
/// hold secrets (one service answer carries `model.secret`).
fn debug_keys(map: &Map<String, Value>) -> Vec<&str> {
    map.keys().map(String::as_str).collect()
}

/// An Inference Endpoint as the service describes it (`GET …/endpoint/{namespace}/{name}`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EndpointDetails {
    /// The endpoint name (unique within its namespace).
    pub name: String,
    /// Who may call it.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub endpoint_type: Option<EndpointType>,
    /// The route [`wait`](super::InferenceEndpoint::wait) probes once the endpoint runs
    /// (`/health` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_route: Option<String>,
    /// Cloud vendor and region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<EndpointCloud>,
    /// Hardware and scaling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<EndpointCompute>,
    /// What is deployed.
    #[serde(default)]
    pub model: EndpointModel,
    /// State, URL, replicas and timestamps.
    pub status: EndpointStatus,
    /// Fields this version of the crate does not read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for EndpointDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointDetails")
            .field("name", &self.name)
            .field("endpoint_type", &self.endpoint_type)
            .field("health_route", &self.health_route)
            .field("provider", &self.provider)
            .field("compute", &self.compute)
            .field("model", &self.model)
            .field("status", &self.status)
            .field("extra", &debug_keys(&self.extra))
            .finish()
    }
}

/// Where an endpoint runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EndpointCloud {
    /// The cloud vendor: `aws`, `gcp`, `azure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The vendor's region, e.g. `us-east-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Fields this version of the crate does not read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The hardware of an endpoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EndpointCompute {
    /// `cpu`, `gpu`, `neuron`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accelerator: Option<String>,
    /// The instance type, e.g. `intel-icl` or `nvidia-l4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// The instance size, e.g. `x1`, `x2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_size: Option<String>,
    /// The hardware id, e.g. `aws-us-east-1-nvidia-l4-x1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Autoscaling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<EndpointScaling>,
    /// Fields this version of the crate does not read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Autoscaling of an endpoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EndpointScaling {
    /// Fewest replicas (0 allows scaling to zero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replica: Option<u32>,
    /// Most replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replica: Option<u32>,
    /// Idle minutes before scaling to zero (with `min_replica` 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_to_zero_timeout: Option<u32>,
    /// What drives scaling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<ScalingMetric>,
    /// `{metric: threshold}`; the threshold may be `null` (the service's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<Map<String, Value>>,
    /// Fields this version of the crate does not read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What an endpoint serves.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EndpointModel {
    /// The Hub repository, e.g. `gpt2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// `pytorch`, `custom`, `vllm`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// The repository revision deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The task, e.g. `text-generation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The container: `{"<variant>": {…}}` (`huggingface`, `custom`, `tgi`, `vLLM`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Value>,
    /// Environment variables of the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, Value>>,
    /// Secret environment variables (the service may return them; `Debug` shows only names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<BTreeMap<String, Value>>,
    /// The container command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// The container arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Fields this version of the crate does not read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for EndpointModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointModel")
            .field("repository", &self.repository)
            .field("framework", &self.framework)
            .field("revision", &self.revision)
            .field("task", &self.task)
            .field("image", &self.image.as_ref().map(|_| "…"))
            .field(
                "env",
                &self.env.as_ref().map(|m| m.keys().collect::<Vec<_>>()),
            )
            .field(
                "secrets",
                &self.secrets.as_ref().map(|m| m.keys().collect::<Vec<_>>()),
            )
            .field("command", &self.command)
            .field("args", &self.args)
            .field("extra", &debug_keys(&self.extra))
            .finish()
    }
}

/// The live status of an endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EndpointStatus {
    /// The state.
    pub state: EndpointState,
    /// The service's explanation, e.g. `Endpoint waiting to be scheduled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The URL to call, once deployed (kept while scaled to zero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Ready replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_replica: Option<u32>,
    /// Replicas the service is aiming for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_replica: Option<u32>,
    /// Creation time (RFC 3339, as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339, as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<EndpointUser>,
    /// Who last updated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<EndpointUser>,
    /// Fields this version of the crate does not read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A Hub user, as the endpoint status names them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EndpointUser {
    /// The Hub user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A model of the Inference Catalog: a curated model with ready-made deployments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CatalogModel {
    /// The Hub repository, e.g. `meta-llama/Llama-3.1-8B-Instruct`.
    pub repo_id: String,
    /// The display name.
    #[serde(rename = "modelName", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The author.
    #[serde(
        rename = "authorName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub author: Option<String>,
    /// The license.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// The task, e.g. `text-generation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// When it entered the catalog (RFC 3339, as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The deployments on offer; deploy one with
    /// [`create_from_recipe`](super::InferenceEndpoints::create_from_recipe).
    #[serde(default)]
    pub recipes: Vec<CatalogRecipe>,
    /// Fields this version of the crate does not read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One ready-made deployment of a catalog model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CatalogRecipe {
    /// The recipe id, e.g. `sizzling-biryani-g4xsi1ac`.
    #[serde(rename = "publicId")]
    pub id: String,
    /// `cpu`, `gpu`, `neuron`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accelerator: Option<String>,
    /// The serving engine: `vllm`, `llamacpp`, `tei`, `sglang`, …
    #[serde(
        rename = "engineType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub engine: Option<String>,
    /// The GGUF file (llama.cpp recipes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gguf_file: Option<String>,
    /// The repository revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Fields this version of the crate does not read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One kind of hardware an endpoint can run on, as
/// [`InferenceEndpoints::hardware`](super::InferenceEndpoints::hardware) lists it (the
/// service's vendors → regions → computes, flattened).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EndpointHardware {
    /// The hardware id, e.g. `aws-us-east-1-nvidia-l4-x1`.
    pub id: String,
    /// The cloud vendor, e.g. `aws`.
    pub vendor: String,
    /// The region, e.g. `us-east-1`.
    pub region: String,
    /// `cpu`, `gpu`, `neuron`, …
    pub accelerator: Option<String>,
    /// The instance type, e.g. `nvidia-l4`.
    pub instance_type: Option<String>,
    /// The instance size, e.g. `x1`.
    pub instance_size: Option<String>,
    /// The processor, e.g. `Nvidia L4`.
    pub architecture: Option<String>,
    /// Accelerators per replica.
    pub num_accelerators: Option<u32>,
    /// CPUs per replica (absent on some CPU instances).
    pub num_cpus: Option<u32>,
    /// Memory, in GB.
    pub memory_gb: Option<f64>,
    /// Accelerator memory, in GB (none on CPU instances).
    pub gpu_memory_gb: Option<f64>,
    /// Price per replica and hour, in US dollars.
    pub price_per_hour: Option<f64>,
    /// `available`, `low_availability`, `not_available`, `reserved`, `deprecated`, …
    pub status: Option<String>,
    /// Accelerators your quota allows.
    pub max_accelerators: Option<u32>,
    /// Accelerators in use.
    pub used_accelerators: Option<u32>,
}

/// The hardware listing as the service sends it.
#[derive(Deserialize)]
pub(crate) struct HardwareListing {
    #[serde(default)]
    vendors: Vec<HardwareVendor>,
}

#[derive(Deserialize)]
struct HardwareVendor {
    name: String,
    #[serde(default)]
    regions: Vec<HardwareRegion>,
}

#[derive(Deserialize)]
struct HardwareRegion {
    name: String,
    #[serde(default)]
    computes: Vec<HardwareCompute>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HardwareCompute {
    id: String,
    accelerator: Option<String>,
    instance_type: Option<String>,
    instance_size: Option<String>,
    architecture: Option<String>,
    num_accelerators: Option<u32>,
    num_cpus: Option<u32>,
    memory_gb: Option<f64>,
    gpu_memory_gb: Option<f64>,
    price_per_hour: Option<f64>,
    status: Option<String>,
    #[serde(default)]
    quota: HardwareQuota,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HardwareQuota {
    max_accelerators: Option<u32>,
    used_accelerators: Option<u32>,
}

impl HardwareListing {
    pub(crate) fn flatten(self) -> Vec<EndpointHardware> {
        let mut out = Vec::new();
        for vendor in self.vendors {
            for region in vendor.regions {
                for c in region.computes {
                    out.push(EndpointHardware {
                        id: c.id,
                        vendor: vendor.name.clone(),
                        region: region.name.clone(),
                        accelerator: c.accelerator,
                        instance_type: c.instance_type,
                        instance_size: c.instance_size,
                        architecture: c.architecture,
                        num_accelerators: c.num_accelerators,
                        num_cpus: c.num_cpus,
                        memory_gb: c.memory_gb,
                        gpu_memory_gb: c.gpu_memory_gb,
                        price_per_hour: c.price_per_hour,
                        status: c.status,
                        max_accelerators: c.quota.max_accelerators,
                        used_accelerators: c.quota.used_accelerators,
                    });
                }
            }
        }
        out
    }
}

/// What a TGI or TEI server says about itself (`GET {url}/info`); see
/// [`InferenceClient::endpoint_info`](crate::InferenceClient::endpoint_info).
///
/// Servers built on other stacks answer with other fields or nothing: every field is optional
/// and the rest is in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EndpointServerInfo {
    /// The model served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    /// Its revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_sha: Option<String>,
    /// Its data type, e.g. `torch.float16`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_dtype: Option<String>,
    /// Where it runs, e.g. `cuda`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_device_type: Option<String>,
    /// Requests served at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_requests: Option<u64>,
    /// Longest input, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_length: Option<u64>,
    /// Longest input plus output, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_total_tokens: Option<u64>,
    /// Token budget of a batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_batch_total_tokens: Option<u64>,
    /// The server version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The server's commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    /// The server's container label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_label: Option<String>,
    /// Fields this version of the crate does not read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The container of an endpoint: one variant (`huggingface`, `custom`, `tgi`, `vLLM`, `sGLang`,
/// `tei`, `llamacpp`, …) and its settings, sent as `{"<variant>": {…}}`.
///
/// ```
/// use hf_inference::endpoints::EndpointImage;
///
/// let image = EndpointImage::custom("ghcr.io/me/server:1").port(8080).health_route("/ready");
/// assert_eq!(
///     serde_json::to_string(&image).unwrap(),
///     r#"{"custom":{"url":"ghcr.io/me/server:1","port":8080,"healthRoute":"/ready"}}"#
/// );
/// let vllm = EndpointImage::variant("vLLM").url("vllm/vllm-openai:v0.9.0").port(8000);
/// assert_eq!(vllm.name(), "vLLM");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointImage {
    variant: String,
    settings: Map<String, Value>,
}

impl EndpointImage {
    /// The default: the Hugging Face inference toolkit picks the server for the task.
    pub fn huggingface() -> Self {
        Self::variant("huggingface")
    }

    /// A container of your own, by image URL.
    pub fn custom(url: impl Into<String>) -> Self {
        Self::variant("custom").url(url)
    }

    /// Any variant the service knows (`tgi`, `tei`, `vLLM`, `sGLang`, `llamacpp`, …), with no
    /// settings yet.
    pub fn variant(name: impl Into<String>) -> Self {
        Self {
            variant: name.into(),
            settings: Map::new(),
        }
    }

    /// The container image URL (`url`).
    pub fn url(self, url: impl Into<String>) -> Self {
        self.setting("url", url.into())
    }

    /// The port the container listens on (`port`).
    pub fn port(self, port: u16) -> Self {
        self.setting("port", port)
    }

    /// The container's health route (`healthRoute`).
    pub fn health_route(self, route: impl Into<String>) -> Self {
        self.setting("healthRoute", route.into())
    }

    /// Any other setting of the variant, e.g. `tensorParallelSize` for `vLLM`.
    pub fn setting(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.settings.insert(key.into(), value.into());
        self
    }

    /// The variant name.
    pub fn name(&self) -> &str {
        &self.variant
    }

    /// The variant's settings.
    pub fn settings(&self) -> &Map<String, Value> {
        &self.settings
    }

    pub(crate) fn settings_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.settings
    }

    /// Reads an image the service returned (`{"<variant>": {…}}`): the first variant.
    pub fn from_value(value: &Value) -> Option<Self> {
        let (variant, settings) = value.as_object()?.iter().next()?;
        Some(Self {
            variant: variant.clone(),
            settings: settings.as_object().cloned().unwrap_or_default(),
        })
    }
}

impl Serialize for EndpointImage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(&self.variant, &self.settings)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_kept_and_round_trip() {
        let state: EndpointState = serde_json::from_str(r#""hibernating""#).unwrap();
        assert_eq!(state, EndpointState::Other("hibernating".into()));
        assert_eq!(serde_json::to_string(&state).unwrap(), r#""hibernating""#);
        let kind: EndpointType = serde_json::from_str(r#""protected""#).unwrap();
        assert_eq!(kind, EndpointType::Protected);
        assert!(EndpointState::UpdateFailed.is_failure());
        assert!(!EndpointState::Paused.is_failure());
    }

    #[test]
    fn debug_hides_secret_values() {
        let details: EndpointDetails = serde_json::from_value(serde_json::json!({
            "name": "e",
            "model": {"secrets": {"TOKEN": "s3cr3t-value"}, "secret": {"token": "legacy-s3cr3t"}},
            "status": {"state": "running"}
        }))
        .unwrap();
        let shown = format!("{details:?}");
        assert!(shown.contains("TOKEN"), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
}
