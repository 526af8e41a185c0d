//! Being ported from ../shared/cases/patch.json.
