//! One module per resource type, each with its tests beside it.

pub mod permission_set;
