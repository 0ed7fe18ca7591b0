# A connection is imported by its stack name or its stack id.
terraform import localops_aws_connection.prod Ops-acme-prod
