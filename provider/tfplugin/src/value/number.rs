//! Exact decimal numbers.
//!
//! Terraform numbers are arbitrary-precision; on the wire they arrive as msgpack integers,
//! floats or decimal strings. Keeping a decimal representation means a value the user wrote
//! (say `12345678901234567890.5`) comes back byte-for-byte identical, which Terraform checks.

use std::cmp::Ordering;
use std::fmt;

/// Exponents beyond this are rejected: such numbers cannot come from a real configuration, and
/// bounding them keeps every conversion cheap.
const MAX_EXPONENT: i64 = 1_000_000_000;

/// Exponents up to this magnitude are printed in plain notation (what Terraform prints too);
/// larger ones in scientific notation so that printing never allocates absurd strings.
const PLAIN_NOTATION_LIMIT: i64 = 1000;

/// `(-1)^negative × digits × 10^exponent`, always in canonical form: `digits` has no leading
/// or trailing zeros (zero is the empty string, never negative), so structural equality is
/// numeric equality.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    digits: String,
    exponent: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumberParseError(pub String);

impl fmt::Display for NumberParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a decimal number", self.0)
    }
}

impl std::error::Error for NumberParseError {}

impl Number {
    pub fn zero() -> Self {
        Number {
            negative: false,
            digits: String::new(),
            exponent: 0,
        }
    }

    fn canonical(negative: bool, digits: &str, exponent: i64) -> Self {
        let trimmed_front = digits.trim_start_matches('0');
        let trimmed = trimmed_front.trim_end_matches('0');
        if trimmed.is_empty() {
            return Number::zero();
        }
        let dropped = (trimmed_front.len() - trimmed.len()) as i64;
        Number {
            negative,
            digits: trimmed.to_owned(),
            exponent: exponent.saturating_add(dropped),
        }
    }

    /// Parses decimal text as Terraform writes it: optional sign, digits with an optional
    /// fraction, optional exponent (`1.5`, `-3`, `2e10`, `1E-3`).
    pub fn parse(text: &str) -> Result<Self, NumberParseError> {
        let err = || NumberParseError(text.to_owned());
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent_text) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
            None => (mantissa, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int_part.is_empty() && frac_part.is_empty())
            || !all_digits(int_part)
            || !all_digits(frac_part)
        {
            return Err(err());
        }
        let mut exponent: i64 = match exponent_text {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !all_digits(digits) || digits.len() > 12 {
                    return Err(err());
                }
                e.parse::<i64>().map_err(|_| err())?
            }
        };
        exponent -= frac_part.len() as i64;
        if exponent.abs() > MAX_EXPONENT {
            return Err(err());
        }
        let mut digits = String::with_capacity(int_part.len() + frac_part.len());
        digits.push_str(int_part);
        digits.push_str(frac_part);
        Ok(Number::canonical(negative, &digits, exponent))
    }

    /// `None` for NaN and infinities, which Terraform numbers cannot carry over the wire.
    pub fn from_f64(value: f64) -> Option<Self> {
        if !value.is_finite() {
            return None;
        }
        // `{:e}` is the shortest text that round-trips, so 0.1 stays 0.1 (as Terraform prints it).
        Number::parse(&format!("{value:e}")).ok()
    }

    pub fn from_i64(value: i64) -> Self {
        Number::canonical(value < 0, &value.unsigned_abs().to_string(), 0)
    }

    pub fn from_u64(value: u64) -> Self {
        Number::canonical(false, &value.to_string(), 0)
    }

    pub fn is_integer(&self) -> bool {
        self.exponent >= 0 || self.digits.is_empty()
    }

    pub fn to_i64(&self) -> Option<i64> {
        if !self.is_integer() {
            return None;
        }
        if self.digits.len() as i64 + self.exponent > 20 {
            return None;
        }
        let mut text = String::with_capacity(22);
        if self.negative {
            text.push('-');
        }
        text.push_str(if self.digits.is_empty() {
            "0"
        } else {
            &self.digits
        });
        for _ in 0..self.exponent {
            text.push('0');
        }
        text.parse().ok()
    }

    /// Nearest `f64` (infinite when out of range).
    pub fn to_f64(&self) -> f64 {
        self.to_scientific().parse().unwrap_or(f64::NAN)
    }

    /// The `f64` holding exactly this number, if there is one.
    pub fn to_f64_exact(&self) -> Option<f64> {
        let f = self.to_f64();
        (Number::from_f64(f).as_ref() == Some(self)).then_some(f)
    }

    fn to_scientific(&self) -> String {
        if self.digits.is_empty() {
            return "0".to_owned();
        }
        format!(
            "{}{}e{}",
            if self.negative { "-" } else { "" },
            self.digits,
            self.exponent
        )
    }

    /// Position of the decimal point relative to the start of `digits`.
    fn magnitude(&self) -> i64 {
        self.digits.len() as i64 + self.exponent
    }

    fn cmp_magnitude(&self, other: &Self) -> Ordering {
        match (self.digits.is_empty(), other.digits.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        // Canonical digits have no trailing zeros, so plain string order on equal magnitudes
        // is numeric order.
        self.magnitude()
            .cmp(&other.magnitude())
            .then_with(|| self.digits.cmp(&other.digits))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.digits.is_empty() {
            return f.write_str("0");
        }
        if self.exponent.abs() > PLAIN_NOTATION_LIMIT {
            return f.write_str(&self.to_scientific());
        }
        if self.negative {
            f.write_str("-")?;
        }
        if self.exponent >= 0 {
            f.write_str(&self.digits)?;
            for _ in 0..self.exponent {
                f.write_str("0")?;
            }
            return Ok(());
        }
        let fraction_len = (-self.exponent) as usize;
        if fraction_len >= self.digits.len() {
            f.write_str("0.")?;
            for _ in 0..fraction_len - self.digits.len() {
                f.write_str("0")?;
            }
            f.write_str(&self.digits)
        } else {
            let (int, frac) = self.digits.split_at(self.digits.len() - fraction_len);
            write!(f, "{int}.{frac}")
        }
    }
}

impl std::str::FromStr for Number {
    type Err = NumberParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(value: i64) -> Self {
        Number::from_i64(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms_compare_equal() {
        assert_eq!(
            Number::parse("1.50").unwrap(),
            Number::parse("15e-1").unwrap()
        );
        assert_eq!(Number::parse("-0").unwrap(), Number::zero());
        assert_eq!(Number::parse("00100").unwrap(), Number::from_i64(100));
        assert_eq!(Number::parse("100").unwrap().to_string(), "100");
        assert_eq!(Number::parse("0.0012").unwrap().to_string(), "0.0012");
        assert_eq!(Number::parse("-12.5").unwrap().to_string(), "-12.5");
    }

    #[test]
    fn big_numbers_stay_exact() {
        let text = "123456789012345678901234567890.000000000000000000001";
        assert_eq!(Number::parse(text).unwrap().to_string(), text);
        assert_eq!(Number::parse(text).unwrap().to_i64(), None);
        assert_eq!(Number::parse(text).unwrap().to_f64_exact(), None);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "-",
            ".",
            "1.2.3",
            "abc",
            "1e",
            "1e+",
            "NaN",
            "inf",
            "1e99999999999",
        ] {
            assert!(Number::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn integer_and_float_conversions() {
        assert_eq!(Number::from_i64(i64::MIN).to_i64(), Some(i64::MIN));
        assert_eq!(Number::from_i64(i64::MAX).to_i64(), Some(i64::MAX));
        assert_eq!(Number::from_u64(u64::MAX).to_i64(), None);
        assert_eq!(Number::from_f64(0.1).unwrap().to_string(), "0.1");
        assert_eq!(Number::from_f64(0.1).unwrap().to_f64_exact(), Some(0.1));
        assert_eq!(Number::from_f64(1e300).unwrap().to_f64(), 1e300);
        assert!(Number::from_f64(f64::NAN).is_none());
        assert_eq!(Number::parse("2.5").unwrap().to_i64(), None);
    }

    #[test]
    fn ordering_is_numeric() {
        let mut nums: Vec<Number> = ["10", "-2", "0.5", "-10", "0", "9.99", "1e3"]
            .iter()
            .map(|s| Number::parse(s).unwrap())
            .collect();
        nums.sort();
        let printed: Vec<String> = nums.iter().map(Number::to_string).collect();
        assert_eq!(printed, ["-10", "-2", "0", "0.5", "9.99", "10", "1000"]);
    }

    #[test]
    fn huge_exponents_print_scientific() {
        let n = Number::parse("1e5000").unwrap();
        assert_eq!(n.to_string(), "1e5000");
        assert_eq!(Number::parse(&n.to_string()).unwrap(), n);
    }
}
