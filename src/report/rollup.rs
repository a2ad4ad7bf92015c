//! Status roll-ups of a programme or of a meeting's protocol: counts and shares
//! by lifecycle and by completion, per section, organisation and party, the
//! weighted completion percent, and the overdue and due-soon lists. Pure: the
//! store gathers the items, this module counts them.
//!
//! What is counted (the API description says the same):
//! - **Lifecycle** is counted per obligation, as its overall lifecycle
//!   ([`overall`]: the item's own decision for cancelled/superseded, otherwise
//!   what the parties' latest reports say).
//! - **Completion** is counted per (obligation, responsible party) pair: the
//!   party's latest completion level, `no_evidence` when it has not reported.
//!   The responsible parties are those of the item's assignments; an item with
//!   no assignment counts the parties that reported on it (none: no pair).
//! - **Weighted completion percent** = mean of [`Completion::score`] (0-3) over
//!   the scored pairs / 3 * 100. `no_evidence` pairs have no score: they are
//!   counted apart (`no_evidence`) and left out of the mean, never averaged as
//!   0. None when no pair is scored.
//! - **Overdue / due soon** per obligation by [`assess`] with the overall
//!   lifecycle, on the roll-up's date (`as_of`), with the service's due-soon window.
//! - Breakdowns: a section counts its items and their pairs; a party the items
//!   it is responsible for and its own pairs; an organisation the items it is
//!   assigned to and the pairs of its party on them.
//! - As of a date, reports dated (as_of) or filed (reported_at) after it are
//!   ignored, and the store gives each item's own lifecycle and timeframe as
//!   they were that day (the audit log's before-images of later updates).
//!   Items are not left out for having been created later.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::status::{
    assess, latest_per_party, overall, Completion, Lifecycle, PartyStatus, Urgency,
};
use crate::domain::text::LocalizedText;
use crate::domain::timeframe::Timeframe;

/// A person to contact at a responsible organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactRef {
    pub name: String,
    pub email: String,
    /// focal_point, deputy, ...
    pub role: String,
}

/// An organisation assigned to an item, for one party.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResponsibleRef {
    pub organisation_id: String,
    pub organisation_key: String,
    #[schema(value_type = BTreeMap<String, String>)]
    pub organisation: LocalizedText,
    pub party: String,
    /// lead, co_executor, sending, hosting, funding.
    pub role: String,
    pub contacts: Vec<ContactRef>,
}

/// A section of a programme, as the roll-up names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SectionRef {
    pub id: String,
    pub code: String,
    #[schema(value_type = BTreeMap<String, String>)]
    pub title: LocalizedText,
    pub position: i32,
}

/// One obligation with what the roll-up needs (gathered by the store).
#[derive(Debug, Clone)]
pub struct RollupItem {
    pub obligation_id: String,
    pub number: String,
    pub text: LocalizedText,
    pub section: Option<SectionRef>,
    pub timeframe: Timeframe,
    /// The item's own (stored) lifecycle.
    pub lifecycle: Lifecycle,
    pub responsible: Vec<ResponsibleRef>,
    /// Every report on the item (filtered by date here).
    pub reports: Vec<PartyStatus>,
}

/// Counts of a group of items and of their (item, party) pairs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusCounts {
    /// Obligations in the group.
    pub obligations: usize,
    /// Obligations by overall lifecycle (every state listed, zeros included).
    #[schema(value_type = BTreeMap<String, usize>)]
    pub by_lifecycle: BTreeMap<Lifecycle, usize>,
    /// (obligation, responsible party) pairs in the group.
    pub pairs: usize,
    /// Pairs by completion level (every level listed, zeros included).
    #[schema(value_type = BTreeMap<String, usize>)]
    pub by_completion: BTreeMap<Completion, usize>,
    /// Pairs with a score (all but no_evidence).
    pub scored: usize,
    /// Pairs with no evidence: counted apart, not averaged.
    pub no_evidence: usize,
    /// Mean score of the scored pairs / 3 * 100; None when nothing is scored.
    pub completion_percent: Option<f64>,
    pub overdue: usize,
    pub due_soon: usize,
}

impl StatusCounts {
    fn empty() -> StatusCounts {
        StatusCounts {
            by_lifecycle: Lifecycle::ALL.into_iter().map(|l| (l, 0)).collect(),
            by_completion: Completion::ALL.into_iter().map(|c| (c, 0)).collect(),
            ..StatusCounts::default()
        }
    }

    /// Share of the group's obligations in a lifecycle state, 0.0..=1.0.
    pub fn lifecycle_share(&self, state: Lifecycle) -> Option<f64> {
        share(
            self.by_lifecycle.get(&state).copied().unwrap_or(0),
            self.obligations,
        )
    }

    /// Share of the group's pairs at a completion level, 0.0..=1.0.
    pub fn completion_share(&self, level: Completion) -> Option<f64> {
        share(
            self.by_completion.get(&level).copied().unwrap_or(0),
            self.pairs,
        )
    }
}

fn share(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Score sums kept while counting, turned into the percent at the end.
#[derive(Default)]
struct Tally {
    counts: Option<StatusCounts>,
    score: u32,
}

impl Tally {
    fn counts(&mut self) -> &mut StatusCounts {
        self.counts.get_or_insert_with(StatusCounts::empty)
    }

    fn item(&mut self, lifecycle: Lifecycle, overdue: bool, due_soon: bool) {
        let c = self.counts();
        c.obligations += 1;
        *c.by_lifecycle.entry(lifecycle).or_default() += 1;
        c.overdue += usize::from(overdue);
        c.due_soon += usize::from(due_soon);
    }

    fn pair(&mut self, level: Completion) {
        let c = self.counts();
        c.pairs += 1;
        *c.by_completion.entry(level).or_default() += 1;
        match level.score() {
            Some(s) => {
                c.scored += 1;
                self.score += u32::from(s);
            }
            None => c.no_evidence += 1,
        }
    }

    fn finish(mut self) -> StatusCounts {
        let score = self.score;
        let c = self.counts();
        c.completion_percent =
            (c.scored > 0).then(|| f64::from(score) / (c.scored as f64 * 3.0) * 100.0);
        self.counts.unwrap_or_else(StatusCounts::empty)
    }
}

/// A group of a breakdown: a section, an organisation or a party.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Breakdown {
    /// Section id (empty for items without a section), organisation id, or party code.
    pub id: String,
    /// Section code, organisation key, or party code.
    pub key: String,
    /// Section title or organisation name; None for parties.
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub title: Option<LocalizedText>,
    #[serde(flatten)]
    pub counts: StatusCounts,
}

/// An overdue or due-soon item with who is responsible and how to reach them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListedItem {
    pub obligation_id: String,
    pub number: String,
    #[schema(value_type = BTreeMap<String, String>)]
    pub text: LocalizedText,
    pub section: Option<String>,
    pub timeframe: String,
    pub due: Option<NaiveDate>,
    /// Days late (overdue) or days left (due soon).
    pub days: i64,
    pub lifecycle: Lifecycle,
    pub responsible: Vec<ResponsibleRef>,
}

/// The roll-up of a programme or a protocol on a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rollup {
    /// Reports after this date are ignored; overdue / due soon are assessed on it.
    pub as_of: NaiveDate,
    /// The day the roll-up was made.
    pub today: NaiveDate,
    pub due_soon_days: u32,
    pub totals: StatusCounts,
    /// In section order; items without a section last (id "").
    pub sections: Vec<Breakdown>,
    /// By organisation key.
    pub organisations: Vec<Breakdown>,
    /// By party code.
    pub parties: Vec<Breakdown>,
    /// Most late first.
    pub overdue: Vec<ListedItem>,
    /// Soonest first.
    pub due_soon: Vec<ListedItem>,
}

/// The responsible parties of an item, sorted, without repeats.
pub fn responsible_parties(item: &RollupItem) -> Vec<String> {
    let set: BTreeSet<&str> = item.responsible.iter().map(|r| r.party.as_str()).collect();
    set.into_iter().map(str::to_string).collect()
}

/// The latest report of each party on `as_of` (reports dated or filed after it ignored).
pub fn latest_on(reports: &[PartyStatus], as_of: Option<NaiveDate>) -> Vec<PartyStatus> {
    let known = reports
        .iter()
        .filter(|r| as_of.is_none_or(|day| r.reported_at.date() <= day));
    latest_per_party(known, as_of)
}

/// Counts `items` as of `as_of` (None: every report) and assesses urgency on
/// `as_of.unwrap_or(today)`.
pub fn compute(
    items: &[RollupItem],
    as_of: Option<NaiveDate>,
    today: NaiveDate,
    due_soon_days: u32,
) -> Rollup {
    let day = as_of.unwrap_or(today);
    let mut totals = Tally::default();
    totals.counts();
    let mut sections: BTreeMap<(bool, i32, String), (Option<SectionRef>, Tally)> = BTreeMap::new();
    let mut organisations: BTreeMap<String, (ResponsibleRef, Tally)> = BTreeMap::new();
    let mut parties: BTreeMap<String, Tally> = BTreeMap::new();
    let mut overdue = Vec::new();
    let mut due_soon = Vec::new();
    for item in items {
        let latest = latest_on(&item.reports, as_of);
        let assigned = responsible_parties(item);
        let responsible: Vec<&str> = assigned.iter().map(String::as_str).collect();
        let status = overall(item.lifecycle, &responsible, &latest);
        let assessment = assess(
            &item.timeframe,
            status.lifecycle,
            &responsible,
            &latest,
            day,
            due_soon_days,
        );
        // The pairs: assigned parties, else those that reported.
        let pair_parties: Vec<String> = if assigned.is_empty() {
            latest.iter().map(|s| s.party.clone()).collect()
        } else {
            assigned.clone()
        };
        let level_of = |party: &str| {
            latest
                .iter()
                .find(|s| s.party == party)
                .map_or(Completion::NoEvidence, |s| s.completion)
        };
        let (is_overdue, is_due_soon) = (assessment.overdue, assessment.due_soon);

        totals.item(status.lifecycle, is_overdue, is_due_soon);
        // Sections in their order, items without one last.
        let section_key = match &item.section {
            Some(s) => (false, s.position, s.id.clone()),
            None => (true, 0, String::new()),
        };
        let section = sections
            .entry(section_key)
            .or_insert_with(|| (item.section.clone(), Tally::default()));
        section.1.item(status.lifecycle, is_overdue, is_due_soon);
        for party in &pair_parties {
            let level = level_of(party);
            totals.pair(level);
            section.1.pair(level);
            let p = parties.entry(party.clone()).or_default();
            p.item(status.lifecycle, is_overdue, is_due_soon);
            p.pair(level);
        }
        // An organisation may hold several roles on one item: count the item once.
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for r in &item.responsible {
            if !seen.insert(r.organisation_id.as_str()) {
                continue;
            }
            let o = organisations
                .entry(r.organisation_key.clone())
                .or_insert_with(|| (r.clone(), Tally::default()));
            o.1.item(status.lifecycle, is_overdue, is_due_soon);
            o.1.pair(level_of(&r.party));
        }
        let reference = |days: i64| ListedItem {
            obligation_id: item.obligation_id.clone(),
            number: item.number.clone(),
            text: item.text.clone(),
            section: item.section.as_ref().map(|s| s.code.clone()),
            timeframe: item.timeframe.source.clone(),
            due: item.timeframe.due(),
            days,
            lifecycle: status.lifecycle,
            responsible: item.responsible.clone(),
        };
        match assessment.urgency {
            Urgency::Overdue { days_late } => overdue.push(reference(days_late)),
            Urgency::DueSoon { days_left } => due_soon.push(reference(days_left)),
            _ => {}
        }
    }
    overdue.sort_by(|a, b| b.days.cmp(&a.days).then_with(|| a.number.cmp(&b.number)));
    due_soon.sort_by(|a, b| a.days.cmp(&b.days).then_with(|| a.number.cmp(&b.number)));
    Rollup {
        as_of: day,
        today,
        due_soon_days,
        totals: totals.finish(),
        sections: sections
            .into_values()
            .map(|(s, t)| match s {
                Some(s) => Breakdown {
                    id: s.id,
                    key: s.code,
                    title: Some(s.title),
                    counts: t.finish(),
                },
                None => Breakdown {
                    id: String::new(),
                    key: String::new(),
                    title: None,
                    counts: t.finish(),
                },
            })
            .collect(),
        organisations: organisations
            .into_values()
            .map(|(r, t)| Breakdown {
                id: r.organisation_id,
                key: r.organisation_key,
                title: Some(r.organisation),
                counts: t.finish(),
            })
            .collect(),
        parties: parties
            .into_iter()
            .map(|(code, t)| Breakdown {
                id: code.clone(),
                key: code,
                title: None,
                counts: t.finish(),
            })
            .collect(),
        overdue,
        due_soon,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn report(
        party: &str,
        lifecycle: Lifecycle,
        completion: Completion,
        as_of: NaiveDate,
    ) -> PartyStatus {
        PartyStatus {
            party: party.into(),
            lifecycle,
            completion,
            as_of,
            reported_at: as_of.and_hms_opt(12, 0, 0).unwrap_or_default(),
        }
    }

    fn org(id: &str, party: &str) -> ResponsibleRef {
        ResponsibleRef {
            organisation_id: id.into(),
            organisation_key: id.into(),
            organisation: LocalizedText::single(crate::domain::Language::En, id).expect("text"),
            party: party.into(),
            role: "lead".into(),
            contacts: vec![],
        }
    }

    fn item(
        number: &str,
        due: &str,
        responsible: Vec<ResponsibleRef>,
        reports: Vec<PartyStatus>,
    ) -> RollupItem {
        RollupItem {
            obligation_id: number.into(),
            number: number.into(),
            text: LocalizedText::single(crate::domain::Language::En, number).expect("text"),
            section: None,
            timeframe: Timeframe::parse(due, None).expect("parses"),
            lifecycle: Lifecycle::Planned,
            responsible,
            reports,
        }
    }

    #[test]
    fn no_evidence_is_counted_apart_and_not_averaged() {
        use Completion::*;
        let items = vec![
            item(
                "1",
                "2025-12-31",
                vec![org("kz", "KZ"), org("ru", "RU")],
                vec![report(
                    "KZ",
                    Lifecycle::InProgress,
                    Substantial,
                    d(2025, 3, 1),
                )],
            ),
            item(
                "2",
                "2025-01-31",
                vec![org("kz", "KZ")],
                vec![report("KZ", Lifecycle::Completed, Complete, d(2025, 2, 1))],
            ),
        ];
        let r = compute(&items, None, d(2025, 6, 1), 14);
        assert_eq!(r.totals.obligations, 2);
        assert_eq!(r.totals.pairs, 3);
        assert_eq!(r.totals.no_evidence, 1);
        assert_eq!(r.totals.scored, 2);
        // (2 + 3) / (2 * 3) * 100
        let percent = r.totals.completion_percent.expect("scored");
        assert!((percent - 500.0 / 6.0).abs() < 1e-9, "{percent}");
        assert_eq!(r.totals.by_lifecycle[&Lifecycle::Completed], 1);
        assert_eq!(r.totals.by_lifecycle[&Lifecycle::InProgress], 1);
        let ru = &r.parties[1];
        assert_eq!(
            (ru.key.as_str(), ru.counts.completion_percent),
            ("RU", None)
        );
        assert!(r.overdue.is_empty());
    }

    #[test]
    fn as_of_ignores_later_reports_and_assesses_on_that_day() {
        use Completion::*;
        let items = vec![item(
            "1",
            "2025-03-31",
            vec![org("kz", "KZ")],
            vec![
                report("KZ", Lifecycle::InProgress, Limited, d(2025, 2, 1)),
                report("KZ", Lifecycle::Completed, Complete, d(2025, 5, 1)),
            ],
        )];
        let now = compute(&items, None, d(2025, 6, 1), 14);
        assert_eq!(now.totals.completion_percent, Some(100.0));
        assert!(now.overdue.is_empty());
        let then = compute(&items, Some(d(2025, 4, 2)), d(2025, 6, 1), 14);
        assert_eq!(then.as_of, d(2025, 4, 2));
        assert_eq!(then.totals.by_completion[&Limited], 1);
        assert_eq!(then.overdue.len(), 1);
        assert_eq!(then.overdue[0].days, 2);
        let soon = compute(&items, Some(d(2025, 3, 20)), d(2025, 6, 1), 14);
        assert_eq!(soon.due_soon.len(), 1);
        assert_eq!(soon.due_soon[0].days, 11);
    }

    #[test]
    fn round_trips_through_json() {
        let items = vec![item("1", "2025-03-31", vec![org("kz", "KZ")], vec![])];
        let r = compute(&items, None, d(2025, 6, 1), 14);
        let json = serde_json::to_string(&r).expect("serialises");
        let back: Rollup = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, r);
    }
}

/// An item's state on one side of a comparison (history: "what changed since").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemState {
    /// Overall lifecycle ([`overall`]).
    pub lifecycle: Lifecycle,
    /// Completion of each responsible party (no_evidence when it had not reported).
    #[schema(value_type = BTreeMap<String, Completion>)]
    pub completion: BTreeMap<String, Completion>,
    pub timeframe: String,
    pub earliest: Option<NaiveDate>,
    pub latest: Option<NaiveDate>,
}

/// What an item was (its own decided lifecycle and timeframe) on a past date,
/// as the audit log's before-images tell it.
#[derive(Debug, Clone)]
pub struct PastItem {
    pub lifecycle: Lifecycle,
    pub timeframe: Timeframe,
}

/// One changed item, with its state then and now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemChange {
    pub obligation_id: String,
    pub number: String,
    #[schema(value_type = BTreeMap<String, String>)]
    pub text: LocalizedText,
    pub section: Option<String>,
    /// Which axes changed: lifecycle, completion, dates.
    pub changed: Vec<String>,
    pub before: ItemState,
    pub after: ItemState,
}

fn state_of(item: &RollupItem, own: &PastItem, latest: &[PartyStatus]) -> ItemState {
    let assigned = responsible_parties(item);
    let responsible: Vec<&str> = assigned.iter().map(String::as_str).collect();
    let parties: Vec<String> = if assigned.is_empty() {
        latest.iter().map(|s| s.party.clone()).collect()
    } else {
        assigned.clone()
    };
    ItemState {
        lifecycle: overall(own.lifecycle, &responsible, latest).lifecycle,
        completion: parties
            .into_iter()
            .map(|p| {
                let level = latest
                    .iter()
                    .find(|s| s.party == p)
                    .map_or(Completion::NoEvidence, |s| s.completion);
                (p, level)
            })
            .collect(),
        timeframe: own.timeframe.source.clone(),
        earliest: own.timeframe.earliest,
        latest: own.timeframe.latest,
    }
}

/// The items whose overall lifecycle, completion of a party, or dates differ
/// between `since` (reports dated or filed after it ignored; the item's own
/// lifecycle and timeframe as `past` gives them, else as now) and now (every
/// report). A party that had not reported then counts as no_evidence then.
pub fn changes(
    items: &[RollupItem],
    past: &BTreeMap<String, PastItem>,
    since: NaiveDate,
) -> Vec<ItemChange> {
    let mut out = Vec::new();
    for item in items {
        let now = PastItem {
            lifecycle: item.lifecycle,
            timeframe: item.timeframe.clone(),
        };
        let then = past.get(&item.obligation_id).unwrap_or(&now);
        let before = state_of(item, then, &latest_on(&item.reports, Some(since)));
        let after = state_of(item, &now, &latest_on(&item.reports, None));
        let mut changed = Vec::new();
        if before.lifecycle != after.lifecycle {
            changed.push("lifecycle".to_string());
        }
        let parties: BTreeSet<&String> = before
            .completion
            .keys()
            .chain(after.completion.keys())
            .collect();
        let level = |s: &ItemState, p: &str| {
            s.completion
                .get(p)
                .copied()
                .unwrap_or(Completion::NoEvidence)
        };
        if parties
            .iter()
            .any(|p| level(&before, p) != level(&after, p))
        {
            changed.push("completion".to_string());
        }
        if (&before.timeframe, before.earliest, before.latest)
            != (&after.timeframe, after.earliest, after.latest)
        {
            changed.push("dates".to_string());
        }
        if !changed.is_empty() {
            out.push(ItemChange {
                obligation_id: item.obligation_id.clone(),
                number: item.number.clone(),
                text: item.text.clone(),
                section: item.section.as_ref().map(|s| s.code.clone()),
                changed,
                before,
                after,
            });
        }
    }
    out
}

#[cfg(test)]
mod change_tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn item(number: &str, reports: Vec<PartyStatus>) -> RollupItem {
        RollupItem {
            obligation_id: number.into(),
            number: number.into(),
            text: LocalizedText::single(crate::domain::Language::En, number).expect("text"),
            section: None,
            timeframe: Timeframe::parse("2025", None).expect("parses"),
            lifecycle: Lifecycle::Planned,
            responsible: vec![],
            reports,
        }
    }

    fn report(party: &str, completion: Completion, as_of: NaiveDate) -> PartyStatus {
        PartyStatus {
            party: party.into(),
            lifecycle: Lifecycle::InProgress,
            completion,
            as_of,
            reported_at: as_of.and_hms_opt(9, 0, 0).expect("time"),
        }
    }

    #[test]
    fn lists_exactly_the_items_that_changed() {
        use Completion::*;
        let items = vec![
            item("1", vec![report("KZ", Limited, d(2025, 1, 1))]),
            item(
                "2",
                vec![
                    report("KZ", Limited, d(2025, 1, 1)),
                    report("KZ", Substantial, d(2025, 3, 1)),
                ],
            ),
            item("3", vec![]),
            item("4", vec![report("RU", Limited, d(2025, 3, 1))]),
        ];
        let mut past = BTreeMap::new();
        past.insert(
            "3".to_string(),
            PastItem {
                lifecycle: Lifecycle::Planned,
                timeframe: Timeframe::parse("2024", None).expect("parses"),
            },
        );
        let got = changes(&items, &past, d(2025, 2, 1));
        let numbers: Vec<(&str, &[String])> = got
            .iter()
            .map(|c| (c.number.as_str(), c.changed.as_slice()))
            .collect();
        assert_eq!(
            numbers,
            vec![
                ("2", &["completion".to_string()][..]),
                ("3", &["dates".to_string()][..]),
                (
                    "4",
                    &["lifecycle".to_string(), "completion".to_string()][..]
                ),
            ]
        );
        assert_eq!(got[0].before.completion["KZ"], Limited);
        assert_eq!(got[0].after.completion["KZ"], Substantial);
        assert_eq!(got[2].before.completion.get("RU"), None);
        assert_eq!(got[2].after.lifecycle, Lifecycle::InProgress);
    }
}
