//! End-to-end scenarios: one test binary, one module per story.
