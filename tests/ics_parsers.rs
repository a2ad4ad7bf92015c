//! accord's RFC 5545 writer read back by two independent parsers, Python's
//! `icalendar` (+ `recurring_ical_events`) and Mozilla's `ical.js`: times in
//! zones that changed (Kazakhstan 2024) and DST (Berlin), all-day entries,
//! cancellation, a series with EXDATE and a moved occurrence, folded Russian
//! and Kazakh text, escaping and injection. No server: calendars are built
//! with the model. Each test is one calendar, read once by each parser.

mod common;

use accord::calendar::ics::render;
use accord::calendar::{Calendar, Entry, EntryStatus, Occurrence, When};
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use common::ics::{parse_with_both, try_parse_with_both, Parsed};

fn dt(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn timed(start: &str, end: &str, zone: Tz) -> When {
    When::Timed {
        start: dt(start),
        end: Some(dt(end)),
        zone,
    }
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
        created: Some(Utc.with_ymd_and_hms(2025, 1, 2, 9, 0, 0).unwrap()),
        when,
        rrule: None,
        exdates: vec![],
        recurrence_id: None,
        categories: vec![],
        url: None,
    }
}

fn calendar(entries: Vec<Entry>) -> Calendar {
    Calendar {
        name: "accord test".to_string(),
        refresh: chrono::Duration::hours(4),
        entries,
    }
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn pair(start: &str, end: &str) -> (String, Option<String>) {
    (start.to_string(), Some(end.to_string()))
}

/// Each parser read every entry, and nothing else.
fn assert_uids(parsed: &Parsed, uids: &[&str]) {
    let got: Vec<&str> = parsed.events.iter().map(|e| e.uid.as_str()).collect();
    assert_eq!(got, uids, "{}", parsed.parser);
}

#[test]
fn kazakhstan_2024_change_and_berlin_dst_give_the_same_instants_in_both_parsers() {
    let cal = calendar(vec![
        entry(
            "almaty-2023@accord",
            "Almaty 2023",
            timed(
                "2023-06-10 10:00",
                "2023-06-10 12:00",
                chrono_tz::Asia::Almaty,
            ),
        ),
        entry(
            "almaty-2025@accord",
            "Almaty 2025",
            timed(
                "2025-06-10 10:00",
                "2025-06-10 12:00",
                chrono_tz::Asia::Almaty,
            ),
        ),
        // 02:30 happens twice on 2025-10-26 in Berlin: the earlier is 00:30Z.
        entry(
            "berlin-overlap@accord",
            "Berlin overlap",
            timed(
                "2025-10-26 02:30",
                "2025-10-26 04:00",
                chrono_tz::Europe::Berlin,
            ),
        ),
        entry(
            "berlin-summer@accord",
            "Berlin summer",
            timed(
                "2025-07-01 10:00",
                "2025-07-01 11:00",
                chrono_tz::Europe::Berlin,
            ),
        ),
        entry(
            "berlin-winter@accord",
            "Berlin winter",
            timed(
                "2025-01-15 10:00",
                "2025-01-15 11:00",
                chrono_tz::Europe::Berlin,
            ),
        ),
        entry(
            "moscow@accord",
            "Moscow",
            timed(
                "2025-06-10 10:00",
                "2025-06-10 11:30",
                chrono_tz::Europe::Moscow,
            ),
        ),
    ]);
    let ics = render(&cal);
    let expected = [
        (
            "almaty-2023@accord",
            "2023-06-10T04:00:00Z",
            "2023-06-10T06:00:00Z",
        ),
        (
            "almaty-2025@accord",
            "2025-06-10T05:00:00Z",
            "2025-06-10T07:00:00Z",
        ),
        (
            "berlin-overlap@accord",
            "2025-10-26T00:30:00Z",
            "2025-10-26T03:00:00Z",
        ),
        (
            "berlin-summer@accord",
            "2025-07-01T08:00:00Z",
            "2025-07-01T09:00:00Z",
        ),
        (
            "berlin-winter@accord",
            "2025-01-15T09:00:00Z",
            "2025-01-15T10:00:00Z",
        ),
        (
            "moscow@accord",
            "2025-06-10T07:00:00Z",
            "2025-06-10T08:30:00Z",
        ),
    ];
    for parsed in parse_with_both(&ics, "2023-01-01", "2026-01-01") {
        assert_uids(&parsed, &expected.map(|(uid, _, _)| uid));
        for (uid, start, end) in expected {
            let event = parsed.event(uid);
            assert!(!event.all_day, "{} {uid}", parsed.parser);
            assert_eq!(
                (event.start.as_str(), event.end.as_deref()),
                (start, Some(end)),
                "{} {uid}",
                parsed.parser
            );
            assert_eq!(
                parsed.times_of(uid),
                [pair(start, end)],
                "{} {uid}",
                parsed.parser
            );
        }
    }
}

#[test]
fn ical_js_takes_offsets_from_the_files_vtimezone_and_python_checks_it_against_tzdata() {
    // A VTIMEZONE that leaves out Kazakhstan's 2024 change must move the 2025
    // event in ical.js (it has no zones of its own) and be refused by check.py:
    // so the right answers above come from accord's VTIMEZONE.
    let cal = calendar(vec![
        entry(
            "almaty-2023@accord",
            "Almaty 2023",
            timed(
                "2023-06-10 10:00",
                "2023-06-10 12:00",
                chrono_tz::Asia::Almaty,
            ),
        ),
        entry(
            "almaty-2025@accord",
            "Almaty 2025",
            timed(
                "2025-06-10 10:00",
                "2025-06-10 12:00",
                chrono_tz::Asia::Almaty,
            ),
        ),
    ]);
    let ics = render(&cal);
    let change = "BEGIN:STANDARD\r\nDTSTART:20240301T000000\r\nTZOFFSETFROM:+0600\r\n\
                  TZOFFSETTO:+0500\r\nTZNAME:+05\r\nEND:STANDARD\r\n";
    assert!(ics.contains(change), "{ics}");
    let wrong = ics.replace(change, "");
    let [python, icaljs] = try_parse_with_both(&wrong, "2023-01-01", "2026-01-01");
    let python = python.expect_err("check.py must refuse a VTIMEZONE that disagrees with tzdata");
    assert!(
        python.contains("almaty-2025@accord DTSTART") && python.contains("by tzdata"),
        "{python}"
    );
    let icaljs = icaljs.unwrap();
    assert_eq!(
        icaljs.event("almaty-2025@accord").start,
        "2025-06-10T04:00:00Z"
    );

    // A TZID without any VTIMEZONE is refused by both, not read as floating time.
    let start = ics.find("BEGIN:VTIMEZONE").unwrap();
    let end = ics.find("END:VTIMEZONE\r\n").unwrap() + "END:VTIMEZONE\r\n".len();
    let without = format!("{}{}", &ics[..start], &ics[end..]);
    for result in try_parse_with_both(&without, "2023-01-01", "2026-01-01") {
        let error = result.expect_err("a TZID without VTIMEZONE must fail");
        assert!(
            error.contains("Asia/Almaty") || error.contains("TZID"),
            "{error}"
        );
    }
}

#[test]
fn all_day_and_cancelled_entries() {
    let mut cancelled = entry(
        "cancelled@accord",
        "Cancelled concert",
        timed(
            "2025-09-12 19:00",
            "2025-09-12 21:00",
            chrono_tz::Asia::Almaty,
        ),
    );
    cancelled.status = EntryStatus::Cancelled;
    cancelled.sequence = 4;
    let mut tentative = entry(
        "tentative@accord",
        "Tentative visit",
        When::AllDay {
            first: d("2025-11-03"),
            last: d("2025-11-03"),
        },
    );
    tentative.status = EntryStatus::Tentative;
    tentative.sequence = 1;
    tentative.categories = vec!["deadline".to_string()];
    let cal = calendar(vec![
        entry(
            "days@accord",
            "Days of culture",
            When::AllDay {
                first: d("2025-10-07"),
                last: d("2025-10-08"),
            },
        ),
        cancelled,
        tentative,
    ]);
    let ics = render(&cal);
    for parsed in parse_with_both(&ics, "2025-01-01", "2026-01-01") {
        let p = parsed.parser.as_str();
        assert_uids(
            &parsed,
            &["days@accord", "cancelled@accord", "tentative@accord"],
        );
        let days = parsed.event("days@accord");
        assert!(days.all_day, "{p}");
        assert_eq!(
            (days.start.as_str(), days.end.as_deref()),
            ("2025-10-07", Some("2025-10-09")),
            "{p}: DTEND is exclusive"
        );
        assert_eq!(days.status, s("CONFIRMED"), "{p}");
        assert_eq!(
            parsed.times_of("days@accord"),
            [pair("2025-10-07", "2025-10-09")],
            "{p}"
        );

        let c = parsed.event("cancelled@accord");
        assert_eq!(
            (c.status.clone(), c.sequence),
            (s("CANCELLED"), Some(4)),
            "{p}"
        );
        assert_eq!(c.start, "2025-09-12T14:00:00Z", "{p}");
        let occurrence = parsed.occurrences_of("cancelled@accord");
        assert_eq!(
            occurrence.len(),
            1,
            "{p}: a cancelled event stays in the feed"
        );
        assert_eq!(occurrence[0].status, s("CANCELLED"), "{p}");

        let t = parsed.event("tentative@accord");
        assert_eq!(
            (t.status.clone(), t.sequence),
            (s("TENTATIVE"), Some(1)),
            "{p}"
        );
        assert_eq!(
            (t.start.as_str(), t.end.as_deref()),
            ("2025-11-03", Some("2025-11-04")),
            "{p}"
        );
    }
}

#[test]
fn a_weekly_series_with_exdate_and_a_moved_occurrence_expands_identically() {
    // Tuesdays at 10:00 Berlin, six times, across the change to summer time
    // on 2025-03-30: 2025-03-18 removed, 2025-03-25 moved to Thursday 14:00.
    let mut series = entry(
        "weekly@accord",
        "Working group",
        timed(
            "2025-03-04 10:00",
            "2025-03-04 11:00",
            chrono_tz::Europe::Berlin,
        ),
    );
    series.rrule = Some("FREQ=WEEKLY;COUNT=6".to_string());
    series.exdates = vec![Occurrence::Timed(dt("2025-03-18 10:00"))];
    series.sequence = 2;
    let mut moved = entry(
        "weekly@accord",
        "Working group (moved)",
        timed(
            "2025-03-27 14:00",
            "2025-03-27 15:30",
            chrono_tz::Europe::Berlin,
        ),
    );
    moved.recurrence_id = Some(Occurrence::Timed(dt("2025-03-25 10:00")));
    moved.sequence = 3;
    // Another series at the same wall times: the override must not touch it.
    let mut other = entry(
        "other@accord",
        "Other series",
        timed(
            "2025-03-18 10:00",
            "2025-03-18 11:00",
            chrono_tz::Asia::Almaty,
        ),
    );
    other.rrule = Some("FREQ=WEEKLY;COUNT=2".to_string());
    // Yearly all-day deadlines, the second year removed.
    let mut yearly = entry(
        "yearly@accord",
        "Annual report due",
        When::AllDay {
            first: d("2025-10-07"),
            last: d("2025-10-07"),
        },
    );
    yearly.rrule = Some("FREQ=YEARLY;COUNT=3".to_string());
    yearly.exdates = vec![Occurrence::AllDay(d("2026-10-07"))];
    let ics = render(&calendar(vec![series, moved, other, yearly]));

    let [python, icaljs] = parse_with_both(&ics, "2025-01-01", "2028-01-01");
    for parsed in [&python, &icaljs] {
        let p = parsed.parser.as_str();
        assert_eq!(
            parsed.times_of("weekly@accord"),
            [
                pair("2025-03-04T09:00:00Z", "2025-03-04T10:00:00Z"),
                pair("2025-03-11T09:00:00Z", "2025-03-11T10:00:00Z"),
                pair("2025-03-27T13:00:00Z", "2025-03-27T14:30:00Z"),
                pair("2025-04-01T08:00:00Z", "2025-04-01T09:00:00Z"),
                pair("2025-04-08T08:00:00Z", "2025-04-08T09:00:00Z"),
            ],
            "{p}"
        );
        let summaries: Vec<Option<String>> = parsed
            .occurrences_of("weekly@accord")
            .iter()
            .map(|o| o.summary.clone())
            .collect();
        assert_eq!(summaries[2], s("Working group (moved)"), "{p}");
        assert_eq!(summaries[3], s("Working group"), "{p}");
        assert_eq!(
            parsed.times_of("other@accord"),
            [
                pair("2025-03-18T05:00:00Z", "2025-03-18T06:00:00Z"),
                pair("2025-03-25T05:00:00Z", "2025-03-25T06:00:00Z"),
            ],
            "{p}"
        );
        assert_eq!(
            parsed.times_of("yearly@accord"),
            [
                pair("2025-10-07", "2025-10-08"),
                pair("2027-10-07", "2027-10-08"),
            ],
            "{p}"
        );

        let master = parsed.event("weekly@accord");
        assert_eq!(master.exdates, ["2025-03-18T09:00:00Z"], "{p}");
        assert_eq!(master.sequence, Some(2), "{p}");
        let mut rule: Vec<&str> = master.rrule.as_deref().unwrap().split(';').collect();
        rule.sort();
        assert_eq!(rule, ["COUNT=6", "FREQ=WEEKLY"], "{p}");
        let over = parsed.override_of("weekly@accord", "2025-03-25T09:00:00Z");
        assert_eq!(over.start, "2025-03-27T13:00:00Z", "{p}");
        assert_eq!(over.sequence, Some(3), "{p}");
        assert_eq!(parsed.event("yearly@accord").exdates, ["2026-10-07"], "{p}");
    }
    assert_eq!(python.occurrences, icaljs.occurrences);
}

#[test]
fn long_russian_and_kazakh_titles_and_special_characters_read_back_intact() {
    let russian = "Дни культуры Республики Казахстан в Российской Федерации: \
                   гастроли Государственного академического театра оперы и балета «Астана Опера» в Москве";
    let kazakh = "Қазақстан Республикасының Ресей Федерациясындағы мәдениет күндері, \
                  «Астана Опера» мемлекеттік академиялық опера және балет театрының гастрольдері";
    let special = "Commas, semicolons; back\\slashes \\n (literal) and\na newline";
    let injection =
        "Meeting\r\nATTENDEE:mailto:x@example.org\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil";
    assert!(russian.len() > 150 && kazakh.len() > 150);

    let mut ru = entry(
        "ru@accord",
        russian,
        timed(
            "2025-10-07 19:00",
            "2025-10-07 22:00",
            chrono_tz::Europe::Moscow,
        ),
    );
    ru.description = Some(format!("{kazakh}\r\n{russian}"));
    ru.location = Some("Москва, Большой театр; Новая сцена".to_string());
    let mut kk = entry(
        "kk@accord",
        kazakh,
        When::AllDay {
            first: d("2025-10-07"),
            last: d("2025-10-10"),
        },
    );
    kk.location = Some("Мәскеу".to_string());
    let mut sp = entry(
        "special@accord",
        special,
        timed(
            "2025-10-08 10:00",
            "2025-10-08 11:00",
            chrono_tz::Asia::Almaty,
        ),
    );
    sp.description = Some("a\\b;c,d".to_string());
    let inj = entry(
        "injection@accord",
        injection,
        timed(
            "2025-10-09 10:00",
            "2025-10-09 11:00",
            chrono_tz::Asia::Almaty,
        ),
    );
    let ics = render(&calendar(vec![ru, kk, sp, inj]));
    assert!(ics.split("\r\n").all(|line| line.len() <= 75));

    for parsed in parse_with_both(&ics, "2025-01-01", "2026-01-01") {
        let p = parsed.parser.as_str();
        assert_uids(
            &parsed,
            &[
                "ru@accord",
                "kk@accord",
                "special@accord",
                "injection@accord",
            ],
        );
        let ru = parsed.event("ru@accord");
        assert_eq!(ru.summary.as_deref(), Some(russian), "{p}");
        assert_eq!(ru.description, Some(format!("{kazakh}\n{russian}")), "{p}");
        assert_eq!(ru.location, s("Москва, Большой театр; Новая сцена"), "{p}");
        assert_eq!(ru.start, "2025-10-07T16:00:00Z", "{p}");
        let kk = parsed.event("kk@accord");
        assert_eq!(kk.summary.as_deref(), Some(kazakh), "{p}");
        assert_eq!(kk.location, s("Мәскеу"), "{p}");
        assert_eq!(kk.end, s("2025-10-11"), "{p}");
        let sp = parsed.event("special@accord");
        assert_eq!(sp.summary.as_deref(), Some(special), "{p}");
        assert_eq!(sp.description, s("a\\b;c,d"), "{p}");
        let inj = parsed.event("injection@accord");
        assert_eq!(
            inj.summary,
            s("Meeting\nATTENDEE:mailto:x@example.org\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil"),
            "{p}: the attempt stays text of SUMMARY"
        );
        assert_eq!(inj.start, "2025-10-09T05:00:00Z", "{p}");
        let titles: Vec<Option<String>> = parsed
            .occurrences
            .iter()
            .map(|o| o.summary.clone())
            .collect();
        assert_eq!(
            titles,
            [
                Some(kazakh.to_string()),
                Some(russian.to_string()),
                Some(special.to_string()),
                inj.summary.clone()
            ],
            "{p}"
        );
    }
}

#[test]
fn broken_files_fail_both_parsers() {
    for broken in [
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nnot a content line\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20250101T100000Z\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:2025-99\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    ] {
        for result in try_parse_with_both(broken, "2025-01-01", "2026-01-01") {
            assert!(result.is_err(), "{broken:?}: {result:?}");
        }
    }
}
