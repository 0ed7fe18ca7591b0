//! Date values: W3C profile of ISO 8601 (`2020-01-01`, `2020-01-01T00:00Z`,
//! `2020-01-01T00:00:00.123+02:00`, ...) or epoch seconds (`1577836800`). A string of digits
//! alone is read as epoch seconds. A date-time without an offset is UTC. The result is
//! nanoseconds since 1970-01-01T00:00:00Z.

/// Parses a date; `None` when the text is not a date in an accepted form.
pub(crate) fn parse(s: &str) -> Option<i128> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(t) = parse_epoch(s) {
        return Some(t);
    }
    parse_iso(s)
}

fn parse_epoch(s: &str) -> Option<i128> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    if int.is_empty() || int.len() > 15 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i128 = int.parse().ok()?;
    let nanos = match frac {
        Some(f) => fraction_nanos(f)?,
        None => 0,
    };
    let total = secs * 1_000_000_000 + nanos;
    Some(if neg { -total } else { total })
}

/// Nanoseconds from the digits after a decimal point (extra digits are truncated).
fn fraction_nanos(f: &str) -> Option<i128> {
    if f.is_empty() || f.len() > 18 || !f.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos: i128 = 0;
    for (i, b) in f.bytes().enumerate() {
        if i < 9 {
            nanos = nanos * 10 + i128::from(b - b'0');
        }
    }
    for _ in f.len()..9 {
        nanos *= 10;
    }
    Some(nanos)
}

fn digits(s: &str, n: usize) -> Option<i64> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_iso(s: &str) -> Option<i128> {
    // Every accepted form is ASCII; checking first keeps the byte slicing below on
    // character boundaries.
    if !s.is_ascii() {
        return None;
    }
    let (date, time) = match s.find(['T', 't']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let year = digits(parts.next()?, 4)?;
    let month = parts.next().map(|m| digits(m, 2)).unwrap_or(Some(1))?;
    let day = parts.next().map(|d| digits(d, 2)).unwrap_or(Some(1))?;
    if parts.next().is_some() || !(1..=12).contains(&month) {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let mut nanos = i128::from(days) * 86_400 * 1_000_000_000;
    if let Some(time) = time {
        // A time needs a full date.
        if date.len() != 10 {
            return None;
        }
        let (clock, offset_secs) = split_offset(time)?;
        let mut fields = clock.split(':');
        let hour = digits(fields.next()?, 2)?;
        let minute = digits(fields.next()?, 2)?;
        let (second, frac) = match fields.next() {
            Some(sec) => match sec.split_once('.') {
                Some((whole, f)) => (digits(whole, 2)?, fraction_nanos(f)?),
                None => (digits(sec, 2)?, 0),
            },
            None => (0, 0),
        };
        if fields.next().is_some() || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let secs = hour * 3600 + minute * 60 + second - offset_secs;
        nanos += i128::from(secs) * 1_000_000_000 + frac;
    }
    Some(nanos)
}

/// Splits `hh:mm[:ss[.f]]` from its offset (`Z`, `+hh:mm`, `-hh:mm`, `+hhmm`, or none).
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    if let Some(i) = time.rfind(['+', '-']) {
        let (clock, off) = time.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let off = &off[1..];
        let (h, m) = match off.split_once(':') {
            Some((h, m)) => (digits(h, 2)?, digits(m, 2)?),
            None if off.len() == 4 => (digits(&off[..2], 2)?, digits(&off[2..], 2)?),
            None => (digits(off, 2)?, 0),
        };
        if h > 23 || m > 59 {
            return None;
        }
        return Some((clock, sign * (h * 3600 + m * 60)));
    }
    Some((time, 0))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Count years from March so that the leap day is the last day of the counted year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i128 = 1_000_000_000;

    #[test]
    fn epoch_and_iso_agree() {
        assert_eq!(parse("0"), Some(0));
        assert_eq!(parse("1577836800"), Some(1_577_836_800 * S));
        assert_eq!(parse("2020-01-01T00:00:00Z"), Some(1_577_836_800 * S));
        assert_eq!(parse("2020-01-01"), Some(1_577_836_800 * S));
        assert_eq!(parse("2020-01"), Some(1_577_836_800 * S));
        assert_eq!(parse("2020-01-01T00:00Z"), Some(1_577_836_800 * S));
        assert_eq!(parse("2020-01-01T02:00:00+02:00"), Some(1_577_836_800 * S));
        assert_eq!(parse("2019-12-31T19:00:00-0500"), Some(1_577_836_800 * S));
        assert_eq!(
            parse("2020-01-01T00:00:00.5Z"),
            Some(1_577_836_800 * S + S / 2)
        );
        assert_eq!(
            parse("2000-02-29T12:00:00"),
            Some((951_782_400 + 43_200) * S)
        );
        assert_eq!(parse("1969-12-31T23:59:59Z"), Some(-S));
    }

    #[test]
    fn rejects_bad_dates() {
        for bad in [
            "",
            "yesterday",
            "2020-13-01",
            "2021-02-29",
            "2020-01-01T24:00:00Z",
            "2020-01-01T10:61Z",
            "2020-1-1",
            "2020-01-01T",
            "2020-01T10:00Z",
            "12:00",
            "2020-01-01T10:00:00+25:00",
            "1.2.3",
            "--1",
            "2020-01-01T10:00+é1",
            "2020-01-01T10:00+1é",
            "é",
            "2020-01-0é",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
