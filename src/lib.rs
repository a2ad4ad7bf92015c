//! accord: keeps the promises of intergovernmental cultural cooperation
//! programmes visible. See DESIGN.md for the layers: `api` -> `domain` +
//! `store` -> `db`.

pub mod api;
pub mod calendar;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod gen;
pub mod import;
pub mod notify;
pub mod report;
pub mod server;
pub mod store;
pub mod tzdata;
pub mod users;
