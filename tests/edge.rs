//! Being written: end-to-end tests for edge.
