//! Attribute macros for `mcp-server`, re-exported there as `mcp_server::tool` and
//! `mcp_server::tools`; use them through that crate.
//!
//! - [`macro@tool`] on a free `async fn` adds `<fn>_tool()`, which returns the function's
//!   `ToolRoute`.
//! - [`macro@tools`] on an inherent `impl` block adds `tool_routes()` and `router()` for the
//!   methods marked `#[tool]`.
//!
//! Both only write the builder call you would write by hand
//! (`Tool::new(name).description(..).handler(f)`): extraction, schemas and results go through
//! `mcp_server`'s `ToolHandler` impls, so a macro-built route is the same route as a hand-built
//! one. The generated code names the crate `::mcp_server`, so depend on it under that name.
//!
//! See `docs/macros.md` for the expansion and for how to read the type errors.

mod args;
mod sig;
mod tool;
mod tools;

use proc_macro::TokenStream;

/// Makes a tool of a free `async fn`: the function stays as it is, and a function
/// `<fn>_tool() -> mcp_server::ToolRoute` with the same visibility is added next to it.
///
/// Arguments, all optional:
///
/// - `name = "..."`: the tool's name (1-128 characters of `A-Z a-z 0-9 _ - .`, checked at compile
///   time); by default the function's name.
/// - `description = "..."`: what the tool does, for the model; by default the function's doc
///   comments, joined and trimmed.
/// - `title = "..."`: a display name.
/// - `read_only`: marks the tool read-only (and so idempotent and not destructive).
///
/// The parameters must be extractors (`Args<T>`, `Progress`, `Client`, `Logger`, ..., at most
/// eight) and the return type an `IntoToolResult` (`String`, `Json<T>`, `Result<_, ToolError>`,
/// ...), exactly as for `Tool::handler`.
///
/// ```
/// use mcp_server::{Args, Json, Router, tool};
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize, JsonSchema)]
/// struct AddArgs {
///     a: i64,
///     b: i64,
/// }
///
/// #[derive(Serialize, JsonSchema)]
/// struct Sum {
///     sum: i64,
/// }
///
/// /// Adds two integers.
/// #[tool(read_only)]
/// async fn add(Args(args): Args<AddArgs>) -> Json<Sum> {
///     Json(Sum { sum: args.a + args.b })
/// }
///
/// let route = add_tool();
/// assert_eq!(route.definition().name, "add");
/// assert_eq!(route.definition().description.as_deref(), Some("Adds two integers."));
/// assert!(route.definition().output_schema.is_some());
/// let router = Router::new().tool(route);
/// assert!(router.has_tool("add"));
/// ```
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    tool::expand(attr.into(), item.into()).into()
}

/// Makes tools of the methods marked `#[tool]` in an inherent `impl` block, and adds, in a second
/// impl block:
///
/// - `pub fn tool_routes(self: Arc<Self>) -> Vec<mcp_server::ToolRoute>`, one route per marked
///   method;
/// - `pub fn router(self: Arc<Self>) -> mcp_server::Router`, a router with all of them.
///
/// Each marked method takes `&self` and then extractors (patterns such as
/// `Args(a): Args<AddArgs>` are fine), and takes the same `#[tool(...)]` arguments as a free
/// function. Each route's handler is a closure that clones the `Arc<Self>` and awaits the method
/// on it, so the type must be `Send + Sync + 'static` (share mutable state through a
/// `tokio::sync::Mutex` or atomics inside it), and each method's future must be `Send`. Methods
/// without `#[tool]` are left alone.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicI64, Ordering};
///
/// use mcp_server::{Args, Router, tools};
/// use schemars::JsonSchema;
/// use serde::Deserialize;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct AddArgs {
///     /// How much to add.
///     by: i64,
/// }
///
/// #[derive(Default)]
/// struct Counter {
///     total: AtomicI64,
/// }
///
/// #[tools]
/// impl Counter {
///     /// Adds to the running total and returns it.
///     #[tool]
///     async fn add(&self, Args(a): Args<AddArgs>) -> String {
///         let total = self.total.fetch_add(a.by, Ordering::Relaxed) + a.by;
///         total.to_string()
///     }
///
///     /// Shows the running total.
///     #[tool(name = "show-total", read_only)]
///     async fn show(&self) -> String {
///         self.total.load(Ordering::Relaxed).to_string()
///     }
/// }
///
/// let counter = Arc::new(Counter::default());
/// let routes = Arc::clone(&counter).tool_routes();
/// assert_eq!(routes.len(), 2);
/// assert_eq!(routes[1].definition().name, "show-total");
/// let router: Router = counter.router();
/// assert!(router.has_tool("add") && router.has_tool("show-total"));
/// ```
#[proc_macro_attribute]
pub fn tools(attr: TokenStream, item: TokenStream) -> TokenStream {
    tools::expand(attr.into(), item.into()).into()
}
