//! The implementation table: one row per obligation (number, text, section,
//! responsible organisations per party, timeframe, status per party with its
//! latest narrative and evidence), as secretariats bring it to a commission
//! meeting; and its workbook for the exports. Item titles and texts are kept
//! as given; only the labels are translated (ru, kk, en).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::export::{Cell, Column, Sheet, Workbook};
use super::rollup::StatusCounts;
use crate::domain::status::{Completion, Lifecycle};
use crate::domain::{Language, LocalizedText};

/// The table of a programme (or a protocol) as of a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImplementationTable {
    pub programme_id: String,
    pub programme_key: String,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub programme_title: LocalizedText,
    /// Reports dated or filed after this date are not shown.
    pub as_of: NaiveDate,
    /// The parties with a status column, by code.
    pub parties: Vec<String>,
    pub rows: Vec<TableRow>,
    /// The roll-up totals of the same items on the same date.
    pub totals: StatusCounts,
}

/// One obligation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TableRow {
    pub obligation_id: String,
    pub number: String,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub text: LocalizedText,
    pub section_code: Option<String>,
    #[schema(value_type = Option<std::collections::BTreeMap<String, String>>)]
    pub section: Option<LocalizedText>,
    /// The timeframe as the source wrote it.
    pub timeframe: String,
    pub due: Option<NaiveDate>,
    /// Overall lifecycle across the parties.
    pub lifecycle: Lifecycle,
    pub overdue: bool,
    /// Responsible organisations, per party (by party code).
    pub responsible: Vec<PartyOrganisations>,
    /// Status per party (every party of the table, in order).
    pub status: Vec<PartyCell>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartyOrganisations {
    pub party: String,
    #[schema(value_type = Vec<std::collections::BTreeMap<String, String>>)]
    pub organisations: Vec<LocalizedText>,
}

/// One party's latest report on the item (all None / no_evidence when it has not reported).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartyCell {
    pub party: String,
    pub lifecycle: Option<Lifecycle>,
    pub completion: Completion,
    pub as_of: Option<NaiveDate>,
    /// As the party wrote it, in its languages.
    #[schema(value_type = Option<std::collections::BTreeMap<String, String>>)]
    pub narrative: Option<LocalizedText>,
    pub evidence: Vec<EvidenceRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EvidenceRef {
    pub kind: String,
    pub description: Option<String>,
    pub url: Option<String>,
}

impl EvidenceRef {
    fn line(&self) -> String {
        [
            Some(self.kind.as_str()),
            self.description.as_deref(),
            self.url.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(": ")
    }
}

/// The labels of the workbook; ru for languages without their own.
struct Labels {
    number: &'static str,
    text: &'static str,
    section: &'static str,
    timeframe: &'static str,
    responsible: &'static str,
    lifecycle: &'static str,
    completion: &'static str,
    as_of: &'static str,
    narrative: &'static str,
    evidence: &'static str,
    overdue: &'static str,
    yes: &'static str,
    summary: &'static str,
    table: &'static str,
    measure: &'static str,
    value: &'static str,
    obligations: &'static str,
    pairs: &'static str,
    percent: &'static str,
    no_evidence: &'static str,
    due_soon: &'static str,
}

const RU: Labels = Labels {
    number: "№",
    text: "Мероприятие",
    section: "Раздел",
    timeframe: "Срок",
    responsible: "Ответственные",
    lifecycle: "Состояние",
    completion: "Выполнение",
    as_of: "По состоянию на",
    narrative: "Информация о выполнении",
    evidence: "Подтверждение",
    overdue: "Просрочено",
    yes: "да",
    summary: "Сводка",
    table: "Таблица выполнения",
    measure: "Показатель",
    value: "Значение",
    obligations: "Мероприятий",
    pairs: "Оценок (мероприятие × сторона)",
    percent: "Взвешенное выполнение",
    no_evidence: "Нет сведений",
    due_soon: "Срок наступает",
};

const KK: Labels = Labels {
    number: "№",
    text: "Іс-шара",
    section: "Бөлім",
    timeframe: "Мерзімі",
    responsible: "Жауаптылар",
    lifecycle: "Жағдайы",
    completion: "Орындалуы",
    as_of: "Жағдай бойынша",
    narrative: "Орындалуы туралы ақпарат",
    evidence: "Растау",
    overdue: "Мерзімі өткен",
    yes: "иә",
    summary: "Жиынтық",
    table: "Орындалу кестесі",
    measure: "Көрсеткіш",
    value: "Мәні",
    obligations: "Іс-шаралар",
    pairs: "Бағалар (іс-шара × тарап)",
    percent: "Өлшенген орындалу",
    no_evidence: "Мәлімет жоқ",
    due_soon: "Мерзімі жақындады",
};

const EN: Labels = Labels {
    number: "No.",
    text: "Item",
    section: "Section",
    timeframe: "Timeframe",
    responsible: "Responsible",
    lifecycle: "Lifecycle",
    completion: "Completion",
    as_of: "As of",
    narrative: "Narrative",
    evidence: "Evidence",
    overdue: "Overdue",
    yes: "yes",
    summary: "Summary",
    table: "Implementation table",
    measure: "Measure",
    value: "Value",
    obligations: "Obligations",
    pairs: "Assessments (item × party)",
    percent: "Weighted completion",
    no_evidence: "No evidence",
    due_soon: "Due soon",
};

fn labels(lang: Language) -> &'static Labels {
    match lang {
        Language::En => &EN,
        Language::Kk => &KK,
        _ => &RU,
    }
}

/// A lifecycle state in the reader's language.
pub fn lifecycle_label(state: Lifecycle, lang: Language) -> &'static str {
    use Lifecycle::*;
    match (lang, state) {
        (Language::En, _) => match state {
            Planned => "planned",
            Scheduled => "scheduled",
            InProgress => "in progress",
            Completed => "completed",
            Postponed => "postponed",
            Suspended => "suspended",
            Cancelled => "cancelled",
            Superseded => "superseded",
        },
        (Language::Kk, _) => match state {
            Planned => "жоспарланған",
            Scheduled => "белгіленген",
            InProgress => "орындалуда",
            Completed => "орындалды",
            Postponed => "кейінге қалдырылды",
            Suspended => "тоқтатылды",
            Cancelled => "жойылды",
            Superseded => "ауыстырылды",
        },
        _ => match state {
            Planned => "запланировано",
            Scheduled => "назначено",
            InProgress => "выполняется",
            Completed => "выполнено",
            Postponed => "перенесено",
            Suspended => "приостановлено",
            Cancelled => "отменено",
            Superseded => "заменено",
        },
    }
}

/// A completion level in the reader's language.
pub fn completion_label(level: Completion, lang: Language) -> &'static str {
    use Completion::*;
    match lang {
        Language::En => match level {
            NoEvidence => "no evidence",
            NotStarted => "not started",
            Limited => "limited",
            Substantial => "substantial",
            Complete => "complete",
        },
        Language::Kk => match level {
            NoEvidence => "мәлімет жоқ",
            NotStarted => "басталмаған",
            Limited => "ішінара",
            Substantial => "едәуір",
            Complete => "толық",
        },
        _ => match level {
            NoEvidence => "нет сведений",
            NotStarted => "не начато",
            Limited => "частично",
            Substantial => "в значительной мере",
            Complete => "полностью",
        },
    }
}

impl ImplementationTable {
    /// The table as a workbook: the main sheet (fixed columns, then for each
    /// party its completion, as-of date, narrative and evidence) and a summary
    /// sheet of the roll-up totals. Labels in `lang` (ru, kk, en; others get ru).
    pub fn workbook(&self, lang: Language) -> Workbook {
        let l = labels(lang);
        let mut columns = vec![
            Column::new(l.number, 8.0),
            Column::new(l.text, 60.0),
            Column::new(l.section, 24.0),
            Column::new(l.timeframe, 18.0),
            Column::new(l.responsible, 40.0),
            Column::new(l.lifecycle, 16.0),
            Column::new(l.overdue, 12.0),
        ];
        for party in &self.parties {
            columns.push(Column::new(format!("{} ({party})", l.completion), 18.0));
            columns.push(Column::new(format!("{} ({party})", l.as_of), 14.0));
            columns.push(Column::new(format!("{} ({party})", l.narrative), 50.0));
            columns.push(Column::new(format!("{} ({party})", l.evidence), 40.0));
        }
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let responsible = row
                    .responsible
                    .iter()
                    .map(|p| {
                        let names: Vec<&str> =
                            p.organisations.iter().map(|o| o.display(lang)).collect();
                        format!("{}: {}", p.party, names.join("; "))
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                let mut cells = vec![
                    Cell::text(row.number.clone()),
                    Cell::text(row.text.display(lang)),
                    Cell::text(
                        row.section
                            .as_ref()
                            .map(|s| s.display(lang))
                            .unwrap_or_default(),
                    ),
                    Cell::text(row.timeframe.clone()),
                    Cell::text(responsible),
                    Cell::text(lifecycle_label(row.lifecycle, lang)),
                    Cell::text(if row.overdue { l.yes } else { "" }),
                ];
                for party in &self.parties {
                    match row.status.iter().find(|s| &s.party == party) {
                        Some(s) => {
                            cells.push(Cell::text(completion_label(s.completion, lang)));
                            cells.push(Cell::from(s.as_of));
                            cells.push(Cell::text(
                                s.narrative
                                    .as_ref()
                                    .map(|n| n.display(lang))
                                    .unwrap_or_default(),
                            ));
                            let evidence: Vec<String> =
                                s.evidence.iter().map(EvidenceRef::line).collect();
                            cells.push(Cell::text(evidence.join("\n")));
                        }
                        None => cells.extend([Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty]),
                    }
                }
                cells
            })
            .collect();
        let t = &self.totals;
        let mut summary_rows = vec![
            vec![Cell::text(l.as_of), Cell::Date(self.as_of)],
            vec![
                Cell::text(l.obligations),
                Cell::Number(t.obligations as f64),
            ],
            vec![
                Cell::text(l.percent),
                t.completion_percent
                    .map_or(Cell::Empty, |p| Cell::Percent(p / 100.0)),
            ],
            vec![Cell::text(l.overdue), Cell::Number(t.overdue as f64)],
            vec![Cell::text(l.due_soon), Cell::Number(t.due_soon as f64)],
        ];
        for state in Lifecycle::ALL {
            let n = t.by_lifecycle.get(&state).copied().unwrap_or(0);
            summary_rows.push(vec![
                Cell::text(format!("{}: {}", l.lifecycle, lifecycle_label(state, lang))),
                Cell::Number(n as f64),
            ]);
        }
        summary_rows.push(vec![Cell::text(l.pairs), Cell::Number(t.pairs as f64)]);
        for level in Completion::ALL {
            let n = t.by_completion.get(&level).copied().unwrap_or(0);
            summary_rows.push(vec![
                Cell::text(format!(
                    "{}: {}",
                    l.completion,
                    completion_label(level, lang)
                )),
                Cell::Number(n as f64),
            ]);
        }
        summary_rows.push(vec![
            Cell::text(l.no_evidence),
            Cell::Number(t.no_evidence as f64),
        ]);
        Workbook {
            title: format!("{} — {}", l.table, self.programme_title.display(lang)),
            main: Sheet {
                name: l.table.to_string(),
                columns,
                rows,
            },
            summary: Sheet {
                name: l.summary.to_string(),
                columns: vec![Column::new(l.measure, 40.0), Column::new(l.value, 16.0)],
                rows: summary_rows,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> LocalizedText {
        LocalizedText::single(Language::Ru, s).expect("text")
    }

    fn table() -> ImplementationTable {
        let day = NaiveDate::from_ymd_opt(2025, 6, 1).expect("date");
        ImplementationTable {
            programme_id: "p".into(),
            programme_key: "kz-ru".into(),
            programme_title: text("Программа"),
            as_of: day,
            parties: vec!["KZ".into(), "RU".into()],
            rows: vec![TableRow {
                obligation_id: "o".into(),
                number: "1.1".into(),
                text: text("Дни культуры"),
                section_code: Some("theatre".into()),
                section: Some(text("Театр")),
                timeframe: "2025".into(),
                due: NaiveDate::from_ymd_opt(2025, 12, 31),
                lifecycle: Lifecycle::InProgress,
                overdue: false,
                responsible: vec![PartyOrganisations {
                    party: "KZ".into(),
                    organisations: vec![text("МКИ РК")],
                }],
                status: vec![PartyCell {
                    party: "KZ".into(),
                    lifecycle: Some(Lifecycle::InProgress),
                    completion: Completion::Limited,
                    as_of: Some(day),
                    narrative: Some(text("идёт подготовка")),
                    evidence: vec![EvidenceRef {
                        kind: "letter".into(),
                        description: Some("письмо".into()),
                        url: None,
                    }],
                }],
            }],
            totals: StatusCounts::default(),
        }
    }

    #[test]
    fn workbook_has_a_column_set_per_party_and_translated_labels() {
        let t = table();
        let ru = t.workbook(Language::Ru);
        assert_eq!(ru.main.columns.len(), 7 + 2 * 4);
        assert_eq!(ru.main.columns[1].header, "Мероприятие");
        assert_eq!(ru.main.rows[0][1], Cell::text("Дни культуры"));
        assert_eq!(ru.main.rows[0][7], Cell::text("частично"));
        assert_eq!(ru.main.rows[0][10], Cell::text("letter: письмо"));
        // RU has not reported: empty cells.
        assert_eq!(ru.main.rows[0][11], Cell::Empty);
        let en = t.workbook(Language::En);
        assert_eq!(en.main.columns[1].header, "Item");
        assert_eq!(en.main.rows[0][7], Cell::text("limited"));
        // Item texts are as given, whatever the language.
        assert_eq!(en.main.rows[0][1], Cell::text("Дни культуры"));
        let kk = t.workbook(Language::Kk);
        assert_eq!(kk.summary.name, "Жиынтық");
    }

    #[test]
    fn round_trips_through_json() {
        let t = table();
        let json = serde_json::to_string(&t).expect("serialises");
        let back: ImplementationTable = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, t);
    }
}
