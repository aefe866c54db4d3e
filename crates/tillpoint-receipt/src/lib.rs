//! A receipt or a till-session report, laid out once and rendered two ways: ESC/POS bytes for
//! 58 and 80 mm thermal printers, and HTML for the screen and A4. It also sends bytes to a
//! printer (a device file or a network printer on TCP port 9100).
//!
//! It knows nothing of sales, stores or sessions: `tillpoint-core` builds a [`Receipt`] from a
//! stored sale, or a [`SessionReport`] from a session's totals, and hands it here. Everything
//! on them is already decided (amounts in minor units, labels, the verification code, what
//! was counted); this crate only lays it out.
//!
//! - `layout` (private) decides what a receipt or a report says and in what order,
//!   for both outputs, so paper and screen cannot disagree.
//! - [`escpos`] fits that to 32 or 48 columns of printable ASCII and the printer's commands;
//!   [`escpos::decode`] reads such bytes back for tests.
//! - [`html`] makes a self-contained, escaped document.
//! - [`printer`] is the only module that does I/O.

pub mod escpos;
pub mod html;
mod layout;
pub mod model;
pub mod printer;
pub mod report;
#[cfg(test)]
mod sample_receipts;
#[cfg(test)]
mod sample_reports;

pub use escpos::{EscPosOptions, PaperWidth};
pub use model::{Amount, Receipt, ReceiptKind, ReceiptLine, ReceiptPayment, ReceiptVat};
pub use printer::{PrintError, PrinterTarget, TargetError};
pub use report::{
    CashierReport, CashierTotal, CurrencyReport, ReportKind, SessionReport, TenderLine,
};
