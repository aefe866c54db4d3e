//! The API document tells the truth about failures: every operation that takes a JSON body
//! documents the answers to a bad one (400, 413, 415, 422) in the error shape, every secured
//! operation documents 401, and a bad body sent to the real server gets a status the document
//! lists for that operation, in the error shape. (`scripts/contract.sh` fuzzes the whole API
//! against the document; these keep the rules it found broken from coming back.)

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Client, Method};
use serde_json::Value;
use tillpoint_protocol::{ErrorBody, ErrorCode};
use tillpoint_server::config::MAX_BODY_BYTES;
use tillpoint_server::http::routes::sync::{IMPORT_MAX_BODY_BYTES, PUSH_MAX_BODY_BYTES};
use tillpoint_server::testing::{new_device, spawn_demo_server, spawn_server, TestServer};

const PASSWORD: &str = "contract test password";
const WRITE_METHODS: [&str; 3] = ["post", "put", "patch"];

async fn served_document(server: &TestServer) -> Value {
    let response = reqwest::get(server.at("api/v1/openapi.json"))
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200);
    response.json().await.expect("a JSON document")
}

/// Every (method, path, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let paths = doc["paths"].as_object().expect("the document has paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .iter()
                .map(move |(method, op)| (method.clone(), path.clone(), op.clone()))
        })
        .collect()
}

/// Whether `op` documents `status` with an `application/json` body in the error shape.
fn documents_error(op: &Value, status: u16) -> bool {
    op["responses"][status.to_string()]["content"]["application/json"]["schema"]["$ref"]
        == "#/components/schemas/ErrorBody"
}

fn documented_statuses(op: &Value) -> Vec<String> {
    op["responses"]
        .as_object()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_operation_taking_a_body_documents_the_answers_to_a_bad_one() {
    let server = spawn_server().await;
    let doc = served_document(&server).await;
    let mut with_body = 0;
    for (method, path, op) in operations(&doc) {
        let takes_body = op.get("requestBody").is_some();
        if WRITE_METHODS.contains(&method.as_str()) && takes_body {
            with_body += 1;
        }
        if !takes_body {
            continue;
        }
        for status in [400, 413, 415, 422, 503] {
            assert!(
                documents_error(&op, status),
                "{method} {path} takes a body but does not document {status} in the error shape"
            );
        }
    }
    // login, refresh, logout, 2 user writes + a password reset, 2 role writes, settings,
    // rebase, push, import.
    assert!(
        with_body >= 12,
        "only {with_body} write operations take a body"
    );
}

#[tokio::test]
async fn every_secured_operation_documents_401_with_its_challenge() {
    let server = spawn_server().await;
    let doc = served_document(&server).await;
    let mut secured = 0;
    for (method, path, op) in operations(&doc) {
        let is_secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        if !is_secured {
            continue;
        }
        secured += 1;
        for status in [401, 503] {
            assert!(
                documents_error(&op, status),
                "{method} {path} needs a token but does not document {status} in the error shape"
            );
        }
        assert!(
            op["responses"]["401"]["headers"]
                .get("WWW-Authenticate")
                .is_some(),
            "{method} {path}: the 401 does not document WWW-Authenticate"
        );
    }
    assert!(secured >= 20, "only {secured} secured operations");
}

#[tokio::test]
async fn every_429_documents_its_retry_after() {
    let server = spawn_server().await;
    let doc = served_document(&server).await;
    let limited: Vec<_> = operations(&doc)
        .into_iter()
        .filter(|(_, _, op)| op["responses"].get("429").is_some())
        .collect();
    // Sign-in, and setting a password (the caller's own password is checked like one).
    assert!(
        limited.len() >= 2,
        "only {} operations answer 429",
        limited.len()
    );
    for (method, path, op) in limited {
        assert!(
            documents_error(&op, 429)
                && op["responses"]["429"]["headers"]
                    .get("Retry-After")
                    .is_some(),
            "{method} {path}: its 429 does not document Retry-After in the error shape"
        );
    }
}

/// What the bad bodies are sent as: a super administrator's token, and for each `{id}` an id
/// that exists, so each request reaches its body (a missing id is answered before it).
struct Caller {
    token: String,
    user_id: String,
    role_id: String,
    device_id: String,
}

async fn demo_caller(server: &TestServer) -> Caller {
    let admin = server.login("superadmin", PASSWORD, new_device()).await;
    // Another person's user and device, so that no call below ends the caller's own token.
    let cashier_device = new_device();
    let cashier = server.login("cashier", PASSWORD, cashier_device).await;
    let roles: Value = Client::new()
        .get(server.at("api/v1/admin/roles"))
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a role list");
    Caller {
        token: admin.access_token,
        user_id: cashier.user.id.to_string(),
        role_id: roles["roles"][0]["id"]
            .as_str()
            .expect("a role id")
            .to_owned(),
        device_id: cashier_device.to_string(),
    }
}

/// `path` with its `{id}` replaced by an id of the kind it names.
fn concrete(path: &str, caller: &Caller) -> String {
    let id = if path.starts_with("/api/v1/admin/users/") {
        caller.user_id.clone()
    } else if path.starts_with("/api/v1/admin/roles/") {
        caller.role_id.clone()
    } else if path.starts_with("/api/v1/admin/devices/") {
        caller.device_id.clone()
    } else {
        uuid::Uuid::now_v7().to_string()
    };
    path.replace("{id}", &id)
}

/// The largest body the route of `path` accepts.
fn body_limit(path: &str) -> usize {
    match path {
        "/api/v1/sync/push" => PUSH_MAX_BODY_BYTES,
        "/api/v1/sync/import" => IMPORT_MAX_BODY_BYTES,
        _ => MAX_BODY_BYTES,
    }
}

#[tokio::test]
async fn a_bad_body_gets_an_answer_the_document_lists_for_its_operation() {
    let server = spawn_demo_server(5, PASSWORD).await;
    let doc = served_document(&server).await;
    let caller = demo_caller(&server).await;
    let client = Client::new();
    let mut checked = 0;
    for (method, path, op) in operations(&doc) {
        if !WRITE_METHODS.contains(&method.as_str()) {
            continue;
        }
        let takes_body = op.get("requestBody").is_some();
        let url = server.at(&concrete(&path, &caller));
        // (what is sent, its content type, the answer to a body that is read)
        let bad_bodies: Vec<(&str, Vec<u8>, &str, u16, ErrorCode)> = vec![
            (
                // Not JSON from its second byte: a body that starts well could be refused for
                // its first field (unknown, 422) before its syntax.
                "malformed JSON",
                b"{]".to_vec(),
                "application/json",
                400,
                ErrorCode::BadRequest,
            ),
            (
                "mistyped JSON",
                br#"{"name": 42, "permissions": "all", "password": [], "records": 7}"#.to_vec(),
                "application/json",
                422,
                ErrorCode::Unprocessable,
            ),
            (
                "JSON sent as text",
                b"{}".to_vec(),
                "text/plain",
                415,
                ErrorCode::UnsupportedMediaType,
            ),
            (
                "an oversized body",
                vec![b' '; body_limit(&path) + 1],
                "application/json",
                413,
                ErrorCode::PayloadTooLarge,
            ),
        ];
        for (what, body, content_type, status_if_read, code_if_read) in bad_bodies {
            let response = client
                .request(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    &url,
                )
                .header(AUTHORIZATION, format!("Bearer {}", caller.token))
                .header(CONTENT_TYPE, content_type)
                .body(body)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{method} {path} with {what}: {e}"));
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            assert!(
                documented_statuses(&op).contains(&status.to_string()),
                "{method} {path} answered {what} with {status}, which its document does not \
                 list ({:?}): {text}",
                documented_statuses(&op)
            );
            if takes_body {
                assert_eq!(
                    status, status_if_read,
                    "{method} {path} with {what}: {text}"
                );
                let error: ErrorBody = serde_json::from_str(&text).unwrap_or_else(|e| {
                    panic!("{method} {path} with {what}: not the error shape ({e}): {text}")
                });
                assert_eq!(error.error.code, code_if_read, "{method} {path}: {text}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 4 * 15, "only {checked} requests checked");
}
