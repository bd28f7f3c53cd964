//! The outer levels of a JSON document walked from a `BufRead` a chunk at a time, each value
//! in them copied whole and handed to serde_json as a slice.
//!
//! serde_json reads a `Read` a byte at a time through its reader, much more slowly than it
//! reads memory (the first pass over a 252 MB GeoJSON file took 2.1 s that way, 1.3 s
//! this way: BENCHMARKS.md, twenty-eighth session); a file of events is too large to hold
//! whole. So
//! [`Scanner`] walks the document's object or array, and the array of features or records
//! in it, byte by byte in a tight loop that only tracks strings and brackets, and each value
//! it meets (a member, a feature) is parsed by serde_json from memory. Its syntax is
//! checked there; positions in messages are the file's.

use crate::problem::IngestError;
use serde_json::de::SliceRead;
use std::io::BufRead;

/// The room for a value's bytes kept from one value to the next at most.
const KEEP_CAPACITY: usize = 4 << 20;

/// A serde_json deserializer over one value's bytes.
pub(crate) type SliceDe<'a> = serde_json::Deserializer<SliceRead<'a>>;

/// Walks a JSON document: [`Scanner::peek`] at the next token, [`Scanner::bump`] past a
/// punctuation byte, [`Scanner::parse`] the next value.
pub(crate) struct Scanner<R> {
    input: R,
    /// Line and column (1-based, counted in bytes) of the next byte.
    pos: (usize, usize),
    /// The bytes of the value being parsed, and where it began.
    value: Vec<u8>,
    at: (usize, usize),
}

impl<R: BufRead> Scanner<R> {
    /// A scanner at the start of `input`.
    pub(crate) fn new(input: R) -> Self {
        Self {
            input,
            pos: (1, 1),
            value: Vec::new(),
            at: (1, 1),
        }
    }

    /// The next byte after white space, not consumed; `None` at the end of the input.
    pub(crate) fn peek(&mut self) -> Result<Option<u8>, IngestError> {
        loop {
            let buf = self.input.fill_buf().map_err(read_error)?;
            if buf.is_empty() {
                return Ok(None);
            }
            let blank = buf.iter().position(|&b| !is_space(b)).unwrap_or(buf.len());
            let next = buf.get(blank).copied();
            advance(&mut self.pos, &buf[..blank]);
            self.input.consume(blank);
            if next.is_some() {
                return Ok(next);
            }
        }
    }

    /// Moves past the byte [`Scanner::peek`] returned.
    pub(crate) fn bump(&mut self) {
        self.input.consume(1);
        self.pos.1 += 1;
    }

    /// A syntax error at the next byte, worded as serde_json words its own.
    pub(crate) fn syntax(&self, what: &str) -> IngestError {
        IngestError::Json(format!(
            "{what} at line {} column {}",
            self.pos.0, self.pos.1
        ))
    }

    /// After the document's value: only white space may follow.
    pub(crate) fn end(&mut self) -> Result<(), IngestError> {
        match self.peek()? {
            None => Ok(()),
            Some(_) => Err(self.syntax("trailing characters")),
        }
    }

    /// Parses the next value with `read` (white space before it skipped), its errors
    /// placed in the file.
    pub(crate) fn parse<T>(
        &mut self,
        read: impl FnOnce(&mut SliceDe<'_>) -> Result<T, serde_json::Error>,
    ) -> Result<T, IngestError> {
        self.copy_value()?;
        let mut de = serde_json::Deserializer::from_slice(&self.value);
        read(&mut de)
            .and_then(|v| de.end().map(|()| v))
            .map_err(|e| located(&e, self.at))
    }

    /// Parses the next value as a `T` ([`Scanner::parse`]).
    pub(crate) fn value<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, IngestError> {
        self.parse(|de| T::deserialize(de))
    }

    /// Copies the next value into `self.value`, noting where it began: an object or an
    /// array to its closing bracket, a string to its closing quote, anything else up to the
    /// next delimiter. Its syntax is serde_json's to check; at the end of the input the
    /// copy simply stops short.
    fn copy_value(&mut self) -> Result<(), IngestError> {
        let first = self.peek()?;
        if self.value.capacity() > KEEP_CAPACITY {
            // One large value (a country's outline) does not keep its room for the rest.
            self.value = Vec::new();
        }
        self.value.clear();
        self.at = self.pos;
        let scalar = !matches!(first, Some(b'{' | b'[' | b'"'));
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        loop {
            let buf = self.input.fill_buf().map_err(read_error)?;
            if buf.is_empty() {
                return Ok(());
            }
            let mut end = None;
            for (i, &b) in buf.iter().enumerate() {
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                } else if scalar {
                    if is_space(b) || matches!(b, b',' | b':' | b'}' | b']') {
                        end = Some(i);
                        break;
                    }
                } else {
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                end = Some(i + 1);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            let n = end.unwrap_or(buf.len());
            self.value.extend_from_slice(&buf[..n]);
            advance(&mut self.pos, &buf[..n]);
            self.input.consume(n);
            if end.is_some() {
                return Ok(());
            }
        }
    }
}

/// JSON's white space (RFC 8259 §2).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Moves a (line, column) position past `bytes`.
fn advance(pos: &mut (usize, usize), bytes: &[u8]) {
    match bytes.iter().rposition(|&b| b == b'\n') {
        Some(last) => {
            pos.0 += bytes.iter().filter(|&&b| b == b'\n').count();
            pos.1 = bytes.len() - last;
        }
        None => pos.1 += bytes.len(),
    }
}

fn read_error(e: std::io::Error) -> IngestError {
    IngestError::Read(e.to_string())
}

/// serde_json's error about a value that began at `at` in the file, as
/// [`crate::json::json_error`] words it, its position the file's.
fn located(e: &serde_json::Error, at: (usize, usize)) -> IngestError {
    if e.line() == 0 {
        return crate::json::json_error(e, None);
    }
    let line = at.0 + e.line() - 1;
    let column = if e.line() == 1 {
        (at.1 + e.column()).saturating_sub(1)
    } else {
        e.column()
    };
    crate::json::json_error(e, Some((line, column)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Each value is found whole whatever the chunks the input comes in, strings with
    /// brackets, quotes and escapes in them included, and positions count lines.
    #[test]
    fn values_are_found_whole_across_chunks() {
        let text = "{\"a\": \"x}]\\\"y\", \"b\": [1, {\"c\": null}]}\n  \n 12.5e3 ,\"s\\\\\" true";
        for chunk in [1, 2, 3, 7, 64] {
            let input = std::io::BufReader::with_capacity(chunk, text.as_bytes());
            let mut s = Scanner::new(input);
            let v: Value = s.value::<Value>().unwrap();
            assert_eq!(v["a"], "x}]\"y");
            assert_eq!(v["b"][1]["c"], Value::Null);
            let n: f64 = s.value::<f64>().unwrap();
            assert_eq!(n, 12500.0);
            assert_eq!(s.peek().unwrap(), Some(b','));
            assert_eq!(s.pos, (3, 9), "chunk {chunk}");
            s.bump();
            let t: String = s.value::<String>().unwrap();
            assert_eq!(t, "s\\");
            let b: bool = s.value::<bool>().unwrap();
            assert!(b);
            s.end().unwrap();
        }
    }

    /// A value's error names the file's line and column, not the value's own.
    #[test]
    fn errors_name_the_place_in_the_file() {
        let text = "[1,\n  {\"a\": tru}]";
        let mut s = Scanner::new(text.as_bytes());
        assert_eq!(s.peek().unwrap(), Some(b'['));
        s.bump();
        s.value::<Value>().unwrap();
        s.bump();
        let e = s.value::<Value>().unwrap_err().to_string();
        assert!(e.ends_with("at line 2 column 12"), "{e}");
        let e = Scanner::new("{\"a\":\n\"b".as_bytes())
            .value::<Value>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("EOF") && e.contains("line 2"), "{e}");
        let mut s = Scanner::new("1 2".as_bytes());
        s.value::<Value>().unwrap();
        assert_eq!(
            s.end().unwrap_err().to_string(),
            "not valid JSON: trailing characters at line 1 column 3"
        );
    }
}
