//! A receipt, laid out once and rendered two ways: ESC/POS bytes for 58 and 80 mm thermal
//! printers, and HTML for the screen and A4. It also sends bytes to a printer (a device file
//! or a network printer on TCP port 9100).
//!
//! It knows nothing of sales, stores or sessions: `tillpoint-core` builds a [`Receipt`] from a
//! stored sale and hands it here. Everything on the receipt is already decided (amounts in
//! minor units, labels, the verification code); this crate only lays it out.

pub mod model;

pub use model::{Amount, Receipt, ReceiptKind, ReceiptLine, ReceiptPayment, ReceiptVat};
