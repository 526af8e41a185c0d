//! Being ported from ../shared/cases/roles.json.
