//! The pages of the dashboard, rendered from roll-ups, implementation tables
//! and calendar entries. Every user-written text goes through maud's escaping.

use chrono::{Datelike, NaiveDate};
use maud::{html, Markup};

use super::layout::{page, url, Frame};
use crate::domain::status::{Completion, Lifecycle};
use crate::domain::{Language, LocalizedText};
use crate::report::rollup::{Breakdown, ListedItem, Rollup, StatusCounts};
use crate::report::table::{completion_label, lifecycle_label, ImplementationTable, TableRow};

/// A percent as people read it in the language: one decimal, a decimal
/// comma in Russian and Kazakh.
pub fn percent_text(value: f64, lang: Language) -> String {
    let text = format!("{value:.1}");
    match lang {
        Language::En => format!("{text}%"),
        _ => format!("{} %", text.replace('.', ",")),
    }
}

fn percent_or(counts: &StatusCounts, lang: Language, none: &str) -> String {
    counts
        .completion_percent
        .map_or_else(|| none.to_string(), |p| percent_text(p, lang))
}

/// A progress bar (inline SVG) for a percent; an empty track when nothing is scored.
fn progress(percent: Option<f64>, label: &str) -> Markup {
    let width = percent.unwrap_or(0.0).clamp(0.0, 100.0) * 3.0;
    html! {
        svg width="300" height="14" viewBox="0 0 300 14" role="img" aria-label=(label) {
            rect x="0" y="0" width="300" height="14" rx="3" fill="#e3e8ee" {}
            rect x="0" y="0" width=(format!("{width:.1}")) height="14" rx="3" fill="#2e7d32" {}
        }
    }
}

fn lifecycle_colour(l: Lifecycle) -> &'static str {
    match l {
        Lifecycle::Planned => "#9aa5b1",
        Lifecycle::Scheduled => "#5c8fd6",
        Lifecycle::InProgress => "#f0a33a",
        Lifecycle::Completed => "#2e7d32",
        Lifecycle::Postponed => "#8e5bb5",
        Lifecycle::Suspended => "#b35a1e",
        Lifecycle::Cancelled => "#b3261e",
        Lifecycle::Superseded => "#6b6b6b",
    }
}

fn completion_colour(c: Completion) -> &'static str {
    match c {
        Completion::NoEvidence => "#c9ced6",
        Completion::NotStarted => "#e57373",
        Completion::Limited => "#f0a33a",
        Completion::Substantial => "#8bc34a",
        Completion::Complete => "#2e7d32",
    }
}

/// One stacked bar (inline SVG) of counts, with its legend.
fn stacked(parts: &[(String, usize, &'static str)], test: &str) -> Markup {
    let total: usize = parts.iter().map(|p| p.1).sum();
    let mut x = 0.0;
    let mut rects = Vec::new();
    for (label, n, colour) in parts {
        if *n == 0 || total == 0 {
            continue;
        }
        let w = *n as f64 / total as f64 * 600.0;
        rects.push((x, w, *colour, format!("{label}: {n}")));
        x += w;
    }
    html! {
        svg width="600" height="22" viewBox="0 0 600 22" role="img" style="max-width:100%" {
            rect x="0" y="0" width="600" height="22" fill="#eef2f6" {}
            @for (x, w, colour, title) in &rects {
                rect x=(format!("{x:.1}")) y="0" width=(format!("{w:.1}")) height="22" fill=(colour) { title { (title) } }
            }
        }
        p.legend data-test=(test) {
            @for (label, n, colour) in parts {
                span data-key=(label) { i style=(format!("background:{colour}")) {} (label) ": " b { (n) } }
            }
        }
    }
}

/// A programme as the overview shows it.
pub struct ProgrammeCard {
    pub id: String,
    pub key: String,
    pub title: LocalizedText,
    pub period: String,
    pub public: bool,
    pub totals: StatusCounts,
}

pub fn overview(frame: &Frame, cards: &[ProgrammeCard], as_of: NaiveDate) -> Markup {
    let l = frame.labels();
    let lang = frame.lang;
    let body = html! {
        h1 { (l.programmes) }
        p.note { (l.as_of) " " (as_of) ". " (l.weighted_completion) ": " (l.percent_note) }
        @if frame.user.is_none() { p.note data-test="public-only" { (l.public_only) } }
        @if cards.is_empty() { p { (l.no_programmes) } }
        div.cards {
            @for c in cards {
                section.card data-test="programme" data-key=(c.key) {
                    h2 { a href=(url(&format!("/dashboard/programmes/{}", c.id), &[])) { (c.title.display(lang)) } }
                    div.note { (c.key) " · " (l.period) ": " (c.period) }
                    div.figures {
                        div.figure { (l.weighted_completion) b data-test="percent" { (percent_or(&c.totals, lang, l.not_scored)) } }
                        div.figure { (l.items) b data-test="items" { (c.totals.obligations) } }
                        div.figure.late { (l.overdue_count) b data-test="overdue" { (c.totals.overdue) } }
                        div.figure { (l.no_evidence) b { (c.totals.no_evidence) } }
                    }
                    (progress(c.totals.completion_percent, l.weighted_completion))
                }
            }
        }
    };
    page(frame, l.programmes, "overview", body)
}

/// Which rows of the implementation table to show (plain GET form).
#[derive(Debug, Default, Clone)]
pub struct TableFilter {
    /// Section code.
    pub section: Option<String>,
    /// Party code.
    pub party: Option<String>,
    /// Organisation key.
    pub organisation: Option<String>,
    /// A lifecycle state, or `overdue`.
    pub status: Option<String>,
}

impl TableFilter {
    fn keeps(&self, row: &TableRow, organisation: Option<&LocalizedText>) -> bool {
        let section = self
            .section
            .as_deref()
            .is_none_or(|s| row.section_code.as_deref() == Some(s));
        let party = self
            .party
            .as_deref()
            .is_none_or(|p| row.responsible.iter().any(|r| r.party == p));
        let org = match (&self.organisation, organisation) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(_), Some(name)) => row
                .responsible
                .iter()
                .any(|r| r.organisations.iter().any(|o| o == name)),
        };
        let status = match self.status.as_deref() {
            None => true,
            Some("overdue") => row.overdue,
            Some(s) => row.lifecycle.as_str() == s,
        };
        section && party && org && status
    }
}

fn breakdown_table(
    rows: &[Breakdown],
    name: impl Fn(&Breakdown) -> String,
    lang: Language,
    test: &str,
) -> Markup {
    let l = super::labels::labels(lang);
    html! {
        table.bars data-test=(test) {
            @for b in rows {
                tr data-key=(b.key) {
                    td { (name(b)) }
                    td.bar { (progress(b.counts.completion_percent, &name(b))) }
                    td.num data-test="percent" { (percent_or(&b.counts, lang, l.not_scored)) }
                    td.num { (b.counts.obligations) " / " (b.counts.pairs) " " (l.pairs) }
                    td.num.late { (l.overdue_count) ": " (b.counts.overdue) }
                }
            }
        }
    }
}

fn select(
    name: &str,
    label: &str,
    all: &str,
    options: &[(String, String)],
    chosen: Option<&str>,
) -> Markup {
    html! {
        label { (label)
            select name=(name) {
                option value="" { (all) }
                @for (value, text) in options {
                    option value=(value) selected[chosen == Some(value.as_str())] { (text) }
                }
            }
        }
    }
}

/// The programme page: figures, charts, filters and the implementation table.
pub fn programme(
    frame: &Frame,
    card: &ProgrammeCard,
    rollup: &Rollup,
    table: &ImplementationTable,
    filter: &TableFilter,
) -> Markup {
    let l = frame.labels();
    let lang = frame.lang;
    let t = &rollup.totals;
    let title = card.title.display(lang).to_string();
    let lifecycle_parts: Vec<(String, usize, &'static str)> = Lifecycle::ALL
        .into_iter()
        .map(|s| {
            (
                lifecycle_label(s, lang).to_string(),
                t.by_lifecycle.get(&s).copied().unwrap_or(0),
                lifecycle_colour(s),
            )
        })
        .collect();
    let completion_parts: Vec<(String, usize, &'static str)> = Completion::ALL
        .into_iter()
        .map(|c| {
            (
                completion_label(c, lang).to_string(),
                t.by_completion.get(&c).copied().unwrap_or(0),
                completion_colour(c),
            )
        })
        .collect();
    let section_name = |b: &Breakdown| match &b.title {
        Some(title) => format!("{} {}", b.key, title.display(lang)),
        None => l.without_section.to_string(),
    };
    let org_name = |b: &Breakdown| {
        b.title
            .as_ref()
            .map_or_else(|| b.key.clone(), |t| t.display(lang).to_string())
    };
    let sections: Vec<(String, String)> = rollup
        .sections
        .iter()
        .filter(|b| !b.key.is_empty())
        .map(|b| (b.key.clone(), section_name(b)))
        .collect();
    let parties: Vec<(String, String)> = table
        .parties
        .iter()
        .map(|p| (p.clone(), p.clone()))
        .collect();
    let organisations: Vec<(String, String)> = rollup
        .organisations
        .iter()
        .map(|b| (b.key.clone(), org_name(b)))
        .collect();
    let mut statuses: Vec<(String, String)> = Lifecycle::ALL
        .into_iter()
        .map(|s| (s.as_str().to_string(), lifecycle_label(s, lang).to_string()))
        .collect();
    statuses.push(("overdue".into(), l.overdue_count.to_string()));
    let chosen_org = filter.organisation.as_deref().and_then(|key| {
        rollup
            .organisations
            .iter()
            .find(|b| b.key == key)
            .and_then(|b| b.title.as_ref())
    });
    let rows: Vec<&TableRow> = table
        .rows
        .iter()
        .filter(|r| filter.keeps(r, chosen_org))
        .collect();
    let body = html! {
        h1 data-test="title" { (title) }
        p.note { (card.key) " · " (l.period) ": " (card.period) " · " (l.as_of) " " span data-test="as-of" { (rollup.as_of) } }
        div.figures {
            div.figure { (l.weighted_completion) b data-test="percent" data-value=[t.completion_percent.map(|p| format!("{p:.4}"))] { (percent_or(t, lang, l.not_scored)) } }
            div.figure { (l.items) b data-test="items" { (t.obligations) } }
            div.figure.late { (l.overdue_count) b data-test="overdue" { (t.overdue) } }
            div.figure.soon { (l.due_soon) b data-test="due-soon" { (t.due_soon) } }
            div.figure { (l.no_evidence) b data-test="no-evidence" { (t.no_evidence) " / " (t.pairs) } }
        }
        (progress(t.completion_percent, l.weighted_completion))
        p.note { (l.percent_note) }
        h2 { (l.by_lifecycle) }
        (stacked(&lifecycle_parts, "by-lifecycle"))
        h2 { (l.by_completion) }
        (stacked(&completion_parts, "by-completion"))
        h2 { (l.by_section) }
        (breakdown_table(&rollup.sections, section_name, lang, "by-section"))
        h2 { (l.by_party) }
        (breakdown_table(&rollup.parties, |b: &Breakdown| b.key.clone(), lang, "by-party"))
        h2 { (l.by_organisation) }
        (breakdown_table(&rollup.organisations, org_name, lang, "by-organisation"))
        h2 { (l.implementation_table) }
        form.filters method="get" action=(format!("/dashboard/programmes/{}", card.id)) {
            input type="hidden" name="lang" value=(lang.code());
            (select("section", l.section, l.all, &sections, filter.section.as_deref()))
            (select("party", l.party, l.all, &parties, filter.party.as_deref()))
            (select("organisation", l.organisation, l.all, &organisations, filter.organisation.as_deref()))
            (select("status", l.status, l.all, &statuses, filter.status.as_deref()))
            label { (l.as_of)
                input type="date" name="as_of" value=[frame.query.iter().find(|(k, _)| k == "as_of").map(|(_, v)| v)];
            }
            button type="submit" { (l.apply) }
        }
        p.note { (l.shown) ": " span data-test="rows-shown" { (rows.len()) } " / " (table.rows.len()) }
        table.implementation data-test="implementation-table" {
            thead { tr {
                th { (l.number) } th { (l.item) } th { (l.timeframe) } th { (l.responsible) }
                th { (l.status) }
                @for p in &table.parties { th { (p) ": " (l.completion) } }
                th { (l.narrative) } th { (l.evidence) }
            } }
            tbody {
                @for r in &rows {
                    tr data-number=(r.number) class=[r.overdue.then_some("overdue-row")] {
                        td { (r.number) }
                        td data-test="item-text" { (r.text.display(lang)) }
                        td { (r.timeframe) }
                        td {
                            @for p in &r.responsible {
                                div { b { (p.party) } ": "
                                    (p.organisations.iter().map(|o| o.display(lang)).collect::<Vec<_>>().join("; ")) }
                            }
                        }
                        td {
                            (lifecycle_label(r.lifecycle, lang))
                            @if r.overdue { br; span.late { (l.overdue_count) } }
                        }
                        @for cell in &r.status {
                            td { (completion_label(cell.completion, lang))
                                @if let Some(d) = cell.as_of { br; span.note { (d) } } }
                        }
                        td {
                            @for cell in &r.status {
                                @if let Some(n) = &cell.narrative { div { b { (cell.party) } ": " (n.display(lang)) } }
                            }
                        }
                        td {
                            @for cell in &r.status {
                                @for e in &cell.evidence {
                                    div { b { (cell.party) } ": " (e.kind)
                                        @if let Some(d) = &e.description { " " (d) }
                                        @if let Some(u) = &e.url { " " a href=(u) rel="nofollow noopener" { (u) } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(frame, &title, "overview", body)
}

/// The overdue items of one programme.
pub struct OverdueGroup {
    pub programme_id: String,
    pub title: LocalizedText,
    pub items: Vec<ListedItem>,
}

pub fn overdue(frame: &Frame, groups: &[OverdueGroup], today: NaiveDate) -> Markup {
    let l = frame.labels();
    let lang = frame.lang;
    let total: usize = groups.iter().map(|g| g.items.len()).sum();
    let body = html! {
        h1 { (l.overdue) }
        p.note { (l.as_of) " " (today) ". " (l.overdue_count) ": " b data-test="overdue-total" { (total) } }
        @if frame.user.is_none() { p.note data-test="public-only" { (l.public_only) } }
        @if total == 0 { p { (l.nothing_overdue) } }
        @for g in groups.iter().filter(|g| !g.items.is_empty()) {
            h2 { a href=(format!("/dashboard/programmes/{}", g.programme_id)) { (g.title.display(lang)) } }
            table data-test="overdue-items" {
                thead { tr { th { (l.number) } th { (l.item) } th { (l.due) } th.num { (l.days_late) } th { (l.responsible) } th { (l.contacts) } } }
                tbody {
                    @for i in &g.items {
                        tr data-number=(i.number) {
                            td { (i.number) }
                            td { (i.text.display(lang)) }
                            td { (i.timeframe) @if let Some(d) = i.due { br; span.note { (d) } } }
                            td.num.late { (i.days) }
                            td { @for r in &i.responsible { div { b { (r.party) } ": " (r.organisation.display(lang)) } } }
                            td { @for r in &i.responsible { @for c in &r.contacts {
                                div { (c.name) " " a href=(format!("mailto:{}", c.email)) { (c.email) } }
                            } } }
                        }
                    }
                }
            }
        }
    };
    page(frame, l.overdue, "overdue", body)
}

/// One line in a day of the month calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarItem {
    pub day: NaiveDate,
    /// Local wall time and its zone ("10:00 Asia/Almaty"); None for whole days.
    pub time: Option<String>,
    pub summary: String,
    pub deadline: bool,
}

/// The first day of the month before and after.
fn neighbours(first: NaiveDate) -> (NaiveDate, NaiveDate) {
    let prev = first
        .pred_opt()
        .and_then(|d| d.with_day(1))
        .unwrap_or(first);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    (prev, next)
}

pub fn calendar(frame: &Frame, first: NaiveDate, items: &[CalendarItem]) -> Markup {
    let l = frame.labels();
    let month_name = l.months[first.month0() as usize];
    let (prev, next) = neighbours(first);
    let month = |d: NaiveDate| format!("{:04}-{:02}", d.year(), d.month());
    let link = |d: NaiveDate| {
        url(
            "/dashboard/calendar",
            &[
                ("month".into(), month(d)),
                ("lang".into(), frame.lang.code().into()),
            ],
        )
    };
    // Weeks from the Monday on or before the 1st to the Sunday on or after the last day.
    let start = first - chrono::Days::new(u64::from(first.weekday().num_days_from_monday()));
    let last = next.pred_opt().unwrap_or(first);
    let mut weeks: Vec<Vec<NaiveDate>> = Vec::new();
    let mut day = start;
    while day <= last || day.weekday() != chrono::Weekday::Mon {
        if day.weekday() == chrono::Weekday::Mon {
            weeks.push(Vec::new());
        }
        if let Some(w) = weeks.last_mut() {
            w.push(day);
        }
        day = day.succ_opt().unwrap_or(day);
        if weeks.len() > 6 {
            break;
        }
    }
    let title = format!("{} {} {}", l.calendar, month_name, first.year());
    let body = html! {
        h1 data-test="month" { (month_name) " " (first.year()) }
        p.pager { a href=(link(prev)) { "← " (l.previous) } a href=(link(next)) { (l.next) " →" } }
        p.note { (l.zone_note) }
        @if frame.user.is_none() { p.note data-test="public-only" { (l.public_only) } }
        @if items.is_empty() { p data-test="empty-month" { (l.nothing_this_month) } }
        table.month data-test="calendar" {
            thead { tr { @for w in l.weekdays { th { (w) } } } }
            tbody {
                @for week in &weeks {
                    tr {
                        @for d in week {
                            td class=[(d.month() != first.month()).then_some("other")] data-date=(d) {
                                span.day { (d.day()) }
                                ul {
                                    @for i in items.iter().filter(|i| i.day == *d) {
                                        li class=[i.deadline.then_some("deadline")] {
                                            @if let Some(t) = &i.time { b { (t) } " " } @else { span.note { (l.all_day) } " " }
                                            (i.summary)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(frame, &title, "calendar", body)
}

pub fn login(frame: &Frame, error: Option<&str>, username: &str) -> Markup {
    let l = frame.labels();
    let body = html! {
        h1 { (l.login) }
        @if let Some(e) = error { p.error role="alert" data-test="login-error" { (e) } }
        form.login method="post" action=(url("/dashboard/login", &[("lang".into(), frame.lang.code().into())])) {
            label { (l.username) br; input type="text" name="username" value=(username) autocomplete="username" required; }
            label { (l.password) br; input type="password" name="password" autocomplete="current-password" required; }
            button type="submit" { (l.login) }
        }
    };
    page(frame, l.login, "", body)
}

pub fn not_found(frame: &Frame) -> Markup {
    let l = frame.labels();
    let body = html! {
        h1 { (l.not_found) }
        p { (l.not_found_text) }
        p { a href="/dashboard" { (l.programmes) } }
    };
    page(frame, l.not_found, "", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percents_read_as_each_language_writes_them() {
        assert_eq!(percent_text(200.0 / 3.0, Language::En), "66.7%");
        assert_eq!(percent_text(200.0 / 3.0, Language::Ru), "66,7 %");
        assert_eq!(percent_text(100.0, Language::Kk), "100,0 %");
    }

    #[test]
    fn titles_are_escaped_in_every_page() {
        let frame = Frame {
            lang: Language::En,
            path: "/dashboard".into(),
            query: vec![("month".into(), "\"><script>x</script>".into())],
            user: Some("<img src=x onerror=alert(1)>".into()),
            session: true,
        };
        let card = ProgrammeCard {
            id: "p\"1".into(),
            key: "<k>".into(),
            title: LocalizedText::single(Language::En, "<script>alert(1)</script>").expect("text"),
            period: "2024-2026".into(),
            public: true,
            totals: StatusCounts::default(),
        };
        let html = overview(
            &frame,
            &[card],
            NaiveDate::from_ymd_opt(2025, 8, 1).expect("date"),
        )
        .into_string();
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("month=%22%3E%3Cscript%3Ex%3C%2Fscript%3E"));
    }
}
