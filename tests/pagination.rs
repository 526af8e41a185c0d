//! Being ported from ../shared/cases/pagination.json.
