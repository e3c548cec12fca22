//! Moving MCP messages between peers.
//!
//! This crate sits above `mcp-protocol` and below the client and server. It moves frames (one
//! JSON-RPC message each) and knows nothing of their meaning.
//!
//! - [`stream`]: newline-delimited JSON over any `AsyncRead` / `AsyncWrite`, with a maximum frame
//!   size: the framing of stdio, and of TCP and Unix sockets.
//! - [`stdio`]: the process's own stdin and stdout, registered with the reactor when they are
//!   pipes.
//! - [`duplex`]: an in-memory connected pair, for tests and embedding.
//! - [`child`]: a server as a child process, shut down to its whole process group.
//! - [`http_client`] (feature `http-client`, on by default): Streamable HTTP, the client side.
//! - [`ws_client`] (feature `ws-client`, off by default): MCP over WebSocket, the client side,
//!   with keepalive and reconnect.
//! - `tls` (feature `tls`, off by default here, on by default in `mcp-client`): `https://`
//!   and `wss://` for the client transports (rustls), with the trusted roots to choose.
//! - [`sse`]: server-sent events: an encoder and an incremental parser, shared by the HTTP
//!   transports of the server and the client.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let ((mut a_in, mut a_out), (mut b_in, mut b_out)) = mcp_transport::duplex(1024);
//! a_out.send(br#"{"jsonrpc":"2.0","method":"ping","id":1}"#).await?;
//! a_out.flush().await?;
//! let frame = b_in.next().await.expect("a frame").expect("within the size limit");
//! assert!(frame.starts_with(b"{"));
//! # drop((a_in, b_out));
//! # Ok(())
//! # }
//! ```

pub mod child;
#[cfg(any(feature = "http-client", feature = "ws-client"))]
pub mod connect;
#[cfg(feature = "http-client")]
pub mod http_client;
pub mod sse;
pub mod stdio;
pub mod stream;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "ws-client")]
pub mod ws_client;

pub use stream::{DEFAULT_MAX_FRAME, FrameError, FrameReader, FrameWriter};

/// A boxed reading half of a byte stream.
pub type BoxReader = std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>>;
/// A boxed writing half of a byte stream.
pub type BoxWriter = std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>;

/// Both halves of a framed byte stream.
pub type Framed = (FrameReader<BoxReader>, FrameWriter<BoxWriter>);

/// An in-memory connected pair of framed streams: what one side sends, the other reads.
pub fn duplex(max_frame: usize) -> (Framed, Framed) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    (split(a, max_frame), split(b, max_frame))
}

/// Frames a bidirectional byte stream (a TCP or Unix socket, a duplex pipe).
pub fn split<S>(stream: S, max_frame: usize) -> Framed
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (r, w) = tokio::io::split(stream);
    (
        FrameReader::new(Box::pin(r) as BoxReader, max_frame),
        FrameWriter::new(Box::pin(w) as BoxWriter),
    )
}
