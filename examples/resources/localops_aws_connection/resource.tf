resource "localops_permission_set" "scoped" {
  name              = "acme-prod"
  optional_services = ["s3", "sqs"]
}

# Creates the CloudFormation stack "Ops-acme-prod" in us-east-1: an IAM OIDC provider that
# trusts LocalOps' issuer, and the role LocalOps assumes with sts:AssumeRoleWithWebIdentity.
resource "localops_aws_connection" "prod" {
  name           = "acme-prod"
  subject        = "connection:acme-prod"
  permission_set = localops_permission_set.scoped.json

  tags = {
    environment = "production"
  }
}

output "role_arn" {
  value = localops_aws_connection.prod.role_arn
}
