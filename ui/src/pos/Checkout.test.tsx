import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { PosScreen } from '../screens/PosScreen';
import { type BackendHandlers, type CommandCall, mockBackend } from '../test/backendMock';
import { BREAD, type FakeTillOptions, MILK, RECEIPT_HTML, fakeTill, reject } from '../test/fakeTill';

function sent(calls: CommandCall[], cmd: string): Record<string, unknown>[] {
  return calls.filter((c) => c.cmd === cmd).map((c) => c.args);
}

function type(input: HTMLElement, value: string): void {
  fireEvent.change(input, { target: { value } });
}

/** Milk × 2 and bread: USD 4.20. */
const CART: FakeTillOptions = {
  cart: [
    { product: MILK, quantity: '2' },
    { product: BREAD, quantity: '1' },
  ],
};

async function openPos(options: FakeTillOptions = CART, handlers: BackendHandlers = {}) {
  const till = fakeTill(options);
  const calls = mockBackend({ ...till.handlers, ...handlers });
  render(<PosScreen />);
  const scan = await screen.findByTestId<HTMLInputElement>('pos-scan');
  return { till, calls, scan };
}

function amount(): HTMLInputElement {
  return screen.getByTestId<HTMLInputElement>('tender-amount');
}

function completeButton(): HTMLButtonElement {
  return screen.getByTestId<HTMLButtonElement>('complete-sale');
}

describe('POS: payment', () => {
  it('opens with F12, the amount due filled in, and completes a cash sale exactly paid', async () => {
    const { calls } = await openPos();
    expect(screen.getByTestId('cart-total').textContent).toBe('USD 4.20');
    fireEvent.keyDown(window, { key: 'F12' });

    const dialog = screen.getByRole('dialog', { name: 'Payment' });
    await waitFor(() => {
      expect(amount().value).toBe('4.20');
    });
    expect(document.activeElement).toBe(amount());
    expect(within(dialog).getByRole('button', { name: 'Cash' }).getAttribute('aria-pressed')).toBe('true');
    await waitFor(() => {
      expect(completeButton().disabled).toBe(false);
    });
    fireEvent.keyDown(amount(), { key: 'Enter' });

    const receipt = await screen.findByTestId('receipt');
    expect(screen.getByTestId('change-due').textContent).toBe('No change due');
    expect(receipt.getAttribute('sandbox')).toBe('');
    expect(sent(calls, 'checkout')).toEqual([
      { payments: [{ method: 'cash', currency: 'USD', amount: '4.20', reference: null }], changeCurrency: 'USD' },
    ]);
  });

  it('splits across two currencies, enables Complete only once covered, and gives change in ZWG', async () => {
    const { calls, scan } = await openPos();
    fireEvent.click(screen.getByTestId('pay'));
    await waitFor(() => {
      expect(amount().value).toBe('4.20');
    });

    // ZWG: the field follows what is due in that currency.
    fireEvent.change(screen.getByTestId('tender-currency'), { target: { value: 'ZWG' } });
    await waitFor(() => {
      expect(amount().value).toBe('112.56');
    });
    expect(screen.getByTestId('due-in').textContent).toContain('ZWG 112.56');
    type(amount(), '53.60');
    await waitFor(() => {
      expect(screen.getByTestId('tender-remaining').textContent).toBe('USD 2.20');
    });
    expect(completeButton().disabled).toBe(true);
    fireEvent.click(screen.getByTestId('add-payment'));
    expect(screen.getAllByTestId('tender-payment')).toHaveLength(1);

    fireEvent.change(screen.getByTestId('tender-currency'), { target: { value: 'USD' } });
    await waitFor(() => {
      expect(amount().value).toBe('2.20');
    });
    type(amount(), '1');
    await waitFor(() => {
      expect(screen.getByTestId('tender-remaining').textContent).toBe('USD 1.20');
    });
    expect(completeButton().disabled).toBe(true);

    type(amount(), '5');
    fireEvent.change(screen.getByTestId('change-currency'), { target: { value: 'ZWG' } });
    await waitFor(() => {
      expect(screen.getByTestId('tender-change').textContent).toBe('ZWG 75.04');
    });
    expect(screen.getByTestId('tender-remaining').textContent).toBe('USD 0.00');
    expect(completeButton().disabled).toBe(false);

    fireEvent.click(completeButton());
    const receipt = await screen.findByTestId<HTMLIFrameElement>('receipt');
    expect(receipt.getAttribute('sandbox')).toBe('');
    expect(receipt.getAttribute('srcdoc')).toBe(RECEIPT_HTML);
    expect(receipt.title).toBe('Receipt');
    expect(screen.getByTestId('change-due').textContent).toBe('Change: ZWG 75.04');
    expect(sent(calls, 'checkout')).toEqual([
      {
        payments: [
          { method: 'cash', currency: 'ZWG', amount: '53.60', reference: null },
          { method: 'cash', currency: 'USD', amount: '5', reference: null },
        ],
        changeCurrency: 'ZWG',
      },
    ]);

    // Enter: the next sale, with an empty cart and the scan field ready.
    fireEvent.keyDown(document.body, { key: 'Enter' });
    await waitFor(() => {
      expect(screen.queryByRole('dialog')).toBeNull();
    });
    await waitFor(() => {
      expect(screen.queryAllByTestId('cart-line')).toHaveLength(0);
    });
    expect(document.activeElement).toBe(scan);
  });

  it('sends the reference of a card payment', async () => {
    const { calls } = await openPos();
    fireEvent.click(screen.getByTestId('pay'));
    fireEvent.click(screen.getByRole('button', { name: 'Card' }));
    type(screen.getByLabelText('Reference (Card)'), 'AUTH 7781');
    await waitFor(() => {
      expect(completeButton().disabled).toBe(false);
    });
    fireEvent.click(completeButton());
    await screen.findByTestId('receipt');
    expect(sent(calls, 'checkout')[0]?.payments).toEqual([
      { method: 'card', currency: 'USD', amount: '4.20', reference: 'AUTH 7781' },
    ]);
  });

  it('shows why checkout refused in the dialog and keeps every payment', async () => {
    await openPos(CART, {
      checkout: () => reject('offline_limit', 'offline sales are limited to USD 100.00'),
    });
    fireEvent.click(screen.getByTestId('pay'));
    fireEvent.change(screen.getByTestId('tender-currency'), { target: { value: 'ZWG' } });
    await waitFor(() => {
      expect(amount().value).toBe('112.56');
    });
    type(amount(), '53.60');
    await waitFor(() => {
      expect(screen.getByTestId<HTMLButtonElement>('add-payment').disabled).toBe(false);
    });
    fireEvent.click(screen.getByTestId('add-payment'));
    await waitFor(() => {
      expect(completeButton().disabled).toBe(false);
    });
    fireEvent.click(completeButton());

    const alert = await within(screen.getByRole('dialog')).findByRole('alert');
    expect(alert.textContent).toContain('Over the offline limit');
    expect(alert.textContent).toContain('offline sales are limited to USD 100.00');
    expect(screen.getAllByTestId('tender-payment')).toHaveLength(1);
    expect(screen.queryByTestId('receipt')).toBeNull();
    expect(completeButton().disabled).toBe(false);
  });

  it('closes on Esc without selling', async () => {
    const { calls, scan } = await openPos();
    fireEvent.keyDown(window, { key: 'F12' });
    expect(screen.getByRole('dialog', { name: 'Payment' })).toBeDefined();
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(sent(calls, 'checkout')).toEqual([]);
    expect(screen.getAllByTestId('cart-line')).toHaveLength(2);
    await waitFor(() => {
      expect(document.activeElement).toBe(scan);
    });
  });

  it('does not open on an empty cart', async () => {
    await openPos({});
    expect(screen.getByTestId<HTMLButtonElement>('pay').disabled).toBe(true);
    fireEvent.keyDown(window, { key: 'F12' });
    expect(screen.queryByRole('dialog')).toBeNull();
  });
});

describe('POS: receipt', () => {
  it('reprints, and shows a printer problem', async () => {
    const { calls } = await openPos(CART, {
      reprint_receipt: () => ({
        receipt: {
          kind: 'sale',
          shopName: 'Corner Shop',
          location: null,
          taxNumber: null,
          receiptNo: '7F3A09C2-000001',
          refundOf: null,
          reason: null,
          date: '2026-11-27 14:03',
          cashier: 'Alice Martin',
          currency: 'USD',
          minorUnits: 2,
          lines: [],
          subtotalMinor: 420,
          discountMinor: 0,
          totalMinor: 420,
          vat: [],
          vatTotalMinor: 0,
          payments: [],
          change: null,
          verificationCode: 'AB12 CD34 EF56 7890',
          reprint: true,
        },
        html: '<p>copy</p>',
        printed: false,
        printError: 'the printer is out of paper',
      }),
    });
    fireEvent.click(screen.getByTestId('pay'));
    await waitFor(() => {
      expect(completeButton().disabled).toBe(false);
    });
    fireEvent.click(completeButton());
    await screen.findByTestId('receipt');

    fireEvent.click(screen.getByRole('button', { name: 'Reprint' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The receipt did not print');
    expect(alert.textContent).toContain('the printer is out of paper');
    expect(screen.getByTestId('receipt').getAttribute('srcdoc')).toBe('<p>copy</p>');
    expect(sent(calls, 'reprint_receipt')).toEqual([{ saleId: 'sale-1' }]);
  });
});

describe('POS: refunds', () => {
  it('asks for a manager when the cashier may not refund, and sends the approver', async () => {
    const till = fakeTill({ canRefund: false });
    const sale = till.addSale([
      { product: MILK, quantity: '2' },
      { product: BREAD, quantity: '1' },
    ]);
    const calls = mockBackend(till.handlers);
    render(<PosScreen />);
    await screen.findByTestId('pos-scan');

    fireEvent.keyDown(window, { key: 'F9' });
    const dialog = screen.getByRole('dialog', { name: 'Refund' });
    fireEvent.click(await within(dialog).findByRole('button', { name: new RegExp(sale.receiptNo) }));

    const milkQty = await screen.findByLabelText<HTMLInputElement>('Refund quantity of Milk 1 L');
    expect(milkQty.value).toBe('2');
    type(milkQty, '1');
    type(screen.getByLabelText('Refund quantity of Bread white loaf'), '0');
    const [milkRow] = screen.getAllByTestId('refund-line');
    if (!milkRow) throw new Error('no refund lines');
    const restock = within(milkRow).getByRole<HTMLInputElement>('checkbox');
    expect(restock.checked).toBe(true);
    fireEvent.click(restock);

    const submit = screen.getByTestId<HTMLButtonElement>('refund-submit');
    type(screen.getByLabelText('Reason (required)'), 'Leaking carton');
    expect(submit.disabled).toBe(true);
    type(screen.getByLabelText('Manager username'), 'bea');
    type(screen.getByLabelText('Manager password'), 'manager pw');
    expect(submit.disabled).toBe(false);
    fireEvent.click(submit);

    expect(await screen.findByRole('dialog', { name: 'Refund done' })).toBeDefined();
    expect(screen.getByTestId('change-due').textContent).toBe('Refund: USD 1.50');
    expect(sent(calls, 'refund')).toEqual([
      {
        saleId: sale.saleId,
        lines: [{ lineNo: 1, quantity: '1', restock: false }],
        reason: 'Leaking carton',
        approver: { username: 'bea', password: 'manager pw' },
        tender: 'cash',
      },
    ]);
  });

  it('sends no approver and shows no manager fields when the cashier may refund', async () => {
    const till = fakeTill();
    const sale = till.addSale([{ product: MILK, quantity: '1' }]);
    const calls = mockBackend(till.handlers);
    render(<PosScreen />);
    fireEvent.click(await screen.findByRole('button', { name: /Refunds/ }));
    fireEvent.click(await screen.findByRole('button', { name: new RegExp(sale.receiptNo) }));
    type(await screen.findByLabelText('Reason (required)'), 'Changed mind');
    expect(screen.queryByLabelText('Manager username')).toBeNull();
    fireEvent.change(screen.getByLabelText('Give back as'), { target: { value: 'mobile_money' } });
    fireEvent.click(screen.getByTestId('refund-submit'));
    await screen.findByRole('dialog', { name: 'Refund done' });
    expect(sent(calls, 'refund')[0]).toMatchObject({ approver: null, tender: 'mobile_money' });
  });
});

describe('POS: till reports', () => {
  it('shows the X report in a sandboxed frame', async () => {
    await openPos();
    fireEvent.click(screen.getByRole('button', { name: 'X report' }));
    const frame = await screen.findByTitle('X report');
    expect(frame.getAttribute('sandbox')).toBe('');
    expect(frame.getAttribute('srcdoc')).toContain('X report');
  });

  it('closes the till with the counted amounts, shows the Z report, then asks to open again', async () => {
    const { calls } = await openPos({});
    fireEvent.click(screen.getByRole('button', { name: 'Close till' }));
    const submit = screen.getByRole<HTMLButtonElement>('button', { name: 'Close till and print Z report' });
    type(screen.getByTestId('count-USD-cash'), '154.20');
    expect(submit.disabled).toBe(true);
    type(screen.getByTestId('count-ZWG-cash'), '0');
    type(screen.getByTestId('count-USD-card'), '12.00');
    fireEvent.click(submit);

    const frame = await screen.findByTitle('Z report');
    expect(frame.getAttribute('sandbox')).toBe('');
    expect(sent(calls, 'close_till')).toEqual([
      {
        counted: [
          { currency: 'USD', tender: 'cash', amount: '154.20' },
          { currency: 'USD', tender: 'card', amount: '12.00' },
          { currency: 'ZWG', tender: 'cash', amount: '0' },
        ],
      },
    ]);
    fireEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(await screen.findByTestId('open-till')).toBeDefined();
    expect(screen.queryByTestId('pos-scan')).toBeNull();
  });
});
