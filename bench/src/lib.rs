//! What the client benchmark's two binaries share: the command line, the load loop that keeps N
//! `tools/call echo` requests in flight through a client, the CPU accounting from `/proc`, and
//! the JSON line they print.
//!
//! `bench-client-ours` and `bench-client-rmcp` differ only in the client that makes the calls;
//! everything measured around the calls is this crate's, so the two are measured alike.

pub mod client_load;
