//! OIDC issuer checks: discovery, JWKS, TLS thumbprint, token claims.
