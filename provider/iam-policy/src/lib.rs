//! IAM policy parsing and evaluation engine (identity policies, trust policies, boundaries, SCPs).
