//! Test harness shared by the end-to-end tests: locating the built binaries, driving the real
//! `terraform`, running the moto emulator and a local OIDC issuer, all on loopback.

pub mod moto;
pub mod oidc_issuer;
pub mod terraform;
