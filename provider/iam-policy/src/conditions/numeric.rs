//! Numeric operators: integers and decimals compared as numbers.

/// A comparison: request value `<op>` policy value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    pub(crate) fn holds<T: PartialOrd>(self, actual: T, policy: T) -> bool {
        match self {
            Cmp::Eq => actual == policy,
            Cmp::Lt => actual < policy,
            Cmp::Le => actual <= policy,
            Cmp::Gt => actual > policy,
            Cmp::Ge => actual >= policy,
        }
    }
}

/// Parses an integer or decimal number (`10`, `-3`, `2.5`, `.5`, `1e3`). Hexadecimal,
/// `inf`, `NaN` and empty strings are not numbers.
pub(crate) fn parse(s: &str) -> Option<f64> {
    let t = s.trim();
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    if let Some(e) = exponent {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !all_digits(e) {
            return None;
        }
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse("10"), Some(10.0));
        assert_eq!(parse("-3"), Some(-3.0));
        assert_eq!(parse("2.5"), Some(2.5));
        assert_eq!(parse(".5"), Some(0.5));
        assert_eq!(parse("1e3"), Some(1000.0));
        for bad in ["", "abc", "0x10", "inf", "NaN", "1e", ".", "1.2.3", "1e999"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert!(Cmp::Le.holds(10.0, 10.0));
        assert!(!Cmp::Lt.holds(10.0, 10.0));
        assert!(Cmp::Gt.holds(11.0, 10.0));
    }
}
