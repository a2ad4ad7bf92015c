//! Versions as entity tags: GET answers `ETag: "<version>"`; PUT, PATCH and
//! DELETE must send `If-Match` with it, so two ministries editing one item
//! never overwrite each other silently.

use actix_web::http::header::{HeaderValue, ETAG, IF_MATCH};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

use crate::error::{AppError, AppResult};

pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// Adds the ETag of a version to a response.
pub fn with_etag(mut builder: HttpResponseBuilder, version: i32) -> HttpResponseBuilder {
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        builder.insert_header((ETAG, value));
    }
    builder
}

/// The version the client based its change on, from `If-Match`.
pub fn expected_version(req: &HttpRequest) -> AppResult<i32> {
    let header = req.headers().get(IF_MATCH).ok_or_else(|| {
        AppError::PreconditionRequired(
            "send If-Match with the ETag of the version you are changing".into(),
        )
    })?;
    let text = header.to_str().unwrap_or_default().trim();
    let text = text.strip_prefix("W/").unwrap_or(text);
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i32>().ok())
        .filter(|v| *v > 0)
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "If-Match: `{text}` is not an ETag of this API (e.g. \"3\")"
            ))
        })
}

pub fn stale() -> AppError {
    AppError::PreconditionFailed(
        "the resource changed since the version in If-Match; GET it again and reapply your change"
            .into(),
    )
}

pub fn ok_with_etag<T: serde::Serialize>(version: i32, body: &T) -> HttpResponse {
    with_etag(HttpResponse::Ok(), version).json(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn if_match_is_required_and_parsed() {
        let req = TestRequest::default().to_http_request();
        assert!(matches!(
            expected_version(&req),
            Err(AppError::PreconditionRequired(_))
        ));
        let req = TestRequest::default()
            .insert_header((IF_MATCH, "\"7\""))
            .to_http_request();
        assert_eq!(expected_version(&req).unwrap(), 7);
        let req = TestRequest::default()
            .insert_header((IF_MATCH, "W/\"7\""))
            .to_http_request();
        assert_eq!(expected_version(&req).unwrap(), 7);
        for bad in ["7", "\"x\"", "*", "\"-1\""] {
            let req = TestRequest::default()
                .insert_header((IF_MATCH, bad))
                .to_http_request();
            assert!(
                matches!(expected_version(&req), Err(AppError::BadRequest(_))),
                "{bad}"
            );
        }
    }
}
