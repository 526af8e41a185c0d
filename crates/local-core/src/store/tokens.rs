//! Workspaces, role catalogues and API tokens: seeding, minting, dev bootstrap.
//!
//! Secrets are stored as a plain SHA-256 hex digest, not a slow password
//! hash. That is sound for API tokens because minted ones carry 256 random
//! bits: no dictionary or brute force can invert the digest, and a slow hash
//! would only tax every request. A short or guessable secret written into a
//! seed file does not have that property; choosing strong seed secrets is the
//! operator's job (the seed only enforces a minimum length).

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use authsidecar_core_api::{ADMIN_ROLE, Introspection, RoleCatalogue};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::worker::Work;
use super::{Store, now_rfc3339};
use crate::StoreError;
use crate::seed::{Seed, SeedWorkspace};

/// Workspace that `authsidecar dev` provisions into.
pub const DEV_WORKSPACE: &str = "default";
/// Roles of [`DEV_WORKSPACE`].
pub const DEV_ROLES: [&str; 4] = ["Admin", "Buyer", "Approver", "Viewer"];
/// File (inside the bootstrap directory) that holds the dev admin secret.
pub const DEV_TOKEN_FILE: &str = "dev-admin-token";
/// Token name of the dev admin token.
const DEV_TOKEN_NAME: &str = "dev-admin";
/// Prefix of minted secrets, so a leaked one is recognisable in a scan.
const MINTED_PREFIX: &str = "ign_";

/// What [`Store::dev_bootstrap`] set up.
#[derive(Clone, PartialEq, Eq)]
pub struct DevCredentials {
    /// The workspace, [`DEV_WORKSPACE`].
    pub workspace: String,
    /// The admin bearer secret.
    pub token: String,
    /// Its non-secret id, for logs.
    pub token_id: String,
    /// The file the secret is kept in (mode 0600).
    pub token_file: PathBuf,
}

// Hand-written so the secret never reaches a log through `{:?}`.
impl std::fmt::Debug for DevCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevCredentials")
            .field("workspace", &self.workspace)
            .field("token", &"<redacted>")
            .field("token_id", &self.token_id)
            .field("token_file", &self.token_file)
            .finish()
    }
}

impl Store {
    /// Writes a seed as one store job: creates missing workspaces, appends
    /// missing roles (never removes one, users may hold it) and upserts each
    /// token by (workspace, name), replacing its secret hash and role.
    ///
    /// Idempotent: applying the same seed again changes no row. Tokens not
    /// named by the seed are kept; to revoke one, give it a new secret.
    pub fn apply_seed(&self, seed: &Seed) -> Result<(), StoreError> {
        seed.validate().map_err(StoreError::InvalidSeed)?;
        let seed = seed.clone();
        self.write(move |conn| {
            for ws in &seed.workspaces {
                ensure_workspace(conn, ws)?;
                for token in &ws.tokens {
                    upsert_token(conn, &ws.id, &token.name, &token.role, &token.secret)?;
                }
            }
            Ok(())
        })?;
        self.reload_tokens()
    }

    /// Creates or replaces the token `name` of `workspace` with a fresh
    /// random secret and returns the secret; only its hash is stored.
    pub fn mint_token(
        &self,
        workspace: &str,
        name: &str,
        role: &str,
    ) -> Result<String, StoreError> {
        let secret = format!("{MINTED_PREFIX}{}", hex(&rand::random::<[u8; 32]>()));
        let (workspace, name, role) = (workspace.to_owned(), name.to_owned(), role.to_owned());
        let hash = hex(&secret_sha256(&secret));
        self.write(move |conn| {
            if !workspace_exists(conn, &workspace)? {
                return Err(StoreError::UnknownWorkspace(workspace));
            }
            let known = role_names(conn, &workspace)?;
            if !known.contains(&role) {
                return Err(StoreError::UnknownRole { role, known });
            }
            upsert_token_hash(conn, &workspace, &name, &role, &hash)
        })?;
        self.reload_tokens()?;
        Ok(secret)
    }

    /// Sets up `authsidecar dev` without a seed: workspace `default` with
    /// roles Admin, Buyer, Approver, Viewer, and an admin token whose secret
    /// lives in `dir/dev-admin-token` (mode 0600).
    ///
    /// A secret already in that file is reused while it is still a valid
    /// admin token of `default`; otherwise a new one is minted and written.
    pub fn dev_bootstrap(&self, dir: &Path) -> Result<DevCredentials, StoreError> {
        let roles = DEV_ROLES.iter().map(|r| (*r).to_owned()).collect();
        let workspace = SeedWorkspace {
            id: DEV_WORKSPACE.to_owned(),
            roles,
            tokens: Vec::new(),
        };
        self.apply_seed(&Seed {
            workspaces: vec![workspace],
        })?;
        let io_error = |path: &Path| {
            let path = path.to_owned();
            move |source| StoreError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let token_file = dir.join(DEV_TOKEN_FILE);

        let existing = match std::fs::read_to_string(&token_file) {
            Ok(text) => Some(text.trim().to_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_error(&token_file)(e)),
        };
        if let Some(token) = existing
            && let Some(who) = self.authenticate(&token)
            && who.workspace == DEV_WORKSPACE
            && who.role == ADMIN_ROLE
        {
            tracing::info!(token_id = %who.token_id, "reusing the dev admin token");
            return Ok(DevCredentials {
                workspace: who.workspace,
                token,
                token_id: who.token_id,
                token_file,
            });
        }

        let token = self.mint_token(DEV_WORKSPACE, DEV_TOKEN_NAME, ADMIN_ROLE)?;
        write_private_file(&token_file, &token).map_err(io_error(&token_file))?;
        let token_id = token_id(DEV_WORKSPACE, DEV_TOKEN_NAME);
        tracing::info!(%token_id, file = %token_file.display(), "minted a dev admin token");
        Ok(DevCredentials {
            workspace: DEV_WORKSPACE.to_owned(),
            token,
            token_id,
            token_file,
        })
    }

    /// The role catalogue of `workspace`, in catalogue order.
    pub fn roles(&self, workspace: &str) -> Result<RoleCatalogue, StoreError> {
        self.read(catalogue(workspace.to_owned()))
    }

    /// [`Store::roles`] for async callers.
    pub(crate) async fn roles_async(&self, workspace: String) -> Result<RoleCatalogue, StoreError> {
        self.read_async(catalogue(workspace)).await
    }
}

fn catalogue(workspace: String) -> impl Work<RoleCatalogue> {
    move |conn: &Connection| {
        let roles = role_names(conn, &workspace)?;
        Ok(RoleCatalogue { roles })
    }
}

/// SHA-256 of a presented or stored secret.
pub(crate) fn secret_sha256(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Stable, non-secret token id: `tok_` + 12 hex digits of
/// SHA-256("token-id:" + workspace + ":" + name). It survives secret
/// rotation and reveals nothing about the secret.
pub fn token_id(workspace: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("token-id:{workspace}:{name}").as_bytes());
    format!("tok_{}", &hex(&digest)[..12])
}

/// The workspace's role names in catalogue order.
pub(crate) fn role_names(conn: &Connection, workspace: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT name FROM roles WHERE workspace = ?1 ORDER BY position")?;
    let names = stmt
        .query_map([workspace], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

/// Every token, keyed by secret hash.
pub(super) fn load_all(
    conn: &Connection,
) -> Result<HashMap<[u8; 32], Arc<Introspection>>, StoreError> {
    let mut stmt = conn.prepare("SELECT secret_sha256, workspace, token_id, role FROM tokens")?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            Introspection {
                workspace: row.get(1)?,
                token_id: row.get(2)?,
                role: row.get(3)?,
            },
        ))
    })?;
    let mut map = HashMap::new();
    for row in rows {
        let (hash_hex, who) = row?;
        let hash = unhex32(&hash_hex).ok_or_else(|| {
            StoreError::Corrupt(format!("token {} has a malformed hash", who.token_id))
        })?;
        map.insert(hash, Arc::new(who));
    }
    Ok(map)
}

fn workspace_exists(conn: &Connection, workspace: &str) -> Result<bool, StoreError> {
    let found = conn
        .prepare_cached("SELECT 1 FROM workspaces WHERE id = ?1")?
        .query_row([workspace], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}

/// Creates the workspace if missing and appends the roles it lacks.
fn ensure_workspace(conn: &Connection, ws: &SeedWorkspace) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO workspaces (id, created) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
    )?
    .execute(params![ws.id, now_rfc3339()])?;
    for role in &ws.roles {
        conn.prepare_cached(
            "INSERT INTO roles (workspace, name, position)
             SELECT ?1, ?2, COALESCE(MAX(position) + 1, 0) FROM roles WHERE workspace = ?1
             ON CONFLICT (workspace, name) DO NOTHING",
        )?
        .execute(params![ws.id, role])?;
    }
    Ok(())
}

/// Inserts or updates the token (workspace, name). A secret belongs to one
/// token only: another token holding the same secret loses it, which is
/// what renaming a token in a seed means.
fn upsert_token(
    conn: &Connection,
    workspace: &str,
    name: &str,
    role: &str,
    secret: &str,
) -> Result<(), StoreError> {
    upsert_token_hash(conn, workspace, name, role, &hex(&secret_sha256(secret)))
}

/// [`upsert_token`] with the secret already hashed (hex).
fn upsert_token_hash(
    conn: &Connection,
    workspace: &str,
    name: &str,
    role: &str,
    hash: &str,
) -> Result<(), StoreError> {
    let moved = conn
        .prepare_cached(
            "DELETE FROM tokens WHERE secret_sha256 = ?1 AND NOT (workspace = ?2 AND name = ?3)",
        )?
        .execute(params![hash, workspace, name])?;
    if moved > 0 {
        tracing::info!(token_id = %token_id(workspace, name), "secret moved from an older token");
    }
    // The WHERE keeps a re-applied seed from rewriting identical rows.
    conn.prepare_cached(
        "INSERT INTO tokens (workspace, name, role, secret_sha256, token_id)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (workspace, name) DO UPDATE
         SET role = excluded.role, secret_sha256 = excluded.secret_sha256
         WHERE role != excluded.role OR secret_sha256 != excluded.secret_sha256",
    )?
    .execute(params![
        workspace,
        name,
        role,
        hash,
        token_id(workspace, name)
    ])?;
    Ok(())
}

/// Writes `secret` to `path` with mode 0600, atomically: a temp file created
/// 0600 then renamed, so the secret is never readable by others, not even
/// for a moment, and a crash never leaves half a token.
fn write_private_file(path: &Path, secret: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn unhex32(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let pair = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]
#[path = "tokens_tests.rs"]
mod tests;
