//! Calendar dates of the content (`YYYY-MM-DD`) and "today" in Beijing time.
//!
//! Chinese institutes date their certificates in Beijing time (UTC+8, China has no daylight
//! saving time), whatever the server's time zone: a certificate signed at 07:00 on 8 March in
//! Suzhou is dated 8 March, although it is still 7 March in UTC. An issue date more than one
//! day after today in Beijing is refused ([`latest_issue_date`]): one day of slack covers a
//! business system whose clock or time zone is a little off, not a date typed a year ahead.

/// A calendar date: (year, month, day).
pub type Date = (i32, u32, u32);

/// Seconds east of UTC of Beijing time.
pub const BEIJING_OFFSET_SECS: i64 = 8 * 3600;

/// Days from 1970-01-01 to `date` (proleptic Gregorian; H. Hinnant's `days_from_civil`).
pub fn days_from_civil((y, m, d): Date) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01 (the inverse of [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m, d)
}

/// The date in Beijing at the Unix time `unix_secs`.
pub fn beijing_date(unix_secs: i64) -> Date {
    civil_from_days((unix_secs + BEIJING_OFFSET_SECS).div_euclid(86_400))
}

/// Today in Beijing.
pub fn today_beijing() -> Date {
    beijing_date(ses::pki::now())
}

/// `YYYY-MM-DD`.
pub fn format_date((y, m, d): Date) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// The latest issue date accepted on `today`: tomorrow.
pub fn latest_issue_date(today: Date) -> Date {
    civil_from_days(days_from_civil(today) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_round_trip() {
        assert_eq!(days_from_civil((1970, 1, 1)), 0);
        assert_eq!(days_from_civil((2000, 3, 1)), 11_017);
        for days in [-1, 0, 59, 60, 11_016, 19_782, 2_932_896] {
            assert_eq!(days_from_civil(civil_from_days(days)), days);
        }
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(latest_issue_date((2024, 2, 28)), (2024, 2, 29));
        assert_eq!(latest_issue_date((2023, 12, 31)), (2024, 1, 1));
    }

    /// Beijing is UTC+8: 2024-03-07T16:00:00Z is already 8 March there.
    #[test]
    fn beijing_time() {
        let t = days_from_civil((2024, 3, 7)) * 86_400 + 16 * 3600;
        assert_eq!(beijing_date(t), (2024, 3, 8));
        assert_eq!(beijing_date(t - 1), (2024, 3, 7));
        assert_eq!(format_date(beijing_date(t)), "2024-03-08");
    }
}
