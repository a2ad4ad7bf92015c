//! `/metrics` in the Prometheus text exposition format (0.0.4): the outbox
//! counted from the table, so every instance reports the same numbers, and
//! this process's own deliveries.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use actix_web::{web, HttpResponse};

use super::auth::Authenticated;
use super::AppState;
use crate::error::AppResult;
use crate::notify::worker::DELIVERIES;
use crate::store;
use crate::store::notifications::state;
use crate::store::outbox::OutboxCounts;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The exposition text of the outbox counts and this process's deliveries.
pub fn render(counts: &OutboxCounts) -> String {
    let of = |wanted: &str| {
        counts
            .by_state
            .iter()
            .find(|(s, _)| *s == wanted)
            .map_or(0, |(_, n)| *n)
    };
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    metric(
        "accord_notifications",
        "gauge",
        "Notifications in the outbox by state (counted in the database: the same on every instance).",
        &counts
            .by_state
            .iter()
            .map(|(s, n)| (format!("{{state=\"{s}\"}}"), count(*n)))
            .collect::<Vec<_>>(),
    );
    metric(
        "accord_notifications_queued",
        "gauge",
        "Notifications waiting to be sent: pending, or waiting for a retry.",
        &[(String::new(), count(of(state::PENDING) + of(state::RETRY)))],
    );
    metric(
        "accord_notifications_retried",
        "gauge",
        "Notifications that needed more than one attempt, whatever their state now.",
        &[(String::new(), count(counts.retried))],
    );
    metric(
        "accord_notification_retries",
        "gauge",
        "Attempts beyond the first, over all notifications.",
        &[(String::new(), count(counts.retries))],
    );
    metric(
        "accord_worker_deliveries_total",
        "counter",
        "Delivery attempts by the worker of this process since it started, by outcome \
         (skipped: no longer its to send when it came to it).",
        &[
            ("sent", &DELIVERIES.sent),
            ("transient_failure", &DELIVERIES.transient),
            ("permanent_failure", &DELIVERIES.permanent),
            ("skipped", &DELIVERIES.skipped),
        ]
        .map(|(outcome, n)| {
            (
                format!("{{outcome=\"{outcome}\"}}"),
                n.load(Ordering::Relaxed),
            )
        }),
    );
    out
}

#[utoipa::path(
    get, path = "/metrics", tag = "metrics",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4: accord_notifications{state}, accord_notifications_queued, accord_notifications_retried, accord_notification_retries, accord_worker_deliveries_total{outcome}", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 503, description = "The database does not answer", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn metrics(state: web::Data<AppState>, _who: Authenticated) -> AppResult<HttpResponse> {
    // Counts only, nothing personal: open to scrapers without a token (a
    // token, if sent, must still be valid, as everywhere).
    let counts = state.db(|conn| Ok(store::outbox::counts(conn)?)).await?;
    Ok(HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(render(&counts)))
}

/// The OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(metrics),
    tags((name = "metrics", description = "Prometheus metrics"))
)]
pub struct Doc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_has_help_and_type() {
        let counts = OutboxCounts {
            by_state: store::outbox::STATES.iter().map(|s| (*s, 2)).collect(),
            retried: 3,
            retries: 5,
        };
        let text = render(&counts);
        assert!(
            text.contains("accord_notifications{state=\"dead\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("accord_notifications_queued 4\n"), "{text}");
        assert!(text.contains("accord_notifications_retried 3\n"), "{text}");
        assert!(text.contains("accord_notification_retries 5\n"), "{text}");
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(text.contains(&format!("# TYPE {name} ")), "{line}");
            assert!(text.contains(&format!("# HELP {name} ")), "{line}");
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
