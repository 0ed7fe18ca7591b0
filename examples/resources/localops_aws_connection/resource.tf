resource "localops_permission_set" "scoped" {
  name              = "acme-prod"
  optional_services = ["s3", "sqs"]
}

# Creates the CloudFormation stack "Ops-acme-prod": an IAM OIDC provider that trusts LocalOps'
# issuer (from the provider's oidc_issuer_url), and the role "LocalOps-acme-prod" that LocalOps
# assumes with sts:AssumeRoleWithWebIdentity, limited to this connection's subject.
resource "localops_aws_connection" "prod" {
  name           = "acme-prod"
  subject        = "connection:acme-prod"
  permission_set = localops_permission_set.scoped.json

  # Optional:
  # role_name            = "LocalOps-acme-prod"
  # max_session_duration = 3600
  # oidc_provider_arn    = "arn:aws:iam::123456789012:oidc-provider/oidc.localops.co" # reuse an existing provider
  termination_protection = true

  tags = {
    environment = "production"
  }
}

output "role_arn" {
  value = localops_aws_connection.prod.role_arn
}
