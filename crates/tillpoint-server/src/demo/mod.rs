//! `tillpoint-server demo`: one organisation set up the way a Zimbabwean supermarket would
//! be — a user per standard role, a shop and a warehouse, USD and ZWG with a rate, VAT at
//! 15 %, zero-rated and exempt, and a generated catalog — so Tillpoint can be tried at once.
//!
//! Seeding is idempotent: run again, it keeps the data and only sets the demo users'
//! password anew (printed, since only its hash is stored) — the demo organisation's users
//! only: a real organisation's user who happens to have a demo username is never touched,
//! and `demo` refuses to run while one does.

pub mod catalog;

use rand::Rng;
use rusqlite::TransactionBehavior;
use tillpoint_protocol::{CurrencyCode, OrgId};

use crate::catalog::{
    add_currency, add_exchange_rate, add_location, add_products, add_tax_class, LocationKind,
    NewProduct, TaxClassCode,
};
use crate::identity::organisations::{create_organisation, NewOrganisation};
use crate::identity::roles;
use crate::identity::users::{create_user, set_password, NewUser};
use crate::store::{Database, DbError};

pub const DEFAULT_PRODUCTS: usize = 5_000;
pub const ORGANISATION_NAME: &str = "Msasa Demo Supermarket";
pub const ENV_DEMO_PASSWORD: &str = "TILLPOINT_DEMO_PASSWORD";
pub const MIN_PASSWORD_LEN: usize = crate::identity::users::MIN_PASSWORD_LEN;
/// USD → ZWG.
pub const DEMO_RATE: &str = "26.80";

/// (username, full name, role)
pub const DEMO_USERS: &[(&str, &str, &str)] = &[
    ("superadmin", "Tendai Moyo", roles::SUPER_ADMINISTRATOR),
    ("admin", "Rudo Chikwanha", roles::ADMINISTRATOR),
    ("stockmanager", "Farai Ncube", roles::STOCK_MANAGER),
    ("accountant", "Nyasha Dube", roles::ACCOUNTANT),
    ("cashier", "Tatenda Sibanda", roles::CASHIER),
];

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub products: usize,
    /// The demo users' password; a random one when `None`.
    pub password: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DemoCredentials {
    pub organisation: String,
    pub password: String,
    /// Whether this run created the organisation (false: it existed, passwords were reset).
    pub created: bool,
    pub products: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{ENV_DEMO_PASSWORD} must be at least {MIN_PASSWORD_LEN} characters")]
    PasswordTooShort,
    #[error("a demo catalog needs between 1 and 10,000,000 products, got {0}")]
    CatalogSize(usize),
    #[error("the username {0} belongs to a user of another organisation than the demo's; `demo` leaves real organisations alone: seed the demo into a fresh --data-dir")]
    UsernameTaken(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for DemoError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Db(e.into())
    }
}

fn random_password() -> String {
    // No look-alike characters: people type this from a terminal.
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Seeds the demo organisation (or resets its users' password if it exists).
/// Blocking: hashes passwords and writes the catalog.
pub fn seed(db: &Database, options: &DemoOptions) -> Result<DemoCredentials, DemoError> {
    let password = match &options.password {
        Some(p) if p.chars().count() < MIN_PASSWORD_LEN => return Err(DemoError::PasswordTooShort),
        Some(p) => p.clone(),
        None => random_password(),
    };
    if !(1..=10_000_000).contains(&options.products) {
        return Err(DemoError::CatalogSize(options.products));
    }
    db.call_blocking(|conn| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing = demo_organisation(&tx)?;
        let created = existing.is_none();
        match existing {
            Some(org_id) => {
                for (username, _, _) in DEMO_USERS {
                    set_password(&tx, org_id, username, &password)?;
                }
                tracing::info!(%org_id, "demo organisation exists; demo passwords reset");
            }
            None => create_demo_organisation(&tx, &password, options.products)?,
        }
        let products: i64 = tx.query_row(
            "SELECT COUNT(*) FROM products p JOIN users u ON u.org_id = p.org_id WHERE u.username = ?1",
            [DEMO_USERS[0].0],
            |row| row.get(0),
        )?;
        tx.commit()?;
        Ok(DemoCredentials {
            organisation: ORGANISATION_NAME.into(),
            password: password.clone(),
            created,
            products: products as u64,
        })
    })
}

/// The demo organisation, if seeded before: the one its first demo user belongs to, when it
/// bears the demo's name. Refuses while any demo username belongs to another organisation
/// (its password must never be reset, nor the demo half-created around it).
fn demo_organisation(tx: &crate::store::Transaction<'_>) -> Result<Option<OrgId>, DemoError> {
    use rusqlite::OptionalExtension;
    let demo: Option<String> = tx
        .query_row(
            "SELECT o.id FROM users u JOIN organisations o ON o.id = u.org_id
              WHERE u.username = ?1 AND o.name = ?2",
            (DEMO_USERS[0].0, ORGANISATION_NAME),
            |row| row.get(0),
        )
        .optional()?;
    for (username, _, _) in DEMO_USERS {
        let elsewhere: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM users WHERE username = ?1 AND org_id IS DISTINCT FROM ?2)",
            (username, demo.as_deref()),
            |row| row.get(0),
        )?;
        if elsewhere {
            return Err(DemoError::UsernameTaken(username));
        }
    }
    Ok(demo.and_then(|id| id.parse().ok()))
}

fn create_demo_organisation(
    tx: &crate::store::Transaction<'_>,
    password: &str,
    products: usize,
) -> Result<(), DemoError> {
    let usd = CurrencyCode::parse("USD").expect("valid");
    let zwg = CurrencyCode::parse("ZWG").expect("valid");
    let org = create_organisation(
        tx,
        &NewOrganisation {
            name: ORGANISATION_NAME,
            tax_number: Some("2000123456"),
            base_currency: usd,
            base_currency_name: "US Dollar",
        },
    )?;
    add_currency(tx, org.id, zwg, "Zimbabwe Gold", 2)?;
    add_exchange_rate(tx, org.id, usd, zwg, DEMO_RATE)?;
    let standard = add_tax_class(tx, org.id, TaxClassCode::Standard, "VAT 15%", 1500)?;
    let zero = add_tax_class(tx, org.id, TaxClassCode::ZeroRated, "Zero-rated", 0)?;
    let exempt = add_tax_class(tx, org.id, TaxClassCode::Exempt, "Exempt", 0)?;
    add_location(tx, org.id, "Harare CBD Shop", LocationKind::Shop)?;
    add_location(tx, org.id, "Msasa Warehouse", LocationKind::Warehouse)?;

    for (username, name, role) in DEMO_USERS {
        create_user(
            tx,
            &NewUser {
                org_id: org.id,
                username,
                name,
                email: &format!("{username}@demo.tillpoint.example"),
                role_id: org.role(role),
                password,
            },
        )?;
    }

    let items = catalog::generate(products, catalog::DEFAULT_SEED).map(|item| NewProduct {
        sku: item.sku,
        name: item.name,
        unit: item.unit,
        tax_class_id: match item.tax {
            TaxClassCode::Standard => standard.clone(),
            TaxClassCode::ZeroRated => zero.clone(),
            TaxClassCode::Exempt => exempt.clone(),
        },
        price_minor: item.price_cents,
        currency: usd,
        barcodes: vec![item.barcode],
    });
    add_products(tx, org.id, items)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::password::verify_password;

    fn options(password: &str, products: usize) -> DemoOptions {
        DemoOptions {
            products,
            password: Some(password.into()),
        }
    }

    #[test]
    fn seeds_everything_the_demo_promises() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("server.db")).unwrap();
        let creds = seed(&db, &options("demo-password-1", 250)).unwrap();
        assert!(creds.created);
        assert_eq!(creds.products, 250);

        db.call_blocking(|conn| -> Result<(), DbError> {
            let count = |sql: &str| -> i64 { conn.query_row(sql, (), |r| r.get(0)).unwrap() };
            assert_eq!(count("SELECT COUNT(*) FROM organisations"), 1);
            assert_eq!(count("SELECT COUNT(*) FROM users"), 5);
            assert_eq!(count("SELECT COUNT(*) FROM roles WHERE standard = 1"), 5);
            assert_eq!(count("SELECT COUNT(*) FROM locations"), 2);
            assert_eq!(count("SELECT COUNT(*) FROM currencies"), 2);
            assert_eq!(count("SELECT COUNT(*) FROM barcodes"), 250);
            assert_eq!(
                count("SELECT COUNT(*) FROM tax_classes WHERE (code, rate_bp) IN (VALUES ('standard', 1500), ('zero_rated', 0), ('exempt', 0))"),
                3
            );
            let rate: String = conn
                .query_row("SELECT rate FROM exchange_rates WHERE base = 'USD' AND quote = 'ZWG'", (), |r| r.get(0))
                .unwrap();
            assert_eq!(rate, DEMO_RATE);
            // Each user holds the standard role named for them, and an argon2id hash.
            for (username, _, role) in DEMO_USERS {
                let (role_name, hash): (String, String) = conn
                    .query_row(
                        "SELECT r.name, u.password_hash FROM users u JOIN roles r ON r.id = u.role_id WHERE u.username = ?1",
                        [username],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .unwrap();
                assert_eq!(&role_name, role);
                assert!(hash.starts_with("$argon2id$"));
                assert!(verify_password("demo-password-1", &hash));
            }
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn seeding_again_keeps_the_data_and_resets_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("server.db")).unwrap();
        seed(&db, &options("first-password", 40)).unwrap();
        let again = seed(&db, &options("second-password", 40)).unwrap();
        assert!(!again.created);
        assert_eq!(again.products, 40);
        let hash: String = db
            .call_blocking(|conn| -> Result<String, DbError> {
                Ok(conn.query_row(
                    "SELECT password_hash FROM users WHERE username = 'cashier'",
                    (),
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert!(verify_password("second-password", &hash));
        assert!(!verify_password("first-password", &hash));
    }

    #[test]
    fn random_passwords_are_long_and_differ() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("server.db")).unwrap();
        let opts = DemoOptions {
            products: 1,
            password: None,
        };
        let a = seed(&db, &opts).unwrap().password;
        let b = seed(&db, &opts).unwrap().password;
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
    }

    #[test]
    fn refuses_a_short_password_and_absurd_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("server.db")).unwrap();
        assert!(matches!(
            seed(&db, &options("short", 10)),
            Err(DemoError::PasswordTooShort)
        ));
        assert!(matches!(
            seed(&db, &options("long enough", 0)),
            Err(DemoError::CatalogSize(0))
        ));
    }
}
