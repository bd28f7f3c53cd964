//! Byte-level CSV input shared by the ACLED and HXL readers (and the rejects writer): the
//! delimiter is sniffed from the first line, cells are decoded as UTF-8 or, when the file
//! is not UTF-8, as Windows-1252 (Latin-1), and records are numbered like spreadsheet rows
//! (the first record is row 1). Reading is lazy: one record in memory at a time.

use crate::problem::{IngestError, Problem};
use crate::text;
use std::io::{BufRead, BufReader, Read};

/// A lazy reader of decoded CSV records.
pub(crate) struct CsvIn<R: Read> {
    rdr: csv::Reader<BufReader<R>>,
    rec: csv::ByteRecord,
    latin1: bool,
    row: usize,
    done: bool,
}

impl<R: Read> CsvIn<R> {
    /// Opens `reader`, looking at its first 64 KiB for the delimiter and the encoding.
    pub fn open(reader: R) -> Result<Self, IngestError> {
        let mut buffered = BufReader::with_capacity(1 << 16, reader);
        let head = buffered
            .fill_buf()
            .map_err(|e| IngestError::Read(e.to_string()))?;
        let delimiter = crate::ucdp::sniff_delimiter(head);
        let latin1 = text::looks_latin1(head);
        let rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(buffered);
        Ok(Self {
            rdr,
            rec: csv::ByteRecord::new(),
            latin1,
            row: 0,
            done: false,
        })
    }

    /// The next record with its row number, skipping records whose cells are all blank.
    /// A read failure (IO, or a quote that never closes) ends the file with a problem on
    /// the row where reading stopped.
    pub fn next_record(&mut self) -> Option<Result<(usize, Vec<String>), Problem>> {
        while !self.done {
            match self.rdr.read_byte_record(&mut self.rec) {
                Ok(true) => {
                    self.row += 1;
                    if self.rec.iter().all(|c| c.trim_ascii().is_empty()) {
                        continue;
                    }
                    let cells = self
                        .rec
                        .iter()
                        .map(|c| text::decode(c, self.latin1).into_owned())
                        .collect();
                    return Some(Ok((self.row, cells)));
                }
                Ok(false) => self.done = true,
                Err(e) => {
                    self.row += 1;
                    self.done = true;
                    return Some(Err(Problem::new(
                        self.row,
                        "file",
                        format!("reading stopped here: {e}"),
                    )));
                }
            }
        }
        None
    }
}

/// Finds the header row's columns: for each alias list, the first header cell (trimmed,
/// lower-cased) equal to one of the aliases.
pub(crate) fn index_columns<const N: usize>(
    headers: &[String],
    aliases: impl Fn(usize) -> &'static [&'static str],
) -> [Option<usize>; N] {
    let lower: Vec<String> = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_lowercase())
        .collect();
    std::array::from_fn(|i| {
        let names = aliases(i);
        lower.iter().position(|h| names.contains(&h.as_str()))
    })
}

/// One row's cells by column: trimmed, `None` when the column is absent or the cell blank.
pub(crate) fn cells<'a, const N: usize>(
    rec: &'a [String],
    idx: &[Option<usize>; N],
) -> [Option<&'a str>; N] {
    std::array::from_fn(|i| {
        idx[i]
            .and_then(|j| rec.get(j))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_rows_skips_blank_ones_and_decodes_latin1() {
        let bytes = b"a;b\n;\nPanam\xe1;2\n\"open\n";
        let mut r = CsvIn::open(&bytes[..]).unwrap();
        assert!(r.latin1);
        let (row, cells) = r.next_record().unwrap().unwrap();
        assert_eq!((row, cells), (1, vec!["a".to_string(), "b".to_string()]));
        let (row, cells) = r.next_record().unwrap().unwrap();
        assert_eq!((row, cells[0].as_str()), (3, "Panamá"));
        let mut rest = Vec::new();
        while let Some(x) = r.next_record() {
            rest.push(x);
        }
        assert!(rest.len() <= 1);
    }

    #[test]
    fn indexes_columns_ignoring_case() {
        let h = vec!["EVENT_ID_CNTY".to_string(), " Notes ".to_string()];
        let idx: [Option<usize>; 2] =
            index_columns(&h, |i| [&["notes"][..], &["event_id_cnty"][..]][i]);
        assert_eq!(idx, [Some(1), Some(0)]);
        let rec = vec!["X1".to_string(), "  ".to_string()];
        assert_eq!(cells(&rec, &idx), [None, Some("X1")]);
    }
}
