//! Verification use-cases: the analysts' queue, decisions with grading, duplicate
//! candidates, merges and un-merges, and a record's history.
//!
//! Only analysts and administrators may see the queue and the candidates, or change a
//! record; anyone who may read events may read a record's history. Every change names the
//! version of the record the analyst saw: if the record changed since (another decision, a
//! merge, a re-import), nothing is written and the caller gets [`AppError::Conflict`].

use crate::auth::Principal;
use crate::error::AppError;
use crate::queries::EventView;
use crate::App;
use chrono::Duration;
use usalama_domain::verification::{check_merge, clean_reason, resolve_root};
use usalama_domain::{
    Decision, DuplicateMatch, DuplicateRules, EventId, MergeRefusal, Severity, VerificationStatus,
};
use usalama_store::{
    ChangeNote, DecisionWrite, DuplicatePoolQuery, EventQuery, HistoryEntry, HistoryKind,
    MergeWrite, Page, PageRequest, QueueQuery, StoreError, UnmergeWrite, VersionedEvent,
    Visibility, WriteOutcome,
};

/// Most events the store hands over for duplicate comparison.
const POOL_LIMIT: u32 = 2_000;
/// Most merged duplicates listed for one record.
const MERGED_LIMIT: u32 = 1_000;

/// An event with its names and its version (the value `If-Match` compares).
#[derive(Debug, Clone, PartialEq)]
pub struct VersionedView {
    /// The event, with names of places and actors.
    pub view: EventView,
    /// Its version.
    pub version: i64,
}

/// One report in the verification queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueItem {
    /// The report and its version.
    pub item: VersionedView,
    /// Why it sits where it does in the queue.
    pub severity: Severity,
    /// How many records may be the same incident (see [`App::duplicates`]).
    pub possible_duplicates: usize,
}

/// A possible duplicate of a record, with why it was proposed.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateCandidate {
    /// The other record and its version.
    pub item: VersionedView,
    /// Distance, days apart, text similarity and score.
    pub matched: DuplicateMatch,
}

/// A record's place among duplicates: what it duplicates or what duplicates it, and what
/// else may be the same incident.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicates {
    /// The record and its version.
    pub event: VersionedView,
    /// The root it duplicates, when it is a duplicate.
    pub duplicate_of: Option<EventId>,
    /// The records merged into it, when it is a root.
    pub merged: Vec<EventView>,
    /// Possible duplicates, best first (none for a record that is itself a duplicate).
    pub candidates: Vec<DuplicateCandidate>,
    /// The rules the candidates were found with.
    pub rules: DuplicateRules,
}

fn version_conflict(what: &str, current: i64) -> AppError {
    AppError::Conflict {
        code: "version_conflict",
        message: format!(
            "{what} changed since it was loaded (it is now at version {current}); load it again and retry"
        ),
    }
}

fn domain(e: usalama_domain::DomainError) -> AppError {
    AppError::invalid(e.field, e.reason)
}

impl App {
    /// The rules duplicate candidates are proposed with.
    pub fn duplicate_rules(&self) -> &DuplicateRules {
        &self.duplicate_rules
    }

    /// Uses other duplicate rules (checked) instead of the defaults.
    pub fn with_duplicate_rules(mut self, rules: DuplicateRules) -> Result<Self, AppError> {
        rules.validate().map_err(domain)?;
        self.duplicate_rules = rules;
        Ok(self)
    }

    /// Whether `who` may verify, grade and merge records.
    pub fn can_verify(who: &Principal) -> bool {
        who.role().is_some_and(|r| r.can_verify())
    }

    /// Requires an analyst or an administrator.
    pub(crate) fn require_verifier(&self, who: &Principal) -> Result<(), AppError> {
        self.require(who, usalama_domain::Permission::VerifyEvents)
    }

    fn versioned_view(&self, v: VersionedEvent) -> Result<VersionedView, AppError> {
        let locs = self.localities()?;
        Ok(VersionedView {
            view: self.view(v.stored.event, &locs)?,
            version: v.version,
        })
    }

    /// The event with its version, if `who` may see it (else `NotFound`).
    fn load_versioned(&self, who: &Principal, id: EventId) -> Result<VersionedEvent, AppError> {
        let v = self
            .store
            .get_event_versioned(id)?
            .ok_or(AppError::NotFound("event"))?;
        self.require_visible(who, &v.stored.event)?;
        Ok(v)
    }

    fn note(&self, who: &Principal, reason: Option<String>) -> ChangeNote {
        ChangeNote {
            by: who.name().unwrap_or_else(|| "unknown".into()),
            at: self.now(),
            reason,
        }
    }

    /// Turns the store's answer to a write into the record as it now is.
    fn written(&self, id: EventId, outcome: WriteOutcome) -> Result<VersionedView, AppError> {
        match outcome {
            WriteOutcome::Written { .. } => self.versioned_view(
                self.store
                    .get_event_versioned(id)?
                    .ok_or(AppError::NotFound("event"))?,
            ),
            WriteOutcome::Stale { event, current } if event == id => {
                Err(version_conflict("the event", current))
            }
            WriteOutcome::Stale { current, .. } => {
                Err(version_conflict("the target event", current))
            }
            WriteOutcome::Missing(_) => Err(AppError::NotFound("event")),
        }
    }

    /// A page of the verification queue: unverified reports, most severe first (see
    /// [`Severity`]) and newest first within equal severity.
    pub fn verification_queue(
        &self,
        who: &Principal,
        q: &QueueQuery,
    ) -> Result<Page<QueueItem>, AppError> {
        self.require_verifier(who)?;
        let vis = self.visibility(who)?;
        let page = self.store.verification_queue(&QueueQuery {
            visibility: vis.clone(),
            ..q.clone()
        })?;
        let items = page
            .items
            .into_iter()
            .map(|v| {
                let severity = Severity::of(&v.stored.event);
                let possible_duplicates = self.candidates_of(&vis, &v.stored.event)?.len();
                Ok(QueueItem {
                    item: self.versioned_view(v)?,
                    severity,
                    possible_duplicates,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok(Page {
            items,
            total: page.total,
            next_cursor: page.next_cursor,
        })
    }

    /// One event with its version, for anyone who may read events.
    pub fn get_event_versioned(
        &self,
        who: &Principal,
        id: EventId,
    ) -> Result<VersionedView, AppError> {
        self.require_reader(who)?;
        self.versioned_view(self.load_versioned(who, id)?)
    }

    /// Records a decision on a record the analyst saw at `expected_version`: the status,
    /// the grading and the reason, with its history entry, in one write.
    pub fn decide(
        &self,
        who: &Principal,
        id: EventId,
        decision: &Decision,
        expected_version: i64,
    ) -> Result<VersionedView, AppError> {
        self.require_verifier(who)?;
        let current = self.load_versioned(who, id)?;
        if current.version != expected_version {
            return Err(version_conflict("the event", current.version));
        }
        decision
            .check_allowed(&current.stored.event.status)
            .map_err(|e| AppError::Conflict {
                code: "duplicate_record",
                message: e.reason,
            })?;
        let outcome = self.store.record_decision(&DecisionWrite {
            event: id,
            expected_version,
            status: decision.status().status(),
            reliability: decision.reliability(),
            credibility: decision.credibility(),
            note: self.note(who, decision.reason().map(str::to_string)),
        })?;
        self.cache.events_changed();
        if matches!(outcome, WriteOutcome::Written { .. }) {
            self.alerts_events_written(&[id]);
        }
        self.written(id, outcome)
    }

    /// The record's duplicates: the root it duplicates or the records merged into it, and
    /// candidates proposed by the duplicate rules, best first.
    pub fn duplicates(&self, who: &Principal, id: EventId) -> Result<Duplicates, AppError> {
        self.require_verifier(who)?;
        let current = self.load_versioned(who, id)?;
        let event = current.stored.event.clone();
        let rules = self.duplicate_rules;
        let locs = self.localities()?;
        let duplicate_of = match event.status {
            VerificationStatus::DuplicateOf(root) => Some(root),
            _ => None,
        };
        let mut merged = Vec::new();
        let mut candidates = Vec::new();
        let vis = self.visibility(who)?;
        if duplicate_of.is_none() {
            let page = self.store.list_events(&EventQuery {
                duplicate_of: Some(id),
                visibility: vis.clone(),
                page: PageRequest {
                    limit: MERGED_LIMIT,
                    after: None,
                },
                ..Default::default()
            })?;
            merged = page
                .items
                .into_iter()
                .map(|p| self.view(p.event, &locs))
                .collect::<Result<Vec<_>, _>>()?;
            for (c, matched) in self.candidates_of(&vis, &event)? {
                candidates.push(DuplicateCandidate {
                    item: self.versioned_view(c)?,
                    matched,
                });
            }
        }
        Ok(Duplicates {
            event: self.versioned_view(current)?,
            duplicate_of,
            merged,
            candidates,
            rules,
        })
    }

    /// The possible duplicates of `event` under the configured rules, best first: the
    /// store's coarse pool refined by [`DuplicateRules::compare`]. Records already merged
    /// into `event` are not proposed again.
    fn candidates_of(
        &self,
        vis: &Visibility,
        event: &usalama_domain::Event,
    ) -> Result<Vec<(VersionedEvent, DuplicateMatch)>, AppError> {
        let rules = self.duplicate_rules;
        let days = Duration::days(i64::from(rules.max_days_apart));
        let pool = self.store.duplicate_pool(&DuplicatePoolQuery {
            exclude: event.id,
            category: event.category.clone(),
            occurred_from: event.occurred_start - days,
            occurred_to: event.occurred_end + days,
            bbox: event.point.map(|p| rules.bounding_box(p)),
            locality: event.locality,
            limit: POOL_LIMIT,
        })?;
        let found: Vec<(VersionedEvent, DuplicateMatch)> = pool
            .into_iter()
            .filter(|c| c.stored.event.status != VerificationStatus::DuplicateOf(event.id))
            .filter(|c| Self::admits(vis, &c.stored.event))
            .filter_map(|c| {
                let m = rules.compare(event, &c.stored.event)?;
                Some((c, m))
            })
            .collect();
        Ok(rules.rank(found, |c| c.stored.event.id))
    }

    /// The records merged into `id` (none when it is itself a duplicate), for anyone who
    /// may read events.
    pub fn merged_duplicates(
        &self,
        who: &Principal,
        id: EventId,
    ) -> Result<Vec<EventView>, AppError> {
        self.require_reader(who)?;
        let locs = self.localities()?;
        let page = self.store.list_events(&EventQuery {
            duplicate_of: Some(id),
            visibility: self.visibility(who)?,
            page: PageRequest {
                limit: MERGED_LIMIT,
                after: None,
            },
            ..Default::default()
        })?;
        page.items
            .into_iter()
            .map(|p| self.view(p.event, &locs))
            .collect()
    }

    /// Marks record `id` (seen at `expected_version`) as a duplicate of `into`, or of the
    /// root of `into`'s group when `into` is itself a duplicate. Both records stay, each
    /// with its source; the records that duplicated `id` move to the root too. Refused: a
    /// record into itself, a root into its own duplicate (a cycle), a record that already
    /// is a duplicate (un-merge it first).
    pub fn merge(
        &self,
        who: &Principal,
        id: EventId,
        into: EventId,
        reason: Option<&str>,
        expected_version: i64,
    ) -> Result<VersionedView, AppError> {
        self.require_verifier(who)?;
        let reason = clean_reason(reason).map_err(domain)?;
        let current = self.load_versioned(who, id)?;
        if current.version != expected_version {
            return Err(version_conflict("the event", current.version));
        }
        if into == id {
            return Err(AppError::invalid("into", MergeRefusal::Itself.to_string()));
        }
        let target = self
            .store
            .get_event_versioned(into)?
            .filter(|t| self.require_visible(who, &t.stored.event).is_ok());
        let Some(target) = target else {
            return Err(AppError::invalid("into", format!("no event has id {into}")));
        };
        let mut lookup_error: Option<StoreError> = None;
        let root = resolve_root(into, |e| match self.store.get_event(e) {
            Ok(found) => found.map(|p| p.event.status),
            Err(err) => {
                lookup_error = Some(err);
                None
            }
        });
        if let Some(err) = lookup_error {
            return Err(err.into());
        }
        let root = root.and_then(|root| {
            check_merge(id, &current.stored.event.status, into, root).map(|_| root)
        });
        let root = match root {
            Ok(root) => root,
            Err(MergeRefusal::Itself) => {
                return Err(AppError::invalid("into", MergeRefusal::Itself.to_string()))
            }
            Err(MergeRefusal::Missing(e)) => {
                return Err(AppError::invalid("into", format!("no event has id {e}")))
            }
            Err(refusal) => {
                let code = match refusal {
                    MergeRefusal::Cycle => "merge_cycle",
                    MergeRefusal::AlreadyDuplicate => "already_duplicate",
                    _ => "broken_duplicate_chain",
                };
                return Err(AppError::Conflict {
                    code,
                    message: refusal.to_string(),
                });
            }
        };
        let root_version = if root == into {
            target.version
        } else {
            self.load_versioned(who, root)?.version
        };
        let outcome = self.store.merge_event(&MergeWrite {
            event: id,
            expected_version,
            root,
            root_version,
            note: self.note(who, reason),
        })?;
        self.cache.events_changed();
        self.alerts_data_changed();
        self.written(id, outcome)
    }

    /// Makes duplicate `id` (seen at `expected_version`) a record of its own again, with the
    /// status it had before it was merged.
    pub fn unmerge(
        &self,
        who: &Principal,
        id: EventId,
        reason: Option<&str>,
        expected_version: i64,
    ) -> Result<VersionedView, AppError> {
        self.require_verifier(who)?;
        let reason = clean_reason(reason).map_err(domain)?;
        let current = self.load_versioned(who, id)?;
        if current.version != expected_version {
            return Err(version_conflict("the event", current.version));
        }
        if !matches!(
            current.stored.event.status,
            VerificationStatus::DuplicateOf(_)
        ) {
            return Err(AppError::Conflict {
                code: "not_duplicate",
                message: "the event is not a duplicate".into(),
            });
        }
        let restore = self.status_before_merge(id)?;
        let outcome = self.store.unmerge_event(&UnmergeWrite {
            event: id,
            expected_version,
            restore,
            note: self.note(who, reason),
        })?;
        self.cache.events_changed();
        self.alerts_data_changed();
        self.written(id, outcome)
    }

    /// The status a duplicate had before its last merge, from its history; unverified when
    /// the history does not say.
    fn status_before_merge(&self, id: EventId) -> Result<VerificationStatus, AppError> {
        let history = self.store.event_history(id)?;
        let before = history
            .iter()
            .rev()
            .find(|e| e.kind == HistoryKind::MergedInto)
            .and_then(|e| e.changes.iter().find(|c| c.field == "status"))
            .and_then(|c| c.from.as_deref())
            .and_then(|s| VerificationStatus::from_parts(s, None).ok());
        Ok(before.unwrap_or(VerificationStatus::Unverified))
    }

    /// Every change of a record, oldest first: who, when, what kind, why, and the fields it
    /// changed (personal fields named, their values withheld).
    pub fn history(&self, who: &Principal, id: EventId) -> Result<Vec<HistoryEntry>, AppError> {
        self.require_reader(who)?;
        self.load_versioned(who, id)?;
        Ok(self.store.event_history(id)?)
    }
}
