//! LocalOps domain: permission catalog, permission sets, CloudFormation template rendering,
//! connection checks. No Terraform, no network: everything here is a pure function of its input
//! and of the data under `templates/`, which is embedded at compile time.

pub mod catalog;
pub mod checks;
pub mod permission_set;
pub mod template;
