use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::test_dir::TestDir;

const SEED: &str = r#"
workspaces:
  - id: acme
    roles: [Admin, Buyer, Approver, Viewer]
    tokens:
      - { name: entra, secret: "ci-acme-admin", role: Admin }
      - { name: reports, secret: "ci-acme-viewer", role: Viewer }
  - id: globex
    roles: [Admin, Buyer]
    tokens:
      - { name: entra, secret: "ci-globex-admin", role: Admin }
"#;

fn who(workspace: &str, token_id: &str, role: &str) -> Option<Introspection> {
    Some(Introspection {
        workspace: workspace.into(),
        token_id: token_id.into(),
        role: role.into(),
    })
}

/// Every row of the seeded tables, as text, for before/after comparisons.
fn dump(store: &Store) -> Vec<String> {
    store.read(dump_tables).unwrap()
}

fn dump_tables(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut rows = Vec::new();
    for sql in [
        "SELECT id || '|' || created FROM workspaces ORDER BY id",
        "SELECT workspace || '|' || name || '|' || position FROM roles \
         ORDER BY workspace, position",
        "SELECT workspace || '|' || name || '|' || role || '|' || secret_sha256 || '|' || token_id \
         FROM tokens ORDER BY workspace, name",
    ] {
        let mut stmt = conn.prepare(sql)?;
        let found = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.extend(found.collect::<Result<Vec<_>, _>>()?);
    }
    Ok(rows)
}

fn seeded(label: &str) -> (TestDir, Store) {
    let dir = TestDir::new(label);
    let store = Store::open(dir.path()).unwrap();
    store
        .apply_seed(&Seed::from_yaml_str(SEED).unwrap())
        .unwrap();
    (dir, store)
}

#[test]
fn seeded_tokens_authenticate_to_their_workspace_and_role() {
    let (_dir, store) = seeded("seed-auth");
    assert_eq!(
        store.authenticate("ci-acme-admin"),
        who("acme", "tok_ddaae80bec8b", "Admin")
    );
    assert_eq!(
        store.authenticate("ci-acme-viewer"),
        who("acme", "tok_d9afc74e259c", "Viewer")
    );
    assert_eq!(
        store.authenticate("ci-globex-admin"),
        who("globex", "tok_85076f2aa9ce", "Admin")
    );
    assert_eq!(store.authenticate("ci-acme-admin "), None);
}

#[test]
fn applying_the_same_seed_twice_changes_nothing() {
    let (_dir, store) = seeded("seed-idem");
    let before = dump(&store);
    store
        .apply_seed(&Seed::from_yaml_str(SEED).unwrap())
        .unwrap();
    assert_eq!(dump(&store), before);
    assert_eq!(before.len(), 2 + 6 + 3);
}

#[test]
fn seed_adds_roles_and_never_removes_them() {
    let (_dir, store) = seeded("seed-roles");
    let next = "workspaces:\n  - id: globex\n    roles: [Viewer, Admin]\n";
    store
        .apply_seed(&Seed::from_yaml_str(next).unwrap())
        .unwrap();
    assert_eq!(
        store.roles("globex").unwrap().roles,
        ["Admin", "Buyer", "Viewer"]
    );
}

#[test]
fn seed_rotates_a_secret_and_moves_a_renamed_one() {
    let (_dir, store) = seeded("seed-rotate");
    let next = r#"
workspaces:
  - id: acme
    roles: [Admin]
    tokens:
      - { name: entra, secret: "rotated-acme-admin", role: Admin }
      - { name: scim, secret: "ci-acme-viewer", role: Admin }
"#;
    store
        .apply_seed(&Seed::from_yaml_str(next).unwrap())
        .unwrap();
    assert_eq!(store.authenticate("ci-acme-admin"), None);
    assert_eq!(
        store.authenticate("rotated-acme-admin"),
        who("acme", "tok_ddaae80bec8b", "Admin")
    );
    let scim_id = token_id("acme", "scim");
    assert_eq!(
        store.authenticate("ci-acme-viewer"),
        who("acme", &scim_id, "Admin")
    );
}

#[test]
fn invalid_seed_is_refused_before_any_write() {
    let dir = TestDir::new("seed-invalid");
    let store = Store::open(dir.path()).unwrap();
    let mut seed = Seed::from_yaml_str(SEED).unwrap();
    seed.workspaces[1].tokens[0].role = "Root".into();
    let err = store.apply_seed(&seed).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the seed is invalid:\nworkspaces[1].tokens[0].role: role 'Root' is not one of the \
         workspace's roles [Admin, Buyer]"
    );
    assert_eq!(dump(&store), Vec::<String>::new());
}

#[test]
fn secrets_never_reach_the_database_file() {
    let (dir, store) = seeded("seed-hashed");
    let minted = store.mint_token("acme", "minted", "Buyer").unwrap();
    let expected_hash = hex(&secret_sha256("ci-acme-admin"));
    drop(store);
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(contains(&expected_hash), "the hash itself should be stored");
    for secret in [
        "ci-acme-admin",
        "ci-acme-viewer",
        "ci-globex-admin",
        minted.as_str(),
    ] {
        assert!(!contains(secret), "a secret was stored in clear");
    }
}

#[test]
fn minted_tokens_are_random_prefixed_and_checked() {
    let (_dir, store) = seeded("mint");
    let secret = store.mint_token("globex", "bot", "Buyer").unwrap();
    assert_eq!(secret.len(), 4 + 64);
    assert!(secret.starts_with("ign_"));
    assert!(secret[4..].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        store.authenticate(&secret),
        who("globex", &token_id("globex", "bot"), "Buyer")
    );
    assert_ne!(store.mint_token("globex", "bot", "Buyer").unwrap(), secret);
    assert_eq!(
        store.authenticate(&secret),
        None,
        "re-minting replaces the old secret"
    );

    let err = store.mint_token("globex", "bot", "Viewer").unwrap_err();
    assert_eq!(
        err.to_core_error().known_roles,
        Some(vec!["Admin".into(), "Buyer".into()])
    );
    let err = store.mint_token("initech", "bot", "Admin").unwrap_err();
    assert_eq!(err.to_string(), "no workspace 'initech'");
}

#[test]
fn tokens_survive_a_reopen() {
    let (dir, store) = seeded("tokens-reopen");
    let minted = store.mint_token("acme", "bot", "Approver").unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.authenticate(&minted),
        who("acme", &token_id("acme", "bot"), "Approver")
    );
    assert_eq!(
        store.authenticate("ci-globex-admin"),
        who("globex", "tok_85076f2aa9ce", "Admin")
    );
}

#[test]
fn dev_bootstrap_mints_once_then_reuses_the_token_file() {
    let dir = TestDir::new("dev");
    let store = Store::open(&dir.path().join("data")).unwrap();
    let first = store.dev_bootstrap(dir.path()).unwrap();
    assert_eq!(first.workspace, "default");
    assert_eq!(first.token_id, "tok_a74e62428dec");
    assert_eq!(first.token_file, dir.path().join("dev-admin-token"));
    let meta = std::fs::metadata(&first.token_file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let on_disk = std::fs::read_to_string(&first.token_file).unwrap();
    assert_eq!(on_disk, format!("{}\n", first.token));
    assert_eq!(
        store.authenticate(&first.token),
        who("default", "tok_a74e62428dec", "Admin")
    );
    assert_eq!(store.roles("default").unwrap().roles, DEV_ROLES);

    let second = store.dev_bootstrap(dir.path()).unwrap();
    assert_eq!(second, first);
    assert!(!format!("{second:?}").contains(&second.token));
}

#[test]
fn dev_bootstrap_replaces_a_stale_token_file() {
    let dir = TestDir::new("dev-stale");
    let store = Store::open(dir.path()).unwrap();
    let file = dir.path().join("dev-admin-token");
    std::fs::write(&file, "ign_not-a-token-we-know\n").unwrap();
    let creds = store.dev_bootstrap(dir.path()).unwrap();
    assert_ne!(creds.token, "ign_not-a-token-we-know");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("{}\n", creds.token)
    );
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(store.authenticate("ign_not-a-token-we-know"), None);
}

#[test]
fn hex_round_trips() {
    let bytes = secret_sha256("x");
    assert_eq!(unhex32(&hex(&bytes)), Some(bytes));
    assert_eq!(unhex32("zz"), None);
    assert_eq!(hex(&[0, 15, 255]), "000fff");
}
