//! HTTP dates (RFC 9110 §5.6.7), IMF-fixdate form only: `Sun, 06 Nov 1994 08:49:37 GMT`.
//!
//! NOTE: the obsolete RFC 850 and asctime forms are not accepted; a `Date` window check
//! rejects them as invalid.

/// Parses an IMF-fixdate into unix seconds.
pub fn parse(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 29 || text.get(3..5)? != ", " || text.get(25..)? != " GMT" {
        return None;
    }
    const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = WEEKDAYS.iter().position(|d| Some(*d) == text.get(0..3))?;
    let day = number(text.get(5..7)?)?;
    let month = MONTHS.iter().position(|m| Some(*m) == text.get(8..11))? as i64 + 1;
    let year = number(text.get(12..16)?)?;
    let hour = number(text.get(17..19)?)?;
    let minute = number(text.get(20..22)?)?;
    let second = number(text.get(23..25)?)?;
    if text.get(7..8)? != " " || text.get(11..12)? != " " || text.get(16..17)? != " " {
        return None;
    }
    if text.get(19..20)? != ":" || text.get(22..23)? != ":" {
        return None;
    }
    if !(1..=days_in_month(year, month)).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }

    let days = days_from_civil(year, month, day);
    // 1970-01-01 was a Thursday (index 3 with Monday = 0).
    if (days + 3).rem_euclid(7) != weekday as i64 {
        return None;
    }
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Formats unix seconds as an IMF-fixdate (what JavaScript's `toUTCString` returns).
pub fn format(unix: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let weekday = WEEKDAYS
        .get((days + 3).rem_euclid(7) as usize)
        .copied()
        .unwrap_or("Mon");
    let month_name = MONTHS.get((month - 1) as usize).copied().unwrap_or("Jan");
    format!(
        "{weekday}, {day:02} {month_name} {year:04} {:02}:{:02}:{:02} GMT",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn number(digits: &str) -> Option<i64> {
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_imf_fixdate() {
        assert_eq!(parse("Wed, 13 May 2026 14:39:12 GMT"), Some(1_778_683_152));
    }

    #[test]
    fn rejects_wrong_weekday() {
        assert_eq!(parse("Thu, 13 May 2026 14:39:12 GMT"), None);
    }

    #[test]
    fn rejects_lowercase_and_other_forms() {
        assert_eq!(parse("wed, 13 may 2026 14:39:12 gmt"), None);
        assert_eq!(parse("2026-05-13T14:39:12Z"), None);
    }

    #[test]
    fn rejects_impossible_day() {
        // 3 March 2026 is a Tuesday, so "Tue, 31 Feb" must not roll over to it.
        assert_eq!(parse("Tue, 31 Feb 2026 00:00:00 GMT"), None);
        assert_eq!(parse("Sun, 29 Feb 2032 00:00:00 GMT"), Some(1_961_625_600));
    }

    #[test]
    fn format_round_trips() {
        assert_eq!(format(1_778_683_152), "Wed, 13 May 2026 14:39:12 GMT");
        assert_eq!(parse(&format(0)), Some(0));
    }
}
