//! Terraform plugin protocol 6 server layer on tonic: handshake, typed values, schemas, diagnostics. Knows nothing of AWS or LocalOps.
