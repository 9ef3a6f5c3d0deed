//! The date reorganisations are stamped with (`since` on reporting lines and memberships).
//! Code takes a clock it is given, so tests fix the day and never depend on today's date.

use chrono::NaiveDate;

pub trait Clock: Send + Sync {
    fn today(&self) -> NaiveDate;
}

/// Today's date in UTC.
pub struct SystemClock;

impl Clock for SystemClock {
    fn today(&self) -> NaiveDate {
        chrono::Utc::now().date_naive()
    }
}

/// Always the same day (tests).
pub struct FixedClock(pub NaiveDate);

impl Clock for FixedClock {
    fn today(&self) -> NaiveDate {
        self.0
    }
}
