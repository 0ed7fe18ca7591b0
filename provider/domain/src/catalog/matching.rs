//! String helpers for action names: IAM wildcard matching and edit distance.

/// Whether `text` matches the IAM wildcard `pattern` (`*` = any run of characters, `?` = exactly
/// one). Both sides are compared ASCII-case-insensitively, as IAM compares action names.
///
/// Runs in O(len(pattern) × len(text)) at worst and allocates nothing.
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position after the last `*` seen in the pattern, and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi + 1, ti));
                pi += 1;
            }
            Some(&c) if c == b'?' || c.eq_ignore_ascii_case(&t[ti]) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((after_star, tried_at)) => {
                    pi = after_star;
                    ti = tried_at + 1;
                    star = Some((after_star, tried_at + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Whether `s` contains an IAM wildcard character.
pub(crate) fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Levenshtein distance between `a` and `b`, ASCII-case-insensitive, or `None` when it exceeds
/// `limit` (which lets callers skip hopeless candidates cheaply).
pub(crate) fn bounded_distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0usize; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        let mut row_min = current[0];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
            row_min = row_min.min(current[j + 1]);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    let distance = previous[b.len()];
    (distance <= limit).then_some(distance)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("ec2:Describe*", "ec2:DescribeVpcs"));
        assert!(wildcard_match("EC2:describe*", "ec2:DescribeVpcs"));
        assert!(wildcard_match("*", "s3:GetObject"));
        assert!(wildcard_match("s3:Get?bject", "s3:GetObject"));
        assert!(wildcard_match("s3:*Object*", "s3:GetObjectTagging"));
        assert!(wildcard_match("*:*", "s3:GetObject"));
        assert!(!wildcard_match("s3:Get?bject", "s3:GetObjects"));
        assert!(!wildcard_match("ec2:Describe*", "ec2:CreateVpc"));
        assert!(!wildcard_match("", "x"));
        assert!(wildcard_match("", ""));
        assert!(wildcard_match("**", ""));
        assert!(!wildcard_match("a*b*c", "aXbX"));
        assert!(wildcard_match("a*b*c", "aXbXc"));
    }

    #[test]
    fn distances() {
        assert_eq!(bounded_distance("GetObjekt", "GetObject", 3), Some(1));
        assert_eq!(bounded_distance("getobject", "GetObject", 0), Some(0));
        assert_eq!(bounded_distance("kitten", "sitting", 3), Some(3));
        assert_eq!(bounded_distance("kitten", "sitting", 2), None);
        assert_eq!(bounded_distance("", "abc", 5), Some(3));
        assert_eq!(bounded_distance("ab", "abcdef", 2), None);
    }
}
