//! A server written as a type: state in a struct, tools as its methods, the server's name,
//! options and routes from a trait implementation.
//!
//! Mirrors the original Kailash SDK's base-class server example: `class InventoryServer(
//! MCPServerBase)` with `__init__(name, port)`, an abstract `setup()` registering tools with
//! `self.add_tool()` and resources with `self.add_resource(uri)`, and `server.start()`. How it
//! maps:
//!
//! | original                          | here                                                    |
//! |-----------------------------------|---------------------------------------------------------|
//! | subclass `MCPServerBase`          | `impl McpServer for InventoryServer`                     |
//! | `setup()`                         | `McpServer::routes(&self, router)`                       |
//! | `@self.add_tool()` on a method    | `#[tool]` on a method of a `#[tools]` impl block         |
//! | `@self.add_resource(uri)`         | `Resource::new(uri, name).handler(..)` in `routes`       |
//! | `start()`                         | `into_server()` then `serve_stdio()` or `serve_http_with_shutdown(..)` |
//!
//! What differs: the original's base class needed the undeclared `fastmcp` package (without it
//! `start()` raised `NotImplementedError`), ignored its host and port (stdio only), and `stop()`
//! only flipped a flag. Here the state is shared by every request (an `Arc` the routes hold, so
//! tools run concurrently on any worker thread), `--http` serves Streamable HTTP on the given
//! address, and Ctrl-C or SIGTERM stops it gracefully.
//!
//! ```text
//! base-class-server                 # stdio, until stdin ends
//! base-class-server --http ADDR     # http://ADDR/mcp, printed once listening
//! ```
//!
//! Tools: `add_item {name, quantity}`, `remove_item {name}` (a tool error for an unknown item),
//! `list_items` (structured output); resource `inventory://items` (the same list as JSON).

mod shutdown;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use mcp_protocol::types::ResourceContents;
use mcp_server::http::HttpOptions;
use mcp_server::{
    Args, Json, McpServer, Resource, Router, Server, ServerOptions, ToolError, tools,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The state every request shares: item name to quantity.
#[derive(Default)]
struct Inventory {
    items: Mutex<BTreeMap<String, u32>>,
}

#[derive(Deserialize, JsonSchema)]
struct AddItem {
    /// The item's name.
    name: String,
    /// How many to add.
    quantity: u32,
}

#[derive(Deserialize, JsonSchema)]
struct RemoveItem {
    /// The item's name.
    name: String,
}

#[derive(Serialize, JsonSchema)]
struct Items {
    /// Item name to quantity, by name.
    items: BTreeMap<String, u32>,
    /// The sum of the quantities.
    total: u64,
}

impl Inventory {
    /// The current items. The lock is held for the copy only, never across an `.await`.
    fn snapshot(&self) -> Items {
        let items = self
            .items
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let total = items.values().map(|q| u64::from(*q)).sum();
        Items { items, total }
    }
}

#[tools]
impl Inventory {
    /// Adds some of an item; returns the new quantity.
    #[tool]
    async fn add_item(&self, Args(args): Args<AddItem>) -> Result<String, ToolError> {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let quantity = items.entry(args.name.clone()).or_default();
        *quantity = quantity
            .checked_add(args.quantity)
            .ok_or_else(|| ToolError::failed(format!("too many {}", args.name)))?;
        Ok(format!("{}: {}", args.name, quantity))
    }

    /// Removes an item altogether.
    #[tool]
    async fn remove_item(&self, Args(args): Args<RemoveItem>) -> Result<String, ToolError> {
        let removed = self
            .items
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&args.name);
        match removed {
            Some(quantity) => Ok(format!("removed {quantity} {}", args.name)),
            None => Err(ToolError::failed(format!("no item named {}", args.name))),
        }
    }

    /// Lists the items and their total.
    #[tool(read_only)]
    async fn list_items(&self) -> Json<Items> {
        Json(self.snapshot())
    }
}

/// The server type: what the original's subclass held, and its `setup()`.
struct InventoryServer {
    inventory: Arc<Inventory>,
}

impl McpServer for InventoryServer {
    fn name(&self) -> String {
        "inventory-server".to_owned()
    }

    fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").to_owned()
    }

    fn options(&self) -> ServerOptions {
        ServerOptions {
            instructions: Some("Keeps an inventory: add_item, remove_item, list_items.".into()),
            ..ServerOptions::default()
        }
    }

    fn routes(&self, router: Router) -> Router {
        let inventory = Arc::clone(&self.inventory);
        router.merge(Arc::clone(&self.inventory).router()).resource(
            Resource::new("inventory://items", "items")
                .description("The inventory as JSON")
                .mime_type("application/json")
                .handler(move |request| {
                    let json = serde_json::to_string(&inventory.snapshot().items);
                    async move {
                        let json = json.map_err(|e| ToolError::failed(e.to_string()))?;
                        Ok(vec![ResourceContents::text(
                            request.uri,
                            Some("application/json"),
                            json,
                        )])
                    }
                }),
        )
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let server: Server = InventoryServer {
        inventory: Arc::new(Inventory::default()),
    }
    .into_server();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => server.serve_stdio().await,
        [flag, addr] if flag == "--http" => {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            println!("http://{}/mcp", listener.local_addr()?);
            server
                .serve_http_with_shutdown(listener, HttpOptions::default(), shutdown::interrupted())
                .await
        }
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "usage: base-class-server [--http ADDR]",
        )),
    }
}
