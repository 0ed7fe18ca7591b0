//! One module per resource type, each with its tests beside it.

pub mod aws_connection;
pub mod permission_set;
