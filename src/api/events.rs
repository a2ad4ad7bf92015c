//! (being written)

use actix_web::web;
use utoipa::OpenApi;

/// The routes of this module, under /api/v1.
pub fn routes(_cfg: &mut web::ServiceConfig) {}

/// The OpenAPI paths of this module.
#[derive(OpenApi)]
#[openapi()]
pub struct Doc;
