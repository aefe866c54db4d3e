/**
 * An in-memory till that answers the POS commands the way the backend does, closely enough
 * for the screens' tests: a catalog of three products, a cart that adds, edits and totals its
 * lines, tenders in two currencies, sales that can be refunded, and a till session that opens
 * and closes. Amount rules are simplified (every currency has 2 decimals).
 *
 * `mockBackend()` installs a fresh one by default; a test that needs another starting point
 * passes `fakeTill({ ... }).handlers` to `mockBackend`.
 */
import type {
  CartLineView,
  CartView,
  CountInput,
  CurrencyOption,
  DiscountInput,
  ParkedCartInfo,
  PaymentRequest,
  PosState,
  PrintedReceipt,
  ProductHit,
  Receipt,
  RefundLineInput,
  SaleDetail,
  SaleDone,
  SaleListItem,
  ReportView,
  StockOnHand,
  TenderView,
} from '../bindings';

type Handler = (args: Record<string, unknown>) => unknown;

/** Rejects the way a backend command does. */
export function reject(code: string, message: string): never {
  // eslint-disable-next-line @typescript-eslint/only-throw-error
  throw { code, message };
}

export const USD: CurrencyOption = { code: 'USD', name: 'US dollar', minorUnits: 2, rate: '1' };
export const ZWG: CurrencyOption = { code: 'ZWG', name: 'Zimbabwe Gold', minorUnits: 2, rate: '26.80' };

export const MILK: ProductHit = {
  productId: 'p-milk',
  sku: 'MILK1',
  name: 'Milk 1 L',
  unit: 'each',
  priceMinor: 150,
  currency: 'USD',
  minorUnits: 2,
  taxLabel: '15%',
  barcode: '6001234500011',
};
export const BREAD: ProductHit = {
  productId: 'p-bread',
  sku: 'BREAD',
  name: 'Bread white loaf',
  unit: 'each',
  priceMinor: 120,
  currency: 'USD',
  minorUnits: 2,
  taxLabel: '0%',
  barcode: '6001234500028',
};
export const BANANAS: ProductHit = {
  productId: 'p-banana',
  sku: 'BAN',
  name: 'Bananas',
  unit: 'kg',
  priceMinor: 200,
  currency: 'USD',
  minorUnits: 2,
  taxLabel: 'exempt',
  barcode: null,
};

export const RECEIPT_HTML = '<!doctype html><html><body><h1>Receipt</h1></body></html>';

/** "12.50" → 1250; anything else → null. */
function toMinor(text: string): number | null {
  if (!/^\d+(\.\d{1,2})?$/.test(text.trim())) return null;
  return Math.round(Number(text) * 100);
}

function discountMinor(discount: DiscountInput | null, baseMinor: number): number {
  if (!discount) return 0;
  if (discount.kind === 'percent') return Math.round((baseMinor * Number(discount.value)) / 100);
  return toMinor(discount.value) ?? 0;
}

export interface FakeTillOptions {
  tillOpen?: boolean;
  canDiscount?: boolean;
  canOverridePrice?: boolean;
  canRefund?: boolean;
  /** Products in the cart at the start. */
  cart?: { product: ProductHit; quantity: string }[];
  /** `stock_on_hand` answers by product id; a product not listed has no server figure and no movements. */
  stock?: Record<string, Omit<StockOnHand, 'productId'>>;
  /** When false, `stock_on_hand` and `find_stock_products` refuse (no stock:inventory:view). */
  canViewStock?: boolean;
  /** The currencies the till may be paid in; none before its first catalog pull. */
  currencies?: CurrencyOption[];
}

interface Line {
  lineId: number;
  product: ProductHit;
  quantity: string;
  priceMinor: number | null;
  discount: DiscountInput | null;
}

interface Sale {
  item: SaleListItem;
  lines: { lineNo: number; name: string; unit: 'each' | 'kg'; quantity: string; refunded: number; totalMinor: number }[];
}

export interface FakeTill {
  handlers: Record<string, Handler>;
  /** The cart as the till holds it now. */
  cart: () => CartView;
  /** Adds a sale to the till's history, for refund tests. */
  addSale: (lines: { product: ProductHit; quantity: string }[]) => SaleListItem;
  /** What a catalog pull does to the currencies (emit `catalog-synced` afterwards). */
  setCurrencies: (list: CurrencyOption[]) => void;
}

export function fakeTill(options: FakeTillOptions = {}): FakeTill {
  const catalog = [MILK, BREAD, BANANAS];
  let currencies = options.currencies ?? [USD, ZWG];
  let tillOpen = options.tillOpen ?? true;
  let lines: Line[] = [];
  let cartDiscount: DiscountInput | null = null;
  let nextLineId = 1;
  let parked: { info: ParkedCartInfo; lines: Line[] }[] = [];
  const sales: Sale[] = [];
  let receiptCount = 0;

  function add(product: ProductHit, quantity: string): void {
    const same = lines.find((l) => l.product.productId === product.productId && product.unit === 'each');
    if (same) {
      same.quantity = String(Number(same.quantity) + Number(quantity));
    } else {
      lines.push({ lineId: nextLineId++, product, quantity, priceMinor: null, discount: null });
    }
  }
  for (const start of options.cart ?? []) add(start.product, start.quantity);

  function cart(): CartView {
    const gross = lines.map((l) => Math.round(Number(l.quantity) * (l.priceMinor ?? l.product.priceMinor)));
    const lineDiscounts = lines.map((l, i) => discountMinor(l.discount, gross[i] ?? 0));
    const subtotal = gross.reduce((a, b) => a + b, 0);
    const afterLine = subtotal - lineDiscounts.reduce((a, b) => a + b, 0);
    const cartOff = discountMinor(cartDiscount, afterLine);
    const views: CartLineView[] = lines.map((l, i) => {
      const lineGross = gross[i] ?? 0;
      const lineOff = lineDiscounts[i] ?? 0;
      const share = afterLine === 0 ? 0 : Math.round(((lineGross - lineOff) * cartOff) / afterLine);
      return {
        lineId: l.lineId,
        productId: l.product.productId,
        sku: l.product.sku,
        name: l.product.name,
        unit: l.product.unit,
        quantity: l.quantity,
        unitPriceMinor: l.priceMinor ?? l.product.priceMinor,
        listPriceMinor: l.product.priceMinor,
        priceOverridden: l.priceMinor !== null,
        lineDiscount: l.discount,
        lineDiscountMinor: lineOff,
        cartDiscountMinor: share,
        totalMinor: lineGross - lineOff - share,
        taxLabel: l.product.taxLabel,
      };
    });
    const total = afterLine - cartOff;
    const bands = new Map<string, number>();
    for (const v of views) bands.set(v.taxLabel, (bands.get(v.taxLabel) ?? 0) + v.totalMinor);
    const vat = [...bands].map(([label, grossMinor]) => {
      const vatMinor = label === '15%' ? Math.round((grossMinor * 15) / 115) : 0;
      return { label, grossMinor, vatMinor, netMinor: grossMinor - vatMinor };
    });
    return {
      lines: views,
      currency: 'USD',
      minorUnits: 2,
      subtotalMinor: subtotal,
      discountMinor: subtotal - total,
      totalMinor: total,
      vat,
      vatTotalMinor: vat.reduce((a, b) => a + b.vatMinor, 0),
      cartDiscount,
      itemCount: String(lines.reduce((a, l) => a + Number(l.quantity), 0)),
    };
  }

  /** As the core decides it: an open till, and a catalog that brought the currencies. */
  function sellingStatus(): PosState['selling'] {
    const blocked = !tillOpen
      ? { reason: 'till_not_open' as const, message: 'open the till (count the float) before selling' }
      : currencies.length === 0
        ? { reason: 'no_catalog' as const, message: 'this till has no catalog yet; sync with the server first' }
        : null;
    return {
      maySell: blocked === null,
      mode: 'online',
      grantExpiresAt: 1_767_261_600,
      grantRemainingSecs: 71 * 3600 + 58 * 60,
      blocked,
    };
  }

  function state(): PosState {
    return {
      tillSession: tillOpen ? { id: 's-1', openedAt: '2026-11-27T08:00:00Z', openedByName: 'Alice Martin' } : null,
      cart: cart(),
      parked: parked.map((p) => p.info),
      currencies,
      shopName: 'Corner Shop',
      canDiscount: options.canDiscount ?? true,
      canOverridePrice: options.canOverridePrice ?? true,
      canRefund: options.canRefund ?? true,
      selling: sellingStatus(),
    };
  }

  function selling(): void {
    if (!tillOpen) reject('till_not_open', 'open the till first');
  }

  function line(args: Record<string, unknown>): Line {
    const found = lines.find((l) => l.lineId === args.lineId);
    return found ?? reject('invalid_input', 'no such line');
  }

  function rateOf(code: string): number {
    const c = currencies.find((x) => x.code === code) ?? reject('invalid_input', `unknown currency ${code}`);
    return Number(c.rate);
  }

  function tender(args: Record<string, unknown>): TenderView {
    const payments = args.payments as PaymentRequest[];
    const changeCurrency = args.changeCurrency as string;
    const total = cart().totalMinor;
    let paid = 0;
    for (const p of payments) {
      const minor = toMinor(p.amount) ?? reject('invalid_input', `"${p.amount}" is not an amount`);
      paid += Math.round(minor / rateOf(p.currency));
    }
    const remaining = Math.max(0, total - paid);
    const change = paid > total ? Math.round((paid - total) * rateOf(changeCurrency)) : 0;
    return {
      currency: 'USD',
      minorUnits: 2,
      totalMinor: total,
      paidMinor: paid,
      remainingMinor: remaining,
      changeMinor: change,
      changeCurrency,
      changeMinorUnits: 2,
      dueIn: currencies.map((c) => ({
        currency: c.code,
        minorUnits: c.minorUnits,
        amountMinor: Math.round(remaining * Number(c.rate)),
        rate: c.rate,
      })),
      complete: paid >= total,
    };
  }

  function receipt(kind: 'sale' | 'refund', view: CartView, change: Receipt['change']): Receipt {
    receiptCount += 1;
    return {
      kind,
      shopName: 'Corner Shop',
      location: null,
      taxNumber: null,
      receiptNo: `7F3A09C2-${String(receiptCount).padStart(6, '0')}`,
      refundOf: null,
      reason: null,
      date: '2026-11-27 14:03',
      cashier: 'Alice Martin',
      currency: view.currency,
      minorUnits: view.minorUnits,
      lines: view.lines.map((l) => ({
        name: l.name,
        quantity: l.quantity,
        unitPriceMinor: l.unitPriceMinor,
        discountMinor: l.lineDiscountMinor + l.cartDiscountMinor,
        totalMinor: l.totalMinor,
        taxLabel: l.taxLabel,
        priceOverridden: l.priceOverridden,
      })),
      subtotalMinor: view.subtotalMinor,
      discountMinor: view.discountMinor,
      totalMinor: view.totalMinor,
      vat: view.vat,
      vatTotalMinor: view.vatTotalMinor,
      payments: [],
      change,
      changeRate: null,
      verificationCode: 'AB12 CD34 EF56 7890',
      reprint: false,
    };
  }

  function recordSale(view: CartView, kind: 'sale' | 'refund' = 'sale'): Sale {
    const saleId = `sale-${sales.length + 1}`;
    const sale: Sale = {
      item: {
        saleId,
        receiptNo: `7F3A09C2-${String(receiptCount + 1).padStart(6, '0')}`,
        kind,
        createdAt: '2026-11-27T14:03:00Z',
        cashierName: 'Alice Martin',
        totalMinor: view.totalMinor,
        currency: 'USD',
        minorUnits: 2,
        refundable: kind === 'sale',
      },
      lines: view.lines.map((l, i) => ({
        lineNo: i + 1,
        name: l.name,
        unit: l.unit,
        quantity: l.quantity,
        refunded: 0,
        totalMinor: l.totalMinor,
      })),
    };
    sales.unshift(sale);
    return sale;
  }

  function report(kind: 'x' | 'z', counted: CountInput[] = []): ReportView {
    return {
      kind,
      sessionId: 's-1',
      shopName: 'Corner Shop',
      openedAt: '2026-11-27T08:00:00Z',
      openedByName: 'Alice Martin',
      closedAt: kind === 'z' ? '2026-11-27T18:00:00Z' : null,
      closedByName: kind === 'z' ? 'Alice Martin' : null,
      printedAt: '2026-11-27 18:00',
      salesCount: sales.filter((s) => s.item.kind === 'sale').length,
      refundsCount: sales.filter((s) => s.item.kind === 'refund').length,
      currencies: [],
      cashiers: [],
      html: `<!doctype html><html><body><h1>${kind.toUpperCase()} report</h1><p>${counted.length} counts</p></body></html>`,
      printed: false,
      printError: null,
    };
  }

  function detail(saleId: unknown): SaleDetail {
    const sale = sales.find((s) => s.item.saleId === saleId) ?? reject('not_found', 'no such sale');
    return {
      sale: sale.item,
      lines: sale.lines.map((l) => ({
        lineNo: l.lineNo,
        name: l.name,
        unit: l.unit,
        quantity: l.quantity,
        refundableQuantity: String(Number(l.quantity) - l.refunded),
        totalMinor: l.totalMinor,
      })),
    };
  }

  function find(query: unknown): ProductHit[] {
    const q = String(query).toLowerCase();
    if (q === '') return [];
    return catalog.filter((p) => p.name.toLowerCase().startsWith(q) || p.sku.toLowerCase().startsWith(q));
  }

  function stockViewer(): void {
    if (!(options.canViewStock ?? true)) reject('forbidden', 'you need the permission stock:inventory:view');
  }

  const handlers: Record<string, Handler> = {
    pos_state: () => state(),
    find_products: ({ query }) => find(query),
    find_stock_products: ({ query }) => {
      stockViewer();
      return find(query);
    },
    stock_on_hand: ({ productId }) => {
      stockViewer();
      if (!catalog.some((p) => p.productId === productId)) reject('not_found', 'no such product');
      const none = { syncedQuantityMilli: null, syncedAt: null, unsyncedChangeMilli: 0, estimateMilli: null };
      const known = options.stock?.[String(productId)] ?? none;
      return { productId: String(productId), ...known } satisfies StockOnHand;
    },
    scan_barcode: ({ code }) => {
      selling();
      const product = catalog.find((p) => p.barcode === code);
      if (!product) reject('unknown_barcode', `no product has the barcode ${String(code)}`);
      add(product, '1');
      return cart();
    },
    cart_add: ({ productId, quantity }) => {
      selling();
      const product = catalog.find((p) => p.productId === productId) ?? reject('not_found', 'no such product');
      add(product, typeof quantity === 'string' ? quantity : '1');
      return cart();
    },
    cart_set_quantity: (args) => {
      const l = line(args);
      const quantity = String(args.quantity);
      const pattern = l.product.unit === 'kg' ? /^\d+(\.\d{1,3})?$/ : /^\d+$/;
      if (!pattern.test(quantity) || Number(quantity) <= 0) reject('invalid_input', `"${quantity}" is not a quantity`);
      l.quantity = quantity;
      return cart();
    },
    cart_remove_line: (args) => {
      const l = line(args);
      lines = lines.filter((x) => x !== l);
      return cart();
    },
    cart_void: () => {
      lines = [];
      cartDiscount = null;
      return cart();
    },
    cart_set_line_discount: (args) => {
      if (!(options.canDiscount ?? true)) reject('forbidden', 'you may not give discounts');
      line(args).discount = args.discount as DiscountInput | null;
      return cart();
    },
    cart_set_discount: ({ discount }) => {
      if (!(options.canDiscount ?? true)) reject('forbidden', 'you may not give discounts');
      cartDiscount = discount as DiscountInput | null;
      return cart();
    },
    cart_set_price: (args) => {
      if (!(options.canOverridePrice ?? true)) reject('forbidden', 'you may not change prices');
      const l = line(args);
      l.priceMinor = args.price === null ? null : (toMinor(args.price as string) ?? reject('invalid_input', 'not a price'));
      return cart();
    },
    park_cart: ({ label }) => {
      if (lines.length === 0) reject('cart_empty', 'the cart is empty');
      const view = cart();
      parked.push({
        info: {
          id: `park-${parked.length + 1}`,
          label: String(label),
          parkedAt: '2026-11-27T12:00:00Z',
          parkedByName: 'Alice Martin',
          lineCount: lines.length,
          totalMinor: view.totalMinor,
          currency: 'USD',
          minorUnits: 2,
        },
        lines,
      });
      lines = [];
      cartDiscount = null;
      return state();
    },
    resume_parked: ({ id }) => {
      if (lines.length > 0) reject('cart_not_empty', 'finish or park the current sale first');
      const found = parked.find((p) => p.info.id === id) ?? reject('not_found', 'no such parked cart');
      parked = parked.filter((p) => p !== found);
      lines = found.lines;
      return state();
    },
    tender_preview: (args) => tender(args),
    checkout: (args) => {
      selling();
      if (lines.length === 0) reject('cart_empty', 'the cart is empty');
      const t = tender(args);
      if (!t.complete) reject('payment_short', 'the payments do not cover the total');
      const view = cart();
      const sale = recordSale(view);
      const change = t.changeMinor > 0 ? { currency: t.changeCurrency, minorUnits: 2, minor: t.changeMinor } : null;
      const r = receipt('sale', view, change);
      lines = [];
      cartDiscount = null;
      const done: SaleDone = {
        receipt: r,
        html: RECEIPT_HTML,
        printed: true,
        printError: null,
        saleId: sale.item.saleId,
        receiptNo: r.receiptNo,
      };
      return done;
    },
    open_till: () => {
      tillOpen = true;
      return state();
    },
    till_report: () => {
      selling();
      return report('x');
    },
    close_till: ({ counted }) => {
      selling();
      tillOpen = false;
      return report('z', counted as CountInput[]);
    },
    recent_sales: ({ limit }) => sales.slice(0, Number(limit)).map((s) => s.item),
    sale_detail: ({ saleId }) => detail(saleId),
    refund: (args) => {
      const approver = args.approver as { username: string; password: string } | null;
      if (!(options.canRefund ?? true) && approver === null) reject('forbidden', 'a manager must approve refunds');
      if (String(args.reason).trim() === '') reject('invalid_input', 'give a reason');
      const sale = sales.find((s) => s.item.saleId === args.saleId) ?? reject('not_found', 'no such sale');
      const wanted = args.lines as RefundLineInput[];
      let total = 0;
      for (const w of wanted) {
        const l = sale.lines.find((x) => x.lineNo === w.lineNo) ?? reject('invalid_input', 'no such line');
        l.refunded += Number(w.quantity);
        total += Math.round((l.totalMinor * Number(w.quantity)) / Number(l.quantity));
      }
      const view: CartView = { ...cart(), lines: [], totalMinor: total, subtotalMinor: total, discountMinor: 0 };
      const done = recordSale(view, 'refund');
      const r = receipt('refund', view, null);
      return {
        receipt: { ...r, refundOf: sale.item.receiptNo, reason: String(args.reason) },
        html: '<!doctype html><html><body><h1>Refund</h1></body></html>',
        printed: true,
        printError: null,
        saleId: done.item.saleId,
        receiptNo: r.receiptNo,
      } satisfies SaleDone;
    },
    reprint_receipt: ({ saleId }) => {
      const sale = sales.find((s) => s.item.saleId === saleId) ?? reject('not_found', 'no such sale');
      const printed: PrintedReceipt = {
        receipt: { ...receipt('sale', cart(), null), receiptNo: sale.item.receiptNo, reprint: true },
        html: RECEIPT_HTML.replace('Receipt', 'Receipt (reprint)'),
        printed: true,
        printError: null,
      };
      return printed;
    },
  };

  return {
    handlers,
    cart,
    addSale: (items) => {
      const saved = { lines, nextLineId };
      lines = [];
      for (const item of items) add(item.product, item.quantity);
      const sale = recordSale(cart());
      ({ lines, nextLineId } = saved);
      return sale.item;
    },
    setCurrencies: (list) => {
      currencies = list;
    },
  };
}
