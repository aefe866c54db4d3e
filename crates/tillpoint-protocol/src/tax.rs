//! VAT, computed the one way both the till and the server check it.
//!
//! Prices are tax-inclusive. The VAT of a document is worked out once per rate, on the sum
//! of what its lines at that rate were charged after discounts:
//! `vat = gross × rate / (1 + rate)`, rounded half away from zero to the minor unit. This is
//! what ZIMRA's FDMS expects of a tax-inclusive receipt (`taxAmount` per tax), and it keeps a
//! receipt's VAT independent of how its lines are split. Each line's share of its rate's VAT
//! is then allocated by largest remainder, so the lines always add up to the breakdown.

use serde::{Deserialize, Serialize};

use crate::money::{allocate, divide, Rounding};

/// The kinds of tax a product can carry. Zero-rated and exempt both charge nothing but are
/// reported apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaxCode {
    Standard,
    ZeroRated,
    Exempt,
}

impl TaxCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::ZeroRated => "zero_rated",
            Self::Exempt => "exempt",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "standard" => Some(Self::Standard),
            "zero_rated" => Some(Self::ZeroRated),
            "exempt" => Some(Self::Exempt),
            _ => None,
        }
    }
}

/// A tax class as charged: its kind and its rate in basis points (1500 = 15 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TaxRate {
    pub code: TaxCode,
    #[serde(deserialize_with = "crate::bounds::rate_bp")]
    pub rate_bp: u32,
}

impl TaxRate {
    /// The rate as a person reads it: `15%`, `0%`, `exempt`.
    pub fn label(self) -> String {
        if self.code == TaxCode::Exempt {
            return "exempt".to_owned();
        }
        let (whole, fraction) = (self.rate_bp / 100, self.rate_bp % 100);
        if fraction == 0 {
            format!("{whole}%")
        } else {
            let fraction = format!("{fraction:02}");
            format!("{whole}.{}%", fraction.trim_end_matches('0'))
        }
    }
}

/// The VAT contained in a tax-inclusive `gross` at `rate_bp`.
pub fn vat_included(gross: i64, rate_bp: u32) -> i64 {
    let rate = i128::from(rate_bp);
    divide(i128::from(gross) * rate, 10_000 + rate, Rounding::HalfUp) as i64
}

/// One rate's line of a VAT breakdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VatBand {
    pub rate: TaxRate,
    /// What was charged at this rate, VAT included.
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub gross_minor: i64,
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub vat_minor: i64,
    #[serde(deserialize_with = "crate::bounds::amount")]
    pub net_minor: i64,
}

/// The breakdown of lines charged `(rate, gross)`, one band per rate in rate order, and each
/// line's share of its band's VAT (in the lines' order).
pub fn vat_breakdown(lines: &[(TaxRate, i64)]) -> (Vec<VatBand>, Vec<i64>) {
    let mut rates: Vec<TaxRate> = lines.iter().map(|(rate, _)| *rate).collect();
    rates.sort();
    rates.dedup();
    let mut line_vat = vec![0; lines.len()];
    let bands = rates
        .into_iter()
        .map(|rate| {
            let members: Vec<usize> = (0..lines.len()).filter(|i| lines[*i].0 == rate).collect();
            let grosses: Vec<i64> = members.iter().map(|i| lines[*i].1).collect();
            let gross: i64 = grosses.iter().sum();
            let vat = vat_included(gross, rate.rate_bp);
            for (index, share) in members.iter().zip(allocate(vat, &grosses)) {
                line_vat[*index] = share;
            }
            VatBand {
                rate,
                gross_minor: gross,
                vat_minor: vat,
                net_minor: gross - vat,
            }
        })
        .collect();
    (bands, line_vat)
}

/// The breakdown of lines whose VAT shares are already fixed, `(rate, gross, vat)`: one band
/// per rate in rate order, each the sum of its lines. How a refund's VAT is told — the shares
/// of the VAT its sale charged, never worked out again, so partial refunds never hand back
/// more VAT than the sale carried.
pub fn bands_of_lines(lines: &[(TaxRate, i64, i64)]) -> Vec<VatBand> {
    let mut bands: Vec<VatBand> = Vec::new();
    for (rate, gross, vat) in lines {
        match bands.iter_mut().find(|band| band.rate == *rate) {
            Some(band) => {
                band.gross_minor += gross;
                band.vat_minor += vat;
            }
            None => bands.push(VatBand {
                rate: *rate,
                gross_minor: *gross,
                vat_minor: *vat,
                net_minor: 0,
            }),
        }
    }
    bands.sort_by_key(|band| band.rate);
    for band in &mut bands {
        band.net_minor = band.gross_minor - band.vat_minor;
    }
    bands
}

#[cfg(test)]
mod tests {
    use super::*;

    const STANDARD: TaxRate = TaxRate {
        code: TaxCode::Standard,
        rate_bp: 1500,
    };
    const ZERO: TaxRate = TaxRate {
        code: TaxCode::ZeroRated,
        rate_bp: 0,
    };
    const EXEMPT: TaxRate = TaxRate {
        code: TaxCode::Exempt,
        rate_bp: 0,
    };

    /// (gross, VAT at 15 %): worked by hand as gross × 15 / 115, half up.
    #[test]
    fn vat_at_fifteen_percent_table() {
        for (gross, vat) in [
            (115, 15),
            (100, 13),     // 13.04
            (1, 0),        // 0.13
            (4, 1),        // 0.52
            (23, 3),       // 3.0
            (46, 6),       // 6.0
            (1150, 150),   // exact
            (999, 130),    // 130.30
            (1007, 131),   // 131.35
            (-1007, -131), // a refund mirrors the sale
            (0, 0),
        ] {
            assert_eq!(vat_included(gross, 1500), vat, "gross {gross}");
        }
        assert_eq!(vat_included(1000, 0), 0);
    }

    #[test]
    fn vat_is_per_rate_on_the_sum_not_per_line() {
        // Three lines of 1.00 at 15 %: per line 0.13 each = 0.39, on the sum 3.00 → 0.39;
        // seven lines of 0.04: per line 0.01 each = 0.07, on the sum 0.28 → 0.04.
        let lines: Vec<(TaxRate, i64)> = (0..7).map(|_| (STANDARD, 4)).collect();
        let (bands, shares) = vat_breakdown(&lines);
        assert_eq!(bands.len(), 1);
        assert_eq!(bands[0].gross_minor, 28);
        assert_eq!(bands[0].vat_minor, 4);
        assert_eq!(bands[0].net_minor, 24);
        assert_eq!(shares.iter().sum::<i64>(), 4);
    }

    #[test]
    fn mixed_rates_get_one_band_each_and_shares_add_up() {
        let lines = [
            (STANDARD, 1999),
            (ZERO, 250),
            (STANDARD, 501),
            (EXEMPT, 1000),
            (ZERO, 99),
        ];
        let (bands, shares) = vat_breakdown(&lines);
        assert_eq!(bands.len(), 3);
        assert_eq!(bands[0].rate, STANDARD);
        assert_eq!(bands[0].gross_minor, 2500);
        assert_eq!(bands[0].vat_minor, 326); // 326.09
        assert_eq!(bands[1].rate, ZERO);
        assert_eq!((bands[1].gross_minor, bands[1].vat_minor), (349, 0));
        assert_eq!(bands[2].rate, EXEMPT);
        assert_eq!(shares[0] + shares[2], 326);
        assert_eq!(shares[1] + shares[3] + shares[4], 0);
    }

    #[test]
    fn labels_read_as_people_write_them() {
        assert_eq!(STANDARD.label(), "15%");
        assert_eq!(ZERO.label(), "0%");
        assert_eq!(EXEMPT.label(), "exempt");
        let odd = TaxRate {
            code: TaxCode::Standard,
            rate_bp: 1450,
        };
        assert_eq!(odd.label(), "14.5%");
    }
}
