//! What `#[tool(...)]` says, the description read from doc comments, and the builder chain they
//! become.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Ident, Lit, LitStr, Meta, Token};

/// The longest tool name the protocol allows (`mcp_protocol::types::MAX_TOOL_NAME_LEN`).
const MAX_TOOL_NAME_LEN: usize = 128;

/// The arguments of one `#[tool(...)]` attribute.
#[derive(Default)]
pub(crate) struct ToolArgs {
    name: Option<LitStr>,
    description: Option<LitStr>,
    title: Option<LitStr>,
    read_only: Option<Span>,
}

impl ToolArgs {
    /// Parses the tokens between the parentheses of `#[tool(...)]`.
    pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let mut args = Self::default();
        let parser = syn::meta::parser(|meta| {
            let slot = if meta.path.is_ident("name") {
                &mut args.name
            } else if meta.path.is_ident("description") {
                &mut args.description
            } else if meta.path.is_ident("title") {
                &mut args.title
            } else if meta.path.is_ident("read_only") {
                if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                    return Err(
                        meta.error("`read_only` is a flag: write `read_only`, with no value")
                    );
                }
                if args.read_only.is_some() {
                    return Err(meta.error("`read_only` is given twice"));
                }
                args.read_only = Some(meta.path.span());
                return Ok(());
            } else {
                return Err(meta.error(
                    "unknown `#[tool]` argument; expected `name = \"...\"`, \
                     `description = \"...\"`, `title = \"...\"` or `read_only`",
                ));
            };
            if slot.is_some() {
                let key = meta.path.get_ident().map(Ident::to_string);
                return Err(
                    meta.error(format_args!("`{}` is given twice", key.unwrap_or_default()))
                );
            }
            *slot = Some(meta.value()?.parse()?);
            Ok(())
        });
        parser.parse2(tokens)?;
        Ok(args)
    }

    /// Reads a `#[tool]` or `#[tool(...)]` attribute found inside a `#[tools]` impl block.
    pub(crate) fn from_attribute(attr: &Attribute) -> syn::Result<Self> {
        match &attr.meta {
            Meta::Path(_) => Ok(Self::default()),
            Meta::List(list) => Self::parse(list.tokens.clone()),
            Meta::NameValue(nv) => Err(syn::Error::new_spanned(
                nv,
                "expected `#[tool]` or `#[tool(name = \"...\", ...)]`",
            )),
        }
    }

    /// The tool's name: the `name` argument, or else the function's name (without `r#`).
    pub(crate) fn name(&self, ident: &Ident) -> syn::Result<String> {
        match &self.name {
            Some(lit) => {
                let name = lit.value();
                check_name(&name).map_err(|e| syn::Error::new(lit.span(), e))?;
                Ok(name)
            }
            None => {
                let name = ident.unraw().to_string();
                check_name(&name).map_err(|e| {
                    syn::Error::new(
                        ident.span(),
                        format!(
                            "the tool's name defaults to the function's name, but {e}; \
                             give one with `#[tool(name = \"...\")]`"
                        ),
                    )
                })?;
                Ok(name)
            }
        }
    }

    /// `::mcp_server::Tool::new(name)` with `.description(..)`, `.title(..)` and `.read_only()`
    /// as given; the description falls back to the doc comments in `attrs`.
    pub(crate) fn builder(&self, name: &str, attrs: &[Attribute]) -> syn::Result<TokenStream> {
        let description = match &self.description {
            Some(lit) => Some(lit.value()),
            None => doc_description(attrs)?,
        };
        let description = description.map(|d| quote!(.description(#d)));
        let title = self.title.as_ref().map(|t| quote!(.title(#t)));
        let read_only = self
            .read_only
            .map(|span| quote_spanned!(span=> .read_only()));
        Ok(quote! {
            ::mcp_server::Tool::new(#name) #description #title #read_only
        })
    }
}

/// The rules of `mcp_protocol::types::validate_tool_name`, checked at compile time.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a tool name cannot be empty".to_owned());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(format!(
            "{c:?} is not allowed in a tool name (only A-Z a-z 0-9 _ - .)"
        ));
    }
    if name.len() > MAX_TOOL_NAME_LEN {
        return Err(format!(
            "a tool name has at most {MAX_TOOL_NAME_LEN} characters, this one has {}",
            name.len()
        ));
    }
    Ok(())
}

/// The doc comments in `attrs`, joined into one text: the common indentation removed, trailing
/// whitespace dropped, and the whole trimmed. `None` when there are none (or only blank ones).
pub(crate) fn doc_description(attrs: &[Attribute]) -> syn::Result<Option<String>> {
    let mut lines = Vec::new();
    for attr in attrs {
        let Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        if !nv.path.is_ident("doc") {
            continue;
        }
        match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => lines.extend(s.value().split('\n').map(str::to_owned)),
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "`#[tool]` cannot read a doc comment that is not a string literal; \
                     give the description with `#[tool(description = \"...\")]`",
                ));
            }
        }
    }
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.chars().take_while(|c| c.is_whitespace()).count())
        .min()
        .unwrap_or(0);
    let text = lines
        .iter()
        .map(|l| {
            l.char_indices()
                .nth(indent)
                .map_or("", |(i, _)| &l[i..])
                .trim_end()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let text = text.trim();
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// Whether `attr` is a `#[tool]` (or `#[mcp_server::tool]`, ...) attribute.
pub(crate) fn is_tool_attr(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "tool")
}

/// The `#[cfg(...)]` attributes in `attrs`, which generated items that refer to the function
/// must share.
pub(crate) fn cfg_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("cfg"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn parses_every_argument() {
        let args = ToolArgs::parse(quote!(
            name = "n",
            description = "d",
            title = "t",
            read_only
        ))
        .expect("valid arguments");
        let ident: Ident = parse_quote!(f);
        assert_eq!(args.name(&ident).expect("valid name"), "n");
        let builder = args.builder("n", &[]).expect("builder").to_string();
        assert!(builder.contains(". description (\"d\")"), "{builder}");
        assert!(builder.contains(". title (\"t\")"), "{builder}");
        assert!(builder.contains(". read_only ()"), "{builder}");
    }

    #[test]
    fn rejects_misuse() {
        for (tokens, message) in [
            (quote!(nmae = "x"), "unknown `#[tool]` argument"),
            (quote!(name = "a", name = "b"), "`name` is given twice"),
            (quote!(read_only, read_only), "`read_only` is given twice"),
            (quote!(read_only = true), "`read_only` is a flag"),
            (quote!(description = 5), "expected string literal"),
        ] {
            let err = ToolArgs::parse(tokens).err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains(message)),
                "{err:?} should contain {message:?}"
            );
        }
    }

    #[test]
    fn checks_names() {
        let ident: Ident = parse_quote!(r#type);
        assert_eq!(
            ToolArgs::default().name(&ident).expect("valid name"),
            "type"
        );
        let bad = ToolArgs::parse(quote!(name = "no spaces")).expect("parses");
        let err = bad.name(&ident).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("' ' is not allowed")));
        let long = ToolArgs::parse(quote!(name = "a".repeat(129))).err();
        assert!(long.is_some(), "a non-literal name is rejected");
        assert!(check_name(&"a".repeat(128)).is_ok());
        assert!(check_name(&"a".repeat(129)).is_err());
        assert!(check_name("").is_err());
        let unicode: Ident = parse_quote!(größe);
        let err = ToolArgs::default()
            .name(&unicode)
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("defaults to the function's name")));
    }

    #[test]
    fn joins_doc_comments() {
        let f: syn::ItemFn = parse_quote! {
            /// Adds two numbers.
            ///
            ///   Indented
            /// Last line.
            #[doc(hidden)]
            fn f() {}
        };
        assert_eq!(
            doc_description(&f.attrs).expect("literal docs").as_deref(),
            Some("Adds two numbers.\n\n  Indented\nLast line.")
        );
        let g: syn::ItemFn = parse_quote! {
            /**
                Block doc.
                  More.
            */
            fn g() {}
        };
        assert_eq!(
            doc_description(&g.attrs).expect("literal docs").as_deref(),
            Some("Block doc.\n  More.")
        );
        let h: syn::ItemFn = parse_quote!(
            fn h() {}
        );
        assert_eq!(doc_description(&h.attrs).expect("no docs"), None);
        let i: syn::ItemFn = parse_quote!(
            #[doc = include_str!("x.md")]
            fn i() {}
        );
        assert!(doc_description(&i.attrs).is_err());
    }
}
