//! IP address ranges (CIDR) for `IpAddress` / `NotIpAddress`. An address without a prefix
//! length is a single address (`/32` or `/128`). An IPv4-mapped IPv6 request address is
//! compared as IPv4.

use std::net::IpAddr;

/// A CIDR block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cidr {
    v4: bool,
    network: u128,
    prefix: u8,
}

fn bits(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (true, u128::from(u32::from(a))),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => (true, u128::from(u32::from(v4))),
            None => (false, u128::from(a)),
        },
    }
}

fn mask(v4: bool, prefix: u8) -> u128 {
    let width: u32 = if v4 { 32 } else { 128 };
    let prefix = u32::from(prefix);
    if prefix == 0 {
        return 0;
    }
    let ones = u128::MAX >> (128 - prefix);
    let shifted = ones << (width - prefix);
    if v4 { shifted & 0xffff_ffff } else { shifted }
}

impl Cidr {
    /// Parses `address` or `address/prefix`.
    pub(crate) fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (a, Some(p.parse::<u8>().ok()?))
            }
            None => (s, None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let native_v4 = ip.is_ipv4();
        let (v4, value) = bits(ip);
        let max = if native_v4 { 32 } else { 128 };
        let mut prefix = prefix.unwrap_or(max);
        if prefix > max {
            return None;
        }
        if v4 && !native_v4 {
            // ::ffff:a.b.c.d/n: the IPv4 part is the last 32 bits.
            prefix = prefix.saturating_sub(96);
        }
        Some(Cidr {
            v4,
            network: value & mask(v4, prefix),
            prefix,
        })
    }

    /// True when the address (or the address part of `address/prefix`) is in the block.
    pub(crate) fn contains_text(&self, s: &str) -> bool {
        let s = s.trim();
        let addr = s.split_once('/').map_or(s, |(a, _)| a);
        match addr.parse::<IpAddr>() {
            Ok(ip) => {
                let (v4, value) = bits(ip);
                v4 == self.v4 && value & mask(v4, self.prefix) == self.network
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Cidr {
        Cidr::parse(s).expect("cidr")
    }

    #[test]
    fn v4() {
        assert!(c("203.0.113.0/24").contains_text("203.0.113.7"));
        assert!(!c("203.0.113.0/24").contains_text("203.0.114.7"));
        assert!(c("203.0.113.7").contains_text("203.0.113.7"));
        assert!(!c("203.0.113.7").contains_text("203.0.113.8"));
        assert!(c("0.0.0.0/0").contains_text("8.8.8.8"));
        assert!(c("10.1.2.3/8").contains_text("10.200.0.1"));
        assert!(!c("10.0.0.0/8").contains_text("2001:db8::1"));
        assert!(c("10.0.0.0/8").contains_text("::ffff:10.0.0.1"));
        assert!(!c("10.0.0.0/8").contains_text("not-an-ip"));
    }

    #[test]
    fn v6() {
        assert!(c("2001:DB8:1234:5678::/64").contains_text("2001:db8:1234:5678::1"));
        assert!(!c("2001:DB8:1234:5678::/64").contains_text("2001:db8:1234:5679::1"));
        assert!(c("::/0").contains_text("::1"));
        assert!(!c("::/0").contains_text("1.2.3.4"));
    }

    #[test]
    fn invalid() {
        for bad in [
            "",
            "1.2.3.4/33",
            "1.2.3/24",
            "::/129",
            "1.2.3.4/",
            "1.2.3.4/x",
            "a/8",
        ] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
    }
}
