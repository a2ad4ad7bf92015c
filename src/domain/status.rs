//! Status on two axes (DESIGN.md section 2, "Status"): where an item is (lifecycle) and how
//! far each party has got (assessed completion), and the overdue / due-soon assessment that is
//! computed from them and the timeframe, never stored.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::timeframe::Timeframe;

/// Where an item is (DESIGN.md "Lifecycle").
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    Planned,
    Scheduled,
    InProgress,
    Completed,
    Postponed,
    Suspended,
    Cancelled,
    Superseded,
}

impl Lifecycle {
    pub const ALL: [Lifecycle; 8] = [
        Lifecycle::Planned,
        Lifecycle::Scheduled,
        Lifecycle::InProgress,
        Lifecycle::Completed,
        Lifecycle::Postponed,
        Lifecycle::Suspended,
        Lifecycle::Cancelled,
        Lifecycle::Superseded,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Lifecycle::Planned => "planned",
            Lifecycle::Scheduled => "scheduled",
            Lifecycle::InProgress => "in_progress",
            Lifecycle::Completed => "completed",
            Lifecycle::Postponed => "postponed",
            Lifecycle::Suspended => "suspended",
            Lifecycle::Cancelled => "cancelled",
            Lifecycle::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }

    pub fn is_closed(&self) -> bool {
        matches!(
            self,
            Lifecycle::Completed | Lifecycle::Cancelled | Lifecycle::Superseded
        )
    }

    /// The transition table. Staying in the same state is allowed: it is a re-report.
    pub fn can_become(&self, next: Lifecycle) -> bool {
        use Lifecycle::*;
        match (*self, next) {
            // Open states may go anywhere: plans change, and a completion report may come late.
            (Planned | Scheduled | InProgress | Postponed | Suspended, _) => true,
            // A completion recorded by mistake may be reopened.
            (Completed, Completed | InProgress) => true,
            (Cancelled, Cancelled) => true,
            (Superseded, Superseded) => true,
            // Otherwise closed states are final.
            (Completed | Cancelled | Superseded, _) => false,
        }
    }

    pub fn transition(self, next: Lifecycle) -> Result<Lifecycle, TransitionError> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(TransitionError {
                from: self,
                to: next,
            })
        }
    }
}

impl fmt::Display for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lifecycle change the table forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionError {
    pub from: Lifecycle,
    pub to: Lifecycle,
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an obligation that is {} cannot become {}: {} is final",
            self.from, self.to, self.from
        )?;
        if self.from == Lifecycle::Completed {
            // Say the one way out, so the user does not think the item is stuck.
            f.write_str(", except that a mistaken completion can be reopened as in_progress")?;
        }
        Ok(())
    }
}

impl std::error::Error for TransitionError {}

/// Assessed completion, per party (OGP scale; maps onto the Peace Accords Matrix 0-3 scale).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    NoEvidence,
    NotStarted,
    Limited,
    Substantial,
    Complete,
}

impl Completion {
    pub const ALL: [Completion; 5] = [
        Completion::NoEvidence,
        Completion::NotStarted,
        Completion::Limited,
        Completion::Substantial,
        Completion::Complete,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Completion::NoEvidence => "no_evidence",
            Completion::NotStarted => "not_started",
            Completion::Limited => "limited",
            Completion::Substantial => "substantial",
            Completion::Complete => "complete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.as_str() == s)
    }

    /// The Peace Accords Matrix score. None for NoEvidence: "no evidence" is shown apart from
    /// "not started", never averaged as 0.
    pub fn score(&self) -> Option<u8> {
        match self {
            Completion::NoEvidence => None,
            Completion::NotStarted => Some(0),
            Completion::Limited => Some(1),
            Completion::Substantial => Some(2),
            Completion::Complete => Some(3),
        }
    }
}

impl fmt::Display for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One party's latest status report, as far as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyStatus {
    pub party: String,
    pub lifecycle: Lifecycle,
    pub completion: Completion,
    pub as_of: NaiveDate,
    pub reported_at: NaiveDateTime,
}

impl PartyStatus {
    /// Either axis may say it: a party may close the item, or assess its part complete.
    pub fn is_done(&self) -> bool {
        self.lifecycle == Lifecycle::Completed || self.completion == Completion::Complete
    }
}

/// The latest report of each party: greatest (as_of, reported_at); reports with as_of after `on` are
/// ignored when `on` is Some (history: "status as of a date"). Output sorted by party. Of two reports
/// with the same as_of and reported_at, the later in `reports` wins, as reports are appended.
pub fn latest_per_party<'a>(
    reports: impl IntoIterator<Item = &'a PartyStatus>,
    on: Option<NaiveDate>,
) -> Vec<PartyStatus> {
    let mut latest: BTreeMap<&str, &PartyStatus> = BTreeMap::new();
    for report in reports {
        if on.is_some_and(|on| report.as_of > on) {
            continue;
        }
        let newer = latest.get(report.party.as_str()).is_none_or(|kept| {
            (report.as_of, report.reported_at) >= (kept.as_of, kept.reported_at)
        });
        if newer {
            latest.insert(report.party.as_str(), report);
        }
    }
    latest.into_values().cloned().collect()
}

/// Whether every responsible party reports the item done (lifecycle Completed or completion Complete).
/// With no responsible parties listed, whether there is at least one report and all reports say done.
pub fn fulfilled(responsible: &[&str], latest: &[PartyStatus]) -> bool {
    if responsible.is_empty() {
        return !latest.is_empty() && latest.iter().all(PartyStatus::is_done);
    }
    responsible.iter().all(|party| {
        let mut reports = latest
            .iter()
            .filter(|status| status.party == *party)
            .peekable();
        reports.peek().is_some() && reports.all(PartyStatus::is_done)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Urgency {
    Closed,
    Suspended,
    Unscheduled,
    Overdue { days_late: i64 },
    DueSoon { days_left: i64 },
    NotYetDue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub urgency: Urgency,
    pub overdue: bool,
    pub due_soon: bool,
}

impl From<Urgency> for Assessment {
    fn from(urgency: Urgency) -> Assessment {
        Assessment {
            urgency,
            overdue: matches!(urgency, Urgency::Overdue { .. }),
            due_soon: matches!(urgency, Urgency::DueSoon { .. }),
        }
    }
}

/// Computed, never stored (DESIGN.md). `lifecycle` is the obligation's overall lifecycle; `today` is the date in the
/// responsible organisation's zone (a deadline is due at the end of its day).
pub fn assess(
    timeframe: &Timeframe,
    lifecycle: Lifecycle,
    responsible: &[&str],
    latest: &[PartyStatus],
    today: NaiveDate,
    due_soon_days: u32,
) -> Assessment {
    let urgency = if lifecycle.is_closed() || fulfilled(responsible, latest) {
        Urgency::Closed
    } else if lifecycle == Lifecycle::Suspended {
        Urgency::Suspended
    } else {
        match timeframe.due() {
            None => Urgency::Unscheduled,
            Some(due) if today > due => Urgency::Overdue {
                days_late: today.signed_duration_since(due).num_days(),
            },
            Some(due) => {
                let days_left = due.signed_duration_since(today).num_days();
                if days_left <= i64::from(due_soon_days) {
                    Urgency::DueSoon { days_left }
                } else {
                    Urgency::NotYetDue
                }
            }
        }
    };
    Assessment::from(urgency)
}

/// An item's status across its parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Overall {
    pub lifecycle: Lifecycle,
    /// The least advanced party's completion; no evidence when a party has not reported.
    pub completion: Completion,
}

/// Derives the overall status from each party's latest report. `stored` is the
/// item's own lifecycle (what a meeting decided: postponed, cancelled,
/// superseded), which closed decisions keep; otherwise the reports decide.
pub fn overall(stored: Lifecycle, responsible: &[&str], latest: &[PartyStatus]) -> Overall {
    let parties: Vec<&str> = if responsible.is_empty() {
        latest.iter().map(|s| s.party.as_str()).collect()
    } else {
        responsible.to_vec()
    };
    let of = |party: &str| latest.iter().rev().find(|s| s.party == party);
    let completion = parties
        .iter()
        .map(|p| of(p).map_or(Completion::NoEvidence, |s| s.completion))
        .min()
        .unwrap_or(Completion::NoEvidence);
    let lifecycle = if matches!(stored, Lifecycle::Cancelled | Lifecycle::Superseded) {
        stored
    } else if !parties.is_empty() && fulfilled(responsible, latest) {
        Lifecycle::Completed
    } else if latest
        .iter()
        .any(|s| matches!(s.lifecycle, Lifecycle::InProgress | Lifecycle::Completed))
    {
        Lifecycle::InProgress
    } else if !latest.is_empty() && latest.iter().all(|s| s.lifecycle == Lifecycle::Postponed) {
        Lifecycle::Postponed
    } else if !latest.is_empty() && latest.iter().all(|s| s.lifecycle == Lifecycle::Suspended) {
        Lifecycle::Suspended
    } else {
        stored
    };
    Overall {
        lifecycle,
        completion,
    }
}

#[cfg(test)]
mod overall_tests {
    use super::*;

    fn report(party: &str, lifecycle: Lifecycle, completion: Completion) -> PartyStatus {
        let day = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap_or_default();
        PartyStatus {
            party: party.into(),
            lifecycle,
            completion,
            as_of: day,
            reported_at: day.and_hms_opt(9, 0, 0).unwrap_or_default(),
        }
    }

    #[test]
    fn overall_follows_the_least_advanced_party() {
        use Completion::*;
        use Lifecycle::*;
        let both = ["KZ", "RU"];
        assert_eq!(
            overall(Planned, &both, &[]),
            Overall {
                lifecycle: Planned,
                completion: NoEvidence
            }
        );
        let kz_done = [report("KZ", Completed, Complete)];
        assert_eq!(
            overall(Planned, &both, &kz_done),
            Overall {
                lifecycle: InProgress,
                completion: NoEvidence
            }
        );
        let both_done = [
            report("KZ", Completed, Complete),
            report("RU", Completed, Substantial),
        ];
        assert_eq!(
            overall(Planned, &both, &both_done),
            Overall {
                lifecycle: Completed,
                completion: Substantial
            }
        );
        let postponed = [
            report("KZ", Postponed, Limited),
            report("RU", Postponed, NotStarted),
        ];
        assert_eq!(
            overall(Scheduled, &both, &postponed),
            Overall {
                lifecycle: Postponed,
                completion: NotStarted
            }
        );
        // A decision to cancel stands whatever the reports say.
        assert_eq!(overall(Cancelled, &both, &both_done).lifecycle, Cancelled);
        // Without listed parties, those who reported decide.
        assert_eq!(
            overall(Planned, &[], &kz_done),
            Overall {
                lifecycle: Completed,
                completion: Complete
            }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Lifecycle::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn at(y: i32, m: u32, day: u32, hour: u32) -> NaiveDateTime {
        d(y, m, day)
            .and_hms_opt(hour, 0, 0)
            .expect("valid test time")
    }

    fn report(
        party: &str,
        lifecycle: Lifecycle,
        completion: Completion,
        as_of: NaiveDate,
        reported_at: NaiveDateTime,
    ) -> PartyStatus {
        PartyStatus {
            party: party.to_string(),
            lifecycle,
            completion,
            as_of,
            reported_at,
        }
    }

    /// A report filed on its as-of date, at noon.
    fn simple(party: &str, lifecycle: Lifecycle, completion: Completion) -> PartyStatus {
        report(
            party,
            lifecycle,
            completion,
            d(2025, 3, 1),
            at(2025, 3, 1, 12),
        )
    }

    /// The assessment expected for an urgency, flags written out independently of `From`.
    fn expect(urgency: Urgency) -> Assessment {
        Assessment {
            urgency,
            overdue: matches!(urgency, Urgency::Overdue { .. }),
            due_soon: matches!(urgency, Urgency::DueSoon { .. }),
        }
    }

    #[test]
    fn lifecycle_names() {
        let names = [
            "planned",
            "scheduled",
            "in_progress",
            "completed",
            "postponed",
            "suspended",
            "cancelled",
            "superseded",
        ];
        for (state, name) in Lifecycle::ALL.into_iter().zip(names) {
            assert_eq!(state.as_str(), name);
            assert_eq!(state.to_string(), name);
            assert_eq!(Lifecycle::parse(name), Some(state));
            let json = format!("\"{name}\"");
            assert_eq!(serde_json::to_string(&state).expect("serialises"), json);
            assert_eq!(
                serde_json::from_str::<Lifecycle>(&json).expect("deserialises"),
                state
            );
        }
        assert_eq!(Lifecycle::parse("In progress"), None);
        assert_eq!(Lifecycle::parse("done"), None);
    }

    #[test]
    fn closed_states() {
        let closed: Vec<_> = Lifecycle::ALL
            .into_iter()
            .filter(Lifecycle::is_closed)
            .collect();
        assert_eq!(closed, vec![Completed, Cancelled, Superseded]);
    }

    #[test]
    #[rustfmt::skip]
    fn every_transition_against_the_table() {
        const Y: bool = true;
        const N: bool = false;
        // Rows: from; columns: to, in the order of Lifecycle::ALL.
        let table: [(Lifecycle, [bool; 8]); 8] = [
            //             Pla Sch InP Com Pos Sus Can Sup
            (Planned,    [ Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y ]),
            (Scheduled,  [ Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y ]),
            (InProgress, [ Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y ]),
            (Completed,  [ N,  N,  Y,  Y,  N,  N,  N,  N ]),
            (Postponed,  [ Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y ]),
            (Suspended,  [ Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y ]),
            (Cancelled,  [ N,  N,  N,  N,  N,  N,  Y,  N ]),
            (Superseded, [ N,  N,  N,  N,  N,  N,  N,  Y ]),
        ];
        let mut checked = 0;
        for (from, row) in table {
            for (to, allowed) in Lifecycle::ALL.into_iter().zip(row) {
                assert_eq!(from.can_become(to), allowed, "{from} -> {to}");
                let expected = if allowed { Ok(to) } else { Err(TransitionError { from, to }) };
                assert_eq!(from.transition(to), expected, "{from} -> {to}");
                checked += 1;
            }
        }
        assert_eq!(checked, 64);
    }

    #[test]
    #[rustfmt::skip]
    fn transition_error_messages() {
        let rows = [
            (Cancelled, InProgress, "an obligation that is cancelled cannot become in_progress: cancelled is final"),
            (Superseded, Planned, "an obligation that is superseded cannot become planned: superseded is final"),
            (Cancelled, Completed, "an obligation that is cancelled cannot become completed: cancelled is final"),
            (Completed, Scheduled, "an obligation that is completed cannot become scheduled: completed is final, except that a mistaken completion can be reopened as in_progress"),
        ];
        for (from, to, message) in rows {
            let error = from.transition(to).expect_err("forbidden");
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    #[rustfmt::skip]
    fn completion_names_and_scores() {
        let rows = [
            (Completion::NoEvidence,  "no_evidence", None),
            (Completion::NotStarted,  "not_started", Some(0)),
            (Completion::Limited,     "limited",     Some(1)),
            (Completion::Substantial, "substantial", Some(2)),
            (Completion::Complete,    "complete",    Some(3)),
        ];
        assert_eq!(Completion::ALL.len(), rows.len());
        for ((level, name, score), listed) in rows.into_iter().zip(Completion::ALL) {
            assert_eq!(level, listed);
            assert_eq!(level.as_str(), name);
            assert_eq!(level.to_string(), name);
            assert_eq!(Completion::parse(name), Some(level));
            assert_eq!(level.score(), score);
            assert_eq!(serde_json::to_string(&level).expect("serialises"), format!("\"{name}\""));
        }
        assert_eq!(Completion::parse("Complete"), None);
    }

    #[test]
    #[rustfmt::skip]
    fn latest_per_party_orders_by_as_of_then_reported_at() {
        use Completion::*;
        let kz_old = report("KZ", Scheduled, NotStarted, d(2025, 1, 10), at(2025, 1, 10, 9));
        // Filed last but as of an earlier date: a late, back-dated report does not win.
        let kz_backdated = report("KZ", InProgress, Limited, d(2025, 1, 5), at(2025, 6, 1, 9));
        let kz_new = report("KZ", InProgress, Substantial, d(2025, 2, 1), at(2025, 2, 1, 9));
        // Same as_of as kz_new, filed later that day: the correction wins.
        let kz_fixed = report("KZ", InProgress, Limited, d(2025, 2, 1), at(2025, 2, 1, 17));
        let ru = report("RU", Planned, NoEvidence, d(2025, 1, 20), at(2025, 1, 21, 8));
        let by_future = report("BY", Completed, Complete, d(2025, 9, 1), at(2025, 9, 1, 8));

        let all = [kz_fixed.clone(), ru.clone(), kz_old.clone(), by_future.clone(), kz_new.clone(), kz_backdated.clone()];
        let reversed: Vec<_> = all.iter().rev().cloned().collect();
        let rows: Vec<(&[PartyStatus], Option<NaiveDate>, Vec<&PartyStatus>)> = vec![
            (&all,      None,                   vec![&by_future, &kz_fixed, &ru]),
            // Input order does not matter.
            (&reversed, None,                   vec![&by_future, &kz_fixed, &ru]),
            // As of a date: later as_of are ignored, and whole parties may drop out.
            (&all,      Some(d(2025, 9, 1)),    vec![&by_future, &kz_fixed, &ru]),
            (&all,      Some(d(2025, 8, 31)),   vec![&kz_fixed, &ru]),
            (&all,      Some(d(2025, 2, 1)),    vec![&kz_fixed, &ru]),
            (&all,      Some(d(2025, 1, 31)),   vec![&kz_old, &ru]),
            (&all,      Some(d(2025, 1, 10)),   vec![&kz_old]),
            (&all,      Some(d(2025, 1, 9)),    vec![&kz_backdated]),
            (&all,      Some(d(2025, 1, 4)),    vec![]),
            (&[],       None,                   vec![]),
        ];
        for (reports, on, expected) in rows {
            let expected: Vec<PartyStatus> = expected.into_iter().cloned().collect();
            assert_eq!(latest_per_party(reports, on), expected, "on {on:?}");
        }
    }

    #[test]
    fn latest_per_party_exact_tie_takes_the_later_appended() {
        let first = report(
            "KZ",
            InProgress,
            Completion::Limited,
            d(2025, 2, 1),
            at(2025, 2, 1, 9),
        );
        let second = PartyStatus {
            completion: Completion::Substantial,
            ..first.clone()
        };
        assert_eq!(
            latest_per_party([&first, &second], None),
            vec![second.clone()]
        );
        assert_eq!(latest_per_party([&second, &first], None), vec![first]);
    }

    #[test]
    #[rustfmt::skip]
    fn fulfilled_table() {
        use Completion::*;
        let kz_done = simple("KZ", Completed, Substantial);
        let kz_complete = simple("KZ", InProgress, Complete);
        let kz_open = simple("KZ", InProgress, Substantial);
        let ru_done = simple("RU", Completed, Complete);
        let ru_open = simple("RU", Scheduled, NotStarted);
        let ru_cancelled = simple("RU", Cancelled, NoEvidence);
        let by_open = simple("BY", InProgress, Limited);
        let kz_ru: &[&str] = &["KZ", "RU"];
        let rows: Vec<(&[&str], Vec<&PartyStatus>, bool, &str)> = vec![
            (kz_ru,   vec![&kz_done, &ru_done],           true,  "both completed"),
            (kz_ru,   vec![&kz_complete, &ru_done],       true,  "completion complete counts as done"),
            (kz_ru,   vec![&kz_done, &ru_open],           false, "RU not done"),
            (kz_ru,   vec![&kz_done],                     false, "RU has not reported"),
            (kz_ru,   vec![&kz_done, &ru_cancelled],      false, "a party's cancellation is not completion"),
            (kz_ru,   vec![&kz_done, &ru_done, &by_open], true,  "parties not responsible are ignored"),
            (&["KZ"], vec![&kz_complete, &ru_open],       true,  "only KZ responsible"),
            (&["KZ"], vec![&kz_open],                     false, "substantial is not complete"),
            (&["KZ"], vec![],                             false, "no reports"),
            (&[],     vec![],                             false, "nobody listed, no reports"),
            (&[],     vec![&kz_done, &ru_done],           true,  "nobody listed, all done"),
            (&[],     vec![&kz_done, &by_open],           false, "nobody listed, one not done"),
            (&[],     vec![&kz_complete],                 true,  "nobody listed, one complete"),
        ];
        for (responsible, latest, expected, why) in rows {
            let latest: Vec<PartyStatus> = latest.into_iter().cloned().collect();
            assert_eq!(fulfilled(responsible, &latest), expected, "{why}");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn assess_every_branch_and_boundary() {
        use Completion::*;
        // Lifecycle::Suspended is in scope too: the urgency is written Urgency::Suspended.
        use Urgency::{Closed, DueSoon, NotYetDue, Overdue, Unscheduled};
        let q2 = Timeframe::parse("II quarter 2025", None).expect("parses"); // due 2025-06-30
        let tba = Timeframe::to_be_agreed("по согласованию");
        let none: Vec<PartyStatus> = vec![];
        let partial = vec![simple("KZ", Completed, Complete), simple("RU", InProgress, Limited)];
        let all_done = vec![simple("KZ", Completed, Complete), simple("RU", Completed, Complete)];
        let complete_in_progress = vec![simple("KZ", InProgress, Complete), simple("RU", InProgress, Complete)];

        type Case<'a> = (&'a str, &'a Timeframe, Lifecycle, &'a [PartyStatus], NaiveDate, Urgency);
        let rows: Vec<Case> = vec![
            // Closed first: by lifecycle, whatever the date.
            ("completed",                  &q2,  Completed,  &none,     d(2025, 9, 1),  Closed),
            ("cancelled",                  &q2,  Cancelled,  &none,     d(2025, 9, 1),  Closed),
            ("superseded",                 &tba, Superseded, &none,     d(2025, 9, 1),  Closed),
            // Closed by the parties' reports though the overall lifecycle lags.
            ("all parties completed",      &q2,  InProgress, &all_done, d(2025, 9, 1),  Closed),
            ("complete, in progress",      &q2,  InProgress, &complete_in_progress, d(2025, 9, 1), Closed),
            ("fulfilled while suspended",  &q2,  Suspended,  &all_done, d(2025, 9, 1),  Closed),
            // Suspended comes before dates.
            ("suspended and late",         &q2,  Suspended,  &partial,  d(2025, 9, 1),  Urgency::Suspended),
            ("suspended, to be agreed",    &tba, Suspended,  &none,     d(2025, 9, 1),  Urgency::Suspended),
            // No deadline.
            ("to be agreed",               &tba, Planned,    &none,     d(2025, 9, 1),  Unscheduled),
            ("to be agreed, postponed",    &tba, Postponed,  &partial,  d(2025, 9, 1),  Unscheduled),
            // Around the due date 2025-06-30, with due_soon_days = 14.
            ("the day after",              &q2,  InProgress, &none,     d(2025, 7, 1),  Overdue { days_late: 1 }),
            ("a year later",               &q2,  Scheduled,  &none,     d(2026, 6, 30), Overdue { days_late: 365 }),
            ("partially fulfilled",        &q2,  InProgress, &partial,  d(2025, 7, 1),  Overdue { days_late: 1 }),
            ("on the due date",            &q2,  InProgress, &none,     d(2025, 6, 30), DueSoon { days_left: 0 }),
            ("partially fulfilled, on it", &q2,  InProgress, &partial,  d(2025, 6, 30), DueSoon { days_left: 0 }),
            ("the day before",             &q2,  Planned,    &none,     d(2025, 6, 29), DueSoon { days_left: 1 }),
            ("exactly 14 days before",     &q2,  Planned,    &none,     d(2025, 6, 16), DueSoon { days_left: 14 }),
            ("one more day before",        &q2,  Planned,    &none,     d(2025, 6, 15), NotYetDue),
            ("before it starts",           &q2,  Planned,    &none,     d(2025, 1, 1),  NotYetDue),
            // Postponed: assessed against the (new) timeframe passed in.
            ("postponed and late",         &q2,  Postponed,  &none,     d(2025, 7, 2),  Overdue { days_late: 2 }),
            ("postponed, not yet due",     &q2,  Postponed,  &none,     d(2025, 5, 1),  NotYetDue),
        ];
        for (why, timeframe, lifecycle, latest, today, urgency) in rows {
            let got = assess(timeframe, lifecycle, &["KZ", "RU"], latest, today, 14);
            assert_eq!(got, expect(urgency), "{why}");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn assess_due_soon_window_sizes() {
        use Urgency::*;
        let due = Timeframe::parse("2024-03-01", None).expect("parses");
        let rows = [
            // Zero days: due soon only on the day itself.
            (0,  d(2024, 3, 1),  DueSoon { days_left: 0 }),
            (0,  d(2024, 2, 29), NotYetDue),
            // Across 29 February 2024.
            (2,  d(2024, 2, 28), DueSoon { days_left: 2 }),
            (2,  d(2024, 2, 27), NotYetDue),
            (30, d(2024, 1, 31), DueSoon { days_left: 30 }),
            (30, d(2024, 1, 30), NotYetDue),
            (30, d(2024, 3, 2),  Overdue { days_late: 1 }),
        ];
        for (window, today, urgency) in rows {
            let got = assess(&due, InProgress, &[], &[], today, window);
            assert_eq!(got, expect(urgency), "window {window}, today {today}");
        }
    }

    #[test]
    fn assess_with_no_responsible_parties_listed() {
        use Completion::*;
        let due = Timeframe::parse("2025-10-14", None).expect("parses");
        let today = d(2025, 11, 1);
        let late = expect(Urgency::Overdue { days_late: 18 });
        let done = [simple("KZ", Completed, Complete)];
        let mixed = [
            simple("KZ", Completed, Complete),
            simple("RU", InProgress, Limited),
        ];
        assert_eq!(assess(&due, InProgress, &[], &[], today, 7), late);
        assert_eq!(
            assess(&due, InProgress, &[], &done, today, 7),
            expect(Urgency::Closed)
        );
        assert_eq!(assess(&due, InProgress, &[], &mixed, today, 7), late);
    }

    #[test]
    #[rustfmt::skip]
    fn assessment_from_urgency_mirrors_the_flags() {
        let rows = [
            (Urgency::Closed,                   false, false),
            (Urgency::Suspended,                false, false),
            (Urgency::Unscheduled,              false, false),
            (Urgency::Overdue { days_late: 1 }, true,  false),
            (Urgency::DueSoon { days_left: 0 }, false, true),
            (Urgency::NotYetDue,                false, false),
        ];
        for (urgency, overdue, due_soon) in rows {
            assert_eq!(Assessment::from(urgency), Assessment { urgency, overdue, due_soon });
        }
    }

    #[test]
    fn assessment_serialises_with_a_state_tag() {
        use serde_json::{json, to_value};
        let overdue = to_value(expect(Urgency::Overdue { days_late: 3 })).expect("serialises");
        let expected = json!({
            "urgency": {"state": "overdue", "days_late": 3}, "overdue": true, "due_soon": false
        });
        assert_eq!(overdue, expected);
        let due_soon = to_value(Urgency::DueSoon { days_left: 0 }).expect("serialises");
        assert_eq!(due_soon, json!({"state": "due_soon", "days_left": 0}));
        let not_yet = to_value(Urgency::NotYetDue).expect("serialises");
        assert_eq!(not_yet, json!({"state": "not_yet_due"}));
    }
}
