//! The local Ignite core: a durable, SQLite-backed implementation of the
//! core API contract (`docs/core-api.md`, wire types in
//! `authsidecar-core-api`), for `authsidecar dev`, CI and end-to-end tests.
//!
//! - [`Store`]: storage of workspaces, roles, hashed tokens, users and the
//!   audit trail in `dir/core.sqlite3`, served by one writer thread that
//!   group-commits and one reader thread; every user write takes an
//!   [`AuditContext`] and records its event as part of the write itself.
//! - [`Seed`]: the YAML file that declares workspaces, roles and tokens;
//!   [`Store::apply_seed`] writes it, [`Store::dev_bootstrap`] is the
//!   no-seed alternative.
//! - [`serve`] and [`spawn`]: the HTTP/1.1 server that answers the contract.
//!
//! A request is handled in phases: authenticate the bearer token (memory
//! only), route by method and path, check the role, read and parse the body,
//! hand the store call to the store's writer or reader thread and await its
//! answer, shape the JSON answer, log it.

mod error;
mod http;
mod seed;
mod store;

#[cfg(test)]
mod test_dir;

pub use error::StoreError;
pub use http::{GRACE_PERIOD, MAX_BODY_BYTES, ShutdownHandle, serve, spawn};
pub use seed::{
    MIN_SECRET_CHARS, Seed, SeedError, SeedProblem, SeedProblems, SeedToken, SeedWorkspace,
};
pub use store::{
    AuditContext, DB_FILE_NAME, DEV_ROLES, DEV_TOKEN_FILE, DEV_WORKSPACE, DevCredentials,
    MAX_FIELD_CHARS, Store, token_id,
};
