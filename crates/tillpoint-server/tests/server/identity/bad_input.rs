//! Bad input at the boundary: malformed or mis-shaped JSON, unknown fields, a wrong content
//! type, oversized bodies and values, and unknown paths, each with its status and the one
//! error shape.

use super::{assert_error, post_json};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, Response};
use serde_json::{json, Value};
use tillpoint_protocol::ErrorCode;
use tillpoint_server::testing::{new_device, spawn_server, TestServer};

async fn post_raw(server: &TestServer, content_type: Option<&str>, body: String) -> Response {
    let mut request = Client::new()
        .post(server.at("api/v1/auth/login"))
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    request.send().await.expect("the server answers")
}

fn login_body(username: &str, password: &str, device_id: &str) -> Value {
    json!({"username": username, "password": password, "device_id": device_id})
}

#[tokio::test]
async fn malformed_json_is_400_bad_request() {
    let server = spawn_server().await;
    let response = post_raw(
        &server,
        Some("application/json"),
        r#"{"username": "alice", "password": "#.into(),
    )
    .await;
    assert_error(response, 400, ErrorCode::BadRequest).await;
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_422_unprocessable() {
    let server = spawn_server().await;
    for body in [
        json!({"username": 42, "password": "x", "device_id": new_device()}),
        json!({"username": "alice"}),
        json!(["alice", "x"]),
    ] {
        let response = post_json(&server, "api/v1/auth/login", &body).await;
        assert_error(response, 422, ErrorCode::Unprocessable).await;
    }
}

#[tokio::test]
async fn unknown_fields_are_422_unprocessable() {
    let server = spawn_server().await;
    let mut body = login_body("alice", "x", &new_device().to_string());
    body["organisation_id"] = json!(uuid::Uuid::now_v7());
    let response = post_json(&server, "api/v1/auth/login", &body).await;
    assert_error(response, 422, ErrorCode::Unprocessable).await;
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_415() {
    let server = spawn_server().await;
    let body = login_body("alice", "x", &new_device().to_string()).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let response = post_raw(&server, content_type, body.clone()).await;
        assert_error(response, 415, ErrorCode::UnsupportedMediaType).await;
    }
}

#[tokio::test]
async fn a_body_over_2_mib_is_413_payload_too_large() {
    let server = spawn_server().await;
    let huge = "a".repeat(2 * 1024 * 1024 + 1);
    let body = login_body(&huge, "x", &new_device().to_string()).to_string();
    let response = post_raw(&server, Some("application/json"), body).await;
    assert_error(response, 413, ErrorCode::PayloadTooLarge).await;
}

#[tokio::test]
async fn a_10000_character_username_is_422() {
    let server = spawn_server().await;
    let body = login_body(&"a".repeat(10_000), "x", &new_device().to_string());
    let response = post_json(&server, "api/v1/auth/login", &body).await;
    assert_error(response, 422, ErrorCode::Unprocessable).await;
}

#[tokio::test]
async fn an_empty_password_is_422() {
    let server = spawn_server().await;
    let body = login_body("alice", "", &new_device().to_string());
    let response = post_json(&server, "api/v1/auth/login", &body).await;
    assert_error(response, 422, ErrorCode::Unprocessable).await;
}

#[tokio::test]
async fn a_device_id_that_is_not_a_uuid_is_422() {
    let server = spawn_server().await;
    for device_id in ["till-1", "", "00000000-0000-0000-0000-00000000000g"] {
        let body = login_body("alice", "x", device_id);
        let response = post_json(&server, "api/v1/auth/login", &body).await;
        assert_error(response, 422, ErrorCode::Unprocessable).await;
    }
}

#[tokio::test]
async fn an_unknown_path_is_a_json_404() {
    let server = spawn_server().await;
    let response = reqwest::get(server.at("api/v1/no-such-thing"))
        .await
        .unwrap();
    assert!(response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|t| t.to_str().unwrap().starts_with("application/json")));
    let body = assert_error(response, 404, ErrorCode::NotFound).await;
    assert_eq!(body.error.message, "no such endpoint");
}
