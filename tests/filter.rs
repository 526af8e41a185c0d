//! Being ported from ../shared/cases/filter.json.
