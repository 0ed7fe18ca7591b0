//! A small non-cryptographic string hash (64-bit FNV-1a) for the lookup tables built at
//! parse time (action index, context keys). Not exposed; never used for security.

pub(crate) fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn distinct_and_stable() {
        assert_eq!(super::fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(super::fnv1a("s3"), super::fnv1a("ec2"));
        assert_eq!(super::fnv1a("s3"), super::fnv1a("s3"));
    }
}
