//! Assembles the service: tracing, pool, migrations, HTTP server, and the
//! outbox worker (inside `serve`, or alone for `accord worker`).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{middleware, web, App, HttpServer};
use anyhow::Context;

use crate::api::{self, AppState};
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::{self, migrate, Pool, PoolSettings};
use crate::notify::worker::{self, Deliver, Worker, WorkerHandle};

/// Logs to stderr with the configured filter (RUST_LOG, if set, wins).
pub fn init_tracing(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second call (tests start several servers) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal, never into log files or collectors.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

pub fn open_pool(settings: &Settings) -> anyhow::Result<Pool> {
    let url = settings.database_url();
    db::pool(
        &url,
        &PoolSettings {
            max_size: settings.database.pool_size,
            connect_timeout: Duration::from_secs(settings.database.connect_timeout_secs),
            sqlite_busy_timeout: Duration::from_millis(settings.database.sqlite_busy_timeout_ms),
        },
    )
    .with_context(|| format!("cannot open the database at {url}"))
}

pub fn run_migrations(pool: &Pool) -> anyhow::Result<Vec<String>> {
    let mut conn = pool
        .get()
        .context("no database connection for migrations")?;
    let applied =
        migrate::run_pending(&mut conn).map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    for version in &applied {
        tracing::info!(version, "applied migration");
    }
    Ok(applied)
}

/// Brings future instants in line with the running tz database, logging each move.
pub fn recompute_instants(pool: &Pool, now: chrono::NaiveDateTime) -> anyhow::Result<()> {
    let mut conn = pool.get().context("no database connection")?;
    let changed =
        crate::tzdata::recompute_future_instants(&mut conn, now).context("recomputing instants")?;
    for c in &changed {
        tracing::warn!(
            entity = c.entity,
            id = c.id.as_str(),
            before = %c.before,
            after = %c.after,
            tzdata = crate::domain::zone::tzdata_version(),
            "instant recomputed under new time-zone rules"
        );
    }
    Ok(())
}

/// The state a server runs on: opens the pool and, when configured, migrates.
pub fn prepare(settings: Settings, clock: SharedClock) -> anyhow::Result<AppState> {
    let pool = open_pool(&settings)?;
    if settings.database.migrate_on_start {
        run_migrations(&pool)?;
    }
    {
        let mut conn = pool.get().context("no database connection")?;
        db::refresh_statistics(&mut conn).context("cannot refresh the planner's statistics")?;
    }
    recompute_instants(&pool, clock.now().naive_utc())?;
    Ok(AppState {
        pool,
        clock,
        settings: Arc::new(settings),
    })
}

/// An HTTP server on an already bound listener (port 0 in tests). Stops
/// gracefully on SIGTERM and Ctrl-C, letting requests in flight finish.
pub fn http_server(
    state: AppState,
    listener: TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    let workers = match state.settings.server.workers {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
        n => n,
    };
    let pool_size = usize::try_from(state.settings.database.pool_size).unwrap_or(8);
    let blocking_threads = pool_size.div_ceil(workers).max(1);
    let shutdown = state.settings.server.shutdown_timeout_secs;
    let body_limit = state.settings.server.max_body_bytes;
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(api::json_config(body_limit))
            .app_data(api::query_config())
            .app_data(api::path_config())
            .wrap(middleware::from_fn(api::log_requests))
            .configure(api::configure)
            .service(utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").url(
                "/api/v1/openapi.json",
                {
                    use utoipa::OpenApi;
                    api::openapi::ApiDoc::openapi()
                },
            ))
            .route(
                "/docs",
                web::get().to(|| async {
                    actix_web::HttpResponse::Found()
                        .insert_header(("Location", "/docs/"))
                        .finish()
                }),
            )
            .default_service(web::to(api::not_found))
    })
    .workers(workers)
    // Every blocking task takes a pooled connection: threads beyond the pool
    // would only sleep on the pool's condition variable (50 clients made 50
    // blocking threads), waking each other for every connection handed back.
    .worker_max_blocking_threads(blocking_threads)
    .shutdown_timeout(shutdown)
    .listen(listener)?
    .run();
    Ok(server)
}

/// The outbox worker on its own thread, on the state's pool and clock.
pub fn start_worker(state: &AppState, mailer: Arc<dyn Deliver>) -> anyhow::Result<WorkerHandle> {
    let mut worker = Worker::new(
        state.pool.clone(),
        state.clock.clone(),
        mailer,
        state.settings.worker.clone(),
    );
    let every = state.settings.worker.plan_every_secs;
    if every > 0 {
        worker = worker.with_planner(
            crate::notify::planner::PlanSettings::from_settings(&state.settings),
            std::time::Duration::from_secs(every),
        );
    }
    tracing::info!(worker = worker.id(), "starting the outbox worker");
    worker::spawn(worker).context("cannot start the outbox worker thread")
}

/// `accord worker`: the worker alone, until SIGTERM or Ctrl-C; then the row
/// being sent finishes, the rest of its batch is given back, and it exits.
pub fn run_worker(state: AppState, mailer: Arc<dyn Deliver>) -> anyhow::Result<()> {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    use futures_util::future::{select, Either};

    let handle = start_worker(&state, mailer)?;
    let outcome = actix_web::rt::System::new().block_on(async {
        let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
        loop {
            let signalled = Box::pin(select(
                Box::pin(terminate.recv()),
                Box::pin(interrupt.recv()),
            ));
            let tick = Box::pin(actix_web::rt::time::sleep(Duration::from_secs(1)));
            match select(signalled, tick).await {
                Either::Left(_) => return Ok(()),
                // A worker thread that ended by itself has panicked: say so.
                Either::Right(_) if handle.is_finished() => {
                    return Err(anyhow::anyhow!("the outbox worker stopped unexpectedly"))
                }
                Either::Right(_) => {}
            }
        }
    });
    tracing::info!("stopping the outbox worker");
    handle.stop_and_join();
    outcome
}
