//! One module per page.

pub mod connector;
pub mod not_found;
