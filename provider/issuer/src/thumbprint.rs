//! The TLS thumbprint IAM wants for an OIDC identity provider.
//!
//! AWS's rule (IAM user guide, "Obtain the thumbprint for an OpenID Connect identity provider"):
//!
//! 1. Take the `jwks_uri` from the issuer's discovery document and connect with TLS to *its*
//!    host (and port) — not necessarily the issuer's host.
//! 2. Of the certificate chain that server presents, take the **last** certificate: the one
//!    `openssl s_client -showcerts` prints last, normally the top intermediate CA (or the root
//!    if the server sends it; or the leaf when the server sends only its own certificate).
//! 3. The thumbprint is the SHA-1 fingerprint of that certificate's DER encoding, written as
//!    40 hex digits without colons. IAM stores it in lowercase, so we produce lowercase.
//!
//! AWS now validates many IdPs (those whose JWKS host chains to a CA in AWS's trusted library)
//! without looking at the thumbprint, but IAM still requires one when creating the provider,
//! and it is used for IdPs that chain to a private CA.

use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};

/// SHA-1 over `der`, as 40 lowercase hex digits.
pub fn sha1_fingerprint_hex(der: &[u8]) -> String {
    hex_lower(digest(&SHA1_FOR_LEGACY_USE_ONLY, der).as_ref())
}

/// The IAM thumbprint for a presented chain (leaf first, as TLS sends it): the SHA-1 of its
/// last certificate. `None` for an empty chain.
pub fn thumbprint_of_chain<C: AsRef<[u8]>>(chain: &[C]) -> Option<String> {
    chain.last().map(|c| sha1_fingerprint_hex(c.as_ref()))
}

/// Whether `s` looks like a thumbprint IAM accepts: 40 hex digits (either case).
pub fn is_valid_thumbprint(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_known_vectors_lowercase_40() {
        // FIPS 180 test vectors.
        assert_eq!(
            sha1_fingerprint_hex(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            sha1_fingerprint_hex(b""),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        let t = sha1_fingerprint_hex(b"anything");
        assert_eq!(t.len(), 40);
        assert!(is_valid_thumbprint(&t));
        assert_eq!(t, t.to_lowercase());
    }

    #[test]
    fn chain_uses_last_certificate() {
        let chain: Vec<Vec<u8>> = vec![b"leaf".to_vec(), b"intermediate".to_vec(), b"abc".to_vec()];
        assert_eq!(
            thumbprint_of_chain(&chain).as_deref(),
            Some("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        let only_leaf: Vec<Vec<u8>> = vec![b"abc".to_vec()];
        assert_eq!(
            thumbprint_of_chain(&only_leaf).as_deref(),
            Some("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        let empty: Vec<Vec<u8>> = vec![];
        assert_eq!(thumbprint_of_chain(&empty), None);
    }

    #[test]
    fn thumbprint_format_validation() {
        assert!(is_valid_thumbprint(
            "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
        ));
        assert!(is_valid_thumbprint(
            "9E99A48A9960B14926BB7F3B02E22DA2B0AB7280"
        ));
        assert!(!is_valid_thumbprint("9e:99:a4"));
        assert!(!is_valid_thumbprint(
            "9e99a48a9960b14926bb7f3b02e22da2b0ab728"
        ));
        assert!(!is_valid_thumbprint(
            "9e99a48a9960b14926bb7f3b02e22da2b0ab728g"
        ));
        assert_eq!(hex_lower(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
    }
}
