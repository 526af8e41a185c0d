//! Which request paths go to the app, and whether they need a token.
//!
//! The sidecar decides on the raw path (as the client sent it, never
//! decoded or normalised) and forwards that same raw path. A backend may
//! decode and normalise the path before it routes (percent-decoding, `..`
//! resolution, `\` as `/`, `;params` dropped), so a path whose decoded form
//! would be routed differently than its raw form is refused rather than
//! forwarded:
//!
//! - a `.` or `..` segment, literal or encoded (`%2e%2e`, `..%2f`, `..;`):
//!   clients resolve dot segments before sending (RFC 3986 §5.2.4), so only
//!   a crafted request has one, and `/assets/../admin` would otherwise pass
//!   as public;
//! - a path that decodes to the SCIM base path (`/api/v1/scim%2Fv2/Users`,
//!   any letter case) without being under it raw: SCIM is answered here,
//!   never by the app.
//!
//! A public path prefix matches at a segment boundary (`/healthz` matches
//! `/healthz` and `/healthz/live`, not `/healthzz`; a prefix ending in `/`
//! matches anything below it), on the raw path: an encoded spelling of a
//! public prefix is not public, so it needs a token.

use percent_encoding::percent_decode_str;

/// Whether a path outside SCIM needs a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Under one of `app.public_paths`: forwarded without a token.
    Public,
    /// Everything else: forwarded only with a valid token.
    Protected,
}

/// Why a path is not forwarded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PathError {
    /// Not an absolute path (`OPTIONS *`, for example).
    #[error("the request target must be an absolute path starting with '/'")]
    NotAbsolute,
    /// A `.` or `..` segment, literal or encoded.
    #[error(
        "the path has a '.' or '..' segment (literal or percent-encoded); send the path \
         with dot segments resolved"
    )]
    DotSegment,
    /// An encoded or differently cased spelling of the SCIM base path.
    #[error("the path is another spelling of the SCIM endpoint; address SCIM as {base}")]
    ScimInDisguise {
        /// The SCIM base path, as it must be spelt.
        base: String,
    },
}

/// Decides whether `path` (raw, not under `scim_base` raw) may be forwarded
/// and whether it needs a token.
pub(crate) fn access(
    path: &str,
    public_paths: &[String],
    scim_base: &str,
) -> Result<Access, PathError> {
    if !path.starts_with('/') {
        return Err(PathError::NotAbsolute);
    }
    let segments = decoded_segments(path);
    if segments.iter().any(|s| is_dot_segment(s)) {
        return Err(PathError::DotSegment);
    }
    if under_ignoring_case(&segments, scim_base) {
        return Err(PathError::ScimInDisguise {
            base: scim_base.to_owned(),
        });
    }
    if public_paths.iter().any(|p| under_prefix(path, p)) {
        Ok(Access::Public)
    } else {
        Ok(Access::Protected)
    }
}

/// The non-empty segments of `path` as a lenient backend would see them:
/// percent-decoded, with `\` as a separator too.
fn decoded_segments(path: &str) -> Vec<String> {
    percent_decode_str(path)
        .decode_utf8_lossy()
        .split(['/', '\\'])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `.` or `..`, also with `;params` after it (servlet containers drop them).
fn is_dot_segment(segment: &str) -> bool {
    let bare = segment.split(';').next().unwrap_or(segment);
    bare == "." || bare == ".."
}

/// Whether the decoded `segments` start with the segments of `base`, in any
/// letter case (some backends route case-insensitively).
fn under_ignoring_case(segments: &[String], base: &str) -> bool {
    let base: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    !base.is_empty()
        && segments.len() >= base.len()
        && segments
            .iter()
            .zip(&base)
            .all(|(s, b)| s.eq_ignore_ascii_case(b))
}

/// Whether raw `path` is under `prefix` at a segment boundary.
fn under_prefix(path: &str, prefix: &str) -> bool {
    if prefix.ends_with('/') {
        return path.starts_with(prefix);
    }
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCIM: &str = "/api/v1/scim/v2";

    fn public() -> Vec<String> {
        vec!["/healthz".to_owned(), "/assets/".to_owned()]
    }

    fn check(path: &str) -> Result<Access, PathError> {
        access(path, &public(), SCIM)
    }

    #[test]
    fn public_prefixes_match_at_segment_boundaries() {
        assert_eq!(check("/healthz"), Ok(Access::Public));
        assert_eq!(check("/healthz/live"), Ok(Access::Public));
        assert_eq!(check("/healthzz"), Ok(Access::Protected));
        assert_eq!(check("/assets/app.js"), Ok(Access::Public));
        assert_eq!(check("/assets/a%2Fb.js"), Ok(Access::Public));
        assert_eq!(check("/assets"), Ok(Access::Protected));
        assert_eq!(check("/%61ssets/app.js"), Ok(Access::Protected));
        assert_eq!(check("/assets%2Fapp.js"), Ok(Access::Protected));
        assert_eq!(check("/app/x"), Ok(Access::Protected));
        assert_eq!(check("/a%2Fb"), Ok(Access::Protected));
    }

    #[test]
    fn dot_segments_are_refused_in_every_spelling() {
        for path in [
            "/assets/../admin",
            "/assets/./x",
            "/assets/..%2Fadmin",
            "/assets/%2e%2e/admin",
            "/assets/%2E%2E%2fadmin",
            "/assets/..%5Cadmin",
            "/assets/..\\admin",
            "/assets/..;/admin",
            "/healthz/..",
            "/x/../api/v1/scim/v2/Users",
        ] {
            assert_eq!(check(path), Err(PathError::DotSegment), "{path}");
        }
        assert_eq!(check("/a/..b/c."), Ok(Access::Protected));
    }

    #[test]
    fn encoded_scim_paths_are_refused() {
        for path in [
            "/api/v1/scim%2Fv2/Users",
            "/api/v1/%73cim/v2/Users",
            "/API/V1/SCIM/V2/Users",
            "/api//v1/scim/v2",
            "/api\\v1\\scim\\v2\\Users",
        ] {
            assert!(
                matches!(check(path), Err(PathError::ScimInDisguise { .. })),
                "{path}"
            );
        }
        assert_eq!(check("/api/v1/scim/v2x"), Ok(Access::Protected));
        assert_eq!(check("/api/v1/scim"), Ok(Access::Protected));
    }

    #[test]
    fn only_absolute_paths_are_forwarded() {
        assert_eq!(check("*"), Err(PathError::NotAbsolute));
        assert_eq!(check(""), Err(PathError::NotAbsolute));
    }
}
