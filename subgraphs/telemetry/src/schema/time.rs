//! Instants as the API shows and reads them: RFC 3339 in UTC.
//!
//! Written by hand rather than with chrono's formatter: a per-host series answer formats
//! thousands of bucket times (1 000 hosts × 12 buckets in TSBS's double-groupby-all), and
//! chrono's general-purpose formatting was 11 % of that answer's time when profiled.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};

use crate::domain::InvalidInput;

/// `2024-03-01T12:00:00.000Z`: UTC with milliseconds.
pub(crate) fn rfc3339(time: DateTime<Utc>) -> String {
    let millis = time.timestamp_subsec_millis();
    if !(0..=9999).contains(&time.year()) || millis >= 1000 {
        // Years of other widths and leap seconds: rare, so chrono's general path.
        return time.to_rfc3339_opts(SecondsFormat::Millis, true);
    }
    let mut text = String::with_capacity(24);
    let mut part = |value: u32, width: u32, after: Option<char>| {
        for place in (0..width).rev() {
            let digit = value / 10u32.pow(place) % 10;
            text.push(char::from(b'0' + digit as u8));
        }
        if let Some(separator) = after {
            text.push(separator);
        }
    };
    part(time.year() as u32, 4, Some('-'));
    part(time.month(), 2, Some('-'));
    part(time.day(), 2, Some('T'));
    part(time.hour(), 2, Some(':'));
    part(time.minute(), 2, Some(':'));
    part(time.second(), 2, Some('.'));
    part(millis, 3, Some('Z'));
    text
}

/// An RFC 3339 instant from an argument, or `BAD_USER_INPUT` naming `field`.
pub(crate) fn parse_time(text: &str, field: &'static str) -> Result<DateTime<Utc>, InvalidInput> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| InvalidInput::new(field, "an RFC 3339 time, e.g. 2024-03-01T12:00:00Z"))
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    fn chrono_rfc3339(time: DateTime<Utc>) -> String {
        time.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    #[test]
    fn writes_what_chrono_writes_across_years_days_and_milliseconds() {
        let mut checked = 0;
        // About 13 000 instants from 1970 to 2100, at a step that visits every field's values.
        let mut ms: i64 = 0;
        while ms < 4_102_444_800_000 {
            let time = Utc.timestamp_millis_opt(ms).unwrap();
            assert_eq!(rfc3339(time), chrono_rfc3339(time), "{ms}");
            ms += 314_159_265_359 / 1_000;
            checked += 1;
        }
        assert!(checked > 10_000);
        for time in [
            Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap()
                + chrono::Duration::milliseconds(999),
            Utc.with_ymd_and_hms(1999, 12, 31, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
        ] {
            assert_eq!(rfc3339(time), chrono_rfc3339(time));
        }
    }

    #[test]
    fn leaves_years_past_four_digits_and_leap_seconds_to_chrono() {
        let far = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(rfc3339(far), chrono_rfc3339(far));
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_milli_opt(23, 59, 59, 1_500)
            .unwrap()
            .and_utc();
        assert_eq!(rfc3339(leap), chrono_rfc3339(leap));
        assert_eq!(rfc3339(leap), "2016-12-31T23:59:60.500Z");
    }
}
