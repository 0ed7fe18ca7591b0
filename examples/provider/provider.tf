terraform {
  required_providers {
    localops = {
      source = "localops/localops"
    }
  }
}

# Credentials come from the standard AWS chain (environment, shared profiles, SSO, web identity,
# container or instance metadata). There are deliberately no static key arguments.
provider "localops" {
  region          = "us-east-1"
  oidc_issuer_url = "https://oidc.localops.co"
  default_tags = {
    team = "platform"
  }
}
