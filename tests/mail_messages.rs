//! The emails accord sends, read back by Python's standard `email` package:
//! every kind in Russian, Kazakh, English (and another language, which reads
//! Russian); subjects decoded exactly, the queued Message-ID, text and HTML
//! parts, local times for recipients in Almaty and Moscow, iTIP invitations
//! and cancellations read by two calendar parsers, and headers that hostile
//! titles and names cannot break. Then the same emails through the Mailer:
//! over SMTP to a real server on loopback (aiosmtpd), and as .eml files.
//! No database is involved; both backends' runs execute it anyway.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use accord::calendar::{ics, Entry, EntryStatus, Method, Party, When};
use accord::config::{MailSettings, Settings, Sources};
use accord::notify::mailer::Mailer;
use accord::notify::payload::{DueItem, Named, Payload, KINDS};
use accord::notify::templates;
use accord::notify::SendError;
use accord::store::notifications::{message_id, NotificationRow};
use chrono::{NaiveDate, TimeZone, Utc};
use common::ics::parse_with_both;
use common::mail::{parse_email, parse_emails, ParsedEmail};
use common::smtp::SmtpSink;

fn titles(ru: &str, kk: &str, en: &str) -> BTreeMap<String, String> {
    [("ru", ru), ("kk", kk), ("en", en)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn programme() -> Named {
    Named {
        id: "p-1".to_string(),
        key: Some("KZ-RU-2025".to_string()),
        title: titles(
            "Программа сотрудничества в области культуры на 2025–2027 годы",
            "Мәдениет саласындағы ынтымақтастықтың 2025–2027 жылдарға арналған бағдарламасы",
            "Programme of cultural cooperation for 2025–2027",
        ),
    }
}

fn obligation(number: &str, due: &str, days_left: i64) -> DueItem {
    DueItem {
        kind: "obligation".to_string(),
        id: format!("o-{number}"),
        number: Some(number.to_string()),
        title: titles(
            "Провести Дни культуры Казахстана в России",
            "Ресейде Қазақстан мәдениеті күндерін өткізу",
            "Hold the Days of Kazakh Culture in Russia",
        ),
        field: "obligation_due".to_string(),
        due_on: Some(d(due)),
        starts_at: None,
        days_left,
        occurrence: String::new(),
        responsible: vec!["KZ-MCS".to_string()],
        url: format!("https://accord.example.org/api/v1/obligations/o-{number}"),
    }
}

/// The instant of the acceptance criteria: 10:00 in Almaty, 08:00 in Moscow.
fn opening() -> DueItem {
    DueItem {
        kind: "event".to_string(),
        id: "e-1".to_string(),
        number: None,
        title: titles(
            "Торжественное открытие Дней культуры",
            "Мәдениет күндерінің салтанатты ашылуы",
            "Opening of the Days of Culture",
        ),
        field: "event_start".to_string(),
        due_on: Some(d("2025-06-10")),
        starts_at: Some(Utc.with_ymd_and_hms(2025, 6, 10, 5, 0, 0).unwrap()),
        days_left: 7,
        occurrence: String::new(),
        responsible: vec![],
        url: "https://accord.example.org/api/v1/events/e-1".to_string(),
    }
}

fn event_entry(status: EntryStatus, sequence: i32) -> Entry {
    Entry {
        uid: "event-e-1@accord".to_string(),
        summary: "Торжественное открытие Дней культуры".to_string(),
        description: None,
        location: Some("Москва, Большой театр".to_string()),
        status,
        sequence,
        last_modified: Utc.with_ymd_and_hms(2025, 5, 1, 8, 30, 0).unwrap(),
        created: None,
        when: When::Timed {
            start: d("2025-06-10").and_hms_opt(8, 0, 0).unwrap(),
            end: Some(d("2025-06-10").and_hms_opt(10, 0, 0).unwrap()),
            zone: chrono_tz::Europe::Moscow,
        },
        rrule: None,
        exdates: vec![],
        recurrence_id: None,
        categories: vec!["festival".to_string()],
        url: Some("https://accord.example.org/api/v1/events/e-1".to_string()),
    }
}

fn invitation(method: Method) -> String {
    let organizer = Party {
        email: "secretariat@example.org".to_string(),
        name: Some("Секретариат комиссии".to_string()),
    };
    let attendee = Party {
        email: "aigerim@example.kz".to_string(),
        name: Some("Әйгерім Сейітқызы".to_string()),
    };
    let entry = match method {
        Method::Cancel => event_entry(EntryStatus::Cancelled, 3),
        _ => event_entry(EntryStatus::Confirmed, 2),
    };
    ics::invitation(&[entry], &organizer, &attendee, method)
}

fn payload(kind: &str) -> Payload {
    let items = match kind {
        "reminder" => vec![obligation("1.1", "2025-06-17", 7)],
        "overdue" => vec![obligation("1.1", "2025-06-07", -3)],
        "escalation" => vec![
            obligation("1.1", "2025-06-07", -3),
            obligation("2.4", "2025-05-31", -10),
        ],
        "digest" => vec![
            obligation("1.1", "2025-06-17", 7),
            opening(),
            obligation("3.2", "2025-06-01", -9),
        ],
        _ => vec![opening()],
    };
    let ics = match kind {
        "event_invitation" | "event_change" => Some(invitation(Method::Request)),
        "event_cancellation" => Some(invitation(Method::Cancel)),
        _ => None,
    };
    Payload {
        recipient_name: "Әйгерім Сейітқызы".to_string(),
        programme: Some(programme()),
        items,
        ics,
    }
}

fn row(kind: &str, language: &str, zone: &str, payload: &Payload) -> NotificationRow {
    let at = Utc
        .with_ymd_and_hms(2025, 6, 3, 4, 0, 0)
        .unwrap()
        .naive_utc();
    let id = format!("n-{kind}-{language}-{}", zone.replace('/', "-"));
    NotificationRow {
        message_id: message_id(&id, "test.example"),
        id: id.clone(),
        dedupe_key: id,
        kind: kind.to_string(),
        contact_id: Some("c-1".to_string()),
        recipient: "aigerim@example.kz".to_string(),
        language: language.to_string(),
        time_zone: zone.to_string(),
        programme_id: Some("p-1".to_string()),
        item_kind: payload.items.first().map(|i| i.kind.clone()),
        item_id: payload.items.first().map(|i| i.id.clone()),
        occurrence: String::new(),
        due_on: payload.items.first().and_then(|i| i.due_on),
        offset_days: payload.items.first().map(|i| i.days_left as i32),
        payload: serde_json::to_string(payload).unwrap(),
        send_after: at,
        state: "sending".to_string(),
        attempts: 1,
        lease_until: None,
        claimed_by: None,
        last_error: None,
        digest_id: None,
        created_at: at,
        updated_at: at,
        sent_at: None,
    }
}

/// The [mail] settings of the defaults plus `toml` (no database is touched).
fn mail_settings(toml: &str) -> MailSettings {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mail.toml");
    std::fs::write(&file, toml).unwrap();
    Settings::load(&Sources {
        profile: None,
        file: Some(file),
        base_dir: Some(dir.path().to_path_buf()),
    })
    .unwrap()
    .mail
}

/// A mailer whose transport is never used: only `message()` is called.
fn composer() -> Mailer {
    let dir = tempfile::tempdir().unwrap();
    Mailer::from_settings(&mail_settings(&format!(
        "[mail]\ntransport = \"file\"\nfrom = \"Секретариат accord <accord@test.example>\"\n\
         [mail.file]\ndir = \"{}\"\n",
        dir.path().display()
    )))
    .unwrap()
}

fn email_of(mailer: &Mailer, n: &NotificationRow) -> (Vec<u8>, ParsedEmail) {
    let bytes = mailer.message(n).unwrap().formatted();
    let parsed = parse_email(&bytes);
    (bytes, parsed)
}

/// Exactly these top-level headers, each once.
const HEADERS: [&str; 8] = [
    "auto-submitted",
    "content-type",
    "date",
    "from",
    "message-id",
    "mime-version",
    "subject",
    "to",
];

fn assert_headers_intact(email: &ParsedEmail, bytes: &[u8]) {
    let mut names = email.header_names();
    names.sort();
    assert_eq!(
        names,
        HEADERS,
        "headers of\n{}",
        String::from_utf8_lossy(bytes)
    );
    assert!(email.defects.is_empty(), "defects: {:?}", email.defects);
    for line in &email.header_lines {
        // RFC 5322: lines of at most 998 octets; a line is a field or its fold.
        assert!(line.len() <= 998, "{} octets", line.len());
        assert!(
            line.starts_with([' ', '\t'])
                || line
                    .split_once(':')
                    .is_some_and(|(name, _)| HEADERS.contains(&name.to_lowercase().as_str())),
            "a header line that is no known field: {line:?}"
        );
        assert!(line.is_ascii(), "raw non-ASCII in a header: {line:?}");
    }
}

#[test]
fn every_kind_in_every_language_reads_back_with_its_subject_message_id_and_parts() {
    let mailer = composer();
    let mut cases = vec![];
    // uz has no words of its own: it reads Russian.
    for (language, greeting, expect) in [
        ("ru", "Здравствуйте, Әйгерім Сейітқызы!", "ru"),
        ("kk", "Құрметті Әйгерім Сейітқызы!", "kk"),
        ("en", "Dear Әйгерім Сейітқызы,", "en"),
        ("uz", "Здравствуйте, Әйгерім Сейітқызы!", "ru"),
    ] {
        for kind in KINDS {
            let p = payload(kind);
            let n = row(kind, language, "Asia/Almaty", &p);
            let bytes = mailer.message(&n).unwrap().formatted();
            cases.push((language, greeting, expect, kind, p, n, bytes));
        }
    }
    let emails = parse_emails(&cases.iter().map(|c| c.6.clone()).collect::<Vec<_>>());
    for ((language, greeting, expect, kind, p, n, bytes), email) in cases.iter().zip(&emails) {
        let (language, greeting, expect, kind) = (*language, *greeting, *expect, *kind);
        let context = format!("{kind} in {language}");
        assert_headers_intact(email, bytes);
        let rendered = templates::render(n, p);
        assert_eq!(
            email.header("Subject"),
            Some(rendered.subject.as_str()),
            "{context}"
        );
        assert_eq!(
            email.header("Message-ID"),
            Some(n.message_id.as_str()),
            "{context}"
        );
        assert_eq!(
            email.header("To"),
            Some("Әйгерім Сейітқызы <aigerim@example.kz>"),
            "{context}"
        );
        assert_eq!(
            email.header("From"),
            Some("Секретариат accord <accord@test.example>")
        );
        assert_eq!(email.header("Auto-Submitted"), Some("auto-generated"));
        let text = email.text_of("text/plain");
        let html = email.text_of("text/html");
        assert!(text.starts_with(greeting), "{context}: {text}");
        assert!(html.contains(greeting), "{context}");
        assert!(
            html.contains(&format!("<html lang=\"{expect}\">")),
            "{context}"
        );
        assert_eq!(
            rendered.text.replace("\r\n", "\n"),
            text.replace("\r\n", "\n")
        );
        // The programme, each item's number and title, what is due, and the link.
        let (programme, title, field, report) = match expect {
                "ru" => (
                    "Программа: Программа сотрудничества в области культуры на 2025–2027 годы",
                    "Провести Дни культуры Казахстана в России",
                    "Срок исполнения: ",
                    "Отчитаться об исполнении: https://accord.example.org/api/v1/obligations/o-1.1",
                ),
                "kk" => (
                    "Бағдарлама: Мәдениет саласындағы ынтымақтастықтың 2025–2027 жылдарға арналған бағдарламасы",
                    "Ресейде Қазақстан мәдениеті күндерін өткізу",
                    "Орындау мерзімі: ",
                    "Орындалуы туралы есеп беру: https://accord.example.org/api/v1/obligations/o-1.1",
                ),
                _ => (
                    "Programme: Programme of cultural cooperation for 2025–2027",
                    "Hold the Days of Kazakh Culture in Russia",
                    "Deadline: ",
                    "Report on it: https://accord.example.org/api/v1/obligations/o-1.1",
                ),
            };
        assert!(text.contains(programme), "{context}: {text}");
        if !kind.starts_with("event_") {
            assert!(text.contains(&format!("1.1 {title}")), "{context}: {text}");
            assert!(text.contains(field), "{context}: {text}");
            assert!(text.contains(report), "{context}: {text}");
            assert!(
                html.contains("href=\"https://accord.example.org/api/v1/obligations/o-1.1\""),
                "{context}"
            );
        }
        let calendars = email.parts_of("text/calendar");
        if kind.starts_with("event_") {
            assert_eq!(calendars.len(), 1, "{context}: {:?}", email.structure);
        } else {
            assert!(calendars.is_empty(), "{context}");
            assert_eq!(
                email.structure,
                [
                    (0, "multipart/alternative".to_string()),
                    (1, "text/plain".to_string()),
                    (1, "text/html".to_string())
                ]
            );
        }
    }
}

#[test]
fn subjects_are_exactly_these() {
    let mailer = composer();
    let cases = [
        ("reminder", "ru", "Напоминание: 1.1 Провести Дни культуры Казахстана в России — 17 июня 2025 г."),
        ("reminder", "kk", "Еске салу: 1.1 Ресейде Қазақстан мәдениеті күндерін өткізу — 2025 жылғы 17 маусым"),
        ("reminder", "en", "Reminder: 1.1 Hold the Days of Kazakh Culture in Russia — 17 June 2025"),
        ("overdue", "ru", "Просрочено: 1.1 Провести Дни культуры Казахстана в России (срок — 7 июня 2025 г.)"),
        ("overdue", "kk", "Мерзімі өтті: 1.1 Ресейде Қазақстан мәдениеті күндерін өткізу (мерзімі — 2025 жылғы 7 маусым)"),
        ("escalation", "ru", "Просроченные пункты (2): Программа сотрудничества в области культуры на 2025–2027 годы"),
        ("escalation", "en", "Overdue items (2): Programme of cultural cooperation for 2025–2027"),
        ("digest", "ru", "Сводка сроков: 3 пункта"),
        ("digest", "kk", "Мерзімдер жиынтығы: 3 тармақ"),
        ("digest", "en", "Your digest: 3 items"),
        ("event_invitation", "ru", "Приглашение: Торжественное открытие Дней культуры — 10 июня 2025 г. в 10:00"),
        ("event_invitation", "kk", "Шақыру: Мәдениет күндерінің салтанатты ашылуы — 2025 жылғы 10 маусым, сағат 10:00"),
        ("event_change", "en", "Changed: Opening of the Days of Culture — 10 June 2025 at 10:00"),
        ("event_cancellation", "ru", "Отменено: Торжественное открытие Дней культуры — 10 июня 2025 г. в 10:00"),
        ("event_cancellation", "kk", "Өткізілмейді: Мәдениет күндерінің салтанатты ашылуы — 2025 жылғы 10 маусым, сағат 10:00"),
    ];
    let emails = parse_emails(
        &cases
            .iter()
            .map(|(kind, language, _)| {
                let n = row(kind, language, "Asia/Almaty", &payload(kind));
                mailer.message(&n).unwrap().formatted()
            })
            .collect::<Vec<_>>(),
    );
    for ((kind, language, subject), email) in cases.into_iter().zip(emails) {
        assert_eq!(
            email.header("Subject"),
            Some(subject),
            "{kind} in {language}"
        );
    }
}

#[test]
fn one_instant_is_10_00_for_almaty_and_08_00_for_moscow() {
    let mailer = composer();
    for (language, almaty, moscow) in [
        (
            "ru",
            "Начало мероприятия: 10 июня 2025 г. в 10:00 (Asia/Almaty, UTC+05:00) — осталось 7 дней",
            "Начало мероприятия: 10 июня 2025 г. в 08:00 (Europe/Moscow, UTC+03:00) — осталось 7 дней",
        ),
        (
            "kk",
            "Іс-шараның басталуы: 2025 жылғы 10 маусым, сағат 10:00 (Asia/Almaty, UTC+05:00) — 7 күн қалды",
            "Іс-шараның басталуы: 2025 жылғы 10 маусым, сағат 08:00 (Europe/Moscow, UTC+03:00) — 7 күн қалды",
        ),
        (
            "en",
            "Event starts: 10 June 2025 at 10:00 (Asia/Almaty, UTC+05:00) — 7 days left",
            "Event starts: 10 June 2025 at 08:00 (Europe/Moscow, UTC+03:00) — 7 days left",
        ),
    ] {
        for (zone, line, other) in [("Asia/Almaty", almaty, moscow), ("Europe/Moscow", moscow, almaty)] {
            let p = payload("event_invitation");
            let (_, email) = email_of(&mailer, &row("event_invitation", language, zone, &p));
            let text = email.text_of("text/plain");
            assert!(text.contains(line), "{language} {zone}: {text}");
            assert!(!text.contains(other), "{language} {zone}");
            let html = email.text_of("text/html");
            let (label, when) = line.split_once(": ").unwrap();
            let when = when.split(" — ").next().unwrap();
            assert!(
                html.contains(&format!("{label}: <strong>{when}</strong>")),
                "{language} {zone}: {html}"
            );
        }
    }
    // The digest mixes a date (no zone) with the instant.
    let p = payload("digest");
    let (_, email) = email_of(&mailer, &row("digest", "ru", "Europe/Moscow", &p));
    let text = email.text_of("text/plain");
    assert!(
        text.contains("Срок исполнения: 17 июня 2025 г. — осталось 7 дней"),
        "{text}"
    );
    assert!(
        text.contains("в 08:00 (Europe/Moscow, UTC+03:00)"),
        "{text}"
    );
    assert!(
        text.contains("Срок исполнения: 1 июня 2025 г. — просрочено на 9 дней"),
        "{text}"
    );
}

#[test]
fn kazakh_and_russian_words_and_dates() {
    let mailer = composer();
    let text_of = |kind: &str, language: &str| {
        let (_, email) = email_of(&mailer, &row(kind, language, "Asia/Almaty", &payload(kind)));
        email.text_of("text/plain").to_string()
    };
    let kk = text_of("overdue", "kk");
    for words in [
        "Құрметті Әйгерім Сейітқызы!",
        "Мерзім өтіп кетті, бірақ тармақ әлі орындалды деп белгіленген жоқ:",
        "Орындау мерзімі: 2025 жылғы 7 маусым — мерзімі өткеніне 3 күн болды",
        "Жауаптылар: KZ-MCS",
        "еске салулар тоқтайды",
        "accord жүйесі автоматты түрде жіберді",
    ] {
        assert!(kk.contains(words), "{words} in {kk}");
    }
    let ru = text_of("escalation", "ru");
    for words in [
        "Здравствуйте, Әйгерім Сейітқызы!",
        "Следующие пункты не выполнены в срок (2):",
        "Срок исполнения: 7 июня 2025 г. — просрочено на 3 дня",
        "2.4 Провести Дни культуры Казахстана в России",
        "Срок исполнения: 31 мая 2025 г. — просрочено на 10 дней",
        "Ответственные: KZ-MCS",
    ] {
        assert!(ru.contains(words), "{words} in {ru}");
    }
    let en = text_of("reminder", "en");
    assert!(en.contains("Deadline: 17 June 2025 — 7 days left"), "{en}");
    // A title missing in Kazakh falls back to Russian, then English.
    let mut p = payload("reminder");
    p.items[0].title.remove("kk");
    let (_, email) = email_of(&mailer, &row("reminder", "kk", "Asia/Almaty", &p));
    assert!(email
        .text_of("text/plain")
        .contains("1.1 Провести Дни культуры Казахстана в России"));
    p.items[0].title.remove("ru");
    let (_, email) = email_of(&mailer, &row("reminder", "kk", "Asia/Almaty", &p));
    assert!(email
        .text_of("text/plain")
        .contains("1.1 Hold the Days of Kazakh Culture in Russia"));
}

#[test]
fn event_emails_carry_itip_request_and_cancel_that_both_parsers_read() {
    let mailer = composer();
    for (kind, method, status, sequence) in [
        ("event_invitation", "REQUEST", "CONFIRMED", 2),
        ("event_change", "REQUEST", "CONFIRMED", 2),
        ("event_cancellation", "CANCEL", "CANCELLED", 3),
    ] {
        let (_, email) = email_of(&mailer, &row(kind, "ru", "Asia/Almaty", &payload(kind)));
        assert_eq!(
            email.structure,
            [
                (0, "multipart/mixed".to_string()),
                (1, "multipart/alternative".to_string()),
                (2, "text/plain".to_string()),
                (2, "text/html".to_string()),
                (2, "text/calendar".to_string()),
                (1, "application/ics".to_string()),
            ],
            "{kind}"
        );
        let inline = email.parts_of("text/calendar")[0];
        assert_eq!(
            inline.params.get("method").map(String::as_str),
            Some(method)
        );
        let attached = email.parts_of("application/ics")[0];
        assert_eq!(attached.disposition.as_deref(), Some("attachment"));
        assert_eq!(attached.filename.as_deref(), Some("invite.ics"));
        let body = inline.text.clone().unwrap();
        assert_eq!(attached.text.as_deref(), Some(body.as_str()));
        let lines: Vec<String> = body
            .replace("\r\n ", "")
            .split("\r\n")
            .map(str::to_string)
            .collect();
        for expected in [
            format!("METHOD:{method}"),
            format!("STATUS:{status}"),
            format!("SEQUENCE:{sequence}"),
            "UID:event-e-1@accord".to_string(),
            "ORGANIZER;CN=Секретариат комиссии:mailto:secretariat@example.org".to_string(),
        ] {
            assert!(lines.contains(&expected), "{kind}: {expected} in {body}");
        }
        assert!(lines
            .iter()
            .any(|l| l.starts_with("ATTENDEE;CN=Әйгерім Сейітқызы;")
                && l.ends_with(":mailto:aigerim@example.kz")));
        for parsed in parse_with_both(&body, "2025-06-01", "2025-07-01") {
            let event = parsed.event("event-e-1@accord");
            assert_eq!(event.status.as_deref(), Some(status), "{}", parsed.parser);
            assert_eq!(
                event.sequence,
                Some(i64::from(sequence)),
                "{}",
                parsed.parser
            );
            assert_eq!(
                event.summary.as_deref(),
                Some("Торжественное открытие Дней культуры")
            );
            assert_eq!(event.start, "2025-06-10T05:00:00Z", "{}", parsed.parser);
        }
    }
}

#[test]
fn hostile_titles_and_names_leave_the_headers_intact() {
    let mailer = composer();
    let hostile = format!(
        "Дни культуры\r\nBcc: victim@example.org\r\n\r\n<b>body</b>\nSubject: x \u{7}\u{0}{}",
        "Қазақстан мен Ресей арасындағы мәдени ынтымақтастық ".repeat(12)
    );
    assert!(hostile.chars().count() > 500);
    let mut cases = vec![];
    for kind in KINDS {
        for language in ["ru", "kk", "en"] {
            let mut p = payload(kind);
            p.recipient_name = "Иванов, \"Иван\"\r\nBcc: victim@example.org".to_string();
            for item in &mut p.items {
                item.title.insert(language.to_string(), hostile.clone());
                item.number = Some("1.1\r\nX-Injected: 1".to_string());
            }
            p.programme
                .as_mut()
                .unwrap()
                .title
                .insert(language.to_string(), hostile.clone());
            let n = row(kind, language, "Asia/Almaty", &p);
            let message = mailer.message(&n).unwrap();
            // The envelope has the one recipient.
            assert_eq!(
                message
                    .envelope()
                    .to()
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>(),
                ["aigerim@example.kz"]
            );
            cases.push((kind, language, p, n, message.formatted()));
        }
    }
    let emails = parse_emails(&cases.iter().map(|c| c.4.clone()).collect::<Vec<_>>());
    for ((kind, language, p, n, bytes), email) in cases.into_iter().zip(emails) {
        let context = format!("{kind} in {language}");
        assert_headers_intact(&email, &bytes);
        let subject = email.header("Subject").unwrap();
        assert_eq!(subject, templates::render(&n, &p).subject, "{context}");
        assert!(!subject.contains(['\r', '\n', '\u{7}', '\0']), "{context}");
        assert!(
            subject.chars().count() > 500 || kind == "digest",
            "{context}: {subject}"
        );
        // The name on one line, quotes and comma kept: one mailbox.
        assert_eq!(
            email.header("To"),
            Some("Иванов, \"Иван\" Bcc: victim@example.org <aigerim@example.kz>"),
            "{context}"
        );
        let to = &email.addresses["to"];
        assert_eq!(to.len(), 1, "{context}: {to:?}");
        assert_eq!(to[0].1, "aigerim@example.kz");
        assert!(email
            .header_names()
            .iter()
            .all(|h| h != "bcc" && h != "x-injected"));
        assert_eq!(email.header("Message-ID"), Some(n.message_id.as_str()));
        // The HTML part shows the tags as text.
        let html = email.text_of("text/html");
        assert!(!html.contains("<b>body</b>"), "{context}");
        assert!(html.contains("&lt;b&gt;body&lt;/b&gt;"), "{context}");
    }
}

#[test]
fn html_escapes_script_and_links_only_web_urls() {
    let mailer = composer();
    let mut p = payload("digest");
    p.recipient_name = "<img src=x onerror=alert(1)>".to_string();
    p.items[0].title.insert(
        "ru".to_string(),
        "<script>alert('x')</script> & \"q\"".to_string(),
    );
    p.items[0].responsible = vec!["<i>KZ</i>".to_string()];
    p.items[1].url = "javascript:alert(1)".to_string();
    p.items[2].url = "https://accord.example.org/x?a=1&b=\"2\"".to_string();
    let (_, email) = email_of(&mailer, &row("digest", "ru", "Asia/Almaty", &p));
    let html = email.text_of("text/html");
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<i>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));
    assert!(html.contains("Здравствуйте, &lt;img src=x onerror=alert(1)&gt;!"));
    assert!(!html.contains("href=\"javascript"), "{html}");
    assert!(html.contains("Подробнее: javascript:alert(1)"), "{html}");
    assert!(html.contains("href=\"https://accord.example.org/x?a=1&amp;b=&quot;2&quot;\""));
    // The plain text says it as it is.
    let text = email.text_of("text/plain");
    assert!(text.contains("<script>alert('x')</script> & \"q\""));
}

fn smtp_mailer(sink: &SmtpSink) -> Mailer {
    Mailer::from_settings(&mail_settings(&sink.mail_toml())).unwrap()
}

#[test]
fn the_mailer_delivers_over_smtp_to_a_real_server() {
    let sink = SmtpSink::start();
    let mailer = smtp_mailer(&sink);
    let mut sent = vec![];
    for (kind, language, zone) in [
        ("reminder", "kk", "Asia/Almaty"),
        ("event_invitation", "ru", "Europe/Moscow"),
        ("event_cancellation", "en", "Asia/Almaty"),
    ] {
        let p = payload(kind);
        let n = row(kind, language, zone, &p);
        mailer.deliver(&n).unwrap();
        sent.push((n.clone(), templates::render(&n, &p).subject));
    }
    let received = sink.wait_for(3, Duration::from_secs(30));
    assert_eq!(received.len(), 3);
    for ((n, subject), got) in sent.iter().zip(&received) {
        assert_eq!(got.rcpt_tos, ["aigerim@example.kz"]);
        assert_eq!(got.mail_from, "accord@test.example");
        let email = parse_email(&got.raw);
        assert_eq!(email.header("Subject"), Some(subject.as_str()));
        assert_eq!(email.header("Message-ID"), Some(n.message_id.as_str()));
        assert_headers_intact(&email, &got.raw);
        assert!(!email.text_of("text/plain").is_empty());
    }
    let moscow = parse_email(&received[1].raw);
    assert!(moscow
        .text_of("text/plain")
        .contains("в 08:00 (Europe/Moscow, UTC+03:00)"));
    assert_eq!(
        moscow.parts_of("text/calendar")[0]
            .params
            .get("method")
            .map(String::as_str),
        Some("REQUEST")
    );
    let cancel = parse_email(&received[2].raw);
    assert_eq!(
        cancel.parts_of("text/calendar")[0]
            .params
            .get("method")
            .map(String::as_str),
        Some("CANCEL")
    );
}

#[test]
fn smtp_failures_are_transient_or_permanent_as_the_worker_needs() {
    let sink = SmtpSink::start();
    let mailer = smtp_mailer(&sink);
    let p = payload("reminder");
    let n = row("reminder", "ru", "Asia/Almaty", &p);

    sink.fail_next(1, 451);
    match mailer.deliver(&n) {
        Err(SendError::Transient(e)) => assert!(e.contains("451"), "{e}"),
        other => panic!("451 must be transient: {other:?}"),
    }
    let mut refused = n.clone();
    refused.recipient = "nobody@example.kz".to_string();
    sink.reject_recipient("nobody@example.kz");
    match mailer.deliver(&refused) {
        Err(SendError::Permanent(e)) => assert!(e.contains("550"), "{e}"),
        other => panic!("550 must be permanent: {other:?}"),
    }
    // The same row again, after a transient failure: it goes through.
    mailer.deliver(&n).unwrap();
    let got = sink.wait_for(1, Duration::from_secs(30));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message_id, n.message_id);

    // Nobody listening: refused connections are transient.
    sink.stop();
    match mailer.deliver(&n) {
        Err(SendError::Transient(_)) => {}
        other => panic!("a refused connection must be transient: {other:?}"),
    }
    sink.restart();
    // Rows that can never be an email fail for good, without a connection.
    let mut bad = n.clone();
    bad.recipient = "not an address".to_string();
    assert!(matches!(mailer.deliver(&bad), Err(SendError::Permanent(_))));
    let mut bad = n.clone();
    bad.payload = "{".to_string();
    assert!(matches!(mailer.deliver(&bad), Err(SendError::Permanent(_))));

    // A server slower than mail.smtp.timeout_secs: transient (the worker
    // retries; the same Message-ID marks a duplicate if it did arrive).
    let impatient = Mailer::from_settings(&mail_settings(
        &sink
            .mail_toml()
            .replace("timeout_secs = 5", "timeout_secs = 1"),
    ))
    .unwrap();
    sink.delay(4.0);
    match impatient.deliver(&n) {
        Err(SendError::Transient(e)) => assert!(e.starts_with("timed out"), "{e}"),
        other => panic!("a timeout must be transient: {other:?}"),
    }
}

#[test]
fn the_file_transport_writes_one_parseable_eml_per_notification() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mail-out");
    let mailer = Mailer::from_settings(&mail_settings(&format!(
        "[mail.file]\ndir = \"{}\"\n",
        out.display()
    )))
    .unwrap();
    let p = payload("event_invitation");
    let n = row("event_invitation", "kk", "Asia/Almaty", &p);
    mailer.deliver(&n).unwrap();
    // A retry replaces the file rather than adding one.
    mailer.deliver(&n).unwrap();
    let files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "eml");
    let bytes = std::fs::read(&files[0]).unwrap();
    let email = parse_email(&bytes);
    assert_headers_intact(&email, &bytes);
    assert_eq!(email.header("Message-ID"), Some(n.message_id.as_str()));
    assert_eq!(
        email.header("Subject"),
        Some(templates::render(&n, &p).subject.as_str())
    );
    assert_eq!(email.header("From"), Some("accord <accord@localhost>"));
    assert!(email.text_of("text/plain").contains("Құрметті"));

    // The no-op transport accepts anything.
    let mut bad = n.clone();
    bad.payload = "not JSON".to_string();
    assert_eq!(Mailer::noop().deliver(&bad), Ok(()));
}
