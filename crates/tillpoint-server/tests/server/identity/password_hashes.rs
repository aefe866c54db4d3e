//! Password hashes: a hash weaker than today's parameters is upgraded at the next sign-in.

use super::{query, PASSWORD};
use argon2::password_hash::{PasswordHasher, SaltString};
use tillpoint_server::testing::{new_device, spawn_server};

#[tokio::test]
async fn a_weaker_password_hash_is_upgraded_at_login() {
    let server = spawn_server().await;
    let org = server.create_organisation("Corner Shop").await;
    let user = server
        .create_user(&org, "legacy", "Cashier", PASSWORD)
        .await;
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(4096, 1, 1, None).unwrap(),
    )
    .hash_password(
        PASSWORD.as_bytes(),
        &SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").unwrap(),
    )
    .unwrap()
    .to_string();
    assert!(weak.starts_with("$argon2id$v=19$m=4096,t=1,p=1$"));
    let stored = weak.clone();
    let id = user.to_string();
    query(&server, move |c| {
        c.execute(
            "UPDATE users SET password_hash = ?1 WHERE id = ?2",
            [&stored, &id],
        )
    })
    .await;

    server.login("legacy", PASSWORD, new_device()).await;
    let id = user.to_string();
    let upgraded: String = query(&server, move |c| {
        c.query_row(
            "SELECT password_hash FROM users WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )
    })
    .await;
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{upgraded}"
    );
    // The new hash is of the same password.
    server.login("legacy", PASSWORD, new_device()).await;
}
