//! LocalOps domain: permission catalog, permission sets, CloudFormation template rendering, connection checks. No Terraform, no network.
