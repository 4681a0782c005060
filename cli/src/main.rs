//! The `fieldsales` command line.
fn main() {}
