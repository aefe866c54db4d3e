//! Every text a client can write, filled with what breaks careless servers: SQL
//! metacharacters, NUL and other control characters, a right-to-left override, stacked
//! combining marks, astral emoji, a byte-order mark, format strings, markup, lone UTF-16
//! surrogates and strings far past any limit. Each is either refused with a clear 4xx or
//! stored and read back byte for byte; never a 5xx; and every table is still there after.
//!
//! The fields: a user's name, email, username and password; a role's name; the settings'
//! permission and currency texts; a chain re-base's note; the sign-in's username; the
//! refresh token; the pull cursor; and what a till writes into a sale (a line's name and
//! SKU, a payment's reference, the receipt number). Products are not written through the API.

use reqwest::Method;
use serde_json::{json, Value};
use tillpoint_protocol::sync::{Outcome, PULL_PATH, PUSH_PATH};
use tillpoint_protocol::ErrorCode;
use tillpoint_system_tests::spawn_server;
use tillpoint_system_tests::sync::post_batch_ok;
use tillpoint_system_tests::TestServer;

use super::{
    another_sale_like, edit_payload, get, organisation, post, put, relink, role_of, send,
    server_tables, shop, Answer, Body, Org, PASSWORD,
};

/// The texts every field is tried with, each named for the report of a failure.
fn hostile_texts() -> Vec<(&'static str, String)> {
    vec![
        ("SQL comment", "'; DROP TABLE users; --".into()),
        ("SQL tautology", "\" OR 1=1 --".into()),
        (
            "SQL statement",
            "x'); DELETE FROM sales; UPDATE users SET role_id = NULL; --".into(),
        ),
        ("LIKE wildcards", "%_%\\".into()),
        ("NUL", "before\0after".into()),
        ("control characters", "a\u{1}\u{8}\u{1b}[31mred\r\n".into()),
        ("RTL override", "\u{202e}gnp.exe\u{202c}".into()),
        (
            "combining marks",
            "Z\u{351}\u{352}\u{353}a\u{301}\u{302}\u{303}\u{304}".into(),
        ),
        ("emoji and astral", "🦀 👩‍👩‍👧‍👦 𝕏 \u{1F1FF}\u{1F1FC}".into()),
        ("byte-order mark", "\u{feff}name".into()),
        ("noncharacter", "\u{fffe}\u{ffff}".into()),
        ("format string", "%s%n%x{0}${jndi:ldap://x/a}".into()),
        ("markup", "<script>alert(1)</script>".into()),
        ("only spaces", "   ".into()),
        ("empty", String::new()),
        ("10,000 characters", "é".repeat(10_000)),
        ("1,000,000 bytes", "x".repeat(1_000_000)),
    ]
}

/// Requires either a clear refusal, or success with `read_back()` equal to `sent`.
#[track_caller]
fn refused_or_kept(field: &str, name: &str, answer: &Answer, sent: &str, read_back: Option<&str>) {
    assert!(
        !answer.status.is_server_error(),
        "{field} = {name}: {} {}",
        answer.status,
        answer.text
    );
    if answer.status.is_success() {
        assert_eq!(
            read_back,
            Some(sent),
            "{field} = {name} was not kept as sent"
        );
    } else {
        answer.assert_refused();
    }
}

/// Every table is there and the organisation's users are the ones expected.
async fn intact(server: &TestServer, tables: &[String], org: &Org, users: usize) {
    assert_eq!(server_tables(server).await, tables);
    let listed = get(server, "api/v1/admin/users", org.admin.token())
        .await
        .expect(200);
    assert_eq!(listed["users"].as_array().unwrap().len(), users);
}

async fn attacked() -> (TestServer, Org, Vec<String>) {
    let server = spawn_server().await;
    let org = organisation(&server, "Kwik Mart", "kwik").await;
    let tables = server_tables(&server).await;
    (server, org, tables)
}

#[tokio::test]
async fn a_users_name_and_email_hold_any_text_exactly_or_are_refused() {
    let (server, org, tables) = attacked().await;
    let mut users = 2;
    for (i, (name, text)) in hostile_texts().into_iter().enumerate() {
        // An email is tried with the text as all of it and as its local part.
        let tries = [
            ("name", text.clone()),
            ("email", text.clone()),
            ("email", format!("{text}@shop.example")),
        ];
        for (j, (field, value)) in tries.into_iter().enumerate() {
            let mut body = json!({"username": format!("user-{i}-{j}"), "name": "Someone",
                                  "email": "someone@shop.example",
                                  "role_id": role_of(&org.org, "Cashier"), "password": PASSWORD});
            body[field] = json!(value);
            let answer = post(&server, "api/v1/admin/users", org.admin.token(), &body).await;
            let read_back = if answer.status.is_success() {
                users += 1;
                let id = answer.json()["id"].as_str().unwrap().to_owned();
                let user = get(
                    &server,
                    &format!("api/v1/admin/users/{id}"),
                    org.admin.token(),
                )
                .await
                .expect(200);
                user[field].as_str().map(str::to_owned)
            } else {
                None
            };
            refused_or_kept(field, name, &answer, &value, read_back.as_deref());
        }
    }
    intact(&server, &tables, &org, users).await;
}

#[tokio::test]
async fn a_hostile_username_is_refused_and_never_signs_anyone_in() {
    let (server, org, tables) = attacked().await;
    for (name, text) in hostile_texts() {
        let body = json!({"username": text, "name": "Someone", "email": "someone@shop.example",
                          "role_id": role_of(&org.org, "Cashier"), "password": PASSWORD});
        let created = post(&server, "api/v1/admin/users", org.admin.token(), &body).await;
        assert_eq!(created.status, 422, "{name}: {}", created.text);
        created.assert_error(ErrorCode::Unprocessable);
    }
    // Sign-ins that would find the administrator's row if the username reached SQL as text,
    // with a wrong password: each is an unknown user (401) or not a username (422). Fewer
    // than the address's free failures, so no answer is a 429 that could hide the outcome.
    for username in [
        "kwik-admin' --",
        "kwik-admin'; --",
        "' OR '1'='1",
        "' OR username LIKE 'kwik%' --",
        "kwik-admin\0",
        "kwik-admin\u{202e}",
        "KWIK-ADMIN' /*",
    ] {
        let answer = send(
            &server,
            Method::POST,
            "api/v1/auth/login",
            None,
            Body::Json(
                &json!({"username": username, "password": "wrong-password-1",
                               "device_id": uuid::Uuid::now_v7()}),
            ),
        )
        .await;
        assert!(
            matches!(answer.status.as_u16(), 401 | 422),
            "sign-in as {username:?}: {} {}",
            answer.status,
            answer.text
        );
        answer.assert_refused();
    }
    // The administrator's own sign-in is untouched by them.
    server
        .login("kwik-admin", PASSWORD, tillpoint_system_tests::new_device())
        .await;
    intact(&server, &tables, &org, 2).await;
}

#[tokio::test]
async fn a_password_of_any_text_signs_in_exactly_or_is_refused() {
    let (server, org, tables) = attacked().await;
    let mut users = 2;
    for (i, (name, text)) in hostile_texts().into_iter().enumerate() {
        let username = format!("pw-{i}");
        let body = json!({"username": username, "name": "Someone", "email": "someone@shop.example",
                          "role_id": role_of(&org.org, "Cashier"), "password": text});
        let answer = post(&server, "api/v1/admin/users", org.admin.token(), &body).await;
        let signs_in = |password: String| {
            let (server, username) = (&server, username.clone());
            async move {
                send(
                    server,
                    Method::POST,
                    "api/v1/auth/login",
                    None,
                    Body::Json(&json!({"username": username, "password": password,
                                       "device_id": uuid::Uuid::now_v7()})),
                )
                .await
            }
        };
        let read_back = if answer.status.is_success() {
            users += 1;
            let wrong = signs_in(format!("{text}x")).await;
            wrong.assert_error(ErrorCode::Unauthenticated);
            let right = signs_in(text.clone()).await;
            (right.status == 200).then(|| text.clone())
        } else {
            None
        };
        refused_or_kept("password", name, &answer, &text, read_back.as_deref());
    }
    intact(&server, &tables, &org, users).await;
}

#[tokio::test]
async fn a_role_name_holds_any_text_exactly_or_is_refused() {
    let (server, org, tables) = attacked().await;
    for (name, text) in hostile_texts() {
        let answer = post(
            &server,
            "api/v1/admin/roles",
            org.admin.token(),
            &json!({"name": text, "permissions": ["pos:sales:view"]}),
        )
        .await;
        let read_back = if answer.status.is_success() {
            let id = answer.json()["id"].clone();
            let roles = get(&server, "api/v1/admin/roles", org.admin.token())
                .await
                .expect(200);
            roles["roles"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == id)
                .and_then(|r| r["name"].as_str().map(str::to_owned))
        } else {
            None
        };
        refused_or_kept("role name", name, &answer, &text, read_back.as_deref());
    }
    intact(&server, &tables, &org, 2).await;
}

#[tokio::test]
async fn hostile_permission_and_currency_texts_in_the_settings_are_refused() {
    let (server, org, tables) = attacked().await;
    let before = get(&server, "api/v1/admin/settings", org.admin.token())
        .await
        .expect(200);
    for (name, text) in hostile_texts() {
        let mut permissions = before.clone();
        permissions["offline_permissions"] = json!([text]);
        let mut currency = before.clone();
        currency["offline_limits"] =
            json!({ text.clone(): {"max_sale": 1, "max_offline_total": 1, "max_discount": 0} });
        for (field, body) in [("permission", permissions), ("currency", currency)] {
            let answer = put(&server, "api/v1/admin/settings", org.admin.token(), &body).await;
            assert!(
                !answer.status.is_server_error(),
                "{field} = {name}: {}",
                answer.text
            );
            answer.assert_error(ErrorCode::Unprocessable);
        }
        // As a role's permission, too.
        let role = put(
            &server,
            &format!(
                "api/v1/admin/roles/{}/permissions",
                role_of(&org.org, "Cashier")
            ),
            org.admin.token(),
            &json!({"permissions": [text]}),
        )
        .await;
        role.assert_error(ErrorCode::Unprocessable);
    }
    let after = get(&server, "api/v1/admin/settings", org.admin.token())
        .await
        .expect(200);
    assert_eq!(after, before);
    intact(&server, &tables, &org, 2).await;
}

#[tokio::test]
async fn hostile_refresh_tokens_and_pull_cursors_are_refused_with_a_4xx() {
    let (server, org, tables) = attacked().await;
    // A cursor travels in the URL: texts longer than a URL holds are the body tests' part.
    for (name, text) in hostile_texts()
        .into_iter()
        .filter(|(_, t)| t.len() < 30_000)
    {
        let refreshed = send(
            &server,
            Method::POST,
            "api/v1/auth/refresh",
            None,
            Body::Json(&json!({"refresh_token": text, "device_id": org.cashier.device})),
        )
        .await;
        assert!(
            matches!(refreshed.status.as_u16(), 401 | 422),
            "refresh token {name}: {} {}",
            refreshed.status,
            refreshed.text
        );
        refreshed.assert_refused();
        let url =
            reqwest::Url::parse_with_params(&server.at(PULL_PATH), [("since", &text)]).unwrap();
        let response = reqwest::Client::new()
            .get(url)
            .bearer_auth(org.cashier.token())
            .send()
            .await
            .unwrap();
        let pulled = Answer {
            status: response.status(),
            text: response.text().await.unwrap(),
        };
        if text.is_empty() {
            pulled.expect(200); // an empty cursor is documented as "from the start"
        } else {
            assert!(
                matches!(pulled.status.as_u16(), 400 | 414 | 422 | 431),
                "cursor {name}: {} {}",
                pulled.status,
                pulled.text
            );
        }
    }
    intact(&server, &tables, &org, 2).await;
}

#[tokio::test]
async fn a_lone_surrogate_escape_is_refused_with_400_wherever_json_is_read() {
    let (server, org, tables) = attacked().await;
    let role = role_of(&org.org, "Cashier");
    let bodies = [
        (
            "api/v1/admin/users",
            format!(
                r#"{{"username": "lone", "name": "\ud800", "email": "a@b.example",
                    "role_id": "{role}", "password": "{PASSWORD}"}}"#
            ),
        ),
        (
            "api/v1/admin/users",
            format!(
                r#"{{"username": "lone", "name": "low \udc00 first", "email": "a@b.example",
                    "role_id": "{role}", "password": "{PASSWORD}"}}"#
            ),
        ),
        (
            "api/v1/admin/roles",
            r#"{"name": "\ud83e", "permissions": []}"#.to_owned(),
        ),
        (
            "api/v1/auth/login",
            format!(
                r#"{{"username": "kwik-admin\ud800", "password": "{PASSWORD}",
                    "device_id": "{}"}}"#,
                uuid::Uuid::now_v7()
            ),
        ),
    ];
    for (path, body) in bodies {
        let answer = send(
            &server,
            Method::POST,
            path,
            Some(org.admin.token()),
            Body::Raw(Some("application/json"), body.into_bytes()),
        )
        .await;
        answer.assert_error(ErrorCode::BadRequest);
    }
    intact(&server, &tables, &org, 2).await;
}

#[tokio::test]
async fn a_chain_rebase_note_holds_any_text_exactly_or_is_refused() {
    let shop = shop().await;
    shop.sell("1", "2.00").await;
    let token = shop.till_token().await;
    post_batch_ok(&shop.server, PUSH_PATH, &token, &shop.batch(shop.journal())).await;
    let record = stored_record_id(&shop.server, shop.journal()[1].id).await;
    let tables = server_tables(&shop.server).await;
    for (name, text) in hostile_texts() {
        let answer = post(
            &shop.server,
            &format!("api/v1/admin/devices/{}/chain/rebase", shop.device()),
            shop.target.admin.token(),
            &json!({"record": record, "note": text}),
        )
        .await;
        let read_back = if answer.status.is_success() {
            last_rebase_note(&shop.server).await
        } else {
            None
        };
        // The note is kept without the whitespace around it (chain_rebase.rs trims it).
        refused_or_kept(
            "rebase note",
            name,
            &answer,
            text.trim(),
            read_back.as_deref(),
        );
    }
    intact(&shop.server, &tables, &shop.target, 2).await;
}

/// The server's id of its copy of the till's record `record`.
async fn stored_record_id(server: &TestServer, record: uuid::Uuid) -> String {
    server
        .db
        .call(
            move |conn| -> Result<String, tillpoint_server::store::DbError> {
                Ok(conn.query_row(
                    "SELECT id FROM sync_records WHERE record_id = ?1",
                    [record.to_string()],
                    |r| r.get(0),
                )?)
            },
        )
        .await
        .unwrap()
}

/// The note of the latest chain re-base, as its audit entry keeps it.
async fn last_rebase_note(server: &TestServer) -> Option<String> {
    let detail: String = server
        .db
        .call(|conn| -> Result<String, tillpoint_server::store::DbError> {
            Ok(conn.query_row(
                "SELECT detail FROM audit_log WHERE event = 'device_chain_rebased'
                      ORDER BY at DESC, id DESC LIMIT 1",
                (),
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    let detail: Value = serde_json::from_str(&detail).unwrap();
    detail["note"].as_str().map(str::to_owned)
}

/// Where in a sale payload a text goes.
type TextAt = fn(&mut Value) -> &mut Value;

/// The texts a till writes into a sale, each in its own pushed sale: a line's name and SKU,
/// a payment's reference and a reason are kept byte for byte in the server's books; a
/// receipt number that is not the device's is quarantined; a lone surrogate inside a record's payload
/// rejects that record alone.
#[tokio::test]
async fn the_texts_a_till_writes_into_a_sale_are_taken_and_kept_exactly() {
    let shop = shop().await;
    shop.sell("1", "2.00").await;
    let mut records = shop.journal();
    let template = records[1].clone();
    let texts = hostile_texts();
    // Fields of a sale line or payment, each to carry every text in turn.
    let fields: [(&str, TextAt); 4] = [
        ("line name", |p| &mut p["lines"][0]["name"]),
        ("line SKU", |p| &mut p["lines"][0]["sku"]),
        ("payment reference", |p| &mut p["payments"][0]["reference"]),
        ("reason", |p| &mut p["reason"]),
    ];
    let mut sent = Vec::new();
    for (field, at) in &fields {
        for (name, text) in &texts {
            let mut record = another_sale_like(&template, template.seq + 1 + sent.len() as u64);
            edit_payload(&mut record, |p| *at(p) = json!(text));
            sent.push((*field, *name, text.clone(), record.payload.clone()));
            records.push(record);
        }
    }
    // A receipt number of SQL, and a payload with a lone surrogate escape in it.
    let mut sql_receipt = another_sale_like(&template, template.seq + 1 + sent.len() as u64);
    edit_payload(&mut sql_receipt, |p| {
        p["receipt_no"] = json!("'; DROP TABLE sales; --")
    });
    records.push(sql_receipt);
    let mut lone = another_sale_like(&template, template.seq + 2 + sent.len() as u64);
    lone.payload = lone
        .payload
        .replace(r#""receipt_no":"#, r#""reason":"\ud800","receipt_no":"#);
    assert!(lone.payload.contains(r"\ud800"), "{}", lone.payload);
    records.push(lone);
    relink(&mut records, tillpoint_protocol::journal::GENESIS_HASH);

    let tables = server_tables(&shop.server).await;
    let token = shop.till_token().await;
    let answer = post_batch_ok(&shop.server, PUSH_PATH, &token, &shop.batch(records)).await;
    for (index, (field, name, text, payload)) in sent.iter().enumerate() {
        let result = &answer.results[2 + index];
        // A till's own texts are its business: every one is taken.
        assert_eq!(
            result.outcome,
            Outcome::Accepted,
            "{field} = {name}: {result:?}"
        );
        // What the server holds of the record is the payload as sent.
        assert_eq!(
            stored_payload(&shop.server, result.id).await.as_ref(),
            Some(payload),
            "{field} = {name}"
        );
        // And the books hold the text itself (a reason is kept in the record alone).
        if *field != "reason" {
            let stored = stored_text(&shop.server, result.id, field).await;
            // PostgreSQL's text has no U+0000: the books hold U+FFFD there (the payload,
            // above, keeps the till's text exactly).
            let expected = if tillpoint_server::testing::on_postgres() {
                text.replace('\0', "\u{FFFD}")
            } else {
                text.clone()
            };
            assert_eq!(
                stored.as_deref(),
                Some(expected.as_str()),
                "{field} = {name}"
            );
        }
    }
    let receipt = &answer.results[answer.results.len() - 2];
    assert_eq!(receipt.outcome, Outcome::Quarantined, "{receipt:?}");
    let lone = answer.results.last().unwrap();
    assert_eq!(lone.outcome, Outcome::Rejected, "{lone:?}");
    assert_eq!(server_tables(&shop.server).await, tables);
}

/// The payload of the server's copy of record `record`, as it holds it.
async fn stored_payload(server: &TestServer, record: uuid::Uuid) -> Option<String> {
    server
        .db
        .call(
            move |conn| -> Result<Option<String>, tillpoint_server::store::DbError> {
                use rusqlite::OptionalExtension as _;
                Ok(conn
                    .query_row(
                        "SELECT payload FROM sync_records WHERE record_id = ?1",
                        [record.to_string()],
                        |r| r.get(0),
                    )
                    .optional()?)
            },
        )
        .await
        .unwrap()
}

/// The text `field` of the sale a stored record was applied as.
async fn stored_text(server: &TestServer, record: uuid::Uuid, field: &str) -> Option<String> {
    let sql = match field {
        "line name" => {
            "SELECT l.name FROM sale_lines l JOIN sales s
                          ON s.org_id = l.org_id AND s.id = l.sale_id
                          JOIN sync_records r ON r.id = s.sync_record_id
                         WHERE r.record_id = ?1"
        }
        "line SKU" => {
            "SELECT l.sku FROM sale_lines l JOIN sales s
                         ON s.org_id = l.org_id AND s.id = l.sale_id
                         JOIN sync_records r ON r.id = s.sync_record_id
                        WHERE r.record_id = ?1"
        }
        _ => {
            "SELECT p.reference FROM sale_payments p JOIN sales s
                ON s.org_id = p.org_id AND s.id = p.sale_id
                JOIN sync_records r ON r.id = s.sync_record_id
               WHERE r.record_id = ?1"
        }
    };
    server
        .db
        .call(
            move |conn| -> Result<Option<String>, tillpoint_server::store::DbError> {
                Ok(conn.query_row(sql, [record.to_string()], |r| r.get(0))?)
            },
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn hostile_ids_in_paths_and_numbers_in_queries_are_a_4xx_in_the_error_shape() {
    let (server, org, tables) = attacked().await;
    let token = org.admin.token();
    // Percent-encoded, so that each reaches the router as the one path segment it is.
    let ids = [
        "' OR 1=1 --",
        "1; DROP TABLE users",
        "%00",
        "\0",
        "\u{202e}",
        "🦀",
        "..",
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
    ]
    .map(urlencode);
    let long = "a".repeat(4_000);
    for id in ids.iter().map(String::as_str).chain([long.as_str()]) {
        for (method, path) in [
            (Method::GET, format!("api/v1/admin/users/{id}")),
            (Method::POST, format!("api/v1/admin/users/{id}/disable")),
            (Method::POST, format!("api/v1/admin/devices/{id}/revoke")),
            (Method::GET, format!("api/v1/products/{id}")),
            (Method::POST, format!("api/v1/sync/quarantine/{id}/void")),
        ] {
            let answer = send(&server, method.clone(), &path, Some(token), Body::None).await;
            assert!(
                answer.status.is_client_error(),
                "{method} {path}: {} {}",
                answer.status,
                answer.text
            );
            answer.assert_refused();
        }
    }
    for query in [
        "limit=-1",
        "limit=18446744073709551616",
        "limit=1e3",
        "after=' OR 1=1 --",
        "after=%00",
        "limit=1&limit=2",
    ] {
        for path in ["api/v1/products", PULL_PATH] {
            let answer = get(&server, &format!("{path}?{query}"), token).await;
            assert!(
                answer.status.is_client_error(),
                "{path}?{query}: {} {}",
                answer.status,
                answer.text
            );
            answer.assert_refused();
        }
    }
    intact(&server, &tables, &org, 2).await;
}

/// `text` percent-encoded as one path segment.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_username_or_role_name_sent_ten_times_at_once_is_created_once() {
    let (server, org, tables) = attacked().await;
    for (path, body) in [
        (
            "api/v1/admin/users",
            json!({"username": "twin", "name": "Twin", "email": "twin@shop.example",
                   "role_id": role_of(&org.org, "Cashier"), "password": PASSWORD}),
        ),
        (
            "api/v1/admin/roles",
            json!({"name": "Night shift", "permissions": ["pos:sales:view"]}),
        ),
    ] {
        let mut racers = tokio::task::JoinSet::new();
        for _ in 0..10 {
            let (url, token, body) = (server.at(path), org.admin.token().to_owned(), body.clone());
            racers.spawn(async move {
                let response = reqwest::Client::new()
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                Answer {
                    status: response.status(),
                    text: response.text().await.unwrap(),
                }
            });
        }
        let answers = racers.join_all().await;
        let created = answers.iter().filter(|a| a.status == 201).count();
        assert_eq!(created, 1, "{path}: {answers:?}");
        for answer in answers.iter().filter(|a| a.status != 201) {
            answer.assert_error(ErrorCode::Conflict);
        }
    }
    intact(&server, &tables, &org, 3).await;
}
