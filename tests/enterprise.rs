//! Being ported from ../shared/cases/enterprise.json.
