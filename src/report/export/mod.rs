//! Tables as files: CSV (RFC 4180, UTF-8 with a BOM) and XLSX workbooks.
//!
//! Generic on purpose: a [`Workbook`] is a titled main sheet and a summary
//! sheet of typed cells, and knows nothing of programmes. `report::table`
//! builds one from an implementation table; this module only writes it.

mod csv;
mod xlsx;

use chrono::NaiveDate;

pub use self::csv::to_csv;
pub use self::xlsx::to_xlsx;

/// One cell. Text is always written as text, never as a formula.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A share, 0.0..=1.0 (shown as 0.0% in XLSX, `66.7%` in CSV).
    Percent(f64),
    Date(NaiveDate),
}

impl Cell {
    /// Text, or Empty when there is none.
    pub fn text(value: impl Into<String>) -> Cell {
        let value = value.into();
        if value.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(value)
        }
    }
}

impl From<&str> for Cell {
    fn from(value: &str) -> Cell {
        Cell::text(value)
    }
}

impl From<String> for Cell {
    fn from(value: String) -> Cell {
        Cell::text(value)
    }
}

impl From<Option<NaiveDate>> for Cell {
    fn from(value: Option<NaiveDate>) -> Cell {
        value.map_or(Cell::Empty, Cell::Date)
    }
}

/// A column: its header and its width in characters.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub header: String,
    pub width: f64,
}

impl Column {
    pub fn new(header: impl Into<String>, width: f64) -> Column {
        Column {
            header: header.into(),
            width,
        }
    }
}

/// A sheet: a header row from `columns`, then `rows` (a row shorter than
/// the columns is padded with empty cells; cells past the last column are
/// kept in CSV and written without a header in XLSX).
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The tab's name in XLSX (cut to Excel's 31 characters, and `[]:*?/\`
    /// replaced); not written in CSV.
    pub name: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

/// What is exported: the table itself and a summary of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Workbook {
    /// The document's title (XLSX document properties).
    pub title: String,
    pub main: Sheet,
    pub summary: Sheet,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("CSV: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A table as a file of `format`: JSON of `table` itself, or CSV of the
/// workbook's main sheet, or the whole workbook as XLSX. The API and the
/// command line both write through here, so they give the same bytes.
pub fn render<T: serde::Serialize + ?Sized>(
    format: Format,
    table: &T,
    workbook: impl FnOnce() -> Workbook,
) -> Result<Vec<u8>, ExportError> {
    match format {
        Format::Json => Ok(serde_json::to_vec(table)?),
        Format::Csv => to_csv(&workbook().main),
        Format::Xlsx => to_xlsx(&workbook()),
    }
}

/// The export formats, by their `format=` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Json, Format::Csv, Format::Xlsx];

    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// The media type of the file (CSV declares its charset and its header row).
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8; header=present",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The format a media type from `Accept` names, if any.
    pub fn from_media_type(media_type: &str) -> Option<Format> {
        let essence = media_type.split(';').next().unwrap_or_default().trim();
        Format::ALL
            .into_iter()
            .find(|f| f.media_type().split(';').next() == Some(essence))
    }

    /// "json, csv, xlsx", for messages.
    pub fn names() -> String {
        Format::ALL.map(Format::name).join(", ")
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        self.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name_and_media_type() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.name()), Some(f));
            assert_eq!(Format::from_media_type(f.media_type()), Some(f));
        }
        assert_eq!(Format::from_media_type("text/csv"), Some(Format::Csv));
        assert_eq!(Format::parse("XLSX"), None);
        assert_eq!(Format::parse("pdf"), None);
        assert_eq!(Format::from_media_type("text/html"), None);
        assert_eq!(Format::names(), "json, csv, xlsx");
    }

    #[test]
    fn empty_text_is_an_empty_cell() {
        assert_eq!(Cell::text(""), Cell::Empty);
        assert_eq!(Cell::from("a"), Cell::Text("a".into()));
        assert_eq!(Cell::from(None::<NaiveDate>), Cell::Empty);
    }
}
