//! A deterministic, realistic-looking product catalog for demos and benchmarks: the same
//! size and seed always give the same products, names, prices and barcodes, so a bug seen on
//! one machine can be reproduced on another.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tillpoint_protocol::Barcode;

use crate::catalog::{TaxClassCode, Unit};

pub const DEFAULT_SEED: u64 = 2026;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogItem {
    pub sku: String,
    pub name: String,
    pub unit: Unit,
    pub tax: TaxClassCode,
    /// Tax-inclusive USD cents.
    pub price_cents: i64,
    pub barcode: Barcode,
}

struct Template {
    product: &'static str,
    sizes: &'static [&'static str],
    tax: TaxClassCode,
    unit: Unit,
    /// Price range in cents for the first size; larger sizes scale it.
    cents: (i64, i64),
}

const fn t(
    product: &'static str,
    sizes: &'static [&'static str],
    tax: TaxClassCode,
    unit: Unit,
    cents: (i64, i64),
) -> Template {
    Template {
        product,
        sizes,
        tax,
        unit,
        cents,
    }
}

use TaxClassCode::{Exempt, Standard, ZeroRated};
use Unit::{Each, Kg};

const TEMPLATES: &[Template] = &[
    t(
        "White Bread Loaf",
        &["600g", "700g"],
        ZeroRated,
        Each,
        (90, 130),
    ),
    t(
        "Brown Bread Loaf",
        &["600g", "700g"],
        ZeroRated,
        Each,
        (95, 140),
    ),
    t(
        "Roller Meal",
        &["2kg", "5kg", "10kg"],
        ZeroRated,
        Each,
        (150, 220),
    ),
    t(
        "Super Refined Maize Meal",
        &["2kg", "5kg", "10kg"],
        ZeroRated,
        Each,
        (170, 250),
    ),
    t(
        "Fresh Milk",
        &["500ml", "1L", "2L"],
        ZeroRated,
        Each,
        (70, 110),
    ),
    t(
        "Long Life Milk",
        &["500ml", "1L"],
        ZeroRated,
        Each,
        (90, 140),
    ),
    t(
        "White Sugar",
        &["1kg", "2kg", "5kg"],
        ZeroRated,
        Each,
        (110, 160),
    ),
    t("Brown Sugar", &["1kg", "2kg"], ZeroRated, Each, (105, 150)),
    t(
        "Cooking Oil",
        &["750ml", "2L", "5L"],
        Standard,
        Each,
        (200, 320),
    ),
    t(
        "Long Grain Rice",
        &["1kg", "2kg", "5kg"],
        Standard,
        Each,
        (150, 240),
    ),
    t("Spaghetti", &["500g", "1kg"], Standard, Each, (90, 150)),
    t("Baked Beans", &["410g"], Standard, Each, (80, 130)),
    t(
        "Peanut Butter",
        &["375ml", "750ml"],
        Standard,
        Each,
        (180, 290),
    ),
    t(
        "Strawberry Jam",
        &["375g", "900g"],
        Standard,
        Each,
        (170, 260),
    ),
    t("Tea Bags", &["50s", "100s"], Standard, Each, (120, 210)),
    t(
        "Instant Coffee",
        &["100g", "200g"],
        Standard,
        Each,
        (350, 560),
    ),
    t(
        "Orange Juice Blend",
        &["1L", "2L"],
        Standard,
        Each,
        (150, 230),
    ),
    t("Mango Cordial", &["2L"], Standard, Each, (280, 390)),
    t(
        "Cola Soft Drink",
        &["330ml", "500ml", "2L"],
        Standard,
        Each,
        (60, 100),
    ),
    t(
        "Still Mineral Water",
        &["500ml", "1.5L", "5L"],
        Standard,
        Each,
        (40, 80),
    ),
    t("Potato Crisps", &["30g", "125g"], Standard, Each, (40, 90)),
    t(
        "Salted Biscuits",
        &["150g", "400g"],
        Standard,
        Each,
        (70, 130),
    ),
    t(
        "Chocolate Bar",
        &["40g", "80g", "150g"],
        Standard,
        Each,
        (80, 150),
    ),
    t(
        "Washing Powder",
        &["500g", "1kg", "2kg"],
        Standard,
        Each,
        (150, 260),
    ),
    t(
        "Dishwashing Liquid",
        &["750ml", "1.5L"],
        Standard,
        Each,
        (130, 210),
    ),
    t("Bath Soap", &["100g", "150g"], Standard, Each, (50, 95)),
    t(
        "Petroleum Jelly",
        &["100ml", "250ml"],
        Standard,
        Each,
        (90, 170),
    ),
    t("Toothpaste", &["50ml", "100ml"], Standard, Each, (110, 190)),
    t(
        "Toilet Paper",
        &["4 pack", "9 pack"],
        Standard,
        Each,
        (180, 320),
    ),
    t(
        "Candles",
        &["6 pack", "12 pack"],
        Standard,
        Each,
        (100, 180),
    ),
    t("Matches", &["10 boxes"], Standard, Each, (50, 90)),
    t("Paraffin", &["1L", "5L"], Exempt, Each, (140, 210)),
    t(
        "Paracetamol Tablets",
        &["20s", "100s"],
        Exempt,
        Each,
        (60, 140),
    ),
    t("Tomatoes", &["per kg"], ZeroRated, Kg, (150, 250)),
    t("Onions", &["per kg"], ZeroRated, Kg, (120, 220)),
    t("Bananas", &["per kg"], ZeroRated, Kg, (130, 200)),
    t("Beef Mince", &["per kg"], Standard, Kg, (600, 900)),
    t("Chicken Portions", &["per kg"], Standard, Kg, (450, 700)),
    t("Cheddar Cheese", &["per kg"], Standard, Kg, (900, 1400)),
    t("Kapenta", &["250g", "500g"], ZeroRated, Each, (250, 420)),
];

const BRANDS: &[&str] = &[
    "Msasa",
    "Kariba Fresh",
    "Highveld",
    "Zambezi Gold",
    "Mukuyu",
    "Chimanimani",
    "Nyanga Farms",
    "Savanna",
    "Sunmead",
    "Great Dyke",
    "Mopane",
    "Hwange Valley",
    "Matopos",
    "Limpopo Pride",
    "Mutare Mills",
    "Baobab",
    "Victoria",
    "Kadoma Select",
    "Gweru Dairy",
    "Bulawayo Best",
];

const VARIANTS: &[&str] = &[
    "",
    "",
    "",
    "Classic",
    "Family Pack",
    "Lite",
    "Value",
    "Premium",
];

/// The GS1 prefix of in-store (restricted circulation) numbers a shop's scale prints on
/// labels: `25 IIIII WWWWW C`, item code I, weight W in grams, check digit C.
pub const WEIGHT_BARCODE_PREFIX: &str = "25";
/// Item codes are five digits: the first this many products sold by weight get one.
pub const MAX_WEIGHT_ITEMS: usize = 100_000;

/// The barcode a product sold by weight is stored under: its scale label with weight zero
/// (`25 IIIII 00000 C`). A till reading a label looks up the code with the weight zeroed.
pub fn weight_barcode(item_code: usize) -> Barcode {
    assert!(item_code < MAX_WEIGHT_ITEMS, "item codes have five digits");
    Barcode::ean13_from_body(&format!("{WEIGHT_BARCODE_PREFIX}{item_code:05}00000"))
        .expect("twelve digits always make an EAN-13")
}

/// `count` catalog items from `seed`. Barcodes are valid, distinct EAN-13s; SKUs are unique.
/// Products sold by weight carry an in-store weight barcode ([`weight_barcode`], item codes
/// from 1 in catalog order) while codes last, the others a `6009…` code.
pub fn generate(count: usize, seed: u64) -> impl Iterator<Item = CatalogItem> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut weight_items = 0;
    (0..count).map(move |index| {
        let template = &TEMPLATES[rng.random_range(0..TEMPLATES.len())];
        let brand = BRANDS[rng.random_range(0..BRANDS.len())];
        let variant = VARIANTS[rng.random_range(0..VARIANTS.len())];
        let size_index = rng.random_range(0..template.sizes.len());
        let size = template.sizes[size_index];
        let base = rng.random_range(template.cents.0..=template.cents.1);
        // Larger packs cost more, a little less than proportionally; prices end in 0 or 5.
        let scaled = base * (100 + 140 * size_index as i64) / 100;
        let price_cents = (scaled + 4) / 5 * 5;
        let name = match variant {
            "" => format!("{brand} {} {size}", template.product),
            v => format!("{brand} {} {v} {size}", template.product),
        };
        let barcode = if template.unit == Kg && weight_items + 1 < MAX_WEIGHT_ITEMS {
            weight_items += 1;
            weight_barcode(weight_items)
        } else {
            // 600 is the GS1 prefix range of southern Africa; the index keeps codes distinct.
            Barcode::ean13_from_body(&format!("6009{index:08}"))
                .expect("twelve digits always make an EAN-13")
        };
        CatalogItem {
            sku: format!("SKU-{:07}", index + 1),
            name,
            unit: template.unit,
            tax: template.tax,
            price_cents,
            barcode,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_same_seed_gives_the_same_catalog() {
        let a: Vec<_> = generate(300, 7).collect();
        let b: Vec<_> = generate(300, 7).collect();
        let c: Vec<_> = generate(300, 8).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn barcodes_and_skus_are_valid_and_unique() {
        let items: Vec<_> = generate(5_000, DEFAULT_SEED).collect();
        let barcodes: HashSet<_> = items.iter().map(|i| i.barcode.clone()).collect();
        let skus: HashSet<_> = items.iter().map(|i| i.sku.clone()).collect();
        assert_eq!(barcodes.len(), 5_000);
        assert_eq!(skus.len(), 5_000);
        for item in &items {
            assert!(Barcode::parse(item.barcode.as_str()).is_ok());
            assert_eq!(item.barcode.as_str().len(), 13);
            assert!(
                item.price_cents > 0 && item.price_cents % 5 == 0,
                "{item:?}"
            );
        }
    }

    #[test]
    fn products_sold_by_weight_carry_a_scale_label_code_with_the_weight_zeroed() {
        let kg: Vec<_> = generate(500, DEFAULT_SEED)
            .filter(|i| i.unit == Kg)
            .collect();
        assert!(!kg.is_empty());
        for (n, item) in kg.iter().enumerate() {
            let code = item.barcode.as_str();
            // 25 · item code (1, 2, … in catalog order) · 00000 · check digit.
            assert_eq!(&code[..7], format!("25{:05}", n + 1), "{item:?}");
            assert_eq!(&code[7..12], "00000");
            assert!(Barcode::parse(code).is_ok());
        }
        // A label for 1.234 kg of the first item is the same code with the weight filled in.
        let label =
            Barcode::ean13_from_body(&format!("{}01234", &kg[0].barcode.as_str()[..7])).unwrap();
        assert_eq!(&label.as_str()[..7], &kg[0].barcode.as_str()[..7]);
        assert_eq!(weight_barcode(1).as_str(), kg[0].barcode.as_str());
    }

    #[test]
    fn the_catalog_mixes_tax_classes_and_units() {
        let items: Vec<_> = generate(2_000, DEFAULT_SEED).collect();
        for tax in [Standard, ZeroRated, Exempt] {
            assert!(items.iter().any(|i| i.tax == tax), "{tax:?} missing");
        }
        assert!(items.iter().any(|i| i.unit == Kg));
        for item in &items {
            let prefix = if item.unit == Kg { "25" } else { "6009" };
            assert!(item.barcode.as_str().starts_with(prefix), "{item:?}");
        }
        let names: HashSet<_> = items.iter().map(|i| i.name.as_str()).collect();
        assert!(
            names.len() > 1_000,
            "names should vary, got {}",
            names.len()
        );
    }
}
