//! Small reusable pieces of the UI.

pub mod icons;
pub mod status;
pub mod time;
