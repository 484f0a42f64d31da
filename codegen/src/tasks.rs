//! Task methods: for every task the generic JSON engine can call, an entry method on
//! `InferenceClient` that takes the required inputs, and a typed setter per optional parameter.
//!
//! Everything comes from the generated types: the `<Task>Input` struct's required fields (and
//! the required fields of its `parameters`) become the entry method's arguments; its optional
//! fields and the optional fields of `parameters` become setters documented with the schema's
//! descriptions.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::types::{FieldInfo, ModuleInfo, StructInfo};

/// Names the engine's own methods use; a parameter with one of these names gets a
/// `_parameter` suffix.
pub(crate) const RESERVED: &[&str] = &[
    "model",
    "provider",
    "input",
    "extra_body",
    "send",
    "send_with_metadata",
    "preview",
];

/// One task to emit a method for.
pub struct TaskMethod<'a> {
    /// Task id (`text-classification`).
    pub task: &'a str,
    /// Root type names (input first).
    pub roots: &'a [String],
    /// The generated module's structs.
    pub info: &'a ModuleInfo,
    /// Binary fields of the input, as (struct name, field name).
    pub binary_fields: &'a [(String, String)],
    /// The answer is a file: the method returns a `Blob`.
    pub file_output: bool,
}

/// Emits the `tasks.rs` items for the given tasks. Tasks whose input does not have the
/// expected shape are skipped and returned by name, so the caller can report them.
pub fn generate(methods: &[TaskMethod<'_>]) -> (TokenStream, Vec<String>) {
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    for method in methods {
        match task_items(method) {
            Some(tokens) => items.push(tokens),
            None => skipped.push(method.task.to_owned()),
        }
    }
    (
        quote! {
            use crate::client::InferenceClient;
            use crate::providers::Task;
            use crate::tasks::generic::TaskRequest;
            #(#items)*
        },
        skipped,
    )
}

fn task_items(method: &TaskMethod<'_>) -> Option<TokenStream> {
    let module = format_ident!("{}", method.task.to_snake_case());
    let camel = method.task.to_upper_camel_case();
    let input_name = method.roots.iter().find(|r| r.ends_with("Input"))?;
    let output_name = method.roots.iter().find(|r| r.ends_with("Output"))?;
    let input = method.info.structs.get(input_name)?;
    let input_ty = format_ident!("{}", input_name);
    let output_ty = format_ident!("{}", output_name);
    let task_variant = format_ident!("{}", camel);
    let fn_name = format_ident!("{}", method.task.to_snake_case());
    let alias = format_ident!("{}Request", camel);

    // The `parameters` struct, when the input nests its options there.
    let params_field = input.fields.iter().find(|f| f.ident == "parameters");
    let params: Option<(&FieldInfo, &StructInfo, syn::Ident)> = params_field.and_then(|f| {
        let name = type_name(&f.ty)?;
        let info = method.info.structs.get(&name)?;
        Some((f, info, format_ident!("{}", name)))
    });

    let mut args = Vec::new();
    let mut input_inits = Vec::new();
    let mut setters = Vec::new();
    let mut arg_docs = Vec::new();
    let mut binary = Vec::new();
    let is_binary = |owner: &str, field: &FieldInfo| {
        method
            .binary_fields
            .iter()
            .any(|(o, f)| o == owner && field.ident == f.as_str())
    };

    for field in &input.fields {
        let ident = &field.ident;
        if field.ident == "parameters" && params.is_some() {
            continue;
        }
        // A nested input struct holding a binary field (`inputs: {image, question}`): its
        // required fields become arguments.
        let nested = type_name(&field.ty).and_then(|name| {
            let info = method.info.structs.get(&name)?;
            info.fields
                .iter()
                .any(|f| is_binary(&name, f))
                .then(|| (format_ident!("{}", name), name, info))
        });
        if field.required && is_binary(input_name, field) {
            let name = plain_name(field);
            args.push(quote!(#name: impl Into<crate::binary::BinaryInput>));
            arg_docs.push(field_doc(field));
            input_inits.push(quote!(#ident: String::new()));
            let pointer = format!("/{}", field.ident);
            binary.push(quote!(.with_binary(#pointer, #name.into())));
        } else if let (true, Some((nested_ty, nested_name, nested_info))) = (field.required, nested)
        {
            let mut inits = Vec::new();
            for f in &nested_info.fields {
                let fi = &f.ident;
                let name = plain_name(f);
                if is_binary(&nested_name, f) {
                    args.push(quote!(#name: impl Into<crate::binary::BinaryInput>));
                    arg_docs.push(field_doc(f));
                    inits.push(quote!(#fi: String::new()));
                    let pointer = format!("/{}/{}", field.ident, f.ident);
                    binary.push(quote!(.with_binary(#pointer, #name.into())));
                } else if f.required {
                    let (arg, init) = argument(f);
                    args.push(arg);
                    arg_docs.push(field_doc(f));
                    inits.push(quote!(#fi: #init));
                } else {
                    inits.push(quote!(#fi: Default::default()));
                }
            }
            input_inits.push(quote!(#ident: #nested_ty { #(#inits),* }));
        } else if is_binary(input_name, field) {
            // An optional file (`image-text-to-image`: the image, or a prompt alone): a setter
            // taking any binary input, read when the request is built.
            input_inits.push(quote!(#ident: Default::default()));
            let pointer = format!("/{}", field.ident);
            setters.push(binary_setter(field, &pointer));
        } else if field.required {
            let (arg, init) = argument(field);
            args.push(arg);
            input_inits.push(quote!(#ident: #init));
            arg_docs.push(field_doc(field));
        } else {
            input_inits.push(quote!(#ident: Default::default()));
            let wrap = field.is_option;
            setters.push(setter(field, |value| {
                let value = if wrap { quote!(Some(#value)) } else { value };
                quote!(self.input_mut().#ident = #value;)
            }));
        }
    }

    if let Some((field, info, params_ty)) = &params {
        let ident = &field.ident;
        let required: Vec<&FieldInfo> = info.fields.iter().filter(|f| f.required).collect();
        if required.is_empty() && !field.required {
            input_inits.push(quote!(#ident: None));
        } else {
            let mut inits = Vec::new();
            for f in &info.fields {
                let fi = &f.ident;
                if f.required {
                    let (arg, init) = argument(f);
                    args.push(arg);
                    arg_docs.push(field_doc(f));
                    inits.push(quote!(#fi: #init));
                } else {
                    inits.push(quote!(#fi: Default::default()));
                }
            }
            let value = quote!(#params_ty { #(#inits),* });
            if field.required {
                input_inits.push(quote!(#ident: #value));
            } else {
                input_inits.push(quote!(#ident: Some(#value)));
            }
        }
        for f in info.fields.iter().filter(|f| !f.required) {
            let fi = &f.ident;
            let wrap = f.is_option;
            let always_set = field.required;
            let has_default = info.has_default;
            setters.push(setter(f, |value| {
                let value = if wrap { quote!(Some(#value)) } else { value };
                if always_set {
                    quote!(self.input_mut().#ident.#fi = #value;)
                } else if has_default {
                    quote!(self.input_mut().#ident.get_or_insert_with(Default::default).#fi = #value;)
                } else {
                    // Parameters with required fields are always set by the entry method.
                    quote! {
                        if let Some(parameters) = self.input_mut().#ident.as_mut() {
                            parameters.#fi = #value;
                        }
                    }
                }
            }));
        }
    }
    if input.fields.iter().any(|f| f.ident == "extra") {
        input_inits.push(quote!(extra: Default::default()));
    }

    let (output, constructor) = if method.file_output {
        (quote!(crate::binary::Blob), format_ident!("new_file"))
    } else if method.task == "feature-extraction" {
        // Embeddings have a decoder of their own, which reads them while they arrive.
        (quote!(#output_ty), format_ident!("new_embeddings"))
    } else {
        (quote!(#output_ty), format_ident!("new"))
    };
    let doc = format!(
        "Runs the `{}` task. Set parameters with the returned request's methods, then `send()`{}.",
        method.task,
        if method.file_output {
            ", which returns the file (bytes and content type)"
        } else {
            ""
        }
    );
    let args_doc = if arg_docs.is_empty() {
        String::new()
    } else {
        format!("\n\nArguments:\n{}", arg_docs.join("\n"))
    };
    let doc = format!("{doc}{args_doc}");
    let alias_doc = format!(
        "A `{}` call being built (see [`InferenceClient::{}`]).",
        method.task,
        method.task.to_snake_case()
    );
    Some(quote! {
        mod #module {
            use crate::types::#module::*;
            use super::{InferenceClient, Task, TaskRequest};

            #[doc = #alias_doc]
            pub type #alias<'c> = TaskRequest<'c, #input_ty, #output>;

            impl InferenceClient {
                #[doc = #doc]
                pub fn #fn_name(&self, #(#args),*) -> #alias<'_> {
                    TaskRequest::#constructor(self, Task::#task_variant, #input_ty { #(#input_inits),* })
                        #(#binary)*
                }
            }

            impl #alias<'_> {
                #(#setters)*
            }
        }
        pub use #module::#alias;
    })
}

/// The last path segment of a type (`crate::types::x::Foo` → `Foo`).
fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn is_string(ty: &syn::Type) -> bool {
    type_name(ty).as_deref() == Some("String")
}

/// Entry-method argument and the expression that stores it.
fn argument(field: &FieldInfo) -> (TokenStream, TokenStream) {
    let name = plain_name(field);
    let ty = &field.ty;
    (quote!(#name: impl Into<#ty>), quote!(#name.into()))
}

fn plain_name(field: &FieldInfo) -> syn::Ident {
    format_ident!("{}", field.ident.to_string().trim_start_matches("r#"))
}

fn setter(field: &FieldInfo, assign: impl Fn(TokenStream) -> TokenStream) -> TokenStream {
    let plain = field.ident.to_string().trim_start_matches("r#").to_owned();
    let name = if RESERVED.contains(&plain.as_str()) {
        format_ident!("{}_parameter", plain)
    } else {
        format_ident!("{}", plain)
    };
    let ty = &field.ty;
    let docs = if field.docs.is_empty() {
        vec![format!(" Sets `{plain}`.")]
    } else {
        field.docs.clone()
    };
    let value = if is_string(&field.ty) {
        quote!(impl Into<String>)
    } else {
        quote!(impl Into<#ty>)
    };
    let body = assign(quote!(value.into()));
    quote! {
        #(#[doc = #docs])*
        pub fn #name(mut self, value: #value) -> Self {
            #body
            self
        }
    }
}

/// The setter of an optional binary field: bytes, a path, an `AsyncRead`, an http(s) URL or a
/// `data:` URL, as for the required ones; a second call replaces the first.
fn binary_setter(field: &FieldInfo, pointer: &str) -> TokenStream {
    let name = plain_name(field);
    let mut docs = vec![
        " The input file: bytes, a file path, an `AsyncRead`, an http(s) URL or a `data:` URL (see"
            .to_owned(),
        " [`BinaryInput`](crate::binary::BinaryInput)); each provider gets it in the form it takes."
            .to_owned(),
    ];
    if !field.docs.is_empty() {
        docs.push(String::new());
        docs.push(" The schema says:".to_owned());
        docs.extend(field.docs.iter().cloned());
    }
    quote! {
        #(#[doc = #docs])*
        pub fn #name(self, value: impl Into<crate::binary::BinaryInput>) -> Self {
            self.set_binary(#pointer, value.into())
        }
    }
}

fn field_doc(field: &FieldInfo) -> String {
    let first = field
        .docs
        .iter()
        .map(|d| d.trim())
        .find(|d| !d.is_empty())
        .unwrap_or("");
    format!("- `{}`: {first}", plain_name(field))
}
