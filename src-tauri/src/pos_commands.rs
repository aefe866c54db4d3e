//! The selling screen's commands: one-line adapters into `tillpoint_core::sales`. Every rule
//! (permissions, grant limits, tender, refunds) is checked in the core, never here.

use tauri::State;
use tillpoint_core::catalog::ProductHit;
use tillpoint_core::sales::till_session::{CountInput, ReportView};
use tillpoint_core::sales::{
    Approver, CartView, CheckoutInput, DiscountInput, PaymentRequest, PosState, PrintedReceipt,
    RefundInput, RefundLineInput, SaleDetail, SaleDone, SaleError, SaleListItem, SellingStatus,
    TenderView,
};
use tillpoint_core::sync::StockOnHand;
use tillpoint_core::CoreError;
use tillpoint_protocol::sales::TenderMethod;
use tillpoint_protocol::ProductId;

use crate::commands::CommandError;
use crate::startup::ShellState;

impl From<SaleError> for CommandError {
    fn from(err: SaleError) -> Self {
        CoreError::from(err).into()
    }
}

type Answer<T> = Result<T, CommandError>;

#[tauri::command]
#[specta::specta]
pub async fn pos_state(state: State<'_, ShellState>) -> Answer<PosState> {
    Ok(state.till()?.pos_state()?)
}

/// May the person at the till sell now, how, and if not why not: the core's answer, which the
/// window shows (the badge, the selling screen) rather than works out.
#[tauri::command]
#[specta::specta]
pub async fn selling_status(state: State<'_, ShellState>) -> Answer<SellingStatus> {
    Ok(state.till()?.selling_status()?)
}

#[tauri::command]
#[specta::specta]
pub async fn find_products(state: State<'_, ShellState>, query: String) -> Answer<Vec<ProductHit>> {
    Ok(state.till()?.find_products(&query)?)
}

/// The Stock screen's search: the same search, for anyone who may view stock.
#[tauri::command]
#[specta::specta]
pub async fn find_stock_products(
    state: State<'_, ShellState>,
    query: String,
) -> Answer<Vec<ProductHit>> {
    Ok(state.till()?.find_stock_products(&query)?)
}

/// A product's stock as this till can tell offline (needs `stock:inventory:view`).
#[tauri::command]
#[specta::specta]
pub async fn stock_on_hand(
    state: State<'_, ShellState>,
    product_id: ProductId,
) -> Answer<StockOnHand> {
    Ok(state.till()?.stock_on_hand(product_id)?)
}

#[tauri::command]
#[specta::specta]
pub async fn scan_barcode(state: State<'_, ShellState>, code: String) -> Answer<CartView> {
    Ok(state.till()?.scan_barcode(&code)?)
}

#[tauri::command]
#[specta::specta]
pub async fn cart_add(
    state: State<'_, ShellState>,
    product_id: String,
    quantity: Option<String>,
) -> Answer<CartView> {
    Ok(state.till()?.cart_add(&product_id, quantity.as_deref())?)
}

#[tauri::command]
#[specta::specta]
pub async fn cart_set_quantity(
    state: State<'_, ShellState>,
    line_id: u32,
    quantity: String,
) -> Answer<CartView> {
    Ok(state.till()?.cart_set_quantity(line_id, &quantity)?)
}

#[tauri::command]
#[specta::specta]
pub async fn cart_remove_line(state: State<'_, ShellState>, line_id: u32) -> Answer<CartView> {
    Ok(state.till()?.cart_remove_line(line_id)?)
}

#[tauri::command]
#[specta::specta]
pub async fn cart_void(state: State<'_, ShellState>) -> Answer<CartView> {
    Ok(state.till()?.cart_void()?)
}

#[tauri::command]
#[specta::specta]
pub async fn cart_set_line_discount(
    state: State<'_, ShellState>,
    line_id: u32,
    discount: Option<DiscountInput>,
) -> Answer<CartView> {
    Ok(state
        .till()?
        .cart_set_line_discount(line_id, discount.as_ref())?)
}

#[tauri::command]
#[specta::specta]
pub async fn cart_set_discount(
    state: State<'_, ShellState>,
    discount: Option<DiscountInput>,
) -> Answer<CartView> {
    Ok(state.till()?.cart_set_discount(discount.as_ref())?)
}

#[tauri::command]
#[specta::specta]
pub async fn cart_set_price(
    state: State<'_, ShellState>,
    line_id: u32,
    price: Option<String>,
) -> Answer<CartView> {
    Ok(state.till()?.cart_set_price(line_id, price.as_deref())?)
}

#[tauri::command]
#[specta::specta]
pub async fn park_cart(state: State<'_, ShellState>, label: String) -> Answer<PosState> {
    Ok(state.till()?.park_cart(&label)?)
}

#[tauri::command]
#[specta::specta]
pub async fn resume_parked(state: State<'_, ShellState>, id: String) -> Answer<PosState> {
    Ok(state.till()?.resume_parked(&id)?)
}

#[tauri::command]
#[specta::specta]
pub async fn tender_preview(
    state: State<'_, ShellState>,
    payments: Vec<PaymentRequest>,
    change_currency: String,
) -> Answer<TenderView> {
    Ok(state.till()?.tender_preview(&CheckoutInput {
        payments,
        change_currency,
    })?)
}

#[tauri::command]
#[specta::specta]
pub async fn checkout(
    state: State<'_, ShellState>,
    payments: Vec<PaymentRequest>,
    change_currency: String,
) -> Answer<SaleDone> {
    let done = state
        .till()?
        .checkout(&CheckoutInput {
            payments,
            change_currency,
        })
        .await?;
    state.sync_now();
    Ok(done)
}

#[tauri::command]
#[specta::specta]
pub async fn open_till(state: State<'_, ShellState>, float: Vec<CountInput>) -> Answer<PosState> {
    let till = state.till()?;
    till.open_till(&float)?;
    state.sync_now();
    Ok(till.pos_state()?)
}

#[tauri::command]
#[specta::specta]
pub async fn till_report(state: State<'_, ShellState>) -> Answer<ReportView> {
    Ok(state.till()?.till_report().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn close_till(
    state: State<'_, ShellState>,
    counted: Vec<CountInput>,
) -> Answer<ReportView> {
    let report = state.till()?.close_till(&counted).await?;
    state.sync_now();
    Ok(report)
}

#[tauri::command]
#[specta::specta]
pub async fn recent_sales(state: State<'_, ShellState>, limit: u32) -> Answer<Vec<SaleListItem>> {
    Ok(state.till()?.recent_sales(limit)?)
}

#[tauri::command]
#[specta::specta]
pub async fn sale_detail(state: State<'_, ShellState>, sale_id: String) -> Answer<SaleDetail> {
    Ok(state.till()?.sale_detail(&sale_id)?)
}

#[tauri::command]
#[specta::specta]
pub async fn refund(
    state: State<'_, ShellState>,
    sale_id: String,
    lines: Vec<RefundLineInput>,
    reason: String,
    approver: Option<Approver>,
    tender: TenderMethod,
) -> Answer<SaleDone> {
    let done = state
        .till()?
        .refund(&RefundInput {
            sale_id,
            lines,
            reason,
            approver,
            tender,
        })
        .await?;
    state.sync_now();
    Ok(done)
}

#[tauri::command]
#[specta::specta]
pub async fn reprint_receipt(
    state: State<'_, ShellState>,
    sale_id: String,
) -> Answer<PrintedReceipt> {
    Ok(state.till()?.print_receipt(&sale_id).await?)
}
