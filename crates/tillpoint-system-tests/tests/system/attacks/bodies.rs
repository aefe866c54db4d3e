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

use super::{get, organisation, put, relink_from, send, shop, Answer, Body, Org};

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
    let users = get(server, "api/v1/admin/users", org.admin.token())
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

/// Sends `body` to `path` with chunked transfer encoding (no length announced) over a raw
/// connection, and returns the status line and whatever the server answered before closing.
fn post_chunked(server: &reqwest::Url, path: &str, body: &[u8]) -> (String, String) {
    use std::io::{Read as _, Write as _};
    let host = server.host_str().unwrap().to_owned();
    let port = server.port().unwrap();
    let mut stream = std::net::TcpStream::connect((host.as_str(), port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    // The server may answer and close before the body ends: writes after that may fail.
    let _ = stream.write_all(head.as_bytes());
    for chunk in body.chunks(64 * 1024) {
        let framed = [
            format!("{:x}\r\n", chunk.len()).as_bytes(),
            chunk,
            b"\r\n".as_slice(),
        ]
        .concat();
        if stream.write_all(&framed).is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.lines().next().unwrap_or_default().to_owned();
    (status, answer)
}

#[tokio::test]
async fn a_chunked_body_that_never_says_its_length_is_still_held_to_the_limit() {
    let (server, org) = attacked().await;
    let mut body = br#"{"username":""#.to_vec();
    body.extend(std::iter::repeat_n(b'a', 3 * MIB));
    body.extend_from_slice(br#"","password":"x","device_id":"x"}"#);
    let url = server.url.clone();
    let (status, answer) =
        tokio::task::spawn_blocking(move || post_chunked(&url, "api/v1/auth/login", &body))
            .await
            .unwrap();
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    assert!(answer.contains(r#""code":"payload_too_large""#), "{answer}");
    still_answers(&server, &org).await;
}

#[tokio::test]
async fn settings_numbers_at_the_ends_of_their_types_are_refused_or_work() {
    let (server, org) = attacked().await;
    let token = org.admin.token();
    let defaults = get(&server, "api/v1/admin/settings", token)
        .await
        .expect(200);
    let with = |field: &str, value: Value| {
        let mut body = defaults.clone();
        body[field] = value;
        body
    };
    let limits = |value: Value| {
        with(
            "offline_limits",
            json!({"USD": {"max_sale": value, "max_offline_total": value, "max_discount": value}}),
        )
    };
    for (case, body) in [
        (
            "token lifetime -1",
            with("access_token_ttl_secs", json!(-1)),
        ),
        (
            "token lifetime u64::MAX",
            with("access_token_ttl_secs", json!(u64::MAX)),
        ),
        (
            "token lifetime 1e300",
            with("access_token_ttl_secs", json!(1e300)),
        ),
        (
            "grant lifetime i64::MIN",
            with("offline_grant_ttl_secs", json!(i64::MIN)),
        ),
        ("limits u64::MAX", limits(json!(u64::MAX))),
        ("limits i64::MIN", limits(json!(i64::MIN))),
        ("limits 0.5", limits(json!(0.5))),
    ] {
        let answer = put(&server, "api/v1/admin/settings", token, &body).await;
        assert_eq!(answer.status, 422, "{case}: {}", answer.text);
        answer.assert_error(ErrorCode::Unprocessable);
    }
    // The largest limits a setting can hold are either refused or carried into a grant
    // that signs in and is read back exactly.
    let answer = put(
        &server,
        "api/v1/admin/settings",
        token,
        &limits(json!(i64::MAX)),
    )
    .await;
    assert!(!answer.status.is_server_error(), "{}", answer.text);
    if answer.status.is_success() {
        let signed_in = server
            .login(
                "kwik-cashier",
                super::PASSWORD,
                tillpoint_system_tests::new_device(),
            )
            .await;
        let claims = signed_in.offline_grant.split('.').nth(1).unwrap();
        use base64::Engine as _;
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(claims)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            claims["limits"]["USD"]["max_sale"],
            json!(i64::MAX),
            "{claims}"
        );
    } else {
        answer.assert_error(ErrorCode::Unprocessable);
    }
    still_answers(&server, &org).await;
}
