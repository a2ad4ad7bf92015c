//! The closed vocabularies of the domain. Each is stored as its snake_case
//! name (the migrations CHECK the same lists) and crosses the API the same way.

use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// For error messages: "one of: a, b, c".
            pub fn expected() -> String {
                format!("one of: {}", [$($text),+].join(", "))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        // Written out because the derive would publish the Rust variant names,
        // not the words that cross the API.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}
pub(crate) use vocabulary;

vocabulary!(
    /// What an organisation is.
    OrganisationKind {
        Ministry = "ministry",
        Department = "department",
        Agency = "agency",
        Theatre = "theatre",
        Museum = "museum",
        Library = "library",
        FilmStudio = "film_studio",
        University = "university",
        ConcertAgency = "concert_agency",
        Embassy = "embassy",
        CulturalCentre = "cultural_centre",
        Other = "other",
    }
);

vocabulary!(
    /// A contact's part in the work, and in escalation (focal point, then deputy, then secretariat).
    ContactRole {
        FocalPoint = "focal_point",
        Deputy = "deputy",
        Secretariat = "secretariat",
        Other = "other",
    }
);

vocabulary!(
    /// How a contact wants to hear about what is due.
    NotificationMode {
        Immediate = "immediate",
        DailyDigest = "daily_digest",
        WeeklyDigest = "weekly_digest",
    }
);

vocabulary!(
    AgreementKind {
        Agreement = "agreement",
        Treaty = "treaty",
        Memorandum = "memorandum",
        Protocol = "protocol",
        Roadmap = "roadmap",
    }
);

vocabulary!(
    /// Who signed on each side: governments, ministries, regions, cities, institutions.
    AgreementLevel {
        Intergovernmental = "intergovernmental",
        Interministerial = "interministerial",
        Regional = "regional",
        Municipal = "municipal",
        Institutional = "institutional",
    }
);

vocabulary!(
    BodyKind {
        Commission = "commission",
        SubCommission = "sub_commission",
        WorkingGroup = "working_group",
        Board = "board",
    }
);

vocabulary!(
    MeetingStatus {
        Planned = "planned",
        Held = "held",
        Postponed = "postponed",
        Cancelled = "cancelled",
    }
);

vocabulary!(
    /// What a decision of a meeting does to obligations.
    DecisionKind {
        Create = "create",
        Amend = "amend",
        Postpone = "postpone",
        Cancel = "cancel",
        Supersede = "supersede",
        Close = "close",
        Note = "note",
    }
);

vocabulary!(
    ObligationKind {
        DaysOfCulture = "days_of_culture",
        Tour = "tour",
        Festival = "festival",
        Exhibition = "exhibition",
        FilmWeek = "film_week",
        ExchangeOfDelegations = "exchange_of_delegations",
        InformationExchange = "information_exchange",
        Consultation = "consultation",
        Concert = "concert",
        Conference = "conference",
        Training = "training",
        CoProduction = "co_production",
        Publication = "publication",
        Other = "other",
    }
);

vocabulary!(
    /// How firmly the parties promised.
    Firmness {
        Binding = "binding",
        BestEffort = "best_effort",
        ToBeAgreed = "to_be_agreed",
    }
);

vocabulary!(
    /// What an organisation does for an obligation.
    AssignmentRole {
        Lead = "lead",
        CoExecutor = "co_executor",
        Sending = "sending",
        Hosting = "hosting",
        Funding = "funding",
    }
);

vocabulary!(
    /// Who pays for an item of cost: programmes write "the sending party pays
    /// international travel, the host pays accommodation".
    Payer {
        Sending = "sending",
        Hosting = "hosting",
        EachOwn = "each_own",
        Organiser = "organiser",
    }
);

vocabulary!(
    /// Recurrence of an obligation over its programme.
    ObligationRecurrence {
        Yearly = "yearly",
    }
);

vocabulary!(
    EventKind {
        DaysOfCulture = "days_of_culture",
        Tour = "tour",
        Premiere = "premiere",
        Exhibition = "exhibition",
        Festival = "festival",
        Concert = "concert",
        FilmWeek = "film_week",
        Forum = "forum",
        Opening = "opening",
        Meeting = "meeting",
        Conference = "conference",
        Other = "other",
    }
);

vocabulary!(
    EventStatus {
        Tentative = "tentative",
        Confirmed = "confirmed",
        Postponed = "postponed",
        Cancelled = "cancelled",
        Held = "held",
    }
);

vocabulary!(
    /// How precisely an event's time is known.
    EventSchedule {
        Approximate = "approximate",
        AllDay = "all_day",
        Timed = "timed",
    }
);

vocabulary!(
    EventOrganisationRole {
        Organiser = "organiser",
        Participant = "participant",
    }
);

vocabulary!(
    EvidenceKind {
        OfficialLetter = "official_letter",
        Protocol = "protocol",
        PressRelease = "press_release",
        Poster = "poster",
        Photo = "photo",
        Url = "url",
        File = "file",
    }
);

/// "A delegation of up to 5 persons for up to 7 days".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quantities {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_persons: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Who pays for what.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostTerms {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub international_travel: Option<Payer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accommodation: Option<Payer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_transport: Option<Payer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for kind in ObligationKind::ALL {
            assert_eq!(ObligationKind::parse(kind.as_str()), Some(*kind));
            assert_eq!(
                serde_json::to_string(kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        for s in EventStatus::ALL {
            assert_eq!(EventStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(AssignmentRole::parse("leader"), None);
        assert!(Firmness::expected().contains("best_effort"));
    }

    #[test]
    fn migrations_check_the_same_vocabularies() {
        // The CHECK constraints are written out in SQL; a word added here must be added there.
        let sql = include_str!("../../migrations/sqlite/2026-11-23-000001_foundation/up.sql");
        let pg = include_str!("../../migrations/postgres/2026-11-23-000001_foundation/up.sql");
        let check = |column: &str, words: Vec<&str>| {
            for schema in [sql, pg] {
                let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
                let list = format!("{column} IN ({})", quoted.join(","));
                assert!(schema.contains(&list), "missing CHECK: {list}");
            }
        };
        check(
            "kind",
            OrganisationKind::ALL.iter().map(|k| k.as_str()).collect(),
        );
        check(
            "role",
            ContactRole::ALL.iter().map(|k| k.as_str()).collect(),
        );
        check(
            "notifications",
            NotificationMode::ALL.iter().map(|k| k.as_str()).collect(),
        );
        check(
            "kind",
            AgreementKind::ALL.iter().map(|k| k.as_str()).collect(),
        );
        check(
            "level",
            AgreementLevel::ALL.iter().map(|k| k.as_str()).collect(),
        );
        check("kind", BodyKind::ALL.iter().map(|k| k.as_str()).collect());
        check(
            "status",
            MeetingStatus::ALL.iter().map(|k| k.as_str()).collect(),
        );
        check(
            "kind",
            DecisionKind::ALL.iter().map(|k| k.as_str()).collect(),
        );
        check(
            "kind",
            ObligationKind::ALL.iter().map(|k| k.as_str()).collect(),
        );
        check(
            "firmness",
            Firmness::ALL.iter().map(|k| k.as_str()).collect(),
        );
        check(
            "role",
            AssignmentRole::ALL.iter().map(|k| k.as_str()).collect(),
        );
        check("kind", EventKind::ALL.iter().map(|k| k.as_str()).collect());
        check(
            "status",
            EventStatus::ALL.iter().map(|k| k.as_str()).collect(),
        );
        check(
            "schedule",
            EventSchedule::ALL.iter().map(|k| k.as_str()).collect(),
        );
        check(
            "role",
            EventOrganisationRole::ALL
                .iter()
                .map(|k| k.as_str())
                .collect(),
        );
        check(
            "kind",
            EvidenceKind::ALL.iter().map(|k| k.as_str()).collect(),
        );
    }
}
