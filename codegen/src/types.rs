//! Running typify on normalized schemas, and the syn post-pass that makes its output pleasant.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use syn::{Fields, Item, parse_quote};
use typify::{TypeSpace, TypeSpaceSettings};

use crate::CodegenError;

/// Rust path of the shared `common` module, where every task's common types point.
pub const COMMON_PATH: &str = "crate::types::common";

/// A schema type replaced by a hand-written one, because typify's reading of its union is
/// poor (`sdk/src/types/chat.rs`), or whose schema is narrower than what servers send
/// (`sdk/src/types/embedding.rs`: embeddings nested at any depth).
pub struct Replacement {
    /// Task whose schema defines it.
    pub task: &'static str,
    /// Definition name (= the Hub's type name).
    pub name: &'static str,
    /// Path of the hand-written type.
    pub path: &'static str,
    /// Generated definitions the hand-written type uses (kept even if nothing else uses them).
    pub uses: &'static [&'static str],
}

/// The hand-written replacements. Each keeps the Hub's name, so users find it where they
/// expect it (`types::chat_completion::ChatCompletionInputMessage`).
pub const REPLACEMENTS: &[Replacement] = &[
    Replacement {
        task: "chat-completion",
        name: "ChatCompletionInputMessage",
        path: "crate::types::chat::ChatCompletionInputMessage",
        uses: &[
            "ChatCompletionInputMessageContent",
            "ChatCompletionInputToolCall",
        ],
    },
    Replacement {
        task: "chat-completion",
        name: "ChatCompletionInputToolChoice",
        path: "crate::types::chat::ChatCompletionInputToolChoice",
        uses: &["ChatCompletionInputFunctionName"],
    },
    Replacement {
        task: "chat-completion",
        name: "ChatCompletionInputGrammarType",
        path: "crate::types::chat::ChatCompletionInputGrammarType",
        uses: &["ChatCompletionInputJsonSchemaConfig"],
    },
    Replacement {
        task: "chat-completion",
        name: "ChatCompletionOutputMessage",
        path: "crate::types::chat::ChatCompletionOutputMessage",
        uses: &["ChatCompletionOutputToolCall"],
    },
    Replacement {
        task: "feature-extraction",
        name: "FeatureExtractionOutput",
        path: "crate::types::embedding::FeatureExtractionOutput",
        uses: &[],
    },
    Replacement {
        task: "chat-completion",
        name: "ChatCompletionStreamOutputDelta",
        path: "crate::types::chat::ChatCompletionStreamOutputDelta",
        uses: &["ChatCompletionStreamOutputDeltaToolCall"],
    },
];

/// Generates the token stream of one module from its definitions.
///
/// `common` names the definitions that live in the shared `common` module (replaced here by a
/// path to it); `replacements` are the hand-written types of this module.
pub fn generate_module(
    task: &str,
    definitions: &BTreeMap<String, Value>,
    roots: &[String],
    common: &BTreeSet<String>,
) -> Result<(TokenStream, ModuleInfo), CodegenError> {
    let replacements: Vec<&Replacement> = REPLACEMENTS.iter().filter(|r| r.task == task).collect();
    let keep = reachable(definitions, roots, common, &replacements);
    let mut settings = TypeSpaceSettings::default();
    settings.with_derive("PartialEq".to_owned());
    // JSON objects keep their order (a table's columns, whose index the answer refers to).
    settings.with_map_type("::indexmap::IndexMap");
    for name in common {
        settings.with_replacement(name, format!("{COMMON_PATH}::{name}"), std::iter::empty());
    }
    for r in &replacements {
        if !definitions.contains_key(r.name) {
            return Err(CodegenError::StaleFix {
                fix: format!("replacement of {}", r.name),
                task: task.into(),
                detail: "the schema no longer defines this type".into(),
            });
        }
        settings.with_replacement(r.name, r.path, std::iter::empty());
    }
    let mut defs = BTreeMap::new();
    for (name, schema) in definitions {
        let replaced = replacements.iter().any(|r| r.name == name);
        if !keep.contains(name) && !common.contains(name) && !replaced {
            continue;
        }
        crate::schema::check_clean(task, name, schema)?;
        let schema: schemars::schema::Schema =
            serde_json::from_value(schema.clone()).map_err(|e| CodegenError::Typify {
                task: task.into(),
                message: format!("{name}: not a JSON schema: {e}"),
            })?;
        defs.insert(name.clone(), schema);
    }
    // typify reports some schema problems by panicking; keep the default hook's backtrace out
    // of the regen output and turn the panic into an error naming the task.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let tokens = std::panic::catch_unwind(move || {
        let mut space = TypeSpace::new(&settings);
        space.add_ref_types(defs).map(|()| space.to_stream())
    });
    std::panic::set_hook(hook);
    let tokens = match tokens {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(e)) => {
            return Err(CodegenError::Typify {
                task: task.into(),
                message: e.to_string(),
            });
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "typify panicked".to_owned());
            return Err(CodegenError::Typify {
                task: task.into(),
                message,
            });
        }
    };
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| CodegenError::Render {
        file: task.into(),
        message: e.to_string(),
    })?;
    let count = post_process(&mut file, &replacements);
    let info = ModuleInfo::read(&file, count);
    Ok((quote!(#file), info))
}

/// Definitions reachable from the roots, stopping at replaced types (but keeping what the
/// hand-written replacements use). In the common module every definition is a root.
fn reachable(
    definitions: &BTreeMap<String, Value>,
    roots: &[String],
    common: &BTreeSet<String>,
    replacements: &[&Replacement],
) -> BTreeSet<String> {
    let replaced: BTreeSet<&str> = replacements.iter().map(|r| r.name).collect();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = roots.to_vec();
    stack.extend(
        replacements
            .iter()
            .flat_map(|r| r.uses.iter().map(|s| (*s).to_owned())),
    );
    while let Some(name) = stack.pop() {
        if common.contains(&name) || replaced.contains(name.as_str()) || !seen.insert(name.clone())
        {
            continue;
        }
        if let Some(schema) = definitions.get(&name) {
            let mut refs = BTreeSet::new();
            collect_refs(schema, &mut refs);
            stack.extend(refs);
        }
    }
    seen
}

fn collect_refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref")
                && let Some(name) = target.strip_prefix("#/definitions/")
            {
                out.insert(name.to_owned());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The post-pass over typify's output. Returns the number of public types in the module.
fn post_process(file: &mut syn::File, replacements: &[&Replacement]) -> usize {
    // typify's per-space `error` module serves only its `TryFrom`/`FromStr` impls, which the
    // open-enum rewrite replaces; one shared module is enough.
    file.items
        .retain(|item| !matches!(item, Item::Mod(m) if m.ident == "error"));

    let open_enums: BTreeSet<String> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Enum(e) if is_string_enum(e) => Some(e.ident.to_string()),
            _ => None,
        })
        .collect();
    // Drop typify's closed conversions for string enums (open ones are emitted below) and the
    // fallible string parsers of unions, which need typify's per-module error type.
    file.items.retain(|item| match item {
        Item::Impl(imp) => {
            let closed_enum_impl = imp.trait_.is_some() && open_enums.contains(&self_name(imp));
            let needs_conversion_error = quote!(#imp).to_string().contains("ConversionError");
            !closed_enum_impl && !needs_conversion_error
        }
        _ => true,
    });

    let mut extra: Vec<Item> = Vec::new();
    for item in file.items.iter_mut() {
        match item {
            Item::Enum(e) if open_enums.contains(&e.ident.to_string()) => {
                extra.extend(open_enum(e));
            }
            Item::Enum(e) => {
                extra.extend(string_union_from(e));
            }
            Item::Struct(s) => {
                if let Some(imp) = constructor(s) {
                    extra.push(imp);
                }
            }
            _ => {}
        }
    }
    file.items.extend(extra);
    for r in replacements {
        let path: syn::Path = syn::parse_str(r.path).expect("replacement paths are valid");
        file.items.push(parse_quote!(pub use #path;));
    }
    strip_std_prefixes(file);
    file.items
        .iter()
        .filter(|i| matches!(i, Item::Struct(_) | Item::Enum(_)))
        .count()
}

fn self_name(imp: &syn::ItemImpl) -> String {
    match &*imp.self_ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// A string enum: every variant is a unit variant (typify renames them to the wire value).
fn is_string_enum(e: &syn::ItemEnum) -> bool {
    !e.variants.is_empty() && e.variants.iter().all(|v| matches!(v.fields, Fields::Unit))
}

fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                found = Some(lit.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    found
}

/// Turns a closed string enum into an open one: a new server value lands in `Other(String)`
/// instead of failing the whole response, and callers can send values the schema lacks.
fn open_enum(e: &mut syn::ItemEnum) -> Vec<Item> {
    let name = e.ident.clone();
    let mut arms_str = Vec::new();
    let mut arms_from = Vec::new();
    for v in &e.variants {
        let ident = &v.ident;
        let wire = serde_rename(&v.attrs).unwrap_or_else(|| ident.to_string());
        arms_str.push(quote!(Self::#ident => #wire));
        arms_from.push(quote!(#wire => Self::#ident));
    }
    e.variants.push(parse_quote! {
        /// A value this version of the SDK does not know, kept verbatim.
        #[serde(untagged)]
        Other(::std::string::String)
    });
    for attr in e.attrs.iter_mut() {
        if attr.path().is_ident("derive") {
            let derives: syn::punctuated::Punctuated<syn::Path, syn::Token![,]> = attr
                .parse_args_with(syn::punctuated::Punctuated::parse_terminated)
                .unwrap_or_default();
            let kept: Vec<&syn::Path> = derives.iter().filter(|p| !p.is_ident("Copy")).collect();
            *attr = parse_quote!(#[derive(#(#kept),*)]);
        }
    }
    vec![
        parse_quote! {
            impl #name {
                /// The value as it appears on the wire.
                pub fn as_str(&self) -> &str {
                    match self {
                        #(#arms_str,)*
                        Self::Other(value) => value.as_str(),
                    }
                }
            }
        },
        parse_quote! {
            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
        },
        parse_quote! {
            impl ::std::convert::From<&str> for #name {
                fn from(value: &str) -> Self {
                    match value {
                        #(#arms_from,)*
                        other => Self::Other(other.to_owned()),
                    }
                }
            }
        },
        parse_quote! {
            impl ::std::str::FromStr for #name {
                type Err = ::std::convert::Infallible;
                fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                    Ok(Self::from(value))
                }
            }
        },
    ]
}

/// `From<&str>`/`From<String>` for untagged unions with a `String` variant (e.g. "one text or
/// a batch"), so callers write `"hello".into()`.
fn string_union_from(e: &syn::ItemEnum) -> Vec<Item> {
    let untagged = e.attrs.iter().any(|a| {
        a.path().is_ident("serde") && a.parse_args::<syn::Ident>().is_ok_and(|i| i == "untagged")
    });
    if !untagged {
        return Vec::new();
    }
    let Some(variant) = e.variants.iter().find(|v| match &v.fields {
        Fields::Unnamed(f) if f.unnamed.len() == 1 => {
            let ty = &f.unnamed[0].ty;
            quote!(#ty)
                .to_string()
                .replace(' ', "")
                .ends_with("string::String")
                || quote!(#ty).to_string() == "String"
        }
        _ => false,
    }) else {
        return Vec::new();
    };
    let name = &e.ident;
    let ident = &variant.ident;
    vec![
        parse_quote! {
            impl ::std::convert::From<&str> for #name {
                fn from(value: &str) -> Self {
                    Self::#ident(value.to_owned())
                }
            }
        },
        parse_quote! {
            impl ::std::convert::From<::std::string::String> for #name {
                fn from(value: ::std::string::String) -> Self {
                    Self::#ident(value)
                }
            }
        },
    ]
}

/// `pub fn new(required…) -> Self` for structs with required fields: users set only what they
/// need and leave every option unset (and so unsent).
fn constructor(s: &syn::ItemStruct) -> Option<Item> {
    let Fields::Named(fields) = &s.fields else {
        return None;
    };
    let mut params = Vec::new();
    let mut inits = Vec::new();
    let mut required_names = Vec::new();
    for f in &fields.named {
        let ident = f.ident.as_ref()?;
        let ty = &f.ty;
        let ty_text = quote!(#ty).to_string().replace(' ', "");
        let optional = ty_text.starts_with("::std::option::Option<")
            || ty_text.starts_with("Option<")
            || has_serde_flag(&f.attrs, "default")
            || has_serde_flag(&f.attrs, "flatten");
        if optional {
            inits.push(quote!(#ident: ::std::default::Default::default()));
        } else {
            let param = format_ident!("{}", ident.to_string().trim_start_matches("r#"));
            if ty_text == "::std::string::String" {
                params.push(quote!(#param: impl ::std::convert::Into<::std::string::String>));
                inits.push(quote!(#ident: #param.into()));
            } else {
                params.push(quote!(#param: #ty));
                if param == *ident {
                    inits.push(quote!(#ident));
                } else {
                    inits.push(quote!(#ident: #param));
                }
            }
            required_names.push(format!("`{param}`"));
        }
    }
    if required_names.is_empty() {
        return None;
    }
    let name = &s.ident;
    let doc = format!(
        "Creates a value from its required fields ({}); every optional field is unset.",
        required_names.join(", ")
    );
    Some(parse_quote! {
        impl #name {
            #[doc = #doc]
            pub fn new(#(#params),*) -> Self {
                Self { #(#inits),* }
            }
        }
    })
}

fn has_serde_flag(attrs: &[syn::Attribute], flag: &str) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .any(|a| {
            let mut found = false;
            let _ = a.parse_nested_meta(|meta| {
                if meta.path.is_ident(flag) {
                    found = true;
                }
                if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
                Ok(())
            });
            found
        })
}

/// typify spells every path in full (`::std::option::Option<::std::string::String>`); the
/// prelude names read better in docs and snapshots.
fn strip_std_prefixes(file: &mut syn::File) {
    use syn::visit_mut::VisitMut;
    struct Prelude;
    const SHORT: &[(&str, &str)] = &[
        ("::std::option::Option", "Option"),
        ("::std::string::String", "String"),
        ("::std::vec::Vec", "Vec"),
        ("::std::boxed::Box", "Box"),
        ("::std::default::Default", "Default"),
        ("::std::convert::From", "From"),
        ("::std::convert::Into", "Into"),
        ("::std::result::Result", "Result"),
    ];
    impl VisitMut for Prelude {
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            if path.leading_colon.is_some() && path.segments.len() >= 3 {
                let head: Vec<String> = path
                    .segments
                    .iter()
                    .take(3)
                    .map(|s| s.ident.to_string())
                    .collect();
                let full = format!("::{}", head.join("::"));
                if let Some((_, short)) = SHORT.iter().find(|(long, _)| *long == full) {
                    let rest: Vec<syn::PathSegment> =
                        path.segments.iter().skip(3).cloned().collect();
                    let mut last = path.segments[2].clone();
                    last.ident = syn::Ident::new(short, last.ident.span());
                    let mut segments = syn::punctuated::Punctuated::new();
                    segments.push(last);
                    segments.extend(rest);
                    *path = syn::Path {
                        leading_colon: None,
                        segments,
                    };
                }
            }
            syn::visit_mut::visit_path_mut(self, path);
        }
    }
    Prelude.visit_file_mut(file);
}

/// What the task-method generator needs to know about a generated module.
#[derive(Debug, Clone, Default)]
pub struct ModuleInfo {
    /// Number of public types.
    pub types: usize,
    /// Named-field structs by name.
    pub structs: BTreeMap<String, StructInfo>,
}

/// A generated struct.
#[derive(Debug, Clone)]
pub struct StructInfo {
    /// Fields in declaration order.
    pub fields: Vec<FieldInfo>,
    /// Whether it derives `Default`.
    pub has_default: bool,
}

/// A field of a generated struct.
#[derive(Debug, Clone)]
pub struct FieldInfo {
    /// Field name (may be a raw identifier).
    pub ident: syn::Ident,
    /// The field's type; for an optional field, the type inside `Option`.
    pub ty: syn::Type,
    /// Required (not an `Option`, no serde default).
    pub required: bool,
    /// The field is an `Option` (optional fields without it have a serde default instead).
    pub is_option: bool,
    /// Doc lines.
    pub docs: Vec<String>,
}

impl ModuleInfo {
    fn read(file: &syn::File, types: usize) -> Self {
        let mut structs = BTreeMap::new();
        for item in &file.items {
            let Item::Struct(st) = item else { continue };
            let Fields::Named(named) = &st.fields else {
                continue;
            };
            let has_default = st
                .attrs
                .iter()
                .any(|a| a.path().is_ident("derive") && quote!(#a).to_string().contains("Default"));
            let fields = named
                .named
                .iter()
                .filter(|f| !has_serde_flag(&f.attrs, "flatten"))
                .filter_map(|f| {
                    let ident = f.ident.clone()?;
                    let (ty, required, is_option) = match option_inner(&f.ty) {
                        Some(inner) => (inner.clone(), false, true),
                        None => (f.ty.clone(), !has_serde_flag(&f.attrs, "default"), false),
                    };
                    let docs = f
                        .attrs
                        .iter()
                        .filter(|a| a.path().is_ident("doc"))
                        .filter_map(|a| match &a.meta {
                            syn::Meta::NameValue(nv) => match &nv.value {
                                syn::Expr::Lit(syn::ExprLit {
                                    lit: syn::Lit::Str(s),
                                    ..
                                }) => Some(s.value()),
                                _ => None,
                            },
                            _ => None,
                        })
                        .collect();
                    Some(FieldInfo {
                        ident,
                        ty,
                        required,
                        is_option,
                        docs,
                    })
                })
                .collect();
            structs.insert(
                st.ident.to_string(),
                StructInfo {
                    fields,
                    has_default,
                },
            );
        }
        Self { types, structs }
    }
}

/// `T` of `Option<T>`.
fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}
