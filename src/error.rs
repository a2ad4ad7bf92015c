//! One error type for the service. Each variant maps to an HTTP status and a
//! stable machine-readable `code`; responses are `application/problem+json`
//! (RFC 9457). Internal errors are logged and answered 500 without details.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// One failing field of a request and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{entity} {id} does not exist")]
    NotFound { entity: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    PreconditionRequired(String),
    #[error("{method} is not allowed here; allowed: {allowed}")]
    MethodNotAllowed { method: String, allowed: String },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    #[error("the service is not ready: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        AppError::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, reason)])
    }

    /// Stable code that clients may match on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_failed",
            AppError::BadRequest(_) => "bad_request",
            AppError::NotFound { .. } => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Unauthenticated(_) => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::PreconditionFailed(_) => "precondition_failed",
            AppError::PreconditionRequired(_) => "precondition_required",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "Invalid request",
            AppError::BadRequest(_) => "Bad request",
            AppError::NotFound { .. } => "Not found",
            AppError::Conflict(_) => "Conflict",
            AppError::Unauthenticated(_) => "Authentication required",
            AppError::Forbidden(_) => "Forbidden",
            AppError::PreconditionFailed(_) => "Precondition failed",
            AppError::PreconditionRequired(_) => "Precondition required",
            AppError::TooManyRequests { .. } => "Too many requests",
            AppError::MethodNotAllowed { .. } => "Method not allowed",
            AppError::UnsupportedMediaType(_) => "Unsupported media type",
            AppError::PayloadTooLarge(_) => "Payload too large",
            AppError::Unavailable(_) => "Service unavailable",
            AppError::Internal(_) => "Internal error",
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e).context("database query failed"))
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(format!("no database connection: {e}"))
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

/// The RFC 9457 body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Validation(_) | AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            AppError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let detail = match self {
            AppError::Internal(e) => {
                // The cause goes to the log, never to the client.
                tracing::error!(error = format!("{e:#}"), "internal error");
                "an internal error occurred; it has been logged".to_string()
            }
            AppError::Unavailable(reason) => {
                tracing::warn!(reason = reason.as_str(), "service unavailable");
                self.to_string()
            }
            AppError::Validation(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.reason))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        let problem = Problem {
            kind: format!("https://accord.example/problems/{}", self.code()),
            title: self.title().to_string(),
            status: status.as_u16(),
            detail,
            code: self.code().to_string(),
            errors: match self {
                AppError::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        };
        let mut response = HttpResponse::build(status);
        response.content_type(PROBLEM_JSON);
        match self {
            AppError::Unauthenticated(_) => {
                response.insert_header(("WWW-Authenticate", "Bearer realm=\"accord\""));
            }
            AppError::MethodNotAllowed { allowed, .. } => {
                response.insert_header(("Allow", allowed.as_str()));
            }
            AppError::TooManyRequests {
                retry_after_secs, ..
            } => {
                response.insert_header(("Retry-After", retry_after_secs.to_string()));
            }
            _ => {}
        }
        response.json(problem)
    }
}

pub type AppResult<T> = Result<T, AppError>;
