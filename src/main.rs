//! The `accord` command line.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use accord::api::AppState;
use accord::clock::SystemClock;
use accord::config::{Settings, Sources};
use accord::import::{self, ImportError};
use accord::notify::mailer::Mailer;
use accord::notify::planner::{self, PlanSettings};
use accord::server;
use accord::store::WriteContext;

/// accord keeps the promises of intergovernmental cultural cooperation
/// programmes visible: agreements, programmes, protocols, obligations and
/// events, their deadlines and their fulfilment per party.
#[derive(Debug, Parser)]
#[command(name = "accord", version, about, long_about = None)]
struct Cli {
    /// A configuration profile: reads config/<PROFILE>.toml over the defaults.
    #[arg(long, global = true, env = "ACCORD_PROFILE")]
    profile: Option<String>,
    /// A configuration file read over the defaults and the profile.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (applies pending migrations first unless
    /// database.migrate_on_start is false).
    Serve {
        /// Address and port to listen on, e.g. 0.0.0.0:8080 (default: server.listen).
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
    },
    /// Send the notifications in the outbox, without serving HTTP (`serve`
    /// also does, unless worker.enabled_in_serve is false). Several may run
    /// at once on PostgreSQL. Stops on SIGTERM or Ctrl-C after the message
    /// being sent.
    Worker,
    /// Plan the reminders due now and queue them in the outbox (the worker
    /// does too, before each pass), then print what was done. With
    /// --preview --at DATE, print what would be sent on that day, per
    /// recipient and in their language, and write nothing.
    Remind {
        /// Print what would be sent on the day given by --at; write nothing.
        #[arg(long, requires = "at")]
        preview: bool,
        /// The day to preview (a local date of each recipient).
        #[arg(long, value_name = "YYYY-MM-DD", requires = "preview")]
        at: Option<chrono::NaiveDate>,
    },
    /// Apply pending database migrations and exit. Safe to run from several
    /// machines at once on PostgreSQL (an advisory lock serialises them).
    Migrate,
    /// Load YAML files (parties, organisations, agreements, bodies, meetings,
    /// programmes, events; see docs/import-format.md). Each file is checked
    /// whole and written in one transaction, or not at all; importing the same
    /// file again changes nothing.
    Import {
        /// The files to import, in order.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Write the implementation table of a programme (one row per item:
    /// number, text, responsible organisations, timeframe, status, latest
    /// narrative and evidence per party) as CSV, XLSX or JSON: the same file
    /// as GET /api/v1/programmes/{id}/implementation-table.
    Report {
        /// The programme's key or id.
        #[arg(value_name = "PROGRAMME")]
        programme: String,
        /// csv (UTF-8 with a BOM), xlsx or json.
        #[arg(long, value_parser = report_format)]
        format: accord::report::export::Format,
        /// The table as it stood on this day (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<chrono::NaiveDate>,
        /// Language of the labels and texts: ru, kk or en.
        #[arg(long, default_value = "ru", value_parser = report_language)]
        lang: accord::domain::Language,
        /// Write to this file instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Manage users: `accord user add` creates one (the first admin, say).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Create a fresh SQLite database with the demo data (the EAEU cultural
    /// agreements, days of culture, the KZ-RU sub-commission meetings and an
    /// illustrative KZ-RU 2024-2026 programme) and serve it.
    Demo {
        /// Address and port to listen on (default: server.listen).
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
        /// The SQLite file to (re)create.
        #[arg(long, value_name = "FILE", default_value = "accord-demo.db")]
        database: PathBuf,
    },
    /// Write a deterministic, realistic large dataset (parties, organisations,
    /// agreements, bodies, 500 programmes, 200,000 obligations, 100,000
    /// events, 1,000,000 status reports at --scale 1) into an empty database,
    /// for benchmarks and load tests. The same seed gives the same rows.
    Gen {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Fraction of the full dataset: 0.01 gives 1% of each table.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Database URL (default: database.url of the configuration).
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user, or update the user with this name. The password is read
    /// from the first line of standard input (at least 12 characters), e.g.
    /// `printf '%s\n' "$PASSWORD" | accord user add --username admin --role admin`.
    Add {
        #[arg(long)]
        username: String,
        /// admin, secretariat, editor or viewer.
        #[arg(long)]
        role: String,
        /// Shown name (default: the user name).
        #[arg(long)]
        name: Option<String>,
        /// Key of the user's organisation (required for an editor).
        #[arg(long, value_name = "KEY")]
        organisation: Option<String>,
        /// Key of a body whose programmes a secretariat serves (repeatable).
        #[arg(long = "body", value_name = "KEY")]
        bodies: Vec<String>,
    },
}

/// Demo users (user name, role, organisation, body served) and their shared password.
const DEMO_USERS: [(&str, &str, Option<&str>, Option<&str>); 5] = [
    ("admin", "admin", None, None),
    ("secretariat", "secretariat", None, Some("kz-ru-sc-culture")),
    ("kz-editor", "editor", Some("kz-mci"), None),
    ("ru-editor", "editor", Some("ru-mkrf"), None),
    ("viewer", "viewer", None, None),
];
const DEMO_PASSWORD: &str = "demo-password";

/// The demo data, compiled in so `accord demo` works from any directory.
const DEMO_FILES: [(&str, &str); 2] = [
    (
        "demo/reference.yaml",
        include_str!("../demo/reference.yaml"),
    ),
    (
        "demo/kz-ru-programme-2024-2026.yaml",
        include_str!("../demo/kz-ru-programme-2024-2026.yaml"),
    ),
];

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let sources = Sources {
        profile: cli.profile.clone(),
        file: cli.config.clone(),
        base_dir: None,
    };
    let settings = match Settings::load(&sources) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("accord: {e}");
            return ExitCode::from(2);
        }
    };
    server::init_tracing(&settings.log.level);
    match run(cli.command, settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("accord: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, mut settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve { listen } => {
            if let Some(listen) = listen {
                settings.server.listen = listen;
            }
            serve(settings)
        }
        Command::Worker => {
            let pool = server::open_pool(&settings)?;
            if settings.database.migrate_on_start {
                server::run_migrations(&pool)?;
            }
            let mailer = Mailer::from_settings(&settings.mail)?;
            let state = AppState {
                pool,
                clock: Arc::new(SystemClock),
                settings: Arc::new(settings),
            };
            server::run_worker(state, Arc::new(mailer))
        }
        Command::Remind { preview, at } => {
            let pool = server::open_pool(&settings)?;
            server::run_migrations(&pool)?;
            let mut conn = pool.get().context("no database connection")?;
            let plan = PlanSettings::from_settings(&settings);
            match (preview, at) {
                (true, Some(day)) => {
                    let rows = planner::preview(&mut conn, day, &plan)?;
                    print!("{}", planner::describe(&rows));
                }
                _ => {
                    let outcome = planner::plan_due(&mut conn, chrono::Utc::now(), &plan)?;
                    println!("{outcome}");
                }
            }
            Ok(())
        }
        Command::Migrate => {
            let pool = server::open_pool(&settings)?;
            let applied = server::run_migrations(&pool)?;
            println!(
                "{} migration(s) applied; the database is up to date",
                applied.len()
            );
            Ok(())
        }
        Command::Import { files } => {
            let pool = server::open_pool(&settings)?;
            server::run_migrations(&pool)?;
            let mut conn = pool.get().context("no database connection")?;
            let plan_settings = PlanSettings::from_settings(&settings);
            for file in files {
                let ctx = write_context("cli:import");
                match import::import_file_replanned(&mut conn, &file, &ctx, &plan_settings) {
                    Ok(summary) => println!("{}: {summary}", file.display()),
                    Err(ImportError::Invalid(problems)) => {
                        for p in &problems {
                            eprintln!("{}:{p}", file.display());
                        }
                        anyhow::bail!(
                            "{}: {} problem(s); nothing was imported",
                            file.display(),
                            problems.len()
                        );
                    }
                    Err(e) => {
                        return Err(e).with_context(|| format!("importing {}", file.display()))
                    }
                }
            }
            Ok(())
        }
        Command::Report {
            programme,
            format,
            as_of,
            lang,
            output,
        } => report(&settings, &programme, format, as_of, lang, output),
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    name,
                    organisation,
                    bodies,
                },
        } => {
            let pool = server::open_pool(&settings)?;
            server::run_migrations(&pool)?;
            let mut conn = pool.get().context("no database connection")?;
            let mut password = String::new();
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                eprint!(
                    "password for {username} (it will show as you type; pipe it in to hide it): "
                );
            }
            std::io::stdin()
                .read_line(&mut password)
                .context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let ctx = write_context("cli:user");
            let outcome = accord::users::add_user(
                &mut conn,
                &ctx,
                accord::users::NewUser {
                    username: &username,
                    role: &role,
                    display_name: name.as_deref(),
                    organisation: organisation.as_deref(),
                    bodies: &bodies,
                    password,
                },
            )?;
            println!("user {username}: {outcome:?}");
            Ok(())
        }
        Command::Demo { listen, database } => {
            if let Some(listen) = listen {
                settings.server.listen = listen;
            }
            for suffix in ["", "-wal", "-shm"] {
                let mut path = database.clone().into_os_string();
                path.push(suffix);
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(e).with_context(|| {
                            format!("cannot remove {}", PathBuf::from(path).display())
                        })
                    }
                }
            }
            settings.database.url = format!("sqlite://{}", database.display());
            let pool = server::open_pool(&settings)?;
            server::run_migrations(&pool)?;
            let mut conn = pool.get().context("no database connection")?;
            for (name, source) in DEMO_FILES {
                let ctx = write_context("demo");
                match import::import_str(&mut conn, source, &ctx) {
                    Ok(summary) => tracing::info!(file = name, %summary, "demo data loaded"),
                    Err(ImportError::Invalid(problems)) => {
                        for p in &problems {
                            eprintln!("{name}:{p}");
                        }
                        anyhow::bail!("the demo data in {name} does not import");
                    }
                    Err(e) => return Err(e).with_context(|| format!("importing {name}")),
                }
            }
            // Demo users, one per role, so the API can be tried at once. The
            // password is public: this database is for demonstration only.
            for (username, role, organisation, body) in DEMO_USERS {
                let bodies: Vec<String> = body.iter().map(|b| b.to_string()).collect();
                accord::users::add_user(
                    &mut conn,
                    &write_context("demo"),
                    accord::users::NewUser {
                        username,
                        role,
                        display_name: None,
                        organisation,
                        bodies: &bodies,
                        password: DEMO_PASSWORD,
                    },
                )?;
            }
            drop(conn);
            tracing::info!(
                database = %database.display(),
                users = DEMO_USERS.map(|u| u.0).join(", "),
                password = DEMO_PASSWORD,
                "demo database ready"
            );
            serve(settings)
        }
        Command::Gen {
            seed,
            scale,
            database,
        } => {
            if let Some(url) = database {
                settings.database.url = url;
            }
            let pool = server::open_pool(&settings)?;
            server::run_migrations(&pool)?;
            let mut conn = pool.get().context("no database connection")?;
            let started = std::time::Instant::now();
            let options = accord::gen::Options {
                seed,
                scale,
                progress: true,
            };
            let summary = accord::gen::generate(&mut conn, &options)?;
            println!("{summary}");
            println!(
                "generated seed {seed} scale {scale} in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

fn report_format(name: &str) -> Result<accord::report::export::Format, String> {
    use accord::report::export::Format;
    Format::parse(name).ok_or_else(|| format!("use one of: {}", Format::names()))
}

fn report_language(code: &str) -> Result<accord::domain::Language, String> {
    accord::api::reports::label_language_of(code)
        .ok_or_else(|| "use one of: ru, kk, en".to_string())
}

/// `accord report`: the table through the same store query and writer as the API.
fn report(
    settings: &Settings,
    programme: &str,
    format: accord::report::export::Format,
    as_of: Option<chrono::NaiveDate>,
    lang: accord::domain::Language,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    use std::io::{IsTerminal, Write};

    use accord::report::export::{self, Format};
    let pool = server::open_pool(settings)?;
    server::run_migrations(&pool)?;
    let mut conn = pool.get().context("no database connection")?;
    let today = chrono::Utc::now().date_naive();
    let table = accord::store::rollups::implementation_table(
        &mut conn,
        programme,
        as_of,
        today,
        settings.status.due_soon_days,
    )?
    .with_context(|| format!("there is no programme {programme}"))?;
    let bytes = export::render(format, &table, || table.workbook(lang))?;
    match output {
        Some(path) => std::fs::write(&path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            if format == Format::Xlsx && stdout.is_terminal() {
                anyhow::bail!("XLSX is binary: give --output FILE or redirect standard output");
            }
            stdout
                .write_all(&bytes)
                .and_then(|()| stdout.flush())
                .context("cannot write to standard output")?;
        }
    }
    Ok(())
}

fn write_context(actor: &str) -> WriteContext {
    WriteContext {
        actor: actor.to_string(),
        at: chrono::Utc::now().naive_utc(),
        request_id: None,
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let listen = settings.listen_addr();
    let database = settings.database_url();
    let state = server::prepare(settings, Arc::new(SystemClock))?;
    let listener =
        TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
    // A mail configuration that cannot work stops start-up, like any other.
    let worker = if state.settings.worker.enabled_in_serve {
        let mailer = Mailer::from_settings(&state.settings.mail)?;
        Some(server::start_worker(&state, Arc::new(mailer))?)
    } else {
        None
    };
    tracing::info!(%listen, %database, "accord is serving");
    let served: anyhow::Result<()> = actix_web::rt::System::new().block_on(async move {
        server::http_server(state, listener)?.await?;
        Ok(())
    });
    // The HTTP server has stopped (SIGTERM, Ctrl-C or an error): the worker
    // finishes the message it is sending and gives back the rest.
    if let Some(worker) = worker {
        worker.stop_and_join();
    }
    tracing::info!("accord stopped");
    served
}

/// glibc gives each thread that allocates under contention an arena of its
/// own (up to eight per core); the server's request and blocking threads then
/// leave memory scattered over a dozen arenas, and the peak RSS under 50
/// connections was 186 MB against 98 MB with two arenas and no loss of
/// throughput (issue 7, BENCHMARKS.md).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before
    // any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
