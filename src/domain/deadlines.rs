//! Dates derived from other dates: the yearly occurrences of an obligation
//! that recurs every year of its programme, and lead-time deadlines ("the
//! list of the delegation 60 days before the start") computed from the
//! current date of their anchor, so they move when the anchor moves.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::kinds::vocabulary;
use super::timeframe::{Period, Timeframe, TimeframeKind};

/// The most days a lead time may count back: ten years (the CHECK of the
/// lead_times table says the same).
pub const MAX_DAYS_BEFORE: i32 = 3660;

vocabulary!(
    /// Which end of its anchor a lead time counts back from: the first day
    /// (of an event, of an obligation's timeframe) or the last.
    LeadTimeAnchor {
        Start = "start",
        End = "end",
    }
);

vocabulary!(
    /// What a lead time hangs on.
    AnchorKind {
        Event = "event",
        Obligation = "obligation",
        Meeting = "meeting",
    }
);

/// One year's occurrence of a yearly obligation: its dates that year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    pub year: i32,
    pub earliest: NaiveDate,
    pub latest: NaiveDate,
}

/// The occurrences of an obligation that recurs every year of its programme,
/// one per calendar year the programme period touches:
///
/// - a timeframe of the programme period, a year, or a year or longer: the
///   calendar year, clipped to the period;
/// - anything shorter: the same month and day span in that year (29 February
///   is 28 February in a common year; a span of whole months keeps ending on
///   its month's last day, so February 2025 is 1-29 February in 2028; a span
///   crossing New Year starts in that year and ends the next, keeping its
///   length), clipped to the period, and left out when nothing is left;
/// - to be agreed: none.
pub fn yearly_occurrences(timeframe: &Timeframe, programme: Period) -> Vec<Occurrence> {
    let (Some(earliest), Some(latest)) = (timeframe.earliest, timeframe.latest) else {
        return Vec::new();
    };
    let whole_year = matches!(
        timeframe.kind,
        TimeframeKind::ProgrammePeriod | TimeframeKind::Year
    ) || spans_a_year(earliest, latest);
    let whole_months = earliest.day() == 1 && is_last_day_of_month(latest);
    let mut occurrences = Vec::new();
    for year in programme.years() {
        let span = if whole_year {
            first_and_last_of(year)
        } else {
            shifted(earliest, latest, year, whole_months)
        };
        let Some((start, end)) = span else { continue };
        let (start, end) = (start.max(programme.start), end.min(programme.end));
        if start <= end {
            occurrences.push(Occurrence {
                year,
                earliest: start,
                latest: end,
            });
        }
    }
    occurrences
}

/// Whether [earliest, latest] covers at least a whole year from its start.
fn spans_a_year(earliest: NaiveDate, latest: NaiveDate) -> bool {
    match (
        earliest.checked_add_months(Months::new(12)),
        latest.succ_opt(),
    ) {
        (Some(year_later), Some(after)) => after >= year_later,
        // At the very end of the calendar: long enough by any measure.
        _ => true,
    }
}

fn first_and_last_of(year: i32) -> Option<(NaiveDate, NaiveDate)> {
    Some((
        NaiveDate::from_ymd_opt(year, 1, 1)?,
        NaiveDate::from_ymd_opt(year, 12, 31)?,
    ))
}

/// The span [earliest, latest] moved to start in `year`.
fn shifted(
    earliest: NaiveDate,
    latest: NaiveDate,
    year: i32,
    whole_months: bool,
) -> Option<(NaiveDate, NaiveDate)> {
    let start = same_day_in(earliest, year)?;
    let end_year = year.checked_add(latest.year() - earliest.year())?;
    let end = if whole_months {
        last_day_of_month(end_year, latest.month())?
    } else {
        same_day_in(latest, end_year)?
    };
    Some((start, end))
}

/// The same month and day in another year; 29 February is 28 February in a common year.
fn same_day_in(day: NaiveDate, year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, day.month(), day.day())
        .or_else(|| last_day_of_month(year, day.month()))
}

fn last_day_of_month(year: i32, month: u32) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    first.checked_add_months(Months::new(1))?.pred_opt()
}

fn is_last_day_of_month(day: NaiveDate) -> bool {
    day.succ_opt()
        .is_none_or(|next| next.month() != day.month())
}

/// The day a lead time falls due: `days_before` days before the anchor's day.
/// None when `days_before` is negative or the result leaves the calendar.
pub fn due_on(anchor_day: NaiveDate, days_before: i32) -> Option<NaiveDate> {
    let days = u64::try_from(days_before).ok()?;
    anchor_day.checked_sub_days(Days::new(days))
}

/// The dates of an anchor as a lead time reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorDates {
    /// An event (its first and last day, local dates), an obligation (earliest
    /// and latest of its timeframe), or a meeting (its date, both ends). No
    /// dates when it is to be agreed.
    ///
    /// A recurring event anchors on its series' first occurrence only (the
    /// event's own first and last day), not on every occurrence.
    Span {
        first: Option<NaiveDate>,
        last: Option<NaiveDate>,
    },
    /// A yearly obligation: one due date per occurrence.
    Yearly(Vec<Occurrence>),
}

/// One due date of a lead time; none (`due_on` empty) while its anchor has no date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DueDate {
    pub due_on: Option<NaiveDate>,
    /// The occurrence it belongs to, for a yearly obligation.
    pub occurrence_year: Option<i32>,
}

/// Every due date of a lead time on an anchor with these dates: one, or one
/// per occurrence of a yearly obligation; a single undated one when the
/// anchor has no date (to be agreed) or a yearly obligation no occurrence.
pub fn due_dates(anchor: LeadTimeAnchor, days_before: i32, dates: &AnchorDates) -> Vec<DueDate> {
    let pick = |first: Option<NaiveDate>, last: Option<NaiveDate>| match anchor {
        LeadTimeAnchor::Start => first,
        LeadTimeAnchor::End => last,
    };
    let undated = DueDate {
        due_on: None,
        occurrence_year: None,
    };
    match dates {
        AnchorDates::Span { first, last } => vec![DueDate {
            due_on: pick(*first, *last).and_then(|d| due_on(d, days_before)),
            occurrence_year: None,
        }],
        AnchorDates::Yearly(occurrences) if occurrences.is_empty() => vec![undated],
        AnchorDates::Yearly(occurrences) => occurrences
            .iter()
            .map(|o| DueDate {
                due_on: pick(Some(o.earliest), Some(o.latest)).and_then(|d| due_on(d, days_before)),
                occurrence_year: Some(o.year),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn period(start: NaiveDate, end: NaiveDate) -> Period {
        Period::new(start, end).expect("a period")
    }

    fn programme() -> Period {
        period(d(2024, 1, 1), d(2026, 12, 31))
    }

    fn occurrences(text: &str, programme: Period) -> Vec<(i32, NaiveDate, NaiveDate)> {
        let timeframe = Timeframe::parse(text, Some(programme)).expect("parses");
        yearly_occurrences(&timeframe, programme)
            .into_iter()
            .map(|o| (o.year, o.earliest, o.latest))
            .collect()
    }

    #[test]
    fn a_quarter_recurs_in_every_year_of_the_programme() {
        assert_eq!(
            occurrences("II quarter 2024", programme()),
            vec![
                (2024, d(2024, 4, 1), d(2024, 6, 30)),
                (2025, d(2025, 4, 1), d(2025, 6, 30)),
                (2026, d(2026, 4, 1), d(2026, 6, 30)),
            ]
        );
        // Written for a later year, it still recurs from the first.
        assert_eq!(
            occurrences("2025-10-14", programme()),
            vec![
                (2024, d(2024, 10, 14), d(2024, 10, 14)),
                (2025, d(2025, 10, 14), d(2025, 10, 14)),
                (2026, d(2026, 10, 14), d(2026, 10, 14)),
            ]
        );
    }

    #[test]
    fn the_programme_period_a_year_or_longer_is_each_calendar_year() {
        let years = vec![
            (2024, d(2024, 1, 1), d(2024, 12, 31)),
            (2025, d(2025, 1, 1), d(2025, 12, 31)),
            (2026, d(2026, 1, 1), d(2026, 12, 31)),
        ];
        assert_eq!(occurrences("programme period", programme()), years);
        assert_eq!(occurrences("2025", programme()), years);
        assert_eq!(occurrences("2024-2025", programme()), years);
        // Exactly a year, not starting on 1 January, is still a year.
        assert_eq!(occurrences("2024-03-01..2025-02-28", programme()), years);
        // A day less is a span and recurs as one.
        assert_eq!(
            occurrences("2024-03-01..2025-02-27", programme()),
            vec![
                (2024, d(2024, 3, 1), d(2025, 2, 27)),
                (2025, d(2025, 3, 1), d(2026, 2, 27)),
                (2026, d(2026, 3, 1), d(2026, 12, 31)),
            ]
        );
    }

    #[test]
    fn years_are_clipped_to_a_period_that_starts_or_ends_mid_year() {
        let mid = period(d(2024, 7, 1), d(2026, 6, 30));
        assert_eq!(
            occurrences("programme period", mid),
            vec![
                (2024, d(2024, 7, 1), d(2024, 12, 31)),
                (2025, d(2025, 1, 1), d(2025, 12, 31)),
                (2026, d(2026, 1, 1), d(2026, 6, 30)),
            ]
        );
        // II quarter: nothing of it is left in 2024; the clip leaves that year out.
        assert_eq!(
            occurrences("II quarter 2025", mid),
            vec![
                (2025, d(2025, 4, 1), d(2025, 6, 30)),
                (2026, d(2026, 4, 1), d(2026, 6, 30)),
            ]
        );
        // A span cut by the period keeps the part inside it.
        assert_eq!(
            occurrences("2025-06-15..2025-07-15", mid),
            vec![
                (2024, d(2024, 7, 1), d(2024, 7, 15)),
                (2025, d(2025, 6, 15), d(2025, 7, 15)),
                (2026, d(2026, 6, 15), d(2026, 6, 30)),
            ]
        );
    }

    #[test]
    fn leap_days() {
        let leap = period(d(2027, 1, 1), d(2029, 12, 31));
        // 29 February falls on 28 February in common years.
        assert_eq!(
            occurrences("2028-02-29", leap),
            vec![
                (2027, d(2027, 2, 28), d(2027, 2, 28)),
                (2028, d(2028, 2, 29), d(2028, 2, 29)),
                (2029, d(2029, 2, 28), d(2029, 2, 28)),
            ]
        );
        // February as a month is the whole month every year.
        assert_eq!(
            occurrences("2027-02", leap),
            vec![
                (2027, d(2027, 2, 1), d(2027, 2, 28)),
                (2028, d(2028, 2, 1), d(2028, 2, 29)),
                (2029, d(2029, 2, 1), d(2029, 2, 28)),
            ]
        );
        // A single 28 February stays one day in a leap year.
        assert_eq!(
            occurrences("2027-02-28", leap)[1],
            (2028, d(2028, 2, 28), d(2028, 2, 28))
        );
        // A span ending on 29 February ends on 28 February in a common year.
        assert_eq!(
            occurrences("2028-02-20..2028-02-29", leap),
            vec![
                (2027, d(2027, 2, 20), d(2027, 2, 28)),
                (2028, d(2028, 2, 20), d(2028, 2, 29)),
                (2029, d(2029, 2, 20), d(2029, 2, 28)),
            ]
        );
    }

    #[test]
    fn a_span_crossing_new_year_keeps_its_length() {
        assert_eq!(
            occurrences("2024-12-15..2025-01-15", programme()),
            vec![
                (2024, d(2024, 12, 15), d(2025, 1, 15)),
                (2025, d(2025, 12, 15), d(2026, 1, 15)),
                // The last year's runs past the programme: clipped.
                (2026, d(2026, 12, 15), d(2026, 12, 31)),
            ]
        );
        // Whole months across New Year end on the last day of February, leap or not.
        let leap = period(d(2026, 1, 1), d(2028, 12, 31));
        assert_eq!(
            occurrences("2026-12..2027-02", leap),
            vec![
                (2026, d(2026, 12, 1), d(2027, 2, 28)),
                (2027, d(2027, 12, 1), d(2028, 2, 29)),
                (2028, d(2028, 12, 1), d(2028, 12, 31)),
            ]
        );
    }

    #[test]
    fn to_be_agreed_has_no_occurrences() {
        assert_eq!(occurrences("to be agreed", programme()), vec![]);
        assert_eq!(occurrences("по согласованию", programme()), vec![]);
    }

    #[test]
    fn due_on_counts_days_back() {
        assert_eq!(due_on(d(2025, 6, 10), 60), Some(d(2025, 4, 11)));
        assert_eq!(due_on(d(2025, 6, 10), 0), Some(d(2025, 6, 10)));
        // Across a leap day and a year end.
        assert_eq!(due_on(d(2024, 3, 1), 1), Some(d(2024, 2, 29)));
        assert_eq!(due_on(d(2025, 3, 1), 1), Some(d(2025, 2, 28)));
        assert_eq!(due_on(d(2025, 1, 10), 14), Some(d(2024, 12, 27)));
        assert_eq!(
            due_on(d(2025, 1, 1), MAX_DAYS_BEFORE),
            Some(d(2014, 12, 25))
        );
        assert_eq!(due_on(d(2025, 1, 1), -1), None);
    }

    #[test]
    fn due_dates_follow_the_chosen_end_of_the_anchor() {
        let event = AnchorDates::Span {
            first: Some(d(2025, 6, 10)),
            last: Some(d(2025, 6, 14)),
        };
        let one = |due: NaiveDate| {
            vec![DueDate {
                due_on: Some(due),
                occurrence_year: None,
            }]
        };
        assert_eq!(
            due_dates(LeadTimeAnchor::Start, 60, &event),
            one(d(2025, 4, 11))
        );
        assert_eq!(
            due_dates(LeadTimeAnchor::End, 14, &event),
            one(d(2025, 5, 31))
        );
        let undated = vec![DueDate {
            due_on: None,
            occurrence_year: None,
        }];
        let to_be_agreed = AnchorDates::Span {
            first: None,
            last: None,
        };
        assert_eq!(due_dates(LeadTimeAnchor::Start, 14, &to_be_agreed), undated);
        assert_eq!(
            due_dates(LeadTimeAnchor::End, 14, &AnchorDates::Yearly(vec![])),
            undated
        );
        let timeframe = Timeframe::parse("II quarter 2024", Some(programme())).expect("parses");
        let yearly = AnchorDates::Yearly(yearly_occurrences(&timeframe, programme()));
        let per_year: Vec<(Option<NaiveDate>, Option<i32>)> =
            due_dates(LeadTimeAnchor::End, 30, &yearly)
                .into_iter()
                .map(|due| (due.due_on, due.occurrence_year))
                .collect();
        assert_eq!(
            per_year,
            vec![
                (Some(d(2024, 5, 31)), Some(2024)),
                (Some(d(2025, 5, 31)), Some(2025)),
                (Some(d(2026, 5, 31)), Some(2026)),
            ]
        );
    }

    #[test]
    fn vocabulary_words() {
        assert_eq!(LeadTimeAnchor::parse("start"), Some(LeadTimeAnchor::Start));
        assert_eq!(LeadTimeAnchor::parse("end"), Some(LeadTimeAnchor::End));
        assert_eq!(LeadTimeAnchor::parse("middle"), None);
        assert_eq!(AnchorKind::Meeting.as_str(), "meeting");
    }
}
