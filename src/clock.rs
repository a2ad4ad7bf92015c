//! Time comes from a clock that tests can fix, never from the wall directly.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// Today's date in a zone (deadlines are dates, due at the end of the day in
    /// the responsible organisation's zone).
    fn today_in(&self, zone: chrono_tz::Tz) -> NaiveDate {
        self.now().with_timezone(&zone).date_naive()
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A clock that is moved by hand: a test sets it to each date of a
/// scenario in turn (the server, the planner and the worker share it).
#[derive(Debug, Clone)]
pub struct SettableClock(Arc<std::sync::Mutex<DateTime<Utc>>>);

impl SettableClock {
    pub fn new(at: DateTime<Utc>) -> SettableClock {
        SettableClock(Arc::new(std::sync::Mutex::new(at)))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for SettableClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub type SharedClock = Arc<dyn Clock>;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_settable_clock_moves_for_all_who_share_it() {
        let clock = SettableClock::new(Utc.with_ymd_and_hms(2025, 10, 8, 3, 0, 0).unwrap());
        let shared: SharedClock = Arc::new(clock.clone());
        clock.set(Utc.with_ymd_and_hms(2025, 10, 9, 6, 30, 0).unwrap());
        assert_eq!(
            shared.now(),
            Utc.with_ymd_and_hms(2025, 10, 9, 6, 30, 0).unwrap()
        );
    }

    #[test]
    fn today_depends_on_the_zone() {
        // 20:30Z on 31 December is already 1 January in Astana (UTC+5 since 2024-03-01).
        let clock = FixedClock(Utc.with_ymd_and_hms(2025, 12, 31, 20, 30, 0).unwrap());
        assert_eq!(
            clock.today_in(chrono_tz::Asia::Almaty),
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
        );
        assert_eq!(
            clock.today_in(chrono_tz::Europe::Moscow),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
        );
    }
}
