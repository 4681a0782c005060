//! The mobile toolchain, end to end: the committed bindings match the library.
//!
//! One test binary with modules, so the library is linked once for all of them.

mod bindings;
mod support;
