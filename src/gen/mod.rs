//! `accord gen`: a deterministic, realistic large dataset (issue 7), written
//! straight into the tables in batches, for benchmarks and load tests.
//!
//! The same seed and scale give the same rows, ids included: ids come from a
//! seeded generator and every timestamp from a fixed epoch, never the clock.
//! Derived columns (search text, UTC instants and their tzdata version, yearly
//! occurrences, series spans) are computed by the same domain and store
//! functions the API uses, so the server reads generated rows as its own.

mod vocabulary;

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use crate::db::schema::{
    agreement_parties, agreement_signatories, agreements, assignments, bodies, body_parties,
    contacts, event_obligations, event_organisations, events, meetings, obligation_occurrences,
    obligations, organisations, parties, programme_parties, programme_signatories, programmes,
    sections, status_reports,
};
use crate::db::Conn;
use crate::domain::deadlines::yearly_occurrences;
use crate::domain::recurrence::{RecurrenceId, Series};
use crate::domain::timeframe::{Period, Timeframe, TimeframeKind};
use crate::domain::zone::{parse_zone, resolve_local, tzdata_version};
use crate::domain::{Language, LocalizedText};
use crate::store::agreements::AgreementRow;
use crate::store::bodies::{BodyPartyRow, BodyRow, MeetingRow};
use crate::store::events::{EventOrganisationRow, EventRow};
use crate::store::obligations::{AssignmentRow, ObligationRow, OccurrenceRow};
use crate::store::organisations::{ContactRow, OrganisationRow};
use crate::store::parties::PartyRow;
use crate::store::programmes::{ProgrammeRow, SectionRow};
use crate::store::reports::StatusReportRow;
use vocabulary::*;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    /// 1.0 is the full dataset of issue 7; 0.01 gives 1% of each table.
    pub scale: f64,
    /// Draw a progress bar on standard error.
    pub progress: bool,
}

/// How many rows of the scaled tables; the rest follow from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub programmes: usize,
    pub obligations: usize,
    pub events: usize,
    pub status_reports: usize,
    /// Organisations beyond the fixed ones of each party (regional theatres,
    /// museums, libraries...).
    pub extra_organisations: usize,
    /// Agreements beyond the real ones.
    pub extra_agreements: usize,
    pub bodies: usize,
}

/// Meetings held by each body (one a year).
pub const MEETINGS_PER_BODY: usize = 4;
/// Contacts of each organisation: a focal point and a deputy.
pub const CONTACTS_PER_ORGANISATION: usize = 2;

impl Sizes {
    pub fn at(scale: f64) -> Sizes {
        // At least one of each, so the smallest scale still has every table.
        let scaled = |full: f64| ((full * scale).round() as usize).max(1);
        Sizes {
            programmes: scaled(500.0),
            obligations: scaled(200_000.0),
            events: scaled(100_000.0),
            status_reports: scaled(1_000_000.0),
            extra_organisations: scaled(3_000.0),
            extra_agreements: scaled(400.0),
            bodies: scaled(60.0),
        }
    }

    pub fn parties() -> usize {
        STATES.len() + REGIONS.len()
    }

    pub fn organisations(&self) -> usize {
        STATES.len() * INSTITUTIONS.len()
            + REGIONS.len() * REGIONAL_INSTITUTIONS.len()
            + self.extra_organisations
    }

    pub fn agreements(&self) -> usize {
        AGREEMENTS.len() + self.extra_agreements
    }

    pub fn sections(&self) -> usize {
        self.programmes * SECTIONS.len()
    }

    pub fn meetings(&self) -> usize {
        self.bodies * MEETINGS_PER_BODY
    }
}

/// Rows written per table, in the order they were written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub tables: Vec<(&'static str, usize)>,
}

impl Summary {
    pub fn count(&self, table: &str) -> Option<usize> {
        self.tables
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, n)| *n)
    }

    pub fn total(&self) -> usize {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (table, n) in &self.tables {
            writeln!(f, "{table:>24} {n:>9}")?;
        }
        write!(f, "{:>24} {:>9}", "total", self.total())
    }
}

/// SplitMix64: small, fast and fully determined by its seed, which is all a
/// generator of test data needs (no dependency, same stream on every platform).
struct Rng(u64);

impl Rng {
    /// A stream of its own per stage, so that changing how one table is
    /// generated leaves the others' rows as they were.
    fn new(seed: u64, stage: &str) -> Rng {
        let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
        for b in stage.bytes() {
            state = (state ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
        Rng(state)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A version 4 UUID from the stream: ids as random as the API's, but repeatable.
    fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}

/// "Now" for the generated world: what is before it has happened (held events,
/// completed items), what is after it is planned. Also every row's
/// created_at/updated_at.
pub fn epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 1)
        .unwrap_or_default()
        .and_time(NaiveTime::MIN)
}

fn date(y: i32, m: u32, d: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).with_context(|| format!("no date {y}-{m}-{d}"))
}

fn text(en: &str, ru: &str) -> anyhow::Result<String> {
    let text = LocalizedText::new([(Language::En, en.into()), (Language::Ru, ru.into())].into())
        .map_err(|e| anyhow::anyhow!("generated text: {e}"))?;
    Ok(text.to_json())
}

/// Rows per INSERT: SQLite takes at most 32766 bind parameters per statement
/// (PostgreSQL 65535), one per column of each row.
fn rows_per_statement(columns: usize) -> usize {
    (30_000 / columns).max(1)
}

/// Inserts rows in multi-row statements.
macro_rules! insert_batches {
    ($conn:expr, $table:ident, $rows:expr, $columns:expr, $bar:expr) => {{
        for chunk in $rows.chunks(rows_per_statement($columns)) {
            // On each backend's own connection: MultiConnection has no
            // multi-row INSERT (SQLite lacks the DEFAULT keyword it would need).
            match &mut *$conn {
                Conn::Postgresql(c) => diesel::insert_into($table::table).values(chunk).execute(c),
                Conn::Sqlite(c) => diesel::insert_into($table::table).values(chunk).execute(c),
            }
            .with_context(|| format!("inserting into {}", stringify!($table)))?;
            $bar.advance(chunk.len());
        }
    }};
}

/// A progress bar on standard error, redrawn when it moves a percent.
struct Bar {
    show: bool,
    total: usize,
    done: usize,
    drawn: usize,
    started: Instant,
    stage: &'static str,
}

impl Bar {
    fn new(show: bool, total: usize) -> Bar {
        Bar {
            show,
            total: total.max(1),
            done: 0,
            drawn: usize::MAX,
            started: Instant::now(),
            stage: "",
        }
    }

    fn stage(&mut self, stage: &'static str) {
        self.stage = stage;
        self.draw();
    }

    fn advance(&mut self, rows: usize) {
        self.done += rows;
        if self.done * 100 / self.total != self.drawn {
            self.draw();
        }
    }

    fn draw(&mut self) {
        if !self.show {
            return;
        }
        let percent = (self.done * 100 / self.total).min(100);
        self.drawn = percent;
        let filled = percent * 30 / 100;
        let mut err = std::io::stderr().lock();
        // Progress is a courtesy: a closed stderr must not stop the work.
        let _ = write!(
            err,
            "\r[{}{}] {percent:>3}% {:>9}/{} rows {:>6.1}s {:<24}",
            "#".repeat(filled),
            "-".repeat(30 - filled),
            self.done,
            self.total,
            self.started.elapsed().as_secs_f64(),
            self.stage
        );
        let _ = err.flush();
    }

    fn finish(&mut self) {
        if self.show {
            self.stage = "done";
            self.draw();
            let _ = writeln!(std::io::stderr());
        }
    }
}

// The link tables have no row type in the store (it writes them one link at
// a time); these are the same columns for batches.
#[derive(Insertable)]
#[diesel(table_name = agreement_parties)]
struct AgreementPartyRow {
    agreement_id: String,
    party_id: String,
}

#[derive(Insertable)]
#[diesel(table_name = agreement_signatories)]
struct AgreementSignatoryRow {
    agreement_id: String,
    organisation_id: String,
}

#[derive(Insertable)]
#[diesel(table_name = programme_parties)]
struct ProgrammePartyRow {
    programme_id: String,
    party_id: String,
}

#[derive(Insertable)]
#[diesel(table_name = programme_signatories)]
struct ProgrammeSignatoryRow {
    programme_id: String,
    organisation_id: String,
}

#[derive(Insertable)]
#[diesel(table_name = event_obligations)]
struct EventObligationRow {
    event_id: String,
    obligation_id: String,
}

/// What later stages need to know of a party.
struct PartyFacts {
    id: String,
    code: &'static str,
    en: &'static str,
    ru: &'static str,
    zone: &'static str,
    city: &'static str,
    /// Indexes into the organisations, the first being the ministry (or the
    /// regional department).
    organisations: Vec<usize>,
}

struct OrganisationFacts {
    id: String,
    focal_point_email: String,
}

struct ProgrammeFacts {
    id: String,
    parties: [usize; 2],
    period: Period,
    sections: Vec<String>,
}

/// What status reports need of an obligation.
struct ObligationFacts {
    id: String,
    programme: usize,
    lead_organisation: usize,
    partner_organisation: usize,
    start: NaiveDate,
    end: NaiveDate,
    years: Option<(i32, i32)>,
}

/// Writes the dataset into an empty, migrated database.
pub fn generate(conn: &mut Conn, options: &Options) -> anyhow::Result<Summary> {
    if !(options.scale > 0.0 && options.scale <= 10.0) {
        anyhow::bail!(
            "--scale must be above 0 and at most 10, not {}",
            options.scale
        );
    }
    let existing: i64 = parties::table
        .count()
        .get_result(conn)
        .context("cannot read the parties table (is the database migrated?)")?;
    if existing > 0 {
        anyhow::bail!(
            "the database already holds {existing} parties: gen writes into an empty database only"
        );
    }
    let sizes = Sizes::at(options.scale);
    let planned = Sizes::parties()
        + sizes.organisations() * (1 + CONTACTS_PER_ORGANISATION)
        + sizes.agreements() * 5
        + sizes.bodies * 3
        + sizes.meetings()
        + sizes.programmes * 5
        + sizes.sections()
        + sizes.obligations * 7 / 2
        + sizes.events * 3
        + sizes.status_reports;
    let mut bar = Bar::new(options.progress, planned);
    let mut summary = Summary::default();
    let seed = options.seed;
    let at = epoch();

    // Parties: the states and regions of ../shared/data.
    bar.stage("parties");
    let mut rng = Rng::new(seed, "parties");
    let mut party_facts: Vec<PartyFacts> = Vec::new();
    let mut party_rows = Vec::new();
    for s in STATES {
        let id = rng.uuid();
        party_rows.push(PartyRow {
            id: id.clone(),
            code: s.code.to_string(),
            parent_id: None,
            name: text(s.en, s.ru)?,
            time_zone: s.zone.to_string(),
            version: 1,
            created_at: at,
            updated_at: at,
        });
        party_facts.push(PartyFacts {
            id,
            code: s.code,
            en: s.en,
            ru: s.ru,
            zone: s.zone,
            city: s.city,
            organisations: Vec::new(),
        });
    }
    for r in REGIONS {
        let id = rng.uuid();
        let parent = party_facts
            .iter()
            .find(|p| p.code == r.state)
            .map(|p| p.id.clone());
        party_rows.push(PartyRow {
            id: id.clone(),
            code: r.code.to_string(),
            parent_id: parent,
            name: text(r.en, r.ru)?,
            time_zone: r.zone.to_string(),
            version: 1,
            created_at: at,
            updated_at: at,
        });
        party_facts.push(PartyFacts {
            id,
            code: r.code,
            en: r.en,
            ru: r.ru,
            zone: r.zone,
            city: r.city,
            organisations: Vec::new(),
        });
    }
    conn.transaction(|conn| -> anyhow::Result<()> {
        insert_batches!(conn, parties, party_rows, 8, bar);
        Ok(())
    })?;
    summary.tables.push(("parties", party_rows.len()));
    let states = STATES.len();

    // Organisations and their contacts: each state's ministry and national
    // institutions, each region's department and institutions, then more
    // theatres, museums and libraries spread over every party.
    bar.stage("organisations");
    let mut rng = Rng::new(seed, "organisations");
    let mut organisation_rows: Vec<OrganisationRow> = Vec::with_capacity(sizes.organisations());
    let mut organisation_facts: Vec<OrganisationFacts> = Vec::new();
    let mut contact_rows: Vec<ContactRow> = Vec::new();
    let mut add_organisation = |party: usize,
                                kind: &str,
                                en: String,
                                ru: String,
                                number: usize,
                                party_facts: &mut Vec<PartyFacts>,
                                rng: &mut Rng|
     -> anyhow::Result<()> {
        let p = &party_facts[party];
        let code = p.code.to_lowercase();
        let key = format!("{code}-{}-{number}", kind.replace('_', "-"));
        let domain = format!("{}.{code}.example.org", kind.replace('_', "-"));
        let id = rng.uuid();
        let parent = if kind == "department" || kind == "ministry" {
            None
        } else {
            p.organisations
                .first()
                .map(|&o| organisation_rows[o].id.clone())
        };
        organisation_rows.push(OrganisationRow {
            id: id.clone(),
            key: key.clone(),
            party_id: p.id.clone(),
            parent_id: parent,
            kind: kind.to_string(),
            name: text(&en, &ru)?,
            time_zone: p.zone.to_string(),
            email: Some(format!("info{number}@{domain}")),
            website: Some(format!("https://{domain}/{number}")),
            version: 1,
            created_at: at,
            updated_at: at,
        });
        let mut focal_point_email = String::new();
        for (n, role) in ["focal_point", "deputy"].into_iter().enumerate() {
            let given = rng.pick(GIVEN_NAMES);
            let family = rng.pick(FAMILY_NAMES);
            let email = format!(
                "{}.{}{n}@{number}.{domain}",
                given.to_lowercase(),
                family.to_lowercase()
            );
            if n == 0 {
                focal_point_email = email.clone();
            }
            let language = match (p.code.starts_with("KZ"), rng.below(10)) {
                (true, 0..=3) => "kk",
                (_, 0..=7) => "ru",
                _ => "en",
            };
            contact_rows.push(ContactRow {
                id: rng.uuid(),
                organisation_id: id.clone(),
                name: format!("{given} {family}"),
                email,
                language: language.to_string(),
                time_zone: p.zone.to_string(),
                role: role.to_string(),
                notifications: if rng.chance(30) {
                    "daily_digest"
                } else {
                    "immediate"
                }
                .to_string(),
                active: !rng.chance(3),
                version: 1,
                created_at: at,
                updated_at: at,
            });
        }
        organisation_facts.push(OrganisationFacts {
            id,
            focal_point_email,
        });
        party_facts[party]
            .organisations
            .push(organisation_rows.len() - 1);
        Ok(())
    };
    for party in 0..party_facts.len() {
        let institutions = if party < states {
            INSTITUTIONS
        } else {
            REGIONAL_INSTITUTIONS
        };
        for (kind, en, ru) in institutions {
            let (p_en, p_ru) = (party_facts[party].en, party_facts[party].ru);
            add_organisation(
                party,
                kind,
                format!("{en} ({p_en})"),
                format!("{ru} ({p_ru})"),
                0,
                &mut party_facts,
                &mut rng,
            )?;
        }
    }
    for n in 0..sizes.extra_organisations {
        let party = n % party_facts.len();
        let (kind, en, ru) = REGIONAL_INSTITUTIONS[1 + n / party_facts.len() % 3];
        let number = n / party_facts.len() + 1;
        let (p_en, p_ru) = (party_facts[party].en, party_facts[party].ru);
        add_organisation(
            party,
            kind,
            format!("{en} No. {number} ({p_en})"),
            format!("{ru} № {number} ({p_ru})"),
            number,
            &mut party_facts,
            &mut rng,
        )?;
    }
    conn.transaction(|conn| -> anyhow::Result<()> {
        insert_batches!(conn, organisations, organisation_rows, 12, bar);
        insert_batches!(conn, contacts, contact_rows, 12, bar);
        Ok(())
    })?;
    summary
        .tables
        .push(("organisations", organisation_rows.len()));
    summary.tables.push(("contacts", contact_rows.len()));
    drop(organisation_rows);
    drop(contact_rows);
    let ministry = |party: usize| party_facts[party].organisations[0];

    // Agreements: the real ones, then invented ones between any two states.
    bar.stage("agreements");
    let mut rng = Rng::new(seed, "agreements");
    let state_index = |code: &str| STATES.iter().position(|s| s.code == code);
    let mut agreement_rows = Vec::new();
    let mut agreement_pairs: Vec<[usize; 2]> = Vec::new();
    let mut drafts: Vec<([usize; 2], String, String, String, String, bool)> = Vec::new();
    for a in AGREEMENTS {
        let (Some(x), Some(y)) = (state_index(a.parties[0]), state_index(a.parties[1])) else {
            anyhow::bail!("agreement vocabulary names an unknown state");
        };
        drafts.push((
            [x, y],
            a.kind.to_string(),
            a.signed.to_string(),
            text(a.title, a.title)?,
            a.title.to_string(),
            a.interministerial,
        ));
    }
    for _ in 0..sizes.extra_agreements {
        let x = rng.below(states);
        let y = (x + 1 + rng.below(states - 1)) % states;
        let (en, ru) = *rng.pick(AGREEMENT_TITLES);
        let kind = if en.starts_with("Memorandum") {
            "memorandum"
        } else if en.starts_with("Roadmap") {
            "roadmap"
        } else {
            "agreement"
        };
        let signed = date(
            1992 + rng.below(34) as i32,
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        )?;
        drafts.push((
            [x, y],
            kind.to_string(),
            signed.to_string(),
            text(en, ru)?,
            en.to_string(),
            rng.chance(30),
        ));
    }
    let mut agreement_party_rows = Vec::new();
    let mut agreement_signatory_rows = Vec::new();
    for (n, (pair, kind, signed, title, en, interministerial)) in drafts.into_iter().enumerate() {
        let signed = Timeframe::parse(&signed, None)
            .map_err(|e| anyhow::anyhow!("agreement signature `{signed}`: {e}"))?;
        let id = rng.uuid();
        let in_force_on = signed
            .latest
            .map(|d| d + Duration::days(30 + rng.below(400) as i64));
        let key = format!(
            "{}-{}-{}-{n}",
            party_facts[pair[0]].code.to_lowercase(),
            party_facts[pair[1]].code.to_lowercase(),
            signed.source
        );
        agreement_rows.push(AgreementRow {
            id: id.clone(),
            key,
            kind,
            level: if interministerial {
                "interministerial"
            } else {
                "intergovernmental"
            }
            .to_string(),
            title,
            signed_kind: Some(signed.kind.as_str().to_string()),
            signed_text: Some(signed.source.clone()),
            signed_earliest: signed.earliest,
            signed_latest: signed.latest,
            place: Some(party_facts[pair[rng.below(2)]].city.to_string()),
            in_force_on,
            term_months: Some(60),
            renewal_months: Some(60),
            notice_months: Some(6),
            valid_until: None,
            source: Some(
                if n < AGREEMENTS.len() {
                    "S1"
                } else {
                    "generated"
                }
                .to_string(),
            ),
            note: (n >= AGREEMENTS.len()).then(|| format!("generated from \"{en}\"")),
            version: 1,
            created_at: at,
            updated_at: at,
        });
        for &p in &pair {
            agreement_party_rows.push(AgreementPartyRow {
                agreement_id: id.clone(),
                party_id: party_facts[p].id.clone(),
            });
            agreement_signatory_rows.push(AgreementSignatoryRow {
                agreement_id: id.clone(),
                organisation_id: organisation_facts[ministry(p)].id.clone(),
            });
        }
        agreement_pairs.push(pair);
    }
    conn.transaction(|conn| -> anyhow::Result<()> {
        insert_batches!(conn, agreements, agreement_rows, 20, bar);
        insert_batches!(conn, agreement_parties, agreement_party_rows, 2, bar);
        insert_batches!(
            conn,
            agreement_signatories,
            agreement_signatory_rows,
            2,
            bar
        );
        Ok(())
    })?;
    summary.tables.push(("agreements", agreement_rows.len()));
    summary
        .tables
        .push(("agreement_parties", agreement_party_rows.len()));
    summary
        .tables
        .push(("agreement_signatories", agreement_signatory_rows.len()));

    // Bodies (a sub-commission on culture per agreement, the first ones on the
    // real agreements) and their meetings, one a year, in the host's zone.
    bar.stage("bodies and meetings");
    let mut rng = Rng::new(seed, "bodies");
    let mut body_rows = Vec::new();
    let mut body_party_rows = Vec::new();
    let mut meeting_rows = Vec::new();
    let mut body_facts: Vec<(String, usize)> = Vec::new();
    for b in 0..sizes.bodies {
        let agreement = b % agreement_rows.len();
        let pair = agreement_pairs[agreement];
        let (x, y) = (&party_facts[pair[0]], &party_facts[pair[1]]);
        let id = rng.uuid();
        body_rows.push(BodyRow {
            id: id.clone(),
            key: format!("{}-{}-sc-culture-{b}", x.code.to_lowercase(), y.code.to_lowercase()),
            kind: "sub_commission".to_string(),
            name: text(
                &format!(
                    "Sub-Commission on Cultural and Humanitarian Cooperation of the {}-{} Intergovernmental Commission",
                    x.code, y.code
                ),
                &format!(
                    "Подкомиссия по культурно-гуманитарному сотрудничеству Межправительственной комиссии {}-{}",
                    x.code, y.code
                ),
            )?,
            parent_id: None,
            agreement_id: Some(agreement_rows[agreement].id.clone()),
            version: 1,
            created_at: at,
            updated_at: at,
        });
        for (p, chair) in [
            (pair[0], "Vice Minister of Culture"),
            (pair[1], "Deputy Minister of Culture"),
        ] {
            body_party_rows.push(BodyPartyRow {
                body_id: id.clone(),
                party_id: party_facts[p].id.clone(),
                co_chair: Some(chair.to_string()),
            });
        }
        let first_year = 2019 + (b % 5) as i32;
        for number in 1..=MEETINGS_PER_BODY {
            let host = &party_facts[pair[(number - 1) % 2]];
            let held_on = date(
                first_year + number as i32 - 1,
                3 + rng.below(8) as u32,
                1 + rng.below(28) as u32,
            )?;
            let start_local = held_on.and_hms_opt(10, 0, 0).unwrap_or_default();
            let zone = parse_zone(host.zone).map_err(anyhow::Error::msg)?;
            let starts_at = resolve_local(start_local, zone, None)?;
            meeting_rows.push(MeetingRow {
                id: rng.uuid(),
                body_id: id.clone(),
                number: number as i32,
                title: text(
                    &format!(
                        "Meeting {number} of the {}-{} sub-commission",
                        x.code, y.code
                    ),
                    &format!("Заседание {number} подкомиссии {}-{}", x.code, y.code),
                )?,
                held_on,
                start_local: Some(start_local),
                time_zone: host.zone.to_string(),
                starts_at: Some(starts_at.naive_utc()),
                tzdata_version: Some(tzdata_version().to_string()),
                city: Some(host.city.to_string()),
                status: if start_local < at { "held" } else { "planned" }.to_string(),
                source: None,
                note: None,
                version: 1,
                created_at: at,
                updated_at: at,
            });
        }
        body_facts.push((id, agreement));
    }
    conn.transaction(|conn| -> anyhow::Result<()> {
        insert_batches!(conn, bodies, body_rows, 9, bar);
        insert_batches!(conn, body_parties, body_party_rows, 3, bar);
        insert_batches!(conn, meetings, meeting_rows, 16, bar);
        Ok(())
    })?;
    summary.tables.push(("bodies", body_rows.len()));
    summary.tables.push(("body_parties", body_party_rows.len()));
    summary.tables.push(("meetings", meeting_rows.len()));
    drop(meeting_rows);

    // Programmes of three years, each implementing its body's agreement, with
    // the six usual sections.
    bar.stage("programmes");
    let mut rng = Rng::new(seed, "programmes");
    let mut programme_rows = Vec::new();
    let mut programme_party_rows = Vec::new();
    let mut programme_signatory_rows = Vec::new();
    let mut section_rows = Vec::new();
    let mut programme_facts: Vec<ProgrammeFacts> = Vec::new();
    for p in 0..sizes.programmes {
        let (body_id, agreement) = &body_facts[p % body_facts.len()];
        let pair = agreement_pairs[*agreement];
        let (x, y) = (&party_facts[pair[0]], &party_facts[pair[1]]);
        let first = 2000 + ((p * 7 + rng.below(3)) % 28) as i32;
        let last = first + 2;
        let period = Period::new(date(first, 1, 1)?, date(last, 12, 31)?)?;
        let id = rng.uuid();
        programme_rows.push(ProgrammeRow {
            id: id.clone(),
            key: format!("{}-{}-{first}-{last}-{p}", x.code.to_lowercase(), y.code.to_lowercase()),
            title: text(
                &format!(
                    "Programme of Cooperation in the Field of Culture between {} and {} {first}-{last} (No. {})",
                    x.en, y.en, p + 1
                ),
                &format!(
                    "Программа сотрудничества в области культуры: {} и {} на {first}-{last} годы (№ {})",
                    x.ru, y.ru, p + 1
                ),
            )?,
            agreement_id: Some(agreement_rows[*agreement].id.clone()),
            body_id: Some(body_id.clone()),
            period_text: format!("{first}-{last}"),
            period_start: period.start,
            period_end: period.end,
            // The first is always public, so anonymous callers see one at any scale.
            public: p == 0 || !rng.chance(20),
            // Invented: the dashboard marks such programmes as illustrative.
            illustrative: true,
            source: Some("generated".to_string()),
            note: None,
            version: 1,
            created_at: at,
            updated_at: at,
        });
        for &party in &pair {
            programme_party_rows.push(ProgrammePartyRow {
                programme_id: id.clone(),
                party_id: party_facts[party].id.clone(),
            });
            programme_signatory_rows.push(ProgrammeSignatoryRow {
                programme_id: id.clone(),
                organisation_id: organisation_facts[ministry(party)].id.clone(),
            });
        }
        let mut section_ids = Vec::new();
        for (position, (en, ru, _)) in SECTIONS.iter().enumerate() {
            let section_id = rng.uuid();
            section_rows.push(SectionRow {
                id: section_id.clone(),
                programme_id: id.clone(),
                code: (position + 1).to_string(),
                title: text(en, ru)?,
                position: position as i32 + 1,
                version: 1,
                created_at: at,
                updated_at: at,
            });
            section_ids.push(section_id);
        }
        programme_facts.push(ProgrammeFacts {
            id,
            parties: pair,
            period,
            sections: section_ids,
        });
    }
    conn.transaction(|conn| -> anyhow::Result<()> {
        insert_batches!(conn, programmes, programme_rows, 15, bar);
        insert_batches!(conn, programme_parties, programme_party_rows, 2, bar);
        insert_batches!(
            conn,
            programme_signatories,
            programme_signatory_rows,
            2,
            bar
        );
        insert_batches!(conn, sections, section_rows, 8, bar);
        Ok(())
    })?;
    summary.tables.push(("programmes", programme_rows.len()));
    summary
        .tables
        .push(("programme_parties", programme_party_rows.len()));
    summary
        .tables
        .push(("programme_signatories", programme_signatory_rows.len()));
    summary.tables.push(("sections", section_rows.len()));
    drop(programme_rows);
    drop(section_rows);
    drop(agreement_rows);

    // Obligations, their assignments and yearly occurrences, written in
    // slices so that memory stays flat at full scale.
    bar.stage("obligations");
    let mut rng = Rng::new(seed, "obligations");
    let mut obligation_facts: Vec<ObligationFacts> = Vec::with_capacity(sizes.obligations);
    let (mut obligation_count, mut assignment_count, mut occurrence_count) = (0, 0, 0);
    let slice = 20_000;
    let mut next = 0;
    while next < sizes.obligations {
        let end = (next + slice).min(sizes.obligations);
        let mut obligation_rows = Vec::with_capacity(end - next);
        let mut assignment_rows = Vec::new();
        let mut occurrence_rows = Vec::new();
        for i in next..end {
            let (programme, k) = programme_of(i, &sizes);
            let facts = &programme_facts[programme];
            let section = k % SECTIONS.len();
            let kinds = SECTIONS[section].2;
            let kind = *rng.pick(kinds);
            let (lead_party, partner_party) = if rng.chance(50) {
                (facts.parties[0], facts.parties[1])
            } else {
                (facts.parties[1], facts.parties[0])
            };
            let (a, b) = (&party_facts[lead_party], &party_facts[partner_party]);
            let (en, ru) = obligation_text(kind);
            let item_text = text(
                &en.replace("{a}", a.en).replace("{b}", b.en),
                &ru.replace("{a}", a.ru).replace("{b}", b.ru),
            )?;
            let number = format!("{}.{}", section + 1, k / SECTIONS.len() + 1);
            let first = facts.period.start.year();
            let year = first + rng.below(3) as i32;
            let when = match rng.below(100) {
                0..=29 => format!("{year}"),
                30..=49 => format!("{year}-Q{}", 1 + rng.below(4)),
                50..=69 => format!("{year}-{:02}", 1 + rng.below(12)),
                70..=84 => format!("{year}-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28)),
                85..=94 => "programme period".to_string(),
                _ => "to be agreed".to_string(),
            };
            let timeframe = Timeframe::parse(&when, Some(facts.period))
                .map_err(|e| anyhow::anyhow!("generated timeframe `{when}`: {e}"))?;
            let yearly = timeframe.is_scheduled()
                && matches!(
                    kind,
                    "days_of_culture" | "festival" | "information_exchange" | "consultation"
                )
                && rng.chance(40);
            let today = at.date();
            let lifecycle = match (timeframe.earliest, timeframe.latest) {
                (None, _) | (_, None) => "planned",
                (Some(_), Some(latest)) if latest < today => match rng.below(100) {
                    0..=69 => "completed",
                    70..=79 => "in_progress",
                    80..=86 => "postponed",
                    87..=93 => "cancelled",
                    _ => "superseded",
                },
                (Some(earliest), Some(_)) if earliest > today => {
                    if rng.chance(50) {
                        "planned"
                    } else {
                        "scheduled"
                    }
                }
                _ => "in_progress",
            };
            let id = rng.uuid();
            let row = ObligationRow {
                id: id.clone(),
                programme_id: Some(facts.id.clone()),
                section_id: Some(facts.sections[section].clone()),
                meeting_id: None,
                decision_id: None,
                number: number.clone(),
                position: k as i32 + 1,
                search_text: crate::store::obligations::search_text(&number, &item_text),
                text: item_text,
                kind: kind.to_string(),
                firmness: match rng.below(10) {
                    0..=5 => "binding",
                    6..=8 => "best_effort",
                    _ => "to_be_agreed",
                }
                .to_string(),
                quantities: None,
                cost_terms: None,
                timeframe_kind: timeframe.kind.as_str().to_string(),
                timeframe_text: timeframe.source.clone(),
                earliest: timeframe.earliest,
                latest: timeframe.latest,
                recurrence: yearly.then(|| "yearly".to_string()),
                lifecycle: lifecycle.to_string(),
                version: 1,
                created_at: at,
                updated_at: at,
            };
            // The occurrences the store would derive (store::obligations::sync_occurrences).
            let occurrences = if yearly {
                yearly_occurrences(&timeframe, facts.period)
            } else {
                Vec::new()
            };
            let years = occurrences
                .first()
                .zip(occurrences.last())
                .map(|(f, l)| (f.year, l.year));
            for o in occurrences {
                occurrence_rows.push(OccurrenceRow {
                    obligation_id: id.clone(),
                    year: o.year,
                    earliest: o.earliest,
                    latest: o.latest,
                });
            }
            let lead_organisation = *rng.pick(&a.organisations);
            let partner_organisation = *rng.pick(&b.organisations);
            for (organisation, party, role) in [
                (lead_organisation, lead_party, "lead"),
                (partner_organisation, partner_party, "co_executor"),
            ] {
                assignment_rows.push(AssignmentRow {
                    id: rng.uuid(),
                    obligation_id: id.clone(),
                    organisation_id: organisation_facts[organisation].id.clone(),
                    party_id: party_facts[party].id.clone(),
                    role: role.to_string(),
                });
            }
            obligation_facts.push(ObligationFacts {
                id,
                programme,
                lead_organisation,
                partner_organisation,
                start: timeframe.earliest.unwrap_or(facts.period.start),
                end: timeframe.latest.unwrap_or(facts.period.end),
                years,
            });
            obligation_rows.push(row);
        }
        conn.transaction(|conn| -> anyhow::Result<()> {
            insert_batches!(conn, obligations, obligation_rows, 22, bar);
            insert_batches!(conn, assignments, assignment_rows, 5, bar);
            insert_batches!(conn, obligation_occurrences, occurrence_rows, 4, bar);
            Ok(())
        })?;
        obligation_count += obligation_rows.len();
        assignment_count += assignment_rows.len();
        occurrence_count += occurrence_rows.len();
        next = end;
    }
    summary.tables.push(("obligations", obligation_count));
    summary.tables.push(("assignments", assignment_count));
    summary
        .tables
        .push(("obligation_occurrences", occurrence_count));

    // Events across many zones: single timed events, all-day dates, months
    // (approximate), weekly and monthly series; some cancelled.
    bar.stage("events");
    let mut rng = Rng::new(seed, "events");
    let (mut event_count, mut organiser_count, mut link_count) = (0, 0, 0);
    // Series so far: one in five has an occurrence cancelled.
    let mut series = 0usize;
    let slice = 10_000;
    let mut next = 0;
    while next < sizes.events {
        let end = (next + slice).min(sizes.events);
        let mut event_rows = Vec::with_capacity(end - next);
        let mut organiser_rows = Vec::new();
        let mut link_rows = Vec::new();
        for _ in next..end {
            let guest = rng.below(party_facts.len());
            let host = (guest + 1 + rng.below(party_facts.len() - 1)) % party_facts.len();
            let (g, h) = (&party_facts[guest], &party_facts[host]);
            let (kind, en, ru) = *rng.pick(EVENT_KINDS);
            let (zone_name, city) = if rng.chance(60) {
                (h.zone, h.city)
            } else {
                *rng.pick(EVENT_ZONES)
            };
            let day = date(
                2000 + rng.below(28) as i32,
                1 + rng.below(12) as u32,
                1 + rng.below(28) as u32,
            )?;
            let id = rng.uuid();
            let mut row = EventRow {
                id: id.clone(),
                key: None,
                title: text(
                    &en.replace("{g}", g.en).replace("{h}", h.en),
                    &ru.replace("{g}", g.ru).replace("{h}", h.ru),
                )?,
                kind: kind.to_string(),
                status: String::new(),
                schedule: String::new(),
                timeframe_kind: String::new(),
                timeframe_text: String::new(),
                earliest: None,
                latest: None,
                start_local: None,
                end_local: None,
                time_zone: None,
                starts_at: None,
                ends_at: None,
                tzdata_version: None,
                recurrence: None,
                host_party_id: Some(h.id.clone()),
                guest_party_id: Some(g.id.clone()),
                city: Some(city.to_string()),
                venue: Some(format!("{city} Concert Hall")),
                source: None,
                note: None,
                sequence: 0,
                version: 1,
                created_at: at,
                updated_at: at,
                exdates: None,
            };
            match rng.below(100) {
                0..=54 => timed_into(&mut row, day, zone_name, None, false, &mut rng)?,
                55..=69 => {
                    // All-day: one date or a few days, as days of culture are.
                    let days = rng.below(5) as i64;
                    let when = if days == 0 {
                        day.to_string()
                    } else {
                        format!("{day}..{}", day + Duration::days(days))
                    };
                    dated_into(&mut row, &when)?;
                }
                70..=79 => {
                    let when = if rng.chance(50) {
                        format!("{}-{:02}", day.year(), day.month())
                    } else {
                        day.year().to_string()
                    };
                    dated_into(&mut row, &when)?;
                }
                80..=91 => {
                    let rule = format!("FREQ=WEEKLY;COUNT={}", 4 + rng.below(9));
                    series += 1;
                    let cancelled = series % 5 == 1;
                    timed_into(&mut row, day, zone_name, Some(&rule), cancelled, &mut rng)?;
                }
                _ => {
                    let rule = format!("FREQ=MONTHLY;COUNT={}", 6 + rng.below(7));
                    series += 1;
                    let cancelled = series % 5 == 1;
                    timed_into(&mut row, day, zone_name, Some(&rule), cancelled, &mut rng)?;
                }
            }
            let past = row.latest.is_some_and(|l| l < at.date());
            row.status = match (rng.below(100), past) {
                (0..=5, _) => "cancelled",
                (6..=8, _) => "postponed",
                (_, true) => "held",
                (9..=50, false) => "tentative",
                (_, false) => "confirmed",
            }
            .to_string();
            organiser_rows.push(EventOrganisationRow {
                event_id: id.clone(),
                organisation_id: organisation_facts[*rng.pick(&h.organisations)].id.clone(),
                role: "organiser".to_string(),
            });
            if rng.chance(50) {
                organiser_rows.push(EventOrganisationRow {
                    event_id: id.clone(),
                    organisation_id: organisation_facts[*rng.pick(&g.organisations)].id.clone(),
                    role: "participant".to_string(),
                });
            }
            if rng.chance(30) {
                link_rows.push(EventObligationRow {
                    event_id: id.clone(),
                    obligation_id: obligation_facts[rng.below(obligation_facts.len())]
                        .id
                        .clone(),
                });
            }
            event_rows.push(row);
        }
        conn.transaction(|conn| -> anyhow::Result<()> {
            insert_batches!(conn, events, event_rows, 28, bar);
            insert_batches!(conn, event_organisations, organiser_rows, 3, bar);
            insert_batches!(conn, event_obligations, link_rows, 2, bar);
            Ok(())
        })?;
        event_count += event_rows.len();
        organiser_count += organiser_rows.len();
        link_count += link_rows.len();
        next = end;
    }
    summary.tables.push(("events", event_count));
    summary
        .tables
        .push(("event_organisations", organiser_count));
    summary.tables.push(("event_obligations", link_count));

    // Status reports: append-only history, the two parties of each item taking
    // turns over the years, completion rising from not started to complete.
    bar.stage("status reports");
    let mut rng = Rng::new(seed, "status_reports");
    let rounds = sizes.status_reports.div_ceil(sizes.obligations).max(1);
    let mut report_count = 0;
    let slice = 50_000;
    let mut next = 0;
    while next < sizes.status_reports {
        let end = (next + slice).min(sizes.status_reports);
        let mut report_rows = Vec::with_capacity(end - next);
        for j in next..end {
            let o = &obligation_facts[j % obligation_facts.len()];
            let round = j / obligation_facts.len();
            let facts = &programme_facts[o.programme];
            let (party, organisation) = if round % 2 == 0 {
                (facts.parties[0], o.lead_organisation)
            } else {
                (facts.parties[1], o.partner_organisation)
            };
            // Reports spread from the item's start to a little after its end.
            let span = (o.end - o.start).num_days().max(1) + 60;
            let as_of = o.start + Duration::days(span * (round as i64 + 1) / (rounds as i64 + 1));
            let level = (round / 2 + rng.below(2)).min(4);
            let (completion, lifecycle) = match level {
                0 => ("not_started", "planned"),
                1 => ("limited", "in_progress"),
                2 => ("substantial", "in_progress"),
                3 => ("complete", "completed"),
                _ => ("complete", "completed"),
            };
            let completion = if rng.chance(3) {
                "no_evidence"
            } else {
                completion
            };
            let reported_at = as_of.and_hms_opt(9, 0, 0).unwrap_or_default()
                + Duration::seconds(rng.below(8 * 3600) as i64);
            report_rows.push(StatusReportRow {
                id: rng.uuid(),
                obligation_id: o.id.clone(),
                party_id: party_facts[party].id.clone(),
                lifecycle: lifecycle.to_string(),
                completion: completion.to_string(),
                narrative: Some(text(
                    &format!(
                        "Report {} on the item: work is {}",
                        round + 1,
                        completion.replace('_', " ")
                    ),
                    &format!("Отчёт {} по пункту: выполнение — {}", round + 1, completion),
                )?),
                as_of,
                reported_at,
                reporter: organisation_facts[organisation].focal_point_email.clone(),
                decision_id: None,
                occurrence_year: o.years.map(|(first, last)| as_of.year().clamp(first, last)),
            });
        }
        conn.transaction(|conn| -> anyhow::Result<()> {
            insert_batches!(conn, status_reports, report_rows, 11, bar);
            Ok(())
        })?;
        report_count += report_rows.len();
        next = end;
    }
    summary.tables.push(("status_reports", report_count));
    // Plans on the generated data as on a database that grew to this size.
    crate::db::analyze(conn)?;
    bar.finish();
    Ok(summary)
}

/// The programme of the i-th obligation and its place in it. The first
/// programme is large (a twentieth of all items: 10,000 with 50,000 reports at
/// full scale, the size issue 7 measures roll-ups on); the others share the
/// rest evenly.
pub fn programme_of(i: usize, sizes: &Sizes) -> (usize, usize) {
    let large = if sizes.programmes > 1 {
        sizes.obligations / 20
    } else {
        sizes.obligations
    };
    if i < large {
        return (0, i);
    }
    let others = sizes.programmes - 1;
    let j = i - large;
    (1 + j % others, j / others)
}

/// An event on a day (all-day) or in a month or year (approximate), as the
/// API stores `when` (api::events::schedule_into).
fn dated_into(row: &mut EventRow, when: &str) -> anyhow::Result<()> {
    let t = Timeframe::parse(when, None).map_err(|e| anyhow::anyhow!("event `{when}`: {e}"))?;
    row.schedule = match t.kind {
        TimeframeKind::Date | TimeframeKind::Range => "all_day",
        _ => "approximate",
    }
    .to_string();
    row.timeframe_kind = t.kind.as_str().to_string();
    row.timeframe_text = t.source;
    row.earliest = t.earliest;
    row.latest = t.latest;
    Ok(())
}

/// A timed event in its zone, with its UTC instants and tzdata version as
/// the API computes them (api::events::timed_into), and for a series its
/// rule as stored and the days it spans (api::events::recurrence_into).
fn timed_into(
    row: &mut EventRow,
    day: NaiveDate,
    zone_name: &str,
    rule: Option<&str>,
    cancel_second: bool,
    rng: &mut Rng,
) -> anyhow::Result<()> {
    let zone = parse_zone(zone_name).map_err(anyhow::Error::msg)?;
    let hour = *rng.pick(&[10, 11, 15, 18, 19]);
    let start_local = day
        .and_hms_opt(hour, if rng.chance(50) { 0 } else { 30 }, 0)
        .unwrap_or_default();
    let hours = if rng.chance(80) { 2 } else { 3 };
    let end_local = start_local + Duration::hours(hours);
    let starts_at = resolve_local(start_local, zone, None)?;
    let ends_at = resolve_local(end_local, zone, None)?;
    row.schedule = "timed".to_string();
    row.timeframe_kind = TimeframeKind::Date.as_str().to_string();
    row.timeframe_text = start_local.format("%Y-%m-%dT%H:%M").to_string();
    row.earliest = Some(day);
    row.latest = Some(day);
    row.start_local = Some(start_local);
    row.end_local = Some(end_local);
    row.time_zone = Some(zone.name().to_string());
    row.starts_at = Some(starts_at.naive_utc());
    row.ends_at = Some(ends_at.naive_utc());
    row.tzdata_version = Some(tzdata_version().to_string());
    if let Some(rule) = rule {
        let start =
            crate::api::events::series_start(row).context("a timed event has a series start")?;
        // The second occurrence cancelled (EXDATE), as happens to series.
        let exdates: Vec<String> = if cancel_second {
            let second = if rule.contains("WEEKLY") {
                start_local + Duration::days(7)
            } else {
                start_local
                    .checked_add_months(chrono::Months::new(1))
                    .context("a month after the start")?
            };
            vec![RecurrenceId::from_local(second, false).to_string()]
        } else {
            Vec::new()
        };
        let series = Series::new(start, Some(rule), &exdates)
            .map_err(|errors| anyhow::anyhow!("generated rule {rule}: {errors:?}"))?;
        row.recurrence = series.rule().map(str::to_string);
        let stored: Vec<String> = series.exdates().iter().map(|d| d.to_string()).collect();
        if !stored.is_empty() {
            row.exdates = Some(serde_json::to_string(&stored)?);
        }
        let (earliest, latest) = series.span(&[]);
        row.earliest = Some(earliest);
        row.latest = Some(latest);
    }
    Ok(())
}
