//! Before a run: an administrator of the organisation under load raises its offline limits,
//! so a thousand offline sales a till are within its grant (the defaults allow a shop's
//! few hours offline, not a load test's backlog). Over the admin API, as a person would.

use anyhow::{bail, Context};
use serde_json::{json, Value};

/// Signs in as `username` on `server` and sets every currency's offline limits to `total`
/// (minor units) for the whole grant and for one sale.
pub async fn raise_offline_limits(
    server: &str,
    username: &str,
    password: &str,
    total: i64,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}/{path}", server.trim_end_matches('/'));
    let login = http
        .post(url("api/v1/auth/login"))
        .json(&json!({"username": username, "password": password,
                      "device_id": uuid::Uuid::now_v7()}))
        .send()
        .await
        .context("the server answers")?;
    if !login.status().is_success() {
        bail!(
            "signing in as {username}: {} {}",
            login.status(),
            login.text().await?
        );
    }
    let token = login.json::<Value>().await?["access_token"]
        .as_str()
        .context("an access token")?
        .to_owned();
    let mut settings: Value = http
        .get(url("api/v1/admin/settings"))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()
        .context("reading the settings (needs admin:settings)")?
        .json()
        .await?;
    let limits = settings["offline_limits"]
        .as_object_mut()
        .context("offline limits in the settings")?;
    for limit in limits.values_mut() {
        limit["max_sale"] = json!(total);
        limit["max_offline_total"] = json!(total);
    }
    let put = http
        .put(url("api/v1/admin/settings"))
        .bearer_auth(&token)
        .json(&settings)
        .send()
        .await?;
    if !put.status().is_success() {
        bail!(
            "changing the settings: {} {}",
            put.status(),
            put.text().await?
        );
    }
    Ok(())
}
