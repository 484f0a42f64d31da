//! The shape of the provider table.
//!
//! `specs/providers.toml` is turned by `cargo xtask regen` into static values of these types
//! (`sdk/src/generated/providers.rs`): one [`ProviderSpec`] per provider, one [`TaskSpec`] per
//! (provider, task) pair. Routing reads them to build every request: the URL (router prefix or
//! direct host, route, query), the authentication header, the static headers, the body encoding
//! and payload template, how the response becomes the task output, and which job protocol (if
//! any) to poll.
//!
//! The meaning of every field and value is documented once, in the header of
//! `specs/providers.toml`; the docs here repeat it for readers of the API.

use std::fmt;

use crate::generated::providers::{Provider, Task};

/// Everything the SDK knows about one inference provider.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct ProviderSpec {
    /// The provider this entry describes.
    pub provider: Provider,
    /// Human-readable name, e.g. `"Featherless AI"`.
    pub display_name: &'static str,
    /// Whether the Hugging Face router still serves the provider.
    pub status: ProviderStatus,
    /// Path prefix on the Hugging Face router (`"/fal-ai"`), or `None` if the provider cannot be
    /// reached through the router (`openai`).
    pub routed_prefix: Option<&'static str>,
    /// Named base URLs for direct calls, e.g. `api` = `https://fal.run` and
    /// `queue` = `https://queue.fal.run`. Empty if the provider is routed only (`hf-inference`).
    pub hosts: &'static [Host],
    /// How the provider's own key is sent in direct mode. Routed calls always send
    /// `Authorization: Bearer <Hugging Face token>`.
    pub auth: AuthScheme,
    /// `false` if a request may be sent without any token (`hf-inference`).
    pub token_required: bool,
    /// `true` if the Hub model id is translated to the provider's own model id through the Hub
    /// provider mapping; `false` if the model string is used as given (`openai`, `hf-inference`).
    pub hub_mapping: bool,
    /// Static headers sent with every request to this provider, in both modes, as
    /// (lower-case name, value) pairs.
    pub extra_headers: &'static [(&'static str, &'static str)],
    /// The tasks this provider serves, sorted by task id.
    pub tasks: &'static [TaskSpec],
}

impl ProviderSpec {
    /// The provider's Hub id, e.g. `"fal-ai"`.
    pub fn id(&self) -> &'static str {
        self.provider.as_str()
    }

    /// Whether calls can go through the Hugging Face router (with an `hf_` token). A
    /// [`ProviderStatus::Removed`] provider still answers `true` here: the table records how it
    /// was routed, and the router will refuse the call.
    pub fn is_routed(&self) -> bool {
        self.routed_prefix.is_some()
    }

    /// Whether calls can go straight to the provider (with the provider's own key).
    pub fn is_direct(&self) -> bool {
        !self.hosts.is_empty()
    }

    /// Whether the Hugging Face router serves the provider today.
    pub fn is_live(&self) -> bool {
        self.status == ProviderStatus::Live
    }

    /// The base URL of the direct host called `name`, if the provider has one.
    pub fn host(&self, name: &str) -> Option<&'static str> {
        self.hosts
            .iter()
            .find(|host| host.name == name)
            .map(|host| host.base_url)
    }

    /// The entry for `task`, if the provider serves it.
    pub fn task(&self, task: Task) -> Option<&'static TaskSpec> {
        self.tasks.iter().find(|spec| spec.task == task)
    }
}

/// A named base URL of a provider, used in direct mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Host {
    /// The name tasks refer to it by (`api`, `queue`).
    pub name: &'static str,
    /// Scheme and authority (and path, if any), without a trailing slash: `https://fal.run`.
    pub base_url: &'static str,
}

/// How one provider serves one task.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct TaskSpec {
    /// The task.
    pub task: Task,
    /// HTTP method of the first request.
    pub method: HttpMethod,
    /// Path appended to the base URL (router prefix or direct host); the same in both modes.
    /// May contain the placeholders `{provider_id}` (the provider's model id, from the Hub
    /// mapping) and `{model}` (the Hub model id as given by the caller).
    pub route: &'static str,
    /// Route used instead of [`route`](Self::route) when the provider model id pins a version
    /// (`owner/model:version`, replicate); the version then goes in the body.
    pub versioned_route: Option<&'static str>,
    /// Name of the [`Host`] of the provider used in direct mode; `None` for routed-only
    /// providers.
    pub host: Option<&'static str>,
    /// Query string (without `?`) appended in routed mode only, e.g. `_subdomain=queue`.
    pub routed_query: Option<&'static str>,
    /// Encoding of the request body.
    pub body: BodyKind,
    /// How the body is assembled from the input and parameters.
    pub payload: PayloadStyle,
    /// For [`PayloadStyle::OpenAiChat`] only: how a JSON-schema `response_format` is sent.
    pub json_schema_format: Option<JsonSchemaFormat>,
    /// Parameter renames applied to the body, as (our name, wire name) pairs.
    pub renames: &'static [(&'static str, &'static str)],
    /// How the final response becomes the task output.
    pub response: ResponseStyle,
    /// JSON Pointer (RFC 6901) into the final JSON document, for [`ResponseStyle::Base64`] and
    /// [`ResponseStyle::AssetUrl`].
    pub result_pointer: Option<&'static str>,
    /// The asynchronous job protocol after the first request, if any.
    pub polling: Polling,
    /// Whether, and in which format, the task can stream.
    pub stream: StreamStyle,
}

/// Generates a documented `#[non_exhaustive]` enum of table values with `as_str` (the spelling
/// used in `specs/providers.toml`) and a `Display` that prints it.
macro_rules! table_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// The value as written in `specs/providers.toml`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

table_enum! {
    /// Whether the Hugging Face router still serves a provider.
    pub enum ProviderStatus {
        /// Served by the router today.
        Live = "live",
        /// Removed from the router (absent from huggingface_hub 2.4.0). Direct calls with the
        /// provider's own key may still work; routed calls are refused by the router.
        Removed = "removed",
    }
}

table_enum! {
    /// How the provider's own key is sent in direct mode.
    pub enum AuthScheme {
        /// `Authorization: Bearer <key>`.
        Bearer = "bearer",
        /// `Authorization: Key <key>` (fal-ai).
        Key = "key",
        /// `X-Key: <key>` and no `Authorization` header (black-forest-labs).
        XKey = "x-key",
    }
}

table_enum! {
    /// HTTP method of a request.
    pub enum HttpMethod {
        /// `GET`.
        Get = "GET",
        /// `POST`.
        Post = "POST",
    }
}

table_enum! {
    /// Encoding of a request body.
    pub enum BodyKind {
        /// A JSON document (`application/json`).
        Json = "json",
        /// The raw input bytes, with the input's content type if known.
        Bytes = "bytes",
        /// `multipart/form-data`.
        Multipart = "multipart",
    }
}

table_enum! {
    /// How a request body is assembled from the task input and its parameters.
    pub enum PayloadStyle {
        /// `{"model": provider_id, "messages": [...], ...parameters}`.
        OpenAiChat = "openai-chat",
        /// `{"model": provider_id, "prompt": text, ...parameters}`.
        OpenAiCompletions = "openai-completions",
        /// `{"model": provider_id, "input": text or [text], ...parameters}`.
        OpenAiEmbeddings = "openai-embeddings",
        /// `{"model": provider_id, "input": text, ...parameters}` (speech synthesis).
        OpenAiSpeech = "openai-speech",
        /// `{"inputs": input, "parameters": {...}}`.
        HfInference = "hf-inference",
        /// `{"inputs": input, ...parameters}`: parameters at the root.
        HfInferenceFlat = "hf-inference-flat",
        /// The raw input bytes when there are no parameters; otherwise JSON
        /// `{"inputs": <base64>, "parameters": {...}}`.
        HfInferenceBinary = "hf-inference-binary",
        /// Provider-specific, hand-written in `sdk/src/providers/<provider>.rs`.
        Provider = "provider",
    }
}

table_enum! {
    /// How a `response_format` of type `json_schema`
    /// (`{"type": "json_schema", "json_schema": {..., "schema": S}}`) is sent in a chat request.
    pub enum JsonSchemaFormat {
        /// Unchanged (the OpenAI form).
        OpenAi = "openai",
        /// `{"type": "json_object", "schema": S}` (cohere, fireworks-ai).
        JsonObject = "json-object",
        /// `{"type": "json_schema", "schema": S}` (together).
        FlatJsonSchema = "flat-json-schema",
        /// `{"type": "json_object", "value": S}`, the TGI grammar form (hf-inference).
        TgiGrammar = "tgi-grammar",
        /// Unchanged, plus a top-level `"guided_json": S` (nebius).
        GuidedJson = "guided-json",
        /// Unchanged, but `json_schema.strict` forced to `false` when true or missing
        /// (sambanova).
        NonStrict = "non-strict",
    }
}

table_enum! {
    /// How the final response becomes the task output.
    pub enum ResponseStyle {
        /// Parse the JSON body as the task's output type.
        Json = "json",
        /// The raw body (audio, image, video) with its content type.
        Bytes = "bytes",
        /// An OpenAI chat completion object.
        OpenAiChat = "openai-chat",
        /// An OpenAI completion: `choices[0].text` becomes the generated text.
        OpenAiCompletions = "openai-completions",
        /// An OpenAI embeddings list: `data[*].embedding`.
        OpenAiEmbeddings = "openai-embeddings",
        /// Decode the base64 string at [`TaskSpec::result_pointer`].
        Base64 = "base64",
        /// Download the URL at [`TaskSpec::result_pointer`] (without credentials); an array
        /// there means its first element, and a `data:` URL is decoded in place.
        AssetUrl = "asset-url",
        /// Provider-specific, hand-written.
        Provider = "provider",
    }
}

table_enum! {
    /// The asynchronous job protocol that follows the first request.
    pub enum Polling {
        /// The first response is final.
        None = "none",
        /// fal queue: `request_id` and `response_url`; GET `…/status` every 0.5 s until
        /// `COMPLETED`, then GET the result.
        FalQueue = "fal-queue",
        /// Together video jobs: GET `{request url}/{id}` every 2 s (at most 150 times) until
        /// `completed` or `failed`.
        TogetherVideo = "together-video",
        /// WaveSpeed: GET `data.urls.get` every 0.5 s until `completed` or `failed`.
        Wavespeed = "wavespeed",
        /// Z.ai: GET `/api/paas/v4/async-result/{id}`, then every 5 s (at most 60 times), until
        /// `SUCCESS` or `FAIL`.
        Zai = "zai",
        /// Black Forest Labs: GET `polling_url` without credentials every 1 s until `Ready`.
        Bfl = "bfl",
        /// Replicate: no polling; the request carries `prefer: wait` and the server holds it
        /// (about 60 s). A null `output` means it timed out.
        ReplicateWait = "replicate-wait",
        /// Novita's MiniMax video jobs: the first answer carries `task_id`; GET
        /// `/v3/minimax/v2/query/video_generation/{task_id}` at once, then every 5 s, until
        /// `task.status` is `succeeded` (the file is at `task.content.url`), `failed` or
        /// `cancelled`.
        NovitaMinimax = "novita-minimax",
    }
}

table_enum! {
    /// Whether, and in which format, a task can stream its output.
    pub enum StreamStyle {
        /// Not streamable.
        None = "none",
        /// Server-sent events of OpenAI chat completion chunks.
        OpenAiChat = "openai-chat",
        /// Server-sent events of OpenAI completion chunks.
        OpenAiCompletions = "openai-completions",
        /// Server-sent events of TGI text-generation tokens.
        Tgi = "tgi",
    }
}

/// A provider id that is not in the table. Carries the input as given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown provider `{0}`; known providers: {known}",
    known = id_list(Provider::ALL.iter().map(|p| p.as_str()))
)]
pub struct UnknownProvider(pub String);

/// A task id that is not known. Carries the input as given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown task `{0}`; known tasks: {known}",
    known = id_list(Task::ALL.iter().map(|t| t.as_str()))
)]
pub struct UnknownTask(pub String);

/// Joins ids as a comma-separated list.
fn id_list(ids: impl Iterator<Item = &'static str>) -> String {
    ids.collect::<Vec<_>>().join(", ")
}
