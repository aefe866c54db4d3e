/**
 * The one place the UI talks to the Tillpoint backend (Tauri commands and events).
 *
 * Components never call `invoke` or `listen` themselves: they call the typed functions here,
 * which also check the shape of what comes back and turn every failure into a `BackendError`
 * with a `code` and a human-readable `message`.
 */
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';

export type ConnectionState = 'online' | 'offline' | 'checking';

/** How the person at the till is signed in: against the server, or offline under their grant. */
export type SessionMode = 'online' | 'offline';

export interface AppInfo {
  version: string;
  dataDir: string;
  serverUrl: string;
  logLevel: string;
  schemaVersion: number;
}

export interface ConnectionStatus {
  state: ConnectionState;
  serverUrl: string;
  /** RFC 3339 timestamp of the last check, or null before the first one. */
  checkedAt: string | null;
  detail: string | null;
  serverVersion: string | null;
}

/** Who is signed in on this till. No token or grant ever reaches the window, only this. */
export interface SessionStatus {
  userName: string;
  role: string;
  mode: SessionMode;
  /** When the offline grant ends, in unix seconds. */
  grantExpiresAt: number;
  /** Seconds of offline access left when the backend answered (never negative). */
  grantRemainingSecs: number;
  /** Set in the grant's last hours: what the person should do before it ends. */
  grantWarning: string | null;
}

/** The error every backend function rejects with. */
export class BackendError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }
}

/** The name of the event the backend emits whenever the connection state changes. */
export const CONNECTION_CHANGED_EVENT = 'connection-changed';

/** The name of the event the backend emits when the session changes on its own (refresh, sign-out). */
export const SESSION_CHANGED_EVENT = 'session-changed';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns whatever a command rejected with into a `BackendError`.
 * The backend rejects with `{ code, message }`; anything else becomes code "unknown".
 */
export function toBackendError(reason: unknown): BackendError {
  if (reason instanceof BackendError) {
    return reason;
  }
  if (isRecord(reason) && typeof reason.message === 'string') {
    const code = typeof reason.code === 'string' ? reason.code : 'unknown';
    return new BackendError(code, reason.message);
  }
  if (reason instanceof Error) {
    return new BackendError('unknown', reason.message);
  }
  return new BackendError('unknown', String(reason));
}

function badResponse(what: string): BackendError {
  return new BackendError('bad_response', `The backend returned an unexpected ${what}.`);
}

/** True inside the Tauri webview (and under @tauri-apps/api/mocks in tests). */
function isTauriPresent(): boolean {
  if (typeof window === 'undefined') return false;
  const internals = (window as { __TAURI_INTERNALS__?: { invoke?: unknown } }).__TAURI_INTERNALS__;
  return typeof internals?.invoke === 'function';
}

function noBackend(): BackendError {
  return new BackendError(
    'no_backend',
    'The Tillpoint backend is not available: this screen only works inside the Tillpoint app.',
  );
}

async function call(command: string, args?: Record<string, unknown>): Promise<unknown> {
  if (!isTauriPresent()) {
    throw noBackend();
  }
  try {
    return await invoke<unknown>(command, args);
  } catch (reason: unknown) {
    throw toBackendError(reason);
  }
}

function stringField(record: Record<string, unknown>, key: string, what: string): string {
  const value = record[key];
  if (typeof value !== 'string') {
    throw badResponse(what);
  }
  return value;
}

/** A nullable string: missing and null both mean "no value". */
function optionalStringField(record: Record<string, unknown>, key: string, what: string): string | null {
  const value = record[key];
  if (value === undefined || value === null) {
    return null;
  }
  if (typeof value !== 'string') {
    throw badResponse(what);
  }
  return value;
}

function parseConnectionStatus(value: unknown): ConnectionStatus {
  const what = 'connection status';
  if (!isRecord(value)) {
    throw badResponse(what);
  }
  const state = value.state;
  if (state !== 'online' && state !== 'offline' && state !== 'checking') {
    throw badResponse(what);
  }
  return {
    state,
    serverUrl: stringField(value, 'serverUrl', what),
    checkedAt: optionalStringField(value, 'checkedAt', what),
    detail: optionalStringField(value, 'detail', what),
    serverVersion: optionalStringField(value, 'serverVersion', what),
  };
}

function parseSessionStatus(value: unknown): SessionStatus {
  const what = 'session status';
  if (!isRecord(value)) {
    throw badResponse(what);
  }
  const { mode, grantExpiresAt, grantRemainingSecs } = value;
  if (mode !== 'online' && mode !== 'offline') {
    throw badResponse(what);
  }
  if (typeof grantExpiresAt !== 'number' || !Number.isFinite(grantExpiresAt)) {
    throw badResponse(what);
  }
  if (typeof grantRemainingSecs !== 'number' || !Number.isFinite(grantRemainingSecs) || grantRemainingSecs < 0) {
    throw badResponse(what);
  }
  return {
    userName: stringField(value, 'userName', what),
    role: stringField(value, 'role', what),
    mode,
    grantExpiresAt,
    grantRemainingSecs,
    grantWarning: optionalStringField(value, 'grantWarning', what),
  };
}

/** A session status, or null for "nobody is signed in". */
function parseOptionalSession(value: unknown): SessionStatus | null {
  return value === null ? null : parseSessionStatus(value);
}

function parseAppInfo(value: unknown): AppInfo {
  const what = 'app configuration';
  if (!isRecord(value) || typeof value.schemaVersion !== 'number') {
    throw badResponse(what);
  }
  return {
    version: stringField(value, 'version', what),
    dataDir: stringField(value, 'dataDir', what),
    serverUrl: stringField(value, 'serverUrl', what),
    logLevel: stringField(value, 'logLevel', what),
    schemaVersion: value.schemaVersion,
  };
}

/**
 * `startup_error`: why the till could not start, or null when it started normally.
 * When it could not start every other command fails with this same error, so the window asks
 * this first. The backend's `{ code, message }` comes back as a `BackendError`; an answer of
 * any other shape rejects as `bad_response`.
 */
export async function startupError(): Promise<BackendError | null> {
  const value = await call('startup_error');
  if (value === null) {
    return null;
  }
  const what = 'start-up state';
  if (!isRecord(value)) {
    throw badResponse(what);
  }
  return new BackendError(stringField(value, 'code', what), stringField(value, 'message', what));
}

/** `app_info`: the running app's version and configuration. */
export async function appInfo(): Promise<AppInfo> {
  return parseAppInfo(await call('app_info'));
}

/** `local_product_count`: how many products the till's local store holds. */
export async function localProductCount(): Promise<number> {
  const count = await call('local_product_count');
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw badResponse('product count');
  }
  return count;
}

/** `connection_status`: the backend's current view of the server connection. */
export async function connectionStatus(): Promise<ConnectionStatus> {
  return parseConnectionStatus(await call('connection_status'));
}

/** `check_server`: checks whether a Tillpoint server answers at `url`. */
export async function checkServer(url: string): Promise<ConnectionStatus> {
  return parseConnectionStatus(await call('check_server', { url }));
}

/**
 * `session_status`: who is signed in on this till, or null when nobody is.
 */
export async function sessionStatus(): Promise<SessionStatus | null> {
  return parseOptionalSession(await call('session_status'));
}

/**
 * `sign_in`: signs the person in against the server. The password goes straight to the
 * backend and is never kept, logged or echoed here.
 */
export async function signIn(username: string, password: string): Promise<SessionStatus> {
  return parseSessionStatus(await call('sign_in', { username, password }));
}

/**
 * `unlock_offline`: lets someone who signed in online on this till before in without the
 * server, under their offline grant. The password is handled as for `signIn`.
 */
export async function unlockOffline(username: string, password: string): Promise<SessionStatus> {
  return parseSessionStatus(await call('unlock_offline', { username, password }));
}

/**
 * `lock`: signs the person out of the window (lock screen, switch user). Their offline access
 * stays on the till.
 */
export async function lock(): Promise<void> {
  const value = await call('lock');
  // A Rust `()` arrives as null.
  if (value !== null && value !== undefined) {
    throw badResponse('answer to lock');
  }
}

/**
 * Subscribes to `event`, parsing each payload with `parse`. Resolves once the subscription is
 * in place, with a function that ends it (safe to call more than once, and never throws).
 * A payload of the wrong shape is reported through `onError` rather than dropped silently.
 */
async function subscribe<T>(
  event: string,
  parse: (payload: unknown) => T,
  onValue: (value: T) => void,
  onError: (error: BackendError) => void,
): Promise<() => void> {
  if (!isTauriPresent()) {
    throw noBackend();
  }
  let unlisten: () => void;
  try {
    unlisten = await listen<unknown>(event, (message) => {
      let value: T;
      try {
        value = parse(message.payload);
      } catch (reason: unknown) {
        onError(toBackendError(reason));
        return;
      }
      onValue(value);
    });
  } catch (reason: unknown) {
    throw toBackendError(reason);
  }
  let done = false;
  return () => {
    if (done) {
      return;
    }
    done = true;
    // Tauri's unlisten returns a promise despite its `() => void` type; a window that is going
    // away may also make it throw. Either way there is nothing left to unsubscribe from.
    Promise.resolve()
      .then(unlisten)
      .catch(() => undefined);
  };
}

/** The name of the event the backend emits when a catalog pull from the server finished. */
export const CATALOG_SYNCED_EVENT = 'catalog-synced';

/** What a finished catalog pull brought. */
export interface CatalogSynced {
  pages: number;
  records: number;
  /** Products the till can now sell. */
  products: number;
}

function parseCatalogSynced(value: unknown): CatalogSynced {
  const what = 'catalog sync';
  const record = recordOf(value, what);
  return {
    pages: intField(record, 'pages', what),
    records: intField(record, 'records', what),
    products: intField(record, 'products', what),
  };
}

/** The name of the event the backend emits after each page of a catalog pull is stored. */
export const CATALOG_PROGRESS_EVENT = 'catalog-progress';

/** How far a running catalog pull has got. */
export interface CatalogProgress {
  pages: number;
  records: number;
  /** Whether more pages follow. */
  more: boolean;
  /** Changes still to come, when the server says (null when it does not). */
  remaining: number | null;
}

function parseCatalogProgress(value: unknown): CatalogProgress {
  const what = 'catalog progress';
  const record = recordOf(value, what);
  return {
    pages: intField(record, 'pages', what),
    records: intField(record, 'records', what),
    more: boolField(record, 'more', what),
    remaining: optionalIntField(record, 'remaining', what),
  };
}

/** Subscribes to `catalog-progress`; see `subscribe` for how it resolves and reports. */
export async function onCatalogProgress(
  onProgress: (progress: CatalogProgress) => void,
  onError: (error: BackendError) => void,
): Promise<() => void> {
  return subscribe(CATALOG_PROGRESS_EVENT, parseCatalogProgress, onProgress, onError);
}

/** Subscribes to `catalog-synced`; see `subscribe` for how it resolves and reports. */
export async function onCatalogSynced(
  onSynced: (synced: CatalogSynced) => void,
  onError: (error: BackendError) => void,
): Promise<() => void> {
  return subscribe(CATALOG_SYNCED_EVENT, parseCatalogSynced, onSynced, onError);
}

/** Subscribes to `connection-changed`; see `subscribe` for how it resolves and reports. */
export async function onConnectionChanged(
  onStatus: (status: ConnectionStatus) => void,
  onError: (error: BackendError) => void,
): Promise<() => void> {
  return subscribe(CONNECTION_CHANGED_EVENT, parseConnectionStatus, onStatus, onError);
}

/**
 * Subscribes to `session-changed`: null when the person was signed out (by the server),
 * otherwise their new status (after a refresh, or when the network went and they carry on
 * offline). See `subscribe` for how it resolves and reports.
 */
export async function onSessionChanged(
  onSession: (session: SessionStatus | null) => void,
  onError: (error: BackendError) => void,
): Promise<() => void> {
  return subscribe(SESSION_CHANGED_EVENT, parseOptionalSession, onSession, onError);
}

// ---------------------------------------------------------------------------------------------
// Sync: what this till still has to send the server, and what the server held for a manager.
// ---------------------------------------------------------------------------------------------

/** The name of the event the backend emits after every sync round and every pushed batch. */
export const SYNC_STATUS_EVENT = 'sync-status';

/** The last push that failed. */
export interface SyncFailure {
  code: string;
  message: string;
  /** RFC 3339. */
  at: string;
}

/** What is waiting to reach the server, and what needs a manager. */
export interface SyncStatus {
  /** Records still to send. */
  pending: number;
  /** Held by the server for a manager. */
  quarantined: number;
  /** Refused by the server as unreadable; kept on this till. */
  rejected: number;
  /** When the server last answered a push (RFC 3339), or null if it never has. */
  lastSuccessAt: string | null;
  /** Set while the latest push failed. */
  lastError: SyncFailure | null;
}

export type SyncProblemState = 'quarantined' | 'rejected';

/** A record the server quarantined or rejected, with its reason. */
export interface SyncProblem {
  seq: number;
  id: string;
  /** `sale`, `refund`, `till_opened`, `till_closed`. */
  kind: string;
  state: SyncProblemState;
  reason: string | null;
  /** For a sale or refund. */
  receiptNo: string | null;
  createdAt: string;
  attempts: number;
}

const parseSyncFailure: Parse<SyncFailure> = (value, what) => {
  const r = recordOf(value, what);
  return { code: stringField(r, 'code', what), message: stringField(r, 'message', what), at: stringField(r, 'at', what) };
};

function parseSyncStatus(value: unknown): SyncStatus {
  const what = 'sync status';
  const r = recordOf(value, what);
  return {
    pending: intField(r, 'pending', what),
    quarantined: intField(r, 'quarantined', what),
    rejected: intField(r, 'rejected', what),
    lastSuccessAt: optionalStringField(r, 'lastSuccessAt', what),
    lastError: nullableField(r, 'lastError', what, parseSyncFailure),
  };
}

const parseSyncProblem: Parse<SyncProblem> = (value, what) => {
  const r = recordOf(value, what);
  return {
    seq: intField(r, 'seq', what),
    id: stringField(r, 'id', what),
    kind: stringField(r, 'kind', what),
    state: oneOfField(r, 'state', what, ['quarantined', 'rejected']),
    reason: optionalStringField(r, 'reason', what),
    receiptNo: optionalStringField(r, 'receiptNo', what),
    createdAt: stringField(r, 'createdAt', what),
    attempts: intField(r, 'attempts', what),
  };
};

/** `sync_status`: what is waiting to reach the server, what needs a manager, the last success. */
export async function syncStatus(): Promise<SyncStatus> {
  return parseSyncStatus(await call('sync_status'));
}

/** `sync_problems`: the records the server quarantined or rejected, oldest first. */
export async function syncProblems(): Promise<SyncProblem[]> {
  return arrayOf(await call('sync_problems'), 'list of sync problems', parseSyncProblem);
}

/**
 * `sync_now`: asks the background sync to run at once. Answers with the status before it
 * runs; the outcome arrives as a `sync-status` event.
 */
export async function syncNow(): Promise<SyncStatus> {
  return parseSyncStatus(await call('sync_now'));
}

/** What an export of unsynced records wrote. */
export interface ExportSummary {
  /** The file, in the till's data folder. */
  path: string;
  /** Records in the file (from the oldest unsynced one to the newest). */
  records: number;
  /** Of those, not yet synced. */
  unsynced: number;
}

function parseExportSummary(value: unknown): ExportSummary {
  const what = 'export summary';
  const r = recordOf(value, what);
  return {
    path: stringField(r, 'path', what),
    records: intField(r, 'records', what),
    unsynced: intField(r, 'unsynced', what),
  };
}

/**
 * `export_unsynced`: writes every record this till has not synced to a signed file the
 * server can import, for a till that cannot reach it. Managers only (the backend checks).
 */
export async function exportUnsynced(): Promise<ExportSummary> {
  return parseExportSummary(await call('export_unsynced'));
}

/** Subscribes to `sync-status`; see `subscribe` for how it resolves and reports. */
export async function onSyncStatus(
  onStatus: (status: SyncStatus) => void,
  onError: (error: BackendError) => void,
): Promise<() => void> {
  return subscribe(SYNC_STATUS_EVENT, parseSyncStatus, onStatus, onError);
}

// ---------------------------------------------------------------------------------------------
// Point of sale: the cart, tenders, the till session, refunds and receipts.
//
// Amounts are integers in minor units; `minorUnits` says how many decimals their currency has.
// Amounts the cashier types (quantities, prices, discounts, tendered cash) go to the backend
// as typed, as strings: the backend parses them with the currency's rules.
// ---------------------------------------------------------------------------------------------

export type Unit = 'each' | 'kg';
export type TenderMethod = 'cash' | 'card' | 'mobile_money';

export const TENDER_METHODS: readonly TenderMethod[] = ['cash', 'card', 'mobile_money'];

/** A discount as typed: `{ kind: 'amount', value: '1.50' }` or `{ kind: 'percent', value: '10' }`. */
export interface DiscountInput {
  kind: 'amount' | 'percent';
  value: string;
}

export interface VatBandView {
  label: string;
  grossMinor: number;
  vatMinor: number;
  netMinor: number;
}

export interface CartLineView {
  /** Stable within the cart. */
  lineId: number;
  productId: string;
  sku: string;
  name: string;
  unit: Unit;
  /** As text: "2", "1.235". */
  quantity: string;
  unitPriceMinor: number;
  listPriceMinor: number;
  priceOverridden: boolean;
  lineDiscount: DiscountInput | null;
  lineDiscountMinor: number;
  cartDiscountMinor: number;
  /** After discounts. */
  totalMinor: number;
  /** "15%", "0%", "exempt". */
  taxLabel: string;
}

export interface CartView {
  lines: CartLineView[];
  currency: string;
  minorUnits: number;
  subtotalMinor: number;
  discountMinor: number;
  totalMinor: number;
  vat: VatBandView[];
  vatTotalMinor: number;
  cartDiscount: DiscountInput | null;
  /** The sum of the quantities, as text. */
  itemCount: string;
}

export interface ProductHit {
  productId: string;
  sku: string;
  name: string;
  unit: Unit;
  priceMinor: number;
  currency: string;
  minorUnits: number;
  taxLabel: string;
  barcode: string | null;
}

export interface CurrencyOption {
  code: string;
  name: string;
  minorUnits: number;
  /** Units of `code` per 1 of the sale currency ("1" for the sale currency itself). */
  rate: string;
}

export interface TillSessionInfo {
  id: string;
  openedAt: string;
  openedByName: string;
}

export interface ParkedCartInfo {
  id: string;
  label: string;
  parkedAt: string;
  parkedByName: string;
  lineCount: number;
  totalMinor: number;
  currency: string;
  minorUnits: number;
}

export interface PosState {
  /** Null: the till must be opened (its float counted) before selling. */
  tillSession: TillSessionInfo | null;
  cart: CartView;
  parked: ParkedCartInfo[];
  /** The sale currency first. */
  currencies: CurrencyOption[];
  shopName: string | null;
  canDiscount: boolean;
  canOverridePrice: boolean;
  canRefund: boolean;
}

/** One tender as typed: `amount` is "20" or "12.50" in `currency`. */
export interface PaymentInput {
  method: TenderMethod;
  currency: string;
  amount: string;
  reference?: string | null;
}

export interface DueIn {
  currency: string;
  minorUnits: number;
  amountMinor: number;
  rate: string;
}

export interface TenderView {
  currency: string;
  minorUnits: number;
  /** Due, in the sale currency. */
  totalMinor: number;
  /** What the payments count for, in the sale currency. */
  paidMinor: number;
  /** Still due (0 when covered). */
  remainingMinor: number;
  /** Change due, in `changeCurrency`. */
  changeMinor: number;
  changeCurrency: string;
  changeMinorUnits: number;
  /** The remaining amount in each currency. */
  dueIn: DueIn[];
  /** The payments cover the total: checkout may go ahead. */
  complete: boolean;
}

export interface ReceiptAmount {
  currency: string;
  minorUnits: number;
  minor: number;
}

export interface ReceiptLine {
  name: string;
  quantity: string;
  unitPriceMinor: number;
  discountMinor: number;
  totalMinor: number;
  taxLabel: string;
  priceOverridden: boolean;
}

export interface ReceiptPayment {
  /** As printed: "Cash", "Card", "Mobile money". */
  method: string;
  amount: ReceiptAmount;
  rate: string | null;
  reference: string | null;
}

/** What a receipt says (the receipt crate's model). */
export interface Receipt {
  kind: 'sale' | 'refund';
  shopName: string;
  location: string | null;
  taxNumber: string | null;
  receiptNo: string;
  refundOf: string | null;
  reason: string | null;
  date: string;
  cashier: string;
  currency: string;
  minorUnits: number;
  lines: ReceiptLine[];
  subtotalMinor: number;
  discountMinor: number;
  totalMinor: number;
  vat: VatBandView[];
  vatTotalMinor: number;
  payments: ReceiptPayment[];
  change: ReceiptAmount | null;
  verificationCode: string;
  reprint: boolean;
}

export interface PrintedReceipt {
  receipt: Receipt;
  /** A full self-contained document: show it only in `<iframe sandbox="" srcDoc=…>`. */
  html: string;
  printed: boolean;
  printError: string | null;
}

export interface SaleDone extends PrintedReceipt {
  saleId: string;
  receiptNo: string;
}

/** A counted amount of one tender in one currency, as typed. */
export interface CountInput {
  currency: string;
  tender: TenderMethod;
  amount: string;
}

export interface ReportTender {
  method: TenderMethod;
  expectedMinor: number;
  countedMinor: number | null;
  overShortMinor: number | null;
}

export interface ReportCurrency {
  currency: string;
  minorUnits: number;
  salesMinor: number;
  refundsMinor: number;
  discountsMinor: number;
  netMinor: number;
  vat: VatBandView[];
  tenders: ReportTender[];
}

export interface ReportCashier {
  name: string;
  salesCount: number;
  totals: { currency: string; minorUnits: number; amountMinor: number }[];
}

export interface SessionReport {
  kind: 'x' | 'z';
  sessionId: string;
  openedAt: string;
  openedByName: string;
  closedAt: string | null;
  salesCount: number;
  refundsCount: number;
  currencies: ReportCurrency[];
  cashiers: ReportCashier[];
  /** A printable document, shown like receipts. */
  html: string;
  /** Why it did not print on the receipt printer, when one is set up and failed. */
  printError: string | null;
}

export interface SaleListItem {
  saleId: string;
  receiptNo: string;
  kind: 'sale' | 'refund';
  createdAt: string;
  cashierName: string;
  totalMinor: number;
  currency: string;
  minorUnits: number;
  refundable: boolean;
}

export interface SaleDetailLine {
  lineNo: number;
  name: string;
  unit: Unit;
  quantity: string;
  refundableQuantity: string;
  totalMinor: number;
}

export interface SaleDetail {
  sale: SaleListItem;
  lines: SaleDetailLine[];
}

export interface RefundLineInput {
  lineNo: number;
  quantity: string;
  restock: boolean;
}

/** A manager's own credentials, when the cashier may not refund on their own. */
export interface Approver {
  username: string;
  password: string;
}

export interface RefundInput {
  saleId: string;
  lines: RefundLineInput[];
  reason: string;
  approver: Approver | null;
  tender: TenderMethod;
}

// ---- Shape checks ----
// Each parser takes `what` (the answer being read, e.g. "cart") so a malformed part anywhere
// inside it reports the answer as a whole: "The backend returned an unexpected cart."

type Parse<T> = (value: unknown, what: string) => T;

function recordOf(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw badResponse(what);
  return value;
}

/** A whole number of minor units, a count or an id. */
function intField(record: Record<string, unknown>, key: string, what: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw badResponse(what);
  return value;
}

function optionalIntField(record: Record<string, unknown>, key: string, what: string): number | null {
  const value = record[key];
  return value === undefined || value === null ? null : intField(record, key, what);
}

function boolField(record: Record<string, unknown>, key: string, what: string): boolean {
  const value = record[key];
  if (typeof value !== 'boolean') throw badResponse(what);
  return value;
}

function oneOfField<T extends string>(
  record: Record<string, unknown>,
  key: string,
  what: string,
  allowed: readonly T[],
): T {
  const value = record[key];
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw badResponse(what);
  return found;
}

function arrayField<T>(record: Record<string, unknown>, key: string, what: string, parse: Parse<T>): T[] {
  return arrayOf(record[key], what, parse);
}

function arrayOf<T>(value: unknown, what: string, parse: Parse<T>): T[] {
  if (!Array.isArray(value)) throw badResponse(what);
  return value.map((item: unknown) => parse(item, what));
}

function nullableField<T>(record: Record<string, unknown>, key: string, what: string, parse: Parse<T>): T | null {
  const value = record[key];
  return value === undefined || value === null ? null : parse(value, what);
}

const UNITS: readonly Unit[] = ['each', 'kg'];
const SALE_KINDS = ['sale', 'refund'] as const;

const parseDiscount: Parse<DiscountInput> = (value, what) => {
  const r = recordOf(value, what);
  return { kind: oneOfField(r, 'kind', what, ['amount', 'percent']), value: stringField(r, 'value', what) };
};

const parseVatBand: Parse<VatBandView> = (value, what) => {
  const r = recordOf(value, what);
  return {
    label: stringField(r, 'label', what),
    grossMinor: intField(r, 'grossMinor', what),
    vatMinor: intField(r, 'vatMinor', what),
    netMinor: intField(r, 'netMinor', what),
  };
};

const parseCartLine: Parse<CartLineView> = (value, what) => {
  const r = recordOf(value, what);
  return {
    lineId: intField(r, 'lineId', what),
    productId: stringField(r, 'productId', what),
    sku: stringField(r, 'sku', what),
    name: stringField(r, 'name', what),
    unit: oneOfField(r, 'unit', what, UNITS),
    quantity: stringField(r, 'quantity', what),
    unitPriceMinor: intField(r, 'unitPriceMinor', what),
    listPriceMinor: intField(r, 'listPriceMinor', what),
    priceOverridden: boolField(r, 'priceOverridden', what),
    lineDiscount: nullableField(r, 'lineDiscount', what, parseDiscount),
    lineDiscountMinor: intField(r, 'lineDiscountMinor', what),
    cartDiscountMinor: intField(r, 'cartDiscountMinor', what),
    totalMinor: intField(r, 'totalMinor', what),
    taxLabel: stringField(r, 'taxLabel', what),
  };
};

const parseCartWithin: Parse<CartView> = (value, what) => {
  const r = recordOf(value, what);
  return {
    lines: arrayField(r, 'lines', what, parseCartLine),
    currency: stringField(r, 'currency', what),
    minorUnits: intField(r, 'minorUnits', what),
    subtotalMinor: intField(r, 'subtotalMinor', what),
    discountMinor: intField(r, 'discountMinor', what),
    totalMinor: intField(r, 'totalMinor', what),
    vat: arrayField(r, 'vat', what, parseVatBand),
    vatTotalMinor: intField(r, 'vatTotalMinor', what),
    cartDiscount: nullableField(r, 'cartDiscount', what, parseDiscount),
    itemCount: stringField(r, 'itemCount', what),
  };
};

function parseCart(value: unknown): CartView {
  return parseCartWithin(value, 'cart');
}

const parseProductHit: Parse<ProductHit> = (value, what) => {
  const r = recordOf(value, what);
  return {
    productId: stringField(r, 'productId', what),
    sku: stringField(r, 'sku', what),
    name: stringField(r, 'name', what),
    unit: oneOfField(r, 'unit', what, UNITS),
    priceMinor: intField(r, 'priceMinor', what),
    currency: stringField(r, 'currency', what),
    minorUnits: intField(r, 'minorUnits', what),
    taxLabel: stringField(r, 'taxLabel', what),
    barcode: optionalStringField(r, 'barcode', what),
  };
};

const parseCurrency: Parse<CurrencyOption> = (value, what) => {
  const r = recordOf(value, what);
  return {
    code: stringField(r, 'code', what),
    name: stringField(r, 'name', what),
    minorUnits: intField(r, 'minorUnits', what),
    rate: stringField(r, 'rate', what),
  };
};

const parseTillSession: Parse<TillSessionInfo> = (value, what) => {
  const r = recordOf(value, what);
  return {
    id: stringField(r, 'id', what),
    openedAt: stringField(r, 'openedAt', what),
    openedByName: stringField(r, 'openedByName', what),
  };
};

const parseParked: Parse<ParkedCartInfo> = (value, what) => {
  const r = recordOf(value, what);
  return {
    id: stringField(r, 'id', what),
    label: stringField(r, 'label', what),
    parkedAt: stringField(r, 'parkedAt', what),
    parkedByName: stringField(r, 'parkedByName', what),
    lineCount: intField(r, 'lineCount', what),
    totalMinor: intField(r, 'totalMinor', what),
    currency: stringField(r, 'currency', what),
    minorUnits: intField(r, 'minorUnits', what),
  };
};

function parsePosState(value: unknown): PosState {
  const what = 'till state';
  const r = recordOf(value, what);
  const currencies = arrayField(r, 'currencies', what, parseCurrency);
  // The sale currency comes first, and every screen that takes money needs it.
  if (currencies.length === 0) throw badResponse(what);
  return {
    tillSession: nullableField(r, 'tillSession', what, parseTillSession),
    cart: parseCartWithin(r.cart, what),
    parked: arrayField(r, 'parked', what, parseParked),
    currencies,
    shopName: optionalStringField(r, 'shopName', what),
    canDiscount: boolField(r, 'canDiscount', what),
    canOverridePrice: boolField(r, 'canOverridePrice', what),
    canRefund: boolField(r, 'canRefund', what),
  };
}

const parseDueIn: Parse<DueIn> = (value, what) => {
  const r = recordOf(value, what);
  return {
    currency: stringField(r, 'currency', what),
    minorUnits: intField(r, 'minorUnits', what),
    amountMinor: intField(r, 'amountMinor', what),
    rate: stringField(r, 'rate', what),
  };
};

function parseTenderView(value: unknown): TenderView {
  const what = 'tender';
  const r = recordOf(value, what);
  return {
    currency: stringField(r, 'currency', what),
    minorUnits: intField(r, 'minorUnits', what),
    totalMinor: intField(r, 'totalMinor', what),
    paidMinor: intField(r, 'paidMinor', what),
    remainingMinor: intField(r, 'remainingMinor', what),
    changeMinor: intField(r, 'changeMinor', what),
    changeCurrency: stringField(r, 'changeCurrency', what),
    changeMinorUnits: intField(r, 'changeMinorUnits', what),
    dueIn: arrayField(r, 'dueIn', what, parseDueIn),
    complete: boolField(r, 'complete', what),
  };
}

const parseReceiptAmount: Parse<ReceiptAmount> = (value, what) => {
  const r = recordOf(value, what);
  return {
    currency: stringField(r, 'currency', what),
    minorUnits: intField(r, 'minorUnits', what),
    minor: intField(r, 'minor', what),
  };
};

const parseReceiptLine: Parse<ReceiptLine> = (value, what) => {
  const r = recordOf(value, what);
  return {
    name: stringField(r, 'name', what),
    quantity: stringField(r, 'quantity', what),
    unitPriceMinor: intField(r, 'unitPriceMinor', what),
    discountMinor: intField(r, 'discountMinor', what),
    totalMinor: intField(r, 'totalMinor', what),
    taxLabel: stringField(r, 'taxLabel', what),
    priceOverridden: boolField(r, 'priceOverridden', what),
  };
};

const parseReceiptPayment: Parse<ReceiptPayment> = (value, what) => {
  const r = recordOf(value, what);
  return {
    method: stringField(r, 'method', what),
    amount: parseReceiptAmount(r.amount, what),
    rate: optionalStringField(r, 'rate', what),
    reference: optionalStringField(r, 'reference', what),
  };
};

const parseReceipt: Parse<Receipt> = (value, what) => {
  const r = recordOf(value, what);
  return {
    kind: oneOfField(r, 'kind', what, SALE_KINDS),
    shopName: stringField(r, 'shopName', what),
    location: optionalStringField(r, 'location', what),
    taxNumber: optionalStringField(r, 'taxNumber', what),
    receiptNo: stringField(r, 'receiptNo', what),
    refundOf: optionalStringField(r, 'refundOf', what),
    reason: optionalStringField(r, 'reason', what),
    date: stringField(r, 'date', what),
    cashier: stringField(r, 'cashier', what),
    currency: stringField(r, 'currency', what),
    minorUnits: intField(r, 'minorUnits', what),
    lines: arrayField(r, 'lines', what, parseReceiptLine),
    subtotalMinor: intField(r, 'subtotalMinor', what),
    discountMinor: intField(r, 'discountMinor', what),
    totalMinor: intField(r, 'totalMinor', what),
    vat: arrayField(r, 'vat', what, parseVatBand),
    vatTotalMinor: intField(r, 'vatTotalMinor', what),
    payments: arrayField(r, 'payments', what, parseReceiptPayment),
    change: nullableField(r, 'change', what, parseReceiptAmount),
    verificationCode: stringField(r, 'verificationCode', what),
    reprint: boolField(r, 'reprint', what),
  };
};

function parsePrintedWithin(r: Record<string, unknown>, what: string): PrintedReceipt {
  return {
    receipt: parseReceipt(r.receipt, what),
    html: stringField(r, 'html', what),
    printed: boolField(r, 'printed', what),
    printError: optionalStringField(r, 'printError', what),
  };
}

function parsePrintedReceipt(value: unknown): PrintedReceipt {
  const what = 'receipt';
  return parsePrintedWithin(recordOf(value, what), what);
}

function parseSaleDone(value: unknown): SaleDone {
  const what = 'receipt';
  const r = recordOf(value, what);
  return {
    ...parsePrintedWithin(r, what),
    saleId: stringField(r, 'saleId', what),
    receiptNo: stringField(r, 'receiptNo', what),
  };
}

const parseReportTender: Parse<ReportTender> = (value, what) => {
  const r = recordOf(value, what);
  return {
    method: oneOfField(r, 'method', what, TENDER_METHODS),
    expectedMinor: intField(r, 'expectedMinor', what),
    countedMinor: optionalIntField(r, 'countedMinor', what),
    overShortMinor: optionalIntField(r, 'overShortMinor', what),
  };
};

const parseReportCurrency: Parse<ReportCurrency> = (value, what) => {
  const r = recordOf(value, what);
  return {
    currency: stringField(r, 'currency', what),
    minorUnits: intField(r, 'minorUnits', what),
    salesMinor: intField(r, 'salesMinor', what),
    refundsMinor: intField(r, 'refundsMinor', what),
    discountsMinor: intField(r, 'discountsMinor', what),
    netMinor: intField(r, 'netMinor', what),
    vat: arrayField(r, 'vat', what, parseVatBand),
    tenders: arrayField(r, 'tenders', what, parseReportTender),
  };
};

const parseCashierTotal: Parse<ReportCashier['totals'][number]> = (value, what) => {
  const r = recordOf(value, what);
  return {
    currency: stringField(r, 'currency', what),
    minorUnits: intField(r, 'minorUnits', what),
    amountMinor: intField(r, 'amountMinor', what),
  };
};

const parseReportCashier: Parse<ReportCashier> = (value, what) => {
  const r = recordOf(value, what);
  return {
    name: stringField(r, 'name', what),
    salesCount: intField(r, 'salesCount', what),
    totals: arrayField(r, 'totals', what, parseCashierTotal),
  };
};

function parseSessionReport(value: unknown, kind: 'x' | 'z'): SessionReport {
  const what = 'till report';
  const r = recordOf(value, what);
  // An X report asked for must not come back as a Z report, nor the other way round.
  if (r.kind !== kind) throw badResponse(what);
  return {
    kind,
    sessionId: stringField(r, 'sessionId', what),
    openedAt: stringField(r, 'openedAt', what),
    openedByName: stringField(r, 'openedByName', what),
    closedAt: optionalStringField(r, 'closedAt', what),
    salesCount: intField(r, 'salesCount', what),
    refundsCount: intField(r, 'refundsCount', what),
    currencies: arrayField(r, 'currencies', what, parseReportCurrency),
    cashiers: arrayField(r, 'cashiers', what, parseReportCashier),
    html: stringField(r, 'html', what),
    printError: optionalStringField(r, 'printError', what),
  };
}

const parseSaleListItem: Parse<SaleListItem> = (value, what) => {
  const r = recordOf(value, what);
  return {
    saleId: stringField(r, 'saleId', what),
    receiptNo: stringField(r, 'receiptNo', what),
    kind: oneOfField(r, 'kind', what, SALE_KINDS),
    createdAt: stringField(r, 'createdAt', what),
    cashierName: stringField(r, 'cashierName', what),
    totalMinor: intField(r, 'totalMinor', what),
    currency: stringField(r, 'currency', what),
    minorUnits: intField(r, 'minorUnits', what),
    refundable: boolField(r, 'refundable', what),
  };
};

const parseSaleDetailLine: Parse<SaleDetailLine> = (value, what) => {
  const r = recordOf(value, what);
  return {
    lineNo: intField(r, 'lineNo', what),
    name: stringField(r, 'name', what),
    unit: oneOfField(r, 'unit', what, UNITS),
    quantity: stringField(r, 'quantity', what),
    refundableQuantity: stringField(r, 'refundableQuantity', what),
    totalMinor: intField(r, 'totalMinor', what),
  };
};

function parseSaleDetail(value: unknown): SaleDetail {
  const what = 'sale';
  const r = recordOf(value, what);
  return {
    sale: parseSaleListItem(r.sale, what),
    lines: arrayField(r, 'lines', what, parseSaleDetailLine),
  };
}

// ---- Commands ----

/** `pos_state`: the till session, the cart, parked carts, currencies and what the cashier may do. */
export async function posState(): Promise<PosState> {
  return parsePosState(await call('pos_state'));
}

/** `find_products`: up to 20 products whose name or SKU starts with `query` ("" finds none). */
export async function findProducts(query: string): Promise<ProductHit[]> {
  return arrayOf(await call('find_products', { query }), 'product list', parseProductHit);
}

/**
 * `find_stock_products`: the same search for the Stock screen. Needs stock:inventory:view
 * (a Stock Manager, who does not sell, may use it); `findProducts` needs pos:sales:create.
 */
export async function findStockProducts(query: string): Promise<ProductHit[]> {
  return arrayOf(await call('find_stock_products', { query }), 'product list', parseProductHit);
}

/**
 * A product's stock as this till can tell offline. Quantities are thousandths of the
 * product's unit (1500 = 1.5 kg, or 1.5 items).
 */
export interface StockOnHand {
  productId: string;
  /** The server's level for this shop as last pulled; null until a pull has brought one. */
  syncedQuantityMilli: number | null;
  /** When that figure was last known to be the server's (RFC 3339); null with it. */
  syncedAt: string | null;
  /** This till's movements the server figure does not count: sales negative, refunds positive. */
  unsyncedChangeMilli: number;
  /** syncedQuantityMilli + unsyncedChangeMilli, when there is a server figure. */
  estimateMilli: number | null;
}

function parseStockOnHand(value: unknown): StockOnHand {
  const what = 'stock figure';
  const r = recordOf(value, what);
  const stock: StockOnHand = {
    productId: stringField(r, 'productId', what),
    syncedQuantityMilli: optionalIntField(r, 'syncedQuantityMilli', what),
    syncedAt: optionalStringField(r, 'syncedAt', what),
    unsyncedChangeMilli: intField(r, 'unsyncedChangeMilli', what),
    estimateMilli: optionalIntField(r, 'estimateMilli', what),
  };
  // A server figure comes with its time and an estimate, or none of them does.
  const present = [stock.syncedQuantityMilli, stock.syncedAt, stock.estimateMilli].map((v) => v !== null);
  if (present.some((p) => p !== present[0])) throw badResponse(what);
  return stock;
}

/** `stock_on_hand`: the product's last synced stock, its age, and this till's unsent movements. */
export async function stockOnHand(productId: string): Promise<StockOnHand> {
  return parseStockOnHand(await call('stock_on_hand', { productId }));
}

/** `scan_barcode`: adds the product with this barcode. Rejects with `unknown_barcode`, cart unchanged. */
export async function scanBarcode(code: string): Promise<CartView> {
  return parseCart(await call('scan_barcode', { code }));
}

/** `cart_add`: adds a product; a null quantity lets the backend choose (1 of an `each` product). */
export async function cartAdd(productId: string, quantity: string | null = null): Promise<CartView> {
  return parseCart(await call('cart_add', { productId, quantity }));
}

/** `cart_set_quantity`: the line's new quantity, as typed. */
export async function cartSetQuantity(lineId: number, quantity: string): Promise<CartView> {
  return parseCart(await call('cart_set_quantity', { lineId, quantity }));
}

/** `cart_remove_line`. */
export async function cartRemoveLine(lineId: number): Promise<CartView> {
  return parseCart(await call('cart_remove_line', { lineId }));
}

/** `cart_void`: empties the cart. */
export async function cartVoid(): Promise<CartView> {
  return parseCart(await call('cart_void'));
}

/** `cart_set_line_discount`: null removes the line's discount. */
export async function cartSetLineDiscount(lineId: number, discount: DiscountInput | null): Promise<CartView> {
  return parseCart(await call('cart_set_line_discount', { lineId, discount }));
}

/** `cart_set_discount`: the whole cart's discount; null removes it. */
export async function cartSetDiscount(discount: DiscountInput | null): Promise<CartView> {
  return parseCart(await call('cart_set_discount', { discount }));
}

/** `cart_set_price`: overrides the line's unit price, as typed; null restores the list price. */
export async function cartSetPrice(lineId: number, price: string | null): Promise<CartView> {
  return parseCart(await call('cart_set_price', { lineId, price }));
}

/** `park_cart`: sets the cart aside under `label` and starts an empty one. */
export async function parkCart(label: string): Promise<PosState> {
  return parsePosState(await call('park_cart', { label }));
}

/** `resume_parked`: brings a parked cart back. Rejects with `cart_not_empty` if the cart has lines. */
export async function resumeParked(id: string): Promise<PosState> {
  return parsePosState(await call('resume_parked', { id }));
}

/** `tender_preview`: what these payments leave to pay, and the change, without selling. */
export async function tenderPreview(payments: PaymentInput[], changeCurrency: string): Promise<TenderView> {
  return parseTenderView(await call('tender_preview', { payments, changeCurrency }));
}

/** `checkout`: sells the cart for these payments and prints the receipt. */
export async function checkout(payments: PaymentInput[], changeCurrency: string): Promise<SaleDone> {
  return parseSaleDone(await call('checkout', { payments, changeCurrency }));
}

/** `open_till`: opens a till session with the counted float (cash, per currency). */
export async function openTill(float: CountInput[]): Promise<PosState> {
  return parsePosState(await call('open_till', { float }));
}

/** `till_report`: the X report of the open session (the till stays open). */
export async function tillReport(): Promise<SessionReport> {
  return parseSessionReport(await call('till_report'), 'x');
}

/** `close_till`: closes the session with the counted amounts; answers its Z report. */
export async function closeTill(counted: CountInput[]): Promise<SessionReport> {
  return parseSessionReport(await call('close_till', { counted }), 'z');
}

/** `recent_sales`: the till's latest sales and refunds, newest first. */
export async function recentSales(limit: number): Promise<SaleListItem[]> {
  return arrayOf(await call('recent_sales', { limit }), 'sales list', parseSaleListItem);
}

/** `sale_detail`: one sale's lines, with what may still be refunded of each. */
export async function saleDetail(saleId: string): Promise<SaleDetail> {
  return parseSaleDetail(await call('sale_detail', { saleId }));
}

/** `refund`: refunds lines of a sale; `approver` carries a manager's credentials when needed. */
export async function refund(input: RefundInput): Promise<SaleDone> {
  return parseSaleDone(
    await call('refund', {
      saleId: input.saleId,
      lines: input.lines,
      reason: input.reason,
      approver: input.approver,
      tender: input.tender,
    }),
  );
}

/** `reprint_receipt`: prints a sale's receipt again, marked as a reprint. */
export async function reprintReceipt(saleId: string): Promise<PrintedReceipt> {
  return parsePrintedReceipt(await call('reprint_receipt', { saleId }));
}
