//! Placeholder while the rollup benchmark is written (issue 7).
fn main() {}
