//! Pure types and rules of the domain (DESIGN.md section 2). No I/O here.

pub mod access;
pub mod credentials;
pub mod deadlines;
pub mod ids;
pub mod keys;
pub mod kinds;
pub mod recurrence;
pub mod reminders;
pub mod status;
pub mod text;
pub mod timeframe;
pub mod zone;

pub use ids::*;
pub use text::{Language, LocalizedText};
