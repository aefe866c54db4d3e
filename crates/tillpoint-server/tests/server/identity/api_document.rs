//! The API document: it lists the identity endpoints, and every path it names is served.

use reqwest::Client;
use serde_json::{json, Value};
use tillpoint_protocol::ErrorBody;
use tillpoint_server::testing::{spawn_server, TestServer};

async fn openapi(server: &TestServer) -> Value {
    let response = reqwest::get(server.at("api/v1/openapi.json"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_openapi_document_lists_the_identity_endpoints() {
    let server = spawn_server().await;
    let doc = openapi(&server).await;
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/healthz", "get"),
        ("/.well-known/jwks.json", "get"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/refresh", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not in the API document"
        );
    }
}

#[tokio::test]
async fn every_path_in_the_openapi_document_is_served() {
    let server = spawn_server().await;
    let doc = openapi(&server).await;
    let paths = doc["paths"].as_object().expect("paths");
    let client = Client::new();
    let mut checked = 0;
    for (path, item) in paths {
        let concrete: String = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    uuid::Uuid::now_v7().to_string()
                } else {
                    segment.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let url = server.at(&concrete);
            let request = match method {
                "get" => client.get(&url),
                "post" => client.post(&url).json(&json!({})),
                "put" => client.put(&url).json(&json!({})),
                "patch" => client.patch(&url).json(&json!({})),
                _ => client.delete(&url),
            };
            let response = request.send().await.expect("the server answers");
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            assert_ne!(status, 405, "{method} {path} is documented but not served");
            let fallback = status == 404
                && serde_json::from_str::<ErrorBody>(&body)
                    .is_ok_and(|b| b.error.message == "no such endpoint");
            assert!(!fallback, "{method} {path} is documented but not served");
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} operations documented");
}
