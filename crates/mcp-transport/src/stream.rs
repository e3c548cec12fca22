//! Newline-delimited JSON framing over any byte stream.
//!
//! One message per line; a message never contains a raw newline (JSON escapes them). A line
//! longer than the maximum frame size is refused with [`FrameError::TooLarge`] and skipped up to
//! its newline, so the connection stays usable; the bytes of an oversized line are never held in
//! memory beyond the limit.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};

/// The default maximum frame size: 4 MiB.
pub const DEFAULT_MAX_FRAME: usize = 4 * 1024 * 1024;

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A line longer than the limit; it was skipped and the stream continues.
    #[error("frame of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// The length of the refused line (counted up to its newline or end of input).
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The underlying stream failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

/// Reads newline-delimited frames.
#[derive(Debug)]
pub struct FrameReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Start of unconsumed bytes in `buf`.
    start: usize,
    /// End of the bytes already searched for a newline.
    scanned: usize,
    max: usize,
    /// Length of an oversized line being skipped.
    discarding: Option<usize>,
    eof: bool,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Frames `inner`, refusing lines longer than `max_frame` bytes.
    pub fn new(inner: R, max_frame: usize) -> Self {
        Self {
            inner,
            buf: Vec::with_capacity(8 * 1024),
            start: 0,
            scanned: 0,
            max: max_frame.max(1),
            discarding: None,
            eof: false,
        }
    }

    /// The maximum frame size.
    pub fn max_frame(&self) -> usize {
        self.max
    }

    /// Whether a complete frame is already buffered, so `next` will not wait for input.
    pub fn has_buffered_frame(&self) -> bool {
        memchr::memchr(b'\n', &self.buf[self.start..]).is_some()
    }

    /// The next frame, without its newline (and without a trailing `\r`). `None` at end of
    /// input. Empty lines are skipped. A last line without a newline is returned as a frame.
    pub async fn next(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        loop {
            if let Some(found) = memchr::memchr(b'\n', &self.buf[self.scanned..]) {
                let end = self.scanned + found;
                let line_start = self.start;
                self.start = end + 1;
                self.scanned = self.start;
                if let Some(skipped) = self.discarding.take() {
                    return Some(Err(FrameError::TooLarge {
                        size: skipped + (end - line_start),
                        limit: self.max,
                    }));
                }
                let mut line = &self.buf[line_start..end];
                if line.last() == Some(&b'\r') {
                    line = &line[..line.len() - 1];
                }
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if line.len() > self.max {
                    return Some(Err(FrameError::TooLarge {
                        size: line.len(),
                        limit: self.max,
                    }));
                }
                return Some(Ok(line.to_vec()));
            }
            self.scanned = self.buf.len();
            let pending = self.buf.len() - self.start;
            if pending > self.max {
                // Too long already: drop what we have and skip to the next newline.
                *self.discarding.get_or_insert(0) += pending;
                self.buf.clear();
                self.start = 0;
                self.scanned = 0;
            }
            if self.eof {
                let rest = self.buf.len() - self.start;
                if let Some(skipped) = self.discarding.take() {
                    self.buf.clear();
                    self.start = 0;
                    self.scanned = 0;
                    return Some(Err(FrameError::TooLarge {
                        size: skipped + rest,
                        limit: self.max,
                    }));
                }
                if rest == 0 {
                    return None;
                }
                let line = self.buf[self.start..].to_vec();
                self.buf.clear();
                self.start = 0;
                self.scanned = 0;
                if line.iter().all(u8::is_ascii_whitespace) {
                    return None;
                }
                return Some(Ok(line));
            }
            // Reclaim consumed space before reading more.
            if self.start > 0 && self.start == self.buf.len() {
                self.buf.clear();
                self.start = 0;
                self.scanned = 0;
            } else if self.start > self.buf.capacity() / 2 {
                self.buf.drain(..self.start);
                self.scanned -= self.start;
                self.start = 0;
            }
            let len = self.buf.len();
            let want = (self.max + 1)
                .saturating_sub(len - self.start)
                .clamp(1, 64 * 1024);
            // Read into the spare capacity: no zeroing of the buffer on every read.
            self.buf.reserve(want);
            match self.inner.read_buf(&mut self.buf).await {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Some(Err(FrameError::Io(e))),
            }
        }
    }
}

/// Writes newline-delimited frames through a buffer. Call [`FrameWriter::flush`] when no more
/// frames are ready: writers that batch flushes reach far higher throughput under load.
#[derive(Debug)]
pub struct FrameWriter<W: AsyncWrite> {
    inner: BufWriter<W>,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    /// Frames writes to `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner: BufWriter::with_capacity(64 * 1024, inner),
        }
    }

    /// Buffers one frame and its newline. The frame must not contain a raw newline.
    pub async fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        if memchr::memchr(b'\n', frame).is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a frame must not contain a newline",
            ));
        }
        self.inner.write_all(frame).await?;
        self.inner.write_all(b"\n").await
    }

    /// Writes out everything buffered.
    pub async fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().await
    }

    /// Flushes and shuts down the writing half (end of input for the peer).
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.inner.shutdown().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8], max: usize) -> Vec<Result<Vec<u8>, String>> {
        let mut r = FrameReader::new(input, max);
        let mut out = Vec::new();
        while let Some(f) = r.next().await {
            out.push(f.map_err(|e| e.to_string()));
        }
        out
    }

    #[tokio::test]
    async fn splits_lines() {
        let got = frames(b"{\"a\":1}\n\n  \r\n{\"b\":2}\r\n{\"c\":3}", 100).await;
        assert_eq!(
            got,
            vec![
                Ok(b"{\"a\":1}".to_vec()),
                Ok(b"{\"b\":2}".to_vec()),
                Ok(b"{\"c\":3}".to_vec())
            ]
        );
    }

    #[tokio::test]
    async fn oversized_line_is_skipped_and_stream_continues() {
        let mut input = b"{\"ok\":1}\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 1000));
        input.extend(b"\n{\"ok\":2}\n");
        let got = frames(&input, 64).await;
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], Ok(b"{\"ok\":1}".to_vec()));
        assert!(
            got[1].as_ref().unwrap_err().contains("1000 bytes"),
            "{:?}",
            got[1]
        );
        assert_eq!(got[2], Ok(b"{\"ok\":2}".to_vec()));
    }

    #[tokio::test]
    async fn oversized_last_line_without_newline() {
        let input = vec![b'y'; 500];
        let got = frames(&input, 64).await;
        assert_eq!(got.len(), 1);
        assert!(got[0].is_err());
    }

    #[tokio::test]
    async fn exactly_at_the_limit_is_accepted() {
        let mut input = vec![b'z'; 64];
        input.push(b'\n');
        let got = frames(&input, 64).await;
        assert_eq!(got, vec![Ok(vec![b'z'; 64])]);
    }

    #[tokio::test]
    async fn many_small_reads() {
        // A reader that hands out one byte at a time.
        let (mut tx, rx) = tokio::io::duplex(1);
        let writer = tokio::spawn(async move {
            for _ in 0..50 {
                tx.write_all(b"{\"n\":12345}\n").await.unwrap();
            }
        });
        let mut r = FrameReader::new(rx, 1024);
        let mut n = 0;
        while let Some(f) = r.next().await {
            assert_eq!(f.unwrap(), b"{\"n\":12345}");
            n += 1;
        }
        writer.await.unwrap();
        assert_eq!(n, 50);
    }

    #[tokio::test]
    async fn writer_refuses_embedded_newlines() {
        let mut w = FrameWriter::new(Vec::new());
        assert!(w.send(b"a\nb").await.is_err());
        w.send(b"ok").await.unwrap();
        w.flush().await.unwrap();
    }
}
