//! CSV as RFC 4180 says (comma, CRLF, fields quoted when needed), UTF-8 with
//! a byte order mark: without it Excel reads the bytes in the machine's
//! ANSI code page and Cyrillic and Kazakh letters come out garbled.
//!
//! Formula injection: a spreadsheet that opens the file runs a field that
//! starts with `=`, `+`, `-` or `@` (and, in some, a tab or carriage return)
//! as a formula. Such text fields are written with a leading `'`, which
//! spreadsheets show as text; numbers are written as numbers. A reader that
//! wants the original text drops one leading `'` from a field whose next
//! character is one of these.

use super::{Cell, ExportError, Sheet};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The sheet as CSV: a header row, then the rows, each as long as the
/// longest of them and the header.
pub fn to_csv(sheet: &Sheet) -> Result<Vec<u8>, ExportError> {
    let width = sheet
        .rows
        .iter()
        .map(Vec::len)
        .chain([sheet.columns.len()])
        .max()
        .unwrap_or(0);
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(BOM.to_vec());
    let mut record: Vec<String> = Vec::with_capacity(width);
    record.extend(sheet.columns.iter().map(|c| guard(&c.header)));
    record.resize(width, String::new());
    writer.write_record(&record)?;
    for row in &sheet.rows {
        record.clear();
        record.extend(row.iter().map(field));
        record.resize(width, String::new());
        writer.write_record(&record)?;
    }
    writer
        .into_inner()
        .map_err(|e| ExportError::Csv(e.into_error().into()))
}

fn field(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(text) => guard(text),
        Cell::Number(n) if n.is_finite() => n.to_string(),
        Cell::Percent(share) if share.is_finite() => format!("{}%", round1(share * 100.0)),
        Cell::Number(_) | Cell::Percent(_) => String::new(),
        Cell::Date(date) => date.format("%Y-%m-%d").to_string(),
    }
}

/// One decimal at most: 66.7, 100.
fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Text a spreadsheet would take for a formula, made plain text.
pub(crate) fn guard(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::super::Column;
    use super::*;

    fn sheet(rows: Vec<Vec<Cell>>) -> Sheet {
        Sheet {
            name: "main".into(),
            columns: vec![Column::new("№", 5.0), Column::new("Текст", 40.0)],
            rows,
        }
    }

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).unwrap()
    }

    #[test]
    fn bom_header_crlf() {
        let out = to_csv(&sheet(vec![vec![
            Cell::Number(1.0),
            "Қазақ әдебиеті".into(),
        ]]))
        .unwrap();
        assert!(out.starts_with(BOM));
        assert_eq!(text(&out[3..]), "№,Текст\r\n1,Қазақ әдебиеті\r\n");
    }

    #[test]
    fn quotes_commas_and_newlines_are_quoted() {
        let out = to_csv(&sheet(vec![vec![
            Cell::Number(2.5),
            "a \"quoted\", line\nnext".into(),
        ]]))
        .unwrap();
        assert_eq!(
            text(&out[3..]),
            "№,Текст\r\n2.5,\"a \"\"quoted\"\", line\nnext\"\r\n"
        );
    }

    #[test]
    fn formulas_become_text_numbers_stay_numbers() {
        for (raw, written) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+7 701", "'+7 701"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("a=b", "a=b"),
            ("<script>", "<script>"),
        ] {
            assert_eq!(guard(raw), written, "{raw:?}");
        }
        assert_eq!(field(&Cell::Number(-1.0)), "-1");
    }

    #[test]
    fn percent_date_empty_and_short_rows() {
        let out = to_csv(&sheet(vec![
            vec![Cell::Percent(2.0 / 3.0), Cell::Empty],
            vec![Cell::Date(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap())],
            vec![Cell::Percent(1.0), Cell::Number(f64::NAN), "extra".into()],
        ]))
        .unwrap();
        assert_eq!(
            text(&out[3..]),
            "№,Текст,\r\n66.7%,,\r\n2026-03-01,,\r\n100%,,extra\r\n"
        );
    }
}
