//! Request ids: the client's `X-Request-Id` when it is sane, else a new one.
//!
//! A new id is a 64-bit prefix drawn at random once per process, then a
//! 64-bit counter, written as 32 hex digits in the 8-4-4-4-12 layout of a
//! UUID (log tooling that expects UUIDs keeps working). Ids are unique
//! within a process by the counter and across processes by the prefix,
//! and cost no system call: `Uuid::new_v4` per request was one `getrandom`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{HeaderMap, HeaderName, HeaderValue};

/// The header carrying the request id, both ways.
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client request id echoed; longer ones are replaced.
const MAX_CLIENT_ID_BYTES: usize = 128;

/// The per-process prefix, drawn on first use.
static PREFIX: OnceLock<u64> = OnceLock::new();

/// Requests numbered so far by this process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The client's `X-Request-Id` when it is short and printable, else a new one.
pub(crate) fn of(headers: &HeaderMap) -> HeaderValue {
    match headers.get(X_REQUEST_ID) {
        Some(v) if is_sane(v) => v.clone(),
        _ => generate(),
    }
}

fn is_sane(v: &HeaderValue) -> bool {
    !v.is_empty() && v.len() <= MAX_CLIENT_ID_BYTES && v.as_bytes().iter().all(u8::is_ascii_graphic)
}

/// A new id, unique within and across processes.
pub(crate) fn generate() -> HeaderValue {
    let prefix = *PREFIX.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let text = layout(prefix, n);
    // 32 hex digits and dashes are always a valid header value.
    HeaderValue::from_bytes(&text).unwrap_or(HeaderValue::from_static("-"))
}

/// `prefix` and `n` as 8-4-4-4-12 lower-case hex digits.
fn layout(prefix: u64, n: u64) -> [u8; 36] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let value = (u128::from(prefix) << 64) | u128::from(n);
    let mut out = [b'-'; 36];
    let mut shift = 128;
    for (i, slot) in out.iter_mut().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            continue;
        }
        shift -= 4;
        *slot = HEX[usize::from((value >> shift) as u8 & 0xf)];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_uuid_layout_prefix_first_then_the_counter() {
        let text = layout(0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210);
        assert_eq!(&text, b"01234567-89ab-cdef-fedc-ba9876543210");
        assert_eq!(&layout(0, 1), b"00000000-0000-0000-0000-000000000001");
    }

    #[test]
    fn generated_ids_differ_and_share_the_process_prefix() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert_eq!(a.as_bytes()[..18], b.as_bytes()[..18]);
        assert_eq!(a.len(), 36);
    }

    #[test]
    fn sane_client_ids_are_kept_and_others_replaced() {
        let mut h = HeaderMap::new();
        h.insert(X_REQUEST_ID, HeaderValue::from_static("rid-1"));
        assert_eq!(of(&h), "rid-1");
        h.insert(X_REQUEST_ID, HeaderValue::from_static("a b"));
        assert_eq!(of(&h).len(), 36);
        let long = HeaderValue::from_str(&"x".repeat(129)).unwrap();
        h.insert(X_REQUEST_ID, long);
        assert_eq!(of(&h).len(), 36);
        h.insert(X_REQUEST_ID, HeaderValue::from_static(""));
        assert_eq!(of(&h).len(), 36);
    }
}
