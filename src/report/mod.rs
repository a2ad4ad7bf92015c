//! Status roll-ups, the implementation table, CSV/XLSX exports and the HTML
//! dashboard (DESIGN.md, section 4).

pub mod dashboard;
pub mod export;
pub mod rollup;
pub mod table;
