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

pub type SharedClock = Arc<dyn Clock>;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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
