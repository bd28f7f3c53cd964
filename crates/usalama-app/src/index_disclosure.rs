//! What callers who may not read event records (anonymous visitors, reporters) see of the
//! human-security index. An index value is a function of its locality's counts with a
//! public transform and scale, so a value can reveal a small count as surely as the count
//! itself. For those callers a value, its dimension scores and its explanation are
//! withheld when, in its locality and period:
//!
//! 1. the number of events is `0 < n < k` (`k_sensitive` when an event of a sensitive
//!    category is among them), or a count input of the index (events or fatalities of a
//!    dimension or category, civilian events, displaced) is `0 < x < k`;
//! 2. the locality is at the public level or the country and the period a month, and the
//!    protected public figures ([`crate::PublicFigures`]) withhold that area's (or the
//!    country's total or a dimension's) count of the month — so the index withholds
//!    exactly the complements the public tables withhold, and no published index total
//!    lets a withheld count be worked out by subtraction;
//! 3. the locality is finer than the public level, or the period is not a month: public
//!    figures are counted by month at the public level only, and a week, quarter or
//!    smaller area could be differenced against them;
//! 4. it is the complement of a single withheld area: when exactly one area of the public
//!    level is withheld in a month by the rules above, the area with the smallest non-zero
//!    count of events is withheld too, so that the country's breakdown by dimension minus
//!    the published areas' gives only the sum of two areas (when no other area has an
//!    event, the public tables' complement is the count of events placed in no area).

use crate::auth::Principal;
use crate::error::AppError;
use crate::index::Computed;
use crate::{App, PublicFigures};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use usalama_analytics::panel::{Measure, Scope, Unit};
use usalama_analytics::period::{Granularity, Period};
use usalama_domain::{AdminLevel, LocalityId};

/// Whether `who` sees every index value (readers of event records do).
pub(crate) fn sees_all(who: &Principal) -> bool {
    who.role().is_some_and(|r| r.can_read_events())
}

/// Decides which index cells a public caller may see, for one computed index.
pub(crate) struct IndexMask<'a> {
    app: &'a App,
    computed: &'a Computed,
    figures: Option<Arc<PublicFigures>>,
    area_of: HashMap<LocalityId, usize>,
    /// Rule 4's complement by month (`None`: no complement needed).
    complements: RefCell<HashMap<Period, Option<LocalityId>>>,
}

impl App {
    /// The mask of `computed` for public callers.
    pub(crate) fn index_mask<'a>(
        &'a self,
        computed: &'a Computed,
    ) -> Result<IndexMask<'a>, AppError> {
        let figures = match &computed.source {
            Some(s) => Some(self.public_figures(Some(s))?),
            None => None,
        };
        let area_of = figures
            .as_ref()
            .map(|f| {
                f.areas
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (a.locality.id, i))
                    .collect()
            })
            .unwrap_or_default();
        Ok(IndexMask {
            app: self,
            computed,
            figures,
            area_of,
            complements: RefCell::new(HashMap::new()),
        })
    }
}

impl IndexMask<'_> {
    /// Whether the index of locality `id` (at `level`) in `period` is withheld from public
    /// callers (see the module's rules).
    pub(crate) fn withheld(&self, id: LocalityId, level: AdminLevel, period: Period) -> bool {
        if self.primary(id, level, period) {
            return true;
        }
        let public_level = self.app.privacy().level;
        if level != public_level || period.granularity() != Granularity::Month {
            return false;
        }
        let known = self.complements.borrow().get(&period).copied();
        let complement = match known {
            Some(c) => c,
            None => {
                let c = self.complement(public_level, period);
                self.complements.borrow_mut().insert(period, c);
                c
            }
        };
        complement == Some(id)
    }

    /// Rule 4: the area to withhold beside a single withheld area of `period`.
    fn complement(&self, public_level: AdminLevel, period: Period) -> Option<LocalityId> {
        let (Some(f), Some(panel)) = (&self.figures, &self.computed.panel) else {
            return None;
        };
        let t = panel.range().index_of(period)?;
        let mut withheld = 0;
        let mut cheapest: Option<(u64, &str, LocalityId)> = None;
        for a in &f.areas {
            let id = a.locality.id;
            if self.primary(id, public_level, period) {
                withheld += 1;
                continue;
            }
            let n = panel
                .unit_index(&Unit::Locality(id))
                .map_or(0, |u| panel.events(u, t, None));
            let key = (n, a.locality.code.as_str(), id);
            if n > 0 && cheapest.is_none_or(|c| (key.0, key.1) < (c.0, c.1)) {
                cheapest = Some(key);
            }
        }
        if withheld == 1 {
            cheapest.map(|c| c.2)
        } else {
            None
        }
    }

    /// Rules 1 to 3.
    fn primary(&self, id: LocalityId, level: AdminLevel, period: Period) -> bool {
        let privacy = self.app.privacy();
        let (Some(panel), Some(index)) = (&self.computed.panel, &self.computed.index) else {
            return false;
        };
        let unit = Unit::Locality(id);
        let (Some(u), Some(t)) = (panel.unit_index(&unit), panel.range().index_of(period)) else {
            return false;
        };
        // Rule 3: only months, at the public level or coarser.
        if period.granularity() != Granularity::Month || level > privacy.level {
            return true;
        }
        // Rule 1: small counts.
        let sensitive_cat = |code: &str| {
            self.app
                .taxonomy
                .category(code)
                .is_some_and(|c| c.sensitive)
        };
        let any_sensitive = panel
            .categories()
            .iter()
            .enumerate()
            .any(|(c, col)| panel.category_events(u, t, c) > 0 && sensitive_cat(&col.code));
        let k_cell = if any_sensitive {
            privacy.k_sensitive
        } else {
            privacy.k
        };
        let n = panel.events(u, t, None);
        if n > 0 && n < k_cell {
            return true;
        }
        if let Ok(x) = index.explain(panel, &unit, period) {
            let small = x.inputs.iter().any(|i| {
                let k = match &i.measure {
                    Measure::Events(Scope::Category(c))
                    | Measure::Fatalities(Scope::Category(c))
                        if sensitive_cat(c) =>
                    {
                        privacy.k_sensitive
                    }
                    _ => privacy.k,
                };
                i.measure.is_count() && i.raw.is_some_and(|r| r > 0.0 && r < k as f64)
            });
            if small {
                return true;
            }
        }
        // Rule 2: the public tables' complements.
        let Some(f) = &self.figures else {
            return false;
        };
        let Some(m) = f.month_index(period) else {
            // A month with no event of the source: nothing to reveal.
            return n > 0;
        };
        let month = &f.cube.months[m];
        if level == AdminLevel::Adm0 {
            return month.total.withheld() || month.by_dimension.iter().any(|d| d.withheld());
        }
        if level == privacy.level {
            return match self.area_of.get(&id) {
                Some(&a) => month.by_area[a].withheld(),
                None => n > 0,
            };
        }
        // Between the country and the public level (ADM1 when the public level is finer):
        // not a cell of the public tables; its total is a sum of published or withheld
        // areas, so publish it only when every area below it is published.
        let locs = match self.app.localities() {
            Ok(l) => l,
            Err(_) => return true,
        };
        f.areas.iter().enumerate().any(|(a, area)| {
            let mut p = area.locality.parent;
            while let Some(pid) = p {
                if pid == id {
                    return month.by_area[a].withheld();
                }
                p = locs.summary(pid).and_then(|s| s.parent);
            }
            false
        })
    }
}
