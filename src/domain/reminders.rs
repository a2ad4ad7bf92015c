//! When to remind whom of a due date (DESIGN.md "Reminder policy"), as pure
//! rules: the days a notice goes out, the instant of each in the recipient's
//! zone, who is told as an item stays overdue, where digests gather, and the
//! dedupe key that makes every notice be written once whoever plans it.
//!
//! Days, not instants, are the unit: a due date is a date, and a notice goes
//! out on a day at the policy's hour in the recipient's own zone. A day is
//! named by its distance to the due date (`days_before`: 7 a week before, 0 on
//! the day, -3 three days overdue); that distance, not the policy's offset, is
//! in the dedupe key, so two offsets that weekend skipping moves onto the
//! same Friday give one notice, not two.
//!
//! The dedupe key names policy x field x item x occurrence x due date x days
//! before x recipient. The due date is in it so that an item moved to a new
//! date gets fresh notices. When the item moves back, its old rows (cancelled
//! when it moved, never sent) are the same keys again: the planner revives
//! such a row (cancelled, never sent: back to pending, with its Message-ID)
//! rather than writing a second row or leaving it cancelled. A row that was
//! sent is never revived and never written twice.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::kinds::{vocabulary, NotificationMode};
use super::recurrence::occurrence_instant;

vocabulary!(
    /// The dated fields a policy reminds of.
    ReminderField {
        ObligationDue = "obligation_due",
        ObligationEarliest = "obligation_earliest",
        EventStart = "event_start",
        LeadTime = "lead_time",
        AgreementNotice = "agreement_notice",
        Meeting = "meeting",
    }
);

/// The id of the global policy, stored or not: the same in dedupe keys
/// whether the defaults apply or an admin wrote them down.
pub const GLOBAL_POLICY_ID: &str = "global";

/// The most days before a due date an offset may be.
pub const MAX_OFFSET: i64 = 365;
/// The most days any of the day counts of a policy may be.
pub const MAX_DAYS: i64 = 365;

/// How and when to remind (a programme's, or the global one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Days before the due date, largest first, each once.
    pub offsets: Vec<i64>,
    pub fields: Vec<ReminderField>,
    /// Overdue items are reminded the day after the due date and then every
    /// this many days; 0: only that once.
    pub overdue_every_days: i64,
    /// Deputies are told too once an item is this many days overdue.
    pub deputies_after_days: i64,
    /// The secretariat is told once an item is this many days overdue.
    pub secretariat_after_days: i64,
    /// Local hour (0-23) in the recipient's zone.
    pub send_hour: u32,
    /// No notices on Saturdays and Sundays: one before the due date goes on
    /// the Friday before, an overdue one on the Monday after.
    pub skip_weekends: bool,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            offsets: vec![30, 7, 1, 0],
            fields: ReminderField::ALL.to_vec(),
            overdue_every_days: 7,
            deputies_after_days: 7,
            secretariat_after_days: 14,
            send_hour: 9,
            skip_weekends: true,
        }
    }
}

impl Policy {
    pub fn reminds_of(&self, field: ReminderField) -> bool {
        self.fields.contains(&field)
    }

    pub fn max_offset(&self) -> i64 {
        self.offsets.iter().copied().max().unwrap_or(0)
    }
}

/// A policy as a request gives it, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDraft {
    pub offsets: Vec<i64>,
    pub fields: Vec<String>,
    pub overdue_every_days: i64,
    pub deputies_after_days: i64,
    pub secretariat_after_days: i64,
    pub send_hour: i64,
    pub skip_weekends: bool,
}

/// A rejected value: the field (`offsets[2]`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub field: String,
    pub reason: String,
}

impl PolicyError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> PolicyError {
        PolicyError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Checks a draft; every problem names its field.
pub fn check(draft: &PolicyDraft) -> Result<Policy, Vec<PolicyError>> {
    let mut errors = Vec::new();
    let mut offsets: Vec<i64> = Vec::new();
    for (i, &offset) in draft.offsets.iter().enumerate() {
        if !(0..=MAX_OFFSET).contains(&offset) {
            errors.push(PolicyError::new(
                format!("offsets[{i}]"),
                format!("{offset} is out of range: 0 to {MAX_OFFSET} days before the due date"),
            ));
        } else if offsets.contains(&offset) {
            errors.push(PolicyError::new(
                format!("offsets[{i}]"),
                format!("{offset} is given twice"),
            ));
        } else {
            offsets.push(offset);
        }
    }
    offsets.sort_unstable_by(|a, b| b.cmp(a));
    let mut fields: Vec<ReminderField> = Vec::new();
    for (i, name) in draft.fields.iter().enumerate() {
        match ReminderField::parse(name) {
            Some(f) if fields.contains(&f) => errors.push(PolicyError::new(
                format!("fields[{i}]"),
                format!("`{name}` is given twice"),
            )),
            Some(f) => fields.push(f),
            None => errors.push(PolicyError::new(
                format!("fields[{i}]"),
                format!(
                    "`{name}` is not a dated field: {}",
                    ReminderField::expected()
                ),
            )),
        }
    }
    // In the vocabulary's order, so that equal policies compare equal.
    fields.sort_unstable();
    for (field, value) in [
        ("overdue_every_days", draft.overdue_every_days),
        ("deputies_after_days", draft.deputies_after_days),
        ("secretariat_after_days", draft.secretariat_after_days),
    ] {
        if !(0..=MAX_DAYS).contains(&value) {
            errors.push(PolicyError::new(
                field,
                format!("{value} is out of range: 0 to {MAX_DAYS} days"),
            ));
        }
    }
    let send_hour = match u32::try_from(draft.send_hour) {
        Ok(h) if h <= 23 => h,
        _ => {
            errors.push(PolicyError::new(
                "send_hour",
                format!("{} is not an hour of the day: 0 to 23", draft.send_hour),
            ));
            0
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Policy {
        offsets,
        fields,
        overdue_every_days: draft.overdue_every_days,
        deputies_after_days: draft.deputies_after_days,
        secretariat_after_days: draft.secretariat_after_days,
        send_hour,
        skip_weekends: draft.skip_weekends,
    })
}

/// A day a notice about a due date goes out (a local date of the recipient).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    pub day: NaiveDate,
    /// Days from `day` to the due date: positive before it, 0 on the day,
    /// negative when overdue.
    pub days_before: i64,
}

impl Slot {
    fn on(day: NaiveDate, due: NaiveDate) -> Slot {
        Slot {
            day,
            days_before: due.signed_duration_since(day).num_days(),
        }
    }

    pub fn is_overdue(&self) -> bool {
        self.days_before < 0
    }
}

/// A Saturday or Sunday moved to the Friday before.
fn back_to_friday(day: NaiveDate) -> NaiveDate {
    match day.weekday() {
        Weekday::Sat => day - Days::new(1),
        Weekday::Sun => day - Days::new(2),
        _ => day,
    }
}

/// A Saturday or Sunday moved to the Monday after.
fn on_to_monday(day: NaiveDate) -> NaiveDate {
    match day.weekday() {
        Weekday::Sat => day + Days::new(2),
        Weekday::Sun => day + Days::new(1),
        _ => day,
    }
}

fn days(n: i64) -> Days {
    Days::new(n.unsigned_abs())
}

fn plus(day: NaiveDate, n: i64) -> Option<NaiveDate> {
    if n >= 0 {
        day.checked_add_days(days(n))
    } else {
        day.checked_sub_days(days(n))
    }
}

fn push_unique(slots: &mut Vec<Slot>, slot: Slot) {
    if !slots.iter().any(|s| s.day == slot.day) {
        slots.push(slot);
    }
}

/// The days before (and on) the due date a notice goes out, within
/// [from, to], by day. With weekends skipped a Saturday or Sunday becomes the
/// Friday before: earlier, never after the due date; two offsets that land on
/// the same Friday give one day.
pub fn before_due(due: NaiveDate, policy: &Policy, from: NaiveDate, to: NaiveDate) -> Vec<Slot> {
    let mut slots = Vec::new();
    for &offset in &policy.offsets {
        let Some(day) = plus(due, -offset) else {
            continue;
        };
        let day = if policy.skip_weekends {
            back_to_friday(day)
        } else {
            day
        };
        if (from..=to).contains(&day) {
            push_unique(&mut slots, Slot::on(day, due));
        }
    }
    slots.sort();
    slots
}

/// The days an overdue item's responsible people are reminded, within [from,
/// to], by day: the day after the due date, then every `overdue_every_days`
/// (0: that once). With weekends skipped a Saturday or Sunday becomes the
/// Monday after (two that meet on a Monday give one day).
pub fn overdue(due: NaiveDate, policy: &Policy, from: NaiveDate, to: NaiveDate) -> Vec<Slot> {
    let Some(first) = due.succ_opt() else {
        return Vec::new();
    };
    let step = policy.overdue_every_days;
    // A nominal day at most two days before `from` can still be moved into it.
    let k0 = if step > 0 {
        (from.signed_duration_since(first).num_days() - 2).max(0) / step
    } else {
        0
    };
    let mut slots = Vec::new();
    let mut k = k0;
    while let Some(day) = plus(first, k.saturating_mul(step)) {
        if day > to {
            break;
        }
        let moved = if policy.skip_weekends {
            on_to_monday(day)
        } else {
            day
        };
        if (from..=to).contains(&moved) {
            push_unique(&mut slots, Slot::on(moved, due));
        }
        if step == 0 {
            break;
        }
        k += 1;
    }
    slots
}

/// Day 0 of the secretariat's rhythm, a Monday: every programme's escalations
/// fall on the same days, so one email lists all the items overdue by then.
const ESCALATION_EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(2001, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// The days the secretariat hears about an overdue item, within [from, to]:
/// once it is `secretariat_after_days` overdue (at least one day), on the days
/// of a rhythm of `overdue_every_days` common to every item (every Monday with
/// the default 7), so that each escalation lists every item overdue enough by
/// then. With `overdue_every_days` 0, once, on the first day it is overdue
/// enough. Weekends move to the Monday after.
pub fn escalation(due: NaiveDate, policy: &Policy, from: NaiveDate, to: NaiveDate) -> Vec<Slot> {
    let Some(first) = plus(due, policy.secretariat_after_days.max(1)) else {
        return Vec::new();
    };
    let shift = |d: NaiveDate| {
        if policy.skip_weekends {
            on_to_monday(d)
        } else {
            d
        }
    };
    let step = policy.overdue_every_days;
    let mut slots = Vec::new();
    if step == 0 {
        let day = shift(first);
        if (from..=to).contains(&day) {
            slots.push(Slot::on(day, due));
        }
        return slots;
    }
    // The first day of the rhythm on or after both `first` and `from` - 2.
    let start = first.max(from - Days::new(2));
    let past = start
        .signed_duration_since(ESCALATION_EPOCH)
        .num_days()
        .rem_euclid(step);
    let Some(mut day) = plus(start, if past == 0 { 0 } else { step - past }) else {
        return slots;
    };
    while day <= to {
        let moved = shift(day);
        if (from..=to).contains(&moved) {
            push_unique(&mut slots, Slot::on(moved, due));
        }
        match plus(day, step) {
            Some(next) => day = next,
            None => break,
        }
    }
    slots
}

/// Who is told about an item on a day (each level includes the ones before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    FocalPoints,
    Deputies,
    Secretariat,
}

/// The escalation level of an item `days_overdue` days overdue (0 or less:
/// not overdue): focal points; with deputies once `deputies_after_days`
/// overdue; with the secretariat once `secretariat_after_days` overdue.
pub fn audience(days_overdue: i64, policy: &Policy) -> Audience {
    if days_overdue <= 0 {
        Audience::FocalPoints
    } else if days_overdue >= policy.secretariat_after_days.max(1) {
        Audience::Secretariat
    } else if days_overdue >= policy.deputies_after_days.max(1) {
        Audience::Deputies
    } else {
        Audience::FocalPoints
    }
}

/// The instant of `hour`:00 on `day` in `zone`. An hour that does not exist
/// that day (the clocks jump over it) resolves forward, read with the offset
/// before the jump (02:00 on a night of 02:00 -> 03:00 is 03:00); one that
/// occurs twice is the earlier.
pub fn send_instant(day: NaiveDate, hour: u32, zone: Tz) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(hour.min(23), 0, 0).unwrap_or(NaiveTime::MIN);
    occurrence_instant(day.and_time(time), zone)
}

/// The day of the digest a notice of `day` goes into: that day for a daily
/// digest; the Monday of its week for a weekly one (so a weekly digest lists
/// the week ahead). None for immediate delivery.
pub fn digest_day(day: NaiveDate, mode: NotificationMode) -> Option<NaiveDate> {
    match mode {
        NotificationMode::Immediate => None,
        NotificationMode::DailyDigest => Some(day),
        NotificationMode::WeeklyDigest => {
            Some(day - Days::new(u64::from(day.weekday().num_days_from_monday())))
        }
    }
}

/// Who a notice goes to, in the dedupe key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Focal points and deputies, directly or in their digest.
    Direct,
    /// The secretariat, gathered into an escalation.
    Secretariat,
}

/// What identifies one notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeKey<'a> {
    pub policy_id: &'a str,
    pub channel: Channel,
    pub field: ReminderField,
    pub item_kind: &'a str,
    pub item_id: &'a str,
    /// A year of a yearly item, a recurrence id, or "".
    pub occurrence: &'a str,
    pub due_on: NaiveDate,
    pub days_before: i64,
    pub contact_id: &'a str,
}

impl NoticeKey<'_> {
    /// The dedupe key of the outbox row.
    pub fn dedupe_key(&self) -> String {
        let channel = match self.channel {
            Channel::Direct => "direct",
            Channel::Secretariat => "secretariat",
        };
        format!(
            "notice|{}|{channel}|{}|{}|{}|{}|{}|{}|{}",
            self.policy_id,
            self.field,
            self.item_kind,
            self.item_id,
            self.occurrence,
            self.due_on,
            self.days_before,
            self.contact_id
        )
    }
}

/// The dedupe key of a contact's digest of one day; `n` counts digests of
/// the same day written after an earlier one had already gone out.
pub fn digest_key(contact_id: &str, mode: NotificationMode, day: NaiveDate, n: u32) -> String {
    format!("digest|{contact_id}|{mode}|{day}|{n}")
}

/// The dedupe key of one escalation of a programme (or of a body's protocol
/// items) to one secretariat contact on one day.
pub fn escalation_key(group: &str, day: NaiveDate, contact_id: &str, n: u32) -> String {
    format!("escalation|{group}|{day}|{contact_id}|{n}")
}

/// The dedupe key of an event email (invitation, change, cancellation): one
/// per event revision (its SEQUENCE, or an occurrence's) and attendee.
pub fn event_key(kind: &str, event_id: &str, revision: &str, contact_id: &str) -> String {
    format!("event|{kind}|{event_id}|{revision}|{contact_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn policy() -> Policy {
        Policy::default()
    }

    fn is_weekend(day: NaiveDate) -> bool {
        matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
    }

    fn days_of(slots: &[Slot]) -> Vec<(NaiveDate, i64)> {
        slots.iter().map(|s| (s.day, s.days_before)).collect()
    }

    fn draft() -> PolicyDraft {
        PolicyDraft {
            offsets: vec![0, 30, 7, 1],
            fields: vec!["obligation_due".into(), "event_start".into()],
            overdue_every_days: 7,
            deputies_after_days: 7,
            secretariat_after_days: 14,
            send_hour: 9,
            skip_weekends: true,
        }
    }

    #[test]
    fn defaults_are_those_of_the_issue() {
        let p = Policy::default();
        assert_eq!(p.offsets, vec![30, 7, 1, 0]);
        assert_eq!(p.fields.len(), 6);
        assert_eq!(
            (
                p.overdue_every_days,
                p.deputies_after_days,
                p.secretariat_after_days
            ),
            (7, 7, 14)
        );
        assert_eq!(p.send_hour, 9);
        assert!(p.skip_weekends);
    }

    #[test]
    fn a_draft_is_checked_and_normalised() {
        let p = check(&draft()).unwrap();
        assert_eq!(p.offsets, vec![30, 7, 1, 0]);
        assert_eq!(
            p.fields,
            vec![ReminderField::ObligationDue, ReminderField::EventStart]
        );
        // Empty offsets and fields are allowed: overdue notices only, or nothing.
        let quiet = check(&PolicyDraft {
            offsets: vec![],
            fields: vec![],
            ..draft()
        })
        .unwrap();
        assert!(quiet.offsets.is_empty() && quiet.fields.is_empty());
    }

    #[test]
    fn every_bad_value_names_its_field() {
        let bad = PolicyDraft {
            offsets: vec![7, 366, 7, -1],
            fields: vec![
                "obligation_due".into(),
                "birthday".into(),
                "obligation_due".into(),
            ],
            overdue_every_days: -1,
            deputies_after_days: 400,
            secretariat_after_days: 0,
            send_hour: 24,
            skip_weekends: false,
        };
        let errors = check(&bad).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "offsets[1]",
                "offsets[2]",
                "offsets[3]",
                "fields[1]",
                "fields[2]",
                "overdue_every_days",
                "deputies_after_days",
                "send_hour"
            ]
        );
        assert!(errors[0].reason.contains("0 to 365"), "{errors:?}");
        assert!(errors[1].reason.contains("twice"), "{errors:?}");
        assert!(errors[3].reason.contains("obligation_due"), "{errors:?}");
        let negative_hour = check(&PolicyDraft {
            send_hour: -1,
            ..draft()
        })
        .unwrap_err();
        assert_eq!(negative_hour[0].field, "send_hour");
        for hour in [0, 23] {
            assert!(check(&PolicyDraft {
                send_hour: hour,
                ..draft()
            })
            .is_ok());
        }
        assert!(check(&PolicyDraft {
            offsets: vec![0, 365],
            ..draft()
        })
        .is_ok());
    }

    #[test]
    fn before_due_on_weekdays_keeps_the_offsets() {
        // Wednesday 15 October 2025.
        let due = d(2025, 10, 15);
        let slots = before_due(due, &policy(), d(2025, 1, 1), d(2025, 12, 31));
        assert_eq!(
            days_of(&slots),
            vec![
                (d(2025, 9, 15), 30),
                (d(2025, 10, 8), 7),
                (d(2025, 10, 14), 1),
                (d(2025, 10, 15), 0)
            ]
        );
        assert!(slots.iter().all(|s| !s.is_overdue()));
    }

    #[test]
    fn a_weekend_reminder_goes_on_the_friday_before() {
        // Monday 13 October 2025: 30 days before is Saturday 13 September,
        // 1 day before is Sunday 12 October.
        let due = d(2025, 10, 13);
        let slots = before_due(due, &policy(), d(2025, 1, 1), d(2025, 12, 31));
        assert_eq!(
            days_of(&slots),
            vec![
                (d(2025, 9, 12), 31),
                (d(2025, 10, 6), 7),
                (d(2025, 10, 10), 3),
                (d(2025, 10, 13), 0)
            ]
        );
        // Without skipping, the weekend days stay.
        let weekends = Policy {
            skip_weekends: false,
            ..policy()
        };
        assert_eq!(
            days_of(&before_due(due, &weekends, d(2025, 1, 1), d(2025, 12, 31)))[0],
            (d(2025, 9, 13), 30)
        );
    }

    #[test]
    fn offsets_that_meet_on_a_friday_give_one_reminder_never_after_the_due_date() {
        // Due Sunday 12 October 2025: 1 day before (Saturday) and on the day
        // (Sunday) both go on Friday 10 October: one reminder, 2 days before.
        let due = d(2025, 10, 12);
        let slots = before_due(due, &policy(), d(2025, 10, 1), d(2025, 10, 31));
        assert_eq!(
            days_of(&slots),
            vec![(d(2025, 10, 3), 9), (d(2025, 10, 10), 2)]
        );
        for due in (0..60).map(|n| d(2025, 1, 1) + Days::new(n)) {
            for s in before_due(due, &policy(), d(2024, 1, 1), d(2026, 1, 1)) {
                assert!(s.day <= due && s.days_before >= 0, "{due}: {s:?}");
                assert!(!is_weekend(s.day), "{due}: {s:?}");
            }
        }
    }

    #[test]
    fn before_due_keeps_to_the_window() {
        let due = d(2025, 10, 15);
        let slots = before_due(due, &policy(), d(2025, 10, 8), d(2025, 10, 14));
        assert_eq!(
            days_of(&slots),
            vec![(d(2025, 10, 8), 7), (d(2025, 10, 14), 1)]
        );
        assert!(before_due(due, &policy(), d(2025, 10, 16), d(2025, 12, 1)).is_empty());
    }

    #[test]
    fn overdue_repeats_every_n_days_after_the_due_date() {
        // Due Wednesday 1 October 2025: the next day, then every 7 days.
        let due = d(2025, 10, 1);
        let slots = overdue(due, &policy(), d(2025, 9, 1), d(2025, 10, 31));
        assert_eq!(
            days_of(&slots),
            vec![
                (d(2025, 10, 2), -1),
                (d(2025, 10, 9), -8),
                (d(2025, 10, 16), -15),
                (d(2025, 10, 23), -22),
                (d(2025, 10, 30), -29)
            ]
        );
        assert!(slots.iter().all(Slot::is_overdue));
        // A window far later starts at the right repeat without walking from the start.
        let later = overdue(due, &policy(), d(2027, 1, 1), d(2027, 1, 10));
        assert_eq!(
            days_of(&later),
            vec![(d(2027, 1, 7), -463)],
            "every 7 days from 2 October 2025"
        );
        // 0: once, the day after.
        let once = Policy {
            overdue_every_days: 0,
            ..policy()
        };
        assert_eq!(
            days_of(&overdue(due, &once, d(2025, 9, 1), d(2026, 12, 31))),
            vec![(d(2025, 10, 2), -1)]
        );
    }

    #[test]
    fn a_weekend_overdue_notice_goes_on_the_monday_after() {
        // Due Friday 3 October 2025: the day after is Saturday -> Monday 6 October.
        let due = d(2025, 10, 3);
        let slots = overdue(due, &policy(), d(2025, 10, 1), d(2025, 10, 20));
        assert_eq!(
            days_of(&slots),
            vec![
                (d(2025, 10, 6), -3),
                (d(2025, 10, 13), -10),
                (d(2025, 10, 20), -17)
            ]
        );
        // Daily repeats over a weekend meet on the Monday: one notice there.
        let daily = Policy {
            overdue_every_days: 1,
            ..policy()
        };
        assert_eq!(
            days_of(&overdue(due, &daily, d(2025, 10, 1), d(2025, 10, 8))),
            vec![
                (d(2025, 10, 6), -3),
                (d(2025, 10, 7), -4),
                (d(2025, 10, 8), -5)
            ]
        );
        // A window that starts on the Monday still sees the Saturday's notice moved to it.
        assert_eq!(
            days_of(&overdue(due, &daily, d(2025, 10, 6), d(2025, 10, 6))),
            vec![(d(2025, 10, 6), -3)]
        );
    }

    #[test]
    fn the_audience_widens_as_an_item_stays_overdue() {
        let p = policy();
        assert_eq!(audience(-3, &p), Audience::FocalPoints);
        assert_eq!(audience(0, &p), Audience::FocalPoints);
        assert_eq!(audience(1, &p), Audience::FocalPoints);
        assert_eq!(audience(6, &p), Audience::FocalPoints);
        assert_eq!(audience(7, &p), Audience::Deputies);
        assert_eq!(audience(13, &p), Audience::Deputies);
        assert_eq!(audience(14, &p), Audience::Secretariat);
        assert_eq!(audience(400, &p), Audience::Secretariat);
        // 0 days: from the first day overdue, never before it.
        let eager = Policy {
            deputies_after_days: 0,
            secretariat_after_days: 0,
            ..p
        };
        assert_eq!(audience(0, &eager), Audience::FocalPoints);
        assert_eq!(audience(1, &eager), Audience::Secretariat);
        assert!(Audience::FocalPoints < Audience::Deputies);
        assert!(Audience::Deputies < Audience::Secretariat);
    }

    #[test]
    fn escalations_fall_on_common_days() {
        // Two items due on different days are escalated on the same Mondays.
        let p = policy();
        let a = escalation(d(2025, 9, 1), &p, d(2025, 9, 1), d(2025, 10, 31));
        let b = escalation(d(2025, 9, 4), &p, d(2025, 9, 1), d(2025, 10, 31));
        assert!(a.iter().all(|s| s.day.weekday() == Weekday::Mon), "{a:?}");
        // First once 14 days overdue: 15 September for a, 18 September for b.
        assert_eq!(a[0].day, d(2025, 9, 15));
        assert_eq!(a[0].days_before, -14);
        assert_eq!(b[0].day, d(2025, 9, 22));
        let common: Vec<NaiveDate> = b.iter().map(|s| s.day).collect();
        assert!(common.iter().all(|day| a.iter().any(|s| s.day == *day)));
        // Every 3 days, weekends moved to Monday, within the window.
        let p3 = Policy {
            overdue_every_days: 3,
            ..p.clone()
        };
        let s = escalation(d(2025, 9, 1), &p3, d(2025, 9, 20), d(2025, 10, 5));
        assert!(s.iter().all(|x| !is_weekend(x.day)));
        assert!(s
            .iter()
            .all(|x| x.day >= d(2025, 9, 20) && x.day <= d(2025, 10, 5)));
        assert!(s.iter().all(|x| x.days_before <= -14));
        // 0: once, the first day overdue enough.
        let once = Policy {
            overdue_every_days: 0,
            ..p
        };
        assert_eq!(
            days_of(&escalation(
                d(2025, 9, 1),
                &once,
                d(2025, 1, 1),
                d(2025, 12, 31)
            )),
            vec![(d(2025, 9, 15), -14)]
        );
    }

    #[test]
    fn send_instants_are_the_local_hour_in_the_recipient_zone() {
        let almaty: Tz = "Asia/Almaty".parse().unwrap();
        let moscow: Tz = "Europe/Moscow".parse().unwrap();
        // Almaty is UTC+5 since 1 March 2024; Moscow UTC+3.
        assert_eq!(
            send_instant(d(2025, 10, 8), 9, almaty),
            Utc.with_ymd_and_hms(2025, 10, 8, 4, 0, 0).unwrap()
        );
        assert_eq!(
            send_instant(d(2025, 10, 8), 9, moscow),
            Utc.with_ymd_and_hms(2025, 10, 8, 6, 0, 0).unwrap()
        );
        // Before the change Almaty was UTC+6.
        assert_eq!(
            send_instant(d(2023, 10, 9), 9, almaty),
            Utc.with_ymd_and_hms(2023, 10, 9, 3, 0, 0).unwrap()
        );
        assert_eq!(
            send_instant(d(2025, 10, 8), 0, chrono_tz::UTC),
            Utc.with_ymd_and_hms(2025, 10, 8, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn an_hour_in_a_gap_resolves_forward_and_a_doubled_one_is_the_earlier() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 30 March 2025: 02:00 -> 03:00 in Berlin; 02:00 local does not exist.
        let t = send_instant(d(2025, 3, 30), 2, berlin);
        assert_eq!(t, Utc.with_ymd_and_hms(2025, 3, 30, 1, 0, 0).unwrap());
        assert_eq!(
            t.with_timezone(&berlin).format("%H:%M").to_string(),
            "03:00"
        );
        // 26 October 2025: 02:00 occurs twice (UTC+2, then UTC+1): the earlier.
        assert_eq!(
            send_instant(d(2025, 10, 26), 2, berlin),
            Utc.with_ymd_and_hms(2025, 10, 26, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn digests_gather_by_day_or_by_week() {
        let wednesday = d(2025, 10, 8);
        assert_eq!(digest_day(wednesday, NotificationMode::Immediate), None);
        assert_eq!(
            digest_day(wednesday, NotificationMode::DailyDigest),
            Some(wednesday)
        );
        assert_eq!(
            digest_day(wednesday, NotificationMode::WeeklyDigest),
            Some(d(2025, 10, 6))
        );
        assert_eq!(
            digest_day(d(2025, 10, 6), NotificationMode::WeeklyDigest),
            Some(d(2025, 10, 6))
        );
        assert_eq!(
            digest_day(d(2025, 10, 12), NotificationMode::WeeklyDigest),
            Some(d(2025, 10, 6))
        );
    }

    #[test]
    fn dedupe_keys_name_every_part() {
        let key = NoticeKey {
            policy_id: GLOBAL_POLICY_ID,
            channel: Channel::Direct,
            field: ReminderField::ObligationDue,
            item_kind: "obligation",
            item_id: "o1",
            occurrence: "2025",
            due_on: d(2025, 10, 15),
            days_before: 7,
            contact_id: "c1",
        };
        assert_eq!(
            key.dedupe_key(),
            "notice|global|direct|obligation_due|obligation|o1|2025|2025-10-15|7|c1"
        );
        // A moved item (new due date) and another recipient get other keys.
        let moved = NoticeKey {
            due_on: d(2025, 10, 22),
            ..key
        };
        assert_ne!(moved.dedupe_key(), key.dedupe_key());
        let secretariat = NoticeKey {
            channel: Channel::Secretariat,
            ..key
        };
        assert_ne!(secretariat.dedupe_key(), key.dedupe_key());
        assert_eq!(
            digest_key("c1", NotificationMode::WeeklyDigest, d(2025, 10, 6), 0),
            "digest|c1|weekly_digest|2025-10-06|0"
        );
        assert_eq!(
            escalation_key("p1", d(2025, 10, 6), "c1", 1),
            "escalation|p1|2025-10-06|c1|1"
        );
        assert_eq!(
            event_key("event_invitation", "e1", "2", "c1"),
            "event|event_invitation|e1|2|c1"
        );
    }
}
