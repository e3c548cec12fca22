//! Parsing of libtest's summary lines, and a tee that counts them while echoing output.
//!
//! `cargo test` prints one summary line per suite (unit tests of each target, each
//! integration test binary, the doc tests of each library):
//!
//! ```text
//! test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s
//! test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s
//! ```

use std::io::{self, Read, Write};

/// Passed and failed counts of one or more suites.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Tests that passed.
    pub(crate) passed: u64,
    /// Tests that failed.
    pub(crate) failed: u64,
}

/// The sum of every `test result:` line seen in a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Number of summary lines seen (one per suite).
    pub(crate) suites: u64,
    /// Passed and failed tests summed over all suites.
    pub(crate) counts: Counts,
}

impl Tally {
    /// Adds the summary in `line`, if it is one; other lines are ignored.
    pub(crate) fn observe(&mut self, line: &str) {
        if let Some(counts) = parse_result_line(line) {
            self.suites += 1;
            self.counts.passed += counts.passed;
            self.counts.failed += counts.failed;
        }
    }
}

/// Parses a libtest summary line (`test result: ok. N passed; M failed; ...`).
///
/// Returns `None` for any other line. Colour escape sequences and surrounding
/// whitespace are ignored; the line must carry both a `passed` and a `failed` count.
pub(crate) fn parse_result_line(line: &str) -> Option<Counts> {
    let line = strip_ansi(line);
    let rest = line.trim().strip_prefix("test result:")?;

    let mut passed = None;
    let mut failed = None;
    for segment in rest.split(';') {
        let mut words = segment.split_whitespace().rev();
        let (Some(label), Some(number)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(number) = number.parse::<u64>() else {
            continue;
        };
        match label {
            "passed" => passed = Some(number),
            "failed" => failed = Some(number),
            _ => {}
        }
    }
    Some(Counts {
        passed: passed?,
        failed: failed?,
    })
}

/// Removes ANSI CSI escape sequences (`ESC [ ... letter`) from `text`.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip `[`, parameters and the final byte (an ASCII letter or `~`).
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() || next == '~' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Copies `input` to `output` as it arrives, counting the summary lines that pass through.
///
/// Output is flushed after every read so a long test run streams to the terminal.
pub(crate) fn tee_and_tally(mut input: impl Read, mut output: impl Write) -> io::Result<Tally> {
    let mut tally = Tally::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut buffer = [0_u8; 8192];
    loop {
        let read = match input.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        let chunk = &buffer[..read];
        output.write_all(chunk)?;
        output.flush()?;

        pending.extend_from_slice(chunk);
        while let Some(end) = pending.iter().position(|&byte| byte == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            tally.observe(&String::from_utf8_lossy(&line));
        }
    }
    if !pending.is_empty() {
        tally.observe(&String::from_utf8_lossy(&pending));
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(passed: u64, failed: u64) -> Option<Counts> {
        Some(Counts { passed, failed })
    }

    #[test]
    fn parses_an_ok_line() {
        let line = "test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s";
        assert_eq!(parse_result_line(line), counts(12, 0));
    }

    #[test]
    fn parses_a_failed_line() {
        let line = "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s";
        assert_eq!(parse_result_line(line), counts(3, 2));
    }

    #[test]
    fn ignored_measured_and_filtered_are_not_counted() {
        let line = "test result: ok. 7 passed; 1 failed; 4 ignored; 2 measured; 30 filtered out; finished in 1.50s";
        assert_eq!(parse_result_line(line), counts(7, 1));
    }

    #[test]
    fn parses_doc_test_lines() {
        // Doc tests end with the same summary, after a line of their own.
        let output = "\
   Doc-tests mcp_protocol

running 3 tests
test crates/mcp-protocol/src/lib.rs - (line 5) ... ok
test crates/mcp-protocol/src/wire.rs - wire::encode (line 40) ... ok
test crates/mcp-protocol/src/wire.rs - wire::decode (line 60) ... ignored

test result: ok. 2 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.52s

all doctests ran in 0.53s; merged doctests compilation took 0.31s
";
        let mut tally = Tally::default();
        output.lines().for_each(|line| tally.observe(line));
        assert_eq!(tally.suites, 1);
        assert_eq!(
            tally.counts,
            Counts {
                passed: 2,
                failed: 0
            }
        );
    }

    #[test]
    fn parses_an_empty_suite_and_whitespace_and_colour() {
        assert_eq!(
            parse_result_line(
                "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\r\n"
            ),
            counts(0, 0)
        );
        assert_eq!(
            parse_result_line(
                "  test result: \u{1b}[31mFAILED\u{1b}[0m. 1 passed; 9 failed; 0 ignored; 0 measured; 0 filtered out; finished in 2.00s"
            ),
            counts(1, 9)
        );
    }

    #[test]
    fn other_lines_are_not_results() {
        for line in [
            "",
            "running 3 tests",
            "test wire::tests::round_trip ... ok",
            "test wire::tests::test_result_parsing ... FAILED",
            "failures:",
            "error: test failed, to rerun pass `-p mcp-protocol --lib`",
            "test result: garbage",
            "test result: ok. 5 passed",
        ] {
            assert_eq!(parse_result_line(line), None, "{line:?}");
        }
    }

    #[test]
    fn tee_copies_everything_and_sums_all_suites() {
        let output = "\
running 2 tests
test a ... ok
test b ... FAILED

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

running 5 tests
test result: ok. 5 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.10s
test result: ok. 4 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.30s";
        let mut echoed = Vec::new();
        let tally = match tee_and_tally(output.as_bytes(), &mut echoed) {
            Ok(tally) => tally,
            Err(error) => panic!("in-memory tee failed: {error}"),
        };
        assert_eq!(echoed, output.as_bytes());
        assert_eq!(tally.suites, 3);
        assert_eq!(
            tally.counts,
            Counts {
                passed: 10,
                failed: 1
            }
        );
    }

    #[test]
    fn tee_handles_lines_split_across_reads() {
        /// A reader that hands out one byte per read.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                match (self.0.split_first(), buf.first_mut()) {
                    (Some((&byte, rest)), Some(slot)) => {
                        *slot = byte;
                        self.0 = rest;
                        Ok(1)
                    }
                    _ => Ok(0),
                }
            }
        }
        let output = b"test result: ok. 6 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n";
        let mut echoed = Vec::new();
        let tally = match tee_and_tally(Trickle(output), &mut echoed) {
            Ok(tally) => tally,
            Err(error) => panic!("in-memory tee failed: {error}"),
        };
        assert_eq!(echoed, output);
        assert_eq!(
            tally.counts,
            Counts {
                passed: 6,
                failed: 0
            }
        );
    }
}
