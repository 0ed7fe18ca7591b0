# The scoped permissions LocalOps needs for an app that stores files in S3 and runs Postgres,
# limited to two regions. Global services (IAM, STS) stay usable.
resource "localops_permission_set" "scoped" {
  name              = "acme-prod"
  optional_services = ["s3", "rds"]
  regions           = ["us-east-1", "eu-west-1"]

  # Anything else, as IAM statements; validated against AWS's action catalog at plan time.
  extra_statements = jsonencode([
    {
      Effect   = "Allow"
      Action   = ["route53:ChangeResourceRecordSets", "route53:GetChange"]
      Resource = "*"
    }
  ])
}

output "policies" {
  value = localops_permission_set.scoped.policy_documents
}
