# The demo's configuration: a scoped permission set and the connection that uses it, created in
# the AWS emulator that examples/demo/run.sh starts on 127.0.0.1.
terraform {
  required_providers {
    localops = {
      source = "localops/localops"
    }
  }
}

variable "aws_endpoint" {
  type = string
}

provider "localops" {
  region          = "us-east-1"
  oidc_issuer_url = "https://oidc.localops.co"
  # The demo runs against an emulator with no network: don't fetch the issuer's discovery
  # document (plans would only warn that it is unreachable, but we stay on loopback).
  check_oidc_issuer = false
  endpoints {
    cloudformation = var.aws_endpoint
    iam            = var.aws_endpoint
    sts            = var.aws_endpoint
  }
  default_tags = {
    managed-by = "terraform"
  }
}

resource "localops_permission_set" "scoped" {
  name              = "acme-prod"
  optional_services = ["s3", "rds", "sqs"]
  regions           = ["us-east-1"]
}

resource "localops_aws_connection" "prod" {
  name           = "acme-prod"
  subject        = "connection:acme-prod"
  permission_set = localops_permission_set.scoped.json
}

output "role_arn" {
  value = localops_aws_connection.prod.role_arn
}

output "trust_policy" {
  value = jsondecode(localops_aws_connection.prod.trust_policy)
}

output "managed_policy_arns" {
  value = localops_aws_connection.prod.managed_policy_arns
}

output "policy_documents" {
  value = localops_permission_set.scoped.policy_documents
}
