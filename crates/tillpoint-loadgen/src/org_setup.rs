//! Before a run, an administrator of the organisation under load prepares it over the admin
//! API, as a person would: raises its offline limits, so a thousand offline sales a till are
//! within its grant (the defaults allow a shop's few hours offline, not a load test's
//! backlog), and gives every till a cashier of its own, as a chain's tills have.

use anyhow::{bail, Context};
use serde_json::{json, Value};

/// The administrator's session on one instance.
pub struct AdminSession {
    http: reqwest::Client,
    server: String,
    token: String,
}

impl AdminSession {
    pub async fn sign_in(server: &str, username: &str, password: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::new();
        let server = server.trim_end_matches('/').to_owned();
        let login = http
            .post(format!("{server}/api/v1/auth/login"))
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
        Ok(Self {
            http,
            server,
            token,
        })
    }

    async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> anyhow::Result<Value> {
        let answer = request.bearer_auth(&self.token).send().await?;
        if !answer.status().is_success() {
            bail!("{what}: {} {}", answer.status(), answer.text().await?);
        }
        Ok(answer.json().await?)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.server)
    }

    /// Sets every currency's offline limits to `total` (minor units) for the whole grant and
    /// for one sale.
    pub async fn raise_offline_limits(&self, total: i64) -> anyhow::Result<()> {
        let mut settings = self
            .send(
                self.http.get(self.url("api/v1/admin/settings")),
                "reading the settings (needs admin:settings)",
            )
            .await?;
        let limits = settings["offline_limits"]
            .as_object_mut()
            .context("offline limits in the settings")?;
        for limit in limits.values_mut() {
            limit["max_sale"] = json!(total);
            limit["max_offline_total"] = json!(total);
        }
        self.send(
            self.http
                .put(self.url("api/v1/admin/settings"))
                .json(&settings),
            "changing the settings",
        )
        .await?;
        Ok(())
    }

    /// Creates `count` users with the Cashier role, named `{prefix}-000`, `{prefix}-001`, …,
    /// all with `password`; returns their usernames.
    pub async fn create_cashiers(
        &self,
        prefix: &str,
        count: usize,
        password: &str,
    ) -> anyhow::Result<Vec<String>> {
        let roles = self
            .send(
                self.http.get(self.url("api/v1/admin/roles")),
                "listing the roles",
            )
            .await?;
        let cashier = roles["roles"]
            .as_array()
            .and_then(|roles| roles.iter().find(|r| r["name"] == "Cashier"))
            .and_then(|role| role["id"].as_str())
            .context("the organisation has no Cashier role")?
            .to_owned();
        let mut usernames = Vec::with_capacity(count);
        for i in 0..count {
            let username = format!("{prefix}-{i:03}");
            self.send(
                self.http.post(self.url("api/v1/admin/users")).json(&json!({
                    "username": username, "name": format!("Load till {i}"),
                    "email": format!("{username}@loadgen.invalid"),
                    "role_id": cashier, "password": password})),
                &format!("creating the user {username}"),
            )
            .await?;
            usernames.push(username);
        }
        Ok(usernames)
    }
}
