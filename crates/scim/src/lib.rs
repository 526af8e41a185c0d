//! Pure SCIM 2.0 protocol code (RFC 7643, RFC 7644) for the User resource.
//!
//! No IO and no async: everything here is a function from bytes or JSON to
//! JSON or a [`ScimError`], so it is easy to test, fuzz and reason about.
//!
//! A request handler uses it in phases:
//! 1. [`list::ListQuery::parse`] / [`resource::parse_json_body`]: decode the request;
//! 2. [`resource::normalize_user`] or [`patch::PatchRequest::parse`] +
//!    [`patch::apply`]: turn Entra's shapes into one canonical [`resource::Resource`];
//! 3. [`filter::Filter::matches`] / [`filter::Filter::index_lookup`]: answer queries;
//! 4. [`resource::render_user`] + [`project::project`]: shape the response;
//! 5. [`ScimError::to_json`]: every failure, with an actionable `detail`.
//!
//! Entra ID's deviations from the RFCs are listed, with the rule chosen for
//! each, in [`entra`].

pub mod entra;
pub mod error;
pub mod filter;
pub mod list;
pub mod patch;
pub mod path;
pub mod project;
pub mod resource;
pub mod schema;

pub use error::{ScimError, ScimType};

/// `application/scim+json`, the media type of every SCIM response (RFC 7644 §3.1).
pub const MEDIA_TYPE: &str = "application/scim+json";
/// Core User schema URN (RFC 7643 §4.1).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Enterprise User extension URN (RFC 7643 §4.3).
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// ListResponse message URN (RFC 7644 §3.4.2).
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// PatchOp message URN (RFC 7644 §3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Error message URN (RFC 7644 §3.12).
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// SearchRequest message URN (RFC 7644 §3.4.3).
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
