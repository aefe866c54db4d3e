//! The seeds each target starts from, made from real encoded values (a batch chained and
//! signed as a till does, tokens signed with Ed25519 as the server does, check digits worked
//! out), so the fuzzer begins where real inputs are. Deterministic: the same bytes every run,
//! so `tests/corpus.rs` can check the committed corpus holds every one of them.
//! `cargo run -p tillpoint-fuzz-targets --example write_seeds` writes them to
//! `fuzz/corpus/<target>/seed-<name>`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{json, Value};
use tillpoint_protocol::journal::{JournalRecord, RecordKind, GENESIS_HASH};
use tillpoint_protocol::receipt_number::receipt_prefix;
use tillpoint_protocol::sync::PushRequest;
use tillpoint_protocol::{Barcode, DeviceId, OrgId, UserId};

use crate::push_batch::{rechain, sign, CASHIER, DEVICE, GRANT_JTI, MANAGER, ORG};
use crate::tokens::{TILL_DEVICE, TILL_ORG};

/// One seed: its target, its name, its bytes.
pub struct Seed {
    pub target: &'static str,
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

pub fn all() -> Vec<Seed> {
    let mut seeds = push_batch();
    seeds.extend(tokens());
    seeds.extend(barcodes());
    seeds.extend(money_tax());
    seeds.extend(receipt_names());
    seeds
}

fn seed(target: &'static str, name: &'static str, bytes: impl Into<Vec<u8>>) -> Seed {
    Seed {
        target,
        name,
        bytes: bytes.into(),
    }
}

fn id(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x0190f000_0000_7000_8000_000000000000 | n)
}

fn record(seq: u64, kind: RecordKind, creator: &str, payload: Value) -> JournalRecord {
    JournalRecord {
        id: id(0x1000 + u128::from(seq)),
        kind,
        org_id: ORG.parse().expect("org"),
        creator_id: creator.parse().expect("creator"),
        device_id: DEVICE.parse().expect("device"),
        seq,
        created_at: "2026-11-27T10:00:00.000Z".into(),
        grant_jti: None,
        prev_hash: String::new(),
        hash: String::new(),
        payload: payload.to_string(),
    }
}

/// One loaf (1.25, 15 % VAT) paid 2.00 in cash, change 0.75: as a till writes a sale.
fn sale(seq: u64) -> Value {
    let device: DeviceId = DEVICE.parse().expect("device");
    json!({
        "sale_id": id(0x2000 + u128::from(seq)),
        "receipt_no": format!("{}-{seq:06}", receipt_prefix(device)),
        "till_session_id": id(0x3000), "currency": "USD",
        "lines": [{
            "line_no": 1, "product_id": id(0x4000), "sku": "BREAD", "name": "Bread",
            "unit": "each", "quantity": 1000, "unit_price_minor": 125,
            "list_price_minor": 125, "line_discount_minor": 0,
            "cart_discount_minor": 0, "total_minor": 125,
            "tax": {"code": "standard", "rate_bp": 1500}, "vat_minor": 16,
        }],
        "subtotal_minor": 125, "discount_minor": 0, "total_minor": 125,
        "vat": [{"rate": {"code": "standard", "rate_bp": 1500},
                 "grossMinor": 125, "vatMinor": 16, "netMinor": 109}],
        "payments": [{"method": "cash", "currency": "USD", "amount_minor": 200,
                      "rate": "1", "rate_base": "USD", "value_minor": 200}],
        "change_minor": 75, "change_currency": "USD", "change_rate": "1",
        "change_rate_base": "USD",
    })
}

/// The refund of [`sale`] `sold` (rung up online by someone who may refund).
fn refund(seq: u64, sold: u64) -> Value {
    let mut payload = sale(seq);
    payload["refund_of"] = json!(id(0x2000 + u128::from(sold)));
    payload["reason"] = json!("stale");
    let line = &mut payload["lines"][0];
    line["quantity"] = json!(-1000);
    line["total_minor"] = json!(-125);
    line["vat_minor"] = json!(-16);
    line["refund_of_line"] = json!(1);
    line["restock"] = json!(true);
    payload["subtotal_minor"] = json!(-125);
    payload["total_minor"] = json!(-125);
    payload["vat"][0]["grossMinor"] = json!(-125);
    payload["vat"][0]["vatMinor"] = json!(-16);
    payload["vat"][0]["netMinor"] = json!(-109);
    payload["payments"] = json!([{"method": "cash", "currency": "USD", "amount_minor": -125,
                                  "rate": "1", "rate_base": "USD", "value_minor": -125}]);
    payload["change_minor"] = json!(0);
    payload
}

fn session(counted: i64) -> Value {
    json!({"till_session_id": id(0x3000),
           "counts": [{"currency": "USD", "tender": "cash", "amount_minor": counted}]})
}

/// `records` chained from genesis and signed by the device for the placeholder organisation,
/// behind `mode` (see `push_batch`).
fn batch(mode: u8, mut records: Vec<JournalRecord>) -> Vec<u8> {
    if let Some(first) = records.first_mut() {
        first.prev_hash = GENESIS_HASH.into();
    }
    rechain(&mut records);
    let mut request = PushRequest {
        device_id: DEVICE.parse().expect("device"),
        records,
        signature: String::new(),
    };
    sign(&mut request, ORG.parse::<OrgId>().expect("org"));
    let mut bytes = vec![mode];
    bytes.extend(serde_json::to_vec_pretty(&request).expect("json"));
    bytes
}

fn push_batch() -> Vec<Seed> {
    let t = "push_batch";
    let opened = || record(1, RecordKind::TillOpened, CASHIER, session(5000));
    let sale_at = |seq| record(seq, RecordKind::Sale, CASHIER, sale(seq));
    let mut offline = sale_at(1);
    offline.grant_jti = Some(GRANT_JTI.into());
    let mut foreign = sale_at(2);
    foreign.device_id = DeviceId::from_uuid(id(0xd002));
    vec![
        seed(
            t,
            "online-sales-resigned",
            batch(3, vec![sale_at(1), sale_at(2)]),
        ),
        seed(
            t,
            "online-sales-as-sent",
            batch(0, vec![sale_at(1), sale_at(2)]),
        ),
        seed(t, "offline-sale-under-grant", batch(3, vec![offline])),
        seed(
            t,
            "session-with-sale-and-refund",
            batch(
                3,
                vec![
                    opened(),
                    sale_at(2),
                    record(3, RecordKind::Refund, MANAGER, refund(3, 2)),
                    record(4, RecordKind::TillClosed, CASHIER, session(5075 - 125)),
                ],
            ),
        ),
        seed(
            t,
            "record-of-another-device",
            batch(3, vec![sale_at(1), foreign]),
        ),
        seed(t, "regression-refund-vat-past-any-amount", {
            // A hundred refund lines of 0.00 each returning VAT of -10^17: summed into one
            // band in i64, this overflowed in `sale_checks` (now refused by its sum).
            let mut payload = refund(2, 1);
            let line = payload["lines"][0].clone();
            payload["lines"] = (1..=100)
                .map(|n| {
                    let mut line = line.clone();
                    line["line_no"] = json!(n);
                    line["total_minor"] = json!(0);
                    line["vat_minor"] = json!(-100_000_000_000_000_000_i64);
                    line
                })
                .collect();
            for field in ["subtotal_minor", "total_minor"] {
                payload[field] = json!(0);
            }
            payload["payments"][0]["amount_minor"] = json!(0);
            payload["payments"][0]["value_minor"] = json!(0);
            batch(
                3,
                vec![sale_at(1), record(2, RecordKind::Refund, MANAGER, payload)],
            )
        }),
        seed(t, "chain-starting-late", {
            let mut late = sale_at(7);
            late.prev_hash = "ab".repeat(32);
            let mut request = PushRequest {
                device_id: DEVICE.parse().expect("device"),
                records: vec![late, sale_at(8)],
                signature: String::new(),
            };
            rechain(&mut request.records);
            let mut bytes = vec![3];
            bytes.extend(serde_json::to_vec(&request).expect("json"));
            bytes
        }),
    ]
}

/// A token as the server signs one: EdDSA, `typ`, `kid`, over `claims`, with `key`.
fn jwt(key: &SigningKey, kid: &str, alg: &str, typ: &str, claims: &Value) -> String {
    let header = json!({"alg": alg, "typ": typ, "kid": kid});
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = URL_SAFE_NO_PAD.encode(key.sign(signed.as_bytes()).to_bytes());
    format!("{signed}.{signature}")
}

/// Mode, clock (little-endian Unix seconds), then what the mode reads.
fn token_input(mode: u8, now: i64, rest: &str) -> Vec<u8> {
    let mut bytes = vec![mode];
    bytes.extend(now.to_le_bytes());
    bytes.extend(rest.as_bytes());
    bytes
}

fn tokens() -> Vec<Seed> {
    let t = "tokens";
    let now = 1_795_000_000_i64;
    let user: UserId = UserId::from_uuid(id(0xa2));
    let access = json!({
        "iss": "tillpoint-server", "aud": "tillpoint-api", "sub": user, "name": "Tendai",
        "email": "tendai@example.com", "role": "Cashier", "perms": ["pos:sales:create"],
        "org": TILL_ORG, "dev": TILL_DEVICE, "iat": now, "iat_ms": now * 1000,
        "nbf": now, "exp": now + 900, "jti": id(0x5001),
    });
    let grant = |device: &str| {
        json!({
            "iss": "tillpoint-server", "aud": "tillpoint-till", "sub": user, "name": "Tendai",
            "role": "Cashier", "org": TILL_ORG, "device": device, "perms": ["pos:sales:create"],
            "limits": {"USD": {"max_sale": 100_000, "max_offline_total": 1_000_000, "max_discount": 1_000}},
            "iat": now, "nbf": now, "exp": now + 7 * 86_400, "jti": id(0x5002),
        })
    };
    let signed = |typ: &str, claims: &Value| format!("{typ}\0{claims}");
    // A key this server never had, and a kid it does not know.
    let stranger = SigningKey::from_bytes(&[7; 32]);
    let kid = id(0x6001).to_string();
    vec![
        seed(t, "access-signed", token_input(1, now + 60, &signed("at+jwt", &access))),
        seed(t, "access-expired", token_input(1, now + 3600, &signed("at+jwt", &access))),
        seed(t, "grant-signed", token_input(1, now + 60, &signed("offline-grant+jwt", &grant(TILL_DEVICE)))),
        seed(t, "grant-other-device", token_input(1, now, &signed("offline-grant+jwt", &grant("0190f000-0000-7000-8000-00000000d002")))),
        seed(t, "access-signed-as-grant", token_input(1, now, &signed("offline-grant+jwt", &access))),
        seed(t, "foreign-key", token_input(0, now, &jwt(&stranger, &kid, "EdDSA", "at+jwt", &access))),
        seed(t, "alg-none", token_input(0, now, &format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "at+jwt", "kid": kid}).to_string()),
            URL_SAFE_NO_PAD.encode(access.to_string())
        ))),
        seed(t, "hmac-with-jku", token_input(0, now, &format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "offline-grant+jwt", "kid": kid, "jku": "https://evil.example/jwks.json"}).to_string()),
            URL_SAFE_NO_PAD.encode(grant(TILL_DEVICE).to_string()),
            URL_SAFE_NO_PAD.encode([0_u8; 32])
        ))),
    ]
}

fn barcodes() -> Vec<Seed> {
    let t = "barcodes";
    let label = |body: &str| {
        Barcode::ean13_from_body(body)
            .expect("twelve digits")
            .as_str()
            .to_owned()
    };
    vec![
        seed(t, "ean13", "4006381333931"),
        seed(t, "ean8", "96385074"),
        seed(t, "upc-a", "036000291452"),
        seed(t, "gtin14", "10012345678902"),
        seed(t, "scanned-with-newline", " 5901234123457\r\n"),
        seed(t, "wrong-check-digit", "4006381333932"),
        seed(t, "price-label", label("201234501250")),
        seed(t, "weight-label", label("251234500750")),
    ]
}

/// Operations for `money_tax`: each an operation byte and its arguments.
fn money_tax() -> Vec<Seed> {
    let t = "money_tax";
    let i = |v: i64| v.to_le_bytes().to_vec();
    let text = |s: &str| {
        let mut bytes = vec![s.len() as u8];
        // `Args::text` maps 0-199 to digits, 200-219 to '.', 220-224 to ' '.
        bytes.extend(s.bytes().map(|b| match b {
            b'0'..=b'9' => b - b'0',
            b'.' => 200,
            _ => 220,
        }));
        bytes
    };
    let op = |code: u8, parts: &[Vec<u8>]| {
        let mut bytes = vec![code];
        for part in parts {
            bytes.extend(part);
        }
        bytes
    };
    // `within` reads a value v ≡ 2..7 (mod 8) as v; 0 and 1 as the range's ends.
    vec![
        seed(t, "extend-price-by-weight", op(0, &[i(130), i(1250 + 2)])),
        seed(t, "divide-half", op(1, &[i(5), i(1), i(2), vec![0]])),
        seed(
            t,
            "amount-text",
            op(2, &[text("12.50"), vec![3, 2], i(1250 + 2)]),
        ),
        seed(
            t,
            "exchange-rate",
            op(3, &[text("26.80"), i(1002), vec![2, 2, 0]]),
        ),
        seed(t, "vat-at-15", op(4, &[i(1150 + 2), vec![0], i(1500)])),
        seed(
            t,
            "allocate-discount",
            op(
                5,
                &[i(100 + 2), vec![3, 0], i(240 + 2), i(199 + 2), i(300 + 2)],
            ),
        ),
        seed(
            t,
            "breakdown-of-a-sale",
            op(
                6,
                &[
                    vec![3, 0],
                    vec![0],
                    i(1500),
                    i(240 + 2),
                    i(0),
                    vec![1],
                    i(300 + 2),
                    i(0),
                    vec![0],
                    i(1500),
                    i(199 + 2),
                    i(0),
                ],
            ),
        ),
        seed(
            t,
            "breakdown-of-a-refund",
            op(6, &[vec![1, 1], vec![0], i(1500), i(120 + 2), i(16 + 2)]),
        ),
        seed(t, "largest-amounts", op(0, &[i(0), i(0)])),
    ]
}

fn receipt_names() -> Vec<Seed> {
    let t = "receipt_names";
    vec![
        seed(t, "plain", "Corner Shop\0Harare CBD\0Tendai\0\0Bread 700g\0Milk 1L\0Tomatoes"),
        seed(t, "accents-and-refund", "Café Crème\0Bulawayo\0Nyasha Moyo\0Stale — returned\0Crème brûlée\0Jalapeño poppers"),
        seed(t, "long-names", "The Very Long Name Of A Wholesale And Retail Cash-And-Carry Shop\0Stand 1234, Corner of Samora Machel Avenue and Julius Nyerere Way\0Cashier\0\0Extra-long-product-name-without-any-spaces-that-must-still-wrap-somewhere\0Sugar 2kg"),
        seed(t, "markup-and-scripts", "<script>alert(1)</script>\0\"&'\0漢字 العربية\0\0🍞 bread 🥛\0\t\r\nTabs\u{0301}and\u{202e}bidi"),
    ]
}
