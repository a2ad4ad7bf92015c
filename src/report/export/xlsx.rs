//! XLSX through `rust_xlsxwriter`: a bold, filled header row, frozen so it
//! stays in view, an autofilter over the table, column widths, wrapped text,
//! dates as dates and shares as percentages; the summary on its own sheet.
//! Printed, the header repeats on every page and the table fits the width.

use rust_xlsxwriter::{
    Color, DocProperties, Format, FormatAlign, FormatBorder, Worksheet, XlsxError,
};

use super::{Cell, ExportError, Sheet, Workbook};

/// Excel keeps at most this many characters in a cell.
const MAX_CELL_CHARS: usize = 32_767;
/// Excel's limit on a sheet name.
const MAX_SHEET_NAME_CHARS: usize = 31;

struct Formats {
    header: Format,
    text: Format,
    number: Format,
    percent: Format,
    date: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = Format::new()
            .set_align(FormatAlign::Top)
            .set_border(FormatBorder::Thin)
            .set_border_color(Color::RGB(0xBFBFBF));
        Formats {
            header: cell
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_background_color(Color::RGB(0xDDE5F0)),
            text: cell.clone().set_text_wrap(),
            number: cell.clone(),
            percent: cell.clone().set_num_format("0.0%"),
            date: cell.set_num_format("yyyy-mm-dd"),
        }
    }
}

/// The workbook as an .xlsx file: the main sheet first, then the summary.
pub fn to_xlsx(book: &Workbook) -> Result<Vec<u8>, ExportError> {
    let formats = Formats::new();
    let mut workbook = rust_xlsxwriter::Workbook::new();
    workbook.set_properties(&DocProperties::new().set_title(&book.title));
    let main_name = sheet_name(&book.main.name, "Sheet1");
    let mut summary_name = sheet_name(&book.summary.name, "Sheet2");
    if summary_name.to_lowercase() == main_name.to_lowercase() {
        // Excel compares sheet names case-blind; two alike would not open.
        summary_name = sheet_name(&format!("{summary_name} (2)"), "Sheet2");
    }
    write_sheet(workbook.add_worksheet(), &book.main, &main_name, &formats)?;
    write_sheet(
        workbook.add_worksheet(),
        &book.summary,
        &summary_name,
        &formats,
    )?;
    Ok(workbook.save_to_buffer()?)
}

fn write_sheet(
    worksheet: &mut Worksheet,
    sheet: &Sheet,
    name: &str,
    formats: &Formats,
) -> Result<(), XlsxError> {
    worksheet.set_name(name)?;
    for (col, column) in sheet.columns.iter().enumerate() {
        let col = col_num(col)?;
        worksheet.write_string_with_format(0, col, clip(&column.header), &formats.header)?;
        worksheet.set_column_width(col, column.width.clamp(1.0, 255.0))?;
    }
    let mut last_col = sheet.columns.len().saturating_sub(1);
    for (index, cells) in sheet.rows.iter().enumerate() {
        let row = u32::try_from(index + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (col, cell) in cells.iter().enumerate() {
            last_col = last_col.max(col);
            let col = col_num(col)?;
            match cell {
                Cell::Empty => worksheet.write_blank(row, col, &formats.text)?,
                Cell::Text(text) => {
                    worksheet.write_string_with_format(row, col, clip(text), &formats.text)?
                }
                Cell::Number(n) if n.is_finite() => {
                    worksheet.write_number_with_format(row, col, *n, &formats.number)?
                }
                Cell::Percent(share) if share.is_finite() => {
                    worksheet.write_number_with_format(row, col, *share, &formats.percent)?
                }
                Cell::Number(_) | Cell::Percent(_) => {
                    worksheet.write_blank(row, col, &formats.number)?
                }
                Cell::Date(date) => {
                    worksheet.write_date_with_format(row, col, date, &formats.date)?
                }
            };
        }
    }
    if !sheet.columns.is_empty() {
        worksheet.set_freeze_panes(1, 0)?;
        let last_row =
            u32::try_from(sheet.rows.len()).map_err(|_| XlsxError::RowColumnLimitError)?;
        worksheet.autofilter(0, 0, last_row, col_num(last_col)?)?;
        worksheet.set_repeat_rows(0, 0)?;
    }
    worksheet
        .set_landscape()
        .set_paper_size(9) // A4
        .set_print_fit_to_pages(1, 0);
    Ok(())
}

fn col_num(index: usize) -> Result<u16, XlsxError> {
    u16::try_from(index).map_err(|_| XlsxError::RowColumnLimitError)
}

/// Text past Excel's cell limit is cut there rather than failing the export.
fn clip(text: &str) -> &str {
    match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// A name Excel accepts: not blank, at most 31 characters, none of
/// `[]:*?/\`, no apostrophe at either end.
fn sheet_name(wanted: &str, fallback: &str) -> String {
    let cleaned: String = wanted
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(MAX_SHEET_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_matches('\'').trim();
    if cleaned.is_empty() {
        fallback.to_string()
    } else {
        cleaned.to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use chrono::NaiveDate;

    use super::super::Column;
    use super::*;

    fn book() -> Workbook {
        Workbook {
            title: "Программа <2026>".into(),
            main: Sheet {
                name: "Таблица: исполнение [2026]".into(),
                columns: vec![
                    Column::new("№", 5.0),
                    Column::new("Мәтін", 50.0),
                    Column::new("Срок", 12.0),
                    Column::new("%", 8.0),
                ],
                rows: vec![
                    vec![
                        Cell::Number(1.0),
                        "=1+1, \"<script>\"\nӘ ғ қ ң ө ұ ү һ і".into(),
                        Cell::Date(NaiveDate::from_ymd_opt(2026, 5, 31).unwrap()),
                        Cell::Percent(0.5),
                    ],
                    vec![Cell::Number(2.0)],
                ],
            },
            summary: Sheet {
                name: "Итоги".into(),
                columns: vec![
                    Column::new("Показатель", 30.0),
                    Column::new("Значение", 10.0),
                ],
                rows: vec![vec!["Всего".into(), Cell::Number(2.0)]],
            },
        }
    }

    /// One part of the .xlsx (a zip archive) as text.
    fn part(xlsx: &[u8], name: &str) -> String {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
        let mut text = String::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn frozen_header_filter_widths_and_both_sheets() {
        let xlsx = to_xlsx(&book()).unwrap();
        let workbook = part(&xlsx, "xl/workbook.xml");
        assert!(
            workbook.contains(r#"name="Таблица_ исполнение _2026_""#),
            "{workbook}"
        );
        assert!(workbook.contains(r#"name="Итоги""#), "{workbook}");
        let main = part(&xlsx, "xl/worksheets/sheet1.xml");
        assert!(main.contains(r#"topLeftCell="A2""#), "{main}");
        assert!(main.contains(r#"<autoFilter ref="A1:D3"/>"#), "{main}");
        assert!(main.contains(r#"width="50.7109375""#), "{main}");
        let strings = part(&xlsx, "xl/sharedStrings.xml");
        // Text stays text: no formula element anywhere.
        assert!(!main.contains("<f>"), "{main}");
        assert!(strings.contains("=1+1, \"&lt;script&gt;\""), "{strings}");
        let styles = part(&xlsx, "xl/styles.xml");
        assert!(styles.contains(r#"formatCode="0.0%""#), "{styles}");
        assert!(styles.contains(r#"formatCode="yyyy-mm-dd""#), "{styles}");
        assert!(part(&xlsx, "docProps/core.xml").contains("Программа &lt;2026&gt;"));
    }

    #[test]
    fn sheet_names_excel_accepts() {
        assert_eq!(sheet_name("a/b:c", "x"), "a_b_c");
        assert_eq!(sheet_name("'  '", "x"), "x");
        assert_eq!(sheet_name(&"я".repeat(40), "x").chars().count(), 31);
        let mut same = book();
        same.summary.name = "таблица_ исполнение _2026_".into();
        same.main.name = "Таблица_ исполнение _2026_".into();
        assert!(to_xlsx(&same).is_ok());
    }

    #[test]
    fn overlong_text_is_clipped_to_excels_limit() {
        let long = "ә".repeat(MAX_CELL_CHARS + 10);
        assert_eq!(clip(&long).chars().count(), MAX_CELL_CHARS);
        let mut big = book();
        big.main.rows[1].push(Cell::Text(long));
        assert!(to_xlsx(&big).is_ok());
    }
}
