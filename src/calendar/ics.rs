//! Writes a [`Calendar`] as RFC 5545 text. (Filled in by the ICS work.)

use super::Calendar;

/// The calendar as an iCalendar stream (CRLF line ends, folded at 75 octets).
pub fn render(_calendar: &Calendar) -> String {
    String::new()
}
