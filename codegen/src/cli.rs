//! The task commands of the `hfi` command line (`cli/src/generated/tasks.rs`): for every task,
//! its help text and parameters (names, kinds, enum values, descriptions) from the task's schema,
//! and for every generated task method the code that calls it with typed arguments.
//!
//! The entry-method shape (which fields are arguments, which are setters, which are files) is
//! read the same way [`crate::tasks`] reads it; the emitted calls name the SDK's methods and
//! setters, so any disagreement fails to compile rather than drifting.

use std::collections::BTreeMap;

use heck::ToSnakeCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

// Setter names the SDK suffixes with `_parameter`: the SDK generator's own list.
use crate::tasks::RESERVED;
use crate::tasks::TaskMethod;
use crate::types::{FieldInfo, ModuleInfo, StructInfo};

/// Where the generated file goes, relative to the workspace root.
pub const CLI_TASKS_PATH: &str = "cli/src/generated/tasks.rs";

/// Short names of the subcommands (`hfi asr`), besides the task id.
const ALIASES: &[(&str, &[&str])] = &[
    ("automatic-speech-recognition", &["asr"]),
    ("text-to-image", &["t2i"]),
    ("text-to-speech", &["tts"]),
    ("text-to-video", &["t2v"]),
    ("image-to-image", &["i2i"]),
    ("image-to-video", &["i2v"]),
    ("image-to-text", &["i2t"]),
    ("feature-extraction", &["embed"]),
    ("text-generation", &["generate"]),
];

/// One task known to the CLI: its schema module and, when it has a generated method, the method.
pub struct CliTask<'a> {
    /// Task id.
    pub task: &'a str,
    /// The generated module's structs.
    pub info: &'a ModuleInfo,
    /// Root type names (input first).
    pub roots: &'a [String],
    /// The task's normalized definitions (for descriptions and enum values).
    pub definitions: &'a BTreeMap<String, Value>,
    /// The generated method, if the task has one (`None`: hand-written in the SDK and the CLI).
    pub method: Option<&'a TaskMethod<'a>>,
}

/// An argument of a task command, in entry-method order.
struct ArgSpec {
    name: String,
    pointer: String,
    kind: &'static str,
    required: bool,
    help: String,
    /// The Rust type of a typed (non-file) argument.
    ty: Option<syn::Type>,
    /// For an optional file: the setter that takes it.
    setter: Option<syn::Ident>,
}

/// A parameter (`--param key=value`).
struct ParamSpec {
    name: String,
    location: &'static str,
    kind: TokenStream,
    help: String,
    ty: syn::Type,
    setter: syn::Ident,
}

/// Emits `cli/src/generated/tasks.rs`.
pub fn generate(
    tasks: &[CliTask<'_>],
    common: &BTreeMap<String, Value>,
) -> Result<String, crate::CodegenError> {
    let mut entries = Vec::new();
    let mut arms = Vec::new();
    for task in tasks {
        let Some((args, params, about, output)) = describe(task, common) else {
            continue;
        };
        let name = task.task;
        let aliases: Vec<&str> = ALIASES
            .iter()
            .find(|(t, _)| *t == name)
            .map(|(_, a)| a.to_vec())
            .unwrap_or_default();
        let output_kind = format_ident!("{}", if output { "File" } else { "Json" });
        let arg_items = args.iter().map(|a| {
            let (n, p, k, r, h) = (
                &a.name,
                &a.pointer,
                format_ident!("{}", a.kind),
                a.required,
                &a.help,
            );
            quote!(Arg { name: #n, pointer: #p, kind: ArgKind::#k, required: #r, help: #h })
        });
        let param_items = params.iter().map(|p| {
            let (n, l, k, h) = (&p.name, format_ident!("{}", p.location), &p.kind, &p.help);
            quote!(Param { name: #n, location: Location::#l, kind: #k, help: #h })
        });
        entries.push(quote! {
            Entry {
                task: #name,
                aliases: &[#(#aliases),*],
                about: #about,
                output: Output::#output_kind,
                args: &[#(#arg_items),*],
                params: &[#(#param_items),*],
            }
        });
        if let Some(method) = task.method {
            arms.push(dispatch_arm(method, &args, &params, output));
        }
    }
    let doc = "The task commands of `hfi`, from the task schemas: help, arguments and parameters \
               of every task, and the calls of the generated task methods.";
    let tokens = quote! {
        #![doc = #doc]
        #![allow(clippy::too_many_lines)]
        use hf_inference::InferenceClient;
        use crate::commands::task::{
            Arg, ArgKind, Call, Entry, Kind, Location, Outcome, Output, Param, send_file, send_json,
        };
        use crate::exit::CliError;

        /// Every task with a schema, in task order.
        pub static TASKS: &[Entry] = &[#(#entries),*];

        /// Calls the generated task method of `call`'s task with its arguments and parameters.
        pub async fn dispatch(client: &InferenceClient, call: &Call) -> Result<Outcome, CliError> {
            match call.entry.task {
                #(#arms)*
                other => Err(CliError::usage(format!("`{other}` has no generated command"))),
            }
        }
    };
    crate::render::format_file(CLI_TASKS_PATH, tokens)
}

/// The arguments, parameters, help and output kind of a task.
#[allow(clippy::type_complexity)]
fn describe(
    task: &CliTask<'_>,
    common: &BTreeMap<String, Value>,
) -> Option<(Vec<ArgSpec>, Vec<ParamSpec>, String, bool)> {
    let input_name = task.roots.iter().find(|r| r.ends_with("Input"))?;
    let input = task.info.structs.get(input_name)?;
    let binary_fields: &[(String, String)] = task.method.map_or(&[], |m| m.binary_fields);
    let is_binary = |owner: &str, field: &FieldInfo| {
        binary_fields
            .iter()
            .any(|(o, f)| o == owner && field.ident == f.as_str())
    };
    // Enum values: the field's own schema (inline `enum`, or a `$ref` to an enum), else a
    // definition named like the field's type.
    let definition = |name: &str| task.definitions.get(name).or_else(|| common.get(name));
    let field_enum = |owner: &str, field: &str, type_name: &str| -> Option<Vec<String>> {
        let property = definition(owner)?.get("properties")?.get(field)?;
        let resolved = match property.get("$ref").and_then(Value::as_str) {
            Some(reference) => definition(reference.rsplit('/').next()?)?,
            None => property,
        };
        enum_values(resolved).or_else(|| definition(type_name).and_then(enum_values))
    };
    let mut args = Vec::new();
    let mut params = Vec::new();
    let params_struct: Option<(&FieldInfo, &StructInfo)> = input
        .fields
        .iter()
        .find(|f| f.ident == "parameters")
        .and_then(|f| Some((f, task.info.structs.get(&type_name(&f.ty)?)?)));

    for field in &input.fields {
        if field.ident == "parameters" && params_struct.is_some() {
            continue;
        }
        let name = plain(&field.ident);
        let nested = type_name(&field.ty).and_then(|n| {
            let info = task.info.structs.get(&n)?;
            info.fields
                .iter()
                .any(|f| is_binary(&n, f))
                .then_some((n, info))
        });
        if field.required && is_binary(input_name, field) {
            args.push(arg(&name, format!("/{name}"), "Binary", true, field, None));
        } else if let (true, Some((nested_name, nested_info))) = (field.required, nested) {
            for f in &nested_info.fields {
                let sub = plain(&f.ident);
                let pointer = format!("/{name}/{sub}");
                if is_binary(&nested_name, f) {
                    args.push(arg(&sub, pointer, "Binary", true, f, None));
                } else if f.required {
                    args.push(typed_arg(&sub, pointer, f));
                }
            }
        } else if is_binary(input_name, field) {
            let setter = format_ident!("{}", name);
            args.push(arg(
                &name,
                format!("/{name}"),
                "Binary",
                false,
                field,
                Some(setter),
            ));
        } else if field.required {
            args.push(typed_arg(&name, format!("/{name}"), field));
        } else {
            params.push(param(field, "Top", &|t: &str| {
                field_enum(input_name, &name, t)
            }));
        }
    }
    if let Some((field, info)) = params_struct {
        let owner = type_name(&field.ty).unwrap_or_default();
        for f in &info.fields {
            let name = plain(&f.ident);
            if f.required {
                args.push(typed_arg(&name, format!("/parameters/{name}"), f));
            } else {
                params.push(param(f, "Parameters", &|t: &str| {
                    field_enum(&owner, &name, t)
                }));
            }
        }
    }
    let description = |name: &str| {
        task.definitions
            .get(name)
            .and_then(|d| d.get("description"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let first_line = |text: String| {
        text.lines()
            .next()
            .unwrap_or_default()
            .trim()
            .trim_end_matches('.')
            .to_owned()
    };
    let input_doc = description(input_name).map(first_line);
    let output_doc = task
        .roots
        .iter()
        .find(|r| r.ends_with("Output") && !r.contains("Stream"))
        .and_then(|r| description(r))
        .map(first_line);
    let mut about = input_doc.unwrap_or_else(|| format!("The {} task", task.task));
    if let Some(output) = output_doc {
        about = format!("{about}; answers with the {}", lower_first(&output));
    }
    let output = task.method.is_some_and(|m| m.file_output);
    Some((args, params, about, output))
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn arg(
    name: &str,
    pointer: String,
    kind: &'static str,
    required: bool,
    field: &FieldInfo,
    setter: Option<syn::Ident>,
) -> ArgSpec {
    ArgSpec {
        name: name.to_owned(),
        pointer,
        kind,
        required,
        help: help(field),
        ty: None,
        setter,
    }
}

fn typed_arg(name: &str, pointer: String, field: &FieldInfo) -> ArgSpec {
    let kind = if type_name(&field.ty).as_deref() == Some("String") {
        "Text"
    } else if is_string_list(&field.ty) {
        "List"
    } else {
        "Json"
    };
    ArgSpec {
        name: name.to_owned(),
        pointer,
        kind,
        required: true,
        help: help(field),
        ty: Some(public_type(&field.ty)),
        setter: None,
    }
}

fn param(
    field: &FieldInfo,
    location: &'static str,
    enum_lookup: &dyn Fn(&str) -> Option<Vec<String>>,
) -> ParamSpec {
    let name = plain(&field.ident);
    let setter = if RESERVED.contains(&name.as_str()) {
        format_ident!("{}_parameter", name)
    } else {
        format_ident!("{}", name)
    };
    ParamSpec {
        kind: kind_of(&field.ty, enum_lookup),
        help: help(field),
        ty: public_type(&field.ty),
        setter,
        name,
        location,
    }
}

/// The value kind of a parameter, for parsing `key=value` (the typed setter validates again).
fn kind_of(ty: &syn::Type, enum_lookup: &dyn Fn(&str) -> Option<Vec<String>>) -> TokenStream {
    let name = type_name(ty).unwrap_or_default();
    match name.as_str() {
        "bool" => quote!(Kind::Boolean),
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "NonZeroU64" => {
            quote!(Kind::Integer)
        }
        "f32" | "f64" => quote!(Kind::Number),
        "String" => quote!(Kind::String),
        "Vec" if is_string_list(ty) => quote!(Kind::StringList),
        other => match enum_lookup(other) {
            Some(values) => quote!(Kind::Enum(&[#(#values),*])),
            None => quote!(Kind::Json),
        },
    }
}

fn is_string_list(ty: &syn::Type) -> bool {
    quote!(#ty)
        .to_string()
        .replace(' ', "")
        .ends_with("Vec<String>")
}

/// The string values of an enum schema (`enum`, or `oneOf`/`anyOf` of `const`s).
fn enum_values(schema: &Value) -> Option<Vec<String>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let strings: Vec<String> = values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        return (!strings.is_empty()).then_some(strings);
    }
    let variants = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)?;
    let strings: Vec<String> = variants
        .iter()
        .filter_map(|v| v.get("const").and_then(Value::as_str).map(str::to_owned))
        .collect();
    (strings.len() == variants.len() && !strings.is_empty()).then_some(strings)
}

/// The one-line help of a field: its first doc sentence.
fn help(field: &FieldInfo) -> String {
    field
        .docs
        .iter()
        .map(|d| d.trim())
        .find(|d| !d.is_empty())
        .unwrap_or_default()
        .to_owned()
}

/// A field type as the CLI names it: `crate::` paths become `hf_inference::` paths.
fn public_type(ty: &syn::Type) -> syn::Type {
    let text = quote!(#ty)
        .to_string()
        .replace("crate ::", "hf_inference ::");
    syn::parse_str(&text).unwrap_or_else(|_| ty.clone())
}

/// The last path segment of a type.
fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn plain(ident: &syn::Ident) -> String {
    ident.to_string().trim_start_matches("r#").to_owned()
}

/// The `match` arm calling one generated task method.
fn dispatch_arm(
    method: &TaskMethod<'_>,
    args: &[ArgSpec],
    params: &[ParamSpec],
    file_output: bool,
) -> TokenStream {
    let task = method.task;
    let module = format_ident!("{}", task.to_snake_case());
    let function = format_ident!("{}", task.to_snake_case());
    let mut entry_args = Vec::new();
    let mut optional_files = Vec::new();
    for (index, a) in args.iter().enumerate() {
        match (a.kind, &a.setter, &a.ty) {
            ("Binary", Some(setter), _) => optional_files.push(quote! {
                if let Some(value) = call.optional_binary(#index)? {
                    request = request.#setter(value);
                }
            }),
            ("Binary", None, _) => entry_args.push(quote!(call.binary(#index)?)),
            (_, _, Some(ty)) => entry_args.push(quote!(call.argument::<#ty>(#index)?)),
            _ => entry_args.push(quote!(call.argument::<String>(#index)?)),
        }
    }
    let setters = params.iter().map(|p| {
        let (name, ty, setter) = (&p.name, &p.ty, &p.setter);
        quote! {
            if let Some(value) = call.param::<#ty>(#name)? {
                request = request.#setter(value);
            }
        }
    });
    let send = if file_output {
        quote!(send_file(request, call).await)
    } else {
        quote!(send_json(request, call).await)
    };
    quote! {
        #task => {
            #[allow(unused_imports)]
            use hf_inference::types::#module::*;
            #[allow(unused_mut)]
            let mut request = client.#function(#(#entry_args),*);
            #(#optional_files)*
            #(#setters)*
            #send
        }
    }
}
