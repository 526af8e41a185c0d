//! Verdicts on the SCIM endpoint's answers: the Test Connection probe and
//! the discovery documents (RFC 7644 §4). Pure: an [`Answer`] in, an
//! [`Outcome`] out.

use authsidecar_config::defaults::SCIM_BASE_PATH;
use serde_json::Value;

use crate::check::report::Outcome;

/// `Content-Type` of every SCIM answer (RFC 7644 §3.1).
pub(crate) const SCIM_MEDIA_TYPE: &str = "application/scim+json";
const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// An HTTP answer, read whole.
#[derive(Debug, Clone, Default)]
pub(crate) struct Answer {
    /// The status code.
    pub(crate) status: u16,
    /// The media type of `content-type`, lower case, without parameters.
    pub(crate) media_type: String,
    /// `x-request-id`, to find the request in the sidecar's log.
    pub(crate) request_id: Option<String>,
    /// `location`, for redirects.
    pub(crate) location: Option<String>,
    /// The body.
    pub(crate) body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `answered 403: <SCIM detail> (request id …)`.
    fn summary(&self) -> String {
        let mut text = format!("answered {}", self.status);
        if let Some(detail) = self.json().as_ref().and_then(|j| j["detail"].as_str()) {
            text.push_str(": ");
            text.push_str(detail);
        }
        if let Some(location) = &self.location {
            text.push_str(&format!(" (redirect to {location})"));
        }
        if let Some(id) = &self.request_id {
            text.push_str(&format!(" (request id {id})"));
        }
        text
    }
}

/// The verdict on Entra's Test Connection probe, `GET /Users?filter=userName
/// eq "<random GUID>"`: with a token, 200 and an empty ListResponse; without
/// one, 401.
pub(crate) fn probe(answer: &Answer, with_token: bool) -> Outcome {
    match (answer.status, with_token) {
        (200, true) => empty_list(answer),
        (401, false) => Outcome::ok(
            "answered 401 without a token, as it should: the SCIM endpoint is reachable",
        ),
        (401, true) => Outcome::fail(
            answer.summary(),
            "the token is not valid: the token file must hold the secret token exactly as it is \
             in Entra's Secret Token field (no 'Bearer ', no quotes), and the core must know it",
        ),
        (403, true) => Outcome::fail(
            answer.summary(),
            "the token lacks the Admin role: Entra creates and changes users, so give it a token \
             whose role is Admin",
        ),
        (404, _) => Outcome::fail(
            answer.summary(),
            format!(
                "the URL's path is wrong; it must end in {SCIM_BASE_PATH} (or the configured \
                 scim.base_path), e.g. https://HOST{SCIM_BASE_PATH}?aadOptscim062020"
            ),
        ),
        (300..=399, _) => Outcome::fail(
            answer.summary(),
            "Entra calls the tenant URL as given and does not follow redirects there; use the \
             final https:// URL",
        ),
        (500..=599, _) => Outcome::fail(
            answer.summary(),
            "the sidecar or something in front of it failed; see its log for the request id (a \
             502, 503 or 504 often means the core is unreachable)",
        ),
        (200, false) => Outcome::fail(
            format!("{} without a token", answer.summary()),
            "the endpoint must refuse requests without a token; is this URL the sidecar?",
        ),
        _ => Outcome::fail(
            answer.summary(),
            "Entra's Test Connection needs 200 with an empty ListResponse here",
        ),
    }
}

fn empty_list(answer: &Answer) -> Outcome {
    if let Some(wrong) = not_scim(answer) {
        return wrong;
    }
    let Some(body) = answer.json() else {
        return Outcome::fail(
            "answered 200, but the body is not JSON",
            "the URL must be the sidecar's SCIM endpoint",
        );
    };
    let resources = body["Resources"].as_array().map_or(0, Vec::len);
    match body["totalResults"].as_u64() {
        Some(0) if resources == 0 => Outcome::ok(
            "answered 200 with an empty ListResponse (totalResults 0), as Entra's Test \
             Connection expects",
        ),
        Some(n) => Outcome::fail(
            format!("answered 200 with totalResults {n} for a random userName"),
            "the filter is ignored; Entra would match the wrong user",
        ),
        None => Outcome::fail(
            "answered 200 without totalResults",
            "the answer must be a SCIM ListResponse (RFC 7644 §3.4.2)",
        ),
    }
}

/// A failure when an answer is not `application/scim+json`.
fn not_scim(answer: &Answer) -> Option<Outcome> {
    if answer.media_type == SCIM_MEDIA_TYPE {
        return None;
    }
    let shown = if answer.media_type.is_empty() {
        "no content type"
    } else {
        &answer.media_type
    };
    Some(Outcome::fail(
        format!(
            "answered {} with {shown}, not {SCIM_MEDIA_TYPE}",
            answer.status
        ),
        "the URL reaches something other than the SCIM endpoint (a web app or login page?), \
         or a proxy rewrites the content type; Entra's validator wants application/scim+json",
    ))
}

/// The discovery documents that are checked, in order.
pub(crate) const DISCOVERY: [&str; 3] = ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"];

/// The verdict on one discovery document at `path` (one of [`DISCOVERY`]).
pub(crate) fn discovery(path: &str, answer: &Answer) -> Outcome {
    if answer.status != 200 {
        return Outcome::fail(
            answer.summary(),
            "every SCIM endpoint answers the discovery documents (RFC 7644 §4) with 200",
        );
    }
    if let Some(wrong) = not_scim(answer) {
        return wrong;
    }
    let Some(body) = answer.json() else {
        return Outcome::fail(
            "answered 200, but the body is not JSON",
            "discovery documents are SCIM JSON (RFC 7643 §5-7)",
        );
    };
    let resources = body["Resources"].as_array().cloned().unwrap_or_default();
    match path {
        "/ServiceProviderConfig" => service_provider_config(&body),
        "/ResourceTypes" => match resources.iter().find(|r| r["name"] == "User") {
            Some(user) => Outcome::ok(format!(
                "lists User at {}",
                user["endpoint"].as_str().unwrap_or("?")
            )),
            None => Outcome::fail(
                "does not list the User resource type",
                "Entra provisions Users; the endpoint must offer them",
            ),
        },
        _ => {
            if resources.iter().any(|r| r["id"] == USER_SCHEMA) {
                Outcome::ok(format!(
                    "has the core User schema ({} schemas)",
                    resources.len()
                ))
            } else {
                Outcome::fail(
                    format!("does not contain {USER_SCHEMA}"),
                    "the core User schema (RFC 7643 §4.1) must be listed",
                )
            }
        }
    }
}

fn service_provider_config(body: &Value) -> Outcome {
    let declared = body["schemas"]
        .as_array()
        .is_some_and(|s| s.iter().any(|v| v == SPC_SCHEMA));
    if !declared {
        return Outcome::fail(
            format!("is not a ServiceProviderConfig (no {SPC_SCHEMA} in schemas)"),
            "the URL must be the SCIM endpoint's base",
        );
    }
    let features = ["patch", "bulk", "filter", "changePassword", "sort", "etag"];
    let supported: Vec<&str> = features
        .into_iter()
        .filter(|f| body[*f]["supported"] == true)
        .collect();
    let detail = if supported.is_empty() {
        "supports none of patch, bulk, filter, changePassword, sort, etag".to_owned()
    } else {
        format!("supports {}", supported.join(", "))
    };
    if supported.contains(&"patch") && supported.contains(&"filter") {
        Outcome::ok(detail)
    } else {
        Outcome::warn(
            detail,
            "Entra looks users up with filters and changes them with PATCH; both should be \
             supported",
        )
    }
}

#[cfg(test)]
mod tests;
