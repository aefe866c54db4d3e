//! Posting a batch of journal records (a push, or an import of an exported file) the way a
//! till or a manager's tool would, and reading the server's per-record answer.

use reqwest::StatusCode;
use tillpoint_protocol::sync::{Outcome, PushRequest, PushResponse};

use super::TestServer;

/// POSTs `body` to `path` with `token`, whatever the answer.
pub async fn post_batch(
    server: &TestServer,
    path: &str,
    token: &str,
    body: &PushRequest,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.at(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("the server answers")
}

/// POSTs `body` to `path`, requiring 200 and one answer per record, in order.
pub async fn post_batch_ok(
    server: &TestServer,
    path: &str,
    token: &str,
    body: &PushRequest,
) -> PushResponse {
    let response = post_batch(server, path, token, body).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    let answer: PushResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(answer.results.len(), body.records.len());
    for (result, record) in answer.results.iter().zip(&body.records) {
        assert_eq!((result.id, result.seq), (record.id, record.seq));
    }
    answer
}

pub fn outcomes(answer: &PushResponse) -> Vec<Outcome> {
    answer.results.iter().map(|r| r.outcome).collect()
}

pub fn reason(answer: &PushResponse, index: usize) -> String {
    answer.results[index].reason.clone().unwrap_or_default()
}
