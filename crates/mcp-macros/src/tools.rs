//! `#[tools]` on an inherent impl block.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, ImplItem, ImplItemFn, Item, ItemImpl};

use crate::args::{ToolArgs, cfg_attrs, is_tool_attr};
use crate::sig::{self, Kind, push};

/// Expands `#[tools(attr)] item`. Never fails: misuse becomes `compile_error!`s next to the impl
/// block (with its `#[tool]` attributes removed, so they are not expanded on their own).
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut imp = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Impl(imp)) => imp,
        Ok(Item::Fn(_)) => {
            return with_error(
                item,
                "`#[tools]` goes on an impl block; for a free async fn, use `#[tool]`",
            );
        }
        Ok(_) => return with_error(item, "`#[tools]` goes on an inherent impl block"),
        Err(e) => {
            let e = e.to_compile_error();
            return quote!(#e #item);
        }
    };
    let mut errors = None;
    if !attr.is_empty() {
        push(
            &mut errors,
            syn::Error::new_spanned(
                &attr,
                "`#[tools]` takes no arguments; give each method's in its `#[tool(...)]`",
            ),
        );
    }
    if let Some((_, path, for_token)) = &imp.trait_ {
        push(
            &mut errors,
            syn::Error::new_spanned(
                quote!(#path #for_token),
                "`#[tools]` goes on an inherent impl block (`impl Type { ... }`), not on a trait \
                 impl",
            ),
        );
    }
    let tools = take_tools(&mut imp, &mut errors);
    let extra = match errors {
        Some(e) => {
            let e = e.to_compile_error();
            let stubs = stubs_impl(&imp);
            quote!(#e #stubs)
        }
        None => routes_impl(&imp, &tools),
    };
    quote!(#imp #extra)
}

/// The item unchanged, with an error at the attribute.
fn with_error(item: TokenStream, message: &str) -> TokenStream {
    let e = syn::Error::new(Span::call_site(), message).to_compile_error();
    quote!(#e #item)
}

/// One method marked `#[tool]`, with what its route needs.
struct ToolMethod {
    /// The method's signature and attributes (its `#[tool]` removed).
    method: ImplItemFn,
    /// The tool's name.
    name: String,
    /// `Tool::new(..)` with its description, title and annotations.
    builder: TokenStream,
}

/// Removes every `#[tool]` attribute from the impl block and reads the marked methods.
fn take_tools(imp: &mut ItemImpl, errors: &mut Option<syn::Error>) -> Vec<ToolMethod> {
    let mut tools = Vec::new();
    let mut names: HashMap<String, syn::Ident> = HashMap::new();
    for item in &mut imp.items {
        let attrs = match item {
            ImplItem::Fn(f) => &mut f.attrs,
            ImplItem::Const(c) => &mut c.attrs,
            ImplItem::Type(t) => &mut t.attrs,
            ImplItem::Macro(m) => &mut m.attrs,
            _ => continue,
        };
        let (marks, rest): (Vec<Attribute>, Vec<Attribute>) =
            std::mem::take(attrs).into_iter().partition(is_tool_attr);
        *attrs = rest;
        let Some(mark) = marks.first() else {
            continue;
        };
        for extra in &marks[1..] {
            push(
                errors,
                syn::Error::new_spanned(extra, "a method takes one `#[tool]` attribute"),
            );
        }
        let ImplItem::Fn(method) = item else {
            push(
                errors,
                syn::Error::new_spanned(mark, "`#[tool]` goes on an async method"),
            );
            continue;
        };
        let args = ToolArgs::from_attribute(mark);
        let checked = sig::check(&method.sig, Kind::Method);
        let args = match (args, checked) {
            (Ok(args), Ok(_)) => args,
            (Err(a), Err(c)) => {
                push(errors, a);
                push(errors, c);
                continue;
            }
            (Err(e), _) | (_, Err(e)) => {
                push(errors, e);
                continue;
            }
        };
        let ident = &method.sig.ident;
        let built = args
            .name(ident)
            .and_then(|name| Ok((args.builder(&name, &method.attrs)?, name)));
        let (builder, name) = match built {
            Ok(b) => b,
            Err(e) => {
                push(errors, e);
                continue;
            }
        };
        if let Some(first) = names.get(&name) {
            push(
                errors,
                syn::Error::new(
                    ident.span(),
                    format!(
                        "the tool name `{name}` is already used by `{first}` in this impl block"
                    ),
                ),
            );
            continue;
        }
        names.insert(name.clone(), ident.clone());
        tools.push(ToolMethod {
            method: method.clone(),
            name,
            builder,
        });
    }
    tools
}

/// The extra impl block with `tool_routes` and `router`.
fn routes_impl(imp: &ItemImpl, tools: &[ToolMethod]) -> TokenStream {
    let (impl_generics, _, where_clause) = imp.generics.split_for_impl();
    let self_ty = &imp.self_ty;
    let bound = quote!(::core::marker::Send + ::core::marker::Sync + 'static);
    // A bound on a concrete type is checked where it is written, with a poor message; only a
    // generic impl needs it as a where clause. The assertion below covers both.
    let method_where = if imp.generics.params.is_empty() {
        quote!()
    } else {
        quote!(where Self: #bound)
    };
    let assert_self = quote_spanned! {self_ty.span()=>
        fn tools_need_self_to_be_send_sync_and_static<T: ?::core::marker::Sized + #bound>() {}
        tools_need_self_to_be_send_sync_and_static::<Self>();
    };
    let pushes = tools.iter().map(route);
    let count = tools.len();
    let names = tools
        .iter()
        .map(|t| format!("`{}`", t.name))
        .collect::<Vec<_>>()
        .join(", ");
    let routes_doc = format!(
        "The routes of this type's tools ({names}), each calling its method on a shared \
         `Arc<Self>` (generated by `#[tools]`)."
    );
    let router_doc = format!(
        "A router serving this type's tools ({names}); add resources and prompts, or merge it \
         into another router (generated by `#[tools]`)."
    );
    quote! {
        impl #impl_generics #self_ty #where_clause {
            #[doc = #routes_doc]
            pub fn tool_routes(
                self: ::std::sync::Arc<Self>,
            ) -> ::std::vec::Vec<::mcp_server::ToolRoute>
            #method_where
            {
                #assert_self
                #[allow(unused_mut)]
                let mut routes = ::std::vec::Vec::with_capacity(#count);
                #(#pushes)*
                routes
            }

            #[doc = #router_doc]
            pub fn router(self: ::std::sync::Arc<Self>) -> ::mcp_server::Router
            #method_where
            {
                ::std::iter::Iterator::fold(
                    ::std::iter::IntoIterator::into_iter(Self::tool_routes(self)),
                    ::mcp_server::Router::new(),
                    ::mcp_server::Router::tool,
                )
            }
        }
    }
}

/// `tool_routes` and `router` that only satisfy callers, emitted next to an error so that the
/// error is not followed by "no method named `router`" wherever they are used.
fn stubs_impl(imp: &ItemImpl) -> TokenStream {
    let (impl_generics, _, where_clause) = imp.generics.split_for_impl();
    let self_ty = &imp.self_ty;
    quote! {
        #[allow(dead_code)]
        impl #impl_generics #self_ty #where_clause {
            pub fn tool_routes(
                self: ::std::sync::Arc<Self>,
            ) -> ::std::vec::Vec<::mcp_server::ToolRoute> {
                ::core::unreachable!()
            }
            pub fn router(self: ::std::sync::Arc<Self>) -> ::mcp_server::Router {
                ::core::unreachable!()
            }
        }
    }
}

/// `routes.push(<the route of one method>);`
fn route(tool: &ToolMethod) -> TokenStream {
    let method = &tool.method;
    let ident = &method.sig.ident;
    let builder = &tool.builder;
    let cfgs = cfg_attrs(&method.attrs);
    let types: Vec<_> = method
        .sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            syn::FnArg::Typed(pt) => Some(&*pt.ty),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let params: Vec<_> = (0..types.len()).map(|i| format_ident!("__p{i}")).collect();
    let assertions = sig::assertions(&method.sig, &types);
    // Spanned at the method's name, so that "future cannot be sent between threads safely"
    // points at the method.
    let call = quote_spanned! {ident.span()=>
        async move { Self::#ident(&*this, #(#params),*).await }
    };
    let handler = quote_spanned! {ident.span()=>
        .handler(move |#(#params: #types),*| {
            let this = ::std::sync::Arc::clone(&this);
            #call
        })
    };
    quote! {
        #(#cfgs)*
        routes.push({
            #assertions
            let this = ::std::sync::Arc::clone(&self);
            #builder #handler
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_routes_and_strips_marks() {
        let out = expand(
            quote!(),
            quote! {
                impl Calc {
                    /// Adds.
                    #[tool(read_only)]
                    async fn add(&self, Args(a): Args<AddArgs>, p: Progress) -> Json<Sum> { Json(Sum { sum: a.a + a.b }) }
                    #[mcp_server::tool(name = "sub")]
                    async fn subtract(&self) -> String { String::new() }
                    fn helper(&self) {}
                }
            },
        )
        .to_string();
        assert!(!out.contains("compile_error"), "{out}");
        assert!(!out.contains("# [tool"), "{out}");
        assert!(!out.contains("mcp_server :: tool"), "{out}");
        assert!(out.contains("fn helper (& self) { }"), "{out}");
        assert!(out.contains("pub fn tool_routes (self : :: std :: sync :: Arc < Self > ,)"));
        assert!(out.contains("pub fn router (self : :: std :: sync :: Arc < Self >)"));
        assert!(
            out.contains(
                ". handler (move | __p0 : Args < AddArgs > , __p1 : Progress | { let this = :: std :: sync :: Arc :: clone (& this) ; async move { Self :: add (& * this , __p0 , __p1) . await } })"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                ":: mcp_server :: Tool :: new (\"add\") . description (\"Adds.\") . read_only ()"
            ),
            "{out}"
        );
        assert!(out.contains(":: mcp_server :: Tool :: new (\"sub\") . handler (move | | {"));
    }

    #[test]
    fn reports_misuse() {
        let out = expand(
            quote!(x),
            quote! {
                impl Trait for Calc {
                    #[tool] async fn a(&mut self) {}
                    #[tool] fn b(&self) {}
                    #[tool(name = "c")] async fn c1(&self) {}
                    #[tool(name = "c")] async fn c2(&self) {}
                    #[tool] const X: u8 = 1;
                }
            },
        )
        .to_string();
        for message in [
            "takes no arguments",
            "not on a trait impl",
            "takes `&self`, not `&mut self`",
            "must be an `async fn`",
            "already used by `c1`",
            "`#[tool]` goes on an async method",
        ] {
            assert!(out.contains(message), "{message:?} in {out}");
        }
        assert!(
            !out.contains("# [tool"),
            "marks are removed even on error: {out}"
        );
        assert!(out.contains("unreachable"), "stubs on error: {out}");

        let out = expand(
            quote!(),
            quote!(
                async fn f() {}
            ),
        )
        .to_string();
        assert!(out.contains("for a free async fn, use `#[tool]`"), "{out}");
    }
}
