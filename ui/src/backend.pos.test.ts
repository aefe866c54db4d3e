import { describe, expect, it } from 'vitest';
import { commands } from './backend';
import { mockBackend } from './test/backendMock';
import { MILK, fakeTill, reject } from './test/fakeTill';

describe('POS commands', () => {
  it('sends each command its arguments by their camelCase names', async () => {
    const till = fakeTill();
    const sold = till.addSale([{ product: MILK, quantity: '2' }]);
    const calls = mockBackend(till.handlers);

    await commands.cartAdd(MILK.productId, null);
    await commands.cartSetQuantity(1, '3');
    await commands.cartSetLineDiscount(1, { kind: 'percent', value: '10' });
    await commands.cartSetDiscount(null);
    await commands.cartSetPrice(1, null);
    await commands.tenderPreview([{ method: 'cash', currency: 'USD', amount: '20' }], 'ZWG');
    await commands.openTill([{ currency: 'USD', tender: 'cash', amount: '50' }]);
    await commands.refund(
      sold.saleId,
      [{ lineNo: 1, quantity: '1', restock: false }],
      'broken',
      { username: 'mgr', password: 'pw' },
      'cash',
    );
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
    const state = await commands.posState();
    expect(state.currencies.map((c) => c.code)).toEqual(['USD', 'ZWG']);
    expect(state.tillSession?.openedByName).toBe('Alice Martin');
    expect((await commands.findProducts('mil')).map((h) => h.name)).toEqual(['Milk 1 L']);
    expect((await commands.scanBarcode('6001234500011')).lines).toHaveLength(1);
    const done = await commands.checkout([{ method: 'cash', currency: 'USD', amount: '5' }], 'USD');
    expect(done.receipt.change).toEqual({ currency: 'USD', minorUnits: 2, minor: 350 });
    expect((await commands.recentSales(10)).map((s) => s.saleId)).toEqual([done.saleId]);
    expect((await commands.saleDetail(done.saleId)).lines[0]?.refundableQuantity).toBe('1');
    expect((await commands.reprintReceipt(done.saleId)).receipt.reprint).toBe(true);
    expect((await commands.tillReport()).kind).toBe('x');
    expect((await commands.closeTill([])).kind).toBe('z');
  });

  it("rejects with the backend's own code, e.g. unknown_barcode", async () => {
    mockBackend({ scan_barcode: () => reject('unknown_barcode', 'no product has the barcode 123') });
    await expect(commands.scanBarcode('123')).rejects.toMatchObject({ code: 'unknown_barcode' });
  });
});
