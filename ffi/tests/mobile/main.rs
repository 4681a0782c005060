//! The mobile toolchain, end to end: the committed bindings match the library, and the Kotlin
//! library compiles and passes its JVM tests against the host build of the library.
//!
//! One test binary with modules, so the library is linked once for all of them.

mod bindings;
mod kotlin;
mod rule_codes;
mod server;
mod support;
