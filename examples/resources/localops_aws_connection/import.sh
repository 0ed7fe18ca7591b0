# A connection is imported by its stack name or its stack id (also with an import block:
# import { to = localops_aws_connection.prod, id = "Ops-acme-prod" }). Every argument is read
# back from the stack; a permission set created by this provider is recovered exactly (it is
# recorded in the stack's template metadata), so a plan right after the import is empty when
# the configuration matches.
terraform import localops_aws_connection.prod Ops-acme-prod
