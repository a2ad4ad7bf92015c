//! Request bodies: JSON (or JSON merge patch) read within the size limit,
//! nesting bounded by serde_json's recursion limit, unknown fields rejected by
//! the target types, and every error naming the field it is about.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::AppState;
use crate::error::{AppError, FieldError};

/// A JSON document as sent, before it is read into a type.
pub struct JsonBody(pub serde_json::Value);

impl FromRequest for JsonBody {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.server.max_body_bytes)
            .unwrap_or(256 * 1024);
        let content_type = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let mut payload = payload.take();
        Box::pin(async move {
            if content_type != "application/json" && content_type != "application/merge-patch+json"
            {
                return Err(AppError::UnsupportedMediaType(format!(
                    "send the body as application/json (or application/merge-patch+json for PATCH), not `{content_type}`"
                )));
            }
            let mut bytes = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| AppError::BadRequest(format!("body: {e}")))?;
                if bytes.len() + chunk.len() > limit {
                    return Err(AppError::PayloadTooLarge(format!(
                        "the body exceeds {limit} bytes"
                    )));
                }
                bytes.extend_from_slice(&chunk);
            }
            // serde_json refuses nesting deeper than 128 levels.
            let value: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| AppError::BadRequest(format!("the body is not JSON: {e}")))?;
            Ok(JsonBody(value))
        })
    }
}

/// Reads a JSON value into `T`, naming the failing field.
pub fn read<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AppError> {
    // serde would also read a struct from an array of its fields in order.
    if !value.is_object() {
        return Err(AppError::Validation(vec![FieldError::new(
            "body",
            "must be a JSON object",
        )]));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        AppError::Validation(vec![FieldError::new(field, e.into_inner().to_string())])
    })
}

/// RFC 7396 JSON merge patch.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match patch {
        serde_json::Value::Object(changes) => {
            if !target.is_object() {
                *target = serde_json::Value::Object(Default::default());
            }
            if let serde_json::Value::Object(map) = target {
                for (key, value) in changes {
                    if value.is_null() {
                        map.remove(key);
                    } else {
                        merge_patch(
                            map.entry(key.clone()).or_insert(serde_json::Value::Null),
                            value,
                        );
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
        let mut doc = json!({"a": [1, 2]});
        merge_patch(&mut doc, &json!({"a": [3]}));
        assert_eq!(doc, json!({"a": [3]}));
    }

    #[test]
    fn errors_name_the_field() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Inner {
            kind: crate::domain::kinds::ObligationKind,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Outer {
            items: Vec<Inner>,
        }
        let err =
            read::<Outer>(json!({"items": [{"kind": "tour"}, {"kind": "parade"}]})).unwrap_err();
        let AppError::Validation(errors) = err else {
            panic!()
        };
        assert_eq!(errors[0].field, "items[1].kind");
        assert!(errors[0].reason.contains("parade"));
        let err = read::<Outer>(json!([[]])).unwrap_err();
        let AppError::Validation(errors) = err else {
            panic!()
        };
        assert_eq!(errors[0].field, "body");
        let err = read::<Outer>(json!({"items": [], "colour": "red"})).unwrap_err();
        let AppError::Validation(errors) = err else {
            panic!()
        };
        assert!(errors[0].reason.contains("colour"), "{errors:?}");
    }
}
