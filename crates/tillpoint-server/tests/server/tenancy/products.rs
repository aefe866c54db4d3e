//! The catalog API: products paged by id with their details.

use super::{get, ids_of, random_id, seed_products, user_signed_in};
use serde_json::{json, Value};
use tillpoint_protocol::Barcode;
use tillpoint_server::testing::spawn_server;

#[tokio::test]
async fn products_are_paged_by_id_with_their_details() {
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await;
    let stock = user_signed_in(&server, &org, "stock", "Stock Manager").await;
    let ids = seed_products(&server, org.id, 5).await;

    let mut seen = Vec::new();
    let mut path = "api/v1/products?limit=2".to_owned();
    loop {
        let page = get(&server, &path, stock.token()).await.expect(200);
        let page_ids = ids_of(&page["products"]);
        assert!(page_ids.len() <= 2);
        seen.extend(page_ids);
        match page["next_after"].as_str() {
            Some(after) => path = format!("api/v1/products?limit=2&after={after}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every product once, in id order");
    let all = get(&server, "api/v1/products", stock.token())
        .await
        .expect(200);
    assert_eq!(ids_of(&all["products"]), ids);
    assert!(all["next_after"].is_null());

    let first = get(
        &server,
        &format!("api/v1/products/{}", ids[0]),
        stock.token(),
    )
    .await
    .expect(200);
    assert_eq!(first, all["products"][0]);
    let mut by_sku: Vec<Value> = all["products"].as_array().unwrap().clone();
    by_sku.sort_by_key(|p| p["sku"].as_str().unwrap().to_owned());
    assert_eq!(
        by_sku[1],
        json!({"id": by_sku[1]["id"], "sku": "SKU-0001", "name": "Product 1", "unit": "kg",
               "tax_class": "standard", "price_minor": 101, "currency": "USD", "active": true,
               "barcodes": [Barcode::ean13_from_body("000000600001").unwrap()]})
    );
    assert_eq!(by_sku[0]["tax_class"], "zero_rated");

    for bad in [
        "limit=0",
        "limit=501",
        "limit=ten",
        "after=not-an-id",
        "colour=red",
    ] {
        let answer = get(&server, &format!("api/v1/products?{bad}"), stock.token()).await;
        assert_eq!(answer.status, 422, "{bad}: {}", answer.body);
        assert_eq!(answer.error_code(), "unprocessable");
    }
    get(&server, "api/v1/products?limit=500", stock.token())
        .await
        .expect(200);
    get(&server, "api/v1/products?limit=1", stock.token())
        .await
        .expect(200);
    let missing = get(
        &server,
        &format!("api/v1/products/{}", random_id()),
        stock.token(),
    )
    .await;
    assert_eq!(missing.status, 404);
}
