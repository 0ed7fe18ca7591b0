# A vendor or MSP connecting a customer's account from a pipeline: the pipeline's own
# credentials assume a role in the customer account (for example the role AWS Organizations
# creates in new member accounts), and the connection is created there with scoped permissions.
terraform {
  required_providers {
    localops = {
      source = "localops/localops"
    }
  }
}

variable "customer_account_id" {
  type = string
}

variable "customer_name" {
  type = string
}

variable "external_id" {
  type      = string
  sensitive = true
  default   = null
}

provider "localops" {
  region = "us-east-1"
  assume_role {
    role_arn     = "arn:aws:iam::${var.customer_account_id}:role/OrganizationAccountAccessRole"
    external_id  = var.external_id
    session_name = "localops-connect-${var.customer_name}"
  }
  default_tags = {
    managed-by = "localops-onboarding"
  }
}

resource "localops_permission_set" "customer" {
  name              = var.customer_name
  optional_services = ["s3", "rds", "elasticache", "sqs"]
  regions           = ["us-east-1"]
}

resource "localops_aws_connection" "customer" {
  name           = var.customer_name
  subject        = "connection:${var.customer_name}"
  permission_set = localops_permission_set.customer.json
}

output "role_arn" {
  value = localops_aws_connection.customer.role_arn
}
