//! The reader's language: `?lang=kk`, else the first supported language of
//! `Accept-Language`, else Russian. Multilingual fields are always returned
//! whole; `display` values use this language with the fallback of
//! `LocalizedText::display` (requested, then ru, then en).

use std::future::{ready, Ready};

use actix_web::{FromRequest, HttpRequest};

use crate::domain::Language;
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lang(pub Language);

impl Lang {
    pub fn from_request_parts(
        query: Option<&str>,
        accept_language: Option<&str>,
    ) -> Result<Lang, AppError> {
        if let Some(code) = query {
            return Language::parse(code).map(Lang).ok_or_else(|| {
                AppError::invalid(
                    "lang",
                    format!(
                        "`{code}` is not a supported language code (use one of: {})",
                        Language::codes()
                    ),
                )
            });
        }
        // "kk-KZ, ru;q=0.8, en;q=0.5": the highest-weighted supported language.
        let mut best: Option<(f32, Language)> = None;
        for part in accept_language.unwrap_or_default().split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let primary = tag.split('-').next().unwrap_or_default();
            let weight = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if let Some(lang) = Language::parse(primary) {
                if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
                    best = Some((weight, lang));
                }
            }
        }
        Ok(Lang(best.map(|(_, l)| l).unwrap_or(Language::Ru)))
    }
}

impl FromRequest for Lang {
    type Error = AppError;
    type Future = Ready<Result<Lang, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let query = web_query_lang(req.query_string());
        let accept = req
            .headers()
            .get(actix_web::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        ready(Lang::from_request_parts(query.as_deref(), accept))
    }
}

fn web_query_lang(query: &str) -> Option<String> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang=").map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_wins_then_accept_language_by_weight_then_russian() {
        let pick = |q: Option<&str>, h: Option<&str>| Lang::from_request_parts(q, h).map(|l| l.0);
        assert_eq!(pick(Some("kk"), Some("en")).unwrap(), Language::Kk);
        assert_eq!(
            pick(None, Some("kk-KZ, ru;q=0.8, en;q=0.5")).unwrap(),
            Language::Kk
        );
        assert_eq!(
            pick(None, Some("de-DE, en;q=0.7, ru;q=0.9")).unwrap(),
            Language::Ru
        );
        assert_eq!(pick(None, Some("fr")).unwrap(), Language::Ru);
        assert_eq!(pick(None, None).unwrap(), Language::Ru);
        assert!(pick(Some("xx"), None).is_err());
    }
}
