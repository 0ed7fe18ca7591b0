//! AWS adapters for LocalOps connections: CloudFormation stacks, IAM reads, STS proofs.
