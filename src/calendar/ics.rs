//! Writes a [`Calendar`] as RFC 5545 text.
//!
//! Written here rather than with the `icalendar` crate (0.17.17 was checked):
//! its folding lets a continuation line reach 76 octets when the rest of a
//! line is exactly 75 bytes long, it passes a bare `\r` in TEXT through
//! unescaped, it escapes TEXT only for the property names it knows (not
//! RFC 7986 `NAME`), it cannot build VTIMEZONEs from chrono-tz, and it needs
//! Rust 1.88 while accord builds with 1.86. What is left is small: content
//! lines, TEXT escaping, folding and the VTIMEZONEs, all tested below.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

use super::{Calendar, Entry, EntryStatus, Method, Occurrence, Party, When};

/// A zone over a range of years (UTC seconds of its first and last instants).
type ZoneSpan = (&'static str, i64, i64);

/// Octets of a physical line, CRLF not counted (RFC 5545, 3.1).
const LINE_OCTETS: usize = 75;
/// A zone's VTIMEZONE starts this many years before the earliest date used in it...
const YEARS_BEFORE: i32 = 1;
/// ...and ends this many years after the latest one.
const YEARS_AFTER: i32 = 2;
/// A series without UNTIL (or with a COUNT) is taken to run at most this long
/// for its zone's VTIMEZONE: the output must not depend on today's date, and
/// clients that know the IANA zone (most do) use their own rules beyond it.
const SERIES_YEARS: u64 = 10;

/// The calendar as an iCalendar stream (CRLF line ends, folded at 75 octets).
pub fn render(calendar: &Calendar) -> String {
    write(calendar, None)
}

/// Who sends an iTIP message and to whom (RFC 5546).
struct Scheduling<'a> {
    method: Method,
    organizer: &'a Party,
    attendee: &'a Party,
}

/// An iTIP message (RFC 5546) about one event for one attendee, to attach to
/// an email: METHOD:REQUEST for an invitation or a change, METHOD:CANCEL when
/// the event will not take place. `entries` are the event as the feeds give
/// it (the series, then any changed occurrences: one UID), so a client files
/// the email's event under the feed's one and a higher SEQUENCE replaces it.
///
/// A CANCEL marks every entry STATUS:CANCELLED; an entry not cancelled
/// already (an event deleted rather than cancelled) gets SEQUENCE + 1, so the
/// cancellation outranks the last request. PUBLISH is treated as REQUEST.
pub fn invitation(
    entries: &[Entry],
    organizer: &Party,
    attendee: &Party,
    method: Method,
) -> String {
    let method = match method {
        Method::Publish => Method::Request,
        m => m,
    };
    let entries = entries
        .iter()
        .map(|e| {
            let mut e = e.clone();
            if method == Method::Cancel && e.status != EntryStatus::Cancelled {
                e.status = EntryStatus::Cancelled;
                e.sequence = e.sequence.max(0).saturating_add(1);
            }
            e
        })
        .collect();
    let calendar = Calendar {
        name: String::new(),
        refresh: chrono::Duration::zero(),
        entries,
    };
    write(
        &calendar,
        Some(&Scheduling {
            method,
            organizer,
            attendee,
        }),
    )
}

fn write(calendar: &Calendar, scheduling: Option<&Scheduling>) -> String {
    let mut w = Writer {
        // About 400 octets an entry: one allocation for most calendars.
        out: String::with_capacity(4096 + calendar.entries.len() * 448),
    };
    let masters = masters(calendar);
    w.raw("BEGIN", &[], "VCALENDAR");
    w.raw("VERSION", &[], "2.0");
    w.raw(
        "PRODID",
        &[],
        concat!("-//accord//accord ", env!("CARGO_PKG_VERSION"), "//EN"),
    );
    w.raw("CALSCALE", &[], "GREGORIAN");
    match scheduling {
        Some(s) => w.raw("METHOD", &[], s.method.as_str()),
        None => {
            w.raw("METHOD", &[], Method::Publish.as_str());
            // A feed's name and polling interval mean nothing in a message.
            w.text("NAME", &calendar.name);
            w.text("X-WR-CALNAME", &calendar.name);
            let refresh = duration(calendar.refresh);
            w.raw("REFRESH-INTERVAL", &[("VALUE", "DURATION")], &refresh);
            w.raw("X-PUBLISHED-TTL", &[], &refresh);
        }
    }
    for (zone, span) in zone_spans(calendar, &masters).into_values() {
        vtimezone(&mut w, zone, span);
    }
    for entry in &calendar.entries {
        vevent(&mut w, &masters, entry, scheduling);
    }
    w.raw("END", &[], "VCALENDAR");
    w.out
}

/// ORGANIZER or ATTENDEE: `mailto:` the address, CN the name.
fn party(w: &mut Writer, name: &str, who: &Party, extra: &[(&str, &str)]) {
    let mut params: Vec<(&str, &str)> = Vec::with_capacity(extra.len() + 1);
    if let Some(cn) = who.name.as_deref().filter(|n| !n.trim().is_empty()) {
        params.push(("CN", cn));
    }
    params.extend_from_slice(extra);
    w.raw(name, &params, &format!("mailto:{}", who.email.trim()));
}

#[derive(Default)]
struct Writer {
    out: String,
}

impl Writer {
    /// One content line; `value` is already in its value type's form.
    fn raw(&mut self, name: &str, params: &[(&str, &str)], value: &str) {
        let mut line = String::with_capacity(name.len() + value.len() + 16);
        line.push_str(name);
        for (key, val) in params {
            line.push(';');
            line.push_str(key);
            line.push('=');
            line.push_str(&param_value(val));
        }
        line.push(':');
        // No control character may reach the stream, whatever the value's
        // type: a CR or LF would end the line and start a property of its own.
        line.extend(value.chars().filter(|c| !c.is_control() || *c == '\t'));
        fold_into(&mut self.out, &line);
    }

    fn text(&mut self, name: &str, value: &str) {
        self.raw(name, &[], &escape_text(value));
    }
}

/// A parameter value, quoted when it holds a character that would end it.
fn param_value(val: &str) -> String {
    let clean: String = val
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .collect();
    if clean.contains([':', ';', ',']) {
        format!("\"{clean}\"")
    } else {
        clean
    }
}

/// TEXT (RFC 5545, 3.3.11): backslash, semicolon, comma and newlines escaped.
/// CRLF and a lone CR count as one newline; other control characters, which
/// TEXT does not allow, are dropped.
fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` folded (RFC 5545, 3.1) with its CRLF: no physical line
/// longer than 75 octets, counting the space that starts a continuation, and
/// never a cut inside a UTF-8 sequence.
fn fold_into(out: &mut String, line: &str) {
    let mut rest = line;
    let mut room = LINE_OCTETS;
    while rest.len() > room {
        let mut cut = room;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        // Some clients trim the ends of physical lines: avoid cutting next to
        // a space when a nearby cut will do.
        let mut nicer = cut;
        for _ in 0..8 {
            let (head, tail) = rest.split_at(nicer);
            if !head.ends_with(' ') && !tail.starts_with(' ') {
                cut = nicer;
                break;
            }
            match head.char_indices().next_back() {
                Some((i, _)) if i > 0 => nicer = i,
                _ => break,
            }
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        room = LINE_OCTETS - 1;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

/// DURATION (RFC 5545, 3.3.6), e.g. `PT4H`, `P1DT12H`.
fn duration(d: chrono::Duration) -> String {
    let total = d.num_seconds();
    let sign = if total < 0 { "-" } else { "" };
    let total = total.unsigned_abs();
    let (days, h, m, s) = (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    let mut out = format!("{sign}P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if h > 0 || m > 0 || s > 0 || days == 0 {
        out.push('T');
        if h > 0 {
            out.push_str(&format!("{h}H"));
        }
        if m > 0 {
            out.push_str(&format!("{m}M"));
        }
        if s > 0 || (h == 0 && m == 0) {
            out.push_str(&format!("{s}S"));
        }
    }
    out
}

fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn local_stamp(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

fn date_stamp(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// UTC-OFFSET (RFC 5545, 3.3.14): `+0500`, seconds only when there are any.
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{sec:02}")
    }
}

/// The form a series' dates take: wall times in a zone, or whole days.
#[derive(Clone, Copy)]
enum Form {
    Timed { zone: Tz, time: NaiveTime },
    AllDay,
}

fn form_of(when: &When) -> Form {
    match when {
        When::Timed { start, zone, .. } => Form::Timed {
            zone: *zone,
            time: start.time(),
        },
        When::AllDay { .. } => Form::AllDay,
    }
}

/// An occurrence in the form of its series: EXDATE and RECURRENCE-ID must
/// match DTSTART's value type (RFC 5545, 3.8.4.4 and 3.8.5.1).
fn in_form(occurrence: Occurrence, form: Form) -> Occurrence {
    match (occurrence, form) {
        (Occurrence::AllDay(d), Form::Timed { time, .. }) => Occurrence::Timed(d.and_time(time)),
        (Occurrence::Timed(t), Form::AllDay) => Occurrence::AllDay(t.date()),
        (o, _) => o,
    }
}

/// The form of the series an entry belongs to. An override (RECURRENCE-ID)
/// names its occurrence in the series' zone, which the override itself may
/// have left (an occurrence moved to another city).
fn series_form(masters: &Masters, entry: &Entry) -> Form {
    if entry.recurrence_id.is_some() {
        if let Some(form) = masters.get(entry.uid.as_str()) {
            return *form;
        }
    }
    form_of(&entry.when)
}

/// The form of each series by its UID (the first entry without a
/// RECURRENCE-ID), looked up once for all its overrides.
type Masters<'a> = HashMap<&'a str, Form>;

fn masters(calendar: &Calendar) -> Masters<'_> {
    let mut masters = HashMap::new();
    for e in calendar
        .entries
        .iter()
        .filter(|e| e.recurrence_id.is_none())
    {
        masters
            .entry(e.uid.as_str())
            .or_insert_with(|| form_of(&e.when));
    }
    masters
}

/// A date-valued property: `TZID=zone` wall time or `VALUE=DATE`.
fn occurrence_property(w: &mut Writer, name: &str, occurrence: Occurrence, form: Form) {
    match (in_form(occurrence, form), form) {
        (Occurrence::Timed(t), Form::Timed { zone, .. }) => {
            w.raw(name, &[("TZID", zone.name())], &local_stamp(t))
        }
        (Occurrence::AllDay(d), _) => w.raw(name, &[("VALUE", "DATE")], &date_stamp(d)),
        // in_form gives AllDay for the all-day form.
        (Occurrence::Timed(t), Form::AllDay) => {
            w.raw(name, &[("VALUE", "DATE")], &date_stamp(t.date()))
        }
    }
}

/// A wall time as `TZID=zone`, or as the UTC instant it means when the
/// zone makes it ambiguous or skips it and `instant_if_unclear` allows.
///
/// RFC 5545 (3.3.5) reads an ambiguous wall time as its first occurrence and
/// a skipped one with the offset before the gap, as accord does, but ical.js
/// (Thunderbird) and libical take standard time in the repeated hour, an
/// hour later. A UTC value means the same instant to every client.
fn wall_time_property(
    w: &mut Writer,
    name: &str,
    t: NaiveDateTime,
    zone: Tz,
    instant_if_unclear: bool,
) {
    if instant_if_unclear {
        if let Some(instant) = unclear_wall_time(t, zone) {
            w.raw(name, &[], &utc_stamp(instant));
            return;
        }
    }
    w.raw(name, &[("TZID", zone.name())], &local_stamp(t));
}

/// The instant RFC 5545 gives a wall time that is ambiguous (the earlier one)
/// or skipped (read with the offset before the gap); `None` when it is neither.
fn unclear_wall_time(t: NaiveDateTime, zone: Tz) -> Option<DateTime<Utc>> {
    use chrono::offset::{LocalResult, Offset};
    match zone.from_local_datetime(&t) {
        LocalResult::Single(_) => None,
        LocalResult::Ambiguous(earlier, later) => Some(earlier.min(later).with_timezone(&Utc)),
        LocalResult::None => {
            // Zones do not change twice within a day: a day before, the
            // offset is the one in force before the gap.
            let before = zone
                .offset_from_utc_datetime(&(t - chrono::Duration::days(1)))
                .fix();
            Some((t - chrono::Duration::seconds(i64::from(before.local_minus_utc()))).and_utc())
        }
    }
}

fn vevent(w: &mut Writer, masters: &Masters, entry: &Entry, scheduling: Option<&Scheduling>) {
    w.raw("BEGIN", &[], "VEVENT");
    w.text("UID", &entry.uid);
    w.raw("DTSTAMP", &[], &utc_stamp(entry.last_modified));
    w.raw("LAST-MODIFIED", &[], &utc_stamp(entry.last_modified));
    if let Some(created) = entry.created {
        w.raw("CREATED", &[], &utc_stamp(created));
    }
    w.raw("SEQUENCE", &[], &entry.sequence.max(0).to_string());
    w.raw(
        "STATUS",
        &[],
        match entry.status {
            EntryStatus::Tentative => "TENTATIVE",
            EntryStatus::Confirmed => "CONFIRMED",
            EntryStatus::Cancelled => "CANCELLED",
        },
    );
    w.text("SUMMARY", &entry.summary);
    if let Some(description) = &entry.description {
        w.text("DESCRIPTION", description);
    }
    if let Some(location) = &entry.location {
        w.text("LOCATION", location);
    }
    if let Some(url) = &entry.url {
        w.raw("URL", &[], url);
    }
    if let Some(s) = scheduling {
        party(w, "ORGANIZER", s.organizer, &[]);
        // accord reads no replies: the attendee is told, not asked to answer.
        party(
            w,
            "ATTENDEE",
            s.attendee,
            &[
                ("CUTYPE", "INDIVIDUAL"),
                ("ROLE", "REQ-PARTICIPANT"),
                ("PARTSTAT", "NEEDS-ACTION"),
                ("RSVP", "FALSE"),
            ],
        );
    }
    if !entry.categories.is_empty() {
        let list: Vec<String> = entry.categories.iter().map(|c| escape_text(c)).collect();
        w.raw("CATEGORIES", &[], &list.join(","));
    }
    if let Some(recurrence_id) = entry.recurrence_id {
        occurrence_property(
            w,
            "RECURRENCE-ID",
            recurrence_id,
            series_form(masters, entry),
        );
    }
    match &entry.when {
        When::Timed { start, end, zone } => {
            // A series keeps its wall times even at an ambiguous hour: its
            // rule steps in wall time, and its EXDATEs and overrides match it.
            let single = entry.rrule.is_none();
            wall_time_property(w, "DTSTART", *start, *zone, single);
            if let Some(end) = end {
                wall_time_property(w, "DTEND", *end, *zone, single);
            }
        }
        When::AllDay { first, last } => {
            w.raw("DTSTART", &[("VALUE", "DATE")], &date_stamp(*first));
            // DTEND is exclusive: the day after the last one.
            if let Some(end) = (*last.max(first)).checked_add_days(Days::new(1)) {
                w.raw("DTEND", &[("VALUE", "DATE")], &date_stamp(end));
            }
        }
    }
    if let Some(rrule) = &entry.rrule {
        w.raw("RRULE", &[], rrule);
        let form = form_of(&entry.when);
        let mut exdates: Vec<Occurrence> =
            entry.exdates.iter().map(|o| in_form(*o, form)).collect();
        exdates.sort();
        exdates.dedup();
        for exdate in exdates {
            occurrence_property(w, "EXDATE", exdate, form);
        }
    }
    if matches!(entry.when, When::AllDay { .. }) {
        // Deadlines and whole-day entries do not block the day in free/busy.
        w.raw("TRANSP", &[], "TRANSPARENT");
    }
    w.raw("END", &[], "VEVENT");
}

/// The earliest and latest wall times a zone's VTIMEZONE must cover.
#[derive(Clone, Copy)]
struct Span {
    first: NaiveDateTime,
    last: NaiveDateTime,
}

impl Span {
    fn widen(&mut self, t: NaiveDateTime) {
        self.first = self.first.min(t);
        self.last = self.last.max(t);
    }
}

/// Every zone used by a DTSTART, DTEND, EXDATE or RECURRENCE-ID, with the
/// wall times used in it; sorted by name so the output is stable.
fn zone_spans(calendar: &Calendar, masters: &Masters) -> BTreeMap<&'static str, (Tz, Span)> {
    let mut spans: BTreeMap<&'static str, (Tz, Span)> = BTreeMap::new();
    let mut note = |zone: Tz, t: NaiveDateTime| {
        spans
            .entry(zone.name())
            .and_modify(|(_, span)| span.widen(t))
            .or_insert((zone, Span { first: t, last: t }));
    };
    for entry in &calendar.entries {
        if let When::Timed { start, end, zone } = &entry.when {
            note(*zone, *start);
            if let Some(end) = end {
                note(*zone, *end);
            }
            if let Some(rule) = &entry.rrule {
                note(*zone, series_end(*start, rule));
            }
            for exdate in &entry.exdates {
                if let Occurrence::Timed(t) = in_form(*exdate, form_of(&entry.when)) {
                    note(*zone, t);
                }
            }
        }
        if let Some(recurrence_id) = entry.recurrence_id {
            let form = series_form(masters, entry);
            if let (Occurrence::Timed(t), Form::Timed { zone, .. }) =
                (in_form(recurrence_id, form), form)
            {
                note(zone, t);
            }
        }
    }
    spans
}

/// How far a series may run, for its zone's VTIMEZONE: UNTIL when given,
/// else a bound from COUNT, at most [`SERIES_YEARS`] after its start.
fn series_end(start: NaiveDateTime, rule: &str) -> NaiveDateTime {
    let mut freq_days: u64 = 1;
    let mut interval: u64 = 1;
    let mut count: Option<u64> = None;
    for part in rule.split(';') {
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_uppercase().as_str() {
            "UNTIL" => {
                if let Some(until) = value
                    .get(..8)
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
                {
                    return until.and_time(NaiveTime::MIN).max(start);
                }
            }
            "COUNT" => count = value.trim().parse().ok(),
            "INTERVAL" => interval = value.trim().parse().unwrap_or(1),
            "FREQ" => {
                freq_days = match value.trim().to_ascii_uppercase().as_str() {
                    "YEARLY" => 366,
                    "MONTHLY" => 31,
                    "WEEKLY" => 7,
                    _ => 1,
                }
            }
            _ => {}
        }
    }
    let most = SERIES_YEARS * 366;
    let days = count.map_or(most, |n| {
        n.saturating_mul(interval.max(1))
            .saturating_mul(freq_days)
            .min(most)
    });
    start.checked_add_days(Days::new(days)).unwrap_or(start)
}

/// What a zone says at one instant; a change of any part is a transition.
#[derive(Clone, PartialEq, Eq)]
struct Observance {
    offset: i32,
    daylight: bool,
    name: String,
}

fn observance(zone: Tz, at: i64) -> Option<Observance> {
    let utc = DateTime::<Utc>::from_timestamp(at, 0)?.naive_utc();
    let offset = zone.offset_from_utc_datetime(&utc);
    let total = offset.base_utc_offset() + offset.dst_offset();
    let seconds = i32::try_from(total.num_seconds()).ok()?;
    let name = match offset.abbreviation() {
        Some(name) => name.to_string(),
        None => numeric_abbreviation(seconds),
    };
    Some(Observance {
        offset: seconds,
        daylight: !offset.dst_offset().is_zero(),
        name,
    })
}

/// The tz database's name for a zone without letters (`%z`), e.g. `+05`,
/// `+0530`: chrono-tz gives none for them.
fn numeric_abbreviation(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    match (m, sec) {
        (0, 0) => format!("{sign}{h:02}"),
        (_, 0) => format!("{sign}{h:02}{m:02}"),
        _ => format!("{sign}{h:02}{m:02}{sec:02}"),
    }
}

/// One onset of an observance: its instant and the observance before it.
struct Transition {
    at: i64,
    from: Observance,
    to: Observance,
}

/// The transitions of `zone` in `[from, to)`. chrono-tz lists none, so the
/// zone is sampled daily and each change bisected to the second (zones do not
/// change twice within a day).
fn transitions(zone: Tz, from: i64, to: i64) -> Vec<Transition> {
    const STEP: i64 = 86_400;
    let mut found = Vec::new();
    let Some(mut current) = observance(zone, from) else {
        return found;
    };
    let mut t = from;
    while t < to {
        let next_t = (t + STEP).min(to);
        let Some(next) = observance(zone, next_t) else {
            break;
        };
        if next == current {
            t = next_t;
            continue;
        }
        // current holds at lo, something else at hi.
        let (mut lo, mut hi) = (t, next_t);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            match observance(zone, mid) {
                Some(o) if o == current => lo = mid,
                _ => hi = mid,
            }
        }
        let Some(to_observance) = observance(zone, hi) else {
            break;
        };
        found.push(Transition {
            at: hi,
            from: current,
            to: to_observance.clone(),
        });
        current = to_observance;
        t = hi;
    }
    found
}

fn vtimezone(w: &mut Writer, zone: Tz, span: Span) {
    let start = NaiveDate::from_ymd_opt(span.first.year() - YEARS_BEFORE, 1, 1)
        .unwrap_or(span.first.date())
        .and_time(NaiveTime::MIN)
        .and_utc()
        .timestamp();
    let end = NaiveDate::from_ymd_opt(span.last.year() + YEARS_AFTER + 1, 1, 1)
        .unwrap_or(span.last.date())
        .and_time(NaiveTime::MIN)
        .and_utc()
        .timestamp();
    // The same zone over the same years gives the same text: found by
    // sampling the zone daily, so kept (a few kilobytes per zone and range).
    static DONE: OnceLock<Mutex<HashMap<ZoneSpan, String>>> = OnceLock::new();
    let done = DONE.get_or_init(Mutex::default);
    let key = (zone.name(), start, end);
    if let Some(text) = done.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        w.out.push_str(text);
        return;
    }
    let mut own = Writer::default();
    vtimezone_text(&mut own, zone, start, end);
    w.out.push_str(&own.out);
    let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
    // Bounded: a range is whole years, so few keys arise; start over if not.
    if done.len() >= 4096 {
        done.clear();
    }
    done.insert(key, own.out);
}

fn vtimezone_text(w: &mut Writer, zone: Tz, start: i64, end: i64) {
    let Some(initial) = observance(zone, start) else {
        return;
    };
    w.raw("BEGIN", &[], "VTIMEZONE");
    w.text("TZID", zone.name());
    // The observance in force when the range begins, so that every time in
    // the range has a defined offset.
    observance_component(w, start, &initial, &initial);
    for transition in transitions(zone, start, end) {
        observance_component(w, transition.at, &transition.from, &transition.to);
    }
    w.raw("END", &[], "VTIMEZONE");
}

/// A STANDARD or DAYLIGHT sub-component; its DTSTART is the onset's wall
/// time in the offset in force before it (RFC 5545, 3.6.5).
fn observance_component(w: &mut Writer, at: i64, from: &Observance, to: &Observance) {
    let kind = if to.daylight { "DAYLIGHT" } else { "STANDARD" };
    let Some(onset) = DateTime::<Utc>::from_timestamp(at + i64::from(from.offset), 0) else {
        return;
    };
    w.raw("BEGIN", &[], kind);
    w.raw("DTSTART", &[], &local_stamp(onset.naive_utc()));
    w.raw("TZOFFSETFROM", &[], &utc_offset(from.offset));
    w.raw("TZOFFSETTO", &[], &utc_offset(to.offset));
    w.text("TZNAME", &to.name);
    w.raw("END", &[], kind);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn entry(uid: &str, summary: &str, when: When) -> Entry {
        Entry {
            uid: uid.to_string(),
            summary: summary.to_string(),
            description: None,
            location: None,
            status: EntryStatus::Confirmed,
            sequence: 0,
            last_modified: Utc.with_ymd_and_hms(2025, 5, 1, 8, 30, 0).unwrap(),
            created: None,
            when,
            rrule: None,
            exdates: vec![],
            recurrence_id: None,
            categories: vec![],
            url: None,
        }
    }

    fn timed(start: &str, end: &str, zone: Tz) -> When {
        When::Timed {
            start: dt(start),
            end: Some(dt(end)),
            zone,
        }
    }

    fn calendar(entries: Vec<Entry>) -> Calendar {
        Calendar {
            name: "Test".to_string(),
            refresh: Duration::hours(4),
            entries,
        }
    }

    /// Logical lines: RFC 5545 unfolding (CRLF followed by one space).
    fn unfold(ics: &str) -> Vec<String> {
        ics.replace("\r\n ", "")
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn value_of(ics: &str, name: &str) -> String {
        unfold(ics)
            .into_iter()
            .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
            .unwrap_or_else(|| panic!("no {name} in {ics}"))
    }

    /// The sub-components of one VTIMEZONE as (kind, DTSTART, FROM, TO, NAME).
    fn observances(ics: &str, tzid: &str) -> Vec<(String, String, String, String, String)> {
        let lines = unfold(ics);
        let begin = lines
            .iter()
            .position(|l| l == &format!("TZID:{tzid}"))
            .unwrap_or_else(|| panic!("no VTIMEZONE {tzid}"));
        let mut out = vec![];
        let mut current: Vec<String> = vec![];
        for line in &lines[begin + 1..] {
            if line == "END:VTIMEZONE" {
                break;
            }
            if let Some(kind) = line.strip_prefix("BEGIN:") {
                current = vec![kind.to_string()];
            } else if line.starts_with("END:") {
                out.push((
                    current[0].clone(),
                    current[1].clone(),
                    current[2].clone(),
                    current[3].clone(),
                    current[4].clone(),
                ));
            } else {
                current.push(line.split_once(':').unwrap().1.to_string());
            }
        }
        out
    }

    #[test]
    fn folding_keeps_utf8_whole_and_lines_within_75_octets() {
        let title = "Дни культуры Республики Казахстан в Российской Федерации, \
                     Қазақстан Республикасының мәдениет күндері; Ресей Федерациясында \\ өтеді";
        let ics = render(&calendar(vec![entry(
            "kk@accord",
            title,
            timed(
                "2025-10-07 10:00",
                "2025-10-07 12:00",
                chrono_tz::Asia::Almaty,
            ),
        )]));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        let body = ics.strip_suffix("\r\n").unwrap();
        for line in body.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
            assert!(!line.contains('\r') && !line.contains('\n'));
        }
        // A str can only be built of whole UTF-8 sequences: each physical line is one.
        for line in ics.as_bytes().split(|b| *b == b'\n') {
            std::str::from_utf8(line).expect("a physical line splits a UTF-8 sequence");
        }
        let summary_lines = ics
            .split("\r\n")
            .skip_while(|l| !l.starts_with("SUMMARY:"))
            .take_while(|l| l.starts_with("SUMMARY:") || l.starts_with(' '))
            .count();
        assert!(summary_lines >= 3, "the title must need folding");
        assert_eq!(value_of(&ics, "SUMMARY"), escape_text(title));
        assert!(value_of(&ics, "SUMMARY").contains("Федерации\\, Қазақстан"));
    }

    #[test]
    fn folding_at_every_length_and_offset() {
        // Every split position, with 1-, 2-, 3- and 4-byte characters.
        for unit in ["a", "ә", "€", "😀", " "] {
            for n in 60..200 {
                let mut line = "SUMMARY:".to_string();
                for i in 0..n {
                    line.push_str(if i % 7 == 3 { "x" } else { unit });
                }
                let mut out = String::new();
                fold_into(&mut out, &line);
                let body = out.strip_suffix("\r\n").unwrap();
                for (i, physical) in body.split("\r\n").enumerate() {
                    assert!(physical.len() <= 75, "{unit} {n}: {}", physical.len());
                    assert!(!physical.is_empty());
                    if i > 0 {
                        assert!(physical.starts_with(' '));
                    }
                }
                assert_eq!(body.replace("\r\n ", ""), line, "{unit} {n}");
            }
        }
        // The case the icalendar crate gets wrong: exactly 75 bytes after the first cut.
        let line = "a".repeat(150);
        let mut out = String::new();
        fold_into(&mut out, &line);
        assert_eq!(
            out,
            format!("{}\r\n {}\r\n {}\r\n", &line[..75], &line[75..149], "a")
        );
    }

    #[test]
    fn text_is_escaped_and_cannot_inject_properties() {
        assert_eq!(escape_text(r"a\b;c,d"), r"a\\b\;c\,d");
        assert_eq!(
            escape_text("one\r\ntwo\nthree\rfour"),
            r"one\ntwo\nthree\nfour"
        );
        assert_eq!(escape_text("bell\u{7}\u{0}tab\t"), "belltab\t");
        assert_eq!(escape_text("colon: stays"), "colon: stays");

        let mut e = entry(
            "inject@accord",
            "Meeting\r\nATTENDEE:mailto:x@example.org\r\nEND:VEVENT",
            When::AllDay {
                first: d("2025-10-07"),
                last: d("2025-10-07"),
            },
        );
        e.location = Some("Astana; Hall 2, floor \\3\\".to_string());
        e.description = Some("line 1\nline 2".to_string());
        e.url = Some("https://example.org/x\r\nATTENDEE:y".to_string());
        e.categories = vec!["deadline".to_string(), "a,b".to_string()];
        let ics = render(&calendar(vec![e]));
        let lines = unfold(&ics);
        assert!(!lines.iter().any(|l| l.starts_with("ATTENDEE")), "{ics}");
        assert_eq!(lines.iter().filter(|l| *l == "END:VEVENT").count(), 1);
        assert_eq!(
            value_of(&ics, "SUMMARY"),
            r"Meeting\nATTENDEE:mailto:x@example.org\nEND:VEVENT"
        );
        assert_eq!(value_of(&ics, "LOCATION"), r"Astana\; Hall 2\, floor \\3\\");
        assert_eq!(value_of(&ics, "DESCRIPTION"), r"line 1\nline 2");
        assert_eq!(value_of(&ics, "URL"), "https://example.org/xATTENDEE:y");
        assert_eq!(value_of(&ics, "CATEGORIES"), r"deadline,a\,b");
    }

    #[test]
    fn calendar_properties_and_crlf() {
        let mut cal = calendar(vec![]);
        cal.name = "KZ, RU; culture".to_string();
        let ics = render(&cal);
        assert_eq!(
            ics,
            format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//accord//accord {}//EN\r\n\
                 CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nNAME:KZ\\, RU\\; culture\r\n\
                 X-WR-CALNAME:KZ\\, RU\\; culture\r\nREFRESH-INTERVAL;VALUE=DURATION:PT4H\r\n\
                 X-PUBLISHED-TTL:PT4H\r\nEND:VCALENDAR\r\n",
                env!("CARGO_PKG_VERSION")
            )
        );
        assert_eq!(ics.matches('\n').count(), ics.matches("\r\n").count());
    }

    #[test]
    fn offsets_and_their_names() {
        assert_eq!(utc_offset(5 * 3600), "+0500");
        assert_eq!(utc_offset(-(3 * 3600 + 30 * 60)), "-0330");
        assert_eq!(utc_offset(0), "+0000");
        assert_eq!(utc_offset(5 * 3600 + 53 * 60 + 28), "+055328");
        assert_eq!(numeric_abbreviation(5 * 3600), "+05");
        assert_eq!(numeric_abbreviation(5 * 3600 + 30 * 60), "+0530");
        assert_eq!(numeric_abbreviation(-3 * 3600), "-03");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(Duration::hours(4)), "PT4H");
        assert_eq!(duration(Duration::minutes(90)), "PT1H30M");
        assert_eq!(duration(Duration::days(1)), "P1D");
        assert_eq!(duration(Duration::hours(36)), "P1DT12H");
        assert_eq!(duration(Duration::seconds(0)), "PT0S");
        assert_eq!(duration(Duration::seconds(-61)), "-PT1M1S");
    }

    #[test]
    fn vtimezone_almaty_shows_the_2024_change_to_utc_plus_5() {
        let ics = render(&calendar(vec![
            entry(
                "a@accord",
                "2023",
                timed(
                    "2023-06-10 10:00",
                    "2023-06-10 12:00",
                    chrono_tz::Asia::Almaty,
                ),
            ),
            entry(
                "b@accord",
                "2025",
                timed(
                    "2025-06-10 10:00",
                    "2025-06-10 12:00",
                    chrono_tz::Asia::Almaty,
                ),
            ),
        ]));
        let o = |k: &str, s: &str, f: &str, t: &str, n: &str| {
            (k.into(), s.into(), f.into(), t.into(), n.into())
        };
        // From a year before 2023 to two years after 2025: one change only.
        assert_eq!(
            observances(&ics, "Asia/Almaty"),
            vec![
                o("STANDARD", "20220101T060000", "+0600", "+0600", "+06"),
                o("STANDARD", "20240301T000000", "+0600", "+0500", "+05"),
            ]
        );
        assert!(ics.contains("DTSTART;TZID=Asia/Almaty:20230610T100000\r\n"));
        assert!(ics.contains("DTEND;TZID=Asia/Almaty:20250610T120000\r\n"));
        assert_eq!(ics.matches("BEGIN:VTIMEZONE").count(), 1);
    }

    #[test]
    fn vtimezone_berlin_has_each_dst_change() {
        let ics = render(&calendar(vec![entry(
            "b@accord",
            "Berlin",
            timed(
                "2025-10-26 02:30",
                "2025-10-26 04:00",
                chrono_tz::Europe::Berlin,
            ),
        )]));
        let got = observances(&ics, "Europe/Berlin");
        let o = |k: &str, s: &str, f: &str, t: &str, n: &str| {
            (
                k.to_string(),
                s.to_string(),
                f.to_string(),
                t.to_string(),
                n.to_string(),
            )
        };
        assert_eq!(
            got[0],
            o("STANDARD", "20240101T010000", "+0100", "+0100", "CET")
        );
        assert_eq!(
            got[1],
            o("DAYLIGHT", "20240331T020000", "+0100", "+0200", "CEST")
        );
        assert_eq!(
            got[2],
            o("STANDARD", "20241027T030000", "+0200", "+0100", "CET")
        );
        assert_eq!(
            got[3],
            o("DAYLIGHT", "20250330T020000", "+0100", "+0200", "CEST")
        );
        assert_eq!(
            got[4],
            o("STANDARD", "20251026T030000", "+0200", "+0100", "CET")
        );
        // 2024 to 2027: two changes a year.
        assert_eq!(got.len(), 1 + 2 * 4);
        assert_eq!(
            got[8],
            o("STANDARD", "20271031T030000", "+0200", "+0100", "CET")
        );
    }

    #[test]
    fn every_zone_used_gets_a_vtimezone_and_series_extend_it() {
        let mut series = entry(
            "s@accord",
            "weekly",
            timed(
                "2025-01-07 09:00",
                "2025-01-07 10:00",
                chrono_tz::Europe::Moscow,
            ),
        );
        series.rrule = Some("FREQ=WEEKLY".to_string());
        series.exdates = vec![
            Occurrence::Timed(dt("2025-01-21 09:00")),
            Occurrence::AllDay(d("2025-01-14")),
            Occurrence::Timed(dt("2025-01-21 09:00")),
        ];
        // One occurrence moved to Minsk; its RECURRENCE-ID stays in Moscow's time.
        let mut moved = entry(
            "s@accord",
            "moved",
            timed(
                "2025-02-05 15:00",
                "2025-02-05 16:00",
                chrono_tz::Europe::Minsk,
            ),
        );
        moved.recurrence_id = Some(Occurrence::Timed(dt("2025-02-04 09:00")));
        let all_day = entry(
            "d@accord",
            "deadline",
            When::AllDay {
                first: d("2025-10-07"),
                last: d("2025-10-08"),
            },
        );
        let ics = render(&calendar(vec![series, moved, all_day]));
        let lines = unfold(&ics);
        let tzids: Vec<&String> = lines.iter().filter(|l| l.starts_with("TZID:")).collect();
        assert_eq!(tzids, ["TZID:Europe/Minsk", "TZID:Europe/Moscow"]);
        assert!(lines.contains(&"RRULE:FREQ=WEEKLY".to_string()));
        let exdates: Vec<&String> = lines.iter().filter(|l| l.starts_with("EXDATE")).collect();
        assert_eq!(
            exdates,
            [
                "EXDATE;TZID=Europe/Moscow:20250114T090000",
                "EXDATE;TZID=Europe/Moscow:20250121T090000"
            ]
        );
        assert!(lines.contains(&"RECURRENCE-ID;TZID=Europe/Moscow:20250204T090000".to_string()));
        assert!(lines.contains(&"DTSTART;TZID=Europe/Minsk:20250205T150000".to_string()));
        let moscow = observances(&ics, "Europe/Moscow");
        assert_eq!(moscow.len(), 1, "Moscow has not changed since 2014");
        assert_eq!(moscow[0].1, "20240101T030000");
    }

    #[test]
    fn all_day_entries_have_an_exclusive_dtend_and_are_transparent() {
        let mut e = entry(
            "d@accord",
            "Days of culture",
            When::AllDay {
                first: d("2025-10-07"),
                last: d("2025-10-08"),
            },
        );
        e.rrule = Some("FREQ=YEARLY;COUNT=3".to_string());
        e.exdates = vec![Occurrence::AllDay(d("2026-10-07"))];
        let ics = render(&calendar(vec![e]));
        let lines = unfold(&ics);
        for expected in [
            "DTSTART;VALUE=DATE:20251007",
            "DTEND;VALUE=DATE:20251009",
            "EXDATE;VALUE=DATE:20261007",
            "TRANSP:TRANSPARENT",
        ] {
            assert!(lines.contains(&expected.to_string()), "{expected} in {ics}");
        }
        assert!(!ics.contains("VTIMEZONE"));
    }

    #[test]
    fn event_properties() {
        let mut e = entry(
            "e-1@accord",
            "Opening",
            timed(
                "2025-06-10 10:00",
                "2025-06-10 12:00",
                chrono_tz::Asia::Almaty,
            ),
        );
        e.status = EntryStatus::Cancelled;
        e.sequence = 3;
        e.created = Some(Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap());
        e.url = Some("https://accord.example/api/v1/events/1".to_string());
        let ics = render(&calendar(vec![e]));
        let lines = unfold(&ics);
        let begin = lines.iter().position(|l| l == "BEGIN:VEVENT").unwrap();
        assert_eq!(
            lines[begin..],
            [
                "BEGIN:VEVENT",
                "UID:e-1@accord",
                "DTSTAMP:20250501T083000Z",
                "LAST-MODIFIED:20250501T083000Z",
                "CREATED:20250102T030405Z",
                "SEQUENCE:3",
                "STATUS:CANCELLED",
                "SUMMARY:Opening",
                "URL:https://accord.example/api/v1/events/1",
                "DTSTART;TZID=Asia/Almaty:20250610T100000",
                "DTEND;TZID=Asia/Almaty:20250610T120000",
                "END:VEVENT",
                "END:VCALENDAR",
            ]
        );
    }

    #[test]
    fn ambiguous_and_skipped_wall_times_are_written_as_instants_outside_series() {
        let berlin = chrono_tz::Europe::Berlin;
        let overlap = entry(
            "o@accord",
            "overlap",
            timed("2025-10-26 02:30", "2025-10-26 02:45", berlin),
        );
        let gap = entry(
            "g@accord",
            "gap",
            timed("2025-03-30 02:30", "2025-03-30 04:00", berlin),
        );
        let mut series = entry(
            "s@accord",
            "series",
            timed("2025-10-26 02:30", "2025-10-26 03:30", berlin),
        );
        series.rrule = Some("FREQ=YEARLY;COUNT=2".to_string());
        let ics = render(&calendar(vec![overlap, gap, series]));
        let lines = unfold(&ics);
        for expected in [
            // The earlier 02:30 (CEST) and the earlier 02:45.
            "DTSTART:20251026T003000Z",
            "DTEND:20251026T004500Z",
            // 02:30 on 2025-03-30 does not exist: read with +01:00, as RFC 5545 says.
            "DTSTART:20250330T013000Z",
            "DTEND;TZID=Europe/Berlin:20250330T040000",
            // A series keeps wall time.
            "DTSTART;TZID=Europe/Berlin:20251026T023000",
        ] {
            assert!(lines.contains(&expected.to_string()), "{expected} in {ics}");
        }
        assert_eq!(unclear_wall_time(dt("2025-10-26 01:59"), berlin), None);
        assert_eq!(unclear_wall_time(dt("2025-10-26 03:00"), berlin), None);
        assert_eq!(
            unclear_wall_time(dt("2025-10-26 02:00"), berlin),
            Some(Utc.with_ymd_and_hms(2025, 10, 26, 0, 0, 0).unwrap())
        );
    }

    #[test]
    fn output_is_deterministic() {
        let build = || {
            let mut a = entry(
                "a@accord",
                "A",
                timed(
                    "2025-06-10 10:00",
                    "2025-06-10 12:00",
                    chrono_tz::Europe::Berlin,
                ),
            );
            a.rrule = Some("FREQ=MONTHLY;COUNT=4".to_string());
            let b = entry(
                "b@accord",
                "B",
                timed(
                    "2024-03-01 10:00",
                    "2024-03-01 11:00",
                    chrono_tz::Asia::Almaty,
                ),
            );
            let c = entry(
                "c@accord",
                "C",
                timed(
                    "2026-01-01 10:00",
                    "2026-01-01 11:00",
                    chrono_tz::America::New_York,
                ),
            );
            calendar(vec![a, b, c])
        };
        let first = render(&build());
        assert_eq!(first, render(&build()));
        let tzids: Vec<String> = unfold(&first)
            .into_iter()
            .filter(|l| l.starts_with("TZID:"))
            .collect();
        assert_eq!(
            tzids,
            [
                "TZID:America/New_York",
                "TZID:Asia/Almaty",
                "TZID:Europe/Berlin"
            ]
        );
    }

    fn parties() -> (Party, Party) {
        (
            Party {
                email: "secretariat@example.org".to_string(),
                name: Some("Секретариат; комиссии".to_string()),
            },
            Party {
                email: "aigerim@example.kz".to_string(),
                name: Some("Әйгерім \"Ә\"\r\nATTENDEE:mailto:x@y".to_string()),
            },
        )
    }

    #[test]
    fn invitations_are_itip_requests_with_organizer_and_attendee() {
        let (organizer, attendee) = parties();
        let mut e = entry(
            "event-1@accord",
            "Opening",
            timed(
                "2025-06-10 10:00",
                "2025-06-10 12:00",
                chrono_tz::Asia::Almaty,
            ),
        );
        e.sequence = 2;
        let ics = invitation(&[e], &organizer, &attendee, Method::Request);
        let lines = unfold(&ics);
        assert!(lines.contains(&"METHOD:REQUEST".to_string()), "{ics}");
        assert!(!lines.iter().any(|l| l.starts_with("X-WR-CALNAME")
            || l.starts_with("NAME")
            || l.starts_with("REFRESH-INTERVAL")));
        for expected in [
            "UID:event-1@accord",
            "SEQUENCE:2",
            "STATUS:CONFIRMED",
            "ORGANIZER;CN=\"Секретариат; комиссии\":mailto:secretariat@example.org",
            // The quote and the CR LF in the name are dropped: no property of its own.
            "ATTENDEE;CN=\"Әйгерім ӘATTENDEE:mailto:x@y\";CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;\
             PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:aigerim@example.kz",
            "DTSTART;TZID=Asia/Almaty:20250610T100000",
        ] {
            let expected = expected.to_string();
            assert!(lines.contains(&expected), "{expected} in {ics}");
        }
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("ATTENDEE")).count(),
            1
        );
        assert_eq!(ics.matches("BEGIN:VTIMEZONE").count(), 1);
    }

    #[test]
    fn a_cancel_is_cancelled_and_outranks_the_last_request() {
        let (organizer, attendee) = parties();
        let mut live = entry(
            "event-2@accord",
            "Concert",
            When::AllDay {
                first: d("2025-10-07"),
                last: d("2025-10-07"),
            },
        );
        live.sequence = 4;
        // Deleted while still confirmed: the cancel must be newer than SEQUENCE 4.
        let ics = invitation(&[live.clone()], &organizer, &attendee, Method::Cancel);
        let lines = unfold(&ics);
        for expected in ["METHOD:CANCEL", "STATUS:CANCELLED", "SEQUENCE:5"] {
            assert!(lines.contains(&expected.to_string()), "{expected} in {ics}");
        }
        // Cancelled through the API: the event's own SEQUENCE already rose.
        let mut cancelled = live;
        cancelled.status = EntryStatus::Cancelled;
        cancelled.sequence = 5;
        let again = invitation(&[cancelled], &organizer, &attendee, Method::Cancel);
        assert_eq!(ics, again);
        // PUBLISH is not a scheduling method.
        let (organizer, attendee) = parties();
        let e = entry(
            "e@accord",
            "x",
            When::AllDay {
                first: d("2025-10-07"),
                last: d("2025-10-07"),
            },
        );
        assert!(
            invitation(&[e], &organizer, &attendee, Method::Publish).contains("METHOD:REQUEST\r\n")
        );
    }

    #[test]
    fn series_bounds_for_the_vtimezone() {
        let start = dt("2025-01-07 09:00");
        assert_eq!(
            series_end(start, "FREQ=WEEKLY;UNTIL=20250301T000000Z"),
            dt("2025-03-01 00:00")
        );
        assert_eq!(
            series_end(start, "FREQ=WEEKLY;COUNT=5"),
            dt("2025-02-11 09:00")
        );
        assert_eq!(
            series_end(start, "FREQ=DAILY;INTERVAL=2;COUNT=3"),
            dt("2025-01-13 09:00")
        );
        assert_eq!(
            series_end(start, "FREQ=YEARLY"),
            start + Duration::days(3660)
        );
        assert_eq!(
            series_end(start, "FREQ=YEARLY;COUNT=100"),
            series_end(start, "FREQ=YEARLY")
        );
    }
}
