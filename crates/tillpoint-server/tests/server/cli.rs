//! The `tillpoint-server` binary as an operator meets it: bad input gets one clear line and a
//! non-zero exit, never a panic; `demo` seeds and prints what it promises.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

fn server(args: &[&str], data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tillpoint-server"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("TILLPOINT_SERVER_LISTEN")
        .env_remove("TILLPOINT_SERVER_CONFIG")
        .env("TILLPOINT_DEMO_PASSWORD", "cli-test-password")
        .env("TILLPOINT_SERVER_LOG_LEVEL", "warn")
        .output()
        .expect("the binary runs")
}

/// A data folder holding a demo organisation with one product.
fn seeded_demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = server(&["demo", "--seed-only", "--products", "1"], dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    dir
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_refused(output: &Output, expected: &str) {
    let text = stderr(output);
    assert!(
        !output.status.success(),
        "must exit non-zero; stderr: {text}"
    );
    assert!(
        text.contains(expected),
        "stderr should say {expected:?}: {text}"
    );
    assert!(!text.contains("panicked"), "never a panic: {text}");
}

#[test]
fn demo_seed_only_prints_the_credentials_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let output = server(&["demo", "--seed-only", "--products", "120"], dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    for username in [
        "superadmin",
        "admin",
        "stockmanager",
        "accountant",
        "cashier",
    ] {
        assert!(stdout.contains(username), "{username} listed: {stdout}");
    }
    assert!(stdout.contains("Password: cli-test-password"), "{stdout}");
    assert!(stdout.contains("120 products"), "{stdout}");
    assert!(dir.path().join("server.db").exists());
    assert!(
        dir.path().join("logs").is_dir(),
        "logs go to the data folder"
    );
}

#[test]
fn a_port_in_use_is_named_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = server(&["--listen", &addr], dir.path());
    assert_refused(&output, &format!("{addr} is already in use"));
    assert!(stderr(&output).contains("--listen"), "says how to fix it");
}

#[test]
fn a_corrupt_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let garbage = vec![0x17_u8; 8192];
    std::fs::write(&db, &garbage).unwrap();
    let output = server(&["--listen", "127.0.0.1:0"], dir.path());
    assert_refused(&output, "is not a Tillpoint database or is corrupt");
    assert_eq!(std::fs::read(&db).unwrap(), garbage);
}

#[test]
fn a_database_from_a_newer_release_is_refused() {
    let dir = seeded_demo();
    let conn = rusqlite::Connection::open(dir.path().join("server.db")).unwrap();
    conn.execute(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'future', 'x')",
        (),
    )
    .unwrap();
    drop(conn);
    let output = server(&["--listen", "127.0.0.1:0"], dir.path());
    assert_refused(&output, "written by a newer Tillpoint (schema version 9999");
}

#[test]
fn bad_settings_are_refused_with_their_source() {
    let dir = tempfile::tempdir().unwrap();
    assert_refused(
        &server(&["--listen", "everywhere"], dir.path()),
        "invalid value 'everywhere' for '--listen <ADDR>'",
    );
    let config = dir.path().join("server.toml");
    std::fs::write(&config, "listen = [").unwrap();
    assert_refused(
        &server(&["--config", config.to_str().unwrap()], dir.path()),
        "is not valid",
    );
    assert_refused(
        &server(&["--config", "/nonexistent/server.toml"], dir.path()),
        "cannot read the config file /nonexistent/server.toml",
    );
    assert_refused(
        &server(&["--log-level", "chatty"], dir.path()),
        "log level \"chatty\" is not one of",
    );
}

#[test]
fn a_short_demo_password_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tillpoint-server"))
        .args(["demo", "--seed-only", "--data-dir"])
        .arg(dir.path())
        .env("TILLPOINT_DEMO_PASSWORD", "short")
        .output()
        .unwrap();
    assert_refused(
        &output,
        "TILLPOINT_DEMO_PASSWORD must be at least 8 characters",
    );
}

#[test]
fn keys_rotate_adds_a_current_key_and_keeps_the_old_one_verifying() {
    let dir = seeded_demo();
    for _ in 0..2 {
        let output = server(&["keys", "rotate"], dir.path());
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(String::from_utf8_lossy(&output.stdout).contains("is current"));
    }
    let conn = rusqlite::Connection::open(dir.path().join("server.db")).unwrap();
    let (current, retired_verifying): (i64, i64) = conn
        .query_row(
            "SELECT SUM(CASE WHEN retired_at IS NULL THEN 1 ELSE 0 END), SUM(CASE WHEN retired_at IS NOT NULL AND verify_until > retired_at THEN 1 ELSE 0 END) FROM signing_keys",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((current, retired_verifying), (1, 2));
    let rotations: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE event = 'key_rotated'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rotations, 2, "each rotation is an audit event");
    // The private halves are not stored in the clear.
    let sealed: Vec<u8> = conn
        .query_row("SELECT private_enc FROM signing_keys LIMIT 1", (), |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        sealed.len(),
        32 + 16,
        "a 32-byte seed sealed with a 16-byte tag"
    );
}

#[test]
fn the_master_key_file_is_private_and_a_wrong_key_is_refused() {
    let dir = seeded_demo();
    assert!(server(&["keys", "rotate"], dir.path()).status.success());
    let key_file = dir.path().join("master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "only the server's user may read the master key"
        );
    }
    // Another master key cannot open the stored signing keys: refuse to start, say why.
    let output = Command::new(env!("CARGO_BIN_EXE_tillpoint-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env(
            "TILLPOINT_SERVER_MASTER_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .output()
        .unwrap();
    assert_refused(&output, "the master key is not the one it was stored with");
    let output = Command::new(env!("CARGO_BIN_EXE_tillpoint-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("TILLPOINT_SERVER_MASTER_KEY", "too-short")
        .output()
        .unwrap();
    assert_refused(
        &output,
        "TILLPOINT_SERVER_MASTER_KEY must be 32 bytes in base64",
    );
}

#[test]
fn chain_rebase_ends_a_devices_chain_at_a_stored_record_and_is_audited() {
    let dir = seeded_demo();
    let conn = rusqlite::Connection::open(dir.path().join("server.db")).unwrap();
    let org: String = conn
        .query_row("SELECT id FROM organisations LIMIT 1", (), |r| r.get(0))
        .unwrap();
    let (device, record) = (
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
    );
    let hash = "a".repeat(64);
    conn.execute(
        "INSERT INTO devices (org_id, id, first_seen, last_seen)
         VALUES (?1, ?2, '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z')",
        (&org, &device),
    )
    .unwrap();
    conn.execute(
        "INSERT INTO sync_records (id, org_id, record_id, kind, creator_id, device_id, seq,
             created_at, prev_hash, hash, payload, content_hash, received_at, status)
         VALUES (?1, ?2, ?3, 'till_opened', ?3, ?4, 7, '2026-12-01T10:00:00.000Z', ?5, ?6, '{}',
             ?6, '2026-12-01T10:00:01.000Z', 'quarantined')",
        (
            &record,
            &org,
            uuid::Uuid::now_v7().to_string(),
            &device,
            "b".repeat(64),
            &hash,
        ),
    )
    .unwrap();
    let rebase = |device: &str, note: &str| {
        server(
            &[
                "chain", "rebase", "--org", &org, "--device", device, "--record", &record,
                "--note", note,
            ],
            dir.path(),
        )
    };
    assert_refused(
        &rebase(&uuid::Uuid::now_v7().to_string(), "reviewed"),
        "no such device",
    );
    assert_refused(&rebase(&device, " "), "note");
    assert_refused(&rebase("not-a-device", "reviewed"), "--device");

    let output = rebase(&device, "seq 1000000 was forged; reviewed with the shop");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("ends at its record 7"));
    let end: (i64, String) = conn
        .query_row(
            "SELECT last_seq, last_hash FROM device_chains WHERE org_id = ?1 AND device_id = ?2",
            (&org, &device),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(end, (7, hash));
    let audited: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE event = 'device_chain_rebased'
               AND actor_id IS NULL AND json_extract(detail, '$.via') = 'command line'
               AND json_extract(detail, '$.note') LIKE 'seq 1000000 was forged%'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);
}

#[test]
fn keys_revoke_deletes_the_key_audits_it_and_makes_a_new_one_current() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        server(&["demo", "--seed-only", "--products", "1"], dir.path())
            .status
            .success()
    );
    // The first key is made when the server first starts; a rotation makes one too.
    assert!(server(&["keys", "rotate"], dir.path()).status.success());
    let db = dir.path().join("server.db");
    let current = |conn: &rusqlite::Connection| -> String {
        conn.query_row(
            "SELECT kid FROM signing_keys WHERE retired_at IS NULL",
            (),
            |r| r.get(0),
        )
        .unwrap()
    };
    let leaked = current(&rusqlite::Connection::open(&db).unwrap());
    let output = server(&["keys", "revoke", &leaked], dir.path());
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("Signing key {leaked} is revoked")),
        "{stdout}"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let left: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM signing_keys WHERE kid = ?1",
            [&leaked],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    let new_current = current(&conn);
    assert_ne!(new_current, leaked);
    let detail: String = conn
        .query_row(
            "SELECT detail FROM audit_log WHERE event = 'key_revoked'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        detail.contains(&leaked) && detail.contains(&new_current),
        "{detail}"
    );
    assert_refused(
        &server(&["keys", "revoke", &leaked], dir.path()),
        &format!("no signing key has the kid {leaked}"),
    );
}
