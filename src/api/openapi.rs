//! The OpenAPI 3.1 description, generated from the handlers and types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "accord", description = "Intergovernmental cultural cooperation programmes: obligations, status, deadlines."),
    paths(
        super::auth::issue_token,
        super::auth::revoke_token,
        super::auth::me,
        super::programmes::list,
        super::programmes::one,
        super::obligations::list,
        super::obligations::one,
        super::obligations::patch,
        super::obligations::put,
        super::obligations::report,
        super::obligations::reports,
        super::audit::list,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Tokens"),
        (name = "programmes", description = "Programmes and their sections"),
        (name = "obligations", description = "Items of programmes and protocols, and status reports"),
        (name = "audit", description = "Who changed what"),
    )
)]
pub struct ApiDoc;

/// The whole description: this document and each resource module's paths.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::parties::Doc::openapi());
    doc.merge(super::organisations::Doc::openapi());
    doc.merge(super::agreements::Doc::openapi());
    doc.merge(super::bodies::Doc::openapi());
    doc.merge(super::programmes::Doc::openapi());
    doc.merge(super::events::Doc::openapi());
    doc.merge(super::lead_times::Doc::openapi());
    doc.merge(super::reminder_policies::Doc::openapi());
    doc.merge(super::calendar::Doc::openapi());
    doc.merge(super::notifications::Doc::openapi());
    doc.merge(super::metrics::Doc::openapi());
    doc.merge(super::reports::Doc::openapi());
    doc.merge(super::rollups::Doc::openapi());
    add_common_responses(&mut doc);
    name_operations(&mut doc);
    doc
}

/// Operation ids from method and path (`patch_obligations_id`): unique by
/// construction, as OpenAPI requires, whatever the handlers are called.
fn name_operations(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let stem: String = path
            .trim_start_matches("/api/v1/")
            .split('/')
            .map(|segment| {
                segment
                    .trim_matches(|c| c == '{' || c == '}')
                    .replace('-', "_")
            })
            .collect::<Vec<_>>()
            .join("_");
        for (method, operation) in [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ] {
            if let Some(operation) = operation {
                operation.operation_id = Some(format!("{method}_{stem}"));
            }
        }
    }
}

/// Responses any operation can give, added where a handler's annotation does
/// not list them: 401 for a bad token (every route reads the Authorization
/// header), 400 for malformed parameters, 413 and 415 for bodies.
fn add_common_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
    };
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let has_body = operation.request_body.is_some();
            let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let responses = &mut operation.responses.responses;
            let mut add = |status: &str, description: &str| {
                responses
                    .entry(status.to_string())
                    .or_insert_with(|| problem(description).into());
            };
            add("401", "The bearer token is not valid, expired or revoked");
            if has_params || has_body {
                add("400", "Invalid request");
            }
            if has_body {
                add("413", "The body is too large");
                add("415", "The body is not JSON");
            }
        }
    }
}

/// The methods the API documents for a concrete path, for 405 answers.
pub fn allowed_methods(doc: &utoipa::openapi::OpenApi, path: &str) -> Option<Vec<&'static str>> {
    let wanted: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    doc.paths.paths.iter().find_map(|(template, item)| {
        let pattern: Vec<&str> = template.trim_end_matches('/').split('/').collect();
        let matches = pattern.len() == wanted.len()
            && pattern
                .iter()
                .zip(&wanted)
                .all(|(p, w)| (p.starts_with('{') && !w.is_empty()) || p == w);
        if !matches {
            return None;
        }
        let mut methods = Vec::new();
        for (method, present) in [
            ("GET", item.get.is_some()),
            ("PUT", item.put.is_some()),
            ("POST", item.post.is_some()),
            ("DELETE", item.delete.is_some()),
            ("PATCH", item.patch.is_some()),
        ] {
            if present {
                methods.push(method);
            }
        }
        Some(methods)
    })
}

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("opaque")
                    .build(),
            ),
        );
    }
}
