//! Small reusable pieces of the UI.

pub mod actions;
pub mod alert;
pub mod chart;
pub mod devices;
pub mod icons;
pub mod setup;
pub mod status;
pub mod sync;
pub mod time;
pub mod tokens;
