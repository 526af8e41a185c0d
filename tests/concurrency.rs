//! Being ported from ../shared/cases/concurrency.json.
