//! The words of every email accord sends, in Russian, Kazakh and English
//! (any other language reads Russian, the commissions' working language),
//! with a plain-text and an HTML part. Rendered from the outbox row (kind,
//! language, zone) and its payload, so a retry says exactly what the first
//! attempt said. Dates are dates; instants are shown in the recipient's zone,
//! with the zone and its offset.
//!
//! Written as Rust rather than with a template engine: seven kinds in three
//! languages share one layout, and what varies is grammar (plurals, date
//! forms, word order) that code states more plainly than template syntax.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

use super::payload::{DueItem, Payload};
use crate::store::notifications::NotificationRow;

/// What one email says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line: no control characters.
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The languages emails are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ru,
    Kk,
    En,
}

impl Lang {
    /// The language to write to a reader of `code` (`kk`, `kk-KZ`, `EN`...):
    /// Russian unless Kazakh or English.
    pub fn of(code: &str) -> Lang {
        let primary = code
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match primary.as_str() {
            "kk" => Lang::Kk,
            "en" => Lang::En,
            _ => Lang::Ru,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::Kk => "kk",
            Lang::En => "en",
        }
    }
}

/// The email for an outbox row and its payload, in the row's language and
/// zone (an unknown zone shows times in UTC).
pub fn render(n: &NotificationRow, payload: &Payload) -> Rendered {
    let lang = Lang::of(&n.language);
    let zone: Tz = n.time_zone.trim().parse().unwrap_or(chrono_tz::UTC);
    let letter = compose(n, payload, lang, zone);
    Rendered {
        subject: letter.subject.clone(),
        text: letter.text(),
        html: letter.html(lang),
    }
}

/// User text for one line: control characters (CR, LF, tabs...) become
/// spaces and runs of spaces one, so no title or name can end a header line
/// or break the layout.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// Text for HTML: the five characters that could open markup or end an attribute.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A title in the reader's language, then Russian, English, any (blank
/// texts do not count); on one line.
fn pick(titles: &BTreeMap<String, String>, lang: Lang) -> String {
    let usable = |code: &str| {
        titles
            .get(code)
            .filter(|t| !t.trim().is_empty())
            .map(String::as_str)
    };
    let text = usable(lang.code())
        .or_else(|| usable("ru"))
        .or_else(|| usable("en"))
        .or_else(|| {
            titles
                .values()
                .find(|t| !t.trim().is_empty())
                .map(String::as_str)
        })
        .unwrap_or("—");
    one_line(text)
}

const MONTHS_RU: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];
const MONTHS_KK: [&str; 12] = [
    "қаңтар",
    "ақпан",
    "наурыз",
    "сәуір",
    "мамыр",
    "маусым",
    "шілде",
    "тамыз",
    "қыркүйек",
    "қазан",
    "қараша",
    "желтоқсан",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date as a reader of `lang` writes it: 10 июня 2025 г.; 2025 жылғы
/// 10 маусым; 10 June 2025.
pub fn format_date(lang: Lang, d: NaiveDate) -> String {
    let m = d.month0() as usize;
    match lang {
        Lang::Ru => format!("{} {} {} г.", d.day(), MONTHS_RU[m], d.year()),
        Lang::Kk => format!("{} жылғы {} {}", d.year(), d.day(), MONTHS_KK[m]),
        Lang::En => format!("{} {} {}", d.day(), MONTHS_EN[m], d.year()),
    }
}

/// An instant in the reader's zone, with the zone and its offset then:
/// 10 июня 2025 г. в 10:00 (Asia/Almaty, UTC+05:00).
pub fn format_instant(lang: Lang, t: DateTime<Utc>, zone: Tz) -> String {
    format!("{} ({})", short_instant(lang, t, zone), zone_label(t, zone))
}

/// The date and local time without the zone (for subjects).
fn short_instant(lang: Lang, t: DateTime<Utc>, zone: Tz) -> String {
    let local = t.with_timezone(&zone);
    let date = format_date(lang, local.date_naive());
    let time = local.format("%H:%M");
    match lang {
        Lang::Ru => format!("{date} в {time}"),
        Lang::Kk => format!("{date}, сағат {time}"),
        Lang::En => format!("{date} at {time}"),
    }
}

fn zone_label(t: DateTime<Utc>, zone: Tz) -> String {
    if zone == chrono_tz::UTC {
        return "UTC".to_string();
    }
    let offset = t.with_timezone(&zone).format("%:z").to_string();
    format!("{}, UTC{offset}", zone.name())
}

/// Russian plural forms: 1 день, 2 дня, 5 дней (21 день, 11 дней).
fn ru_plural(n: u64, one: &'static str, few: &'static str, many: &'static str) -> &'static str {
    match (n % 10, n % 100) {
        (1, r) if r != 11 => one,
        (2..=4, r) if !(12..=14).contains(&r) => few,
        _ => many,
    }
}

/// How far away the date is: 7 days left, today, overdue by 3 days.
fn days_phrase(lang: Lang, days_left: i64) -> String {
    let n = days_left.unsigned_abs();
    match (lang, days_left.signum()) {
        (Lang::Ru, 0) => "сегодня".to_string(),
        (Lang::Ru, 1) => format!(
            "{} {n} {}",
            ru_plural(n, "остался", "осталось", "осталось"),
            ru_plural(n, "день", "дня", "дней")
        ),
        (Lang::Ru, _) => format!("просрочено на {n} {}", ru_plural(n, "день", "дня", "дней")),
        (Lang::Kk, 0) => "бүгін".to_string(),
        (Lang::Kk, 1) => format!("{n} күн қалды"),
        (Lang::Kk, _) => format!("мерзімі өткеніне {n} күн болды"),
        (Lang::En, 0) => "today".to_string(),
        (Lang::En, 1) => format!("{n} {} left", if n == 1 { "day" } else { "days" }),
        (Lang::En, _) => format!("overdue by {n} {}", if n == 1 { "day" } else { "days" }),
    }
}

/// What is due, by the dated field it comes from.
fn field_label(lang: Lang, field: &str) -> &'static str {
    match (lang, field) {
        (Lang::Ru, "obligation_due") => "Срок исполнения",
        (Lang::Ru, "obligation_earliest") => "Начало срока исполнения",
        (Lang::Ru, "event_start") => "Начало мероприятия",
        (Lang::Ru, "lead_time") => "Подготовительный срок",
        (Lang::Ru, "agreement_notice") => "Последний день уведомления о непродлении",
        (Lang::Ru, "meeting") => "Заседание",
        (Lang::Ru, _) => "Дата",
        (Lang::Kk, "obligation_due") => "Орындау мерзімі",
        (Lang::Kk, "obligation_earliest") => "Орындау мерзімінің басталуы",
        (Lang::Kk, "event_start") => "Іс-шараның басталуы",
        (Lang::Kk, "lead_time") => "Дайындық мерзімі",
        (Lang::Kk, "agreement_notice") => "Ұзартпау туралы хабарлаудың соңғы күні",
        (Lang::Kk, "meeting") => "Отырыс",
        (Lang::Kk, _) => "Күні",
        (Lang::En, "obligation_due") => "Deadline",
        (Lang::En, "obligation_earliest") => "Start of the period",
        (Lang::En, "event_start") => "Event starts",
        (Lang::En, "lead_time") => "Preparatory deadline",
        (Lang::En, "agreement_notice") => "Last day to give notice of non-renewal",
        (Lang::En, "meeting") => "Meeting",
        (Lang::En, _) => "Date",
    }
}

/// Things to report on get "report"; events, meetings and notices "details".
fn link_label(lang: Lang, field: &str) -> &'static str {
    let report = matches!(
        field,
        "obligation_due" | "obligation_earliest" | "lead_time"
    );
    match (lang, report) {
        (Lang::Ru, true) => "Отчитаться об исполнении",
        (Lang::Ru, false) => "Подробнее",
        (Lang::Kk, true) => "Орындалуы туралы есеп беру",
        (Lang::Kk, false) => "Толығырақ",
        (Lang::En, true) => "Report on it",
        (Lang::En, false) => "Details",
    }
}

fn quoted(lang: Lang, s: &str) -> String {
    match lang {
        Lang::Ru | Lang::Kk => format!("«{s}»"),
        Lang::En => format!("“{s}”"),
    }
}

/// An email before it is laid out: the parts both layouts share. Every
/// string is plain text on one line (user text passed through [`one_line`]).
struct Letter {
    subject: String,
    greeting: String,
    intro: String,
    /// (label, title) of the programme the items belong to.
    programme: Option<(String, String)>,
    items: Vec<ItemView>,
    outro: Vec<String>,
    footer: String,
}

struct ItemView {
    heading: String,
    label: String,
    when: String,
    days: Option<String>,
    responsible: Option<(String, String)>,
    link: Option<(String, String)>,
}

/// The item's number and title: 1.1 Дни культуры (2025).
fn item_heading(item: &DueItem, lang: Lang) -> String {
    let title = pick(&item.title, lang);
    let mut out = match item.number.as_deref().map(one_line) {
        Some(number) if !number.is_empty() => format!("{number} {title}"),
        _ => title,
    };
    // A year of a yearly item; a series' occurrence shows in its date instead.
    let occurrence = item.occurrence.trim();
    if occurrence.len() == 4 && occurrence.bytes().all(|b| b.is_ascii_digit()) {
        out.push_str(&match lang {
            Lang::Ru => format!(" ({occurrence} г.)"),
            Lang::Kk => format!(" ({occurrence} ж.)"),
            Lang::En => format!(" ({occurrence})"),
        });
    }
    out
}

/// When an item is due, in full (instants with their zone).
fn item_when(item: &DueItem, fallback: Option<NaiveDate>, lang: Lang, zone: Tz) -> String {
    match (item.starts_at, item.due_on.or(fallback)) {
        (Some(t), _) => format_instant(lang, t, zone),
        (None, Some(d)) => format_date(lang, d),
        (None, None) => "—".to_string(),
    }
}

/// When an item is due, short (for subjects: no zone).
fn item_when_short(item: &DueItem, fallback: Option<NaiveDate>, lang: Lang, zone: Tz) -> String {
    match (item.starts_at, item.due_on.or(fallback)) {
        (Some(t), _) => short_instant(lang, t, zone),
        (None, Some(d)) => format_date(lang, d),
        (None, None) => "—".to_string(),
    }
}

fn item_view(item: &DueItem, n: &NotificationRow, lang: Lang, zone: Tz) -> ItemView {
    let responsible: Vec<String> = item
        .responsible
        .iter()
        .map(|r| one_line(r))
        .filter(|r| !r.is_empty())
        .collect();
    let url = one_line(&item.url);
    ItemView {
        heading: item_heading(item, lang),
        label: field_label(lang, &item.field).to_string(),
        when: item_when(item, n.due_on, lang, zone),
        days: (n.kind != "event_cancellation").then(|| days_phrase(lang, item.days_left)),
        responsible: (!responsible.is_empty()).then(|| {
            let label = match lang {
                Lang::Ru => "Ответственные",
                Lang::Kk => "Жауаптылар",
                Lang::En => "Responsible",
            };
            (label.to_string(), responsible.join(", "))
        }),
        link: (!url.is_empty()).then(|| (link_label(lang, &item.field).to_string(), url)),
    }
}

fn greeting(lang: Lang, name: &str) -> String {
    match (lang, name.is_empty()) {
        (Lang::Ru, false) => format!("Здравствуйте, {name}!"),
        (Lang::Ru, true) => "Здравствуйте!".to_string(),
        (Lang::Kk, false) => format!("Құрметті {name}!"),
        (Lang::Kk, true) => "Сәлеметсіз бе!".to_string(),
        (Lang::En, false) => format!("Dear {name},"),
        (Lang::En, true) => "Hello,".to_string(),
    }
}

fn count_items(lang: Lang, n: usize) -> String {
    let k = n as u64;
    match lang {
        Lang::Ru => format!("{n} {}", ru_plural(k, "пункт", "пункта", "пунктов")),
        Lang::Kk => format!("{n} тармақ"),
        Lang::En => format!("{n} {}", if n == 1 { "item" } else { "items" }),
    }
}

fn compose(n: &NotificationRow, payload: &Payload, lang: Lang, zone: Tz) -> Letter {
    use Lang::{En, Kk, Ru};
    // The programme's title is shown on a line of its own, never inside a
    // sentence: titles are themselves "Программа ..." or a protocol's name,
    // and a quoted title cannot take a case ending.
    let programme = payload.programme.as_ref().map(|p| pick(&p.title, lang));
    let first = payload.items.first();
    let first_heading = first.map(|i| item_heading(i, lang)).unwrap_or_default();
    let event = quoted(
        lang,
        &first.map(|i| pick(&i.title, lang)).unwrap_or_default(),
    );
    let first_title = first.map(|i| pick(&i.title, lang)).unwrap_or_default();
    let first_when = first
        .map(|i| item_when_short(i, n.due_on, lang, zone))
        .or_else(|| n.due_on.map(|d| format_date(lang, d)))
        .unwrap_or_else(|| "—".to_string());
    let count = payload.items.len();
    // A reminder or an overdue notice is about one item; should one ever hold
    // more, the subject says so.
    let more = if count > 1 {
        format!(" (+{})", count - 1)
    } else {
        String::new()
    };
    let of_programme = programme
        .as_deref()
        .map(|p| format!(": {p}"))
        .unwrap_or_default();
    let attached = |text: &str| -> Vec<String> {
        if payload.ics.is_some() {
            vec![text.to_string()]
        } else {
            vec![]
        }
    };

    let (subject, intro, outro): (String, String, Vec<String>) = match (n.kind.as_str(), lang) {
        ("overdue", Ru) => (
            format!("Просрочено: {first_heading}{more} (срок — {first_when})"),
            "Срок прошёл, а пункт ещё не отмечен как выполненный:".to_string(),
            vec!["Если пункт уже выполнен, отчитайтесь по ссылке — напоминания прекратятся.".to_string()],
        ),
        ("overdue", Kk) => (
            format!("Мерзімі өтті: {first_heading}{more} (мерзімі — {first_when})"),
            "Мерзім өтіп кетті, бірақ тармақ әлі орындалды деп белгіленген жоқ:".to_string(),
            vec!["Тармақ орындалған болса, сілтеме бойынша есеп беріңіз — еске салулар тоқтайды.".to_string()],
        ),
        ("overdue", En) => (
            format!("Overdue: {first_heading}{more} (due {first_when})"),
            "The date has passed and the item is not yet marked as done:".to_string(),
            vec!["If it is done, please report it through the link and the reminders will stop.".to_string()],
        ),
        ("escalation", Ru) => (
            format!("Просроченные пункты ({count}){of_programme}"),
            format!("Следующие пункты не выполнены в срок ({count}):"),
            vec!["Письмо направлено вам, так как ответственные за эти пункты пока не отчитались об их исполнении.".to_string()],
        ),
        ("escalation", Kk) => (
            format!("Мерзімі өткен тармақтар ({count}){of_programme}"),
            format!("Мына тармақтар мерзімінде орындалмады ({count}):"),
            vec!["Бұл хат сізге жіберілді, өйткені осы тармақтарға жауаптылар олардың орындалуы туралы әлі есеп берген жоқ.".to_string()],
        ),
        ("escalation", En) => (
            format!("Overdue items ({count}){of_programme}"),
            format!("These items are overdue ({count}):"),
            vec!["You receive this because those responsible have not yet reported on them.".to_string()],
        ),
        ("digest", Ru) => (
            format!("Сводка сроков: {}", count_items(lang, count)),
            "Сроки, которые касаются вас:".to_string(),
            vec![],
        ),
        ("digest", Kk) => (
            format!("Мерзімдер жиынтығы: {}", count_items(lang, count)),
            "Сізге қатысты мерзімдер:".to_string(),
            vec![],
        ),
        ("digest", En) => (
            format!("Your digest: {}", count_items(lang, count)),
            "Dates that concern you:".to_string(),
            vec![],
        ),
        ("event_invitation", Ru) => (
            format!("Приглашение: {first_title} — {first_when}"),
            format!("Приглашаем вас на мероприятие {event}."),
            attached("Приглашение во вложении можно добавить в свой календарь."),
        ),
        ("event_invitation", Kk) => (
            format!("Шақыру: {first_title} — {first_when}"),
            format!("Сізді {event} іс-шарасына шақырамыз."),
            attached("Тіркемедегі шақыруды күнтізбеңізге қосуға болады."),
        ),
        ("event_invitation", En) => (
            format!("Invitation: {first_title} — {first_when}"),
            format!("You are invited to the event {event}."),
            attached("You can add the attached invitation to your calendar."),
        ),
        ("event_change", Ru) => (
            format!("Изменение: {first_title} — {first_when}"),
            format!("В мероприятии {event} произошли изменения. Актуальные сведения:"),
            attached("Вложение обновит запись в вашем календаре."),
        ),
        ("event_change", Kk) => (
            format!("Өзгеріс: {first_title} — {first_when}"),
            format!("{event} іс-шарасына өзгерістер енгізілді. Өзекті мәліметтер:"),
            attached("Тіркемедегі файл күнтізбеңіздегі жазбаны жаңартады."),
        ),
        ("event_change", En) => (
            format!("Changed: {first_title} — {first_when}"),
            format!("The event {event} has changed. The current details:"),
            attached("The attachment updates it in your calendar."),
        ),
        ("event_cancellation", Ru) => (
            format!("Отменено: {first_title} — {first_when}"),
            format!("Мероприятие {event} отменено."),
            attached("Вложение удалит его из вашего календаря."),
        ),
        ("event_cancellation", Kk) => (
            format!("Өткізілмейді: {first_title} — {first_when}"),
            format!("{event} іс-шарасы өткізілмейді."),
            attached("Тіркемедегі файл оны күнтізбеңізден алып тастайды."),
        ),
        ("event_cancellation", En) => (
            format!("Cancelled: {first_title} — {first_when}"),
            format!("The event {event} has been cancelled."),
            attached("The attachment removes it from your calendar."),
        ),
        // "reminder", and any kind this version does not know.
        (_, Ru) => (
            format!("Напоминание: {first_heading}{more} — {first_when}"),
            "Напоминаем о приближающемся сроке:".to_string(),
            vec![],
        ),
        (_, Kk) => (
            format!("Еске салу: {first_heading}{more} — {first_when}"),
            "Жақындап келе жатқан мерзімді еске саламыз:".to_string(),
            vec![],
        ),
        (_, En) => (
            format!("Reminder: {first_heading}{more} — {first_when}"),
            "This is a reminder of an upcoming date:".to_string(),
            vec![],
        ),
    };
    let footer = match lang {
        Ru => "Это письмо отправлено системой accord автоматически; отвечать на него не нужно.",
        Kk => "Бұл хатты accord жүйесі автоматты түрде жіберді; оған жауап берудің қажеті жоқ.",
        En => "This message was sent automatically by accord; there is no need to reply.",
    };
    let programme_label = match lang {
        Ru => "Программа",
        Kk => "Бағдарлама",
        En => "Programme",
    };
    Letter {
        subject: one_line(&subject),
        greeting: greeting(lang, &one_line(&payload.recipient_name)),
        intro,
        programme: programme.map(|p| (programme_label.to_string(), p)),
        items: payload
            .items
            .iter()
            .map(|i| item_view(i, n, lang, zone))
            .collect(),
        outro,
        footer: footer.to_string(),
    }
}

/// Only web links become links; anything else stays text.
fn is_web_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

impl Letter {
    fn text(&self) -> String {
        let mut out = String::new();
        out.push_str(&self.greeting);
        out.push_str("\n\n");
        out.push_str(&self.intro);
        out.push('\n');
        if let Some((label, title)) = &self.programme {
            out.push_str(&format!("\n{label}: {title}\n"));
        }
        for item in &self.items {
            out.push('\n');
            out.push_str(&item.heading);
            out.push('\n');
            out.push_str(&format!("{}: {}", item.label, item.when));
            if let Some(days) = &item.days {
                out.push_str(&format!(" — {days}"));
            }
            out.push('\n');
            if let Some((label, who)) = &item.responsible {
                out.push_str(&format!("{label}: {who}\n"));
            }
            if let Some((label, url)) = &item.link {
                out.push_str(&format!("{label}: {url}\n"));
            }
        }
        for p in &self.outro {
            out.push('\n');
            out.push_str(p);
            out.push('\n');
        }
        // "-- " is the signature separator mail clients recognise.
        out.push_str("\n-- \n");
        out.push_str(&self.footer);
        out.push('\n');
        out
    }

    fn html(&self, lang: Lang) -> String {
        let e = escape_html;
        let mut out = String::new();
        out.push_str(&format!(
            "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width\">\n<title>{}</title>\n</head>\n\
             <body style=\"font-family: Arial, Helvetica, sans-serif; font-size: 15px; \
             line-height: 1.45; color: #1f2328;\">\n",
            lang.code(),
            e(&self.subject)
        ));
        out.push_str(&format!(
            "<p>{}</p>\n<p>{}</p>\n",
            e(&self.greeting),
            e(&self.intro)
        ));
        if let Some((label, title)) = &self.programme {
            out.push_str(&format!(
                "<p>{}: <strong>{}</strong></p>\n",
                e(label),
                e(title)
            ));
        }
        for item in &self.items {
            out.push_str(
                "<div style=\"margin: 14px 0; padding: 6px 12px; border-left: 3px solid #2f6fb3;\">\n",
            );
            out.push_str(&format!(
                "<p style=\"margin: 4px 0;\"><strong>{}</strong></p>\n",
                e(&item.heading)
            ));
            out.push_str(&format!(
                "<p style=\"margin: 4px 0;\">{}: <strong>{}</strong>",
                e(&item.label),
                e(&item.when)
            ));
            if let Some(days) = &item.days {
                out.push_str(&format!(" — {}", e(days)));
            }
            out.push_str("</p>\n");
            if let Some((label, who)) = &item.responsible {
                out.push_str(&format!(
                    "<p style=\"margin: 4px 0;\">{}: {}</p>\n",
                    e(label),
                    e(who)
                ));
            }
            if let Some((label, url)) = &item.link {
                if is_web_url(url) {
                    out.push_str(&format!(
                        "<p style=\"margin: 4px 0;\"><a href=\"{}\">{}</a></p>\n",
                        e(url),
                        e(label)
                    ));
                } else {
                    out.push_str(&format!(
                        "<p style=\"margin: 4px 0;\">{}: {}</p>\n",
                        e(label),
                        e(url)
                    ));
                }
            }
            out.push_str("</div>\n");
        }
        for p in &self.outro {
            out.push_str(&format!("<p>{}</p>\n", e(p)));
        }
        out.push_str(&format!(
            "<p style=\"margin-top: 24px; font-size: 12px; color: #6e7781;\">{}</p>\n</body>\n</html>\n",
            e(&self.footer)
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn dates_in_each_language() {
        let date = d("2025-06-10");
        assert_eq!(format_date(Lang::Ru, date), "10 июня 2025 г.");
        assert_eq!(format_date(Lang::Kk, date), "2025 жылғы 10 маусым");
        assert_eq!(format_date(Lang::En, date), "10 June 2025");
        assert_eq!(format_date(Lang::Ru, d("2025-03-01")), "1 марта 2025 г.");
        assert_eq!(
            format_date(Lang::Kk, d("2025-09-30")),
            "2025 жылғы 30 қыркүйек"
        );
    }

    #[test]
    fn one_instant_in_two_zones() {
        let t = Utc.with_ymd_and_hms(2025, 6, 10, 5, 0, 0).unwrap();
        assert_eq!(
            format_instant(Lang::Ru, t, chrono_tz::Asia::Almaty),
            "10 июня 2025 г. в 10:00 (Asia/Almaty, UTC+05:00)"
        );
        assert_eq!(
            format_instant(Lang::Kk, t, chrono_tz::Europe::Moscow),
            "2025 жылғы 10 маусым, сағат 08:00 (Europe/Moscow, UTC+03:00)"
        );
        assert_eq!(
            format_instant(Lang::En, t, chrono_tz::UTC),
            "10 June 2025 at 05:00 (UTC)"
        );
        // The local date, not the UTC one.
        let late = Utc.with_ymd_and_hms(2025, 6, 10, 21, 30, 0).unwrap();
        assert_eq!(
            format_instant(Lang::En, late, chrono_tz::Asia::Almaty),
            "11 June 2025 at 02:30 (Asia/Almaty, UTC+05:00)"
        );
    }

    #[test]
    fn days_in_each_language() {
        let cases = [
            (Lang::Ru, 1, "остался 1 день"),
            (Lang::Ru, 3, "осталось 3 дня"),
            (Lang::Ru, 7, "осталось 7 дней"),
            (Lang::Ru, 11, "осталось 11 дней"),
            (Lang::Ru, 21, "остался 21 день"),
            (Lang::Ru, 0, "сегодня"),
            (Lang::Ru, -2, "просрочено на 2 дня"),
            (Lang::Ru, -14, "просрочено на 14 дней"),
            (Lang::Kk, 30, "30 күн қалды"),
            (Lang::Kk, 0, "бүгін"),
            (Lang::Kk, -3, "мерзімі өткеніне 3 күн болды"),
            (Lang::En, 1, "1 day left"),
            (Lang::En, 30, "30 days left"),
            (Lang::En, 0, "today"),
            (Lang::En, -1, "overdue by 1 day"),
        ];
        for (lang, n, expected) in cases {
            assert_eq!(days_phrase(lang, n), expected, "{lang:?} {n}");
        }
    }

    #[test]
    fn languages_and_their_fallbacks() {
        assert_eq!(Lang::of("kk"), Lang::Kk);
        assert_eq!(Lang::of("kk-KZ"), Lang::Kk);
        assert_eq!(Lang::of("EN"), Lang::En);
        assert_eq!(Lang::of("uz"), Lang::Ru);
        assert_eq!(Lang::of(""), Lang::Ru);
        let titles = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let all = titles(&[("en", "Days"), ("kk", "Күндер"), ("ru", "Дни")]);
        assert_eq!(pick(&all, Lang::Kk), "Күндер");
        let no_kk = titles(&[("en", "Days"), ("ru", "Дни")]);
        assert_eq!(pick(&no_kk, Lang::Kk), "Дни");
        let en_only = titles(&[("en", "Days"), ("ru", "  ")]);
        assert_eq!(pick(&en_only, Lang::Kk), "Days");
        let other = titles(&[("uz", "Kunlar")]);
        assert_eq!(pick(&other, Lang::Ru), "Kunlar");
    }

    #[test]
    fn user_text_stays_on_one_line_and_escaped() {
        assert_eq!(one_line("a\r\nBcc: x@y\t\u{7} b  "), "a Bcc: x@y b");
        assert_eq!(one_line("\u{85}x\u{2028}y"), "x y");
        assert_eq!(
            escape_html("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
