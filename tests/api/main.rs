//! One integration-test binary: the real application on port 0, a real SQLite file, and the
//! Exchange Online simulator over real HTTP on loopback.

mod actions;
mod alerts;
mod assets;
mod audit;
mod auth;
mod binary;
mod consent;
mod cut_off;
mod devices;
mod exchange_access;
mod helpers;
mod history;
mod monitoring;
mod policies;
mod rest;
mod restart;
mod secrets;
mod security;
mod set_up;
mod sync;
mod tenant;
