//! Being ported from ../shared/cases/discovery.json.
