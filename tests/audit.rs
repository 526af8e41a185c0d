//! Being written: end-to-end tests for audit.
