//! Timeframes as programmes write them ("in 2025", "II quarter 2025",
//! "14 October 2025", "throughout the programme", "to be agreed"), normalised
//! to an inclusive range of dates (DESIGN.md section 2, "Timeframe").

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Years outside this range are typing mistakes, not programme dates.
const FIRST_YEAR: i32 = 1900;
const LAST_YEAR: i32 = 2200;

/// Shown with every "not a timeframe" error so the user sees what to write instead.
const EXAMPLES: &str = "2025, 2025-Q2, II quarter 2025, 2025-10, 2025-10-14, 2025-03-01..2025-05-31, programme period, to be agreed";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeframeKind {
    Date,
    Month,
    Quarter,
    Year,
    Range,
    ProgrammePeriod,
    ToBeAgreed,
}

impl TimeframeKind {
    pub const ALL: [TimeframeKind; 7] = [
        TimeframeKind::Date,
        TimeframeKind::Month,
        TimeframeKind::Quarter,
        TimeframeKind::Year,
        TimeframeKind::Range,
        TimeframeKind::ProgrammePeriod,
        TimeframeKind::ToBeAgreed,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TimeframeKind::Date => "date",
            TimeframeKind::Month => "month",
            TimeframeKind::Quarter => "quarter",
            TimeframeKind::Year => "year",
            TimeframeKind::Range => "range",
            TimeframeKind::ProgrammePeriod => "programme_period",
            TimeframeKind::ToBeAgreed => "to_be_agreed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == s)
    }
}

impl fmt::Display for TimeframeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeframeError {
    #[error("the timeframe is empty; write e.g. {EXAMPLES}")]
    Empty,
    #[error("\"{text}\" is not a timeframe; write e.g. {EXAMPLES}")]
    Unrecognised { text: String },
    #[error("\"{text}\" does not say which quarter; write e.g. 2025-Q2 or II quarter 2025")]
    QuarterMissing { text: String },
    #[error("\"{text}\" is missing one end of the range; write both, e.g. 2025-03-01..2025-05-31")]
    RangeIncomplete { text: String },
    #[error("month {month} is out of range: months are 1 to 12")]
    MonthOutOfRange { month: u32 },
    #[error("quarter {quarter} is out of range: quarters are I to IV (1 to 4)")]
    QuarterOutOfRange { quarter: u32 },
    #[error("half {half} is out of range: halves are I and II (1 and 2)")]
    HalfOutOfRange { half: u32 },
    #[error(
        "{year:04}-{month:02}-{day:02} is not a date: {} {year} has {} days",
        month_name(*.month),
        days_in_month(*.year, *.month)
    )]
    DayOutOfRange { year: i32, month: u32, day: u32 },
    #[error("year {year} is out of range: years are {FIRST_YEAR} to {LAST_YEAR}")]
    YearOutOfRange { year: i32 },
    #[error("the range ends ({end}) before it starts ({start})")]
    EndBeforeStart { start: NaiveDate, end: NaiveDate },
    #[error("the programme period is not known here, so it cannot give dates; write the dates instead, e.g. 2024-01-01..2026-12-31")]
    ProgrammePeriodUnknown,
    #[error("inconsistent timeframe: {reason}")]
    Inconsistent { reason: String },
}

/// Inclusive date range, start <= end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Period {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Period, TimeframeError> {
        if end < start {
            return Err(TimeframeError::EndBeforeStart { start, end });
        }
        Ok(Period { start, end })
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start <= d && d <= self.end
    }

    /// Every calendar year the period touches, e.g. 2024, 2025, 2026 for a 2024-2026 programme.
    pub fn years(&self) -> impl Iterator<Item = i32> {
        self.start.year()..=self.end.year()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timeframe {
    pub kind: TimeframeKind,
    /// The text exactly as given, trimmed.
    pub source: String,
    pub earliest: Option<NaiveDate>,
    pub latest: Option<NaiveDate>,
}

impl Timeframe {
    /// Parse the forms programmes use. `programme` is the period of the programme the item belongs to,
    /// needed only for "programme period" forms.
    pub fn parse(text: &str, programme: Option<Period>) -> Result<Timeframe, TimeframeError> {
        let source = text.trim();
        if source.is_empty() {
            return Err(TimeframeError::Empty);
        }
        let normal = normalise(source);
        if TO_BE_AGREED.contains(&normal.as_str()) {
            return Ok(Timeframe::to_be_agreed(source));
        }
        if PROGRAMME_PERIOD.contains(&normal.as_str()) {
            let period = programme.ok_or(TimeframeError::ProgrammePeriodUnknown)?;
            return Ok(Timeframe::dated(
                TimeframeKind::ProgrammePeriod,
                source,
                period.start,
                period.end,
            ));
        }
        let unrecognised = || TimeframeError::Unrecognised {
            text: source.to_string(),
        };
        if let Some((first, last)) = normal.split_once("..") {
            let (first, last) = (first.trim(), last.trim());
            if first.is_empty() || last.is_empty() {
                return Err(TimeframeError::RangeIncomplete {
                    text: source.to_string(),
                });
            }
            let start = parse_span(first, source)?
                .ok_or_else(unrecognised)?
                .earliest;
            let end = parse_span(last, source)?.ok_or_else(unrecognised)?.latest;
            let period = Period::new(start, end)?;
            return Ok(Timeframe::dated(
                TimeframeKind::Range,
                source,
                period.start,
                period.end,
            ));
        }
        let span = parse_span(&normal, source)?.ok_or_else(unrecognised)?;
        Ok(Timeframe::dated(
            span.kind,
            source,
            span.earliest,
            span.latest,
        ))
    }

    /// Rebuild from stored columns; checks the invariants (kind ToBeAgreed <=> both None;
    /// otherwise both Some and earliest <= latest).
    pub fn from_parts(
        kind: TimeframeKind,
        source: String,
        earliest: Option<NaiveDate>,
        latest: Option<NaiveDate>,
    ) -> Result<Timeframe, TimeframeError> {
        let inconsistent = |reason: String| Err(TimeframeError::Inconsistent { reason });
        match (kind, earliest, latest) {
            (TimeframeKind::ToBeAgreed, None, None) => {}
            (TimeframeKind::ToBeAgreed, _, _) => {
                return inconsistent(format!(
                    "a to_be_agreed timeframe has no dates, but earliest is {} and latest is {}",
                    show(earliest),
                    show(latest)
                ));
            }
            (_, Some(first), Some(last)) if last < first => {
                return inconsistent(format!("earliest ({first}) is after latest ({last})"));
            }
            (_, Some(_), Some(_)) => {}
            (_, _, _) => {
                return inconsistent(format!(
                    "a {kind} timeframe needs both dates, but earliest is {} and latest is {}",
                    show(earliest),
                    show(latest)
                ));
            }
        }
        Ok(Timeframe {
            kind,
            source,
            earliest,
            latest,
        })
    }

    pub fn to_be_agreed(source: impl Into<String>) -> Timeframe {
        Timeframe {
            kind: TimeframeKind::ToBeAgreed,
            source: source.into(),
            earliest: None,
            latest: None,
        }
    }

    /// The deadline: the last day of the timeframe.
    pub fn due(&self) -> Option<NaiveDate> {
        self.latest
    }

    /// When work can start: the first day of the timeframe.
    pub fn prepare(&self) -> Option<NaiveDate> {
        self.earliest
    }

    pub fn period(&self) -> Option<Period> {
        Some(Period {
            start: self.earliest?,
            end: self.latest?,
        })
    }

    pub fn is_scheduled(&self) -> bool {
        self.latest.is_some()
    }

    /// The same timeframe kind shifted into another year, for obligations that recur every year of a programme
    /// (Year, Quarter, Month, Date shift; 29 Feb -> 28 Feb in a non-leap year; Range shifts both ends by whole
    /// years, and a range ending on the last day of a month still does; ProgrammePeriod/ToBeAgreed, and years
    /// outside 1900 to 2200, return None). The source becomes the canonical text of the shifted timeframe,
    /// since the original text names the original year.
    pub fn in_year(&self, year: i32) -> Option<Timeframe> {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return None;
        }
        let earliest = self.earliest?;
        let latest = self.latest?;
        let (start, end, source) = match self.kind {
            TimeframeKind::Year => {
                let span = year_span(year).ok()?;
                (span.earliest, span.latest, format!("{year}"))
            }
            TimeframeKind::Quarter => {
                let quarter = (earliest.month() - 1) / 3 + 1;
                let span = quarter_span(year, quarter).ok()?;
                (span.earliest, span.latest, format!("{year}-Q{quarter}"))
            }
            TimeframeKind::Month => {
                let month = earliest.month();
                let span = month_span(year, month).ok()?;
                (span.earliest, span.latest, format!("{year}-{month:02}"))
            }
            TimeframeKind::Date => {
                let day = shift_day(earliest, year)?;
                (day, day, day.to_string())
            }
            TimeframeKind::Range => {
                let shift = year - earliest.year();
                let start = shift_day(earliest, year)?;
                let end_year = latest.year() + shift;
                if !(FIRST_YEAR..=LAST_YEAR).contains(&end_year) {
                    return None;
                }
                let end = if is_last_day_of_month(latest) {
                    month_span(end_year, latest.month()).ok()?.latest
                } else {
                    shift_day(latest, end_year)?
                };
                (start, end, format!("{start}..{end}"))
            }
            TimeframeKind::ProgrammePeriod | TimeframeKind::ToBeAgreed => return None,
        };
        Some(Timeframe::dated(self.kind, source, start, end))
    }

    fn dated(
        kind: TimeframeKind,
        source: impl Into<String>,
        earliest: NaiveDate,
        latest: NaiveDate,
    ) -> Timeframe {
        Timeframe {
            kind,
            source: source.into(),
            earliest: Some(earliest),
            latest: Some(latest),
        }
    }
}

fn show(date: Option<NaiveDate>) -> String {
    date.map_or_else(|| "missing".to_string(), |d| d.to_string())
}

/// Compared with the normalised text (lower case, single spaces, no final full stop).
const TO_BE_AGREED: &[&str] = &[
    "to be agreed",
    "tba",
    "tbd",
    "to be determined",
    "to be confirmed",
    "dates to be agreed",
    "date to be agreed",
    "dates to be agreed later",
    "by agreement",
    "by mutual agreement",
    "by agreement of the parties",
    "по согласованию",
    "по согласованию сторон",
    "по взаимному согласованию",
    "по взаимному согласованию сторон",
    "сроки по согласованию",
    "сроки по согласованию сторон",
    "сроки согласовываются дополнительно",
    "по договоренности",
    "по договоренности сторон",
    "по взаимной договоренности",
];

/// Compared with the normalised text, like `TO_BE_AGREED`.
const PROGRAMME_PERIOD: &[&str] = &[
    "programme period",
    "program period",
    "the programme period",
    "throughout the programme",
    "throughout the program",
    "throughout the programme period",
    "during the programme",
    "during the program",
    "during the programme period",
    "for the duration of the programme",
    "в течение срока действия программы",
    "в период действия программы",
    "в течение действия программы",
    "весь период",
    "весь период действия программы",
    "в течение всего периода",
    "в течение всего срока действия программы",
];

/// Lower case, one space between words, "ё" as "е", dashes between ranges as "..",
/// and no final full stop ("2025 г." and "2025 г" read the same).
fn normalise(source: &str) -> String {
    let mut text = String::with_capacity(source.len());
    for c in source.to_lowercase().chars() {
        match c {
            'ё' => text.push('е'),
            // En and em dashes only ever separate the ends of a range.
            '–' | '—' => text.push_str(".."),
            '\u{2010}' | '\u{2011}' | '\u{2212}' => text.push('-'),
            _ => text.push(c),
        }
    }
    let mut text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // A hyphen between spaces separates a range ("2024 - 2026"); a bare one is part of a form ("2025-10").
    text = text.replace(" - ", "..");
    text = text
        .replace("half-year", "half")
        .replace("half year", "half");
    if text.ends_with('.') && !text.ends_with("..") {
        text.pop();
    }
    text
}

/// A normalised timeframe with dates, before it gets its source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    kind: TimeframeKind,
    earliest: NaiveDate,
    latest: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// Digits as written; `digits` tells "2025" from "10".
    Number {
        value: u32,
        digits: usize,
    },
    /// A roman numeral, "2nd", "2-й", "second": the number of a quarter or half (or a day), never a year.
    Ordinal(u32),
    /// A month name in any of the languages and grammatical cases accepted.
    Month(u32),
    /// "Q", "quarter", "квартал", "тоқсан".
    Quarter,
    /// "H", "half", "полугодие".
    Half,
    Word(&'a str),
    Dash,
    Dot,
    Comma,
    Slash,
}

/// Ok(None) when the text is none of the forms; errors when it is one of them with a bad number in it.
fn parse_span(text: &str, source: &str) -> Result<Option<Span>, TimeframeError> {
    use Token::{Comma, Dash, Dot, Half, Month, Number, Ordinal, Quarter, Slash};
    let Some(tokens) = tokenise(text) else {
        return Ok(None);
    };
    let span = match tokens.as_slice() {
        [Number { value: year, .. }] => year_span(as_year(*year))?,

        // 2024-2026: a range of years.
        [Number {
            value: first,
            digits: 4,
        }, Dash, Number {
            value: last,
            digits: 4,
        }] => {
            let start = year_span(as_year(*first))?.earliest;
            let end = year_span(as_year(*last))?.latest;
            let period = Period::new(start, end)?;
            span(TimeframeKind::Range, period.start, period.end)
        }

        // 2025-10, 10.2025, 10/2025, October 2025, в октябре 2025 года, 2025 жылғы қазан
        [Number {
            value: year,
            digits: 3..,
        }, Dash, Number {
            value: month,
            digits: 1..=2,
        }]
        | [Number {
            value: month,
            digits: 1..=2,
        }, Dot | Slash, Number {
            value: year,
            digits: 3..,
        }]
        | [Month(month), Number { value: year, .. }]
        | [Number { value: year, .. }, Month(month)] => month_span(as_year(*year), *month)?,

        // 2025-Q2, Q2 2025, 2025 Q2, II quarter 2025, 2 квартал 2025 года
        // A short number before the word is the quarter ("2 квартал 2025"), a long one the year ("2025 Q2").
        [Number {
            value: quarter,
            digits: 1..=2,
        }
        | Ordinal(quarter), Quarter, Number { value: year, .. }]
        | [Number { value: year, .. }, Dash | Comma, Quarter, Number { value: quarter, .. } | Ordinal(quarter)]
        | [Number { value: year, .. }, Quarter, Number { value: quarter, .. } | Ordinal(quarter)]
        | [Quarter, Number { value: quarter, .. } | Ordinal(quarter), Number { value: year, .. }] => {
            quarter_span(as_year(*year), *quarter)?
        }
        [Number { digits: 3.., .. }, Dash, Quarter]
        | [Quarter, Number { digits: 3.., .. }]
        | [Number { digits: 3.., .. }, Quarter] => {
            return Err(TimeframeError::QuarterMissing {
                text: source.to_string(),
            });
        }

        // 2025-H2, H1 2025, I half 2025, II полугодие 2025 г.
        [Number {
            value: half,
            digits: 1..=2,
        }
        | Ordinal(half), Half, Number { value: year, .. }]
        | [Number { value: year, .. }, Dash | Comma, Half, Number { value: half, .. } | Ordinal(half)]
        | [Number { value: year, .. }, Half, Number { value: half, .. } | Ordinal(half)]
        | [Half, Number { value: half, .. } | Ordinal(half), Number { value: year, .. }] => {
            half_span(as_year(*year), *half)?
        }

        // 2025-10-14, 14.10.2025, 14 October 2025, October 14, 2025, 2025 жылғы 14 қазан
        [Number {
            value: year,
            digits: 3..,
        }, Dash, Number { value: month, .. }, Dash, Number {
            value: day,
            digits: 1..=2,
        }]
        | [Number {
            value: day,
            digits: 1..=2,
        }, Dot, Number {
            value: month,
            digits: 1..=2,
        }, Dot, Number { value: year, .. }]
        | [Number {
            value: day,
            digits: 1..=2,
        }
        | Ordinal(day), Month(month), Number { value: year, .. }]
        | [Month(month), Number {
            value: day,
            digits: 1..=2,
        }
        | Ordinal(day), Number { value: year, .. }]
        | [Month(month), Number {
            value: day,
            digits: 1..=2,
        }
        | Ordinal(day), Comma, Number { value: year, .. }]
        | [Number {
            value: year,
            digits: 3..,
        }, Number {
            value: day,
            digits: 1..=2,
        }, Month(month)] => {
            let day = date(as_year(*year), *month, *day)?;
            span(TimeframeKind::Date, day, day)
        }

        _ => return Ok(None),
    };
    Ok(Some(span))
}

/// Splits normalised text into tokens, names the words that carry a date, and drops those that
/// do not: a leading "in"/"в", "of"/"the", year markers after a number ("2025 г.", "2025 года",
/// "2025 жылы"), and the full stop of an abbreviation ("Oct.", "кв."). None if a character
/// belongs to no form.
fn tokenise(text: &str) -> Option<Vec<Token<'_>>> {
    let mut tokens: Vec<Token<'_>> = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = if c.is_ascii_digit() {
            rest.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len())
        } else if c.is_alphabetic() {
            rest.find(|c: char| !c.is_alphabetic())
                .unwrap_or(rest.len())
        } else {
            c.len_utf8()
        };
        let piece = &rest[..len];
        rest = &rest[len..];
        let previous = tokens.last().copied();
        let token = if c.is_ascii_digit() {
            // Nine digits fit a u32; anything longer is not a date.
            let value = piece.parse().ok().filter(|_| len <= 9)?;
            Token::Number { value, digits: len }
        } else if c.is_alphabetic() {
            match piece {
                w if tokens.is_empty() && PREFIXES.contains(&w) => continue,
                "течение" if tokens.is_empty() => continue,
                "of" | "the" => continue,
                w if YEAR_MARKERS.contains(&w)
                    && matches!(previous, Some(Token::Number { .. })) =>
                {
                    continue
                }
                // "2nd", "2-й": the suffix makes the number an ordinal.
                w if ORDINAL_SUFFIXES.contains(&w) => {
                    if previous == Some(Token::Dash) {
                        tokens.pop();
                    }
                    match tokens.pop() {
                        Some(Token::Number { value, .. }) => Token::Ordinal(value),
                        _ => return None,
                    }
                }
                "q" => Token::Quarter,
                "h" => Token::Half,
                w if is_quarter_word(w) => Token::Quarter,
                w if is_half_word(w) => Token::Half,
                w => match (month_number(w), ordinal_word(w)) {
                    (Some(month), _) => Token::Month(month),
                    (None, Some(n)) => Token::Ordinal(n),
                    (None, None) => Token::Word(w),
                },
            }
        } else {
            match c {
                ' ' => continue,
                // The full stop of an abbreviation: "Oct.", "кв.", "г.".
                '.' if matches!(
                    previous,
                    Some(Token::Word(_) | Token::Month(_) | Token::Quarter | Token::Half)
                ) =>
                {
                    continue
                }
                '.' => Token::Dot,
                '-' => Token::Dash,
                ',' => Token::Comma,
                '/' => Token::Slash,
                _ => return None,
            }
        };
        tokens.push(token);
    }
    Some(tokens)
}

const PREFIXES: &[&str] = &["in", "during", "throughout", "в", "во"];

/// Words that follow a year and add nothing: "2025 г.", "в 2025 году", "2024-2026 гг.", "2025 жылы".
const YEAR_MARKERS: &[&str] = &[
    "г",
    "год",
    "года",
    "году",
    "гг",
    "годы",
    "годах",
    "годов",
    "жыл",
    "жылы",
    "жылғы",
    "жылдың",
];

const ORDINAL_SUFFIXES: &[&str] = &["st", "nd", "rd", "th", "й", "го", "е", "м", "ое", "ом"];

/// Roman numerals (Latin letters, or the Cyrillic "і" Kazakh texts use for I) and ordinal words.
fn ordinal_word(word: &str) -> Option<u32> {
    let named = match word {
        "first" | "первый" | "первом" | "первое" | "первого" => Some(1),
        "second" | "второй" | "втором" | "второе" | "второго" => Some(2),
        "third" | "третий" | "третьем" | "третье" | "третьего" => {
            Some(3)
        }
        "fourth" | "четвертый" | "четвертом" | "четвертого" => Some(4),
        _ => None,
    };
    named.or_else(|| roman(word))
}

/// Small roman numerals: enough to read I..IV and to report "V quarter" as quarter 5.
fn roman(word: &str) -> Option<u32> {
    let values: Vec<i64> = word
        .chars()
        .map(|c| match c {
            'i' | 'і' => Some(1),
            'v' => Some(5),
            'x' => Some(10),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let mut total = 0;
    for (i, value) in values.iter().enumerate() {
        match values.get(i + 1) {
            Some(next) if next > value => total -= value,
            _ => total += value,
        }
    }
    u32::try_from(total).ok().filter(|n| *n > 0)
}

fn is_quarter_word(word: &str) -> bool {
    matches!(
        word,
        "quarter"
            | "qtr"
            | "квартал"
            | "квартале"
            | "квартала"
            | "кв"
            | "тоқсан"
            | "тоқсанда"
            | "тоқсаны"
    )
}

fn is_half_word(word: &str) -> bool {
    matches!(word, "half" | "полугодие" | "полугодии" | "полугодия")
}

/// English (full and abbreviated), Russian (nominative, genitive, prepositional) and Kazakh
/// (nominative, locative) month names.
fn month_number(word: &str) -> Option<u32> {
    let month = match word {
        "january" | "jan" | "январь" | "января" | "январе" | "қаңтар" | "қаңтарда" => {
            1
        }
        "february" | "feb" | "февраль" | "февраля" | "феврале" | "ақпан" | "ақпанда" => {
            2
        }
        "march" | "mar" | "март" | "марта" | "марте" | "наурыз" | "наурызда" => {
            3
        }
        "april" | "apr" | "апрель" | "апреля" | "апреле" | "сәуір" | "сәуірде" => {
            4
        }
        "may" | "май" | "мая" | "мае" | "мамыр" | "мамырда" => 5,
        "june" | "jun" | "июнь" | "июня" | "июне" | "маусым" | "маусымда" => {
            6
        }
        "july" | "jul" | "июль" | "июля" | "июле" | "шілде" | "шілдеде" => {
            7
        }
        "august" | "aug" | "август" | "августа" | "августе" | "тамыз" | "тамызда" => {
            8
        }
        "september"
        | "sep"
        | "sept"
        | "сентябрь"
        | "сентября"
        | "сентябре"
        | "қыркүйек"
        | "қыркүйекте" => 9,
        "october" | "oct" | "октябрь" | "октября" | "октябре" | "қазан" | "қазанда" => {
            10
        }
        "november" | "nov" | "ноябрь" | "ноября" | "ноябре" | "қараша" | "қарашада" => {
            11
        }
        "december" | "dec" | "декабрь" | "декабря" | "декабре" | "желтоқсан" | "желтоқсанда" => {
            12
        }
        _ => return None,
    };
    Some(month)
}

/// English month name, for error messages.
fn month_name(month: u32) -> &'static str {
    match month {
        1 => "January",
        2 => "February",
        3 => "March",
        4 => "April",
        5 => "May",
        6 => "June",
        7 => "July",
        8 => "August",
        9 => "September",
        10 => "October",
        11 => "November",
        12 => "December",
        _ => "no month",
    }
}

fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 31,
    }
}

fn is_last_day_of_month(date: NaiveDate) -> bool {
    date.day() == days_in_month(date.year(), date.month())
}

/// Numbers are at most nine digits, so they fit; the year check then rejects the large ones.
fn as_year(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// The one place dates are built: checks year, then month, then day, so the error names the first bad piece.
fn date(year: i32, month: u32, day: u32) -> Result<NaiveDate, TimeframeError> {
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return Err(TimeframeError::YearOutOfRange { year });
    }
    if !(1..=12).contains(&month) {
        return Err(TimeframeError::MonthOutOfRange { month });
    }
    let bad_day = TimeframeError::DayOutOfRange { year, month, day };
    if !(1..=days_in_month(year, month)).contains(&day) {
        return Err(bad_day);
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or(bad_day)
}

fn span(kind: TimeframeKind, earliest: NaiveDate, latest: NaiveDate) -> Span {
    Span {
        kind,
        earliest,
        latest,
    }
}

fn months_span(
    kind: TimeframeKind,
    year: i32,
    first: u32,
    last: u32,
) -> Result<Span, TimeframeError> {
    Ok(span(
        kind,
        date(year, first, 1)?,
        date(year, last, days_in_month(year, last))?,
    ))
}

fn year_span(year: i32) -> Result<Span, TimeframeError> {
    months_span(TimeframeKind::Year, year, 1, 12)
}

fn quarter_span(year: i32, quarter: u32) -> Result<Span, TimeframeError> {
    date(year, 1, 1)?;
    if !(1..=4).contains(&quarter) {
        return Err(TimeframeError::QuarterOutOfRange { quarter });
    }
    months_span(TimeframeKind::Quarter, year, quarter * 3 - 2, quarter * 3)
}

/// A half year has no kind of its own: it is a range of six months.
fn half_span(year: i32, half: u32) -> Result<Span, TimeframeError> {
    date(year, 1, 1)?;
    if !(1..=2).contains(&half) {
        return Err(TimeframeError::HalfOutOfRange { half });
    }
    months_span(TimeframeKind::Range, year, half * 6 - 5, half * 6)
}

fn month_span(year: i32, month: u32) -> Result<Span, TimeframeError> {
    months_span(TimeframeKind::Month, year, month, month)
}

/// The same day in another year; 29 February becomes 28 February in a non-leap year.
fn shift_day(day: NaiveDate, year: i32) -> Option<NaiveDate> {
    let last = days_in_month(year, day.month());
    date(year, day.month(), day.day().min(last)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use TimeframeKind::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn programme() -> Period {
        Period::new(d(2024, 1, 1), d(2026, 12, 31)).expect("valid programme")
    }

    type Ymd = (i32, u32, u32);
    /// Expected result of `in_year`: canonical source, earliest, latest.
    type Shifted<'a> = Option<(&'a str, Ymd, Ymd)>;

    fn check(rows: &[(&str, TimeframeKind, Ymd, Ymd)]) {
        for &(text, kind, first, last) in rows {
            let parsed = Timeframe::parse(text, Some(programme()))
                .unwrap_or_else(|e| panic!("{text:?} should parse, got: {e}"));
            let expected = Timeframe {
                kind,
                source: text.trim().to_string(),
                earliest: Some(d(first.0, first.1, first.2)),
                latest: Some(d(last.0, last.1, last.2)),
            };
            assert_eq!(parsed, expected, "parsing {text:?}");
        }
    }

    /// Every text in `forms` parses to the same kind and dates.
    fn check_all(forms: &[&str], kind: TimeframeKind, first: Ymd, last: Ymd) {
        let rows: Vec<_> = forms.iter().map(|t| (*t, kind, first, last)).collect();
        check(&rows);
    }

    #[test]
    #[rustfmt::skip]
    fn years() {
        check_all(
            &[
                "2025", "2025 г.", "2025 г", "2025г.", "2025 год", "2025 года", "в 2025 году", "in 2025",
                "In 2025", "IN 2025", "during 2025", "в течение 2025 года", "2025 жылы", "  2025  ", "2025.",
            ],
            Year, (2025, 1, 1), (2025, 12, 31),
        );
        check(&[
            ("1900", Year, (1900, 1, 1), (1900, 12, 31)),
            ("2200", Year, (2200, 1, 1), (2200, 12, 31)),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn quarters() {
        check_all(
            &[
                "2025-Q2", "2025-q2", "Q2 2025", "q2 2025", "2025 Q2",
                "II quarter 2025", "ii quarter 2025", "2nd quarter 2025", "second quarter of 2025",
                "the second quarter of 2025", "in the 2nd quarter of 2025", "II  quarter   2025",
                "II квартал 2025", "II квартал 2025 г.", "2 квартал 2025 года", "2-й квартал 2025 г.",
                "во II квартале 2025 года", "во 2-м квартале 2025 года", "в втором квартале 2025 года",
                "II кв. 2025 г.", "ІІ тоқсан 2025",
            ],
            Quarter, (2025, 4, 1), (2025, 6, 30),
        );
        check(&[
            ("I quarter 2025",     Quarter, (2025, 1, 1),  (2025, 3, 31)),
            ("2025-Q1",            Quarter, (2025, 1, 1),  (2025, 3, 31)),
            // Q1 of a leap year still ends on 31 March.
            ("2024-Q1",            Quarter, (2024, 1, 1),  (2024, 3, 31)),
            ("III quarter 2025",   Quarter, (2025, 7, 1),  (2025, 9, 30)),
            ("3rd quarter 2025",   Quarter, (2025, 7, 1),  (2025, 9, 30)),
            // Q4 ends on 31 December.
            ("IV quarter 2025",    Quarter, (2025, 10, 1), (2025, 12, 31)),
            ("4th quarter 2025",   Quarter, (2025, 10, 1), (2025, 12, 31)),
            ("Q4 2025",            Quarter, (2025, 10, 1), (2025, 12, 31)),
            ("IV квартал 2026 г.", Quarter, (2026, 10, 1), (2026, 12, 31)),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn half_years() {
        check(&[
            ("I half 2025",               Range, (2025, 1, 1), (2025, 6, 30)),
            ("1st half 2025",             Range, (2025, 1, 1), (2025, 6, 30)),
            ("first half of 2025",        Range, (2025, 1, 1), (2025, 6, 30)),
            ("H1 2025",                   Range, (2025, 1, 1), (2025, 6, 30)),
            ("2025-H1",                   Range, (2025, 1, 1), (2025, 6, 30)),
            ("I полугодие 2025",          Range, (2025, 1, 1), (2025, 6, 30)),
            ("II half 2025",              Range, (2025, 7, 1), (2025, 12, 31)),
            ("2nd half-year 2025",        Range, (2025, 7, 1), (2025, 12, 31)),
            ("II half year 2025",         Range, (2025, 7, 1), (2025, 12, 31)),
            ("H2 2025",                   Range, (2025, 7, 1), (2025, 12, 31)),
            ("2025-H2",                   Range, (2025, 7, 1), (2025, 12, 31)),
            ("II полугодие 2025 г.",      Range, (2025, 7, 1), (2025, 12, 31)),
            ("во II полугодии 2025 года", Range, (2025, 7, 1), (2025, 12, 31)),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn months() {
        check_all(
            &[
                "2025-10", "October 2025", "october 2025", "Oct 2025", "Oct. 2025", "in October 2025",
                "октябрь 2025", "Октябрь 2025 г.", "октябрь 2025 года", "в октябре 2025 года",
                "қазан 2025", "Қазан 2025", "2025 жылғы қазан", "2025 жылы қазанда", "10.2025", "10/2025",
            ],
            Month, (2025, 10, 1), (2025, 10, 31),
        );
        check(&[
            ("2025-01",      Month, (2025, 1, 1),  (2025, 1, 31)),
            ("2025-1",       Month, (2025, 1, 1),  (2025, 1, 31)),
            ("2025-04",      Month, (2025, 4, 1),  (2025, 4, 30)),
            ("2025-12",      Month, (2025, 12, 1), (2025, 12, 31)),
            // Leap years: divisible by 4, except centuries not divisible by 400.
            ("2024-02",      Month, (2024, 2, 1),  (2024, 2, 29)),
            ("2025-02",      Month, (2025, 2, 1),  (2025, 2, 28)),
            ("1900-02",      Month, (1900, 2, 1),  (1900, 2, 28)),
            ("2000-02",      Month, (2000, 2, 1),  (2000, 2, 29)),
            ("февраль 2024", Month, (2024, 2, 1),  (2024, 2, 29)),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn month_names_in_every_language() {
        // English, English abbreviated, Russian nominative, genitive, prepositional, Kazakh.
        let names: [[&str; 6]; 12] = [
            ["January",   "Jan", "январь",   "января",   "январе",   "қаңтар"],
            ["February",  "Feb", "февраль",  "февраля",  "феврале",  "ақпан"],
            ["March",     "Mar", "март",     "марта",    "марте",    "наурыз"],
            ["April",     "Apr", "апрель",   "апреля",   "апреле",   "сәуір"],
            ["May",       "May", "май",      "мая",      "мае",      "мамыр"],
            ["June",      "Jun", "июнь",     "июня",     "июне",     "маусым"],
            ["July",      "Jul", "июль",     "июля",     "июле",     "шілде"],
            ["August",    "Aug", "август",   "августа",  "августе",  "тамыз"],
            ["September", "Sep", "сентябрь", "сентября", "сентябре", "қыркүйек"],
            ["October",   "Oct", "октябрь",  "октября",  "октябре",  "қазан"],
            ["November",  "Nov", "ноябрь",   "ноября",   "ноябре",   "қараша"],
            ["December",  "Dec", "декабрь",  "декабря",  "декабре",  "желтоқсан"],
        ];
        // The last day of each month of 2025, written out rather than computed.
        let last_days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        for ((forms, last), month) in names.iter().zip(last_days).zip(1..) {
            for name in forms {
                check(&[(&format!("{name} 2025"), Month, (2025, month, 1), (2025, month, last))]);
                check(&[(&format!("1 {name} 2025"), Date, (2025, month, 1), (2025, month, 1))]);
            }
        }
        check(&[("Sept 2025", Month, (2025, 9, 1), (2025, 9, 30))]);
    }

    #[test]
    #[rustfmt::skip]
    fn dates() {
        check_all(
            &[
                "2025-10-14", "14 October 2025", "14th October 2025", "October 14, 2025", "October 14 2025",
                "Oct. 14, 2025", "14 октября 2025", "14 октября 2025 г.", "14 октября 2025 года",
                "14.10.2025", "14.10.2025 г.", "14 қазан 2025", "2025 жылғы 14 қазан",
            ],
            Date, (2025, 10, 14), (2025, 10, 14),
        );
        check(&[
            ("2024-02-29",         Date, (2024, 2, 29),  (2024, 2, 29)),
            ("2000-02-29",         Date, (2000, 2, 29),  (2000, 2, 29)),
            ("29 февраля 2024 г.", Date, (2024, 2, 29),  (2024, 2, 29)),
            ("01.05.2025",         Date, (2025, 5, 1),   (2025, 5, 1)),
            ("1 мая 2025 года",    Date, (2025, 5, 1),   (2025, 5, 1)),
            ("2025-12-31",         Date, (2025, 12, 31), (2025, 12, 31)),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn ranges() {
        check(&[
            ("2025-03-01..2025-05-31",            Range, (2025, 3, 1),   (2025, 5, 31)),
            ("2025-03-01 .. 2025-05-31",          Range, (2025, 3, 1),   (2025, 5, 31)),
            ("2025-03-01 – 2025-05-31",           Range, (2025, 3, 1),   (2025, 5, 31)),
            ("2025-03..2025-05",                  Range, (2025, 3, 1),   (2025, 5, 31)),
            ("2024-2026",                         Range, (2024, 1, 1),   (2026, 12, 31)),
            ("2024–2026",                         Range, (2024, 1, 1),   (2026, 12, 31)),
            ("2024—2026",                         Range, (2024, 1, 1),   (2026, 12, 31)),
            ("2024 - 2026",                       Range, (2024, 1, 1),   (2026, 12, 31)),
            ("2024 – 2026",                       Range, (2024, 1, 1),   (2026, 12, 31)),
            ("2024..2026",                        Range, (2024, 1, 1),   (2026, 12, 31)),
            ("2024-2026 гг.",                     Range, (2024, 1, 1),   (2026, 12, 31)),
            ("в 2024–2026 годах",                 Range, (2024, 1, 1),   (2026, 12, 31)),
            ("2025-2025",                         Range, (2025, 1, 1),   (2025, 12, 31)),
            ("2025-Q2..2025-Q3",                  Range, (2025, 4, 1),   (2025, 9, 30)),
            ("II quarter 2025..III quarter 2025", Range, (2025, 4, 1),   (2025, 9, 30)),
            ("October 2025..December 2025",       Range, (2025, 10, 1),  (2025, 12, 31)),
            // Across years.
            ("2024-11..2025-02",                  Range, (2024, 11, 1),  (2025, 2, 28)),
            ("2023-11..2024-02",                  Range, (2023, 11, 1),  (2024, 2, 29)),
            ("2025-12-15..2026-01-15",            Range, (2025, 12, 15), (2026, 1, 15)),
            // One day, and mixed precisions: the first day of the first to the last day of the last.
            ("2025-10-14..2025-10-14",            Range, (2025, 10, 14), (2025, 10, 14)),
            ("2025-03-15..2025-05",               Range, (2025, 3, 15),  (2025, 5, 31)),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn programme_period() {
        check_all(
            &[
                "programme period", "Programme period", "program period", "throughout the programme",
                "during the programme", "during the programme period", "for the duration of the programme",
                "в течение срока действия программы", "В течение срока действия программы.",
                "в период действия программы", "весь период", "Весь  период",
                "в течение всего срока действия программы",
            ],
            ProgrammePeriod, (2024, 1, 1), (2026, 12, 31),
        );
    }

    #[test]
    fn programme_period_needs_the_programme() {
        let got = Timeframe::parse("в течение срока действия программы", None);
        assert_eq!(got, Err(TimeframeError::ProgrammePeriodUnknown));
    }

    #[test]
    fn to_be_agreed() {
        let forms = [
            "to be agreed",
            "To be agreed.",
            "TBA",
            "tbd",
            "dates to be agreed",
            "by agreement",
            "by mutual agreement",
            "по согласованию",
            "По согласованию сторон",
            "сроки по согласованию",
            "по взаимной договорённости",
            "  по  согласованию  ",
        ];
        for text in forms {
            for programme in [None, Some(programme())] {
                let parsed = Timeframe::parse(text, programme)
                    .unwrap_or_else(|e| panic!("{text:?} should parse, got: {e}"));
                assert_eq!(
                    parsed,
                    Timeframe::to_be_agreed(text.trim()),
                    "parsing {text:?}"
                );
                assert!(!parsed.is_scheduled());
                assert_eq!(
                    (parsed.due(), parsed.prepare(), parsed.period()),
                    (None, None, None)
                );
            }
        }
    }

    #[test]
    fn source_is_kept_verbatim_but_trimmed() {
        for text in [
            "  II квартал 2025 г.  ",
            "\tOct. 14,  2025\n",
            "2024–2026",
            "По согласованию",
        ] {
            let parsed = Timeframe::parse(text, None).expect("parses");
            assert_eq!(parsed.source, text.trim());
        }
    }

    #[test]
    #[rustfmt::skip]
    fn malformed_inputs_name_the_problem() {
        use TimeframeError::*;
        let examples = "write e.g. 2025, 2025-Q2, II quarter 2025, 2025-10, 2025-10-14, 2025-03-01..2025-05-31, programme period, to be agreed";
        let not_a_timeframe = |text: &str| (Unrecognised { text: text.into() }, format!("\"{text}\" is not a timeframe; {examples}"));
        let no_quarter = |text: &str| (QuarterMissing { text: text.into() }, format!("\"{text}\" does not say which quarter; write e.g. 2025-Q2 or II quarter 2025"));
        let open_range = |text: &str| (RangeIncomplete { text: text.into() }, format!("\"{text}\" is missing one end of the range; write both, e.g. 2025-03-01..2025-05-31"));
        let rows: Vec<(&str, (TimeframeError, String))> = vec![
            ("2025-13",        (MonthOutOfRange { month: 13 }, "month 13 is out of range: months are 1 to 12".into())),
            ("2025-00",        (MonthOutOfRange { month: 0 }, "month 0 is out of range: months are 1 to 12".into())),
            ("2025-13-01",     (MonthOutOfRange { month: 13 }, "month 13 is out of range: months are 1 to 12".into())),
            ("14.13.2025",     (MonthOutOfRange { month: 13 }, "month 13 is out of range: months are 1 to 12".into())),
            ("Q5 2025",        (QuarterOutOfRange { quarter: 5 }, "quarter 5 is out of range: quarters are I to IV (1 to 4)".into())),
            ("V quarter 2025", (QuarterOutOfRange { quarter: 5 }, "quarter 5 is out of range: quarters are I to IV (1 to 4)".into())),
            ("2025-Q0",        (QuarterOutOfRange { quarter: 0 }, "quarter 0 is out of range: quarters are I to IV (1 to 4)".into())),
            ("III полугодие 2025", (HalfOutOfRange { half: 3 }, "half 3 is out of range: halves are I and II (1 and 2)".into())),
            ("2025-02-30",     (DayOutOfRange { year: 2025, month: 2, day: 30 }, "2025-02-30 is not a date: February 2025 has 28 days".into())),
            ("2025-02-29",     (DayOutOfRange { year: 2025, month: 2, day: 29 }, "2025-02-29 is not a date: February 2025 has 28 days".into())),
            ("1900-02-29",     (DayOutOfRange { year: 1900, month: 2, day: 29 }, "1900-02-29 is not a date: February 1900 has 28 days".into())),
            ("31 April 2025",  (DayOutOfRange { year: 2025, month: 4, day: 31 }, "2025-04-31 is not a date: April 2025 has 30 days".into())),
            ("32 октября 2025", (DayOutOfRange { year: 2025, month: 10, day: 32 }, "2025-10-32 is not a date: October 2025 has 31 days".into())),
            ("2025-10-00",     (DayOutOfRange { year: 2025, month: 10, day: 0 }, "2025-10-00 is not a date: October 2025 has 31 days".into())),
            ("2025-03-01..2025-01-31", (EndBeforeStart { start: d(2025, 3, 1), end: d(2025, 1, 31) }, "the range ends (2025-01-31) before it starts (2025-03-01)".into())),
            ("2025-05..2025-03", (EndBeforeStart { start: d(2025, 5, 1), end: d(2025, 3, 31) }, "the range ends (2025-03-31) before it starts (2025-05-01)".into())),
            ("2026-2024",      (EndBeforeStart { start: d(2026, 1, 1), end: d(2024, 12, 31) }, "the range ends (2024-12-31) before it starts (2026-01-01)".into())),
            ("2026..2024",     (EndBeforeStart { start: d(2026, 1, 1), end: d(2024, 12, 31) }, "the range ends (2024-12-31) before it starts (2026-01-01)".into())),
            ("",               (Empty, format!("the timeframe is empty; {examples}"))),
            ("   \t ",         (Empty, format!("the timeframe is empty; {examples}"))),
            ("2025-Q",         no_quarter("2025-Q")),
            ("quarter 2025",   no_quarter("quarter 2025")),
            ("квартал 2025 г.", no_quarter("квартал 2025 г.")),
            ("abc",            not_a_timeframe("abc")),
            ("sometime soon",  not_a_timeframe("sometime soon")),
            ("Q2",             not_a_timeframe("Q2")),
            ("October",        not_a_timeframe("October")),
            ("2025-10-14 or later", not_a_timeframe("2025-10-14 or later")),
            ("2025?",          not_a_timeframe("2025?")),
            // Day-month-year with hyphens is ambiguous with the American order: refused, not guessed.
            ("14-10-2025",     not_a_timeframe("14-10-2025")),
            ("1234567890",     not_a_timeframe("1234567890")),
            ("2025..2026..2027", not_a_timeframe("2025..2026..2027")),
            ("2025..to be agreed", not_a_timeframe("2025..to be agreed")),
            ("2025-10-14..",   open_range("2025-10-14..")),
            ("..2025-10-14",   open_range("..2025-10-14")),
            ("2024–",          open_range("2024–")),
            ("0",              (YearOutOfRange { year: 0 }, "year 0 is out of range: years are 1900 to 2200".into())),
            ("99999",          (YearOutOfRange { year: 99999 }, "year 99999 is out of range: years are 1900 to 2200".into())),
            ("1899",           (YearOutOfRange { year: 1899 }, "year 1899 is out of range: years are 1900 to 2200".into())),
            ("Q2 2201",        (YearOutOfRange { year: 2201 }, "year 2201 is out of range: years are 1900 to 2200".into())),
            ("20250-10-14",    (YearOutOfRange { year: 20250 }, "year 20250 is out of range: years are 1900 to 2200".into())),
            ("programme period", (ProgrammePeriodUnknown, "the programme period is not known here, so it cannot give dates; write the dates instead, e.g. 2024-01-01..2026-12-31".into())),
        ];
        for (text, (error, message)) in rows {
            assert_eq!(Timeframe::parse(text, None), Err(error.clone()), "parsing {text:?}");
            assert_eq!(error.to_string(), message, "message for {text:?}");
        }
    }

    #[test]
    fn accessors() {
        let q2 = Timeframe::parse("II quarter 2025", None).expect("parses");
        assert_eq!(q2.prepare(), Some(d(2025, 4, 1)));
        assert_eq!(q2.due(), Some(d(2025, 6, 30)));
        let expected = Period {
            start: d(2025, 4, 1),
            end: d(2025, 6, 30),
        };
        assert_eq!(q2.period(), Some(expected));
        assert!(q2.is_scheduled());
        let tba = Timeframe::to_be_agreed("по согласованию");
        assert_eq!(tba.kind, ToBeAgreed);
        assert_eq!(tba.source, "по согласованию");
        assert!(!tba.is_scheduled());
        assert_eq!(tba.period(), None);
    }

    #[test]
    fn from_parts_accepts_what_parse_produces() {
        let texts = [
            "2025",
            "2025-Q2",
            "2025-10",
            "2025-10-14",
            "2024-2026",
            "programme period",
            "tba",
        ];
        for text in texts {
            let parsed = Timeframe::parse(text, Some(programme())).expect("parses");
            let (kind, source) = (parsed.kind, parsed.source.clone());
            let rebuilt = Timeframe::from_parts(kind, source, parsed.earliest, parsed.latest);
            assert_eq!(rebuilt, Ok(parsed));
        }
    }

    #[test]
    #[rustfmt::skip]
    fn from_parts_checks_the_invariants() {
        let (a, b) = (Some(d(2025, 4, 1)), Some(d(2025, 6, 30)));
        let rows: Vec<(TimeframeKind, Option<NaiveDate>, Option<NaiveDate>, &str)> = vec![
            (ToBeAgreed, a, b, "a to_be_agreed timeframe has no dates, but earliest is 2025-04-01 and latest is 2025-06-30"),
            (ToBeAgreed, None, b, "a to_be_agreed timeframe has no dates, but earliest is missing and latest is 2025-06-30"),
            (ToBeAgreed, a, None, "a to_be_agreed timeframe has no dates, but earliest is 2025-04-01 and latest is missing"),
            (Quarter, None, None, "a quarter timeframe needs both dates, but earliest is missing and latest is missing"),
            (Year, a, None, "a year timeframe needs both dates, but earliest is 2025-04-01 and latest is missing"),
            (ProgrammePeriod, None, b, "a programme_period timeframe needs both dates, but earliest is missing and latest is 2025-06-30"),
            (Range, b, a, "earliest (2025-06-30) is after latest (2025-04-01)"),
            (Date, b, a, "earliest (2025-06-30) is after latest (2025-04-01)"),
        ];
        for (kind, earliest, latest, reason) in rows {
            let got = Timeframe::from_parts(kind, "x".into(), earliest, latest);
            assert_eq!(got, Err(TimeframeError::Inconsistent { reason: reason.into() }), "{kind} {earliest:?} {latest:?}");
            if let Err(e) = got {
                assert_eq!(e.to_string(), format!("inconsistent timeframe: {reason}"));
            }
        }
        for kind in TimeframeKind::ALL.into_iter().filter(|k| *k != ToBeAgreed) {
            assert!(Timeframe::from_parts(kind, "x".into(), a, a).is_ok(), "{kind} on one day");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn in_year_shifts_each_kind() {
        let rows: Vec<(&str, i32, Shifted)> = vec![
            ("2025",                   2026, Some(("2026", (2026, 1, 1), (2026, 12, 31)))),
            ("II quarter 2025",        2027, Some(("2027-Q2", (2027, 4, 1), (2027, 6, 30)))),
            ("Q4 2025",                2024, Some(("2024-Q4", (2024, 10, 1), (2024, 12, 31)))),
            ("октябрь 2025",           2026, Some(("2026-10", (2026, 10, 1), (2026, 10, 31)))),
            ("2024-02",                2025, Some(("2025-02", (2025, 2, 1), (2025, 2, 28)))),
            ("2025-02",                2028, Some(("2028-02", (2028, 2, 1), (2028, 2, 29)))),
            ("14 October 2025",        2026, Some(("2026-10-14", (2026, 10, 14), (2026, 10, 14)))),
            ("2024-02-29",             2025, Some(("2025-02-28", (2025, 2, 28), (2025, 2, 28)))),
            ("2024-02-29",             2028, Some(("2028-02-29", (2028, 2, 29), (2028, 2, 29)))),
            ("2025-02-28",             2028, Some(("2028-02-28", (2028, 2, 28), (2028, 2, 28)))),
            ("2025-03-01..2025-05-20", 2026, Some(("2026-03-01..2026-05-20", (2026, 3, 1), (2026, 5, 20)))),
            ("2025-12-15..2026-01-15", 2026, Some(("2026-12-15..2027-01-15", (2026, 12, 15), (2027, 1, 15)))),
            // A range to the end of February stays to the end of February.
            ("2023-12..2024-02",       2024, Some(("2024-12-01..2025-02-28", (2024, 12, 1), (2025, 2, 28)))),
            ("2024-12..2025-02",       2027, Some(("2027-12-01..2028-02-29", (2027, 12, 1), (2028, 2, 29)))),
            ("2024-02-29..2024-03-10", 2025, Some(("2025-02-28..2025-03-10", (2025, 2, 28), (2025, 3, 10)))),
            ("I half 2025",            2026, Some(("2026-01-01..2026-06-30", (2026, 1, 1), (2026, 6, 30)))),
            ("2024-2026",              2025, Some(("2025-01-01..2027-12-31", (2025, 1, 1), (2027, 12, 31)))),
            ("2025",                   2025, Some(("2025", (2025, 1, 1), (2025, 12, 31)))),
            ("programme period",       2025, None),
            ("to be agreed",           2025, None),
            ("2025",                   2201, None),
            ("2025",                   1899, None),
            ("2199-12-15..2200-01-15", 2200, None),
        ];
        for (text, year, expected) in rows {
            let original = Timeframe::parse(text, Some(programme())).expect("parses");
            let shifted = original.in_year(year);
            let expected = expected.map(|(source, first, last)| Timeframe {
                kind: original.kind,
                source: source.to_string(),
                earliest: Some(d(first.0, first.1, first.2)),
                latest: Some(d(last.0, last.1, last.2)),
            });
            assert_eq!(shifted, expected, "{text:?} in {year}");
            // The new source reads back as the same dates.
            if let Some(shifted) = shifted {
                let reread = Timeframe::parse(&shifted.source, None).expect("canonical source parses");
                assert_eq!((reread.earliest, reread.latest), (shifted.earliest, shifted.latest));
            }
        }
    }

    #[test]
    fn period() {
        let p = programme();
        assert!(p.contains(d(2024, 1, 1)));
        assert!(p.contains(d(2026, 12, 31)));
        assert!(!p.contains(d(2023, 12, 31)));
        assert!(!p.contains(d(2027, 1, 1)));
        assert_eq!(p.years().collect::<Vec<_>>(), vec![2024, 2025, 2026]);
        let day = Period::new(d(2025, 5, 5), d(2025, 5, 5)).expect("one day");
        assert_eq!(day.years().collect::<Vec<_>>(), vec![2025]);
        assert!(day.contains(d(2025, 5, 5)));
        let backwards = TimeframeError::EndBeforeStart {
            start: d(2025, 5, 6),
            end: d(2025, 5, 5),
        };
        assert_eq!(Period::new(d(2025, 5, 6), d(2025, 5, 5)), Err(backwards));
    }

    #[test]
    fn kind_names() {
        let names = [
            "date",
            "month",
            "quarter",
            "year",
            "range",
            "programme_period",
            "to_be_agreed",
        ];
        for (kind, name) in TimeframeKind::ALL.into_iter().zip(names) {
            assert_eq!(kind.as_str(), name);
            assert_eq!(kind.to_string(), name);
            assert_eq!(TimeframeKind::parse(name), Some(kind));
            let json = serde_json::to_string(&kind).expect("serialises");
            assert_eq!(json, format!("\"{name}\""));
        }
        assert_eq!(TimeframeKind::parse("Quarter"), None);
        assert_eq!(TimeframeKind::parse(""), None);
    }

    #[test]
    fn serialises_dates_as_iso() {
        let q2 = Timeframe::parse("II квартал 2025 г.", None).expect("parses");
        let json = serde_json::to_value(&q2).expect("serialises");
        let expected = serde_json::json!({
            "kind": "quarter", "source": "II квартал 2025 г.", "earliest": "2025-04-01", "latest": "2025-06-30"
        });
        assert_eq!(json, expected);
    }
}

/// The current period of an agreement and the date by which a party must give
/// notice of non-renewal ("in force for five years, extended automatically for
/// further five-year periods unless a party gives notice six months before the
/// end of the current one").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NoticeDeadline {
    /// The end of the period running on `today` (or of the last one, if the
    /// agreement does not renew and has expired).
    pub period_ends: NaiveDate,
    /// The last day to give notice so that it does not renew (or ends).
    pub notice_by: NaiveDate,
    /// Whether the agreement renews automatically after this period.
    pub renews: bool,
}

/// Computes the notice deadline of the period running on `today`. A period
/// ends on the anniversary of entry into force; months are calendar months
/// (a 31st becomes the month's last day). None without an entry into force or
/// a term.
pub fn notice_deadline(
    in_force: Option<NaiveDate>,
    term_months: Option<i32>,
    renewal_months: Option<i32>,
    notice_months: Option<i32>,
    today: NaiveDate,
) -> Option<NoticeDeadline> {
    let months = |n: i32| {
        u32::try_from(n)
            .ok()
            .filter(|n| *n > 0)
            .map(chrono::Months::new)
    };
    let start = in_force?;
    let mut period_ends = start.checked_add_months(months(term_months?)?)?;
    let notice = u32::try_from(notice_months.unwrap_or(0))
        .ok()
        .map(chrono::Months::new)?;
    let renewal = renewal_months.and_then(months);
    if let Some(step) = renewal {
        // Roll forward until the running period: the first that ends after today.
        while period_ends <= today {
            period_ends = period_ends.checked_add_months(step)?;
        }
    }
    Some(NoticeDeadline {
        period_ends,
        notice_by: period_ends.checked_sub_months(notice)?,
        renews: renewal.is_some(),
    })
}

#[cfg(test)]
mod notice_tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn five_years_renewed_by_five_with_six_months_notice() {
        // In force 1998-12-03: periods end 2003-12-03, 2008-12-03, ... 2028-12-03.
        let deadline = notice_deadline(
            Some(d(1998, 12, 3)),
            Some(60),
            Some(60),
            Some(6),
            d(2026, 11, 23),
        )
        .unwrap();
        assert_eq!(
            deadline,
            NoticeDeadline {
                period_ends: d(2028, 12, 3),
                notice_by: d(2028, 6, 3),
                renews: true
            }
        );
        // In the first term.
        let first = notice_deadline(
            Some(d(1998, 12, 3)),
            Some(60),
            Some(60),
            Some(6),
            d(1999, 1, 1),
        )
        .unwrap();
        assert_eq!(
            (first.period_ends, first.notice_by),
            (d(2003, 12, 3), d(2003, 6, 3))
        );
        // On the last day of a period, it is still running; the day after, the next one is.
        let on_the_day = notice_deadline(
            Some(d(1998, 12, 3)),
            Some(60),
            Some(60),
            Some(6),
            d(2023, 12, 2),
        )
        .unwrap();
        assert_eq!(on_the_day.period_ends, d(2023, 12, 3));
        let after = notice_deadline(
            Some(d(1998, 12, 3)),
            Some(60),
            Some(60),
            Some(6),
            d(2023, 12, 3),
        )
        .unwrap();
        assert_eq!(after.period_ends, d(2028, 12, 3));
    }

    #[test]
    fn month_ends_and_agreements_that_do_not_renew() {
        // A term ending on 28 February, six months' notice before it; no renewal.
        let leap =
            notice_deadline(Some(d(2019, 2, 28)), Some(60), None, Some(6), d(2020, 1, 1)).unwrap();
        assert_eq!(
            leap,
            NoticeDeadline {
                period_ends: d(2024, 2, 28),
                notice_by: d(2023, 8, 28),
                renews: false
            }
        );
        let expired =
            notice_deadline(Some(d(2000, 1, 31)), Some(1), None, Some(0), d(2026, 1, 1)).unwrap();
        assert_eq!(expired.period_ends, d(2000, 2, 29));
        assert!(notice_deadline(None, Some(60), Some(60), Some(6), d(2026, 1, 1)).is_none());
        assert!(
            notice_deadline(Some(d(2000, 1, 1)), None, Some(60), Some(6), d(2026, 1, 1)).is_none()
        );
        assert!(notice_deadline(Some(d(2000, 1, 1)), Some(0), None, None, d(2026, 1, 1)).is_none());
    }
}
