//! One insta snapshot per task of its public generated surface: every type, field, variant,
//! Rust type and doc line. A change in the Hub's schemas (or in the generator) shows up here as
//! a reviewable diff; CI fails until the new snapshot is accepted (`cargo insta review`).

use std::path::PathBuf;

use quote::ToTokens;
use syn::{Fields, Item};

fn generated_types_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sdk/src/generated/types")
}

fn docs(attrs: &[syn::Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    lines.join(" ").trim().to_owned()
}

fn serde_attrs(attrs: &[syn::Attribute]) -> String {
    let parts: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .map(|a| a.meta.to_token_stream().to_string())
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("  #[{}]", parts.join(", "))
    }
}

fn ty(t: &syn::Type) -> String {
    t.to_token_stream().to_string().replace(' ', "")
}

/// A plain-text outline of the public items of one generated module.
fn surface(source: &str) -> String {
    let file: syn::File = syn::parse_str(source).expect("generated code parses");
    let mut out = String::new();
    outline(&file.items, &mut out);
    out
}

fn outline(items: &[Item], out: &mut String) {
    for item in items {
        match item {
            Item::Struct(s) => {
                out.push_str(&format!("struct {}{}\n", s.ident, serde_attrs(&s.attrs)));
                push_doc(out, "  ", &docs(&s.attrs));
                if let Fields::Named(fields) = &s.fields {
                    for f in &fields.named {
                        let name = f
                            .ident
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default();
                        out.push_str(&format!(
                            "  .{name}: {}{}\n",
                            ty(&f.ty),
                            serde_attrs(&f.attrs)
                        ));
                        push_doc(out, "      ", &docs(&f.attrs));
                    }
                } else if let Fields::Unnamed(fields) = &s.fields {
                    for f in &fields.unnamed {
                        out.push_str(&format!("  .0: {}\n", ty(&f.ty)));
                    }
                }
            }
            Item::Enum(e) => {
                out.push_str(&format!("enum {}{}\n", e.ident, serde_attrs(&e.attrs)));
                push_doc(out, "  ", &docs(&e.attrs));
                for v in &e.variants {
                    let payload = match &v.fields {
                        Fields::Unit => String::new(),
                        Fields::Unnamed(f) => format!(
                            "({})",
                            f.unnamed
                                .iter()
                                .map(|f| ty(&f.ty))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        Fields::Named(f) => format!(
                            " {{ {} }}",
                            f.named
                                .iter()
                                .map(|f| format!(
                                    "{}: {}",
                                    f.ident
                                        .as_ref()
                                        .map(ToString::to_string)
                                        .unwrap_or_default(),
                                    ty(&f.ty)
                                ))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    out.push_str(&format!(
                        "  | {}{payload}{}\n",
                        v.ident,
                        serde_attrs(&v.attrs)
                    ));
                }
            }
            Item::Impl(imp) => {
                let trait_part = imp
                    .trait_
                    .as_ref()
                    .map(|(p, _)| {
                        format!("{} for ", p.to_token_stream().to_string().replace(' ', ""))
                    })
                    .unwrap_or_default();
                let fns: Vec<String> = imp
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        syn::ImplItem::Fn(f) if matches!(f.vis, syn::Visibility::Public(_)) => {
                            let doc = docs(&f.attrs);
                            Some(if doc.is_empty() {
                                f.sig.to_token_stream().to_string()
                            } else {
                                format!("{}\n      \"{doc}\"", f.sig.to_token_stream())
                            })
                        }
                        _ => None,
                    })
                    .collect();
                out.push_str(&format!("impl {trait_part}{}\n", ty(&imp.self_ty)));
                for f in fns {
                    out.push_str(&format!("  {f}\n"));
                }
            }
            Item::Use(u) => out.push_str(&format!("{}\n", u.to_token_stream())),
            Item::Type(t) => out.push_str(&format!("type {} = {}\n", t.ident, ty(&t.ty))),
            Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    out.push_str(&format!("mod {} {{\n", m.ident));
                    outline(inner, out);
                    out.push_str("}\n");
                }
            }
            _ => {}
        }
    }
}

fn push_doc(out: &mut String, indent: &str, doc: &str) {
    if !doc.is_empty() {
        out.push_str(&format!("{indent}\"{doc}\"\n"));
    }
}

#[test]
fn generated_task_methods() {
    let path = generated_types_dir().join("../tasks.rs");
    let source = std::fs::read_to_string(path).expect("sdk/src/generated/tasks.rs exists");
    insta::assert_snapshot!("task_methods", surface(&source));
}

#[test]
fn generated_surface_per_task() {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(generated_types_dir())
        .expect("sdk/src/generated/types exists (run `cargo xtask regen`)")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs") && !p.ends_with("mod.rs"))
        .collect();
    entries.sort();
    assert!(
        entries.len() > 30,
        "expected one module per task, found {}",
        entries.len()
    );
    for path in entries {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let source = std::fs::read_to_string(&path).unwrap();
        insta::assert_snapshot!(format!("surface_{name}"), surface(&source));
    }
}
