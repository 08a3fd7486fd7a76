//! One module per page.

pub mod connector;
pub mod history;
pub mod not_found;
pub mod sync_run;
