//! Kubernetes duration strings (Go's `time.ParseDuration`), as cert-manager's
//! `spec.duration` and `spec.renewBefore` hold them: `2160h`, `1h30m`, `720h0m0s`.

/// Maximum length of a duration string, in bytes.
pub const MAX_DURATION_LEN: usize = 64;

/// Parses a Go duration into whole seconds (fractions of a second are dropped).
///
/// # Errors
/// [`DurationError`] naming the text, for more than [`MAX_DURATION_LEN`] bytes, an
/// unknown unit (Go has no `d`) or a value over Go's limit of about 292 years.
pub fn parse_seconds(text: &str) -> Result<i64, DurationError> {
    if text.len() > MAX_DURATION_LEN {
        return Err(DurationError(format!(
            "duration is {} bytes, over the {MAX_DURATION_LEN}-byte limit",
            text.len()
        )));
    }
    let invalid = || {
        DurationError(format!(
            "{text:?} is not a duration; write it as Kubernetes does, for example 2160h or 1h30m"
        ))
    };
    let mut rest = text.trim();
    let negative = rest.starts_with('-');
    rest = rest.trim_start_matches(['-', '+']);
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total_nanos: i128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let number = rest.get(..number_len).ok_or_else(invalid)?;
        rest = rest.get(number_len..).ok_or_else(invalid)?;
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(rest.len(), |(index, _)| index);
        let unit = rest.get(..unit_len).ok_or_else(invalid)?;
        rest = rest.get(unit_len..).ok_or_else(invalid)?;
        let unit_nanos: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(invalid()),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() {
            return Err(invalid());
        }
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| invalid())?
        };
        let mut fraction_nanos: i128 = 0;
        let mut scale: i128 = 1;
        for digit in fraction.bytes().take(18) {
            if !digit.is_ascii_digit() {
                return Err(invalid());
            }
            fraction_nanos = fraction_nanos * 10 + i128::from(digit - b'0');
            scale *= 10;
        }
        total_nanos = total_nanos
            .checked_add(whole.checked_mul(unit_nanos).ok_or_else(invalid)?)
            .and_then(|sum| sum.checked_add(fraction_nanos * unit_nanos / scale))
            .ok_or_else(invalid)?;
        // Go's limit: about 292 years.
        if total_nanos > i128::from(i64::MAX) {
            return Err(invalid());
        }
    }
    let seconds = i64::try_from(total_nanos / 1_000_000_000).map_err(|_| invalid())?;
    Ok(if negative { -seconds } else { seconds })
}

/// A duration string that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurationError(pub String);

impl std::fmt::Display for DurationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DurationError {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_cert_manager_forms() {
        assert_eq!(parse_seconds("2160h").unwrap(), 2160 * 3600);
        assert_eq!(parse_seconds("720h0m0s").unwrap(), 720 * 3600);
        assert_eq!(parse_seconds("1h30m").unwrap(), 5400);
        assert_eq!(parse_seconds("1.5h").unwrap(), 5400);
        assert_eq!(parse_seconds("0").unwrap(), 0);
        assert_eq!(parse_seconds("90s").unwrap(), 90);
    }

    #[test]
    fn rejects_days_and_garbage() {
        for text in [
            "90d",
            "",
            "h",
            "1x",
            ".h",
            "1h 30m",
            "99999999999999999999h",
        ] {
            assert!(parse_seconds(text).is_err(), "{text} parsed");
        }
    }
}
