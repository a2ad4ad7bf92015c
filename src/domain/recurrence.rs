//! Recurring events (RFC 5545): a rule (RRULE) anchored on the event's start,
//! occurrences removed from it (EXDATE), and occurrences moved one by one
//! (RECURRENCE-ID). The rule is expanded by the `rrule` crate, always within
//! a window and under hard caps: an unbounded rule is never expanded whole.
//!
//! Rules are expanded in local wall time (RFC 5545 defines them so: a weekly
//! meeting at 10:00 stays at 10:00 across daylight-saving changes), and each
//! occurrence's instant is derived from its wall time under the running zone
//! rules. So a 10:00 series in Asia/Almaty is 04:00Z before 2024-03-01 and
//! 05:00Z after.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use rrule::{Frequency, RRule, RRuleSet, Unvalidated, Validated};

/// At most this many occurrences come out of one expansion.
pub const MAX_OCCURRENCES: usize = 1000;

/// At most this many occurrences are generated while walking a rule from its
/// start (to reach a window, find an occurrence, or the end of a bounded
/// rule): a daily rule over the three centuries the databases store is about
/// 110 000. Past it, the walk stops and says it was cut short.
pub const MAX_GENERATED: usize = 200_000;

/// The last day an occurrence may be on: the end of the years the databases
/// store. It is also the `latest` of a series without an end.
pub const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2200, 12, 31) {
    Some(d) => d,
    None => panic!("2200-12-31 is a date"),
};

/// The first day an occurrence may be on (the first of the years stored).
const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("1900-01-01 is a date"),
};

/// A rejected rule or exdate: the request field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurrenceError {
    pub field: String,
    pub reason: String,
}

impl RecurrenceError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        RecurrenceError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Which occurrence of a series: its original start (RFC 5545 RECURRENCE-ID),
/// a local wall time in the series' zone, or a date for an all-day series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecurrenceId {
    Timed(NaiveDateTime),
    AllDay(NaiveDate),
}

impl RecurrenceId {
    /// Parses the API's form: "2025-07-01T10:00" (seconds allowed) for a
    /// timed series, "2025-07-01" for an all-day one.
    pub fn parse(text: &str, all_day: bool) -> Result<RecurrenceId, String> {
        let text = text.trim();
        if all_day {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(RecurrenceId::AllDay)
                .map_err(|_| {
                    format!("`{text}` is not a date: an all-day series names its occurrences by date, e.g. 2025-07-01")
                })
        } else {
            ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
                .iter()
                .find_map(|form| NaiveDateTime::parse_from_str(text, form).ok())
                .map(RecurrenceId::Timed)
                .ok_or_else(|| {
                    format!("`{text}` is not a local date and time: a timed series names its occurrences by their original local start, e.g. 2025-07-01T10:00")
                })
        }
    }

    /// The original start as stored: midnight for an all-day occurrence.
    pub fn local(&self) -> NaiveDateTime {
        match *self {
            RecurrenceId::Timed(t) => t,
            RecurrenceId::AllDay(d) => d.and_time(chrono::NaiveTime::MIN),
        }
    }

    /// The id of a stored original start.
    pub fn from_local(local: NaiveDateTime, all_day: bool) -> RecurrenceId {
        if all_day {
            RecurrenceId::AllDay(local.date())
        } else {
            RecurrenceId::Timed(local)
        }
    }
}

impl fmt::Display for RecurrenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecurrenceId::Timed(t) if t.second() == 0 => {
                write!(f, "{}", t.format("%Y-%m-%dT%H:%M"))
            }
            RecurrenceId::Timed(t) => write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S")),
            RecurrenceId::AllDay(d) => write!(f, "{}", d.format("%Y-%m-%d")),
        }
    }
}

/// The first occurrence of a series, on which its rule is anchored (DTSTART).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesStart {
    /// Local wall times in an IANA zone, with the instants the event has
    /// (which may be the later reading of an ambiguous time).
    Timed {
        start: NaiveDateTime,
        end: Option<NaiveDateTime>,
        zone: Tz,
        starts_at: DateTime<Utc>,
        ends_at: Option<DateTime<Utc>>,
    },
    /// Whole days, `last` inclusive; every occurrence keeps the length.
    AllDay { first: NaiveDate, last: NaiveDate },
}

impl SeriesStart {
    fn is_all_day(&self) -> bool {
        matches!(self, SeriesStart::AllDay { .. })
    }

    fn local(&self) -> NaiveDateTime {
        match *self {
            SeriesStart::Timed { start, .. } => start,
            SeriesStart::AllDay { first, .. } => first.and_time(chrono::NaiveTime::MIN),
        }
    }
}

/// When one occurrence happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OccurrenceTime {
    Timed {
        start: NaiveDateTime,
        end: Option<NaiveDateTime>,
        starts_at: DateTime<Utc>,
        ends_at: Option<DateTime<Utc>>,
    },
    AllDay {
        first: NaiveDate,
        last: NaiveDate,
    },
}

impl OccurrenceTime {
    /// The local days it takes, inclusive. A timed occurrence ending at
    /// midnight does not take the day that midnight starts.
    pub fn days(&self) -> (NaiveDate, NaiveDate) {
        match *self {
            OccurrenceTime::AllDay { first, last } => (first, last),
            OccurrenceTime::Timed { start, end, .. } => {
                let first = start.date();
                let last = match end {
                    Some(end) if end > start && end.time() == chrono::NaiveTime::MIN => {
                        end.date().pred_opt().unwrap_or(first)
                    }
                    Some(end) => end.date(),
                    None => first,
                };
                (first, last.max(first))
            }
        }
    }

    /// The instants it takes, [start, end): a timed occurrence without an
    /// end counts as one hour. None for an all-day occurrence.
    pub fn instants(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        match *self {
            OccurrenceTime::Timed {
                starts_at, ends_at, ..
            } => {
                let end = ends_at
                    .filter(|e| *e > starts_at)
                    .unwrap_or(starts_at + Duration::hours(1));
                Some((starts_at, end))
            }
            OccurrenceTime::AllDay { .. } => None,
        }
    }

    /// Whether two occurrences overlap: two timed ones by their instants
    /// [start, end) (an hour when there is no end), otherwise by local days.
    pub fn overlaps(&self, other: &OccurrenceTime) -> bool {
        match (self.instants(), other.instants()) {
            (Some((s1, e1)), Some((s2, e2))) => s1 < e2 && s2 < e1,
            _ => {
                let ((f1, l1), (f2, l2)) = (self.days(), other.days());
                f1 <= l2 && f2 <= l1
            }
        }
    }

    fn sort_key(&self) -> (NaiveDate, Option<DateTime<Utc>>) {
        match *self {
            OccurrenceTime::Timed { starts_at, .. } => (self.days().0, Some(starts_at)),
            OccurrenceTime::AllDay { first, .. } => (first, None),
        }
    }
}

/// One occurrence of a series: which one, and when it happens (moved or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub recurrence_id: RecurrenceId,
    pub when: OccurrenceTime,
    /// Whether `when` is a per-occurrence change, not the rule's time.
    pub moved: bool,
}

/// An occurrence given its own time (the stored per-occurrence change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub recurrence_id: RecurrenceId,
    pub when: OccurrenceTime,
}

/// The occurrences of a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    pub occurrences: Vec<Occurrence>,
    /// More occurrences fall in the window than were given (the cap), or
    /// the walk to the window was cut short at [`MAX_GENERATED`].
    pub truncated: bool,
}

/// How a bounded rule ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    /// UNTIL of a timed series: the last instant an occurrence may start.
    Instant(DateTime<Utc>),
    /// UNTIL of an all-day series: the last day an occurrence may start.
    Day(NaiveDate),
}

#[derive(Debug, Clone)]
struct Rule {
    /// As stored and sent to calendars: upper case, without `RRULE:`.
    text: String,
    /// Validated against the start taken as a UTC wall clock: the crate then
    /// expands in wall time, free of any zone's gaps and overlaps.
    rrule: RRule<Validated>,
    until: Option<Until>,
    bounded: bool,
}

/// A series: the start, the rule (none for a single event) and the removed occurrences.
#[derive(Debug, Clone)]
pub struct Series {
    start: SeriesStart,
    rule: Option<Rule>,
    exdates: BTreeSet<RecurrenceId>,
}

/// The instant of an occurrence's local start in `zone`. A wall time that
/// occurs twice is its earlier instant, and one in a daylight-saving gap is
/// read with the offset before the gap (RFC 5545, 3.3.5): a 02:30 occurrence
/// on the night the clocks jump from 02:00 to 03:00 happens at 03:30.
pub fn occurrence_instant(local: NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            // Gaps last hours (a day at worst): the offset a minute before it starts.
            let offset = (1..=26 * 60)
                .find_map(|m| {
                    zone.from_local_datetime(&(local - Duration::minutes(m)))
                        .latest()
                        .map(|t| t.offset().fix())
                })
                .unwrap_or(Utc.fix());
            Utc.from_utc_datetime(&(local - Duration::seconds(i64::from(offset.local_minus_utc()))))
        }
    }
}

/// The wall time of a local start taken as UTC: how the crate sees it.
fn wall_clock(local: NaiveDateTime) -> DateTime<rrule::Tz> {
    rrule::Tz::UTC.from_utc_datetime(&local)
}

/// Parses UNTIL (basic ISO 8601 as RFC 5545 writes it).
fn parse_until(value: &str, start: &SeriesStart) -> Result<Until, String> {
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y%m%d").ok();
    match start {
        SeriesStart::Timed { .. } => value
            .strip_suffix('Z')
            .and_then(|v| NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S").ok())
            .map(|t| Until::Instant(t.and_utc()))
            .ok_or_else(|| {
                format!("UNTIL={value}: an event with a start time ends its rule at a UTC date and time, e.g. UNTIL=20251231T235959Z (RFC 5545)")
            }),
        SeriesStart::AllDay { .. } => date(value).map(Until::Day).ok_or_else(|| {
            format!("UNTIL={value}: an all-day event ends its rule on a date, e.g. UNTIL=20251231 (RFC 5545)")
        }),
    }
}

fn crate_message(e: &rrule::RRuleError) -> String {
    match e {
        rrule::RRuleError::ParserError(p) => p.to_string(),
        rrule::RRuleError::ValidationError(v) => v.to_string(),
        rrule::RRuleError::IterError(s) => s.clone(),
    }
}

/// Checks a rule against the series' start; the error is the reason.
fn parse_rule(text: &str, start: &SeriesStart) -> Result<Rule, String> {
    let trimmed = text.trim();
    let body = if trimmed.len() >= 6 && trimmed[..6].eq_ignore_ascii_case("RRULE:") {
        &trimmed[6..]
    } else {
        trimmed
    };
    let body = body.to_ascii_uppercase();
    if body.is_empty() {
        return Err(
            "is empty: give a rule such as FREQ=WEEKLY;BYDAY=TU;COUNT=10, or leave `rrule` out"
                .into(),
        );
    }
    if body.len() > 500 {
        return Err("is longer than 500 characters".into());
    }
    if let Some(c) = body
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '=' | ';' | ',' | '+' | '-')))
    {
        return Err(format!(
            "`{c}` cannot be in a rule: write it as RFC 5545 does, e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=10"
        ));
    }
    let mut parts = Vec::new();
    let mut until = None;
    let mut count = false;
    for part in body.split(';') {
        let (name, value) = part.split_once('=').ok_or_else(|| {
            format!("`{part}` is not NAME=VALUE; write e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=10")
        })?;
        match name {
            "UNTIL" => {
                if until.is_some() {
                    return Err("UNTIL is given twice".into());
                }
                until = Some(parse_until(value, start)?);
            }
            "DTSTART" => {
                return Err(
                    "DTSTART is not part of a rule: the event's start is the rule's start".into(),
                )
            }
            "COUNT" => {
                count = true;
                parts.push(part);
            }
            _ => parts.push(part),
        }
    }
    if count && until.is_some() {
        return Err(
            "COUNT and UNTIL cannot both be given (RFC 5545): end the rule with one of them".into(),
        );
    }
    let parsed: RRule<Unvalidated> = parts
        .join(";")
        .parse()
        .map_err(|e| format!("is not a recurrence rule: {}", crate_message(&e)))?;
    match parsed.get_freq() {
        Frequency::Secondly | Frequency::Minutely | Frequency::Hourly => {
            return Err(format!(
            "FREQ={} is not allowed: events recur at most daily (DAILY, WEEKLY, MONTHLY or YEARLY)",
            parsed.get_freq()
        ))
        }
        _ => {}
    }
    if start.is_all_day()
        && !(parsed.get_by_hour().is_empty()
            && parsed.get_by_minute().is_empty()
            && parsed.get_by_second().is_empty())
    {
        return Err("BYHOUR, BYMINUTE and BYSECOND do not apply to an all-day event".into());
    }
    if parsed.get_count() == Some(0) {
        return Err("COUNT must be at least 1".into());
    }
    let dtstart = wall_clock(start.local());
    let parsed = match until {
        None => parsed,
        Some(until) => {
            // The crate compares UNTIL with wall times: the wall time of the
            // UNTIL instant in the series' zone (instants are checked again).
            let wall = match (until, start) {
                (Until::Instant(at), SeriesStart::Timed { zone, .. }) => {
                    at.with_timezone(zone).naive_local()
                }
                (Until::Day(d), _) => d
                    .and_hms_opt(23, 59, 59)
                    .unwrap_or(d.and_time(chrono::NaiveTime::MIN)),
                (Until::Instant(at), SeriesStart::AllDay { .. }) => at.naive_utc(),
            };
            let first_start = match start {
                SeriesStart::Timed { starts_at, .. } => Until::Instant(*starts_at),
                SeriesStart::AllDay { first, .. } => Until::Day(*first),
            };
            let before = match (until, first_start) {
                (Until::Instant(u), Until::Instant(s)) => u < s,
                (Until::Day(u), Until::Day(s)) => u < s,
                _ => false,
            };
            if before {
                return Err(format!(
                    "UNTIL is before the event's start {}: the rule would have no occurrence",
                    RecurrenceId::from_local(start.local(), start.is_all_day())
                ));
            }
            parsed.until(wall_clock(wall))
        }
    };
    let bounded = parsed.get_count().is_some() || until.is_some();
    let rrule = parsed
        .validate(dtstart)
        .map_err(|e| format!("is not a valid rule for this start: {}", crate_message(&e)))?;
    let text = {
        // Stored as given (upper case), without `RRULE:`.
        body
    };
    let rule = Rule {
        text,
        rrule,
        until,
        bounded,
    };
    Ok(rule)
}

impl Series {
    /// A series from the event's start, its rule (None for an event that
    /// does not recur) and its exdates (original local starts, in the form
    /// of [`RecurrenceId::parse`]). Errors name the field: `rrule`,
    /// `exdates` or `exdates[i]`.
    pub fn new(
        start: SeriesStart,
        rrule: Option<&str>,
        exdates: &[String],
    ) -> Result<Series, Vec<RecurrenceError>> {
        let rule = match rrule {
            None => None,
            Some(text) => Some(
                parse_rule(text, &start)
                    .map_err(|reason| vec![RecurrenceError::new("rrule", reason)])?,
            ),
        };
        let mut series = Series {
            start,
            rule,
            exdates: BTreeSet::new(),
        };
        if series.rule.is_none() {
            if !exdates.is_empty() {
                return Err(vec![RecurrenceError::new(
                    "exdates",
                    "only a recurring event (one with `rrule`) has exdates",
                )]);
            }
            return Ok(series);
        }
        // The rule must start where the event starts (RFC 5545 leaves a start
        // off the rule undefined; calendar clients disagree on it).
        let first = series.rule_starts().next();
        if first != Some(start.local()) {
            let reason = match first {
                Some(first) => format!(
                    "the rule's first occurrence is {}, not the event's start {}: start the event on an occurrence of its rule",
                    RecurrenceId::from_local(first, start.is_all_day()),
                    RecurrenceId::from_local(start.local(), start.is_all_day())
                ),
                None => "the rule gives no occurrence".to_string(),
            };
            return Err(vec![RecurrenceError::new("rrule", reason)]);
        }
        if exdates.len() > MAX_OCCURRENCES {
            return Err(vec![RecurrenceError::new(
                "exdates",
                format!("at most {MAX_OCCURRENCES} occurrences can be removed"),
            )]);
        }
        let mut errors = Vec::new();
        let mut wanted = BTreeSet::new();
        for (i, text) in exdates.iter().enumerate() {
            let field = format!("exdates[{i}]");
            match RecurrenceId::parse(text, start.is_all_day()) {
                Err(reason) => errors.push(RecurrenceError::new(field, reason)),
                Ok(id) if !wanted.insert(id) => errors.push(RecurrenceError::new(
                    field,
                    format!("`{id}` is named twice"),
                )),
                Ok(id) if !series.is_occurrence(id) => errors.push(RecurrenceError::new(
                    field,
                    format!("`{id}` is not an occurrence of the series"),
                )),
                Ok(_) => {}
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        series.exdates = wanted;
        if series.rule.as_ref().is_some_and(|r| r.bounded)
            && series
                .rule_starts()
                .take(series.exdates.len() + 1)
                .all(|l| series.exdates.contains(&series.id_of(l)))
        {
            return Err(vec![RecurrenceError::new(
                "exdates",
                "removes every occurrence of the series: delete the event instead",
            )]);
        }
        Ok(series)
    }

    /// The rule as stored (upper case, without `RRULE:`), if the event recurs.
    pub fn rule(&self) -> Option<&str> {
        self.rule.as_ref().map(|r| r.text.as_str())
    }

    pub fn is_recurring(&self) -> bool {
        self.rule.is_some()
    }

    /// Whether the series ends (COUNT or UNTIL, or does not recur).
    pub fn is_bounded(&self) -> bool {
        self.rule.as_ref().is_none_or(|r| r.bounded)
    }

    pub fn start(&self) -> &SeriesStart {
        &self.start
    }

    /// The removed occurrences, in order.
    pub fn exdates(&self) -> Vec<RecurrenceId> {
        self.exdates.iter().copied().collect()
    }

    /// Whether an occurrence has been removed (EXDATE).
    pub fn is_excluded(&self, id: RecurrenceId) -> bool {
        self.exdates.contains(&id)
    }

    fn id_of(&self, local: NaiveDateTime) -> RecurrenceId {
        RecurrenceId::from_local(local, self.start.is_all_day())
    }

    /// Local starts the rule gives, in order, from the series' start, up to
    /// [`LAST_DAY`] and at most [`MAX_GENERATED`] + 1 of them (so a caller can
    /// tell it was cut short). Exdates are not applied.
    fn rule_starts(&self) -> Box<dyn Iterator<Item = NaiveDateTime> + '_> {
        let Some(rule) = &self.rule else {
            return Box::new(std::iter::once(self.start.local()));
        };
        let end = LAST_DAY
            .and_hms_opt(23, 59, 59)
            .unwrap_or(LAST_DAY.and_time(chrono::NaiveTime::MIN));
        let set = RRuleSet::new(wall_clock(self.start.local()))
            .rrule(rule.rrule.clone())
            .limit();
        let start = self.start;
        let until = rule.until;
        Box::new(
            set.into_iter()
                .map(|t| t.naive_utc())
                .take_while(move |l| *l <= end)
                .filter(move |l| match (until, start) {
                    (Some(Until::Instant(u)), SeriesStart::Timed { zone, .. }) => {
                        *l == start.local() || occurrence_instant(*l, zone) <= u
                    }
                    _ => true,
                })
                .take(MAX_GENERATED + 1),
        )
    }

    /// When the occurrence starting at `local` (a start of the rule) happens.
    fn time_at(&self, local: NaiveDateTime) -> OccurrenceTime {
        match self.start {
            SeriesStart::AllDay { first, last } => {
                let days = (last - first).num_days();
                let first = local.date();
                OccurrenceTime::AllDay {
                    first,
                    last: first + Duration::days(days),
                }
            }
            SeriesStart::Timed {
                start,
                end,
                zone,
                starts_at,
                ends_at,
            } => {
                // The first occurrence is the event itself, with its instant
                // (possibly the later reading of an ambiguous time).
                let at = if local == start {
                    starts_at
                } else {
                    occurrence_instant(local, zone)
                };
                // RFC 5545: every occurrence lasts the exact duration DTEND - DTSTART.
                let ends = match (end, ends_at) {
                    (Some(_), Some(ends_at)) => Some(at + (ends_at - starts_at)),
                    _ => None,
                };
                OccurrenceTime::Timed {
                    start: local,
                    end: ends.map(|e| e.with_timezone(&zone).naive_local()),
                    starts_at: at,
                    ends_at: ends,
                }
            }
        }
    }

    /// Whether the rule gives this occurrence (exdates aside).
    pub fn is_occurrence(&self, id: RecurrenceId) -> bool {
        if id.local() < self.start.local() || self.id_of(id.local()) != id {
            return false;
        }
        self.rule_starts()
            .take_while(|l| *l <= id.local())
            .any(|l| l == id.local())
    }

    /// The rule's time of one occurrence; None when the rule does not give
    /// it or it was removed.
    pub fn occurrence(&self, id: RecurrenceId) -> Option<OccurrenceTime> {
        (!self.is_excluded(id) && self.is_occurrence(id)).then(|| self.time_at(id.local()))
    }

    /// The occurrences that take a day of [from, to] (local dates), at most
    /// `max` (and never more than [`MAX_OCCURRENCES`]), in order. `moved`
    /// are per-occurrence changes: such an occurrence is listed at its new
    /// time, in the window if that time is.
    pub fn occurrences(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        max: usize,
        moved: &[Moved],
    ) -> Expansion {
        let max = max.min(MAX_OCCURRENCES);
        let moved: BTreeMap<RecurrenceId, OccurrenceTime> = moved
            .iter()
            .filter(|m| !self.is_excluded(m.recurrence_id))
            .map(|m| (m.recurrence_id, m.when))
            .collect();
        let in_window = |when: &OccurrenceTime| {
            let (first, last) = when.days();
            first <= to && last >= from
        };
        let mut occurrences = Vec::new();
        let mut truncated = false;
        for (n, local) in self.rule_starts().enumerate() {
            if n >= MAX_GENERATED {
                truncated = true;
                break;
            }
            if local.date() > to {
                break;
            }
            let id = self.id_of(local);
            if moved.contains_key(&id) || self.is_excluded(id) {
                continue;
            }
            let when = self.time_at(local);
            if !in_window(&when) {
                continue;
            }
            if occurrences.len() == max {
                truncated = true;
                break;
            }
            occurrences.push(Occurrence {
                recurrence_id: id,
                when,
                moved: false,
            });
        }
        occurrences.extend(
            moved
                .iter()
                .filter(|(_, when)| in_window(when))
                .map(|(id, when)| Occurrence {
                    recurrence_id: *id,
                    when: *when,
                    moved: true,
                }),
        );
        occurrences.sort_by_key(|o| (o.when.sort_key(), o.recurrence_id));
        if occurrences.len() > max {
            occurrences.truncate(max);
            truncated = true;
        }
        Expansion {
            occurrences,
            truncated,
        }
    }

    /// The first and last day of the series: from its first occurrence's
    /// first day to its last occurrence's last day, with moved occurrences
    /// counted where they now are. A series without an end (or one longer
    /// than [`MAX_GENERATED`]) lasts until [`LAST_DAY`].
    pub fn span(&self, moved: &[Moved]) -> (NaiveDate, NaiveDate) {
        let moved: BTreeMap<RecurrenceId, OccurrenceTime> = moved
            .iter()
            .filter(|m| !self.is_excluded(m.recurrence_id))
            .map(|m| (m.recurrence_id, m.when))
            .collect();
        let mut earliest: Option<NaiveDate> = None;
        let mut latest: Option<NaiveDate> = None;
        let mut widen = |when: &OccurrenceTime| {
            let (first, last) = when.days();
            earliest = Some(earliest.map_or(first, |e| e.min(first)));
            latest = Some(latest.map_or(last, |l| l.max(last)));
        };
        for when in moved.values() {
            widen(when);
        }
        let bounded = self.is_bounded();
        let mut cut_short = false;
        for (n, local) in self.rule_starts().enumerate() {
            if n >= MAX_GENERATED {
                cut_short = true;
                break;
            }
            let id = self.id_of(local);
            if self.is_excluded(id) || moved.contains_key(&id) {
                continue;
            }
            widen(&self.time_at(local));
            if !bounded {
                // Only the first is needed: the series never ends.
                break;
            }
        }
        let first = self.start.local().date();
        let earliest = earliest.unwrap_or(first).max(FIRST_DAY);
        let latest = if bounded && !cut_short {
            latest.unwrap_or(first).min(LAST_DAY)
        } else {
            LAST_DAY
        };
        (earliest, latest.max(earliest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn timed(start: NaiveDateTime, end: Option<NaiveDateTime>, zone: Tz) -> SeriesStart {
        SeriesStart::Timed {
            start,
            end,
            zone,
            starts_at: occurrence_instant(start, zone),
            ends_at: end.map(|e| occurrence_instant(e, zone)),
        }
    }

    fn instants(e: &Expansion) -> Vec<String> {
        e.occurrences
            .iter()
            .map(|o| match o.when {
                OccurrenceTime::Timed { starts_at, .. } => starts_at.to_rfc3339(),
                OccurrenceTime::AllDay { first, last } => format!("{first}..{last}"),
            })
            .collect()
    }

    fn ids(e: &Expansion) -> Vec<String> {
        e.occurrences
            .iter()
            .map(|o| o.recurrence_id.to_string())
            .collect()
    }

    #[test]
    fn a_weekly_series_in_berlin_keeps_10_local_across_the_dst_changes() {
        let berlin = chrono_tz::Europe::Berlin;
        let start = timed(
            at(2025, 10, 14, 10, 0),
            Some(at(2025, 10, 14, 12, 0)),
            berlin,
        );
        let s = Series::new(start, Some("FREQ=WEEKLY;COUNT=4"), &[]).unwrap();
        let e = s.occurrences(day(2025, 1, 1), day(2026, 12, 31), 100, &[]);
        assert_eq!(
            ids(&e),
            [
                "2025-10-14T10:00",
                "2025-10-21T10:00",
                "2025-10-28T10:00",
                "2025-11-04T10:00"
            ]
        );
        assert_eq!(
            instants(&e),
            [
                "2025-10-14T08:00:00+00:00",
                "2025-10-21T08:00:00+00:00",
                "2025-10-28T09:00:00+00:00",
                "2025-11-04T09:00:00+00:00"
            ]
        );
        let OccurrenceTime::Timed { end, ends_at, .. } = e.occurrences[2].when else {
            panic!("timed")
        };
        assert_eq!(end, Some(at(2025, 10, 28, 12, 0)));
        assert_eq!(ends_at.unwrap().to_rfc3339(), "2025-10-28T11:00:00+00:00");
        assert!(!e.truncated);
        assert_eq!(s.span(&[]), (day(2025, 10, 14), day(2025, 11, 4)));
        // And into summer time in March.
        let spring = timed(at(2026, 3, 24, 10, 0), None, berlin);
        let s = Series::new(spring, Some("FREQ=WEEKLY;COUNT=2"), &[]).unwrap();
        let e = s.occurrences(day(2026, 3, 1), day(2026, 4, 30), 10, &[]);
        assert_eq!(
            instants(&e),
            ["2026-03-24T09:00:00+00:00", "2026-03-31T08:00:00+00:00"]
        );
    }

    #[test]
    fn a_series_in_almaty_moves_from_04z_to_05z_on_2024_03_01() {
        let almaty = chrono_tz::Asia::Almaty;
        let start = timed(at(2024, 2, 27, 10, 0), None, almaty);
        let s = Series::new(start, Some("FREQ=DAILY;COUNT=4"), &[]).unwrap();
        let e = s.occurrences(day(2024, 2, 1), day(2024, 3, 31), 10, &[]);
        assert_eq!(
            instants(&e),
            [
                "2024-02-27T04:00:00+00:00",
                "2024-02-28T04:00:00+00:00",
                "2024-02-29T04:00:00+00:00",
                "2024-03-01T05:00:00+00:00"
            ]
        );
    }

    #[test]
    fn an_occurrence_in_a_dst_gap_is_read_with_the_offset_before_it() {
        let berlin = chrono_tz::Europe::Berlin;
        let start = timed(at(2025, 3, 29, 2, 30), None, berlin);
        let s = Series::new(start, Some("FREQ=DAILY;COUNT=3"), &[]).unwrap();
        let e = s.occurrences(day(2025, 3, 1), day(2025, 3, 31), 10, &[]);
        assert_eq!(
            ids(&e),
            ["2025-03-29T02:30", "2025-03-30T02:30", "2025-03-31T02:30"]
        );
        assert_eq!(
            instants(&e),
            [
                "2025-03-29T01:30:00+00:00",
                "2025-03-30T01:30:00+00:00",
                "2025-03-31T00:30:00+00:00"
            ]
        );
    }

    #[test]
    fn exdates_remove_occurrences_and_must_be_occurrences() {
        let almaty = chrono_tz::Asia::Almaty;
        let start = timed(at(2025, 7, 1, 10, 0), None, almaty);
        let rule = Some("FREQ=WEEKLY;BYDAY=TU;COUNT=4");
        let s = Series::new(start, rule, &["2025-07-08T10:00".into()]).unwrap();
        let e = s.occurrences(day(2025, 7, 1), day(2025, 12, 31), 10, &[]);
        assert_eq!(
            ids(&e),
            ["2025-07-01T10:00", "2025-07-15T10:00", "2025-07-22T10:00"]
        );
        assert_eq!(s.span(&[]), (day(2025, 7, 1), day(2025, 7, 22)));
        let err = Series::new(
            start,
            rule,
            &[
                "2025-07-08T10:00".into(),
                "2025-07-09T10:00".into(),
                "8 July".into(),
            ],
        )
        .unwrap_err();
        assert_eq!(
            err,
            vec![
                RecurrenceError::new(
                    "exdates[1]",
                    "`2025-07-09T10:00` is not an occurrence of the series"
                ),
                RecurrenceError::new(
                    "exdates[2]",
                    "`8 July` is not a local date and time: a timed series names its occurrences by their original local start, e.g. 2025-07-01T10:00"
                ),
            ]
        );
        // After the last occurrence is not one either.
        let err = Series::new(start, rule, &["2025-07-29T10:00".into()]).unwrap_err();
        assert_eq!(err[0].field, "exdates[0]");
        let err = Series::new(start, None, &["2025-07-01T10:00".into()]).unwrap_err();
        assert_eq!(err[0].field, "exdates");
        let all: Vec<String> = [
            "2025-07-01T10:00",
            "2025-07-08T10:00",
            "2025-07-15T10:00",
            "2025-07-22T10:00",
        ]
        .map(String::from)
        .to_vec();
        let err = Series::new(start, rule, &all).unwrap_err();
        assert!(err[0].reason.contains("every occurrence"), "{err:?}");
    }

    #[test]
    fn rules_are_checked_against_the_start() {
        let almaty = chrono_tz::Asia::Almaty;
        let start = timed(at(2025, 7, 1, 10, 0), None, almaty);
        let reason = |rule: &str| {
            Series::new(start, Some(rule), &[]).unwrap_err()[0]
                .reason
                .clone()
        };
        assert!(reason("FREQ=HOURLY;COUNT=3").contains("FREQ=HOURLY is not allowed"));
        assert!(reason("FREQ=MINUTELY").contains("not allowed"));
        assert!(reason("FREQ=SECONDLY").contains("not allowed"));
        assert!(
            reason("FREQ=FORTNIGHTLY").contains("is not a recurrence rule"),
            "{}",
            reason("FREQ=FORTNIGHTLY")
        );
        assert!(reason("COUNT=3").contains("FREQ"));
        assert!(reason("FREQ=WEEKLY;BYDAY=XX").contains("XX"));
        assert_eq!(
            reason("FREQ=WEEKLY;BYDAY=WE;COUNT=3"),
            "the rule's first occurrence is 2025-07-02T10:00, not the event's start 2025-07-01T10:00: start the event on an occurrence of its rule"
        );
        assert!(reason("FREQ=WEEKLY;UNTIL=20250601T000000Z").contains("before the event's start"));
        assert!(reason("FREQ=WEEKLY;UNTIL=20250901").contains("UTC date and time"));
        assert!(reason("FREQ=WEEKLY;UNTIL=20250901T000000").contains("UTC date and time"));
        assert!(reason("FREQ=WEEKLY;COUNT=2;UNTIL=20250901T000000Z").contains("COUNT and UNTIL"));
        assert!(reason("FREQ=WEEKLY;COUNT=0").contains("at least 1"));
        assert!(reason("FREQ=WEEKLY\nRRULE:FREQ=DAILY").contains("cannot be in a rule"));
        assert!(reason("FREQ=YEARLY;BYMONTH=13").contains("BYMONTH"));
        // RRULE: and lower case are accepted, and stored upper case without the name.
        let s = Series::new(start, Some(" rrule:freq=weekly;count=2 "), &[]).unwrap();
        assert_eq!(s.rule(), Some("FREQ=WEEKLY;COUNT=2"));
        // UNTIL is inclusive and compared as an instant: 10:00 Almaty is 05:00Z.
        let s = Series::new(start, Some("FREQ=WEEKLY;UNTIL=20250715T050000Z"), &[]).unwrap();
        assert!(s.is_bounded());
        assert_eq!(s.span(&[]), (day(2025, 7, 1), day(2025, 7, 15)));
        let s = Series::new(start, Some("FREQ=WEEKLY;UNTIL=20250715T045959Z"), &[]).unwrap();
        assert_eq!(s.span(&[]), (day(2025, 7, 1), day(2025, 7, 8)));
    }

    #[test]
    fn all_day_series_keep_their_length_and_end_on_dates() {
        let start = SeriesStart::AllDay {
            first: day(2025, 10, 7),
            last: day(2025, 10, 8),
        };
        let s = Series::new(
            start,
            Some("FREQ=YEARLY;UNTIL=20271231"),
            &["2026-10-07".into()],
        )
        .unwrap();
        let e = s.occurrences(day(2020, 1, 1), day(2030, 12, 31), 10, &[]);
        assert_eq!(
            instants(&e),
            ["2025-10-07..2025-10-08", "2027-10-07..2027-10-08"]
        );
        assert_eq!(ids(&e), ["2025-10-07", "2027-10-07"]);
        assert_eq!(s.span(&[]), (day(2025, 10, 7), day(2027, 10, 8)));
        let reason = |rule: &str| {
            Series::new(start, Some(rule), &[]).unwrap_err()[0]
                .reason
                .clone()
        };
        assert!(reason("FREQ=YEARLY;UNTIL=20271231T000000Z").contains("on a date"));
        assert!(reason("FREQ=DAILY;BYHOUR=10").contains("BYHOUR"));
        assert!(Series::new(start, Some("FREQ=YEARLY"), &["2026-10-07T00:00".into()]).is_err());
    }

    #[test]
    fn unbounded_rules_are_expanded_within_a_window_and_capped() {
        let start = SeriesStart::AllDay {
            first: day(2025, 1, 1),
            last: day(2025, 1, 1),
        };
        let s = Series::new(start, Some("FREQ=DAILY"), &[]).unwrap();
        assert!(!s.is_bounded());
        assert_eq!(s.span(&[]), (day(2025, 1, 1), LAST_DAY));
        let e = s.occurrences(day(2025, 3, 1), day(2025, 3, 3), 100, &[]);
        assert_eq!(ids(&e), ["2025-03-01", "2025-03-02", "2025-03-03"]);
        assert!(!e.truncated);
        let e = s.occurrences(day(2025, 1, 1), day(2030, 12, 31), 5000, &[]);
        assert_eq!(e.occurrences.len(), MAX_OCCURRENCES);
        assert!(e.truncated);
        let e = s.occurrences(day(2025, 1, 1), day(2025, 12, 31), 10, &[]);
        assert_eq!(e.occurrences.len(), 10);
        assert!(e.truncated);
        // Far windows are reached (about 64 000 days later) without running away.
        let e = s.occurrences(day(2200, 12, 30), day(2200, 12, 31), 10, &[]);
        assert_eq!(ids(&e), ["2200-12-30", "2200-12-31"]);
        assert!(s.is_occurrence(RecurrenceId::AllDay(day(2150, 6, 1))));
        assert!(!s.is_occurrence(RecurrenceId::AllDay(day(2024, 12, 31))));
    }

    #[test]
    fn moved_occurrences_are_listed_where_they_now_are() {
        let almaty = chrono_tz::Asia::Almaty;
        let start = timed(at(2025, 7, 1, 10, 0), Some(at(2025, 7, 1, 11, 0)), almaty);
        let s = Series::new(start, Some("FREQ=WEEKLY;COUNT=3"), &[]).unwrap();
        let id = RecurrenceId::Timed(at(2025, 7, 8, 10, 0));
        let moved = Moved {
            recurrence_id: id,
            when: OccurrenceTime::Timed {
                start: at(2025, 8, 20, 15, 0),
                end: None,
                starts_at: occurrence_instant(at(2025, 8, 20, 15, 0), almaty),
                ends_at: None,
            },
        };
        let e = s.occurrences(day(2025, 7, 1), day(2025, 7, 31), 10, &[moved]);
        assert_eq!(ids(&e), ["2025-07-01T10:00", "2025-07-15T10:00"]);
        let e = s.occurrences(day(2025, 8, 1), day(2025, 8, 31), 10, &[moved]);
        assert_eq!(ids(&e), ["2025-07-08T10:00"]);
        assert!(e.occurrences[0].moved);
        assert_eq!(instants(&e), ["2025-08-20T10:00:00+00:00"]);
        assert_eq!(s.span(&[moved]), (day(2025, 7, 1), day(2025, 8, 20)));
        assert_eq!(
            s.occurrence(id).map(|w| w.days()),
            Some((day(2025, 7, 8), day(2025, 7, 8)))
        );
        assert_eq!(
            s.occurrence(RecurrenceId::Timed(at(2025, 7, 8, 11, 0))),
            None
        );
    }

    #[test]
    fn a_single_event_is_its_one_occurrence() {
        let start = timed(at(2025, 6, 10, 19, 0), None, chrono_tz::Asia::Almaty);
        let s = Series::new(start, None, &[]).unwrap();
        let e = s.occurrences(day(2025, 6, 1), day(2025, 6, 30), 10, &[]);
        assert_eq!(ids(&e), ["2025-06-10T19:00"]);
        assert_eq!(instants(&e), ["2025-06-10T14:00:00+00:00"]);
        assert_eq!(s.span(&[]), (day(2025, 6, 10), day(2025, 6, 10)));
    }

    #[test]
    fn overlap_compares_instants_of_timed_occurrences_and_days_otherwise() {
        let almaty = chrono_tz::Asia::Almaty;
        let timed_at = |start: NaiveDateTime, end: Option<NaiveDateTime>| OccurrenceTime::Timed {
            start,
            end,
            starts_at: occurrence_instant(start, almaty),
            ends_at: end.map(|e| occurrence_instant(e, almaty)),
        };
        let a = timed_at(at(2025, 7, 1, 10, 0), Some(at(2025, 7, 1, 12, 0)));
        assert!(a.overlaps(&timed_at(at(2025, 7, 1, 11, 0), None)));
        assert!(!a.overlaps(&timed_at(at(2025, 7, 1, 12, 0), None)));
        // Without an end, an hour.
        let b = timed_at(at(2025, 7, 1, 9, 0), None);
        assert!(!b.overlaps(&a));
        assert!(b.overlaps(&timed_at(at(2025, 7, 1, 9, 59), None)));
        let all_day = OccurrenceTime::AllDay {
            first: day(2025, 7, 1),
            last: day(2025, 7, 1),
        };
        assert!(all_day.overlaps(&b));
        assert!(!all_day.overlaps(&timed_at(at(2025, 7, 2, 0, 0), None)));
        // Ending at midnight does not take the next day.
        let evening = timed_at(at(2025, 6, 30, 20, 0), Some(at(2025, 7, 1, 0, 0)));
        assert_eq!(evening.days(), (day(2025, 6, 30), day(2025, 6, 30)));
    }
}
