//! Request bodies no client writes, sent to every route that reads one: past the route's
//! size limit, truncated, of the wrong types, nested beyond reason, under another content
//! type, empty, or not UTF-8. Each is a clear 4xx in the one error shape, never a 5xx or a
//! dropped connection, and the server goes on answering.
//!
//! `crates/tillpoint-server/tests/server/identity/bad_input.rs` attacks the sign-in route
//! alone with the same kinds of body; here every route that takes a body is.

use reqwest::Method;
use serde_json::{json, Value};
use tillpoint_protocol::sync::Outcome;
use tillpoint_protocol::sync::PUSH_PATH;
use tillpoint_protocol::ErrorCode;
use tillpoint_system_tests::spawn_server;
use tillpoint_system_tests::sync::{outcomes, post_batch_ok, reason};
use tillpoint_system_tests::TestServer;

use super::{organisation, relink_from, send, shop, Answer, Body, Org};

/// A route that reads a JSON body, the token it is called with and its body limit.
struct Route {
    method: Method,
    path: String,
    token: Option<String>,
    limit: usize,
}

const MIB: usize = 1024 * 1024;

/// Every route that reads a body, called by the organisation's Super Administrator (who may
/// call each) so that only the body can be wrong.
fn routes(org: &Org) -> Vec<Route> {
    let admin = Some(org.admin.token().to_owned());
    let device = org.cashier.device;
    let role = super::role_of(&org.org, "Cashier");
    let user = org.cashier.user;
    let route = |method: Method, path: String, token: &Option<String>, limit: usize| Route {
        method,
        path,
        token: token.clone(),
        limit,
    };
    vec![
        route(Method::POST, "api/v1/auth/login".into(), &None, 2 * MIB),
        route(Method::POST, "api/v1/auth/refresh".into(), &None, 2 * MIB),
        route(Method::POST, "api/v1/auth/logout".into(), &None, 2 * MIB),
        route(Method::POST, "api/v1/admin/users".into(), &admin, 2 * MIB),
        route(
            Method::POST,
            format!("api/v1/admin/users/{user}/password"),
            &admin,
            2 * MIB,
        ),
        route(
            Method::PUT,
            format!("api/v1/admin/users/{user}/role"),
            &admin,
            2 * MIB,
        ),
        route(Method::POST, "api/v1/admin/roles".into(), &admin, 2 * MIB),
        route(
            Method::PUT,
            format!("api/v1/admin/roles/{role}/permissions"),
            &admin,
            2 * MIB,
        ),
        route(Method::PUT, "api/v1/admin/settings".into(), &admin, 2 * MIB),
        route(
            Method::POST,
            format!("api/v1/admin/devices/{device}/chain/rebase"),
            &admin,
            2 * MIB,
        ),
        route(Method::POST, PUSH_PATH.into(), &admin, 16 * MIB),
        route(Method::POST, "api/v1/sync/import".into(), &admin, 64 * MIB),
    ]
}

async fn attacked() -> (TestServer, Org) {
    let server = spawn_server().await;
    let org = organisation(&server, "Kwik Mart", "kwik").await;
    (server, org)
}

async fn send_raw(
    server: &TestServer,
    route: &Route,
    content_type: Option<&str>,
    bytes: Vec<u8>,
) -> Answer {
    send(
        server,
        route.method.clone(),
        &route.path,
        route.token.as_deref(),
        Body::Raw(content_type, bytes),
    )
    .await
}

/// Sends `body` as JSON to every route and requires one of `codes` from each, in the error
/// shape. Where the one right answer is not fixed (serde reads as it parses, so a body both
/// of the wrong shape and cut short is refused for whichever it meets first), `codes` says
/// which answers are clear.
async fn every_route_answers(body: impl Fn(&Route) -> Vec<u8>, codes: &[ErrorCode]) {
    let (server, org) = attacked().await;
    for route in routes(&org) {
        let answer = send_raw(&server, &route, Some("application/json"), body(&route)).await;
        let code = codes
            .iter()
            .find(|code| code.http_status() == answer.status.as_u16())
            .unwrap_or_else(|| {
                panic!(
                    "{} {}: {} {}",
                    route.method, route.path, answer.status, answer.text
                )
            });
        answer.assert_error(*code);
    }
    still_answers(&server, &org).await;
}

/// The server is up and its data whole after the attack.
async fn still_answers(server: &TestServer, org: &Org) {
    let users = super::get(server, "api/v1/admin/users", org.admin.token())
        .await
        .expect(200);
    assert_eq!(users["users"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_body_past_its_routes_limit_is_413_on_every_route() {
    let (server, org) = attacked().await;
    for route in routes(&org) {
        // A JSON object whose one string takes the body one byte past the limit.
        let padding = route.limit + 1 - r#"{"username":""}"#.len();
        let body = format!(r#"{{"username":"{}"}}"#, "a".repeat(padding));
        assert_eq!(body.len(), route.limit + 1);
        let answer = send_raw(&server, &route, Some("application/json"), body.into()).await;
        assert_eq!(
            answer.status.as_u16(),
            413,
            "{} {}: {}",
            route.method,
            route.path,
            answer.text
        );
        answer.assert_error(ErrorCode::PayloadTooLarge);
    }
    still_answers(&server, &org).await;
}

#[tokio::test]
async fn json_cut_short_is_400_on_every_route() {
    every_route_answers(|_| br#"{""#.to_vec(), &[ErrorCode::BadRequest]).await;
}

#[tokio::test]
async fn json_cut_short_after_a_field_is_a_4xx_on_every_route() {
    every_route_answers(
        |_| br#"{"username": "kwik-admin", "password": "#.to_vec(),
        &[ErrorCode::BadRequest, ErrorCode::Unprocessable],
    )
    .await;
}

#[tokio::test]
async fn an_empty_json_body_is_400_on_every_route() {
    every_route_answers(|_| Vec::new(), &[ErrorCode::BadRequest]).await;
}

#[tokio::test]
async fn json_nested_a_hundred_thousand_deep_is_a_4xx_on_every_route() {
    every_route_answers(
        |_| {
            let mut body = "[".repeat(100_000);
            body.push_str(&"]".repeat(100_000));
            body.into_bytes()
        },
        &[ErrorCode::BadRequest, ErrorCode::Unprocessable],
    )
    .await;
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_400_on_every_route() {
    every_route_answers(
        |_| {
            let mut body = br#"{""#.to_vec();
            body.extend_from_slice(&[0xff, 0xfe, 0xc0, 0x80]);
            body.extend_from_slice(br#"": "x"}"#);
            body
        },
        &[ErrorCode::BadRequest],
    )
    .await;
}

#[tokio::test]
async fn json_of_the_wrong_types_is_422_on_every_route() {
    let (server, org) = attacked().await;
    let wrong: Vec<Value> = vec![
        json!([]),
        json!("a string"),
        json!(42),
        json!(null),
        json!({"username": 42, "password": [], "device_id": {}, "refresh_token": 7,
               "name": true, "permissions": "all", "record": 1, "note": [],
               "records": "none", "signature": 5, "role_id": false,
               "access_token_ttl_secs": "long"}),
    ];
    for route in routes(&org) {
        for body in &wrong {
            let answer = send(
                &server,
                route.method.clone(),
                &route.path,
                route.token.as_deref(),
                Body::Json(body),
            )
            .await;
            assert_eq!(
                answer.status.as_u16(),
                422,
                "{} {} with {body}: {}",
                route.method,
                route.path,
                answer.text
            );
            answer.assert_error(ErrorCode::Unprocessable);
        }
    }
    still_answers(&server, &org).await;
}

#[tokio::test]
async fn a_body_under_another_content_type_is_415_on_every_route() {
    let (server, org) = attacked().await;
    for route in routes(&org) {
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/xml"),
        ] {
            let answer = send_raw(&server, &route, content_type, b"{}".to_vec()).await;
            assert_eq!(
                answer.status.as_u16(),
                415,
                "{} {} as {content_type:?}: {}",
                route.method,
                route.path,
                answer.text
            );
            answer.assert_error(ErrorCode::UnsupportedMediaType);
        }
    }
    still_answers(&server, &org).await;
}

#[tokio::test]
async fn a_record_payload_nested_beyond_reason_is_never_a_5xx() {
    let shop = shop().await;
    shop.sell("1", "2.00").await;
    shop.sell("1", "2.00").await;
    let mut records = shop.journal();
    // A hundred thousand levels in a field the payload does not have (it is skipped, the
    // sale read as the till wrote it), and as the whole payload (not a sale: rejected).
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let payload = records[1].payload.clone();
    records[1].payload = format!(r#"{{"extra":{deep},{}"#, &payload[1..]);
    records[2].payload = deep;
    relink_from(&mut records, 1);
    let token = shop.till_token().await;
    let answer = post_batch_ok(&shop.server, PUSH_PATH, &token, &shop.batch(records)).await;
    assert_eq!(
        outcomes(&answer),
        [Outcome::Accepted, Outcome::Accepted, Outcome::Rejected],
        "{answer:?}"
    );
    assert!(
        reason(&answer, 2).starts_with("the payload is not a sale payload"),
        "{answer:?}"
    );
    assert_eq!(shop.sales_on_server().await, 1);
}
