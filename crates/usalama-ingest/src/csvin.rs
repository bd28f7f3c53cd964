//! Byte-level CSV input shared by the ACLED and HXL readers (and the rejects writer): the
//! delimiter is sniffed from the first line, cells are decoded as UTF-8 or, when the file
//! is not UTF-8, as Windows-1252 (Latin-1), and records are numbered like spreadsheet rows
//! (the first record is row 1, an empty line is a row; [`RowCounter`]). Reading is lazy:
//! one record in memory at a time.

use crate::problem::{IngestError, Problem};
use crate::text;
use std::io::{BufRead, BufReader, Read};

/// A lazy reader of decoded CSV records.
pub(crate) struct CsvIn<R: Read> {
    rdr: csv::Reader<BufReader<R>>,
    rec: csv::ByteRecord,
    latin1: bool,
    rows: RowCounter,
    done: bool,
}

/// Numbers CSV records as a spreadsheet shows rows: one per record (line breaks inside a
/// quoted cell stay in its row) and one per empty line, which the CSV reader skips
/// without a record. The reader's line after a record is exact; the line it reports as
/// the record's start is where it began looking, before any empty lines, so a record's
/// first line is worked out back from its end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowCounter {
    row: usize,
    next_line: u64,
}

impl RowCounter {
    /// A counter for a reader at `line` (1-based), the rows before it numbered up to `row`.
    pub fn at(row: usize, line: u64) -> Self {
        Self {
            row,
            next_line: line,
        }
    }

    /// The row of the record just read, the reader being now at line `after`; `breaks`
    /// counts the line breaks inside its cells, asked only when the record did not take
    /// exactly one line. (A last record with no line break after it, following empty
    /// lines, is numbered one row early.)
    pub fn record(&mut self, after: u64, breaks: impl FnOnce() -> usize) -> usize {
        let empty = if after <= self.next_line + 1 {
            0
        } else {
            let first = after.saturating_sub(1 + breaks() as u64);
            first.saturating_sub(self.next_line)
        };
        self.row += 1 + usize::try_from(empty).unwrap_or(0);
        self.next_line = after;
        self.row
    }
}

/// Line breaks inside a record's cells.
pub(crate) fn breaks_in<'a>(cells: impl IntoIterator<Item = &'a [u8]>) -> usize {
    cells
        .into_iter()
        .map(|c| c.iter().filter(|&&b| b == b'\n').count())
        .sum()
}

/// What a file is when its first bytes say it is not text a CSV or JSON reader can take,
/// with what to do about it: a ZIP archive (an `.xlsx` workbook is one too), an older
/// Excel `.xls`, a compressed file (gzip, bzip2, xz, 7-Zip, RAR), text in UTF-16 (Excel's
/// "Unicode Text"), or a statistics package's data file, the forms UCDP and ACLED data
/// also circulate in (Stata `.dta`, R `.rds`/`.RData`, SPSS `.sav`, Parquet), or a PDF.
pub fn not_text(head: &[u8]) -> Option<IngestError> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    // Stata before version 13 (formats 113-115): the format, the byte order, 1, 0.
    let old_stata = matches!(head, [0x71..=0x73, 1 | 2, 1, 0, ..]);
    let what = if starts(b"PK\x03\x04") {
        "it is a ZIP archive (an .xlsx workbook is one too): unzip it and import the file \
         inside, or open the workbook and save the sheet as CSV UTF-8"
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0]) {
        "it is an Excel 97-2003 workbook (.xls): open it and save the sheet as CSV UTF-8"
    } else if starts(&[0x1F, 0x8B]) {
        "it is gzip-compressed: decompress it (gunzip) and import the result"
    } else if starts(b"BZh") {
        "it is bzip2-compressed: decompress it (bunzip2) and import the result"
    } else if starts(&[0xFD, b'7', b'z', b'X', b'Z', 0]) {
        "it is xz-compressed: decompress it (unxz) and import the result"
    } else if starts(b"7z\xBC\xAF\x27\x1C") || starts(b"Rar!\x1A\x07") {
        "it is a 7-Zip or RAR archive: extract it and import the file inside"
    } else if starts(&[0xFF, 0xFE]) || starts(&[0xFE, 0xFF]) {
        "it is UTF-16 text (Excel's \"Unicode Text\"): save it as CSV UTF-8"
    } else if starts(b"<stata_dta>") || old_stata {
        "it is a Stata dataset (.dta): export it as CSV, in Stata with `export delimited \
         using FILE.csv`, or in R with `write.csv(haven::read_dta(\"FILE.dta\"), \
         \"FILE.csv\", row.names = FALSE, fileEncoding = \"UTF-8\")`, and import FILE.csv"
    } else if starts(b"RDX2\n") || starts(b"RDX3\n") || starts(b"RDA3\n") || starts(b"X\n\0") {
        "it is an R data file (.rds or .RData): in R, `write.csv(readRDS(\"FILE.rds\"), \
         \"FILE.csv\", row.names = FALSE, fileEncoding = \"UTF-8\")` (for .RData, `load()` it \
         and write the data frame), and import FILE.csv"
    } else if starts(b"$FL2") || starts(b"$FL3") {
        "it is an SPSS data file (.sav): save it as CSV (in SPSS, File > Export > CSV Data), \
         and import the CSV"
    } else if starts(b"PAR1") {
        "it is a Parquet file: convert it to CSV, e.g. with DuckDB `COPY (SELECT * FROM \
         'FILE.parquet') TO 'FILE.csv'`, and import FILE.csv"
    } else if starts(b"%PDF") {
        "it is a PDF document: a table in a PDF must first be extracted to CSV"
    } else {
        return None;
    };
    Some(IngestError::Format(format!("not a text file: {what}")))
}

impl<R: Read> CsvIn<R> {
    /// Opens `reader`, looking at its first 64 KiB for the delimiter and the encoding
    /// (and refusing a file that is not text, [`not_text`]).
    pub fn open(reader: R) -> Result<Self, IngestError> {
        let mut buffered = BufReader::with_capacity(1 << 16, reader);
        let head = buffered
            .fill_buf()
            .map_err(|e| IngestError::Read(e.to_string()))?;
        if let Some(e) = not_text(head) {
            return Err(e);
        }
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
            rows: RowCounter::at(0, 1),
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
                    let rec = &self.rec;
                    let row = self
                        .rows
                        .record(self.rdr.position().line(), || breaks_in(rec.iter()));
                    if self.rec.iter().all(|c| c.trim_ascii().is_empty()) {
                        continue;
                    }
                    let cells = self
                        .rec
                        .iter()
                        .map(|c| text::decode(c, self.latin1).into_owned())
                        .collect();
                    return Some(Ok((row, cells)));
                }
                Ok(false) => self.done = true,
                Err(e) => {
                    let row = self.rows.record(self.rdr.position().line(), || 0);
                    self.done = true;
                    return Some(Err(Problem::new(
                        row,
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

/// Header names of a column that counts events, in files of counts per area and period
/// (ACLED's datasets on HDX since 2023: `Events`; HDX HAPI's conflict events: `events`).
const EVENT_COUNT_NAMES: &[&str] = &[
    "events",
    "event_count",
    "events_count",
    "number_of_events",
    "number of events",
];

/// What the names of a file's header row say it is, for a reader it is not meant for: the
/// file is then refused with what to do instead ([`Layout::error`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Layout {
    /// An ACLED export (it has `event_id_cnty`).
    Acled,
    /// UCDP GED (it has `id`, `type_of_violence`, `date_start` and `best`).
    Ged,
    /// Counts of events per area and period (`Events`, `events`, …: this column, as the
    /// file names it).
    Counts(String),
}

impl Layout {
    /// The layout the header cells (any case, spaces around, a byte-order mark) name, if any.
    pub fn of<S: AsRef<str>>(headers: impl IntoIterator<Item = S>) -> Option<Self> {
        let names: Vec<String> = headers
            .into_iter()
            .map(|h| h.as_ref().trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
        if lower.iter().any(|n| n == "event_id_cnty") {
            Some(Self::Acled)
        } else if crate::ucdp::is_ged_header(&lower) {
            Some(Self::Ged)
        } else {
            lower
                .iter()
                .position(|n| EVENT_COUNT_NAMES.contains(&n.as_str()))
                .map(|i| Self::Counts(names[i].clone()))
        }
    }

    /// The error for a file that lacks the `missing` columns of the reader of `own` (`None`
    /// for the HXL reader): what the file is, when its header names another layout
    /// (`found`), else the missing columns.
    pub fn missing_columns(
        found: Option<Self>,
        own: Option<Self>,
        missing: Vec<String>,
    ) -> IngestError {
        match found {
            Some(l) if Some(&l) != own.as_ref() => l.error(),
            _ => IngestError::MissingColumns(missing),
        }
    }

    /// Why the file cannot be read by the reader at hand, and what to do.
    pub fn error(&self) -> IngestError {
        match self {
            Self::Acled => IngestError::Format(
                "this is an ACLED export (it has an event_id_cnty column): import it with \
                 `usalama import acled`, which reads ACLED's columns (and skips a row of HXL \
                 hashtags) and keeps ACLED's event ids, so that the same events are never \
                 stored twice"
                    .to_string(),
            ),
            Self::Ged => IngestError::Format(
                "this is UCDP GED data (it has GED's columns id, type_of_violence, date_start \
                 and best): import it with `usalama import ucdp`"
                    .to_string(),
            ),
            Self::Counts(column) => counts_not_events(column),
        }
    }
}

/// The error for a file that holds counts of events per area and period (one row per area
/// and month, `column` being the number of events) instead of one row per event, with what
/// to import instead.
pub(crate) fn counts_not_events(column: &str) -> IngestError {
    IngestError::Format(format!(
        "this file holds counts of events per area and month (its column '{column}' is a \
         number of events), not one row per event, and Usalama imports events one per row. \
         Import the event-level data the counts were made from instead: for ACLED, its event \
         export from acleddata.com (one row per event, with event_id_cnty and event_date), \
         with `usalama import acled`"
    ))
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
        let bytes = b"a;b\n;\nPanam\xe1;2\n\r\n\n\"two\nlines\";3\n\nx;4\n\"open\n";
        let mut r = CsvIn::open(&bytes[..]).unwrap();
        assert!(r.latin1);
        let (row, cells) = r.next_record().unwrap().unwrap();
        assert_eq!((row, cells), (1, vec!["a".to_string(), "b".to_string()]));
        let (row, cells) = r.next_record().unwrap().unwrap();
        assert_eq!((row, cells[0].as_str()), (3, "Panamá"));
        // Empty lines are rows, as a spreadsheet shows them; a quoted line break is not.
        let (row, cells) = r.next_record().unwrap().unwrap();
        assert_eq!((row, cells[0].as_str()), (6, "two\nlines"));
        let (row, cells) = r.next_record().unwrap().unwrap();
        assert_eq!((row, cells[0].as_str()), (8, "x"));
        let mut rest = Vec::new();
        while let Some(x) = r.next_record() {
            rest.push(x);
        }
        assert!(rest.len() <= 1);
    }

    #[test]
    fn files_that_are_not_text_are_named() {
        for (head, says) in [
            (&b"PK\x03\x04\x14\x00"[..], "ZIP archive"),
            (&[0xD0, 0xCF, 0x11, 0xE0, 0xA1][..], ".xls"),
            (&[0x1F, 0x8B, 0x08][..], "gzip"),
            (&[0xFF, 0xFE, b'i', 0][..], "UTF-16"),
            (&b"BZh91AY&SY"[..], "bzip2"),
            (&[0xFD, b'7', b'z', b'X', b'Z', 0, 0][..], "xz"),
            (&b"7z\xBC\xAF\x27\x1C\x00\x04"[..], "7-Zip"),
            (&b"<stata_dta><header><release>118</release>"[..], "Stata"),
            (&[0x72, 0x02, 0x01, 0x00, 0x05, 0x00][..], "Stata"),
            (&b"RDX3\nX\n\x00\x00"[..], "R data"),
            (&b"X\n\x00\x00\x00\x03\x00\x04"[..], "R data"),
            (&b"$FL2@(#) IBM SPSS"[..], "SPSS"),
            (&b"PAR1\x15\x04"[..], "Parquet"),
            (&b"%PDF-1.7\n"[..], "PDF"),
        ] {
            let e = CsvIn::open(head).err().expect("refused").to_string();
            assert!(e.contains(says), "{e}");
        }
        assert!(not_text(b"\xef\xbb\xbfid,date\n").is_none());
        // Text that merely starts like one of them is not refused.
        for text in [&b"X,Y\n1,2\n"[..], b"r,x\n", b"BZ,code\n"] {
            assert!(not_text(text).is_none());
        }
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
