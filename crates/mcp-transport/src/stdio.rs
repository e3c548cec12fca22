//! The process's own stdin and stdout.
//!
//! `tokio::io::stdin()` / `stdout()` hand every read and write to the blocking thread pool, which
//! caps a stdio server near 10-20k messages a second. When stdin and stdout are pipes (as they
//! are when an MCP host spawns a server) this module registers duplicates of them with the
//! reactor instead; otherwise (a terminal, a file) it falls back to tokio's blocking-pool
//! handles. Either way nothing but protocol should ever be written to stdout: log to stderr.

use std::os::fd::AsFd;

use crate::{BoxReader, BoxWriter, FrameReader, FrameWriter, Framed};

/// Frames the process's stdin and stdout, refusing incoming lines longer than `max_frame`.
pub fn framed(max_frame: usize) -> Framed {
    (
        FrameReader::new(reader(), max_frame),
        FrameWriter::new(writer()),
    )
}

/// The process's stdin as an async reader.
pub fn reader() -> BoxReader {
    let pipe = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .and_then(|fd| tokio::net::unix::pipe::Receiver::from_owned_fd(fd).ok());
    match pipe {
        Some(rx) => Box::pin(rx),
        None => Box::pin(tokio::io::stdin()),
    }
}

/// The process's stdout as an async writer.
pub fn writer() -> BoxWriter {
    let pipe = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .and_then(|fd| tokio::net::unix::pipe::Sender::from_owned_fd(fd).ok());
    match pipe {
        Some(tx) => Box::pin(tx),
        None => Box::pin(tokio::io::stdout()),
    }
}
