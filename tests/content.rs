//! Being ported from ../shared/cases/content.json.
