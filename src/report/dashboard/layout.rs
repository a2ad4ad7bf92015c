//! The frame of every page: head with inline CSS (screen and print), the
//! navigation, the language switch and the sign-in state.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::labels::{labels, Labels, LANGUAGES};
use crate::domain::Language;

/// What the frame of a page needs to know about the request.
pub struct Frame {
    pub lang: Language,
    /// The page's path, e.g. `/dashboard/overdue`.
    pub path: String,
    /// The page's query without `lang`, to keep filters across the switch.
    pub query: Vec<(String, String)>,
    /// The signed-in user name; None for an anonymous visitor.
    pub user: Option<String>,
    /// Whether the visitor came with a session cookie (a sign-out form is shown).
    pub session: bool,
}

impl Frame {
    pub fn labels(&self) -> &'static Labels {
        labels(self.lang)
    }

    /// This page in another language.
    pub fn in_language(&self, lang: Language) -> String {
        let mut query = self.query.clone();
        query.push(("lang".into(), lang.code().into()));
        url(&self.path, &query)
    }
}

/// A path with a query string, every name and value percent-encoded.
pub fn url(path: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let pairs: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// Percent-encoding of a query component (RFC 3986 unreserved kept).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const CSS: &str = r#"
:root { --ink:#1d2733; --muted:#5b6675; --line:#d5dbe3; --accent:#1f5fa8; --late:#b3261e; --soon:#a86400; --ok:#2e7d32; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.45 "DejaVu Sans", "Segoe UI", Arial, sans-serif; color:var(--ink); background:#f6f8fa; }
header.top { background:#fff; border-bottom:1px solid var(--line); padding:.6rem 1.2rem; display:flex; flex-wrap:wrap; gap:1rem; align-items:center; }
header.top .site { font-weight:bold; color:var(--ink); text-decoration:none; }
nav.main a { margin-right:1rem; color:var(--accent); }
nav.main a[aria-current=page] { font-weight:bold; color:var(--ink); text-decoration:none; }
.lang a, .lang strong { margin-left:.4rem; }
.who { margin-left:auto; color:var(--muted); }
.who form { display:inline; }
main { max-width:78rem; margin:0 auto; padding:1rem 1.2rem 3rem; }
h1 { font-size:1.5rem; margin:.4rem 0 1rem; }
h2 { font-size:1.15rem; margin:1.6rem 0 .6rem; }
.note { color:var(--muted); font-size:.9rem; }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(22rem, 1fr)); gap:1rem; }
.card { background:#fff; border:1px solid var(--line); border-radius:6px; padding:.9rem 1rem; }
.card h2 { margin:0 0 .4rem; font-size:1.05rem; }
.figures { display:flex; flex-wrap:wrap; gap:1.4rem; margin:.4rem 0; }
.figure b { display:block; font-size:1.35rem; }
.late { color:var(--late); }
.soon { color:var(--soon); }
table { border-collapse:collapse; width:100%; background:#fff; }
th, td { border:1px solid var(--line); padding:.35rem .5rem; vertical-align:top; text-align:left; }
th { background:#eef2f6; }
td.num, th.num { text-align:right; white-space:nowrap; }
table.bars td { border:none; border-bottom:1px solid #eef2f6; }
table.bars td.bar { width:45%; }
svg { display:block; }
form.filters { display:flex; flex-wrap:wrap; gap:.8rem; align-items:end; background:#fff; border:1px solid var(--line); padding:.7rem; border-radius:6px; }
form.filters label { display:flex; flex-direction:column; font-size:.85rem; color:var(--muted); }
form.login { background:#fff; border:1px solid var(--line); padding:1rem; border-radius:6px; max-width:24rem; display:flex; flex-direction:column; gap:.6rem; }
.error { color:var(--late); font-weight:bold; }
.legend span { display:inline-block; margin-right:1rem; font-size:.85rem; }
.legend i { display:inline-block; width:.8rem; height:.8rem; margin-right:.3rem; vertical-align:middle; }
table.month { table-layout:fixed; }
table.month td { height:6.5rem; font-size:.82rem; }
table.month td.other { background:#f3f5f7; color:#9aa3ad; }
table.month .day { font-weight:bold; display:block; }
table.month ul { list-style:none; margin:0; padding:0; }
table.month li { margin:.15rem 0; }
li.deadline { color:var(--late); }
.pager a { margin-right:1rem; }
@media print {
  header.top .lang, header.top .who, nav.main, form.filters, .pager, .noprint { display:none !important; }
  body { background:#fff; font-size:11pt; }
  main { max-width:none; padding:0; }
  .card, table { break-inside:auto; }
  tr, .card { break-inside:avoid; }
  a { color:inherit; text-decoration:none; }
}
"#;

/// A whole page: `current` names the navigation entry to mark.
pub fn page(frame: &Frame, title: &str, current: &str, body: Markup) -> Markup {
    let l = frame.labels();
    let nav = [
        ("overview", "/dashboard", l.programmes),
        ("overdue", "/dashboard/overdue", l.overdue),
        ("calendar", "/dashboard/calendar", l.calendar),
    ];
    html! {
        (DOCTYPE)
        html lang=(frame.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Accord" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header.top {
                    a.site href="/dashboard" { (l.site) }
                    nav.main {
                        @for (name, href, label) in nav {
                            @if name == current {
                                a href=(href) aria-current="page" { (label) }
                            } @else {
                                a href=(href) { (label) }
                            }
                        }
                    }
                    span.lang data-test="language-switch" aria-label=(l.language) {
                        @for lang in LANGUAGES {
                            @if lang == frame.lang {
                                strong lang=(lang.code()) { (lang.code().to_uppercase()) }
                            } @else {
                                a href=(frame.in_language(lang)) lang=(lang.code()) hreflang=(lang.code()) { (lang.code().to_uppercase()) }
                            }
                        }
                    }
                    span.who {
                        @match &frame.user {
                            Some(user) => {
                                (l.signed_in_as) " " b data-test="user" { (user) } " "
                                @if frame.session {
                                    form method="post" action="/dashboard/logout" {
                                        button type="submit" { (l.logout) }
                                    }
                                }
                            }
                            None => { a href="/dashboard/login" data-test="login-link" { (l.login) } }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}
