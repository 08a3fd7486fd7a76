//! One module per page.

pub mod account;
pub mod audit_log;
pub mod connector;
pub mod device;
pub mod devices;
pub mod exchange_access;
pub mod first_admin;
pub mod history;
pub mod not_found;
pub mod notifications;
pub mod readiness;
pub mod sign_in;
pub mod sync_run;
pub mod users;
