//! The full recompute of one level: events read from the store in one narrow, unordered
//! scan (`Store::scan_index_facts`), reduced to integer positions, counted into the dense
//! locality × period panel of the level (explicit zeros), the index computed for every
//! cell and both escalation detectors run on every locality's event and fatality series
//! (`usalama_analytics::recompute`). The values are those of the cached index
//! ([`App::index_table`], [`App::index_series`]) at that level; this path computes them
//! without the per-event domain values and with a timing per stage, for `usalama index
//! recompute` and the benchmark.

use crate::error::AppError;
use crate::App;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use usalama_analytics::detect::{CusumConfig, FarringtonConfig};
use usalama_analytics::period::{Granularity, Period, PeriodRange};
use usalama_analytics::recompute::{DenseFact, DenseIndex, DensePanel, Detection};
use usalama_domain::{AdminLevel, Dimension, LocalityId};

/// Facts read from the store per batch.
const FACT_BATCH: usize = 10_000;

/// What to recompute.
#[derive(Debug, Clone)]
pub struct RecomputeOptions {
    /// The administrative level.
    pub level: AdminLevel,
    /// The granularity of the periods.
    pub granularity: Granularity,
    /// The source (`None`: the one with the most countable events, as the index chooses).
    pub source: Option<String>,
    /// The CUSUM's settings.
    pub cusum: CusumConfig,
    /// Farrington's settings.
    pub farrington: FarringtonConfig,
    /// Threads running the detectors (1: the calling thread's pace, no parallelism).
    pub threads: usize,
    /// The calling thread's CPU time so far, when the caller can read it (the binary reads
    /// it from the operating system): each stage then also records its CPU time, the
    /// comparable figure on a shared machine.
    pub cpu_clock: Option<fn() -> Option<Duration>>,
}

impl RecomputeOptions {
    /// Monthly, the detectors' defaults, one thread.
    pub fn new(level: AdminLevel) -> Self {
        Self {
            level,
            granularity: Granularity::Month,
            source: None,
            cusum: CusumConfig::default(),
            farrington: FarringtonConfig::for_granularity(Granularity::Month),
            threads: 1,
            cpu_clock: None,
        }
    }
}

/// The result of [`App::recompute_index`].
#[derive(Debug)]
pub struct Recomputed {
    /// The source the panel counts; `None` when the store holds no countable event.
    pub source: Option<String>,
    /// The level.
    pub level: AdminLevel,
    /// The localities of the level, in unit order (by id, as the application's panel).
    pub localities: Vec<LocalityId>,
    /// The periods (the range of the source's events); `None` without events.
    pub range: Option<PeriodRange>,
    /// Countable events of the source read from the store.
    pub events_read: u64,
    /// Those placed in a locality of the level (counted in the panel).
    pub events_counted: u64,
    /// The dense panel.
    pub panel: Option<DensePanel>,
    /// The index of every cell.
    pub index: Option<DenseIndex>,
    /// Both detectors on both series of every locality.
    pub detection: Option<Detection>,
    /// Wall time of each stage, in order.
    pub timings: Vec<(&'static str, Duration)>,
    /// CPU time of the calling thread in each stage, when [`RecomputeOptions::cpu_clock`]
    /// is given (detector threads beyond the caller are not counted).
    pub cpu_timings: Vec<(&'static str, Duration)>,
}

/// Each stage's name, wall time and CPU time.
type Laps = Vec<(&'static str, Duration, Option<Duration>)>;

/// The wall times and the CPU times of `laps`.
fn split(laps: &Laps) -> [Vec<(&'static str, Duration)>; 2] {
    [
        laps.iter().map(|l| (l.0, l.1)).collect(),
        laps.iter().filter_map(|l| l.2.map(|c| (l.0, c))).collect(),
    ]
}

impl Recomputed {
    /// The sum of the stages' times.
    pub fn total(&self) -> Duration {
        self.timings.iter().map(|(_, d)| *d).sum()
    }
}

/// One event reduced while reading: unit position (`u32::MAX`: not placed at the level),
/// period ordinal, the store's category number, the dimension and the counts.
#[derive(Clone, Copy)]
struct Reduced {
    unit: u32,
    ordinal: i32,
    category: u16,
    dimension: u8,
    civilians: bool,
    fatalities: u32,
    displaced: u32,
}

/// The most parts the read is split into.
const MAX_READ_PARTS: usize = 8;

/// Units per block of [`PartRead::blocks`]. Counted in the order the table is read, each
/// event reads a random place of the panel's map of cells (4.8 MB at 5,000 × 240) and of
/// its rows of counts, far beyond the processor's caches: at 1,000,000 events the panel
/// took about 100 ns per event, nearly all of it waiting for those two reads. Counted a
/// block of units at a time ([`DensePanel::count_blocks`]), the block's cells stay in
/// cache: about 40 ns (BENCHMARKS.md, tenth session).
const UNITS_PER_BLOCK: u32 = 64;

/// What one part of the read reduced.
#[derive(Default)]
struct PartRead {
    /// The reduced events by block of units (`unit / UNITS_PER_BLOCK`), each in the
    /// table's order.
    blocks: Vec<Vec<Reduced>>,
    /// The part's category codes (its facts' numbers point here).
    categories: Vec<String>,
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
    /// Events whose locality is not one of the level's.
    unknown_level: u64,
    /// Facts handed over by the store.
    read: u64,
}

impl PartRead {
    /// Reduces one batch to positions.
    fn take(
        &mut self,
        batch: usalama_store::FactBatch<'_>,
        position: &HashMap<LocalityId, u32>,
        granularity: Granularity,
    ) -> Result<(), usalama_store::StoreError> {
        if self.categories.len() < batch.categories.len() {
            self.categories
                .extend_from_slice(&batch.categories[self.categories.len()..]);
        }
        for f in batch.facts {
            let d = f.occurred_end;
            self.first = Some(self.first.map_or(d, |x| x.min(d)));
            self.last = Some(self.last.map_or(d, |x| x.max(d)));
            let Some(id) = f.locality else { continue };
            let Some(&unit) = position.get(&id) else {
                self.unknown_level += 1;
                continue;
            };
            let ordinal = Period::containing(granularity, d)
                .map(|p| p.ordinal())
                .and_then(|o| i32::try_from(o).ok())
                .ok_or_else(|| usalama_store::StoreError::InvalidRecord {
                    id: id.to_string(),
                    reason: format!("events.occurred_end {d} has no {granularity}"),
                })?;
            let block = (unit / UNITS_PER_BLOCK) as usize;
            if self.blocks.len() <= block {
                self.blocks.resize_with(block + 1, Vec::new);
            }
            self.blocks[block].push(Reduced {
                unit,
                ordinal,
                category: f.category,
                dimension: dimension_number(f.dimension),
                civilians: f.civilians_targeted,
                fatalities: f.killed_best.unwrap_or(0),
                displaced: f.displaced.unwrap_or(0),
            });
        }
        Ok(())
    }
}

fn dimension_number(d: Dimension) -> u8 {
    match d {
        Dimension::Lives => 0,
        Dimension::Livelihood => 1,
        Dimension::Dignity => 2,
    }
}

impl App {
    /// Recomputes the panel, the index and both detectors for every locality of
    /// `options.level` and every period of the source's events. Anyone may call this: it
    /// is an aggregate (the CLI calls it as the operator).
    pub fn recompute_index(&self, options: &RecomputeOptions) -> Result<Recomputed, AppError> {
        let mut timings: Laps = Vec::new();
        let mut clock = Instant::now();
        let cpu_now = || options.cpu_clock.and_then(|f| f());
        let mut cpu = cpu_now();
        let mut lap = |name: &'static str, timings: &mut Laps| {
            let now = Instant::now();
            let cpu_then = cpu_now();
            let used = cpu_then.zip(cpu).map(|(b, a)| b.saturating_sub(a));
            timings.push((name, now - clock, used));
            clock = now;
            cpu = cpu_then;
        };

        // The source, chosen like the index's (most countable events, then by name).
        let source = match options.source.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => Some(s.to_string()),
            _ => {
                // Counted from the store's indexes, without reading the events.
                let mut sources = self.store.countable_events_by_source()?;
                sources.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                sources.into_iter().next().map(|(source, _)| source)
            }
        };
        lap("source", &mut timings);

        let locs = self.localities()?;
        let mut localities: Vec<LocalityId> = locs
            .all
            .iter()
            .filter(|l| l.level == options.level)
            .map(|l| l.id)
            .collect();
        localities.sort();
        let position: HashMap<LocalityId, u32> = localities
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i as u32))
            .collect();
        lap("localities", &mut timings);

        let empty = |laps: Laps| {
            let [timings, cpu_timings] = split(&laps);
            Recomputed {
                source: source.clone(),
                level: options.level,
                localities: localities.clone(),
                range: None,
                events_read: 0,
                events_counted: 0,
                panel: None,
                index: None,
                detection: None,
                timings,
                cpu_timings,
            }
        };
        let Some(s) = source.clone() else {
            return Ok(empty(timings));
        };

        // Read: one narrow scan, each fact reduced to positions; with several threads the
        // scan is read in as many parts at once (in table order, part after part).
        let granularity = options.granularity;
        let parts = options.threads.clamp(1, MAX_READ_PARTS);
        let read_part = |part: usize| -> Result<PartRead, AppError> {
            let mut out = PartRead::default();
            let sink =
                &mut |batch: usalama_store::FactBatch<'_>| out.take(batch, &position, granularity);
            out.read = if parts == 1 {
                self.store
                    .scan_index_facts(&s, options.level, FACT_BATCH, sink)?
            } else {
                self.store.scan_index_facts_part(
                    &s,
                    options.level,
                    FACT_BATCH,
                    (part, parts),
                    sink,
                )?
            };
            Ok(out)
        };
        let reads: Vec<PartRead> = if parts == 1 {
            vec![read_part(0)?]
        } else {
            std::thread::scope(|scope| {
                let others: Vec<_> = (1..parts)
                    .map(|p| {
                        let read_part = &read_part;
                        scope.spawn(move || read_part(p))
                    })
                    .collect();
                let mut all = vec![read_part(0)];
                all.extend(
                    others
                        .into_iter()
                        .map(|h| h.join().expect("a reading thread panicked")),
                );
                all.into_iter().collect::<Result<Vec<_>, _>>()
            })?
        };
        let read: u64 = reads.iter().map(|r| r.read).sum();
        let unknown_level: u64 = reads.iter().map(|r| r.unknown_level).sum();
        let first = reads.iter().filter_map(|r| r.first).min();
        let last = reads.iter().filter_map(|r| r.last).max();
        if unknown_level > 0 {
            tracing::warn!(
                events = unknown_level,
                "events placed in a locality of another level than their column's"
            );
        }
        lap("read", &mut timings);

        let (Some(first), Some(last)) = (first, last) else {
            return Ok(empty(timings));
        };
        let range = PeriodRange::covering(granularity, first, last)
            .map_err(|e| AppError::invalid("period", e.to_string()))?;
        let config = self.index_config();
        let mut panel = DensePanel::new(
            range,
            localities.len(),
            &config,
            self.taxonomy
                .categories()
                .iter()
                .map(|c| (c.dimension, c.code.clone())),
        );
        // Keys per (the part's category number, dimension), made once per part; the
        // events counted block of units by block (the parts in order within each block).
        let offset = range.first().ordinal();
        let keys: Vec<Vec<[u32; 3]>> = reads
            .iter()
            .map(|part| {
                part.categories
                    .iter()
                    .map(|code| Dimension::ALL.map(|dim| panel.key(dim, code)))
                    .collect()
            })
            .collect();
        let counted = panel.count_blocks(UNITS_PER_BLOCK as usize, |block, facts| {
            for (part, keys) in reads.iter().zip(&keys) {
                let Some(reduced) = part.blocks.get(block) else {
                    continue;
                };
                facts.extend(reduced.iter().map(|r| DenseFact {
                    unit: r.unit,
                    period: (i64::from(r.ordinal) - offset) as u32,
                    key: keys[usize::from(r.category)][usize::from(r.dimension)],
                    fatalities: r.fatalities,
                    displaced: r.displaced,
                    civilians: r.civilians,
                }));
            }
        });
        drop(reads);
        lap("panel", &mut timings);

        // An invalid configuration stops here, before the detectors' seconds of work.
        let index = DenseIndex::compute(&panel, &config)
            .map_err(|e| AppError::invalid("index config", e.to_string()))?;
        lap("index", &mut timings);
        let detection = Detection::run(&panel, options.cusum, options.farrington, options.threads)
            .map_err(|e| AppError::invalid("detector", e.to_string()))?;
        lap("detect", &mut timings);

        let [timings, cpu_timings] = split(&timings);
        Ok(Recomputed {
            source,
            level: options.level,
            localities,
            range: Some(range),
            events_read: read,
            events_counted: counted,
            panel: Some(panel),
            index: Some(index),
            detection: Some(detection),
            timings,
            cpu_timings,
        })
    }
}
