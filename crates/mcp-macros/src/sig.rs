//! Checks a handler's signature before anything is generated from it, so that misuse the macro
//! can see is reported in the macro's own words, at the offending tokens.

use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ReturnType, Signature, Type};

/// The most extractor parameters a handler can take (`ToolHandler` is implemented up to eight).
const MAX_PARAMS: usize = 8;

/// Where the function sits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A free function under `#[tool]`.
    Free,
    /// A method marked `#[tool]` inside a `#[tools]` impl block.
    Method,
}

/// Adds `error` to `errors`, so that every problem is reported at once.
pub(crate) fn push(errors: &mut Option<syn::Error>, error: syn::Error) {
    match errors {
        Some(e) => e.combine(error),
        None => *errors = Some(error),
    }
}

/// Checks `sig` and returns the types of its extractor parameters (the receiver left out).
pub(crate) fn check(sig: &Signature, kind: Kind) -> syn::Result<Vec<&Type>> {
    let mut errors = None;
    let what = match kind {
        Kind::Free => "a `#[tool]` function",
        Kind::Method => "a `#[tool]` method",
    };
    if sig.asyncness.is_none() {
        let (fn_token, ident) = (&sig.fn_token, &sig.ident);
        push(
            &mut errors,
            syn::Error::new_spanned(
                quote!(#fn_token #ident),
                format!("{what} must be an `async fn`"),
            ),
        );
    }
    let spanned = |tokens: &dyn ToTokens, message: String| syn::Error::new_spanned(tokens, message);
    if let Some(c) = &sig.constness {
        push(&mut errors, spanned(c, format!("{what} cannot be `const`")));
    }
    if let Some(u) = &sig.unsafety {
        push(
            &mut errors,
            spanned(u, format!("{what} cannot be `unsafe`")),
        );
    }
    if let Some(abi) = &sig.abi {
        push(
            &mut errors,
            spanned(abi, format!("{what} cannot have an `extern` ABI")),
        );
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        push(
            &mut errors,
            spanned(
                &sig.generics,
                format!(
                    "{what} cannot be generic: the tool's schemas are generated from its \
                     concrete parameter and return types"
                ),
            ),
        );
    }
    if let Some(v) = &sig.variadic {
        push(
            &mut errors,
            spanned(v, format!("{what} cannot be variadic")),
        );
    }

    let mut inputs = sig.inputs.iter().enumerate().peekable();
    match (kind, inputs.peek().map(|(_, arg)| arg)) {
        (Kind::Free, Some(FnArg::Receiver(r))) => {
            push(
                &mut errors,
                spanned(
                    r,
                    "`#[tool]` on a method: put `#[tools]` on the `impl` block instead; it builds \
                     the routes of the methods marked `#[tool]`"
                        .to_owned(),
                ),
            );
            inputs.next();
        }
        (Kind::Method, Some(FnArg::Receiver(r))) => {
            let shared = r.mutability.is_none()
                && matches!(&*r.ty, Type::Reference(t) if t.mutability.is_none() && is_self(&t.elem));
            if !shared {
                push(
                    &mut errors,
                    spanned(
                        r,
                        format!(
                            "{what} in `#[tools]` takes `&self`, not `{}`: the routes share the \
                             value through an `Arc<Self>`",
                            pretty(r.to_token_stream())
                        ),
                    ),
                );
            }
            inputs.next();
        }
        (Kind::Method, _) => push(
            &mut errors,
            syn::Error::new(
                sig.paren_token.span.join(),
                format!(
                    "{what} in `#[tools]` takes `&self` as its first parameter (for an \
                     associated function, use `#[tool]` on a free function instead)"
                ),
            ),
        ),
        (Kind::Free, _) => {}
    }

    let mut types = Vec::new();
    for (i, (position, arg)) in inputs.enumerate() {
        match arg {
            FnArg::Receiver(r) => push(
                &mut errors,
                spanned(r, "`self` must be the first parameter".to_owned()),
            ),
            FnArg::Typed(pt) => {
                if i == MAX_PARAMS {
                    let rest: Vec<_> = sig.inputs.iter().skip(position).collect();
                    push(
                        &mut errors,
                        spanned(
                            &quote!(#(#rest)*),
                            format!(
                                "{what} takes at most {MAX_PARAMS} extractor parameters (the \
                                 `ToolHandler` impls stop at eight); gather the arguments in one \
                                 `Args<T>` struct"
                            ),
                        ),
                    );
                }
                if contains_impl(pt.ty.to_token_stream()) {
                    push(
                        &mut errors,
                        spanned(
                            &pt.ty,
                            format!(
                                "{what} cannot take `impl Trait` parameters (they are generic); \
                                 name a concrete extractor type such as `Args<T>`"
                            ),
                        ),
                    );
                }
                types.push(&*pt.ty);
            }
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(types),
    }
}

/// Statements that check, at the right spans, that every parameter is an extractor and that the
/// return type converts into a tool result. They make the first error name the parameter at
/// fault, where the error of `.handler(..)` alone names only the whole function.
pub(crate) fn assertions(sig: &Signature, params: &[&Type]) -> TokenStream {
    let params = params.iter().map(|ty| {
        quote_spanned! {ty.span()=>
            let _ = <#ty as ::mcp_server::FromToolCall>::from_call;
        }
    });
    let output = match &sig.output {
        ReturnType::Type(_, ty) if contains_impl(ty.to_token_stream()) => quote!(),
        ReturnType::Type(_, ty) => quote_spanned! {ty.span()=>
            let _ = <#ty as ::mcp_server::IntoToolResult>::into_tool_result;
        },
        ReturnType::Default => {
            let ident = &sig.ident;
            quote_spanned! {ident.span()=>
                let _ = <() as ::mcp_server::IntoToolResult>::into_tool_result;
            }
        }
    };
    quote!(#(#params)* #output)
}

/// Statements that check that the future a free function returns is `Send`: without them, a
/// non-`Send` future makes only "`ToolHandler<_>` is not implemented", with no reason given.
pub(crate) fn assert_send_future(sig: &Signature, params: &[&Type]) -> TokenStream {
    let ident = &sig.ident;
    quote_spanned! {ident.span()=>
        fn tool_future_must_be_send<H, Fut>(_: &H)
        where
            H: ::core::ops::Fn(#(#params),*) -> Fut,
            Fut: ::core::future::Future + ::core::marker::Send,
        {
        }
        tool_future_must_be_send(&#ident);
    }
}

/// Tokens as a person writes them: `&mut self`, `Arc<Self>`.
fn pretty(tokens: TokenStream) -> String {
    tokens
        .to_string()
        .replace(" < ", "<")
        .replace(" >", ">")
        .replace("& ", "&")
        .replace(" :", ":")
}

/// Whether `ty` is the path `Self`.
fn is_self(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident("Self"))
}

/// Whether the tokens contain the keyword `impl` (an `impl Trait` type, at any depth).
fn contains_impl(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|t| match t {
        TokenTree::Ident(i) => i == "impl",
        TokenTree::Group(g) => contains_impl(g.stream()),
        TokenTree::Punct(_) | TokenTree::Literal(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn errors(sig: &Signature, kind: Kind) -> String {
        check(sig, kind)
            .err()
            .map(|e| {
                e.into_iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .unwrap_or_default()
    }

    #[test]
    fn accepts_handlers() {
        let sig: Signature = parse_quote!(async fn f(Args(a): Args<A>, p: Progress) -> String);
        assert_eq!(check(&sig, Kind::Free).map(|t| t.len()).ok(), Some(2));
        let sig: Signature = parse_quote!(async fn f(&self, Args(a): Args<A>));
        assert_eq!(check(&sig, Kind::Method).map(|t| t.len()).ok(), Some(1));
        let sig: Signature = parse_quote!(async fn f(self: &Self));
        assert_eq!(check(&sig, Kind::Method).map(|t| t.len()).ok(), Some(0));
        let sig: Signature = parse_quote!(async fn f(&'a self));
        assert!(check(&sig, Kind::Method).is_ok());
    }

    #[test]
    fn rejects_misuse() {
        for (sig, kind, message) in [
            (
                parse_quote!(fn f() -> String),
                Kind::Free,
                "must be an `async fn`",
            ),
            (
                parse_quote!(async fn f<T>(a: Args<T>)),
                Kind::Free,
                "cannot be generic",
            ),
            (
                parse_quote!(async unsafe fn f()),
                Kind::Free,
                "cannot be `unsafe`",
            ),
            (
                parse_quote!(async fn f(x: impl FromToolCall)),
                Kind::Free,
                "cannot take `impl Trait`",
            ),
            (
                parse_quote!(async fn f(&self)),
                Kind::Free,
                "put `#[tools]` on the `impl` block",
            ),
            (
                parse_quote!(async fn f(a: A)),
                Kind::Method,
                "takes `&self` as its first parameter",
            ),
            (
                parse_quote!(async fn f(&mut self)),
                Kind::Method,
                "takes `&self`, not `&mut self`",
            ),
            (
                parse_quote!(async fn f(self: Arc<Self>)),
                Kind::Method,
                "takes `&self`, not `self: Arc<Self>`",
            ),
            (
                parse_quote!(async fn f(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: I)),
                Kind::Free,
                "at most 8 extractor parameters",
            ),
        ] {
            let sig: Signature = sig;
            let got = errors(&sig, kind);
            assert!(got.contains(message), "{got:?} should contain {message:?}");
        }
        let eight: Signature =
            parse_quote!(async fn f(&self, a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H));
        assert!(check(&eight, Kind::Method).is_ok());
        let all: Signature = parse_quote!(unsafe fn f<T>(&self));
        assert_eq!(
            check(&all, Kind::Free).err().map(|e| e.into_iter().count()),
            Some(4)
        );
    }
}
