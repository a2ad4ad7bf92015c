//! The month calendar's lines from calendar entries (the ones the feeds are
//! built of): whole-day entries on each of their days in the month, timed
//! ones on their local start day at their local wall time in their own zone,
//! series expanded over the month without removed or separately given
//! occurrences, cancelled entries left out.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::pages::CalendarItem;
use crate::calendar::{Entry, EntryStatus, Occurrence, When};
use crate::domain::recurrence::{
    occurrence_instant, OccurrenceTime, RecurrenceId, Series, SeriesStart,
};

/// Occurrences of one series shown in a month at most (a daily rule gives 31).
const MAX_PER_SERIES: usize = 62;

fn occurrence_of(id: RecurrenceId) -> Occurrence {
    match id {
        RecurrenceId::Timed(t) => Occurrence::Timed(t),
        RecurrenceId::AllDay(d) => Occurrence::AllDay(d),
    }
}

fn series_of(when: &When, rule: &str) -> Option<Series> {
    let start = match *when {
        When::Timed { start, end, zone } => SeriesStart::Timed {
            start,
            end,
            zone,
            starts_at: occurrence_instant(start, zone),
            ends_at: end.map(|e| occurrence_instant(e, zone)),
        },
        When::AllDay { first, last } => SeriesStart::AllDay { first, last },
    };
    Series::new(start, Some(rule), &[]).ok()
}

fn push_days(
    out: &mut Vec<CalendarItem>,
    (first, last): (NaiveDate, NaiveDate),
    (from, to): (NaiveDate, NaiveDate),
    summary: &str,
    deadline: bool,
) {
    let mut day = first.max(from);
    while day <= last.min(to) {
        out.push(CalendarItem {
            day,
            time: None,
            summary: summary.to_string(),
            deadline,
        });
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
}

fn push_when(
    out: &mut Vec<CalendarItem>,
    when: &When,
    window: (NaiveDate, NaiveDate),
    summary: &str,
    deadline: bool,
) {
    match *when {
        When::AllDay { first, last } => push_days(out, (first, last), window, summary, deadline),
        When::Timed { start, zone, .. } => {
            let day = start.date();
            if day >= window.0 && day <= window.1 {
                out.push(CalendarItem {
                    day,
                    time: Some(format!("{} {}", start.format("%H:%M"), zone.name())),
                    summary: summary.to_string(),
                    deadline,
                });
            }
        }
    }
}

/// The lines of the month [first, last], sorted by day, then time, then text.
pub fn month_items(entries: &[Entry], first: NaiveDate, last: NaiveDate) -> Vec<CalendarItem> {
    let overridden: BTreeSet<(&str, Occurrence)> = entries
        .iter()
        .filter_map(|e| e.recurrence_id.map(|r| (e.uid.as_str(), r)))
        .collect();
    let mut out = Vec::new();
    for e in entries {
        if e.status == EntryStatus::Cancelled {
            continue;
        }
        let deadline = e.categories.iter().any(|c| c == "deadline");
        let series = match (&e.rrule, e.recurrence_id) {
            (Some(rule), None) => series_of(&e.when, rule),
            _ => None,
        };
        let Some(series) = series else {
            push_when(&mut out, &e.when, (first, last), &e.summary, deadline);
            continue;
        };
        for occ in series
            .occurrences(first, last, MAX_PER_SERIES, &[])
            .occurrences
        {
            let id = occurrence_of(occ.recurrence_id);
            if e.exdates.contains(&id) || overridden.contains(&(e.uid.as_str(), id)) {
                continue;
            }
            let when = match (occ.when, &e.when) {
                (OccurrenceTime::Timed { start, end, .. }, When::Timed { zone, .. }) => {
                    When::Timed {
                        start,
                        end,
                        zone: *zone,
                    }
                }
                (other, _) => {
                    let (first, last) = other.days();
                    When::AllDay { first, last }
                }
            };
            push_when(&mut out, &when, (first, last), &e.summary, deadline);
        }
    }
    out.sort_by(|a, b| (a.day, &a.time, &a.summary).cmp(&(b.day, &b.time, &b.summary)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDateTime, Utc};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn entry(uid: &str, when: When, rrule: Option<&str>) -> Entry {
        Entry {
            uid: uid.into(),
            summary: uid.into(),
            description: None,
            location: None,
            status: EntryStatus::Confirmed,
            sequence: 0,
            last_modified: Utc::now(),
            created: None,
            when,
            rrule: rrule.map(str::to_string),
            exdates: vec![],
            recurrence_id: None,
            categories: vec![],
            url: None,
        }
    }

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").expect("time")
    }

    #[test]
    fn days_of_spans_series_and_overrides_in_the_month() {
        let zone: chrono_tz::Tz = "Asia/Almaty".parse().expect("zone");
        let mut weekly = entry(
            "weekly",
            When::Timed {
                start: at("2025-06-24T10:00"),
                end: None,
                zone,
            },
            Some("FREQ=WEEKLY;COUNT=4"),
        );
        weekly.exdates = vec![Occurrence::Timed(at("2025-07-01T10:00"))];
        let mut moved = entry(
            "weekly",
            When::Timed {
                start: at("2025-07-09T15:00"),
                end: None,
                zone,
            },
            None,
        );
        moved.recurrence_id = Some(Occurrence::Timed(at("2025-07-08T10:00")));
        let span = entry(
            "days",
            When::AllDay {
                first: d(2025, 6, 30),
                last: d(2025, 7, 2),
            },
            None,
        );
        let mut gone = entry(
            "gone",
            When::AllDay {
                first: d(2025, 7, 5),
                last: d(2025, 7, 5),
            },
            None,
        );
        gone.status = EntryStatus::Cancelled;
        let items = month_items(&[weekly, moved, span, gone], d(2025, 7, 1), d(2025, 7, 31));
        let got: Vec<(NaiveDate, Option<&str>, &str)> = items
            .iter()
            .map(|i| (i.day, i.time.as_deref(), i.summary.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (d(2025, 7, 1), None, "days"),
                (d(2025, 7, 2), None, "days"),
                (d(2025, 7, 9), Some("15:00 Asia/Almaty"), "weekly"),
                (d(2025, 7, 15), Some("10:00 Asia/Almaty"), "weekly"),
            ]
        );
    }
}
