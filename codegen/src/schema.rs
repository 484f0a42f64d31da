//! Loading the Hub's task schemas and rewriting them into the JSON-Schema dialect typify reads.
//!
//! The schemas in `@huggingface/tasks` are written for the Hub's own TypeScript and Python
//! generators. They use `$defs`, cross-file `$ref`s, OpenAPI's `nullable`, string-encoded
//! defaults and a few slips (a `required` name that is not a property, `minLength` on arrays).
//! Each rewrite below is named after the rule in `shared/reference/typify-notes.md` (R1…R13)
//! and fails loudly ([`CodegenError::StaleFix`]) when the schema it targets has changed, so a
//! spec update is reviewed rather than silently degraded.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::CodegenError;

/// Prefix of cross-file references to the shared definitions.
const COMMON_REF_PREFIX: &str = "/inference/schemas/common-definitions.json#/definitions/";

/// One spec file as read from `specs/tasks/`.
#[derive(Debug, Clone)]
pub struct SpecFile {
    /// Task folder name, e.g. `text-to-image` (`common` for `common-definitions.json`).
    pub task: String,
    /// File stem: `input`, `output` or `stream_output`.
    pub kind: String,
    /// The file's text.
    pub text: String,
}

/// Which side of the wire a definition is on: request types are sent (strict), response types
/// are received (lenient: unknown fields are kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Built by the caller and serialized into a request.
    Request,
    /// Deserialized from a server response.
    Response,
}

/// A task's schemas flattened into one `definitions` map, ready for typify.
#[derive(Debug, Clone)]
pub struct NormalizedTask {
    /// Task id, e.g. `text-to-image`.
    pub task: String,
    /// All definitions of the task (file roots under their titles), rewritten.
    pub definitions: BTreeMap<String, Value>,
    /// The names of common definitions this task uses (replaced by the shared `common` types).
    pub common_refs: BTreeSet<String>,
    /// Root type names in file order (input, output, stream output).
    pub roots: Vec<String>,
    /// Whether the input carries binary data (an image, audio).
    pub binary_input: bool,
    /// The binary fields of the input, as (struct name, field name): `("ImageClassificationInput",
    /// "inputs")`, `("VisualQuestionAnsweringInputData", "image")`.
    pub binary_fields: Vec<(String, String)>,
}

/// Parses a spec file's text into JSON, naming the file on error.
pub fn parse(file: &SpecFile) -> Result<Value, CodegenError> {
    serde_json::from_str(&file.text).map_err(|e| CodegenError::Parse {
        file: format!("tasks/{}/spec/{}.json", file.task, file.kind),
        message: e.to_string(),
    })
}

/// Normalizes `common-definitions.json` into a definitions map.
pub fn normalize_common(text: &str) -> Result<BTreeMap<String, Value>, CodegenError> {
    let root: Value = serde_json::from_str(text).map_err(|e| CodegenError::Parse {
        file: "tasks/common-definitions.json".into(),
        message: e.to_string(),
    })?;
    let defs = root
        .get("definitions")
        .and_then(Value::as_object)
        .ok_or_else(|| CodegenError::Unsupported {
            task: "common".into(),
            pointer: "/definitions".into(),
            detail: "common-definitions.json has no `definitions` object".into(),
        })?;
    let mut out = BTreeMap::new();
    for (name, schema) in defs {
        out.insert(name.clone(), schema.clone());
    }
    let mut refs = BTreeSet::new();
    for (name, schema) in out.iter_mut() {
        rewrite_refs(schema, &mut refs, "common", name)?;
        // Shared outputs (`ClassificationOutput`) are received; the rest are parameters.
        let side = if name.contains("Output") && !name.contains("Transform") {
            Side::Response
        } else {
            Side::Request
        };
        apply_generic_rules(schema, side)?;
    }
    fix_early_stopping(&mut out)?;
    Ok(out)
}

/// Normalizes the 1–3 schema files of one task.
pub fn normalize_task(
    task: &str,
    files: &[SpecFile],
    common: &BTreeMap<String, Value>,
) -> Result<NormalizedTask, CodegenError> {
    let mut definitions = BTreeMap::new();
    let mut roots = Vec::new();
    let mut common_refs = BTreeSet::new();
    let mut sides = BTreeMap::new();
    for file in files {
        let mut root = parse(file)?;
        let side = if file.kind == "input" {
            Side::Request
        } else {
            Side::Response
        };
        let obj = root
            .as_object_mut()
            .ok_or_else(|| CodegenError::Unsupported {
                task: task.into(),
                pointer: format!("{}.json", file.kind),
                detail: "the root is not an object".into(),
            })?;
        let title = obj
            .get("title")
            .and_then(Value::as_str)
            .ok_or_else(|| CodegenError::Unsupported {
                task: task.into(),
                pointer: format!("{}.json#/title", file.kind),
                detail: "a root schema needs a title to name its type".into(),
            })?
            .to_owned();
        // R1: `$defs` (draft 2019) move into the shared `definitions` map.
        if let Some(Value::Object(defs)) = obj.remove("$defs") {
            for (name, schema) in defs {
                sides.insert(name.clone(), side);
                if definitions.insert(name.clone(), schema).is_some() {
                    return Err(CodegenError::Unsupported {
                        task: task.into(),
                        pointer: format!("{}.json#/$defs/{name}", file.kind),
                        detail: "two files of the task define the same name".into(),
                    });
                }
            }
        }
        if obj.contains_key("definitions") {
            return Err(CodegenError::Unsupported {
                task: task.into(),
                pointer: format!("{}.json#/definitions", file.kind),
                detail: "a task file with `definitions` (only `$defs` is expected)".into(),
            });
        }
        for key in ["$id", "$schema"] {
            obj.remove(key);
        }
        sides.insert(title.clone(), side);
        roots.push(title.clone());
        definitions.insert(title, root);
    }
    for (name, schema) in definitions.iter_mut() {
        rewrite_refs(schema, &mut common_refs, task, name)?;
    }
    // R2: bundle the common definitions the task uses, transitively.
    let mut pending: Vec<String> = common_refs.iter().cloned().collect();
    while let Some(name) = pending.pop() {
        let schema = common.get(&name).ok_or_else(|| CodegenError::Unsupported {
            task: task.into(),
            pointer: format!("{COMMON_REF_PREFIX}{name}"),
            detail: "reference to a common definition that does not exist".into(),
        })?;
        let mut inner = BTreeSet::new();
        collect_local_refs(schema, &mut inner);
        for dep in inner {
            if common_refs.insert(dep.clone()) {
                pending.push(dep);
            }
        }
        if definitions.contains_key(&name) {
            return Err(CodegenError::Unsupported {
                task: task.into(),
                pointer: format!("#/definitions/{name}"),
                detail: "a task definition shadows a common definition".into(),
            });
        }
        definitions.insert(name.clone(), schema.clone());
        sides.insert(name, Side::Response);
    }
    for (name, schema) in definitions.iter_mut() {
        if common_refs.contains(name) {
            continue; // already normalized in `normalize_common`
        }
        let side = sides.get(name).copied().unwrap_or(Side::Request);
        apply_generic_rules(schema, side)?;
    }
    apply_task_patches(task, &mut definitions)?;
    let mut binary_fields = Vec::new();
    for file in files.iter().filter(|f| f.kind == "input") {
        let root = parse(file)?;
        let title = root
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default();
        find_binary_fields(&root, title, &mut binary_fields);
    }
    Ok(NormalizedTask {
        binary_input: !binary_fields.is_empty(),
        binary_fields,
        task: task.to_owned(),
        definitions,
        common_refs,
        roots,
    })
}

/// Finds `"comment": "type=binary"` properties, naming the struct (schema title or `$defs`
/// name) that holds each.
fn find_binary_fields(value: &Value, owner: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match key.as_str() {
                    "properties" => {
                        let owner = map.get("title").and_then(Value::as_str).unwrap_or(owner);
                        for (prop, schema) in v.as_object().into_iter().flatten() {
                            if schema.get("comment").and_then(Value::as_str) == Some("type=binary")
                            {
                                out.push((owner.to_owned(), prop.clone()));
                            }
                            find_binary_fields(schema, owner, out);
                        }
                    }
                    "$defs" => {
                        for (name, schema) in v.as_object().into_iter().flatten() {
                            find_binary_fields(schema, name, out);
                        }
                    }
                    _ => find_binary_fields(v, owner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| find_binary_fields(v, owner, out)),
        _ => {}
    }
}

/// R1 and R2 on references: `#/$defs/X` and the common-definitions URL both become
/// `#/definitions/X`; cross-file targets are recorded in `common`.
fn rewrite_refs(
    value: &mut Value,
    common: &mut BTreeSet<String>,
    task: &str,
    at: &str,
) -> Result<(), CodegenError> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref").cloned() {
                let name = if let Some(name) = target.strip_prefix("#/$defs/") {
                    name.to_owned()
                } else if let Some(name) = target.strip_prefix("#/definitions/") {
                    name.to_owned()
                } else if let Some(name) = target.strip_prefix(COMMON_REF_PREFIX) {
                    common.insert(name.to_owned());
                    name.to_owned()
                } else {
                    return Err(CodegenError::Unsupported {
                        task: task.into(),
                        pointer: format!("#/definitions/{at}"),
                        detail: format!("unsupported $ref target `{target}`"),
                    });
                };
                map.insert(
                    "$ref".into(),
                    Value::String(format!("#/definitions/{name}")),
                );
                // A `$ref` with sibling `type`/`title` makes typify unwrap a None: the
                // reference alone carries the type.
                map.remove("type");
                map.remove("title");
            }
            for v in map.values_mut() {
                rewrite_refs(v, common, task, at)?;
            }
        }
        Value::Array(items) => {
            for v in items {
                rewrite_refs(v, common, task, at)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn collect_local_refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref")
                && let Some(name) = target.strip_prefix("#/definitions/")
            {
                out.insert(name.to_owned());
            }
            map.values().for_each(|v| collect_local_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_local_refs(v, out)),
        _ => {}
    }
}

/// The rules that apply to every schema node (R4, R5, R7, R8, R9, R10, doc escaping, and the
/// unknown-field map on response objects).
fn apply_generic_rules(value: &mut Value, side: Side) -> Result<(), CodegenError> {
    let Value::Object(map) = value else {
        if let Value::Array(items) = value {
            for v in items {
                apply_generic_rules(v, side)?;
            }
        }
        return Ok(());
    };

    // R4: defaults are server behaviour, not client values. typify would turn a defaulted field
    // into a non-Option and send the default on every request; move it to the docs instead.
    if let Some(default) = map.remove("default") {
        let shown = match &default {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if shown != "null" {
            append_description(map, &format!("Server default: `{shown}`."));
        }
    }
    // Examples are documentation; `example`/`comment` text is kept out of typify's way.
    map.remove("example");
    map.remove("discriminator");

    // R8: binary payloads (`"comment": "type=binary"`) travel as base64 strings in JSON bodies.
    if map.get("comment").and_then(Value::as_str) == Some("type=binary")
        && !map.contains_key("type")
    {
        map.insert("type".into(), json!("string"));
        append_description(map, "Base64-encoded bytes when sent in a JSON body.");
    }
    map.remove("comment");

    // R9: `minLength`/`maxLength` on arrays are meant as item counts.
    if map.get("type").and_then(Value::as_str) == Some("array") {
        for (from, to) in [("minLength", "minItems"), ("maxLength", "maxItems")] {
            if let Some(v) = map.remove(from) {
                map.insert(to.into(), v);
            }
        }
    }

    // R10: `exclusiveMinimum: 0` on integers would give `NonZeroU64`; a plain unsigned integer
    // is what users expect to write, and the server validates the range.
    if map.get("type").and_then(Value::as_str) == Some("integer")
        && let Some(v) = map.remove("exclusiveMinimum")
    {
        if v.as_f64() == Some(0.0) {
            map.insert("minimum".into(), json!(0));
        } else {
            map.insert("exclusiveMinimum".into(), v);
        }
    }

    // R5: a `required` name that is not a property: use its snake_case form if that exists.
    if let (Some(Value::Array(required)), Some(Value::Object(props))) =
        (map.get("required").cloned(), map.get("properties"))
    {
        let fixed: Vec<Value> = required
            .iter()
            .filter_map(|name| {
                let name = name.as_str()?;
                if props.contains_key(name) {
                    Some(json!(name))
                } else {
                    let snake = heck::ToSnakeCase::to_snake_case(name);
                    props.contains_key(&snake).then(|| json!(snake))
                }
            })
            .collect();
        map.insert("required".into(), Value::Array(fixed));
    }

    // R7: OpenAPI `nullable: true` is ignored by typify; spell it as a JSON-Schema union so an
    // explicit `null` from a server deserializes.
    if map.remove("nullable") == Some(Value::Bool(true)) {
        make_nullable(map);
    }

    if let Some(Value::String(desc)) = map.get_mut("description") {
        *desc = escape_doc(desc);
    }

    // Lenient in what we accept: response objects keep fields the schema does not know.
    if side == Side::Response
        && map.get("type").and_then(Value::as_str) == Some("object")
        && map.contains_key("properties")
        && !map.contains_key("additionalProperties")
    {
        map.insert("additionalProperties".into(), json!({}));
    }

    for (key, v) in map.iter_mut() {
        match key.as_str() {
            "properties" | "definitions" | "patternProperties" => {
                if let Value::Object(props) = v {
                    for p in props.values_mut() {
                        apply_generic_rules(p, side)?;
                    }
                }
            }
            "enum" | "const" | "required" => {}
            _ => apply_generic_rules(v, side)?,
        }
    }
    Ok(())
}

fn make_nullable(map: &mut Map<String, Value>) {
    match map.get("type").cloned() {
        Some(Value::String(t)) if t != "null" => {
            map.insert("type".into(), json!([t, "null"]));
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                values.push(Value::Null);
            }
        }
        Some(_) => {}
        None => {
            // `allOf: [{$ref}]`, `oneOf`, bare `$ref`: wrap the schema in `anyOf [S, null]`.
            let keep_doc: Vec<(String, Value)> = ["description", "title"]
                .iter()
                .filter_map(|k| map.remove(*k).map(|v| ((*k).to_owned(), v)))
                .collect();
            let inner = std::mem::take(map);
            let inner = if inner.len() == 1
                && let Some(Value::Array(all)) = inner.get("allOf")
                && all.len() == 1
            {
                all[0].clone()
            } else {
                Value::Object(inner)
            };
            map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
            for (k, v) in keep_doc {
                map.insert(k, v);
            }
        }
    }
}

fn append_description(map: &mut Map<String, Value>, text: &str) {
    match map.get_mut("description") {
        Some(Value::String(desc)) => {
            desc.push_str("\n\n");
            desc.push_str(text);
        }
        _ => {
            map.insert("description".into(), json!(text));
        }
    }
}

/// Makes a schema description safe as rustdoc: Markdown links `[text](https://…)` stay, other
/// brackets are escaped (so `[DONE]` is not an intra-doc link), bare URLs become autolinks.
fn escape_doc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            // A Markdown link: `[text](http…)`.
            if let Some(close) = rest.find("](")
                && !rest[1..close].contains(['[', ']'])
                && rest[close + 2..].starts_with("http")
                && let Some(end) = rest[close..].find(')')
            {
                let end = close + end + 1;
                out.push_str(&rest[..end]);
                rest = &rest[end..];
                continue;
            }
            out.push_str("\\[");
            rest = &rest[1..];
        } else if c == ']' {
            out.push_str("\\]");
            rest = &rest[1..];
        } else if (rest.starts_with("https://") || rest.starts_with("http://"))
            && !out.ends_with('<')
            && !out.ends_with('(')
        {
            let len = rest
                .find(|ch: char| ch.is_whitespace() || ch == '"' || ch == '\'')
                .unwrap_or(rest.len());
            let url = rest[..len].trim_end_matches(['.', ',', ')', ';', ':']);
            out.push('<');
            out.push_str(url);
            out.push('>');
            rest = &rest[url.len()..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// R3: `early_stopping` mixes a boolean and a string in one `enum`, which typify cannot model.
fn fix_early_stopping(defs: &mut BTreeMap<String, Value>) -> Result<(), CodegenError> {
    let stale = |detail: &str| CodegenError::StaleFix {
        fix: "R3-early-stopping-mixed-enum".into(),
        task: "common".into(),
        detail: detail.into(),
    };
    let params = defs
        .get_mut("GenerationParameters")
        .ok_or_else(|| stale("GenerationParameters is gone"))?;
    let field = params
        .pointer_mut("/properties/early_stopping")
        .ok_or_else(|| stale("GenerationParameters.early_stopping is gone"))?;
    let Value::Object(map) = field else {
        return Err(stale("early_stopping is not an object"));
    };
    let mixed = matches!(map.get("type"), Some(Value::Array(t)) if t.iter().any(|v| v == "boolean") && t.iter().any(|v| v == "string"));
    if !mixed {
        return Err(stale("early_stopping is no longer a boolean/string union"));
    }
    let strings: Vec<Value> = map
        .get("enum")
        .and_then(Value::as_array)
        .map(|values| values.iter().filter(|v| v.is_string()).cloned().collect())
        .unwrap_or_default();
    map.remove("type");
    map.remove("enum");
    map.insert(
        "oneOf".into(),
        json!([
            {"type": "boolean", "title": "Boolean"},
            {"type": "string", "enum": strings, "title": "EarlyStoppingMode"}
        ]),
    );
    Ok(())
}

/// One named, reviewed change to a task schema. `apply` returns an error message when the
/// schema no longer has the shape the patch was written for.
struct Patch {
    name: &'static str,
    task: &'static str,
    why: &'static str,
    apply: fn(&mut BTreeMap<String, Value>) -> Result<(), String>,
}

/// The Hub-schema patches (R13 of the typify notes), keyed by task.
const PATCHES: &[Patch] = &[
    Patch {
        name: "R13a-function-arguments",
        task: "chat-completion",
        why: "OpenAI-style tool calls in the request history carry `arguments`; TGI accepts it as an alias of `parameters`. Without it, replayed tool calls lose their arguments.",
        apply: |defs| {
            add_property(
                defs,
                "ChatCompletionInputFunctionDefinition",
                "arguments",
                json!({"description": "The arguments of a function call, as the model produced them (a JSON string for OpenAI-compatible servers)."}),
            )
        },
    },
    Patch {
        name: "R13c-system-fingerprint-optional",
        task: "chat-completion",
        why: "OpenAI-compatible providers send `system_fingerprint: null` or omit it.",
        apply: |defs| {
            unrequire(defs, "ChatCompletionOutput", &["system_fingerprint"])?;
            unrequire(defs, "ChatCompletionStreamOutput", &["system_fingerprint"])
        },
    },
    Patch {
        name: "R13e-stream-tool-call-delta",
        task: "chat-completion",
        why: "After the first chunk of a tool call, OpenAI deltas carry only `index` and a piece of `function.arguments`.",
        apply: |defs| {
            unrequire(
                defs,
                "ChatCompletionStreamOutputDeltaToolCall",
                &["id", "type", "function"],
            )?;
            unrequire(defs, "ChatCompletionStreamOutputFunction", &["arguments"])
        },
    },
    Patch {
        name: "R13h-tgi-stream-index-optional",
        task: "text-generation",
        why: "TGI streams before 1.0 send token events without `index` (a recorded hf-inference stream does).",
        apply: |defs| unrequire(defs, "TextGenerationStreamOutput", &["index"]),
    },
    Patch {
        name: "R13g-asr-open-timestamp",
        task: "automatic-speech-recognition",
        why: "Whisper's last chunk can end with `[start, null]`.",
        apply: |defs| {
            let chunk = defs
                .get_mut("AutomaticSpeechRecognitionOutput")
                .and_then(|s| s.pointer_mut("/properties/chunks/items/properties/timestamp/items"))
                .ok_or("AutomaticSpeechRecognitionOutput.chunks[].timestamp is gone")?;
            if chunk.get("type") != Some(&json!("number")) {
                return Err("timestamp items are no longer numbers".into());
            }
            chunk["type"] = json!(["number", "null"]);
            Ok(())
        },
    },
];

fn add_property(
    defs: &mut BTreeMap<String, Value>,
    def: &str,
    prop: &str,
    schema: Value,
) -> Result<(), String> {
    let props = defs
        .get_mut(def)
        .and_then(|s| s.get_mut("properties"))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| format!("{def} has no properties"))?;
    if props.contains_key(prop) {
        return Err(format!("{def}.{prop} exists upstream now: drop the patch"));
    }
    props.insert(prop.into(), schema);
    Ok(())
}

fn unrequire(defs: &mut BTreeMap<String, Value>, def: &str, names: &[&str]) -> Result<(), String> {
    let required = defs
        .get_mut(def)
        .and_then(|s| s.get_mut("required"))
        .and_then(Value::as_array_mut)
        .ok_or_else(|| format!("{def} has no `required` list"))?;
    for name in names {
        let before = required.len();
        required.retain(|v| v != name);
        if required.len() == before {
            return Err(format!(
                "{def}.{name} is no longer required: drop it from the patch"
            ));
        }
    }
    Ok(())
}

fn apply_task_patches(task: &str, defs: &mut BTreeMap<String, Value>) -> Result<(), CodegenError> {
    for patch in PATCHES.iter().filter(|p| p.task == task) {
        (patch.apply)(defs).map_err(|detail| CodegenError::StaleFix {
            fix: patch.name.into(),
            task: task.into(),
            detail: format!("{detail} (patch reason: {})", patch.why),
        })?;
    }
    Ok(())
}

/// Names of the patches, for the regen summary and the docs.
pub fn patch_names() -> Vec<&'static str> {
    let mut names = vec!["R3-early-stopping-mixed-enum"];
    names.extend(PATCHES.iter().map(|p| p.name));
    names
}

/// After normalization, nothing typify cannot read may remain. Returns the first offending
/// construct.
pub fn check_clean(task: &str, name: &str, value: &Value) -> Result<(), CodegenError> {
    fn walk(value: &Value, path: &mut String, task: &str) -> Result<(), CodegenError> {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    let bad = match key.as_str() {
                        "$defs" | "nullable" | "default" => true,
                        "$ref" => !v.as_str().is_some_and(|s| s.starts_with("#/definitions/")),
                        _ => false,
                    };
                    if bad {
                        return Err(CodegenError::Unsupported {
                            task: task.into(),
                            pointer: format!("{path}/{key}"),
                            detail: "left over after normalization".into(),
                        });
                    }
                    let len = path.len();
                    path.push('/');
                    path.push_str(key);
                    walk(v, path, task)?;
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("/{i}"));
                    walk(v, path, task)?;
                    path.truncate(len);
                }
            }
            _ => {}
        }
        Ok(())
    }
    let mut path = format!("#/definitions/{name}");
    walk(value, &mut path, task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_primitive_becomes_type_union() {
        let mut v = json!({"type": "number", "nullable": true});
        apply_generic_rules(&mut v, Side::Request).unwrap();
        assert_eq!(v, json!({"type": ["number", "null"]}));
    }

    #[test]
    fn nullable_ref_wrapper_becomes_any_of() {
        let mut v =
            json!({"allOf": [{"$ref": "#/definitions/X"}], "nullable": true, "description": "d"});
        apply_generic_rules(&mut v, Side::Request).unwrap();
        assert_eq!(
            v,
            json!({"anyOf": [{"$ref": "#/definitions/X"}, {"type": "null"}], "description": "d"})
        );
    }

    #[test]
    fn defaults_move_to_docs() {
        let mut v = json!({"type": "integer", "default": "1024", "description": "Max."});
        apply_generic_rules(&mut v, Side::Request).unwrap();
        assert_eq!(
            v,
            json!({"type": "integer", "description": "Max.\n\nServer default: `1024`."})
        );
    }

    #[test]
    fn docs_escape_brackets_and_urls() {
        assert_eq!(
            escape_doc("[UNUSED] see https://x.y/z."),
            "\\[UNUSED\\] see <https://x.y/z>."
        );
        assert_eq!(
            escape_doc("See [this paper](https://hf.co/papers/1) and data: [DONE]"),
            "See [this paper](https://hf.co/papers/1) and data: \\[DONE\\]"
        );
    }

    #[test]
    fn stale_patch_is_reported_by_name() {
        let mut defs = BTreeMap::new();
        defs.insert(
            "ChatCompletionOutput".to_owned(),
            json!({"required": ["id"]}),
        );
        let err =
            unrequire(&mut defs, "ChatCompletionOutput", &["system_fingerprint"]).unwrap_err();
        assert!(err.contains("system_fingerprint"), "{err}");
    }
}
