//! The contract over real sockets: `spawn` on 127.0.0.1:0, reqwest as client.
#![allow(
    clippy::unwrap_used,
    reason = "in tests a failed unwrap is the failure report"
)]

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use authsidecar_core_api::{
    CoreError, ErrorCode, Introspection, PATH_INTROSPECT, PATH_ROLES, PATH_USERS, RoleCatalogue,
    User, UserPage, user_path, user_roles_path,
};
use authsidecar_local_core::{Seed, ShutdownHandle, Store, spawn};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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
const ADMIN: &str = "ci-acme-admin";
const VIEWER: &str = "ci-acme-viewer";
const GLOBEX: &str = "ci-globex-admin";

/// A seeded core on a free loopback port, in its own temporary directory.
struct Core {
    base: String,
    client: reqwest::Client,
    handle: Option<ShutdownHandle>,
    dir: PathBuf,
}

impl Core {
    async fn start(label: &str) -> Core {
        let salt: u64 = rand_salt();
        let dir = std::env::temp_dir().join(format!(
            "authsidecar-local-core-http-{label}-{}-{salt:x}",
            std::process::id()
        ));
        let store = Store::open(&dir).unwrap();
        store
            .apply_seed(&Seed::from_yaml_str(SEED).unwrap())
            .unwrap();
        let (addr, handle) = spawn(store, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .unwrap();
        // no_proxy: a proxy from the environment must never see this traffic.
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        Core {
            base: format!("http://{addr}"),
            client,
            handle: Some(handle),
            dir,
        }
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let builder = self.client.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut builder = self.request(method, path, Some(token));
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        builder.send().await.unwrap()
    }

    async fn stop(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.shutdown().await.unwrap();
        }
    }
}

// Also on a failed test: dropping the handle stops the server, then the
// directory goes.
impl Drop for Core {
    fn drop(&mut self) {
        self.handle.take();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rand_salt() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

async fn error_of(response: reqwest::Response) -> (StatusCode, CoreError) {
    let status = response.status();
    assert_eq!(response.headers()["content-type"], "application/json");
    (status, response.json().await.unwrap())
}

fn user_body(user_name: &str) -> Value {
    json!({"user_name": user_name, "active": true, "emails": [user_name],
           "roles": ["Buyer"], "profile": {"displayName": "Test User"}})
}

#[tokio::test]
async fn missing_or_bad_tokens_are_401() {
    let core = Core::start("401").await;
    for token in [None, Some("not-a-token")] {
        let response = core
            .request(Method::GET, PATH_INTROSPECT, token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let (status, body) = error_of(response).await;
        assert_eq!(
            (status, body.code),
            (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated)
        );
    }
    let basic = core
        .request(Method::GET, PATH_USERS, None)
        .header("authorization", "Basic Y2k6eA==");
    let (status, body) = error_of(basic.send().await.unwrap()).await;
    assert_eq!(
        (status, body.message.as_str()),
        (StatusCode::UNAUTHORIZED, "the bearer token is not valid")
    );
    // The token is checked before routing: an unknown path without one is 401 too.
    let (status, _) = error_of(
        core.request(Method::GET, "/nope", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    core.stop().await;
}

#[tokio::test]
async fn introspection_answers_in_body_and_headers() {
    let core = Core::start("introspect").await;
    let response = core.send(Method::GET, PATH_INTROSPECT, VIEWER, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["x-ignite-workspace"], "acme");
    assert_eq!(headers["x-ignite-token-id"], "tok_d9afc74e259c");
    assert_eq!(headers["x-ignite-role"], "Viewer");
    assert_eq!(headers["content-type"], "application/json");
    let body: Introspection = response.json().await.unwrap();
    let expected = Introspection {
        workspace: "acme".into(),
        token_id: "tok_d9afc74e259c".into(),
        role: "Viewer".into(),
    };
    assert_eq!(body, expected);
    core.stop().await;
}

#[tokio::test]
async fn viewers_are_forbidden_from_users_and_roles() {
    let core = Core::start("403").await;
    for path in [PATH_USERS, PATH_ROLES] {
        let (status, body) = error_of(core.send(Method::GET, path, VIEWER, None).await).await;
        assert_eq!(
            (status, body.code),
            (StatusCode::FORBIDDEN, ErrorCode::Forbidden)
        );
        assert_eq!(body.message, "this endpoint needs a token with role Admin");
    }
    let response = core.send(Method::GET, PATH_ROLES, ADMIN, None).await;
    let roles: RoleCatalogue = response.json().await.unwrap();
    assert_eq!(roles.roles, ["Admin", "Buyer", "Approver", "Viewer"]);
    core.stop().await;
}

#[tokio::test]
async fn full_crud_round_trip() {
    let core = Core::start("crud").await;

    let response = core
        .send(
            Method::POST,
            PATH_USERS,
            ADMIN,
            Some(user_body("Ann.Lee@acme.test")),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["content-type"], "application/json");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: User = response.json().await.unwrap();
    assert_eq!(location, user_path(&created.id));
    assert_eq!(
        (created.version, created.roles.clone()),
        (1, vec!["Buyer".to_owned()])
    );
    assert_eq!(created.profile["displayName"], "Test User");

    let got: User = core
        .send(Method::GET, &location, ADMIN, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got, created);

    let page: UserPage = core
        .send(
            Method::GET,
            &format!("{PATH_USERS}?user_name=ann.lee%40ACME.test&limit=5"),
            ADMIN,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        page,
        UserPage {
            total: 1,
            users: vec![created.clone()]
        }
    );

    let mut replace = user_body("ann.lee@acme.test");
    replace["active"] = json!(false);
    replace["version"] = json!(1);
    let response = core
        .send(Method::PUT, &location, ADMIN, Some(replace.clone()))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let replaced: User = response.json().await.unwrap();
    assert_eq!((replaced.version, replaced.active), (2, false));
    assert_eq!(replaced.created, created.created);

    let (status, body) = error_of(
        core.send(Method::PUT, &location, ADMIN, Some(replace))
            .await,
    )
    .await;
    assert_eq!(
        (status, body.code),
        (StatusCode::CONFLICT, ErrorCode::VersionConflict)
    );

    let roles = json!({"roles": ["Approver", "Buyer", "Approver"], "version": 2});
    let response = core
        .send(
            Method::PUT,
            &user_roles_path(&created.id),
            ADMIN,
            Some(roles),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let with_roles: User = response.json().await.unwrap();
    assert_eq!(
        (with_roles.version, with_roles.roles),
        (3, vec!["Buyer".into(), "Approver".into()])
    );

    let bad_roles = json!({"roles": ["buyer"], "version": 3});
    let response = core
        .send(
            Method::PUT,
            &user_roles_path(&created.id),
            ADMIN,
            Some(bad_roles),
        )
        .await;
    let (status, body) = error_of(response).await;
    assert_eq!(
        (status, body.code),
        (StatusCode::BAD_REQUEST, ErrorCode::UnknownRole)
    );
    let known = ["Admin", "Buyer", "Approver", "Viewer"]
        .map(String::from)
        .to_vec();
    assert_eq!(body.known_roles, Some(known));

    let (status, body) = error_of(
        core.send(
            Method::POST,
            PATH_USERS,
            ADMIN,
            Some(user_body("ANN.LEE@acme.test")),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body.code),
        (StatusCode::CONFLICT, ErrorCode::UserNameTaken)
    );

    // Another workspace never sees the user.
    let (status, body) = error_of(core.send(Method::GET, &location, GLOBEX, None).await).await;
    assert_eq!(
        (status, body.code),
        (StatusCode::NOT_FOUND, ErrorCode::UserNotFound)
    );

    let response = core.send(Method::DELETE, &location, ADMIN, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.bytes().await.unwrap().len(), 0);
    let (status, body) = error_of(core.send(Method::GET, &location, ADMIN, None).await).await;
    assert_eq!(
        (status, body.code),
        (StatusCode::NOT_FOUND, ErrorCode::UserNotFound)
    );
    let (status, _) = error_of(core.send(Method::DELETE, &location, ADMIN, None).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    core.stop().await;
}

#[tokio::test]
async fn bad_requests_get_their_codes() {
    let core = Core::start("codes").await;
    let (status, body) = error_of(
        core.send(Method::GET, "/internal/v1/groups", ADMIN, None)
            .await,
    )
    .await;
    assert_eq!(
        (status, body.code),
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );

    let response = core.send(Method::DELETE, PATH_USERS, ADMIN, None).await;
    assert_eq!(response.headers()["allow"], "GET, POST");
    let (status, body) = error_of(response).await;
    assert_eq!(
        (status, body.code),
        (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed)
    );
    assert_eq!(body.message, "method DELETE is not allowed here");

    let raw = core
        .request(Method::POST, PATH_USERS, Some(ADMIN))
        .body("{not json");
    let (status, body) = error_of(raw.send().await.unwrap()).await;
    assert_eq!(
        (status, body.code),
        (StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest)
    );
    assert_eq!(
        body.message,
        "invalid JSON body: key must be a string at line 1 column 2"
    );

    let empty_name = json!({"user_name": "", "active": true});
    let (status, body) = error_of(
        core.send(Method::POST, PATH_USERS, ADMIN, Some(empty_name))
            .await,
    )
    .await;
    assert_eq!(
        (status, body.message.as_str()),
        (StatusCode::BAD_REQUEST, "user_name must not be empty")
    );

    let (status, body) = error_of(
        core.send(Method::GET, &format!("{PATH_USERS}?limit=x"), ADMIN, None)
            .await,
    )
    .await;
    assert_eq!(
        (status, body.message.as_str()),
        (
            StatusCode::BAD_REQUEST,
            "limit must be a non-negative whole number, not 'x'"
        )
    );

    let huge = vec![b' '; 1024 * 1024 + 100 * 1024];
    let response = core
        .request(Method::POST, PATH_USERS, Some(ADMIN))
        .body(huge)
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(response).await;
    assert_eq!(
        (status, body.code),
        (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge)
    );
    assert_eq!(body.message, "the body is larger than 1048576 bytes");
    core.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_at_one_version_exactly_one_wins() {
    let core = Core::start("race").await;
    let created: User = core
        .send(
            Method::POST,
            PATH_USERS,
            ADMIN,
            Some(user_body("race@acme.test")),
        )
        .await
        .json()
        .await
        .unwrap();
    let core = std::sync::Arc::new(core);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let core = core.clone();
        let path = user_path(&created.id);
        tasks.push(tokio::spawn(async move {
            let mut body = user_body("race@acme.test");
            body["profile"] = json!({"writer": i});
            body["version"] = json!(1);
            let response = core.send(Method::PUT, &path, ADMIN, Some(body)).await;
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (status, body["code"].as_str().map(str::to_owned))
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let wins = outcomes
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .count();
    let conflicts = outcomes
        .iter()
        .filter(|(s, c)| *s == StatusCode::CONFLICT && c.as_deref() == Some("version_conflict"))
        .count();
    assert_eq!((wins, conflicts), (1, 7));
    let now: User = core
        .send(Method::GET, &user_path(&created.id), ADMIN, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now.version, 2);
    let Ok(core) = std::sync::Arc::try_unwrap(core) else {
        panic!("a task still holds the core");
    };
    core.stop().await;
}

#[tokio::test]
async fn shutdown_stops_the_listener() {
    let core = Core::start("shutdown").await;
    let base = core.base.clone();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    core.stop().await;
    let after = client.get(format!("{base}{PATH_INTROSPECT}")).send().await;
    assert!(after.unwrap_err().is_connect());
}

#[tokio::test]
async fn chunked_body_over_the_limit_is_413() {
    use tokio::io::AsyncWriteExt;

    let core = Core::start("chunked").await;
    let addr = core.base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // No Content-Length: only the streaming limit can catch this body.
    let writing = tokio::spawn(async move {
        let head = format!(
            "POST {PATH_USERS} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {ADMIN}\r\n\
             content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..18 {
            writer
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            writer.write_all(&chunk).await?;
            writer.write_all(b"\r\n").await?;
        }
        writer.write_all(b"0\r\n\r\n").await
    });
    let answer = tokio::time::timeout(Duration::from_secs(10), read_answer(&mut reader));
    let answer = answer.await.unwrap();
    let _ = writing.await.unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert_eq!(head.lines().next(), Some("HTTP/1.1 413 Payload Too Large"));
    assert!(
        head.lines()
            .any(|l| l.eq_ignore_ascii_case("content-type: application/json"))
    );
    let body: CoreError = serde_json::from_str(body).unwrap();
    assert_eq!(body.code, ErrorCode::PayloadTooLarge);
    core.stop().await;
}

/// Reads one HTTP/1.1 answer with a Content-Length body; stops at its end
/// or when the peer closes or resets, whichever comes first.
async fn read_answer(reader: &mut tokio::net::tcp::OwnedReadHalf) -> String {
    use tokio::io::AsyncReadExt;

    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = reader.read(&mut buf).await {
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let length = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(str::to_owned)
            })
            .and_then(|v| v.trim().parse::<usize>().ok());
        if length.is_some_and(|length| body.len() >= length) {
            break;
        }
    }
    String::from_utf8(answer).unwrap()
}
