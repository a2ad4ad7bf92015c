//! The HTML dashboard: server-rendered pages (maud templates, which escape
//! every interpolated value) that work without JavaScript, print cleanly and
//! carry their CSS and charts (SVG) inline. Pure: the handlers in
//! `api::dashboard` gather the roll-ups and calendars, these modules render them.

pub mod labels;
pub mod layout;
pub mod month;
pub mod pages;
