//! End-to-end load benchmark (placeholder).
fn main() {}
