//! Who may do what: every authorisation decision of the API is made here, in
//! one pure function, so the whole matrix can be read and tested in one place.
//!
//! - admin: everything.
//! - secretariat: reads everything; writes reference data (organisations,
//!   contacts, agreements) and everything of the bodies it serves (their
//!   meetings, decisions, programmes, sections, items, events, reports).
//! - editor: reads everything; updates items assigned to its own organisation
//!   and reports on them for its own party only.
//! - viewer: reads everything.
//! - anonymous: reads parties, agreements and public programmes.

use serde::{Deserialize, Serialize};

use super::kinds::vocabulary;

vocabulary!(
    Role {
        Admin = "admin",
        Secretariat = "secretariat",
        Editor = "editor",
        Viewer = "viewer",
    }
);

/// A signed-in user, as far as access needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: String,
    pub username: String,
    pub role: Role,
    /// An editor's organisation (others may have one too).
    pub organisation_id: Option<String>,
    /// The party of that organisation: whose side an editor reports for.
    pub party_id: Option<String>,
    /// The bodies a secretariat serves.
    pub bodies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    User(Principal),
}

impl Caller {
    pub fn actor(&self) -> String {
        match self {
            Caller::Anonymous => "anonymous".to_string(),
            Caller::User(p) => format!("user:{}", p.username),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
}

/// What is being touched, with the facts that decide access.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Parties: names and zones of states; public; written by admins.
    Party,
    /// Agreements: public legal instruments.
    Agreement,
    /// Organisations and contacts (contacts hold personal data).
    Organisation,
    /// A body, or one of its meetings or decisions.
    Body { body_id: Option<&'a str> },
    /// A programme or one of its sections.
    Programme {
        body_id: Option<&'a str>,
        public: bool,
    },
    /// An item of a programme (or of a protocol: body of the meeting).
    Obligation {
        body_id: Option<&'a str>,
        public: bool,
        assigned: &'a [String],
    },
    /// A status report on an item, for one party.
    StatusReport {
        body_id: Option<&'a str>,
        public: bool,
        assigned: &'a [String],
        party_id: &'a str,
    },
    /// An event; `body_id` when it belongs to a body's programme or meeting.
    Event { body_id: Option<&'a str> },
    /// A reminder policy: the global one, or a programme's (`body_id`: the
    /// programme's body, whose secretariat sets it).
    ReminderPolicy {
        global: bool,
        body_id: Option<&'a str>,
    },
    /// The audit log.
    Audit,
    /// The outbox of notifications (recipients' addresses, delivery errors).
    Notifications,
    /// Users and their tokens.
    Users,
    /// A calendar feed URL: a read capability, so any signed-in user (who
    /// reads everything a feed shows) may make one; it is its maker's to see
    /// and revoke, and an admin's.
    CalendarFeed { created_by: Option<&'a str> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// Needs a token (401).
    Unauthenticated,
    /// Has a token, may not (403); the reason is shown to the caller.
    Forbidden(String),
}

pub fn authorise(caller: &Caller, action: Action, target: Target<'_>) -> Result<(), Denied> {
    let user = match caller {
        Caller::Anonymous => {
            let public = match target {
                Target::Party | Target::Agreement => true,
                Target::Programme { public, .. }
                | Target::Obligation { public, .. }
                | Target::StatusReport { public, .. } => public,
                _ => false,
            };
            return if action == Action::Read && public {
                Ok(())
            } else {
                Err(Denied::Unauthenticated)
            };
        }
        Caller::User(p) => p,
    };
    let forbid = |why: &str| Err(Denied::Forbidden(why.to_string()));
    if let Target::CalendarFeed { created_by } = target {
        return match action {
            Action::Create => Ok(()),
            _ if user.role == Role::Admin || created_by == Some(user.user_id.as_str()) => Ok(()),
            _ => forbid("a calendar feed is seen and revoked by the user who made it, or an admin"),
        };
    }
    if action == Action::Read {
        return match (target, user.role) {
            (Target::Audit, Role::Admin | Role::Secretariat) => Ok(()),
            (Target::Audit, _) => forbid("only admins and secretariats read the audit log"),
            (Target::Notifications, Role::Admin | Role::Secretariat) => Ok(()),
            (Target::Notifications, _) => {
                forbid("only admins and secretariats see the outbox of notifications")
            }
            (Target::Users, Role::Admin) => Ok(()),
            (Target::Users, _) => forbid("only admins manage users"),
            _ => Ok(()),
        };
    }
    if user.role == Role::Admin {
        return Ok(());
    }
    let serves =
        |body: Option<&str>| body.is_some_and(|b| user.bodies.iter().any(|mine| mine == b));
    let assigned_to_me = |assigned: &[String]| {
        user.organisation_id
            .as_ref()
            .is_some_and(|me| assigned.iter().any(|a| a == me))
    };
    match (user.role, target) {
        (Role::Viewer, _) => forbid("viewers read only"),
        (_, Target::Users) => forbid("only admins manage users"),
        (_, Target::Audit) => forbid("the audit log is written by the system only"),
        (_, Target::Notifications) => {
            forbid("notifications are written by the planner and the worker only")
        }
        (_, Target::Party) => forbid("only admins change parties"),
        // Decided above, before the role matters.
        (_, Target::CalendarFeed { .. }) => Ok(()),
        (Role::Secretariat, Target::Agreement | Target::Organisation) => Ok(()),
        (Role::Secretariat, Target::ReminderPolicy { global: true, .. }) => {
            forbid("only admins change the global reminder policy")
        }
        (Role::Secretariat, Target::ReminderPolicy { body_id, .. }) => {
            if serves(body_id) {
                Ok(())
            } else {
                forbid("this programme belongs to a body your secretariat does not serve")
            }
        }
        (Role::Secretariat, Target::Body { body_id } | Target::Event { body_id })
        | (Role::Secretariat, Target::Programme { body_id, .. } | Target::Obligation { body_id, .. })
        | (Role::Secretariat, Target::StatusReport { body_id, .. }) => {
            if serves(body_id) {
                Ok(())
            } else {
                forbid("this belongs to a body your secretariat does not serve")
            }
        }
        (Role::Editor, Target::Obligation { assigned, .. }) => {
            if action != Action::Update {
                forbid("editors update the items of their organisation; they do not create or delete items")
            } else if assigned_to_me(assigned) {
                Ok(())
            } else {
                forbid("this item is not assigned to your organisation")
            }
        }
        (Role::Editor, Target::StatusReport { assigned, party_id, .. }) => {
            if !assigned_to_me(assigned) {
                forbid("this item is not assigned to your organisation")
            } else if user.party_id.as_deref() != Some(party_id) {
                forbid("editors report only for their own party")
            } else {
                Ok(())
            }
        }
        (Role::Editor, _) => forbid("editors change only the items assigned to their organisation and their own party's reports"),
        (Role::Admin, _) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, org: Option<&str>, party: Option<&str>, bodies: &[&str]) -> Caller {
        Caller::User(Principal {
            user_id: "u".into(),
            username: "u".into(),
            role,
            organisation_id: org.map(str::to_string),
            party_id: party.map(str::to_string),
            bodies: bodies.iter().map(|b| b.to_string()).collect(),
        })
    }

    /// Expected outcome: 'y' allowed, 'u' unauthenticated, 'f' forbidden.
    fn check(caller: &Caller, action: Action, target: Target<'_>, want: char) {
        let got = match authorise(caller, action, target) {
            Ok(()) => 'y',
            Err(Denied::Unauthenticated) => 'u',
            Err(Denied::Forbidden(_)) => 'f',
        };
        assert_eq!(got, want, "{caller:?} {action:?} {target:?}");
    }

    #[test]
    fn the_permission_matrix() {
        let kz_org = vec!["kz-mci".to_string()];
        let ru_org = vec!["ru-mkrf".to_string()];
        let anonymous = Caller::Anonymous;
        let admin = user(Role::Admin, None, None, &[]);
        let secretariat = user(Role::Secretariat, None, None, &["kz-ru-sc"]);
        let other_secretariat = user(Role::Secretariat, None, None, &["kg-ru"]);
        let kz_editor = user(Role::Editor, Some("kz-mci"), Some("KZ"), &[]);
        let viewer = user(Role::Viewer, None, None, &[]);
        let body = Some("kz-ru-sc");
        let public_programme = Target::Programme {
            body_id: body,
            public: true,
        };
        let private_programme = Target::Programme {
            body_id: body,
            public: false,
        };
        let kz_item = Target::Obligation {
            body_id: body,
            public: false,
            assigned: &kz_org,
        };
        let ru_item = Target::Obligation {
            body_id: body,
            public: false,
            assigned: &ru_org,
        };
        let kz_report_on_kz_item = Target::StatusReport {
            body_id: body,
            public: false,
            assigned: &kz_org,
            party_id: "KZ",
        };
        let ru_report_on_kz_item = Target::StatusReport {
            body_id: body,
            public: false,
            assigned: &kz_org,
            party_id: "RU",
        };
        let kz_report_on_ru_item = Target::StatusReport {
            body_id: body,
            public: false,
            assigned: &ru_org,
            party_id: "KZ",
        };
        use Action::*;
        let rows: Vec<(Action, Target<'_>, [char; 6])> = vec![
            //                                   anon  admin secr  other kzed  viewer
            (Read, public_programme, ['y', 'y', 'y', 'y', 'y', 'y']),
            (Read, private_programme, ['u', 'y', 'y', 'y', 'y', 'y']),
            (Update, private_programme, ['u', 'y', 'y', 'f', 'f', 'f']),
            (Create, kz_item, ['u', 'y', 'y', 'f', 'f', 'f']),
            (Update, kz_item, ['u', 'y', 'y', 'f', 'y', 'f']),
            (Update, ru_item, ['u', 'y', 'y', 'f', 'f', 'f']),
            (Delete, kz_item, ['u', 'y', 'y', 'f', 'f', 'f']),
            (Create, kz_report_on_kz_item, ['u', 'y', 'y', 'f', 'y', 'f']),
            (Create, ru_report_on_kz_item, ['u', 'y', 'y', 'f', 'f', 'f']),
            (Create, kz_report_on_ru_item, ['u', 'y', 'y', 'f', 'f', 'f']),
            (Read, Target::Party, ['y', 'y', 'y', 'y', 'y', 'y']),
            (Update, Target::Party, ['u', 'y', 'f', 'f', 'f', 'f']),
            (Read, Target::Agreement, ['y', 'y', 'y', 'y', 'y', 'y']),
            (Create, Target::Agreement, ['u', 'y', 'y', 'y', 'f', 'f']),
            (Read, Target::Organisation, ['u', 'y', 'y', 'y', 'y', 'y']),
            (Update, Target::Organisation, ['u', 'y', 'y', 'y', 'f', 'f']),
            (
                Update,
                Target::Body { body_id: body },
                ['u', 'y', 'y', 'f', 'f', 'f'],
            ),
            (
                Read,
                Target::ReminderPolicy {
                    global: true,
                    body_id: None,
                },
                ['u', 'y', 'y', 'y', 'y', 'y'],
            ),
            (
                Update,
                Target::ReminderPolicy {
                    global: true,
                    body_id: None,
                },
                ['u', 'y', 'f', 'f', 'f', 'f'],
            ),
            (
                Read,
                Target::ReminderPolicy {
                    global: false,
                    body_id: body,
                },
                ['u', 'y', 'y', 'y', 'y', 'y'],
            ),
            (
                Update,
                Target::ReminderPolicy {
                    global: false,
                    body_id: body,
                },
                ['u', 'y', 'y', 'f', 'f', 'f'],
            ),
            (
                Delete,
                Target::ReminderPolicy {
                    global: false,
                    body_id: None,
                },
                ['u', 'y', 'f', 'f', 'f', 'f'],
            ),
            (
                Create,
                Target::Event { body_id: None },
                ['u', 'y', 'f', 'f', 'f', 'f'],
            ),
            (Read, Target::Audit, ['u', 'y', 'y', 'y', 'f', 'f']),
            (Read, Target::Notifications, ['u', 'y', 'y', 'y', 'f', 'f']),
            (
                Update,
                Target::Notifications,
                ['u', 'y', 'f', 'f', 'f', 'f'],
            ),
            (Read, Target::Users, ['u', 'y', 'f', 'f', 'f', 'f']),
            (Create, Target::Users, ['u', 'y', 'f', 'f', 'f', 'f']),
        ];
        let callers = [
            &anonymous,
            &admin,
            &secretariat,
            &other_secretariat,
            &kz_editor,
            &viewer,
        ];
        for (action, target, wants) in rows {
            for (caller, want) in callers.iter().zip(wants) {
                check(caller, action, target, want);
            }
        }
    }

    #[test]
    fn reasons_say_why() {
        let kz_org = vec!["kz-mci".to_string()];
        let kz_editor = user(Role::Editor, Some("kz-mci"), Some("KZ"), &[]);
        let err = authorise(
            &kz_editor,
            Action::Create,
            Target::StatusReport {
                body_id: None,
                public: true,
                assigned: &kz_org,
                party_id: "RU",
            },
        )
        .unwrap_err();
        assert_eq!(
            err,
            Denied::Forbidden("editors report only for their own party".into())
        );
    }

    #[test]
    fn calendar_feeds_are_their_makers_and_admins() {
        let admin = user(Role::Admin, None, None, &[]);
        let viewer = user(Role::Viewer, None, None, &[]);
        let other = user(Role::Secretariat, None, None, &["kz-ru-sc"]);
        let mine = Target::CalendarFeed {
            created_by: Some("u"),
        };
        let theirs = Target::CalendarFeed {
            created_by: Some("someone-else"),
        };
        check(&Caller::Anonymous, Action::Create, mine, 'u');
        check(&Caller::Anonymous, Action::Read, mine, 'u');
        for caller in [&admin, &viewer, &other] {
            check(caller, Action::Create, mine, 'y');
            check(caller, Action::Read, mine, 'y');
            check(caller, Action::Delete, mine, 'y');
        }
        check(&admin, Action::Delete, theirs, 'y');
        check(&viewer, Action::Read, theirs, 'f');
        check(&viewer, Action::Delete, theirs, 'f');
        check(&other, Action::Delete, theirs, 'f');
    }
}
