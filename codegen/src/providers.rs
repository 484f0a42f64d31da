//! The provider table: parse and validate `specs/providers.toml`, then emit
//! `sdk/src/generated/providers.rs` and the Markdown support matrix.
//!
//! The TOML is read in two stages so that every error names its place: the file into a top-level
//! struct whose `providers` are still raw TOML values, then each provider, then each of its
//! tasks. Enum-valued keys are read as strings and checked against the allowed spellings here,
//! so an unknown value reports the key, the value and the allowed values. All problems found are
//! reported together, in table order.
//!
//! The generated Rust uses the hand-written types of `sdk/src/providers/spec.rs`; the enums of
//! this module mirror the enums there, variant for variant.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use heck::{ToShoutySnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use serde::Deserialize;

use crate::CodegenError;

/// File name used in messages and for the rendered output.
const TABLE_FILE: &str = "providers.toml";
/// Rendered file name (for error messages of the renderer).
const OUTPUT_FILE: &str = "providers.rs";
/// Placeholders a route may contain.
const ROUTE_PLACEHOLDERS: &[&str] = &["model", "provider_id"];

/// What [`generate`] produces from the provider table.
#[derive(Debug, Clone)]
pub struct ProvidersOutput {
    /// Rust source of `sdk/src/generated/providers.rs`.
    pub rust: String,
    /// Markdown support matrix (tasks as rows, providers as columns, followed by a legend),
    /// without any header line. The same text is in the generated `SUPPORT_MATRIX_MARKDOWN`.
    pub matrix_markdown: String,
    /// Number of providers in the table, removed ones included.
    pub provider_count: usize,
    /// Number of distinct tasks served by at least one provider.
    pub task_count: usize,
    /// Number of (provider, task) pairs in the table, removed providers included.
    pub supported_pairs: usize,
    /// Tasks some provider serves: each gets a task method (pairs the SDK does not implement
    /// yet answer `Error::NotImplemented`).
    pub served_tasks: BTreeSet<String>,
    /// Tasks whose answer is a file (image, audio, video) on some provider: their methods
    /// return a `Blob`.
    pub file_output_tasks: BTreeSet<String>,
}

/// Parses and validates `table_toml` (the text of `specs/providers.toml`) and generates the
/// provider code.
///
/// `spec_tasks` are the task ids that have a JSON schema (the folders of `specs/tasks/`); with the
/// table's `extra_tasks` (minus its `ignored_spec_tasks`) they make up the `Task` enum. Output is
/// deterministic: providers and tasks are sorted by id, whatever their order in the inputs.
pub fn generate(table_toml: &str, spec_tasks: &[String]) -> Result<ProvidersOutput, CodegenError> {
    let table = Table::parse(table_toml, spec_tasks)?;
    let matrix_markdown = table.matrix_markdown();
    let rust = crate::render::format_file(OUTPUT_FILE, table.rust_tokens(&matrix_markdown))?;
    let served: BTreeSet<&str> = table
        .providers
        .iter()
        .flat_map(|p| p.tasks.iter().map(|t| t.task.as_str()))
        .collect();
    let file_output_tasks = table
        .providers
        .iter()
        .flat_map(|p| p.tasks.iter())
        .filter(|t| t.answers_a_file())
        .map(|t| t.task.clone())
        .collect();
    Ok(ProvidersOutput {
        served_tasks: served.iter().map(|t| (*t).to_owned()).collect(),
        file_output_tasks,
        rust,
        matrix_markdown,
        provider_count: table.providers.len(),
        task_count: served.len(),
        supported_pairs: table.providers.iter().map(|p| p.tasks.len()).sum(),
    })
}

// ------------------------------------------------------------------------------------------------
// Enumerated values
// ------------------------------------------------------------------------------------------------

/// Declares an enum of table values: its TOML spellings, and the path of the matching variant of
/// the same-named SDK enum (`sdk/src/providers/spec.rs`) for the generated code.
macro_rules! table_enum {
    ($name:ident { $($variant:ident = $text:literal,)+ }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum $name {
            $($variant,)+
        }

        impl $name {
            /// Every value with its TOML spelling, in declaration order.
            const VALUES: &'static [(&'static str, $name)] = &[$(($text, $name::$variant),)+];

            /// Reads the value of key `key`, or explains why it cannot.
            fn parse(key: &str, text: &str) -> Result<Self, String> {
                Self::VALUES
                    .iter()
                    .find(|(spelling, _)| *spelling == text)
                    .map(|(_, value)| *value)
                    .ok_or_else(|| {
                        let allowed: Vec<String> =
                            Self::VALUES.iter().map(|(s, _)| format!("\"{s}\"")).collect();
                        format!(
                            "`{key}` = \"{text}\" is not one of {}",
                            allowed.join(", ")
                        )
                    })
            }

            /// The TOML spelling (used in messages; not every enum needs it).
            #[allow(dead_code)]
            fn text(self) -> &'static str {
                Self::VALUES
                    .iter()
                    .find(|(_, value)| *value == self)
                    .map(|(spelling, _)| *spelling)
                    .unwrap_or_default()
            }

            /// The SDK path of this value, e.g. `AuthScheme::Bearer`.
            fn tokens(self) -> TokenStream {
                let ty = format_ident!("{}", stringify!($name));
                let variant = match self {
                    $($name::$variant => format_ident!("{}", stringify!($variant)),)+
                };
                quote!(#ty::#variant)
            }
        }
    };
}

table_enum!(ProviderStatus {
    Live = "live",
    Removed = "removed",
});

table_enum!(AuthScheme {
    Bearer = "bearer",
    Key = "key",
    XKey = "x-key",
});

table_enum!(HttpMethod {
    Get = "GET",
    Post = "POST",
});

table_enum!(BodyKind {
    Json = "json",
    Bytes = "bytes",
    Multipart = "multipart",
});

table_enum!(PayloadStyle {
    OpenAiChat = "openai-chat",
    OpenAiCompletions = "openai-completions",
    OpenAiEmbeddings = "openai-embeddings",
    OpenAiSpeech = "openai-speech",
    HfInference = "hf-inference",
    HfInferenceFlat = "hf-inference-flat",
    HfInferenceBinary = "hf-inference-binary",
    Provider = "provider",
});

table_enum!(JsonSchemaFormat {
    OpenAi = "openai",
    JsonObject = "json-object",
    FlatJsonSchema = "flat-json-schema",
    TgiGrammar = "tgi-grammar",
    GuidedJson = "guided-json",
    NonStrict = "non-strict",
});

table_enum!(ResponseStyle {
    Json = "json",
    Bytes = "bytes",
    OpenAiChat = "openai-chat",
    OpenAiCompletions = "openai-completions",
    OpenAiEmbeddings = "openai-embeddings",
    Base64 = "base64",
    AssetUrl = "asset-url",
    Provider = "provider",
});

table_enum!(Polling {
    None = "none",
    FalQueue = "fal-queue",
    TogetherVideo = "together-video",
    Wavespeed = "wavespeed",
    Zai = "zai",
    Bfl = "bfl",
    ReplicateWait = "replicate-wait",
    NovitaMinimax = "novita-minimax",
});

table_enum!(StreamStyle {
    None = "none",
    OpenAiChat = "openai-chat",
    OpenAiCompletions = "openai-completions",
    Tgi = "tgi",
});

// ------------------------------------------------------------------------------------------------
// Raw TOML shape
// ------------------------------------------------------------------------------------------------

/// The file, with providers still unparsed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    extra_tasks: Vec<String>,
    #[serde(default)]
    ignored_spec_tasks: Vec<String>,
    router: RawRouter,
    #[serde(default)]
    mapping_task_ids: BTreeMap<String, String>,
    providers: BTreeMap<String, toml::Value>,
}

/// `[router]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRouter {
    base_url: String,
    auto_chat_route: String,
}

/// `[providers.<id>]`, with tasks still unparsed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    display_name: String,
    status: String,
    routed: bool,
    direct: bool,
    routed_prefix: Option<String>,
    hosts: BTreeMap<String, String>,
    auth: String,
    token_required: bool,
    hub_mapping: bool,
    #[serde(default)]
    extra_headers: BTreeMap<String, String>,
    tasks: BTreeMap<String, toml::Value>,
}

/// `[providers.<id>.tasks.<task>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    method: String,
    route: String,
    versioned_route: Option<String>,
    host: Option<String>,
    routed_query: Option<String>,
    body: String,
    payload: String,
    json_schema_format: Option<String>,
    #[serde(default)]
    renames: BTreeMap<String, String>,
    response: String,
    result_pointer: Option<String>,
    polling: String,
    stream: Option<String>,
}

// ------------------------------------------------------------------------------------------------
// Validated model
// ------------------------------------------------------------------------------------------------

/// The validated table.
#[derive(Debug)]
struct Table {
    router_base_url: String,
    auto_chat_route: String,
    /// Every known task, sorted by id.
    tasks: Vec<TaskInfo>,
    /// Every provider, sorted by id.
    providers: Vec<ProviderEntry>,
}

/// A known task id.
#[derive(Debug)]
struct TaskInfo {
    id: String,
    /// Whether the task has a JSON schema in `specs/tasks/`.
    has_schema: bool,
    /// The Hub provider-mapping name, when it differs from `id`.
    mapping_id: Option<String>,
}

/// One validated provider.
#[derive(Debug)]
struct ProviderEntry {
    id: String,
    display_name: String,
    status: ProviderStatus,
    routed_prefix: Option<String>,
    hosts: Vec<(String, String)>,
    auth: AuthScheme,
    token_required: bool,
    hub_mapping: bool,
    extra_headers: Vec<(String, String)>,
    /// Sorted by task id.
    tasks: Vec<TaskEntry>,
}

/// One validated (provider, task) entry.
#[derive(Debug)]
struct TaskEntry {
    task: String,
    method: HttpMethod,
    route: String,
    versioned_route: Option<String>,
    host: Option<String>,
    routed_query: Option<String>,
    body: BodyKind,
    payload: PayloadStyle,
    json_schema_format: Option<JsonSchemaFormat>,
    renames: Vec<(String, String)>,
    response: ResponseStyle,
    result_pointer: Option<String>,
    polling: Polling,
    stream: StreamStyle,
}

impl TaskEntry {
    /// Whether the task's answer is a file (image, audio, video) rather than JSON.
    fn answers_a_file(&self) -> bool {
        matches!(
            self.response,
            ResponseStyle::Bytes | ResponseStyle::Base64 | ResponseStyle::AssetUrl
        )
    }
}

/// Collects validation problems; each message starts with its location.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, message: impl Into<String>) {
        self.0.push(message.into());
    }

    fn into_result(self) -> Result<(), CodegenError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(CodegenError::ProviderTable(self.0.join("\n")))
        }
    }
}

impl Table {
    fn parse(text: &str, spec_tasks: &[String]) -> Result<Table, CodegenError> {
        let raw: RawTable = toml::from_str(text).map_err(|e| CodegenError::Parse {
            file: TABLE_FILE.to_owned(),
            message: e.to_string(),
        })?;
        let mut problems = Problems::default();

        // Known tasks.
        let ignored: BTreeSet<&str> = raw.ignored_spec_tasks.iter().map(String::as_str).collect();
        for id in &raw.ignored_spec_tasks {
            check_kebab(&mut problems, "ignored_spec_tasks", id);
        }
        let mut known: BTreeMap<String, bool> = BTreeMap::new();
        for id in spec_tasks {
            if !ignored.contains(id.as_str()) {
                check_kebab(&mut problems, "spec task", id);
                known.insert(id.clone(), true);
            }
        }
        for id in &raw.extra_tasks {
            check_kebab(&mut problems, "extra_tasks", id);
            if known.get(id) == Some(&true) {
                problems.push(format!(
                    "extra_tasks: `{id}` now has a JSON schema in specs/tasks/; remove it from extra_tasks"
                ));
            } else if known.insert(id.clone(), false).is_some() {
                problems.push(format!("extra_tasks: `{id}` is listed twice"));
            }
        }
        let mut aliases: BTreeMap<&str, &str> = BTreeMap::new();
        for (task, alias) in &raw.mapping_task_ids {
            if !known.contains_key(task) {
                problems.push(format!("mapping_task_ids: `{task}` is not a known task id"));
            }
            check_kebab(&mut problems, "mapping_task_ids", alias);
            if known.contains_key(alias) {
                problems.push(format!(
                    "mapping_task_ids: `{task}` = \"{alias}\": `{alias}` is itself a task id"
                ));
            }
            if let Some(previous) = aliases.insert(alias, task) {
                problems.push(format!(
                    "mapping_task_ids: \"{alias}\" is used for both `{previous}` and `{task}`"
                ));
            }
        }
        let tasks: Vec<TaskInfo> = known
            .iter()
            .map(|(id, has_schema)| TaskInfo {
                id: id.clone(),
                has_schema: *has_schema,
                mapping_id: raw.mapping_task_ids.get(id).cloned(),
            })
            .collect();
        check_unique_idents(
            &mut problems,
            "task",
            tasks.iter().map(|t| t.id.as_str()),
            |id| id.to_upper_camel_case(),
        );

        // Router.
        check_base_url(&mut problems, "router.base_url", &raw.router.base_url);
        check_route(
            &mut problems,
            "router.auto_chat_route",
            &raw.router.auto_chat_route,
        );

        // Providers.
        if raw.providers.is_empty() {
            problems.push("no providers");
        }
        check_unique_idents(
            &mut problems,
            "provider",
            raw.providers.keys().map(String::as_str),
            |id| id.to_upper_camel_case(),
        );
        let mut providers = Vec::new();
        for (id, value) in &raw.providers {
            let at = format!("provider `{id}`");
            check_kebab(&mut problems, &at, id);
            let raw_provider: RawProvider = match value.clone().try_into() {
                Ok(p) => p,
                Err(e) => {
                    problems.push(format!("{at}: {}", one_line(&e.to_string())));
                    continue;
                }
            };
            if let Some(entry) =
                ProviderEntry::validate(&mut problems, id, raw_provider, &known, &aliases)
            {
                providers.push(entry);
            }
        }

        problems.into_result()?;
        Ok(Table {
            router_base_url: raw.router.base_url,
            auto_chat_route: raw.router.auto_chat_route,
            tasks,
            providers,
        })
    }

    /// The providers serving `task`, in id order.
    fn providers_of<'a>(&'a self, task: &'a str) -> impl Iterator<Item = &'a ProviderEntry> + 'a {
        self.providers
            .iter()
            .filter(move |p| p.tasks.iter().any(|t| t.task == task))
    }
}

impl ProviderEntry {
    fn validate(
        problems: &mut Problems,
        id: &str,
        raw: RawProvider,
        known_tasks: &BTreeMap<String, bool>,
        aliases: &BTreeMap<&str, &str>,
    ) -> Option<ProviderEntry> {
        let at = format!("provider `{id}`");
        let before = problems.0.len();

        if raw.display_name.trim().is_empty() || raw.display_name.contains('\n') {
            problems.push(format!("{at}: `display_name` must be one non-empty line"));
        }
        let status = ProviderStatus::parse("status", &raw.status);
        let auth = AuthScheme::parse("auth", &raw.auth);
        for result in [status.as_ref().err(), auth.as_ref().err()]
            .into_iter()
            .flatten()
        {
            problems.push(format!("{at}: {result}"));
        }

        if !raw.routed && !raw.direct {
            problems.push(format!(
                "{at}: neither routed nor direct; set at least one to true"
            ));
        }
        match (&raw.routed_prefix, raw.routed) {
            (Some(prefix), true) => {
                let expected = format!("/{id}");
                if *prefix != expected {
                    problems.push(format!(
                        "{at}: `routed_prefix` = \"{prefix}\", expected \"{expected}\" (the router path is the provider id)"
                    ));
                }
            }
            (None, true) => problems.push(format!("{at}: routed = true needs `routed_prefix`")),
            (Some(_), false) => {
                problems.push(format!("{at}: `routed_prefix` is set but routed = false"))
            }
            (None, false) => {}
        }
        if raw.direct && raw.hosts.is_empty() {
            problems.push(format!(
                "{at}: direct = true needs at least one entry in `hosts`"
            ));
        }
        if !raw.direct && !raw.hosts.is_empty() {
            problems.push(format!(
                "{at}: `hosts` must be empty when direct = false (routed only)"
            ));
        }
        if !raw.direct && matches!(auth, Ok(a) if a != AuthScheme::Bearer) {
            problems.push(format!(
                "{at}: a routed-only provider always uses bearer auth; set auth = \"bearer\""
            ));
        }
        for (name, url) in &raw.hosts {
            check_kebab(problems, &format!("{at}: host name"), name);
            check_base_url(problems, &format!("{at}: host `{name}`"), url);
        }
        for (name, value) in &raw.extra_headers {
            let valid_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid_name {
                problems.push(format!(
                    "{at}: extra header name `{name}` must be lower-case letters, digits and '-'"
                ));
            }
            if matches!(name.as_str(), "authorization" | "x-key" | "content-type") {
                problems.push(format!(
                    "{at}: extra header `{name}` is set by the SDK and cannot be static"
                ));
            }
            if value.is_empty() || !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                problems.push(format!(
                    "{at}: extra header `{name}` must have a non-empty printable ASCII value"
                ));
            }
        }
        if raw.tasks.is_empty() {
            problems.push(format!("{at}: serves no task"));
        }

        let mut tasks = Vec::new();
        for (task, value) in &raw.tasks {
            let at = format!("provider `{id}`, task `{task}`");
            if !known_tasks.contains_key(task) {
                let hint = match aliases.get(task.as_str()) {
                    Some(canonical) => format!("; use `{canonical}`"),
                    None => String::new(),
                };
                problems.push(format!("{at}: unknown task id{hint}"));
                continue;
            }
            let raw_task: RawTask = match value.clone().try_into() {
                Ok(t) => t,
                Err(e) => {
                    problems.push(format!("{at}: {}", one_line(&e.to_string())));
                    continue;
                }
            };
            if let Some(entry) = TaskEntry::validate(problems, &at, task, raw_task, &raw) {
                tasks.push(entry);
            }
        }

        if problems.0.len() != before {
            return None;
        }
        Some(ProviderEntry {
            id: id.to_owned(),
            display_name: raw.display_name,
            status: status.ok()?,
            routed_prefix: raw.routed_prefix,
            hosts: raw.hosts.into_iter().collect(),
            auth: auth.ok()?,
            token_required: raw.token_required,
            hub_mapping: raw.hub_mapping,
            extra_headers: raw.extra_headers.into_iter().collect(),
            tasks,
        })
    }

    fn ident(&self) -> Ident {
        format_ident!("{}", self.id.to_upper_camel_case())
    }

    fn is_live(&self) -> bool {
        self.status == ProviderStatus::Live
    }
}

impl TaskEntry {
    fn validate(
        problems: &mut Problems,
        at: &str,
        task: &str,
        raw: RawTask,
        provider: &RawProvider,
    ) -> Option<TaskEntry> {
        let before = problems.0.len();
        let mut fail = |message: String| problems.push(format!("{at}: {message}"));

        let method = HttpMethod::parse("method", &raw.method)
            .map_err(&mut fail)
            .ok();
        let body = BodyKind::parse("body", &raw.body).map_err(&mut fail).ok();
        let payload = PayloadStyle::parse("payload", &raw.payload)
            .map_err(&mut fail)
            .ok();
        let response = ResponseStyle::parse("response", &raw.response)
            .map_err(&mut fail)
            .ok();
        let polling = Polling::parse("polling", &raw.polling)
            .map_err(&mut fail)
            .ok();
        let stream = match &raw.stream {
            Some(text) => StreamStyle::parse("stream", text).map_err(&mut fail).ok(),
            None => Some(StreamStyle::None),
        };
        let json_schema_format = match &raw.json_schema_format {
            Some(text) => JsonSchemaFormat::parse("json_schema_format", text)
                .map_err(&mut fail)
                .ok()
                .map(Some),
            None => Some(None),
        };

        if let Err(message) = route_problem(&raw.route) {
            fail(format!("`route` = \"{}\": {message}", raw.route));
        }
        if let Some((route, Err(message))) = raw
            .versioned_route
            .as_deref()
            .map(|route| (route, route_problem(route)))
        {
            fail(format!("`versioned_route` = \"{route}\": {message}"));
        }
        match (&raw.host, provider.direct) {
            (Some(host), true) => {
                if !provider.hosts.contains_key(host) {
                    let names: Vec<&str> = provider.hosts.keys().map(String::as_str).collect();
                    fail(format!(
                        "`host` = \"{host}\" is not one of the provider's hosts ({})",
                        names.join(", ")
                    ));
                }
            }
            (None, true) => fail("the provider is direct, so `host` is required".to_owned()),
            (Some(_), false) => fail("`host` is set but the provider is not direct".to_owned()),
            (None, false) => {}
        }
        if let Some(query) = &raw.routed_query {
            if !provider.routed {
                fail("`routed_query` is set but the provider is not routed".to_owned());
            }
            let well_formed = !query.is_empty()
                && !query.starts_with('?')
                && query.split('&').all(|pair| {
                    pair.split_once('=')
                        .is_some_and(|(k, v)| !k.is_empty() && !v.is_empty())
                })
                && !query.contains(char::is_whitespace);
            if !well_formed {
                fail(format!(
                    "`routed_query` = \"{query}\" must be key=value pairs joined by '&', without '?'"
                ));
            }
        }

        if let (Some(body), Some(payload)) = (body, payload) {
            let expected_body = match payload {
                PayloadStyle::OpenAiChat
                | PayloadStyle::OpenAiCompletions
                | PayloadStyle::OpenAiEmbeddings
                | PayloadStyle::OpenAiSpeech
                | PayloadStyle::HfInference
                | PayloadStyle::HfInferenceFlat => Some(BodyKind::Json),
                PayloadStyle::HfInferenceBinary => Some(BodyKind::Bytes),
                PayloadStyle::Provider => None,
            };
            if let Some(expected) = expected_body.filter(|expected| *expected != body) {
                fail(format!(
                    "payload \"{}\" needs body = \"{}\", not \"{}\"",
                    payload.text(),
                    expected.text(),
                    body.text()
                ));
            }
        }
        if matches!(
            (payload, json_schema_format),
            (Some(payload), Some(Some(_))) if payload != PayloadStyle::OpenAiChat
        ) {
            fail("`json_schema_format` applies only to payload = \"openai-chat\"".to_owned());
        }
        if !raw.renames.is_empty() && payload == Some(PayloadStyle::Provider) {
            fail(
                "`renames` cannot be used with payload = \"provider\" (rename in the hand-written code)"
                    .to_owned(),
            );
        }
        for (from, to) in &raw.renames {
            if from.is_empty() || to.is_empty() || from == to {
                fail(format!(
                    "rename `{from}` -> \"{to}\" must map a name to a different non-empty name"
                ));
            }
        }
        if let Some(response) = response {
            let needs_pointer = matches!(response, ResponseStyle::Base64 | ResponseStyle::AssetUrl);
            match (&raw.result_pointer, needs_pointer) {
                (Some(pointer), true) => {
                    let valid = pointer.starts_with('/')
                        && pointer[1..].split('/').all(|segment| !segment.is_empty());
                    if !valid {
                        fail(format!(
                            "`result_pointer` = \"{pointer}\" is not a JSON Pointer such as \"/data/0/url\""
                        ));
                    }
                }
                (None, true) => fail(format!(
                    "response = \"{}\" needs `result_pointer`",
                    response.text()
                )),
                (Some(_), false) => fail(format!(
                    "`result_pointer` is only used with response = \"base64\" or \"asset-url\", not \"{}\"",
                    response.text()
                )),
                (None, false) => {}
            }
        }
        if let (Some(stream), Some(response), Some(payload)) = (stream, response, payload) {
            let consistent = match stream {
                StreamStyle::None => true,
                StreamStyle::OpenAiChat => response == ResponseStyle::OpenAiChat,
                StreamStyle::OpenAiCompletions => response == ResponseStyle::OpenAiCompletions,
                StreamStyle::Tgi => payload == PayloadStyle::HfInference,
            };
            if !consistent {
                fail(format!(
                    "stream = \"{}\" does not fit response = \"{}\" / payload = \"{}\"",
                    stream.text(),
                    response.text(),
                    payload.text()
                ));
            }
            if stream != StreamStyle::None && polling.is_some_and(|p| p != Polling::None) {
                fail("a polled task cannot stream".to_owned());
            }
        }

        if problems.0.len() != before {
            return None;
        }
        let payload = payload?;
        Some(TaskEntry {
            task: task.to_owned(),
            method: method?,
            route: raw.route,
            versioned_route: raw.versioned_route,
            host: raw.host,
            routed_query: raw.routed_query,
            body: body?,
            payload,
            json_schema_format: match json_schema_format? {
                Some(format) => Some(format),
                None if payload == PayloadStyle::OpenAiChat => Some(JsonSchemaFormat::OpenAi),
                None => None,
            },
            renames: raw.renames.into_iter().collect(),
            response: response?,
            result_pointer: raw.result_pointer,
            polling: polling?,
            stream: stream?,
        })
    }
}

// ------------------------------------------------------------------------------------------------
// Small checks
// ------------------------------------------------------------------------------------------------

/// Whether `id` is lower-case kebab case (`fal-ai`, `text-to-image`).
fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn check_kebab(problems: &mut Problems, what: &str, id: &str) {
    if !is_kebab(id) {
        problems.push(format!("{what}: `{id}` is not a lower-case kebab-case id"));
    }
}

/// Two ids must not map to the same Rust identifier.
fn check_unique_idents<'a>(
    problems: &mut Problems,
    what: &str,
    ids: impl Iterator<Item = &'a str>,
    ident: impl Fn(&str) -> String,
) {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for id in ids {
        if let Some(previous) = seen.insert(ident(id), id) {
            problems.push(format!(
                "{what} ids `{previous}` and `{id}` give the same Rust name {}",
                ident(id)
            ));
        }
    }
}

fn check_base_url(problems: &mut Problems, what: &str, url: &str) {
    let valid = url
        .strip_prefix("https://")
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        && !url.ends_with('/')
        && !url.contains(['?', '#', ' ', '{', '}']);
    if !valid {
        problems.push(format!(
            "{what}: \"{url}\" must be an https URL without trailing slash, query or placeholder"
        ));
    }
}

fn check_route(problems: &mut Problems, what: &str, route: &str) {
    if let Err(message) = route_problem(route) {
        problems.push(format!("{what} = \"{route}\": {message}"));
    }
}

/// Why `route` is not a valid route template, if it is not.
fn route_problem(route: &str) -> Result<(), String> {
    if !route.starts_with('/') {
        return Err("must start with '/'".to_owned());
    }
    if route.contains(['?', '#']) || route.contains(char::is_whitespace) {
        return Err("must be a path only (no query, fragment or spaces)".to_owned());
    }
    let mut rest = route;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err("unbalanced '}'".to_owned());
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| "unclosed '{'".to_owned())?;
        let name = &after[..close];
        if !ROUTE_PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder {{{name}}} (known: {})",
                ROUTE_PLACEHOLDERS
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// Collapses a multi-line parser message into one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ------------------------------------------------------------------------------------------------
// Markdown
// ------------------------------------------------------------------------------------------------

impl Table {
    fn matrix_markdown(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = self
            .providers
            .iter()
            .map(|p| {
                if p.is_live() {
                    p.id.clone()
                } else {
                    format!("{}†", p.id)
                }
            })
            .collect();
        let _ = writeln!(out, "| Task | {} |", header.join(" | "));
        let _ = writeln!(out, "|---|{}", "---|".repeat(header.len()));
        let mut unserved = Vec::new();
        for task in &self.tasks {
            if self.providers_of(&task.id).next().is_none() {
                unserved.push(format!("`{}`", task.id));
                continue;
            }
            let cells: Vec<String> = self
                .providers
                .iter()
                .map(
                    |provider| match provider.tasks.iter().find(|t| t.task == task.id) {
                        Some(entry) => {
                            let mut cell = String::new();
                            if provider.routed_prefix.is_some() && provider.is_live() {
                                cell.push('R');
                            }
                            if !provider.hosts.is_empty() {
                                cell.push('D');
                            }
                            if entry.polling != Polling::None {
                                cell.push('*');
                            }
                            cell
                        }
                        None => String::new(),
                    },
                )
                .collect();
            let _ = writeln!(out, "| `{}` | {} |", task.id, cells.join(" | "));
        }
        out.push('\n');
        out.push_str(
            "- `R`: through the Hugging Face router, with a Hugging Face token.\n\
             - `D`: directly to the provider, with the provider's own key.\n\
             - `*`: asynchronous job; the SDK waits for the result (polling, or replicate's held request).\n\
             - `†`: removed from the Hugging Face router; direct calls only.\n",
        );
        if !unserved.is_empty() {
            let _ = write!(
                out,
                "\nKnown tasks no provider serves yet: {}.\n",
                unserved.join(", ")
            );
        }
        out
    }
}

// ------------------------------------------------------------------------------------------------
// Rust
// ------------------------------------------------------------------------------------------------

/// `Some("text")` or `None`.
fn opt_str(value: &Option<String>) -> TokenStream {
    match value {
        Some(text) => quote!(Some(#text)),
        None => quote!(None),
    }
}

/// `&[("a", "b"), ...]`.
fn str_pairs(pairs: &[(String, String)]) -> TokenStream {
    let items = pairs.iter().map(|(a, b)| quote!((#a, #b)));
    quote!(&[#(#items),*])
}

/// Backquoted ids joined by ", ".
fn code_list<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    ids.map(|id| format!("`{id}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn task_ident(id: &str) -> Ident {
    format_ident!("{}", id.to_upper_camel_case())
}

impl Table {
    fn rust_tokens(&self, matrix_markdown: &str) -> TokenStream {
        let module_doc = format!(
            "The provider table, generated from `specs/providers.toml`: {} providers, {} known tasks.\n\n\
             [`Provider`] and [`Task`] name the rows and columns; [`Provider::spec`] and [`task_spec`] \
             give the routing data, in the types of `crate::providers::spec`.",
            self.providers.len(),
            self.tasks.len()
        );
        let router_base_url = &self.router_base_url;
        let auto_chat_route = &self.auto_chat_route;
        let provider_enum = self.provider_enum_tokens();
        let task_enum = self.task_enum_tokens();
        let statics = self.statics_tokens();
        let task_spec_fn = self.task_spec_fn_tokens();
        quote! {
            #![doc = #module_doc]

            use std::fmt;
            use std::str::FromStr;

            use crate::providers::spec::{
                AuthScheme, BodyKind, Host, HttpMethod, JsonSchemaFormat, PayloadStyle, Polling,
                ProviderSpec, ProviderStatus, ResponseStyle, StreamStyle, TaskSpec,
                UnknownProvider, UnknownTask,
            };

            /// Default origin of the Hugging Face router; a routed URL is this, then the
            /// provider's [`ProviderSpec::routed_prefix`], then the task route.
            pub const ROUTER_BASE_URL: &str = #router_base_url;

            /// Route of the router's server-side provider choice for `chat-completion`
            /// (provider "auto"), relative to [`ROUTER_BASE_URL`]. Routed mode only.
            pub const AUTO_ROUTER_CHAT_ROUTE: &str = #auto_chat_route;

            /// The support matrix as Markdown: tasks as rows, providers as columns, then a legend.
            pub const SUPPORT_MATRIX_MARKDOWN: &str = #matrix_markdown;

            #provider_enum
            #task_enum
            #task_spec_fn
            #statics
        }
    }

    fn provider_enum_tokens(&self) -> TokenStream {
        let idents: Vec<Ident> = self.providers.iter().map(ProviderEntry::ident).collect();
        let ids: Vec<&str> = self.providers.iter().map(|p| p.id.as_str()).collect();
        let names: Vec<&str> = self
            .providers
            .iter()
            .map(|p| p.display_name.as_str())
            .collect();
        let statics: Vec<Ident> = self.providers.iter().map(spec_static).collect();
        let docs = self.providers.iter().map(|p| {
            let mut doc = format!("{} (`{}`).", p.display_name, p.id);
            let mut modes = Vec::new();
            if let Some(prefix) = &p.routed_prefix {
                modes.push(format!("routed at `{prefix}`"));
            }
            if !p.hosts.is_empty() {
                let hosts: Vec<String> =
                    p.hosts.iter().map(|(_, url)| format!("<{url}>")).collect();
                modes.push(format!("direct at {}", hosts.join(" and ")));
            }
            let _ = write!(doc, " {}.", capitalize(&modes.join("; ")));
            if !p.is_live() {
                doc.push_str(
                    "\n\n**Removed** from the Hugging Face router: only direct calls with the \
                     provider's own key can work.",
                );
            }
            let _ = write!(
                doc,
                "\n\nTasks: {}.",
                code_list(p.tasks.iter().map(|t| t.task.as_str()))
            );
            doc
        });
        quote! {
            /// An inference provider, named by its Hub id.
            ///
            /// Variants are in id order. Removed providers are kept (see
            /// [`ProviderStatus::Removed`]).
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[non_exhaustive]
            pub enum Provider {
                #( #[doc = #docs] #idents, )*
            }

            impl Provider {
                /// Every provider of the table, sorted by Hub id, removed ones included.
                pub const ALL: &'static [Provider] = &[#(Provider::#idents),*];

                /// The Hub id, e.g. `"fal-ai"`.
                pub const fn as_str(self) -> &'static str {
                    match self {
                        #( Provider::#idents => #ids, )*
                    }
                }

                /// The human-readable name, e.g. `"Featherless AI"`.
                pub const fn display_name(self) -> &'static str {
                    match self {
                        #( Provider::#idents => #names, )*
                    }
                }

                /// Everything the table says about this provider.
                pub fn spec(self) -> &'static ProviderSpec {
                    match self {
                        #( Provider::#idents => &#statics, )*
                    }
                }
            }

            impl fmt::Display for Provider {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str(self.as_str())
                }
            }

            impl FromStr for Provider {
                type Err = UnknownProvider;

                /// Parses a Hub provider id (exact spelling).
                fn from_str(s: &str) -> Result<Self, Self::Err> {
                    match s {
                        #( #ids => Ok(Provider::#idents), )*
                        _ => Err(UnknownProvider(s.to_owned())),
                    }
                }
            }

            impl serde::Serialize for Provider {
                fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }

            impl<'de> serde::Deserialize<'de> for Provider {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    let id = String::deserialize(deserializer)?;
                    id.parse().map_err(serde::de::Error::custom)
                }
            }
        }
    }

    fn task_enum_tokens(&self) -> TokenStream {
        let idents: Vec<Ident> = self.tasks.iter().map(|t| task_ident(&t.id)).collect();
        let ids: Vec<&str> = self.tasks.iter().map(|t| t.id.as_str()).collect();
        let docs = self.tasks.iter().map(|t| {
            let mut doc = format!("`{}`", t.id);
            if let Some(alias) = &t.mapping_id {
                let _ = write!(doc, " (called `{alias}` in the Hub provider mapping)");
            }
            doc.push('.');
            if !t.has_schema {
                doc.push_str(" No JSON schema upstream: its types are hand-written.");
            }
            let providers: Vec<&str> = self.providers_of(&t.id).map(|p| p.id.as_str()).collect();
            if providers.is_empty() {
                doc.push_str("\n\nNo provider serves it yet.");
            } else {
                let _ = write!(doc, "\n\nServed by: {}.", code_list(providers.into_iter()));
            }
            doc
        });
        let providers = self.tasks.iter().map(|t| {
            let served = self.providers_of(&t.id).map(ProviderEntry::ident);
            quote!(&[#(Provider::#served),*])
        });
        let mapping_ids = self
            .tasks
            .iter()
            .map(|t| t.mapping_id.as_deref().unwrap_or(&t.id));
        let renamed: Vec<String> = self
            .tasks
            .iter()
            .filter_map(|t| Some(format!("`{}` is `{}`", t.id, t.mapping_id.as_ref()?)))
            .collect();
        let mapping_doc = if renamed.is_empty() {
            "The name of the task in the Hub provider mapping\n(`inferenceProviderMapping.<provider>.task`): always the task id.".to_owned()
        } else {
            format!(
                "The name of the task in the Hub provider mapping\n(`inferenceProviderMapping.<provider>.task`): the task id, except that {}.",
                renamed.join(", ")
            )
        };
        let alias_arms = self.tasks.iter().filter_map(|t| {
            let alias = t.mapping_id.as_ref()?;
            let ident = task_ident(&t.id);
            Some(quote!(#alias => Ok(Task::#ident),))
        });
        quote! {
            /// An inference task, named by its Hub task id (`text-to-image`, `chat-completion`).
            ///
            /// Variants are in id order: every task with a JSON schema in `specs/tasks/`, plus the
            /// table's `extra_tasks`.
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[non_exhaustive]
            pub enum Task {
                #( #[doc = #docs] #idents, )*
            }

            impl Task {
                /// Every known task, sorted by id.
                pub const ALL: &'static [Task] = &[#(Task::#idents),*];

                /// The task id, e.g. `"chat-completion"`.
                pub const fn as_str(self) -> &'static str {
                    match self {
                        #( Task::#idents => #ids, )*
                    }
                }

                #[doc = #mapping_doc]
                pub const fn mapping_id(self) -> &'static str {
                    match self {
                        #( Task::#idents => #mapping_ids, )*
                    }
                }

                /// The providers serving this task, sorted by id, removed ones included.
                pub const fn providers(self) -> &'static [Provider] {
                    match self {
                        #( Task::#idents => #providers, )*
                    }
                }
            }

            impl fmt::Display for Task {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str(self.as_str())
                }
            }

            impl FromStr for Task {
                type Err = UnknownTask;

                /// Parses a task id (exact spelling); the Hub provider-mapping names of
                /// [`Task::mapping_id`] are accepted too.
                fn from_str(s: &str) -> Result<Self, Self::Err> {
                    match s {
                        #( #ids => Ok(Task::#idents), )*
                        #( #alias_arms )*
                        _ => Err(UnknownTask(s.to_owned())),
                    }
                }
            }

            impl serde::Serialize for Task {
                fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }

            impl<'de> serde::Deserialize<'de> for Task {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    let id = String::deserialize(deserializer)?;
                    id.parse().map_err(serde::de::Error::custom)
                }
            }
        }
    }

    fn task_spec_fn_tokens(&self) -> TokenStream {
        let arms = self.providers.iter().flat_map(|p| {
            let provider = p.ident();
            let tasks_static = tasks_static(p);
            p.tasks.iter().enumerate().map(move |(index, t)| {
                let task = task_ident(&t.task);
                let index = proc_macro2::Literal::usize_unsuffixed(index);
                quote!((Provider::#provider, Task::#task) => Some(&#tasks_static[#index]),)
            })
        });
        quote! {
            /// How `provider` serves `task`, or `None` if it does not.
            pub fn task_spec(provider: Provider, task: Task) -> Option<&'static TaskSpec> {
                match (provider, task) {
                    #( #arms )*
                    _ => None,
                }
            }
        }
    }

    fn statics_tokens(&self) -> TokenStream {
        let items = self.providers.iter().map(|p| {
            let provider = p.ident();
            let spec_name = spec_static(p);
            let tasks_name = tasks_static(p);
            let count = proc_macro2::Literal::usize_unsuffixed(p.tasks.len());
            let tasks = p.tasks.iter().map(TaskEntry::tokens);
            let display_name = &p.display_name;
            let status = p.status.tokens();
            let routed_prefix = opt_str(&p.routed_prefix);
            let hosts = p
                .hosts
                .iter()
                .map(|(name, url)| quote!(Host { name: #name, base_url: #url }));
            let auth = p.auth.tokens();
            let token_required = p.token_required;
            let hub_mapping = p.hub_mapping;
            let extra_headers = str_pairs(&p.extra_headers);
            let spec_doc = format!("The table entry of [`Provider::{provider}`].");
            let tasks_doc = format!("The tasks of [`Provider::{provider}`], sorted by id.");
            quote! {
                #[doc = #tasks_doc]
                static #tasks_name: [TaskSpec; #count] = [#(#tasks),*];

                #[doc = #spec_doc]
                static #spec_name: ProviderSpec = ProviderSpec {
                    provider: Provider::#provider,
                    display_name: #display_name,
                    status: #status,
                    routed_prefix: #routed_prefix,
                    hosts: &[#(#hosts),*],
                    auth: #auth,
                    token_required: #token_required,
                    hub_mapping: #hub_mapping,
                    extra_headers: #extra_headers,
                    tasks: &#tasks_name,
                };
            }
        });
        quote!(#(#items)*)
    }
}

impl TaskEntry {
    fn tokens(&self) -> TokenStream {
        let task = task_ident(&self.task);
        let method = self.method.tokens();
        let route = &self.route;
        let versioned_route = opt_str(&self.versioned_route);
        let host = opt_str(&self.host);
        let routed_query = opt_str(&self.routed_query);
        let body = self.body.tokens();
        let payload = self.payload.tokens();
        let json_schema_format = match self.json_schema_format {
            Some(format) => {
                let format = format.tokens();
                quote!(Some(#format))
            }
            None => quote!(None),
        };
        let renames = str_pairs(&self.renames);
        let response = self.response.tokens();
        let result_pointer = opt_str(&self.result_pointer);
        let polling = self.polling.tokens();
        let stream = self.stream.tokens();
        quote! {
            TaskSpec {
                task: Task::#task,
                method: #method,
                route: #route,
                versioned_route: #versioned_route,
                host: #host,
                routed_query: #routed_query,
                body: #body,
                payload: #payload,
                json_schema_format: #json_schema_format,
                renames: #renames,
                response: #response,
                result_pointer: #result_pointer,
                polling: #polling,
                stream: #stream,
            }
        }
    }
}

fn spec_static(provider: &ProviderEntry) -> Ident {
    format_ident!("{}_SPEC", provider.id.to_shouty_snake_case())
}

fn tasks_static(provider: &ProviderEntry) -> Ident {
    format_ident!("{}_TASKS", provider.id.to_shouty_snake_case())
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real table.
    fn real_table() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/providers.toml");
        std::fs::read_to_string(path).expect("specs/providers.toml is readable")
    }

    /// The task ids with a schema: the folders of specs/tasks/.
    fn real_spec_tasks() -> Vec<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/tasks");
        let mut tasks: Vec<String> = std::fs::read_dir(dir)
            .expect("specs/tasks is readable")
            .filter_map(|entry| {
                let entry = entry.ok()?;
                entry
                    .file_type()
                    .ok()?
                    .is_dir()
                    .then(|| entry.file_name().to_string_lossy().into_owned())
            })
            .collect();
        tasks.sort();
        tasks
    }

    /// python-client.md §3.1: every provider of huggingface_hub 2.4.0 and the four rc6-only ones,
    /// with exactly the tasks they serve. (Column "chat" = chat-completion, "embeddings" =
    /// feature-extraction.)
    const EXPECTED_MATRIX: &[(&str, &[&str])] = &[
        ("baseten", &["chat-completion"]),
        ("cerebras", &["chat-completion"]),
        ("cohere", &["chat-completion"]),
        (
            "deepinfra",
            &[
                "chat-completion",
                "text-generation",
                "text-to-speech",
                "automatic-speech-recognition",
                "feature-extraction",
            ],
        ),
        (
            "fal-ai",
            &[
                "text-to-image",
                "image-to-image",
                "text-to-video",
                "image-to-video",
                "text-to-speech",
                "automatic-speech-recognition",
                "image-segmentation",
                // Not in 2.4.0: from the JS client (see specs/providers.toml).
                "image-text-to-image",
                "image-text-to-video",
            ],
        ),
        ("featherless-ai", &["chat-completion", "text-generation"]),
        ("fireworks-ai", &["chat-completion"]),
        ("groq", &["chat-completion"]),
        (
            "hf-inference",
            &[
                "chat-completion",
                "text-generation",
                "text-to-image",
                "image-to-image",
                "text-to-speech",
                "automatic-speech-recognition",
                "feature-extraction",
                "audio-classification",
                "audio-to-audio",
                "document-question-answering",
                "fill-mask",
                "image-classification",
                "image-segmentation",
                "image-to-text",
                "object-detection",
                "question-answering",
                "sentence-similarity",
                "summarization",
                "table-question-answering",
                "tabular-classification",
                "text-classification",
                "token-classification",
                "translation",
                "visual-question-answering",
                "zero-shot-classification",
                "zero-shot-image-classification",
            ],
        ),
        (
            "novita",
            &[
                "chat-completion",
                "image-text-to-video",
                "text-generation",
                "text-to-video",
            ],
        ),
        ("nscale", &["chat-completion", "text-to-image"]),
        ("openai", &["chat-completion"]),
        ("ovhcloud", &["chat-completion"]),
        ("publicai", &["chat-completion"]),
        (
            "replicate",
            &[
                "text-to-image",
                "image-to-image",
                "text-to-video",
                "text-to-speech",
                "automatic-speech-recognition",
            ],
        ),
        ("scaleway", &["chat-completion", "feature-extraction"]),
        (
            "together",
            &[
                "chat-completion",
                "text-generation",
                "text-to-image",
                "image-to-image",
                "text-to-video",
                "image-to-video",
                "text-to-speech",
                "feature-extraction",
            ],
        ),
        (
            "wavespeed",
            &[
                "text-to-image",
                "image-to-image",
                "text-to-video",
                "image-to-video",
                // Not in 2.4.0: from the JS client (see specs/providers.toml).
                "image-text-to-image",
                "image-text-to-video",
            ],
        ),
        ("zai-org", &["chat-completion", "text-to-image"]),
        ("black-forest-labs", &["text-to-image"]),
        (
            "hyperbolic",
            &["chat-completion", "text-generation", "text-to-image"],
        ),
        (
            "nebius",
            &[
                "chat-completion",
                "text-generation",
                "text-to-image",
                "feature-extraction",
            ],
        ),
        ("sambanova", &["chat-completion", "feature-extraction"]),
    ];

    const REMOVED: &[&str] = &["black-forest-labs", "hyperbolic", "nebius", "sambanova"];

    /// A tiny two-provider table for the snapshot and the error tests.
    const FIXTURE: &str = r#"
extra_tasks = ["tabular-regression"]
ignored_spec_tasks = ["placeholder"]

[router]
base_url = "https://router.example"
auto_chat_route = "/v1/chat/completions"

[mapping_task_ids]
chat-completion = "conversational"

[providers.acme-ai]
display_name = "Acme AI"
status = "live"
routed = true
direct = true
routed_prefix = "/acme-ai"
hosts = { api = "https://api.acme.example", queue = "https://queue.acme.example" }
auth = "key"
token_required = true
hub_mapping = true
extra_headers = { prefer = "wait" }

[providers.acme-ai.tasks.chat-completion]
method = "POST"
route = "/v1/chat/completions"
host = "api"
body = "json"
payload = "openai-chat"
json_schema_format = "json-object"
response = "openai-chat"
polling = "none"
stream = "openai-chat"

[providers.acme-ai.tasks.text-to-image]
method = "POST"
route = "/{provider_id}"
host = "queue"
routed_query = "_subdomain=queue"
body = "json"
payload = "provider"
response = "asset-url"
result_pointer = "/images/0/url"
polling = "fal-queue"

[providers.old-labs]
display_name = "Old Labs"
status = "removed"
routed = false
direct = true
hosts = { api = "https://api.old.example" }
auth = "x-key"
token_required = true
hub_mapping = false

[providers.old-labs.tasks.text-generation]
method = "POST"
route = "/v1/completions"
host = "api"
body = "json"
payload = "openai-completions"
renames = { max_new_tokens = "max_tokens" }
response = "openai-completions"
polling = "none"
"#;

    fn fixture_tasks() -> Vec<String> {
        [
            "chat-completion",
            "placeholder",
            "text-generation",
            "text-to-image",
        ]
        .map(String::from)
        .to_vec()
    }

    fn fixture_error(table: &str) -> String {
        match generate(table, &fixture_tasks()) {
            Ok(_) => panic!("the table should have been rejected"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn real_table_has_every_provider_and_exactly_its_tasks() {
        let table = Table::parse(&real_table(), &real_spec_tasks()).expect("the table is valid");
        assert_eq!(table.providers.len(), 23);
        let expected: BTreeMap<&str, BTreeSet<&str>> = EXPECTED_MATRIX
            .iter()
            .map(|(p, tasks)| (*p, tasks.iter().copied().collect()))
            .collect();
        assert_eq!(expected.len(), 23);
        let actual: BTreeMap<&str, BTreeSet<&str>> = table
            .providers
            .iter()
            .map(|p| {
                (
                    p.id.as_str(),
                    p.tasks.iter().map(|t| t.task.as_str()).collect(),
                )
            })
            .collect();
        for (provider, tasks) in &expected {
            assert_eq!(
                actual.get(provider),
                Some(tasks),
                "tasks of provider `{provider}`"
            );
        }
        assert_eq!(
            actual.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>()
        );
        for provider in &table.providers {
            let removed = REMOVED.contains(&provider.id.as_str());
            assert_eq!(
                provider.status == ProviderStatus::Removed,
                removed,
                "status of `{}`",
                provider.id
            );
        }
    }

    #[test]
    fn real_table_wire_facts() {
        let table = Table::parse(&real_table(), &real_spec_tasks()).expect("the table is valid");
        let provider = |id: &str| {
            table
                .providers
                .iter()
                .find(|p| p.id == id)
                .unwrap_or_else(|| panic!("provider {id}"))
        };
        let task = |p: &str, t: &str| {
            provider(p)
                .tasks
                .iter()
                .find(|e| e.task == t)
                .unwrap_or_else(|| panic!("{p} {t}"))
        };

        let openai = provider("openai");
        assert!(openai.routed_prefix.is_none() && !openai.hub_mapping);
        let hf = provider("hf-inference");
        assert!(hf.hosts.is_empty() && !hf.token_required && !hf.hub_mapping);
        assert_eq!(provider("fal-ai").auth, AuthScheme::Key);
        assert_eq!(provider("black-forest-labs").auth, AuthScheme::XKey);
        assert_eq!(
            provider("replicate").extra_headers,
            [("prefer".to_owned(), "wait".to_owned())]
        );
        assert_eq!(provider("zai-org").extra_headers.len(), 2);

        let queue = task("fal-ai", "text-to-video");
        assert_eq!(queue.host.as_deref(), Some("queue"));
        assert_eq!(queue.routed_query.as_deref(), Some("_subdomain=queue"));
        assert_eq!(queue.polling, Polling::FalQueue);
        assert_eq!(task("fal-ai", "text-to-image").host.as_deref(), Some("api"));
        assert_eq!(
            task("hf-inference", "feature-extraction").route,
            "/models/{model}/pipeline/feature-extraction"
        );
        assert_eq!(
            task("hf-inference", "chat-completion").route,
            "/models/{model}/v1/chat/completions"
        );
        assert_eq!(
            task("replicate", "text-to-image")
                .versioned_route
                .as_deref(),
            Some("/v1/predictions")
        );
        assert_eq!(
            task("groq", "chat-completion").route,
            "/openai/v1/chat/completions"
        );
        assert_eq!(
            task("deepinfra", "automatic-speech-recognition").body,
            BodyKind::Multipart
        );
        assert_eq!(
            task("together", "text-to-video").polling,
            Polling::TogetherVideo
        );
        assert_eq!(
            task("wavespeed", "image-to-video").polling,
            Polling::Wavespeed
        );
        assert_eq!(task("zai-org", "text-to-image").polling, Polling::Zai);
        assert_eq!(
            task("novita", "image-text-to-video").polling,
            Polling::NovitaMinimax
        );
        assert_eq!(
            task("black-forest-labs", "text-to-image").polling,
            Polling::Bfl
        );

        // Every chat entry has a JSON-schema format and streams chat chunks.
        for p in &table.providers {
            if let Some(chat) = p.tasks.iter().find(|t| t.task == "chat-completion") {
                assert_eq!(chat.payload, PayloadStyle::OpenAiChat, "{}", p.id);
                assert!(chat.json_schema_format.is_some(), "{}", p.id);
                assert_eq!(chat.stream, StreamStyle::OpenAiChat, "{}", p.id);
            }
        }
    }

    #[test]
    fn real_table_generates() {
        let out = generate(&real_table(), &real_spec_tasks()).expect("generation succeeds");
        assert_eq!(out.provider_count, 23);
        assert_eq!(out.supported_pairs, 89);
        assert!(out.rust.starts_with(crate::render::GENERATED_HEADER));
        for needle in [
            "FalAi",
            "HfInference",
            "ZaiOrg",
            "BlackForestLabs",
            "ChatCompletion",
            "\"conversational\" => Ok(Task::ChatCompletion)",
            "AudioToAudio",
            "TabularRegression",
        ] {
            assert!(
                out.rust.contains(needle),
                "generated code mentions {needle}"
            );
        }
        assert!(!out.rust.contains("Placeholder"));
        assert!(out.matrix_markdown.contains("black-forest-labs†"));
        assert!(out.matrix_markdown.contains("| `chat-completion` |"));
        // tabular-regression is known but served by nobody in 2.4.0.
        assert!(out.matrix_markdown.contains("`tabular-regression`"));
        assert!(!out.matrix_markdown.contains("| `tabular-regression` |"));
    }

    #[test]
    fn output_is_deterministic() {
        let first = generate(&real_table(), &real_spec_tasks()).expect("generation succeeds");
        let mut reversed = real_spec_tasks();
        reversed.reverse();
        let second = generate(&real_table(), &reversed).expect("generation succeeds");
        assert_eq!(first.rust, second.rust);
        assert_eq!(first.matrix_markdown, second.matrix_markdown);

        // Reordering the providers in the file changes nothing either.
        let (head, rest) = FIXTURE.split_at(FIXTURE.find("[providers.acme-ai]").unwrap());
        let (acme, old) = rest.split_at(rest.find("[providers.old-labs]").unwrap());
        let swapped = format!("{head}{old}\n{acme}");
        let a = generate(FIXTURE, &fixture_tasks()).expect("fixture is valid");
        let b = generate(&swapped, &fixture_tasks()).expect("swapped fixture is valid");
        assert_eq!(a.rust, b.rust);
        assert_eq!(a.matrix_markdown, b.matrix_markdown);
    }

    #[test]
    fn fixture_snapshot() {
        let out = generate(FIXTURE, &fixture_tasks()).expect("fixture is valid");
        assert_eq!(out.provider_count, 2);
        assert_eq!(out.task_count, 3);
        assert_eq!(out.supported_pairs, 3);
        insta::assert_snapshot!("fixture_providers_rs", out.rust);
    }

    #[test]
    fn rejects_unknown_key() {
        let table = FIXTURE.replace(
            "polling = \"fal-queue\"",
            "polling = \"fal-queue\"\ntimeout = 5",
        );
        let message = fixture_error(&table);
        assert!(
            message.contains("provider `acme-ai`, task `text-to-image`"),
            "{message}"
        );
        assert!(message.contains("timeout"), "{message}");

        let table = FIXTURE.replace(
            "hub_mapping = false",
            "hub_mapping = false\nregion = \"eu\"",
        );
        let message = fixture_error(&table);
        assert!(message.contains("provider `old-labs`"), "{message}");
        assert!(message.contains("region"), "{message}");

        let message = fixture_error(&format!("colour = \"red\"\n{FIXTURE}"));
        assert!(message.contains("colour"), "{message}");
    }

    #[test]
    fn rejects_unknown_task_id() {
        let table = FIXTURE.replace(
            "[providers.acme-ai.tasks.text-to-image]",
            "[providers.acme-ai.tasks.text-to-hologram]",
        );
        let message = fixture_error(&table);
        assert!(
            message.contains("provider `acme-ai`, task `text-to-hologram`: unknown task id"),
            "{message}"
        );

        let table = FIXTURE.replace(
            "[providers.acme-ai.tasks.chat-completion]",
            "[providers.acme-ai.tasks.conversational]",
        );
        let message = fixture_error(&table);
        assert!(message.contains("use `chat-completion`"), "{message}");

        // An ignored spec task is not a task.
        let table = FIXTURE.replace(
            "[providers.acme-ai.tasks.text-to-image]",
            "[providers.acme-ai.tasks.placeholder]",
        );
        assert!(fixture_error(&table).contains("task `placeholder`: unknown task id"));
    }

    #[test]
    fn rejects_unknown_enum_values() {
        let message = fixture_error(&FIXTURE.replace("auth = \"key\"", "auth = \"basic\""));
        assert!(message.contains("provider `acme-ai`"), "{message}");
        assert!(message.contains("`auth` = \"basic\""), "{message}");
        assert!(message.contains("\"x-key\""), "{message}");

        let message =
            fixture_error(&FIXTURE.replace("polling = \"fal-queue\"", "polling = \"poll\""));
        assert!(
            message.contains("provider `acme-ai`, task `text-to-image`: `polling` = \"poll\""),
            "{message}"
        );
    }

    #[test]
    fn rejects_inconsistent_entries() {
        let cases: &[(&str, &str, &str)] = &[
            // Unknown route placeholder.
            (
                "route = \"/{provider_id}\"",
                "route = \"/{modelid}\"",
                "unknown placeholder {modelid}",
            ),
            // Host that does not exist.
            (
                "host = \"queue\"",
                "host = \"cdn\"",
                "is not one of the provider's hosts",
            ),
            // Direct-only provider with a routed query.
            (
                "route = \"/v1/completions\"",
                "route = \"/v1/completions\"\nrouted_query = \"a=b\"",
                "provider is not routed",
            ),
            // Routed-only provider with hosts.
            (
                "routed = false\ndirect = true",
                "routed = false\ndirect = false",
                "neither routed nor direct",
            ),
            // Missing pointer.
            (
                "result_pointer = \"/images/0/url\"\n",
                "",
                "needs `result_pointer`",
            ),
            // Payload and body disagree.
            (
                "payload = \"openai-completions\"",
                "payload = \"hf-inference-binary\"",
                "needs body = \"bytes\"",
            ),
            // Wrong router prefix.
            (
                "routed_prefix = \"/acme-ai\"",
                "routed_prefix = \"/acme\"",
                "expected \"/acme-ai\"",
            ),
        ];
        for (from, to, expected) in cases {
            assert!(FIXTURE.contains(from), "fixture contains {from}");
            let message = fixture_error(&FIXTURE.replacen(from, to, 1));
            assert!(message.contains(expected), "{from} -> {to}: {message}");
        }
    }

    #[test]
    fn route_templates() {
        assert!(route_problem("/models/{model}/pipeline/feature-extraction").is_ok());
        assert!(route_problem("/v1/models/{provider_id}/predictions").is_ok());
        assert!(route_problem("v1/chat").is_err());
        assert!(route_problem("/x?y=1").is_err());
        assert!(route_problem("/{model").is_err());
        assert!(route_problem("/model}").is_err());
    }
}
