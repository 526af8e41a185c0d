//! Being ported from ../shared/cases/errors.json.
