//! RFC 3339 timestamps (RFC 3339 §5.6), as used in key sets and on the command line.

/// Parses `2026-05-13T14:39:12Z` or `2026-05-13T14:39:12.5+02:00` into unix seconds
/// (fractions are dropped).
pub fn parse(text: &str) -> Result<i64, String> {
    // An HTTP date (as in a Date header) is accepted too.
    if let Some(unix) = crate::httpdate::parse(text) {
        return Ok(unix);
    }
    let error = || {
        format!(
            "{text:?} is not an RFC 3339 time with a zone; write it like 2026-05-13T14:39:12Z (Z for UTC) or as an HTTP date"
        )
    };
    let field = |range: std::ops::Range<usize>| -> Result<i64, String> {
        let digits = text.get(range).ok_or_else(error)?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        digits.parse().map_err(|_| error())
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    let bytes = text.as_bytes();
    for (at, expected) in separators {
        if bytes.get(at) != Some(&expected) {
            return Err(error());
        }
    }
    if !matches!(bytes.get(10), Some(b'T') | Some(b't') | Some(b' ')) {
        return Err(error());
    }
    let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
    let (hour, minute, second) = (field(11..13)?, field(14..16)?, field(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(error());
    }

    let mut rest = text.get(19..).ok_or_else(error)?;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(error());
        }
        rest = fraction.get(digits..).ok_or_else(error)?;
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return Err(error()),
            };
            let digits = [1, 2, 4, 5].map(|at| rest.as_bytes().get(at));
            if rest.len() != 6
                || rest.as_bytes().get(3) != Some(&b':')
                || !digits.iter().all(|b| b.is_some_and(u8::is_ascii_digit))
            {
                return Err(error());
            }
            let hours: i64 = rest
                .get(1..3)
                .and_then(|h| h.parse().ok())
                .ok_or_else(error)?;
            let minutes: i64 = rest
                .get(4..6)
                .and_then(|m| m.parse().ok())
                .ok_or_else(error)?;
            if hours > 23 || minutes > 59 {
                return Err(error());
            }
            sign * (hours * 3600 + minutes * 60)
        }
    };

    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Ok(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Formats unix seconds as an RFC 3339 UTC time, `2026-05-13T14:39:12Z`. Years outside
/// 0000 to 9999 are clamped to that range, which RFC 3339 can write.
pub fn format(unix: i64) -> String {
    // 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    let unix = unix.clamp(-62_167_219_200, 253_402_300_799);
    let days = unix.div_euclid(86_400);
    let seconds_of_day = unix.rem_euclid(86_400);

    let (year, month, day) = crate::httpdate::civil_from_days(days);

    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds_of_day / 3600,
        seconds_of_day % 3600 / 60,
        seconds_of_day % 60
    )
}

/// Returns the number of days in a month of the Gregorian calendar.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn format_round_trips() {
        for unix in [0, 1_778_683_152, -86_400, 951_782_400, 4_102_444_799] {
            assert_eq!(parse(&format(unix)).unwrap(), unix, "{}", format(unix));
        }
        assert_eq!(format(1_778_683_152), "2026-05-13T14:39:12Z");
    }

    #[test]
    fn parses_utc() {
        assert_eq!(parse("2026-05-13T14:39:12Z").unwrap(), 1_778_683_152);
    }

    #[test]
    fn applies_offset_and_drops_fraction() {
        assert_eq!(
            parse("2026-05-13T16:39:12.250+02:00").unwrap(),
            1_778_683_152
        );
    }

    #[test]
    fn formats_utc() {
        assert_eq!(format(1_778_683_152), "2026-05-13T14:39:12Z");
        assert_eq!(format(0), "1970-01-01T00:00:00Z");
        assert_eq!(format(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn format_round_trips_through_parse() {
        for unix in [
            -86_401,
            0,
            68_256_000,
            951_868_799,
            1_796_947_200,
            253_402_300_799,
        ] {
            assert_eq!(parse(&format(unix)).unwrap(), unix, "{}", format(unix));
        }
    }

    #[test]
    fn rejects_date_only() {
        assert!(parse("2026-05-13").is_err());
    }
}
