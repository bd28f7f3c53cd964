//! What the event readers are told ([`ReadOptions`]) and what they hand to the import
//! use-case: each event with the row it came from and the administrative codes and names its
//! source gives, so that an event without coordinates can still be placed (by P-code, else
//! by name).

use chrono::{DateTime, Utc};

use crate::problem::IngestError;
use crate::text::{DateOrder, OrderVotes};
use crate::ucdp::ImportedEvent;

/// How an event reader reads a file: the time its dates are checked against (a date after
/// it is in the future) and, when the person importing tells it, the order of day and month
/// of its all-numeric dates (`05/01/2023`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Now, for the file's dates.
    pub now: DateTime<Utc>,
    /// The order of day and month of every all-numeric date of the file; `None` finds it
    /// for each date column from its dates (a date such as `14/05/2023` can only be day
    /// first), and reads a column no date decides day first, with a note.
    pub date_order: Option<DateOrder>,
}

impl ReadOptions {
    /// Reading at `now`, the order of day and month found from the dates.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            now,
            date_order: None,
        }
    }

    /// The same, with every all-numeric date read in `order`.
    pub fn date_order(self, order: Option<DateOrder>) -> Self {
        Self {
            date_order: order,
            ..self
        }
    }

    /// Whether a reader reads a file's dates for their order: not when the order is told.
    pub(crate) fn votes_on_dates(&self) -> bool {
        self.date_order.is_none()
    }

    /// The votes of a file's date columns for the order of their dates, as `count` counts
    /// them; none when the order is told ([`ReadOptions::votes_on_dates`]), so the dates are
    /// not read for it (and a CSV reader's look-ahead does not read on for an undecided
    /// column).
    pub(crate) fn date_votes<const K: usize>(
        &self,
        count: impl FnOnce() -> Result<[OrderVotes; K], IngestError>,
    ) -> Result<[OrderVotes; K], IngestError> {
        if self.votes_on_dates() {
            count()
        } else {
            Ok([OrderVotes::default(); K])
        }
    }
}

/// The administrative codes and names a row gives, trimmed, `None` when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaceHints {
    /// First-level P-code (`#adm1+code`, `adm1_code`).
    pub adm1_code: Option<String>,
    /// First-level name.
    pub adm1_name: Option<String>,
    /// Second-level P-code.
    pub adm2_code: Option<String>,
    /// Second-level name.
    pub adm2_name: Option<String>,
    /// Third-level P-code.
    pub adm3_code: Option<String>,
    /// Third-level name.
    pub adm3_name: Option<String>,
    /// A place name (village, town), matched against third-level names last.
    pub place_name: Option<String>,
    /// The country the row names (its name or code), not used to place the event: it
    /// tells a point of another country from one whose latitude and longitude were
    /// swapped.
    pub country: Option<String>,
}

impl PlaceHints {
    /// Whether no code or name to place the event by is given (the country aside).
    pub fn is_empty(&self) -> bool {
        Self {
            country: None,
            ..self.clone()
        } == Self::default()
    }
}

/// One imported event with its 1-based row (feature) number and its place hints.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// Row as in a spreadsheet (CSV), or feature index + 1 (GeoJSON).
    pub row: usize,
    /// The event and its actors.
    pub event: ImportedEvent,
    /// Codes and names for placement without coordinates.
    pub place: PlaceHints,
}

/// The rows a reader hands over, with what it noticed about the file as a whole, for the
/// person importing it ([`Rows::notes`]).
#[derive(Debug)]
pub struct Rows<I> {
    rows: I,
    notes: Vec<String>,
}

impl<I> Rows<I> {
    /// `rows`, with `notes`.
    pub(crate) fn new(rows: I, notes: Vec<String>) -> Self {
        Self { rows, notes }
    }

    /// What the reader noticed about the file as a whole (the order of day and month it
    /// assumed for dates that could be read either way).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}

impl<I: Iterator> Iterator for Rows<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        self.rows.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.rows.size_hint()
    }
}
