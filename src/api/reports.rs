//! The implementation table of a programme as a file: JSON, CSV (UTF-8 with
//! a BOM, RFC 4180) or XLSX, live as of a date or as frozen in a snapshot.
//! The format comes from `format=`, else from `Accept`, else JSON.

use actix_web::http::header::{
    self, HeaderValue, CONTENT_DISPOSITION, CONTENT_TYPE, VARY, X_CONTENT_TYPE_OPTIONS,
};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::auth::Authenticated;
use super::lang::Lang;
use super::AppState;
use crate::domain::access::{Action, Target};
use crate::domain::Language;
use crate::error::{AppError, AppResult};
use crate::report::export::{self, Format};
use crate::report::table::ImplementationTable;
use crate::store;
use crate::store::programmes::ProgrammeRow;

/// API routes of this module, under /api/v1.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/programmes/{id}/implementation-table",
        web::get().to(programme_table),
    )
    .route(
        "/snapshots/{id}/implementation-table",
        web::get().to(snapshot_table),
    );
}

#[derive(OpenApi)]
#[openapi(
    paths(programme_table, snapshot_table),
    components(schemas(ImplementationTable, FormatName, LabelLanguage)),
    tags((name = "reports", description = "The implementation table as JSON, CSV or XLSX"))
)]
pub struct Doc;

/// The formats of an export (documentation of `format=`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum FormatName {
    Json,
    Csv,
    Xlsx,
}

/// The languages the table's labels are written in (documentation of `lang=`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum LabelLanguage {
    Ru,
    Kk,
    En,
}

/// The languages of the table's labels.
const LABEL_LANGUAGES: [Language; 3] = [Language::Ru, Language::Kk, Language::En];

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TableQuery {
    /// json, csv or xlsx; without it the `Accept` header decides (text/csv,
    /// application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,
    /// application/json), else JSON.
    #[param(value_type = Option<FormatName>)]
    pub format: Option<String>,
    /// Language of the labels and of the texts in CSV and XLSX: ru, kk or en
    /// (default: from Accept-Language, else ru). JSON carries every language.
    #[param(value_type = Option<LabelLanguage>)]
    pub lang: Option<String>,
    /// YYYY-MM-DD: the table as it stood that day (reports dated or filed
    /// after it left out; overdue assessed on it). Default: today.
    #[param(value_type = Option<String>, format = Date)]
    pub as_of: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnapshotTableQuery {
    /// json, csv or xlsx; without it the `Accept` header decides, else JSON.
    #[param(value_type = Option<FormatName>)]
    pub format: Option<String>,
    /// Language of the labels and of the texts in CSV and XLSX: ru, kk or en
    /// (default: from Accept-Language, else ru).
    #[param(value_type = Option<LabelLanguage>)]
    pub lang: Option<String>,
}

/// What was asked for, checked.
struct Wanted {
    format: Format,
    lang: Language,
    as_of: Option<NaiveDate>,
}

impl Wanted {
    fn from_request(req: &HttpRequest, query: &TableQuery) -> AppResult<Wanted> {
        let mut wanted =
            Wanted::format_and_lang(req, query.format.as_deref(), query.lang.as_deref())?;
        wanted.as_of = query.as_of.as_deref().map(parse_as_of).transpose()?;
        Ok(wanted)
    }

    fn format_and_lang(
        req: &HttpRequest,
        format: Option<&str>,
        lang: Option<&str>,
    ) -> AppResult<Wanted> {
        let format = match format {
            Some(name) => Format::parse(name).ok_or_else(|| {
                AppError::invalid(
                    "format",
                    format!(
                        "`{name}` is not an export format (use one of: {})",
                        Format::names()
                    ),
                )
            })?,
            None => negotiate(header_text(req, header::ACCEPT)),
        };
        let lang = match lang {
            Some(code) => label_language(code)?,
            // From Accept-Language: a language without labels of its own gets Russian ones.
            None => {
                Some(Lang::from_request_parts(None, header_text(req, header::ACCEPT_LANGUAGE))?.0)
                    .filter(|l| LABEL_LANGUAGES.contains(l))
                    .unwrap_or(Language::Ru)
            }
        };
        Ok(Wanted {
            format,
            lang,
            as_of: None,
        })
    }
}

fn header_text(req: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// ru, kk or en: the languages the labels are written in.
pub fn label_language(code: &str) -> AppResult<Language> {
    label_language_of(code).ok_or_else(|| {
        AppError::invalid(
            "lang",
            format!("`{code}` is not a language of the table's labels (use one of: ru, kk, en)"),
        )
    })
}

/// The language of this code if the table's labels are written in it.
pub fn label_language_of(code: &str) -> Option<Language> {
    Language::parse(code).filter(|l| LABEL_LANGUAGES.contains(l))
}

/// A date YYYY-MM-DD in the years the databases store (1900 to 2200).
pub fn parse_as_of(text: &str) -> AppResult<NaiveDate> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| AppError::invalid("as_of", format!("`{text}` is not a date (YYYY-MM-DD)")))?;
    if !(1900..=2200).contains(&date.year()) {
        return Err(AppError::invalid("as_of", "years are 1900 to 2200"));
    }
    Ok(date)
}

/// The format `Accept` prefers among ours (highest q, then the first
/// listed); JSON when it names none of them.
fn negotiate(accept: Option<&str>) -> Format {
    let mut best: Option<(f32, Format)> = None;
    for part in accept.unwrap_or_default().split(',') {
        let mut pieces = part.split(';');
        let media = pieces
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let q = pieces
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        if let Some(format) = Format::from_media_type(&media) {
            if q > 0.0 && best.is_none_or(|(w, _)| q > w) {
                best = Some((q, format));
            }
        }
    }
    best.map_or(Format::Json, |(_, f)| f)
}

/// The programme by UUID or key, if the caller may read it.
fn readable_programme(
    conn: &mut crate::db::Conn,
    who: &Authenticated,
    id: &str,
) -> AppResult<ProgrammeRow> {
    let row = store::rollups::find_programme(conn, id)?
        .ok_or_else(|| AppError::not_found("programme", id))?;
    may_read(who, &row)?;
    Ok(row)
}

/// Reading a table is reading its programme (public ones need no token).
fn may_read(who: &Authenticated, programme: &ProgrammeRow) -> AppResult<()> {
    who.may(
        Action::Read,
        Target::Programme {
            body_id: programme.body_id.as_deref(),
            public: programme.public,
        },
    )
}

/// The table as a file of the wanted format, named `stem.<ext>`.
fn file_response(
    table: &ImplementationTable,
    wanted: &Wanted,
    stem: &str,
) -> AppResult<HttpResponse> {
    let bytes = export::render(wanted.format, table, || table.workbook(wanted.lang))
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("export failed")))?;
    let mut res = HttpResponse::Ok();
    res.insert_header((CONTENT_TYPE, wanted.format.media_type()))
        .insert_header((VARY, "Accept, Accept-Language"))
        // A CSV full of user text is never to be sniffed into HTML.
        .insert_header((X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")));
    if wanted.format != Format::Json {
        res.insert_header((
            CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{stem}.{}\"",
                wanted.format.extension()
            ),
        ));
    }
    Ok(res.body(bytes))
}

/// `kz-ru-2024-2026-2025-08-01-ru`: keys are ASCII, so the name needs no encoding.
fn file_stem(table: &ImplementationTable, what: &str, lang: Language) -> String {
    let key: String = table
        .programme_key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("{key}-{what}-{}-{}", table.as_of, lang.code())
}

#[utoipa::path(
    get, path = "/api/v1/programmes/{id}/implementation-table", tag = "reports",
    params(("id" = String, Path, description = "Programme id (UUID) or key"), TableQuery),
    responses(
        (status = 200, description = "The implementation table: one row per item (number, text, section, responsible organisations per party, timeframe, status, latest narrative and evidence per party). CSV and XLSX come as attachments with labels in `lang`; CSV text that a spreadsheet would take for a formula (starting with = + - @, a tab or a carriage return) is written with a leading apostrophe", content(
            (ImplementationTable = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "Invalid format, lang or as_of", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not public: needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such programme", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn programme_table(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
    query: web::Query<TableQuery>,
) -> AppResult<HttpResponse> {
    let wanted = Wanted::from_request(&req, &query)?;
    let id = id.into_inner();
    let today = state.clock.now().date_naive();
    let due_soon_days = state.settings.status.due_soon_days;
    let as_of = wanted.as_of;
    let table = state
        .db(move |conn| {
            let programme = readable_programme(conn, &who, &id)?;
            store::rollups::implementation_table(conn, &programme.id, as_of, today, due_soon_days)?
                .ok_or_else(|| AppError::not_found("programme", &id))
        })
        .await?;
    let stem = file_stem(&table, "implementation-table", wanted.lang);
    file_response(&table, &wanted, &stem)
}

#[utoipa::path(
    get, path = "/api/v1/snapshots/{id}/implementation-table", tag = "reports",
    params(("id" = String, Path, description = "Snapshot id (UUID)"), SnapshotTableQuery),
    responses(
        (status = 200, description = "The implementation table as frozen in the snapshot (the same rows whatever was reported since), in the same formats as the live table", content(
            (ImplementationTable = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "Invalid id, format or lang", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "The programme is not public: needs a token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such snapshot", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn snapshot_table(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Authenticated,
    id: web::Path<String>,
    query: web::Query<SnapshotTableQuery>,
) -> AppResult<HttpResponse> {
    let wanted = Wanted::format_and_lang(&req, query.format.as_deref(), query.lang.as_deref())?;
    let id = id.into_inner();
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(AppError::invalid("id", format!("`{id}` is not a UUID")));
    }
    let snapshot = state
        .db(move |conn| {
            let snapshot = store::snapshots::get(conn, &id)?
                .ok_or_else(|| AppError::not_found("snapshot", &id))?;
            let programme = store::programmes::by_id(conn, &snapshot.info.programme_id)?
                .ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("snapshot {id} names a missing programme"))
                })?;
            may_read(&who, &programme)?;
            Ok(snapshot)
        })
        .await?;
    let short_id: String = snapshot.info.id.chars().take(8).collect();
    let table = &snapshot.implementation_table;
    let stem = file_stem(table, &format!("snapshot-{short_id}"), wanted.lang);
    file_response(table, &wanted, &stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_picks_our_best_format_else_json() {
        assert_eq!(negotiate(None), Format::Json);
        assert_eq!(negotiate(Some("text/html, */*")), Format::Json);
        assert_eq!(negotiate(Some("text/csv")), Format::Csv);
        assert_eq!(
            negotiate(Some(
                "text/csv;q=0.5, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )),
            Format::Xlsx
        );
        assert_eq!(
            negotiate(Some("application/json;q=0.9, text/csv; charset=utf-8")),
            Format::Csv
        );
        assert_eq!(negotiate(Some("text/csv;q=0")), Format::Json);
    }

    #[test]
    fn as_of_and_lang_name_their_field() {
        assert_eq!(
            parse_as_of("2025-07-01").unwrap(),
            NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()
        );
        for bad in ["2025-13-01", "01.07.2025", "", "1899-12-31", "yesterday"] {
            match parse_as_of(bad) {
                Err(AppError::Validation(errors)) => assert_eq!(errors[0].field, "as_of"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert_eq!(label_language("kk").unwrap(), Language::Kk);
        for bad in ["uz", "KK", "de"] {
            match label_language(bad) {
                Err(AppError::Validation(errors)) => assert_eq!(errors[0].field, "lang"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
