use std::collections::{BTreeSet, HashMap};

use crate::store::Connection;
use tillpoint_protocol::auth::AccessClaims;
use tillpoint_protocol::permission::Operation;
use tillpoint_protocol::{Barcode, CurrencyCode, OrgId, UserId};

use super::*;
use crate::catalog::{add_products, add_tax_class, NewProduct, TaxClassCode, Unit as CatalogUnit};
use crate::identity::organisations::{create_organisation, NewOrganisation};
use crate::store::Database;

fn usd() -> CurrencyCode {
    CurrencyCode::parse("USD").unwrap()
}

fn tenant_of(org: OrgId) -> Tenant {
    let claims: AccessClaims = serde_json::from_value(serde_json::json!({
        "iss": "test", "aud": "tillpoint-api", "sub": UserId::from_uuid(Uuid::now_v7()),
        "name": "t", "email": "t@example.com", "role": "Cashier", "perms": [],
        "org": org, "iat": 0, "nbf": 0, "exp": 0, "jti": Uuid::now_v7(),
    }))
    .expect("claims");
    Tenant::from_verified_claims(&claims)
}

struct Shop {
    _dir: tempfile::TempDir,
    db: Database,
    org: OrgId,
}

fn shop(products: usize) -> Shop {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&dir.path().join("server.db")).unwrap();
    let org = db
        .call_blocking(|conn| -> Result<_, DbError> {
            let tx = conn.transaction()?;
            let org = create_organisation(
                &tx,
                &NewOrganisation {
                    name: "Shop",
                    tax_number: Some("123"),
                    base_currency: usd(),
                    base_currency_name: "US Dollar",
                },
            )?
            .id;
            let class = add_tax_class(&tx, org, TaxClassCode::Standard, "VAT", 1500)?;
            add_products(&tx, org, (0..products).map(|i| new_product(i, &class)))?;
            tx.commit()?;
            Ok(org)
        })
        .unwrap();
    Shop { _dir: dir, db, org }
}

fn new_product(i: usize, class: &str) -> NewProduct {
    NewProduct {
        sku: format!("SKU-{i}"),
        name: format!("Product {i}"),
        unit: CatalogUnit::Each,
        tax_class_id: class.to_owned(),
        price_minor: 100 + i as i64,
        currency: usd(),
        barcodes: vec![Barcode::ean13_from_body(&format!("6009{i:08}")).unwrap()],
    }
}

fn with_conn<T>(shop: &Shop, mut work: impl FnMut(&mut Connection) -> T) -> T {
    shop.db
        .call_blocking(|conn| -> Result<T, DbError> { Ok(work(conn)) })
        .unwrap()
}

fn pull_all(shop: &Shop, since: i64, limit: u32) -> (Vec<PullPage>, i64) {
    let tenant = tenant_of(shop.org);
    let mut pages = Vec::new();
    let mut cursor = since;
    loop {
        let page = with_conn(shop, |conn| {
            pull(conn, &tenant, UserAudience::Everyone, cursor, limit)
        })
        .unwrap();
        cursor = decode_cursor(Some(&page.next_cursor), shop.org).unwrap();
        let more = page.more;
        pages.push(page);
        if !more {
            return (pages, cursor);
        }
    }
}

#[test]
fn every_write_takes_the_next_number_of_its_organisation() {
    let shop = shop(2);
    let versions = |conn: &mut Connection| -> (i64, Vec<(String, i64)>) {
        let current = conn
            .query_row("SELECT version FROM sync_counters", (), |r| r.get(0))
            .unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT kind, version FROM sync_changes
                 UNION ALL SELECT kind, version FROM sync_changes_more ORDER BY version",
            )
            .unwrap();
        let rows = stmt
            .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        (current, rows)
    };
    let (current, rows) = with_conn(&shop, versions);
    // Organisation, base currency, its settings, tax class, 2 products with a barcode each.
    let kinds: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "organisations",
            "currencies",
            "settings",
            "tax_classes",
            "products",
            "barcodes",
            "products",
            "barcodes"
        ]
    );
    assert_eq!(current, 8);
    assert_eq!(rows.last().unwrap().1, 8);

    // An update moves the record to a new number; a no-op organisation update does not.
    with_conn(&shop, |conn| {
        conn.execute(
            "UPDATE products SET price_minor = 999 WHERE sku = 'SKU-0'",
            (),
        )
        .unwrap();
        conn.execute("UPDATE organisations SET created_at = 'x'", ())
            .unwrap();
    });
    let (current, rows) = with_conn(&shop, versions);
    assert_eq!(current, 9);
    assert_eq!(rows.len(), 8, "one row per record, at its latest number");
    assert_eq!(rows.last().unwrap(), &("products".to_owned(), 9));
}

#[test]
fn a_page_holds_what_changed_after_the_cursor_and_removals() {
    let shop = shop(3);
    let (pages, cursor) = pull_all(&shop, 0, 5_000);
    assert_eq!(pages.len(), 1);
    let first = &pages[0].changes;
    assert_eq!(first.organisation.as_ref().unwrap().name, "Shop");
    assert_eq!(
        first.organisation.as_ref().unwrap().tax_number.as_deref(),
        Some("123")
    );
    assert_eq!((first.products.len(), first.barcodes.len()), (3, 3));
    assert_eq!(first.currencies[0].code, usd());

    let removed_barcode = first.barcodes[1].barcode.clone();
    with_conn(&shop, |conn| {
        conn.execute(
            "UPDATE products SET price_minor = 5 WHERE sku = 'SKU-2'",
            (),
        )
        .unwrap();
        conn.execute(
            "DELETE FROM barcodes WHERE barcode = ?1",
            [removed_barcode.as_str()],
        )
        .unwrap();
    });
    let (pages, _) = pull_all(&shop, cursor, 5_000);
    let changes = &pages[0].changes;
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes.products[0].sku, "SKU-2");
    assert_eq!(changes.products[0].price_minor, 5);
    assert_eq!(changes.removed.barcodes, vec![removed_barcode]);
}

#[test]
fn deleting_a_product_removes_it_and_its_barcodes() {
    let shop = shop(2);
    let (_, cursor) = pull_all(&shop, 0, 5_000);
    with_conn(&shop, |conn| {
        conn.execute("DELETE FROM products WHERE sku = 'SKU-0'", ())
            .unwrap();
    });
    let (pages, _) = pull_all(&shop, cursor, 5_000);
    let removed = &pages[0].changes.removed;
    assert_eq!((removed.products.len(), removed.barcodes.len()), (1, 1));
}

#[test]
fn small_pages_lose_nothing_and_repeat_nothing_of_their_own() {
    let shop = shop(40);
    // Churn: later changes move earlier records to the end while pages are being read.
    let tenant = tenant_of(shop.org);
    let mut cursor = 0;
    let mut seen_products = BTreeSet::new();
    let mut seen_barcodes = BTreeSet::new();
    let mut pages = 0;
    loop {
        let page = with_conn(&shop, |conn| {
            pull(conn, &tenant, UserAudience::Everyone, cursor, 7)
        })
        .unwrap();
        assert!(
            page.changes.len() <= 7 + 7 + 1,
            "a page holds its limit plus references"
        );
        pages += 1;
        if pages == 3 {
            with_conn(&shop, |conn| {
                conn.execute(
                    "UPDATE products SET name = name || ' new' WHERE sku = 'SKU-1'",
                    (),
                )
                .unwrap();
            });
        }
        seen_products.extend(
            page.changes
                .products
                .iter()
                .map(|p| (p.sku.clone(), p.name.clone())),
        );
        seen_barcodes.extend(page.changes.barcodes.iter().map(|b| b.barcode.clone()));
        cursor = decode_cursor(Some(&page.next_cursor), shop.org).unwrap();
        if !page.more {
            break;
        }
    }
    assert_eq!(seen_barcodes.len(), 40);
    let skus: BTreeSet<_> = seen_products.iter().map(|(sku, _)| sku.clone()).collect();
    assert_eq!(skus.len(), 40);
    assert!(seen_products.contains(&("SKU-1".to_owned(), "Product 1 new".to_owned())));
}

#[test]
fn a_page_carries_the_records_its_barcodes_and_products_need() {
    let shop = shop(1);
    // The product and its tax class change after the barcode: a page holding only the
    // barcode's change must still bring them, or the till could not store the barcode.
    with_conn(&shop, |conn| {
        conn.execute("UPDATE tax_classes SET name = 'VAT 15%'", ())
            .unwrap();
        conn.execute("UPDATE products SET price_minor = 7", ())
            .unwrap();
    });
    let tenant = tenant_of(shop.org);
    // Versions: org 1, currency 2, settings 3, barcode 6 (product 5→8, class 4→7). Start
    // after 5.
    let page = with_conn(&shop, |conn| {
        pull(conn, &tenant, UserAudience::Everyone, 5, 1)
    })
    .unwrap();
    assert_eq!(page.changes.barcodes.len(), 1);
    assert_eq!(page.changes.products.len(), 1);
    assert_eq!(page.changes.products[0].price_minor, 7);
    assert_eq!(page.changes.tax_classes.len(), 1);
    assert_eq!(page.changes.tax_classes[0].name, "VAT 15%");
    assert!(page.more);
    // A till that already has them (cursor past their change) is not sent them again.
    let (pages, _) = pull_all(&shop, 8, 10);
    assert!(pages[0].changes.is_empty());
}

#[test]
fn another_organisations_changes_never_show() {
    let mine = shop(2);
    let theirs = with_conn(&mine, |conn| {
        let tx = conn.transaction().unwrap();
        let org = create_organisation(
            &tx,
            &NewOrganisation {
                name: "Other",
                tax_number: None,
                base_currency: usd(),
                base_currency_name: "US Dollar",
            },
        )
        .unwrap()
        .id;
        let class = add_tax_class(&tx, org, TaxClassCode::Standard, "VAT", 1500).unwrap();
        let mut product = new_product(99, &class);
        product.sku = "THEIRS".into();
        add_products(&tx, org, [product]).unwrap();
        tx.commit().unwrap();
        org
    });
    let (pages, _) = pull_all(&mine, 0, 5_000);
    let changes = &pages[0].changes;
    assert_eq!(changes.organisation.as_ref().unwrap().id, mine.org);
    assert!(changes.products.iter().all(|p| p.sku != "THEIRS"));
    assert_eq!(changes.products.len(), 2);
    // Their cursor means nothing to me, and mine nothing to them.
    let their_cursor = encode_cursor(theirs, 1);
    assert!(matches!(
        decode_cursor(Some(&their_cursor), mine.org),
        Err(PullError::BadCursor)
    ));
}

#[test]
fn cursors_round_trip_and_forgeries_are_refused() {
    let org = OrgId::from_uuid(Uuid::now_v7());
    assert_eq!(decode_cursor(None, org).unwrap(), 0);
    assert_eq!(decode_cursor(Some(""), org).unwrap(), 0);
    assert_eq!(
        decode_cursor(Some(&encode_cursor(org, 42)), org).unwrap(),
        42
    );
    let forged = |text: &str| URL_SAFE_NO_PAD.encode(text);
    for bad in [
        "not base64!".to_owned(),
        forged("v2:{org}:1"),
        forged(&format!("v1:{org}:-1")),
        forged(&format!("v1:{org}:+1")),
        forged(&format!("v1:{org}:")),
        forged(&format!("v1:{org}:1:2")),
        forged(&format!("v1:{org}:99999999999999999999999")),
        forged("v1:not-an-org:1"),
        "A".repeat(500),
    ] {
        assert!(
            matches!(decode_cursor(Some(&bad), org), Err(PullError::BadCursor)),
            "{bad}"
        );
    }
}

#[test]
fn a_cursor_ahead_of_the_server_is_refused() {
    let shop = shop(1);
    let tenant = tenant_of(shop.org);
    let err = with_conn(&shop, |conn| {
        pull(conn, &tenant, UserAudience::Everyone, 1_000, 10)
    })
    .unwrap_err();
    assert!(matches!(err, PullError::CursorAhead));
}

#[test]
fn people_settings_keys_and_stock_levels_are_numbered_like_the_catalog() {
    let shop = shop(1);
    let org = shop.org.to_string();
    let product = with_conn(&shop, |conn| -> String {
        conn.query_row("SELECT id FROM products", (), |r| r.get(0))
            .unwrap()
    });
    {
        let (org, product) = (org.clone(), product.clone());
        with_conn(&shop, move |conn| {
            conn.execute(
                "INSERT INTO users (id, org_id, username, name, email, role_id, password_hash,
                                    created_at)
                 VALUES (?1, ?2, 'u1', 'U One', 'u1@example.com',
                         (SELECT id FROM roles WHERE org_id = ?2 AND name = 'Cashier'), 'x', 't')",
                (Uuid::now_v7().to_string(), &org),
            )
            .unwrap();
            conn.execute(
                "INSERT INTO signing_keys (kid, public_key, private_nonce, private_enc, created_at)
                 VALUES ('k1', zeroblob(32), x'00', x'00', 't')",
                (),
            )
            .unwrap();
            conn.execute(
                "INSERT INTO stock_levels (org_id, product_id, location_id, on_hand_milli)
                 VALUES (?1, ?2, '', -2000)",
                (&org, &product),
            )
            .unwrap();
        });
    }
    let (pages, cursor) = pull_all(&shop, 0, 5_000);
    let first = &pages[0].changes;
    assert_eq!(pages[0].remaining, Some(0));
    assert_eq!(first.users.len(), 1);
    let user = &first.users[0];
    assert_eq!(
        (user.username.as_str(), user.role.as_str()),
        ("u1", "Cashier")
    );
    assert!(!user.disabled);
    let sell = Operation::Sell.required_permission();
    assert!(user.permissions.contains(&sell));
    assert_eq!(first.signing_keys.len(), 1);
    assert_eq!(first.signing_keys[0].status, KeyStatus::Current);
    let settings = first.settings.as_ref().expect("settings");
    assert!(settings.offline_permissions.contains(&sell));
    assert_eq!(
        first.stock_levels,
        [StockLevelRecord {
            product_id: product.parse().unwrap(),
            location_id: None,
            on_hand_milli: -2000
        }]
    );

    // The role loses a permission (two writes): the user changes once, without it. A
    // password change is not sent.
    with_conn(&shop, |conn| {
        conn.execute(
            "DELETE FROM role_permissions WHERE permission IN ('pos:sales:create', 'pos:sales:view')
             AND role_id = (SELECT role_id FROM users WHERE username = 'u1')",
            (),
        )
        .unwrap();
        conn.execute("UPDATE users SET password_hash = 'y'", ())
            .unwrap();
    });
    let (pages, cursor) = pull_all(&shop, cursor, 5_000);
    assert_eq!(pages[0].changes.len(), 1, "{:?}", pages[0].changes);
    assert!(!pages[0].changes.users[0].permissions.contains(&sell));

    // Retiring the key, disabling the user and deleting the level.
    with_conn(&shop, |conn| {
        conn.execute(
            "UPDATE signing_keys SET retired_at = 't2', verify_until = 't3'",
            (),
        )
        .unwrap();
        conn.execute("UPDATE users SET disabled = 1", ()).unwrap();
        conn.execute("DELETE FROM stock_levels", ()).unwrap();
    });
    let (pages, _) = pull_all(&shop, cursor, 5_000);
    let changes = &pages[0].changes;
    assert_eq!(changes.signing_keys[0].status, KeyStatus::Retired);
    assert!(changes.users[0].disabled);
    assert_eq!(changes.removed.stock_levels.len(), 1);

    // An organisation made later gets the server's keys too.
    let other = with_conn(&shop, |conn| {
        let tx = conn.transaction().unwrap();
        let org = create_organisation(
            &tx,
            &NewOrganisation {
                name: "Later",
                tax_number: None,
                base_currency: usd(),
                base_currency_name: "US Dollar",
            },
        )
        .unwrap()
        .id;
        tx.commit().unwrap();
        org
    });
    let page = with_conn(&shop, |conn| {
        pull(conn, &tenant_of(other), UserAudience::Everyone, 0, 5_000)
    })
    .unwrap();
    assert_eq!(page.changes.signing_keys.len(), 1);
    assert!(page.changes.stock_levels.is_empty() && page.changes.users.is_empty());
}

#[test]
fn each_page_says_how_many_changes_are_left() {
    let shop = shop(10);
    // Organisation, currency, settings, tax class, 10 products and 10 barcodes.
    let (pages, _) = pull_all(&shop, 0, 6);
    let remaining: Vec<_> = pages.iter().map(|p| p.remaining).collect();
    assert_eq!(remaining, [Some(18), Some(12), Some(6), Some(0)]);
}

#[test]
fn a_page_of_hundreds_reads_each_record_as_its_own() {
    // More than one query's worth of each kind read together: every record is sent once,
    // with its own values, and every removal is named.
    let shop = shop(600);
    let (pages, cursor) = pull_all(&shop, 0, 5_000);
    let first = &pages[0].changes;
    assert_eq!((first.products.len(), first.barcodes.len()), (600, 600));
    let sku_of: HashMap<_, _> = first
        .products
        .iter()
        .map(|p| (p.id, p.sku.clone()))
        .collect();
    assert_eq!(sku_of.len(), 600);
    for product in &first.products {
        let i: i64 = product.sku.strip_prefix("SKU-").unwrap().parse().unwrap();
        assert_eq!(product.price_minor, 100 + i, "{product:?}");
    }
    for barcode in &first.barcodes {
        let i: usize = sku_of[&barcode.product_id]
            .strip_prefix("SKU-")
            .unwrap()
            .parse()
            .unwrap();
        let own = Barcode::ean13_from_body(&format!("6009{i:08}")).unwrap();
        assert_eq!(barcode.barcode, own);
    }

    with_conn(&shop, |conn| {
        conn.execute(
            "DELETE FROM products WHERE CAST(substr(sku, 5) AS INTEGER) % 2 = 0",
            (),
        )
        .unwrap();
        conn.execute("UPDATE products SET price_minor = price_minor + 1000", ())
            .unwrap();
    });
    let (pages, _) = pull_all(&shop, cursor, 5_000);
    let changes = &pages[0].changes;
    assert_eq!(
        (
            changes.products.len(),
            changes.removed.products.len(),
            changes.removed.barcodes.len()
        ),
        (300, 300, 300)
    );
    for product in &changes.products {
        let i: i64 = product.sku.strip_prefix("SKU-").unwrap().parse().unwrap();
        assert_eq!((i % 2, product.price_minor), (1, 1100 + i), "{product:?}");
    }
    for removed in &changes.removed.products {
        let sku = &sku_of[removed];
        let i: i64 = sku.strip_prefix("SKU-").unwrap().parse().unwrap();
        assert_eq!(i % 2, 0, "{sku} was not deleted");
    }
}
