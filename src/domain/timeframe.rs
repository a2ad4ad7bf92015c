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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
            let start = parse_span(first, source)?.ok_or_else(unrecognised)?.earliest;
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
        Ok(Timeframe::dated(span.kind, source, span.earliest, span.latest))
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
                return inconsistent(format!(
                    "earliest ({first}) is after latest ({last})"
                ));
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
    text = text.replace("half-year", "half").replace("half year", "half");
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
    Number { value: u32, digits: usize },
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
        [Number { value: first, digits: 4 }, Dash, Number { value: last, digits: 4 }] => {
            let start = year_span(as_year(*first))?.earliest;
            let end = year_span(as_year(*last))?.latest;
            let period = Period::new(start, end)?;
            span(TimeframeKind::Range, period.start, period.end)
        }

        // 2025-10, 10.2025, 10/2025, October 2025, в октябре 2025 года, 2025 жылғы қазан
        [Number { value: year, digits: 3.. }, Dash, Number { value: month, digits: 1..=2 }]
        | [Number { value: month, digits: 1..=2 }, Dot | Slash, Number { value: year, digits: 3.. }]
        | [Month(month), Number { value: year, .. }]
        | [Number { value: year, .. }, Month(month)] => month_span(as_year(*year), *month)?,

        // 2025-Q2, Q2 2025, 2025 Q2, II quarter 2025, 2 квартал 2025 года
        // A short number before the word is the quarter ("2 квартал 2025"), a long one the year ("2025 Q2").
        [Number { value: quarter, digits: 1..=2 } | Ordinal(quarter), Quarter, Number { value: year, .. }]
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
        [Number { value: half, digits: 1..=2 } | Ordinal(half), Half, Number { value: year, .. }]
        | [Number { value: year, .. }, Dash | Comma, Half, Number { value: half, .. } | Ordinal(half)]
        | [Number { value: year, .. }, Half, Number { value: half, .. } | Ordinal(half)]
        | [Half, Number { value: half, .. } | Ordinal(half), Number { value: year, .. }] => {
            half_span(as_year(*year), *half)?
        }

        // 2025-10-14, 14.10.2025, 14 October 2025, October 14, 2025, 2025 жылғы 14 қазан
        [Number { value: year, digits: 3.. }, Dash, Number { value: month, .. }, Dash, Number { value: day, digits: 1..=2 }]
        | [Number { value: day, digits: 1..=2 }, Dot, Number { value: month, digits: 1..=2 }, Dot, Number { value: year, .. }]
        | [Number { value: day, digits: 1..=2 } | Ordinal(day), Month(month), Number { value: year, .. }]
        | [Month(month), Number { value: day, digits: 1..=2 } | Ordinal(day), Number { value: year, .. }]
        | [Month(month), Number { value: day, digits: 1..=2 } | Ordinal(day), Comma, Number { value: year, .. }]
        | [Number { value: year, digits: 3.. }, Number { value: day, digits: 1..=2 }, Month(month)] => {
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
            rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())
        } else if c.is_alphabetic() {
            rest.find(|c: char| !c.is_alphabetic()).unwrap_or(rest.len())
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
                w if YEAR_MARKERS.contains(&w) && matches!(previous, Some(Token::Number { .. })) => {
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
    "г", "год", "года", "году", "гг", "годы", "годах", "годов", "жыл", "жылы", "жылғы", "жылдың",
];

const ORDINAL_SUFFIXES: &[&str] = &["st", "nd", "rd", "th", "й", "го", "е", "м", "ое", "ом"];

/// Roman numerals (Latin letters, or the Cyrillic "і" Kazakh texts use for I) and ordinal words.
fn ordinal_word(word: &str) -> Option<u32> {
    let named = match word {
        "first" | "первый" | "первом" | "первое" | "первого" => Some(1),
        "second" | "второй" | "втором" | "второе" | "второго" => Some(2),
        "third" | "третий" | "третьем" | "третье" | "третьего" => Some(3),
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
        "quarter" | "qtr" | "квартал" | "квартале" | "квартала" | "кв" | "тоқсан" | "тоқсанда" | "тоқсаны"
    )
}

fn is_half_word(word: &str) -> bool {
    matches!(word, "half" | "полугодие" | "полугодии" | "полугодия")
}

/// English (full and abbreviated), Russian (nominative, genitive, prepositional) and Kazakh
/// (nominative, locative) month names.
fn month_number(word: &str) -> Option<u32> {
    let month = match word {
        "january" | "jan" | "январь" | "января" | "январе" | "қаңтар" | "қаңтарда" => 1,
        "february" | "feb" | "февраль" | "февраля" | "феврале" | "ақпан" | "ақпанда" => 2,
        "march" | "mar" | "март" | "марта" | "марте" | "наурыз" | "наурызда" => 3,
        "april" | "apr" | "апрель" | "апреля" | "апреле" | "сәуір" | "сәуірде" => 4,
        "may" | "май" | "мая" | "мае" | "мамыр" | "мамырда" => 5,
        "june" | "jun" | "июнь" | "июня" | "июне" | "маусым" | "маусымда" => 6,
        "july" | "jul" | "июль" | "июля" | "июле" | "шілде" | "шілдеде" => 7,
        "august" | "aug" | "август" | "августа" | "августе" | "тамыз" | "тамызда" => 8,
        "september" | "sep" | "sept" | "сентябрь" | "сентября" | "сентябре" | "қыркүйек"
        | "қыркүйекте" => 9,
        "october" | "oct" | "октябрь" | "октября" | "октябре" | "қазан" | "қазанда" => 10,
        "november" | "nov" | "ноябрь" | "ноября" | "ноябре" | "қараша" | "қарашада" => 11,
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
