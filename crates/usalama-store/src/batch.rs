//! A batch of events flattened to rows with their content hashes, ready to write. Building
//! it is pure CPU work (flattening, JSON of the source codes, SHA-256), so an importer can
//! build the next batch on another thread while the store writes the previous one.

use crate::records::PlacedEvent;
use crate::rows::EventRow;

/// Events flattened to rows, each with its content hash, in an order that is cheap to
/// write: by event id (rows with the same id keep their order), so that the id index and
/// the event-actor keys are filled page by page rather than at random places.
#[derive(Debug, Clone, Default)]
pub struct EventBatch {
    pub(crate) rows: Vec<(EventRow, Vec<u8>)>,
}

impl EventBatch {
    /// Flattens and hashes `events`.
    pub fn new(events: &[PlacedEvent]) -> Self {
        // Ordered before flattening: a sort moves its items many times, and references
        // are 8 bytes where a row and its hash are hundreds (sorting the rows themselves
        // was 5 % of an import's reading thread, in `memmove`). Stable: the same event
        // twice in a batch is written in its original order.
        let mut order: Vec<&PlacedEvent> = events.iter().collect();
        order.sort_by_key(|p| p.event.id.as_uuid());
        let rows = order
            .into_iter()
            .map(|p| {
                let row = EventRow::from_placed(p);
                let hash = row.content_hash();
                (row, hash)
            })
            .collect();
        Self { rows }
    }

    /// Events in the batch.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the batch holds no event.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_batch_is_empty() {
        let b = EventBatch::new(&[]);
        assert!(b.is_empty());
        assert_eq!(b.len(), 0);
    }
}
