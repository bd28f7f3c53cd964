//! JSON files of events read without holding them whole: the readers make two passes over
//! a [`JsonSource`] (a skim for the columns and date orders, then the rows), and hand the
//! rows over as [`JsonRows`], mapped on a thread of their own while the import stores
//! them, 64 at a time.

use crate::problem::{IngestError, Problem};
use crate::ImportRow;
use std::cell::Cell;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A JSON document the readers can read more than once: a file, opened again for each
/// pass, or text already in memory.
#[derive(Clone, Debug)]
pub enum JsonSource {
    /// A file on disk.
    File(PathBuf),
    /// Text in memory (an upload, a test).
    Text(Arc<str>),
}

impl JsonSource {
    /// A new reading of the document from its start.
    pub(crate) fn open(&self) -> Result<Box<dyn BufRead + Send>, IngestError> {
        Ok(match self {
            Self::File(path) => Box::new(BufReader::with_capacity(
                1 << 16,
                std::fs::File::open(path).map_err(|e| {
                    IngestError::Read(format!("cannot open {}: {e}", path.display()))
                })?,
            )),
            Self::Text(text) => Box::new(Cursor::new(Shared(text.clone()))),
        })
    }
}

/// Text in memory as bytes, shared with the source it was opened from.
struct Shared(Arc<str>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl From<&str> for JsonSource {
    fn from(text: &str) -> Self {
        Self::Text(text.into())
    }
}

impl From<String> for JsonSource {
    fn from(text: String) -> Self {
        Self::Text(text.into())
    }
}

/// How many mapped rows go over to the import together: one wake-up of the import per
/// row cost more than the mapping of a small record.
const BATCH: usize = 64;

/// How many batches wait between the reading thread and the import at most.
const IN_FLIGHT: usize = 16;

/// A batch of mapped rows.
type Batch = Vec<Result<ImportRow, Problem>>;

/// The rows of a JSON file in the file's order, mapped by a thread of their own as the file
/// is read (its second pass), at most about 1,100 records ahead of the caller (16 batches
/// of 64 waiting, one being filled): memory stays bounded whatever the file's size. A
/// failure to read the file again (it changed or went away since the first pass) ends the
/// rows with a problem saying so; a panic of the thread is raised again in the caller.
pub struct JsonRows {
    rx: Receiver<Batch>,
    /// The batch being handed out, in reverse.
    batch: Batch,
    thread: Option<JoinHandle<()>>,
}

impl JsonRows {
    /// No rows (a file without records), and no thread.
    pub(crate) fn empty() -> Self {
        let (_, rx) = sync_channel(0);
        Self {
            rx,
            batch: Vec::new(),
            thread: None,
        }
    }

    /// Runs `read` on a new thread; it hands each row to the [`Handover`] it is given
    /// and returns `Err((row, reason))` when the file cannot be read to its end.
    fn spawn(
        read: impl FnOnce(&mut Handover) -> Result<(), (usize, String)> + Send + 'static,
    ) -> Self {
        let (tx, rx) = sync_channel(IN_FLIGHT);
        let thread = std::thread::Builder::new()
            .name("json-rows".into())
            .spawn(move || {
                let mut out = Handover {
                    tx,
                    batch: Vec::with_capacity(BATCH),
                };
                if let Err((row, reason)) = read(&mut out) {
                    let _ = out.send(Err(Problem::new(row, "file", reason)));
                }
                let _ = out.flush();
            })
            .expect("a thread for the JSON rows");
        Self {
            rx,
            batch: Vec::new(),
            thread: Some(thread),
        }
    }

    /// Opens `source` again and reads its items (`list` as in [`crate::json::each_record`]);
    /// they become rows through `map` (with their number: item `n` is row `n + 1`), on
    /// the thread of [`JsonRows::spawn`]. An item that is not a record is a problem on
    /// `field`. A source that cannot be opened again is an error here.
    pub(crate) fn mapped(
        source: &JsonSource,
        list: Option<&'static str>,
        field: &'static str,
        map: impl FnMut(crate::json::RawFeature, usize) -> Result<ImportRow, Problem> + Send + 'static,
    ) -> Result<Self, IngestError> {
        Ok(Self::read(source.open()?, list, field, map))
    }

    /// [`JsonRows::mapped`] from a reader already opened. Once the import stops taking
    /// rows (it failed), the reading ends too: the rest of the file is neither mapped
    /// nor parsed.
    fn read(
        input: impl BufRead + Send + 'static,
        list: Option<&'static str>,
        field: &'static str,
        mut map: impl FnMut(crate::json::RawFeature, usize) -> Result<ImportRow, Problem>
            + Send
            + 'static,
    ) -> Self {
        Self::spawn(move |tx| {
            let stopped = Rc::new(Cell::new(false));
            let input = UntilStopped {
                inner: input,
                stopped: stopped.clone(),
            };
            let mut row = 0;
            let read = crate::json::each_record(input, list, &mut |item| {
                row += 1;
                if stopped.get() {
                    return;
                }
                let mapped = item
                    .map_err(|reason| Problem::new(row, field, reason))
                    .and_then(|f| map(f, row));
                stopped.set(tx.send(mapped).is_err());
            });
            if stopped.get() {
                // Cut short on purpose: nobody is left to tell.
                return Ok(());
            }
            read.map(|_| ()).map_err(|e| {
                (
                    row + 1,
                    format!("the file could not be read again to its end: {e}"),
                )
            })
        })
    }
}

/// A reader that reaches its end as soon as `stopped` is set.
struct UntilStopped<R> {
    inner: R,
    stopped: Rc<Cell<bool>>,
}

impl<R: Read> Read for UntilStopped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.stopped.get() {
            return Ok(0);
        }
        self.inner.read(buf)
    }
}

impl<R: BufRead> BufRead for UntilStopped<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.stopped.get() {
            return Ok(&[]);
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
    }
}

/// The reading thread's end of the rows: they go over a batch at a time.
struct Handover {
    tx: SyncSender<Batch>,
    batch: Batch,
}

impl Handover {
    /// Adds a row to the batch, sending it once full; `Err` once the import stopped
    /// taking rows.
    fn send(&mut self, row: Result<ImportRow, Problem>) -> Result<(), ()> {
        self.batch.push(row);
        if self.batch.len() < BATCH {
            return Ok(());
        }
        self.flush()
    }

    /// Sends the rows batched so far.
    fn flush(&mut self) -> Result<(), ()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let mut batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        batch.reverse();
        self.tx.send(batch).map_err(|_| ())
    }
}

impl Iterator for JsonRows {
    type Item = Result<ImportRow, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(row) = self.batch.pop() {
            return Some(row);
        }
        if let Ok(batch) = self.rx.recv() {
            self.batch = batch;
            return self.batch.pop();
        }
        if let Some(Err(panic)) = self.thread.take().map(JoinHandle::join) {
            std::panic::resume_unwind(panic);
        }
        None
    }
}

impl std::fmt::Debug for JsonRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsonRows")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy_file::{parse_taxonomy, DEFAULT_TAXONOMY};
    use chrono::DateTime;

    const DOC: &str = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","geometry":null,"properties":{"id":"a","category":"armed_violence","date":"2021-01-01"}},
      {"type":"Feature","geometry":null,"properties":{"id":"b","category":"armed_violence","date":"2021-01-02"}}
    ]}"#;

    fn read(source: JsonSource) -> Result<crate::Rows<JsonRows>, IngestError> {
        let taxonomy = parse_taxonomy(DEFAULT_TAXONOMY).unwrap();
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        crate::read_events_geojson(source, &taxonomy, "geojson", crate::ReadOptions::at(now))
    }

    #[test]
    fn a_file_is_read_again_for_its_rows() {
        let path = std::env::temp_dir().join(format!("usalama-json-{}.json", std::process::id()));
        std::fs::write(&path, DOC).unwrap();
        let rows: Vec<_> = read(JsonSource::File(path.clone())).unwrap().collect();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(Result::is_ok));
        // Missing: a whole-file error naming it.
        std::fs::remove_file(&path).unwrap();
        let e = read(JsonSource::File(path)).unwrap_err();
        assert!(
            matches!(&e, IngestError::Read(m) if m.contains("cannot open")),
            "{e}"
        );
    }

    #[test]
    fn rows_stop_being_mapped_when_nobody_takes_them() {
        let mut rows = read(DOC.into()).unwrap();
        assert!(rows.next().unwrap().is_ok());
        drop(rows);
    }

    /// Counts the bytes read from the text it wraps.
    struct Counted(Cursor<Vec<u8>>, Arc<std::sync::atomic::AtomicUsize>);

    impl Read for Counted {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            Ok(n)
        }
    }

    #[test]
    fn the_file_is_not_read_on_once_the_import_stops_taking_rows() {
        let item = r#"{"type":"Feature","geometry":null,"properties":{"id":"x"}}"#;
        let doc = format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            vec![item; 20_000].join(",")
        );
        let read = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let input = BufReader::new(Counted(Cursor::new(doc.clone().into_bytes()), read.clone()));
        let rows = JsonRows::read(input, None, "feature", |_, row| {
            Err(Problem::new(row, "id", "not mapped in this test"))
        });
        let JsonRows { rx, thread, .. } = rows;
        assert!(rx.recv().unwrap().iter().all(Result::is_err));
        drop(rx);
        thread.unwrap().join().unwrap();
        let read = read.load(std::sync::atomic::Ordering::Relaxed);
        // About the rows in flight (about 1,100 of 20,000) and one buffer, not the whole
        // file.
        assert!(read < doc.len() / 4, "{read} of {} bytes read", doc.len());
    }
}
