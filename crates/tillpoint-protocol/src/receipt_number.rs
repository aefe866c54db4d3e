//! Receipt numbers: `<device prefix>-<sequence>` (docs/decisions/selling.md). The till numbers
//! its receipts and the server checks that a pushed sale's number carries the prefix of the
//! device that made it, so both sides need the one rule: a receipt number names its till, and
//! one till cannot take (or collide on purpose with) another's numbers.

use crate::DeviceId;

/// The receipt number prefix of a device: the last 8 hex digits of its id (the random part of
/// a UUIDv7), upper case.
pub fn receipt_prefix(device: DeviceId) -> String {
    let hex = device.as_uuid().simple().to_string();
    hex[hex.len() - 8..].to_uppercase()
}

/// Whether `receipt_no` is one of `device`'s numbers: its prefix, a `-`, then digits.
pub fn is_devices_receipt_number(device: DeviceId, receipt_no: &str) -> bool {
    receipt_no
        .strip_prefix(&receipt_prefix(device))
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_number_carries_its_devices_prefix() {
        let device: DeviceId = "0190f0c4-7a37-7000-8000-00000a1b2c3d".parse().unwrap();
        assert_eq!(receipt_prefix(device), "0A1B2C3D");
        assert!(is_devices_receipt_number(device, "0A1B2C3D-000001"));
        for other in [
            "0A1B2C3E-000001",
            "0A1B2C3D-",
            "0A1B2C3D000001",
            "X-0A1B2C3D-1",
            "0A1B2C3D-12a",
        ] {
            assert!(!is_devices_receipt_number(device, other), "{other}");
        }
    }
}
