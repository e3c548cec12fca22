//! Middleware: tower layers over the MCP service.

mod refusal;

pub use refusal::{Refusal, RefusalKind, code};
