import { describe, expect, it } from 'vitest';
import {
  cartAdd,
  cartSetDiscount,
  cartSetLineDiscount,
  cartSetPrice,
  cartSetQuantity,
  checkout,
  closeTill,
  findProducts,
  openTill,
  posState,
  recentSales,
  refund,
  reprintReceipt,
  saleDetail,
  scanBarcode,
  tenderPreview,
  tillReport,
} from './backend';
import { mockBackend } from './test/backendMock';
import { MILK, fakeTill, reject } from './test/fakeTill';

function answers(cmd: string, value: unknown) {
  return { [cmd]: () => value };
}

describe('POS commands', () => {
  it('sends each command its arguments by their camelCase names', async () => {
    const till = fakeTill();
    const sold = till.addSale([{ product: MILK, quantity: '2' }]);
    const calls = mockBackend(till.handlers);

    await cartAdd(MILK.productId);
    await cartSetQuantity(1, '3');
    await cartSetLineDiscount(1, { kind: 'percent', value: '10' });
    await cartSetDiscount(null);
    await cartSetPrice(1, null);
    await tenderPreview([{ method: 'cash', currency: 'USD', amount: '20' }], 'ZWG');
    await openTill([{ currency: 'USD', tender: 'cash', amount: '50' }]);
    await refund({
      saleId: sold.saleId,
      lines: [{ lineNo: 1, quantity: '1', restock: false }],
      reason: 'broken',
      approver: { username: 'mgr', password: 'pw' },
      tender: 'cash',
    });
    expect(calls.map((c) => [c.cmd, c.args])).toEqual([
      ['cart_add', { productId: 'p-milk', quantity: null }],
      ['cart_set_quantity', { lineId: 1, quantity: '3' }],
      ['cart_set_line_discount', { lineId: 1, discount: { kind: 'percent', value: '10' } }],
      ['cart_set_discount', { discount: null }],
      ['cart_set_price', { lineId: 1, price: null }],
      ['tender_preview', { payments: [{ method: 'cash', currency: 'USD', amount: '20' }], changeCurrency: 'ZWG' }],
      ['open_till', { float: [{ currency: 'USD', tender: 'cash', amount: '50' }] }],
      [
        'refund',
        {
          saleId: sold.saleId,
          lines: [{ lineNo: 1, quantity: '1', restock: false }],
          reason: 'broken',
          approver: { username: 'mgr', password: 'pw' },
          tender: 'cash',
        },
      ],
    ]);
  });

  it('reads well-formed answers', async () => {
    mockBackend();
    const state = await posState();
    expect(state.currencies.map((c) => c.code)).toEqual(['USD', 'ZWG']);
    expect(state.tillSession?.openedByName).toBe('Alice Martin');
    expect((await findProducts('mil')).map((h) => h.name)).toEqual(['Milk 1 L']);
    expect((await scanBarcode('6001234500011')).lines).toHaveLength(1);
    const done = await checkout([{ method: 'cash', currency: 'USD', amount: '5' }], 'USD');
    expect(done.receipt.change).toEqual({ currency: 'USD', minorUnits: 2, minor: 350 });
    expect((await recentSales(10)).map((s) => s.saleId)).toEqual([done.saleId]);
    expect((await saleDetail(done.saleId)).lines[0]?.refundableQuantity).toBe('1');
    expect((await reprintReceipt(done.saleId)).receipt.reprint).toBe(true);
    expect((await tillReport()).kind).toBe('x');
    expect((await closeTill([])).kind).toBe('z');
  });

  it("rejects with the backend's own code, e.g. unknown_barcode", async () => {
    mockBackend({ scan_barcode: () => reject('unknown_barcode', 'no product has the barcode 123') });
    await expect(scanBarcode('123')).rejects.toMatchObject({ code: 'unknown_barcode' });
  });

  it('rejects malformed answers as bad_response', async () => {
    const till = fakeTill({ cart: [{ product: MILK, quantity: '1' }] });
    const goodState = till.handlers.pos_state?.({}) as Record<string, unknown>;
    const goodCart = till.cart();
    const goodLine = goodCart.lines[0];
    const goodTender = till.handlers.tender_preview?.({ payments: [], changeCurrency: 'USD' }) as Record<string, unknown>;

    const cases: [string, unknown, () => Promise<unknown>][] = [
      ['pos_state', { ...goodState, currencies: [] }, posState],
      ['pos_state', { ...goodState, canRefund: 'yes' }, posState],
      ['pos_state', { ...goodState, tillSession: { id: 1 } }, posState],
      ['pos_state', { ...goodState, cart: { ...goodCart, totalMinor: 1.5 } }, posState],
      ['scan_barcode', { ...goodCart, lines: [{ ...goodLine, unit: 'box' }] }, () => scanBarcode('1')],
      ['scan_barcode', { ...goodCart, lines: [{ ...goodLine, lineDiscount: { kind: 'half' } }] }, () => scanBarcode('1')],
      ['scan_barcode', { ...goodCart, vat: null }, () => scanBarcode('1')],
      ['scan_barcode', 'ok', () => scanBarcode('1')],
      ['find_products', { hits: [] }, () => findProducts('a')],
      ['find_products', [{ ...MILK, priceMinor: '150' }], () => findProducts('a')],
      ['tender_preview', { ...goodTender, complete: 1 }, () => tenderPreview([], 'USD')],
      ['tender_preview', { ...goodTender, dueIn: [{ currency: 'USD' }] }, () => tenderPreview([], 'USD')],
      ['checkout', { saleId: 's', receiptNo: 'r', html: '<p>', printed: true, printError: null }, () => checkout([], 'USD')],
      ['till_report', { kind: 'z' }, tillReport],
      ['close_till', null, () => closeTill([])],
      ['recent_sales', [{ saleId: 's' }], () => recentSales(5)],
      ['sale_detail', { sale: null, lines: [] }, () => saleDetail('s')],
    ];
    for (const [cmd, value, run] of cases) {
      mockBackend(answers(cmd, value));
      await expect(run(), `${cmd}: ${JSON.stringify(value)}`).rejects.toMatchObject({ code: 'bad_response' });
    }
  });
});
