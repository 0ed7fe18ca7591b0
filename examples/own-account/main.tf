# Connect the AWS account your credentials belong to (a platform team running terraform apply
# on its own account). The 1-click default: LocalOps gets AdministratorAccess.
terraform {
  required_providers {
    localops = {
      source = "localops/localops"
    }
  }
}

provider "localops" {
  # LocalOps' OIDC issuer; or set LOCALOPS_OIDC_ISSUER_URL.
  oidc_issuer_url = var.oidc_issuer_url
}

variable "oidc_issuer_url" {
  type        = string
  description = "LocalOps' OIDC issuer URL, exactly as LocalOps shows it."
}

variable "connection_subject" {
  type        = string
  description = "The subject (sub claim) LocalOps shows for this connection."
}

resource "localops_aws_connection" "this" {
  name    = "my-account"
  subject = var.connection_subject
}

output "role_arn" {
  description = "Paste this into LocalOps to finish connecting the account."
  value       = localops_aws_connection.this.role_arn
}
