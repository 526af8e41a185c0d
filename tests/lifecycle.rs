//! Being ported from ../shared/cases/lifecycle.json.
