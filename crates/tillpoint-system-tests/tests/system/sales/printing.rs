//! Printing: receipts print and open the drawer for cash, reprints say so, and a dead
//! printer never loses the sale.

use super::{card, cash, count, open_till, paying, rows, scalar, shop_with};
use std::io::Read;
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;
use tillpoint_core::config::PrinterSettings;
use tillpoint_core::journal::{self};
use tillpoint_core::TillConfig;
use tillpoint_receipt::escpos::decode::{decode, Printed};
use tillpoint_receipt::{PaperWidth, PrinterTarget};

/// A receipt printer on a loopback port: every connection's bytes, in order.
struct FakePrinter {
    port: u16,
    jobs: mpsc::Receiver<Vec<u8>>,
}

impl FakePrinter {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, jobs) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let mut bytes = Vec::new();
                let _ = stream.read_to_end(&mut bytes);
                if tx.send(bytes).is_err() {
                    break;
                }
            }
        });
        Self { port, jobs }
    }

    fn next_job(&self) -> Vec<Printed> {
        let bytes = self
            .jobs
            .recv_timeout(Duration::from_secs(10))
            .expect("the printer received a job");
        decode(&bytes).expect("only ESC/POS this crate sends")
    }
}

fn printer_at(port: u16) -> impl FnOnce(&mut TillConfig) {
    move |config| {
        config.printer = Some(PrinterSettings {
            target: PrinterTarget::parse(&format!("tcp://127.0.0.1:{port}")).unwrap(),
            width: PaperWidth::Mm80,
            cash_drawer: true,
        })
    }
}

fn text_of(job: &[Printed]) -> String {
    job.iter()
        .filter_map(|p| match p {
            Printed::Line(line) => Some(line.text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn kicks(job: &[Printed]) -> usize {
    job.iter()
        .filter(|p| matches!(p, Printed::DrawerKick { .. }))
        .count()
}

#[tokio::test]
async fn receipts_print_open_the_drawer_for_cash_and_reprints_say_so() {
    let printer = FakePrinter::start();
    let shop = shop_with("Cashier", printer_at(printer.port)).await;
    let till = shop.t();
    open_till(till);
    let c = &shop.catalog;
    till.scan_barcode(&c.bread.barcode).unwrap();
    till.scan_barcode(&c.milk.barcode).unwrap();
    let done = till
        .checkout(&paying(vec![cash("USD", "20.00")], "ZWG"))
        .await
        .unwrap();
    assert!(done.printed.printed, "{:?}", done.printed.print_error);
    assert_eq!(done.printed.print_error, None);
    let job = printer.next_job();
    let text = text_of(&job);
    assert_eq!(kicks(&job), 1, "a cash sale opens the drawer");
    assert!(text.contains("2.24"), "the total is printed:\n{text}");
    assert!(text.contains(&done.receipt_no), "{text}");
    assert!(
        text.contains(&done.printed.receipt.verification_code),
        "{text}"
    );
    assert!(text.contains("475.96"), "the change in ZWG:\n{text}");
    assert!(!text.contains("REPRINT"), "{text}");
    assert!(matches!(job.last(), Some(Printed::Cut { .. })));

    let again = till.print_receipt(&done.sale_id).await.unwrap();
    assert!(again.printed && again.receipt.reprint);
    let job = printer.next_job();
    assert_eq!(kicks(&job), 0, "a reprint never opens the drawer");
    assert!(text_of(&job).contains("REPRINT"), "{}", text_of(&job));
    // Asking for an "original" again cannot dodge the mark either.
    let third = till.print_receipt(&done.sale_id).await.unwrap();
    assert!(third.receipt.reprint);
    assert_eq!(kicks(&printer.next_job()), 0);

    // A card-only sale does not open the drawer.
    till.scan_barcode(&c.bread.barcode).unwrap();
    let by_card = till
        .checkout(&paying(vec![card("USD", "1.25", "AUTH 5")], "USD"))
        .await
        .unwrap();
    assert!(by_card.printed.printed);
    assert_eq!(kicks(&printer.next_job()), 0);

    // The X and Z reports go to the same printer, and never open the drawer.
    let x = till.till_report().await.unwrap();
    assert!(x.printed, "{:?}", x.print_error);
    let job = printer.next_job();
    assert_eq!(kicks(&job), 0);
    assert!(text_of(&job).contains("X REPORT"), "{}", text_of(&job));
    let z = till
        .close_till(&[count("USD", "21.25"), count("ZWG", "1000.00")])
        .await
        .unwrap();
    assert!(z.printed, "{:?}", z.print_error);
    let job = printer.next_job();
    assert_eq!(kicks(&job), 0);
    assert!(text_of(&job).contains("Z REPORT"), "{}", text_of(&job));
}

#[tokio::test]
async fn a_dead_printer_never_loses_the_sale() {
    let shop = shop_with("Cashier", printer_at(tillpoint_system_tests::closed_port())).await;
    let till = shop.t();
    open_till(till);
    till.scan_barcode(&shop.catalog.bread.barcode).unwrap();
    let done = till
        .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await
        .expect("the sale is written even though the printer is off");
    assert!(!done.printed.printed);
    let error = done.printed.print_error.as_deref().expect("says why");
    assert!(error.contains("cannot reach the printer"), "{error}");
    assert!(
        done.printed.html.contains(&done.receipt_no),
        "shown on screen instead"
    );
    let conn = shop.db();
    assert_eq!(
        scalar::<String>(
            &conn,
            "SELECT receipt_no FROM sales WHERE id = ?1",
            [&done.sale_id]
        ),
        done.receipt_no
    );
    assert_eq!(rows(&conn, "stock_movements"), 1);
    assert!(journal::verify(&conn).is_ok());
}
