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
    doc
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
