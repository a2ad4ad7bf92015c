//! Placeholder while the planning benchmark is written (issue 7).
fn main() {}
