import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import type { PosState, SellingBlocked } from '../bindings';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PosScreen } from '../screens/PosScreen';
import { type BackendHandlers, type CommandCall, deferred, emitCatalogSynced, mockBackend } from '../test/backendMock';
import { BANANAS, BREAD, type FakeTillOptions, MILK, USD, ZWG, fakeTill, reject } from '../test/fakeTill';

function sent(calls: CommandCall[], cmd: string): Record<string, unknown>[] {
  return calls.filter((c) => c.cmd === cmd).map((c) => c.args);
}

/** The POS screen on a fake till; resolves once the till answered. */
async function openPos(options: FakeTillOptions = {}, handlers: BackendHandlers = {}) {
  const till = fakeTill(options);
  const calls = mockBackend({ ...till.handlers, ...handlers });
  render(<PosScreen />);
  const scan = await screen.findByTestId<HTMLInputElement>('pos-scan');
  return { till, calls, scan };
}

function type(input: HTMLElement, value: string): void {
  fireEvent.change(input, { target: { value } });
}

function enter(input: HTMLElement): void {
  fireEvent.keyDown(input, { key: 'Enter' });
}

function lines(): HTMLElement[] {
  return screen.queryAllByTestId('cart-line');
}

function total(): string | null {
  return screen.getByTestId('cart-total').textContent;
}

async function scanCode(scan: HTMLInputElement, code: string): Promise<void> {
  type(scan, code);
  enter(scan);
  await waitFor(() => {
    expect(scan.value).toBe('');
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('POS: the catalog arriving', () => {
  it('reads the till state again when a catalog pull finishes', async () => {
    const { calls } = await openPos();
    const before = sent(calls, 'pos_state').length;
    await emitCatalogSynced({ pages: 1, records: 300, products: 300 });
    await waitFor(() => {
      expect(sent(calls, 'pos_state').length).toBe(before + 1);
    });
  });
});

describe('POS: opening the till', () => {
  it('on a fresh till says the currencies are coming, then opens once a catalog pull brought them', async () => {
    // Before its first catalog pull a till knows no currency (issue 16's first sign-in).
    const till = fakeTill({ tillOpen: false, currencies: [] });
    const calls = mockBackend(till.handlers);
    render(<PosScreen />);

    const coming = await screen.findByTestId('currencies-coming');
    expect(coming.textContent).toContain("The shop's currencies are on their way from the server");
    expect(screen.queryByText('Could not read the till')).toBeNull();
    expect(screen.getByTestId<HTMLButtonElement>('open-till').disabled).toBe(true);

    till.setCurrencies([USD, ZWG]);
    await emitCatalogSynced({ pages: 1, records: 12, products: 3 });
    const usd = await screen.findByTestId('float-USD');
    expect(screen.queryByTestId('currencies-coming')).toBeNull();
    type(usd, '20');
    fireEvent.click(screen.getByTestId('open-till'));
    await screen.findByTestId('pos-scan');
    expect(sent(calls, 'open_till')).toEqual([
      {
        float: [
          { currency: 'USD', tender: 'cash', amount: '20' },
          { currency: 'ZWG', tender: 'cash', amount: '0' },
        ],
      },
    ]);
  });

  it('follows the core’s reason, not the till session it sent: open-till form, then the catalog wait', async () => {
    const till = fakeTill({ tillOpen: true });
    const open = till.handlers.pos_state?.({}) as PosState;
    let blocked: SellingBlocked = { reason: 'till_not_open', message: 'open the till first' };
    mockBackend({ ...till.handlers, pos_state: () => ({ ...open, selling: { ...open.selling, maySell: false, blocked } }) });
    render(<PosScreen />);
    expect(await screen.findByTestId('float-USD')).toBeDefined();
    expect(screen.queryByTestId('pos-scan')).toBeNull();
    cleanup();

    blocked = { reason: 'no_catalog', message: 'this till has no catalog yet; sync with the server first' };
    render(<PosScreen />);
    expect((await screen.findByTestId('catalog-coming')).textContent).toContain('on their way');
    expect(screen.queryByTestId('pos-scan')).toBeNull();
  });

  it('asks for the float per currency when the till is not open, then sells', async () => {
    const till = fakeTill({ tillOpen: false });
    const calls = mockBackend(till.handlers);
    render(<PosScreen />);

    const usd = await screen.findByTestId('float-USD');
    expect(screen.getByTestId('float-ZWG')).toBeDefined();
    expect(screen.queryByTestId('pos-scan')).toBeNull();
    expect(document.activeElement).toBe(usd);

    type(usd, '50.00');
    fireEvent.click(screen.getByTestId('open-till'));
    const scan = await screen.findByTestId('pos-scan');
    expect(sent(calls, 'open_till')).toEqual([
      {
        float: [
          { currency: 'USD', tender: 'cash', amount: '50.00' },
          { currency: 'ZWG', tender: 'cash', amount: '0' },
        ],
      },
    ]);
    await waitFor(() => {
      expect(document.activeElement).toBe(scan);
    });
  });
});

describe('POS: scanning and searching', () => {
  it('adds a line for a scanned barcode and keeps the focus in the scan field', async () => {
    const { calls, scan } = await openPos();
    expect(screen.getByTestId('cart-empty')).toBeDefined();
    expect(total()).toBe('USD 0.00');

    await scanCode(scan, MILK.barcode ?? '');
    await waitFor(() => {
      expect(lines()).toHaveLength(1);
    });
    expect(lines()[0]?.textContent).toContain('Milk 1 L');
    expect(total()).toBe('USD 1.50');
    expect(sent(calls, 'scan_barcode')).toEqual([{ code: '6001234500011' }]);
    // Digits are a barcode: no catalog search while they are typed.
    expect(sent(calls, 'find_products')).toEqual([]);
    expect(document.activeElement).toBe(scan);

    await scanCode(scan, BREAD.barcode ?? '');
    await waitFor(() => {
      expect(lines()).toHaveLength(2);
    });
    expect(total()).toBe('USD 2.70');
  });

  it('says so and beeps on an unknown barcode, and leaves the cart alone', async () => {
    const started: number[] = [];
    class FakeAudio {
      currentTime = 0;
      destination = {};
      createOscillator() {
        return {
          type: 'sine',
          frequency: { value: 0 },
          connect: () => undefined,
          start: () => started.push(1),
          stop: () => undefined,
        };
      }
      createGain() {
        return { gain: { value: 1 }, connect: () => undefined };
      }
    }
    vi.stubGlobal('AudioContext', FakeAudio);
    const { scan } = await openPos({ cart: [{ product: MILK, quantity: '1' }] });

    await scanCode(scan, '999000111');
    const notice = await screen.findByTestId('scan-notice');
    expect(notice.textContent).toBe('no product has the barcode 999000111');
    expect(notice.getAttribute('role')).toBe('alert');
    expect(started).toEqual([1]);
    expect(lines()).toHaveLength(1);
    expect(total()).toBe('USD 1.50');
    expect(document.activeElement).toBe(scan);

    // Typing again clears the message.
    type(scan, '6');
    expect(screen.queryByTestId('scan-notice')).toBeNull();
  });

  it('searches as the cashier types, moves with ↑/↓ and adds with Enter', async () => {
    const { calls, scan } = await openPos();

    type(scan, 'b');
    const list = await screen.findByRole('listbox', { name: 'Products found' });
    const options = within(list).getAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual([
      expect.stringContaining('Bread white loaf') as string,
      expect.stringContaining('Bananas') as string,
    ]);
    expect(options[0]?.getAttribute('aria-selected')).toBe('true');
    expect(options[0]?.textContent).toContain('USD 1.20');

    fireEvent.keyDown(scan, { key: 'ArrowDown' });
    expect(within(list).getAllByRole('option')[1]?.getAttribute('aria-selected')).toBe('true');
    enter(scan);

    await waitFor(() => {
      expect(lines()).toHaveLength(1);
    });
    expect(sent(calls, 'cart_add')).toEqual([{ productId: BANANAS.productId, quantity: null }]);
    expect(screen.queryByRole('listbox')).toBeNull();
    expect(scan.value).toBe('');
    expect(document.activeElement).toBe(scan);
  });

  it('adds a hit on click too', async () => {
    const { calls, scan } = await openPos();
    type(scan, 'mil');
    fireEvent.click(await screen.findByRole('option', { name: /Milk 1 L/ }));
    await waitFor(() => {
      expect(lines()).toHaveLength(1);
    });
    expect(sent(calls, 'cart_add')).toEqual([{ productId: MILK.productId, quantity: null }]);
  });

  it('waits for a pause in typing and shows only the latest answer', async () => {
    const answers = new Map<string, ReturnType<typeof deferred<unknown>>>();
    const { calls, scan } = await openPos(
      {},
      {
        find_products: ({ query }) => {
          const d = deferred<unknown>();
          answers.set(String(query), d);
          return d.promise;
        },
      },
    );

    type(scan, 'b');
    type(scan, 'br');
    await waitFor(() => {
      expect(answers.has('br')).toBe(true);
    });
    // "b" was typed over before the pause: never asked.
    expect(sent(calls, 'find_products')).toEqual([{ query: 'br' }]);

    type(scan, 'ba');
    await waitFor(() => {
      expect(answers.has('ba')).toBe(true);
    });
    await act(async () => {
      answers.get('ba')?.resolve([BANANAS]);
      await Promise.resolve();
    });
    await screen.findByRole('option', { name: /Bananas/ });
    // The older answer arrives last: it must not replace the newer one.
    await act(async () => {
      answers.get('br')?.resolve([BREAD]);
      await new Promise((r) => setTimeout(r, 0));
    });
    expect(screen.getAllByRole('option').map((o) => o.textContent)).toEqual([expect.stringContaining('Bananas') as string]);
  });
});

describe('POS: editing the cart', () => {
  it('sends a new quantity on Enter, and refuses decimals for items sold by the piece', async () => {
    const { calls, scan } = await openPos({ cart: [{ product: MILK, quantity: '1' }, { product: BANANAS, quantity: '1' }] });

    const milk = screen.getByLabelText<HTMLInputElement>('Quantity of Milk 1 L');
    type(milk, '1.5');
    expect(milk.getAttribute('aria-invalid')).toBe('true');
    enter(milk);
    expect(sent(calls, 'cart_set_quantity')).toEqual([]);

    type(milk, '3');
    enter(milk);
    await waitFor(() => {
      expect(total()).toBe('USD 6.50');
    });
    expect(sent(calls, 'cart_set_quantity')).toEqual([{ lineId: 1, quantity: '3' }]);
    expect(document.activeElement).toBe(scan);

    const bananas = screen.getByLabelText<HTMLInputElement>('Quantity of Bananas');
    type(bananas, '1.235');
    expect(bananas.getAttribute('aria-invalid')).toBe('false');
    enter(bananas);
    await waitFor(() => {
      expect(sent(calls, 'cart_set_quantity')).toHaveLength(2);
    });
    expect(sent(calls, 'cart_set_quantity')[1]).toEqual({ lineId: 2, quantity: '1.235' });
  });

  it('offers line and cart discounts and price changes only with the permissions', async () => {
    await openPos({ canDiscount: false, canOverridePrice: false, cart: [{ product: MILK, quantity: '2' }] });
    expect(screen.queryByLabelText('Discount on Milk 1 L')).toBeNull();
    expect(screen.queryByLabelText('Cart discount')).toBeNull();
    expect(screen.queryByLabelText('Price of Milk 1 L')).toBeNull();
    expect(lines()[0]?.textContent).toContain('1.50');
  });

  it('sets a line discount, a cart discount and a price override', async () => {
    const { calls } = await openPos({ cart: [{ product: MILK, quantity: '2' }] });

    const discount = screen.getByLabelText('Discount on Milk 1 L');
    type(discount, '10%');
    enter(discount);
    await waitFor(() => {
      expect(total()).toBe('USD 2.70');
    });
    expect(screen.getByTestId('cart-discounts').textContent).toBe('-USD 0.30');

    const cartDiscount = screen.getByLabelText('Cart discount');
    type(cartDiscount, '0.70');
    enter(cartDiscount);
    await waitFor(() => {
      expect(total()).toBe('USD 2.00');
    });

    const price = screen.getByLabelText('Price of Milk 1 L');
    type(price, '');
    enter(price);
    await waitFor(() => {
      expect(sent(calls, 'cart_set_price')).toHaveLength(1);
    });
    expect(sent(calls, 'cart_set_line_discount')).toEqual([{ lineId: 1, discount: { kind: 'percent', value: '10' } }]);
    expect(sent(calls, 'cart_set_discount')).toEqual([{ discount: { kind: 'amount', value: '0.70' } }]);
    expect(sent(calls, 'cart_set_price')).toEqual([{ lineId: 1, price: null }]);
  });

  it('removes the selected line with Ctrl+Delete, and a line by its button', async () => {
    const { calls, scan } = await openPos({
      cart: [
        { product: MILK, quantity: '1' },
        { product: BREAD, quantity: '1' },
        { product: BANANAS, quantity: '1' },
      ],
    });
    // The last line is selected; ↑ in the empty scan field moves up.
    fireEvent.keyDown(scan, { key: 'ArrowUp' });
    expect(lines()[1]?.getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(scan, { key: 'Delete', ctrlKey: true });
    await waitFor(() => {
      expect(lines()).toHaveLength(2);
    });
    expect(sent(calls, 'cart_remove_line')).toEqual([{ lineId: 2 }]);

    fireEvent.click(screen.getByRole('button', { name: 'Remove Milk 1 L' }));
    await waitFor(() => {
      expect(lines()).toHaveLength(1);
    });
    expect(lines()[0]?.textContent).toContain('Bananas');
  });

  it('voids the sale only once confirmed', async () => {
    const { calls, scan } = await openPos({ cart: [{ product: MILK, quantity: '1' }] });
    fireEvent.click(screen.getByRole('button', { name: 'Void sale' }));
    const dialog = screen.getByRole('dialog', { name: 'Void this sale?' });
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(lines()).toHaveLength(1);
    expect(dialog.isConnected).toBe(false);
    await waitFor(() => {
      expect(document.activeElement).toBe(scan);
    });

    fireEvent.click(screen.getByRole('button', { name: 'Void sale' }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Void sale' }));
    await waitFor(() => {
      expect(lines()).toHaveLength(0);
    });
    expect(sent(calls, 'cart_void')).toEqual([{}]);
  });

  it('parks a sale under a label and resumes it', async () => {
    const { calls } = await openPos({ cart: [{ product: MILK, quantity: '2' }] });
    fireEvent.keyDown(window, { key: 'F4' });
    const label = screen.getByLabelText('Label (who or what it is for)');
    type(label, 'Blue shirt');
    fireEvent.submit(label);
    await waitFor(() => {
      expect(screen.getByTestId('parked').textContent).toBe('Parked (1)');
    });
    expect(lines()).toHaveLength(0);

    fireEvent.click(screen.getByTestId('parked'));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: /Blue shirt/ }));
    await waitFor(() => {
      expect(lines()).toHaveLength(1);
    });
    expect(sent(calls, 'park_cart')).toEqual([{ label: 'Blue shirt' }]);
    expect(sent(calls, 'resume_parked')).toEqual([{ id: 'park-1' }]);
  });

  it('shows a failed change with the backend message', async () => {
    const { scan } = await openPos(
      { cart: [{ product: MILK, quantity: '1' }] },
      { cart_remove_line: () => reject('grant_expired', 'offline access has expired') },
    );
    fireEvent.keyDown(scan, { key: 'Delete', ctrlKey: true });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not remove the line');
    expect(alert.textContent).toContain('offline access has expired');
    expect(lines()).toHaveLength(1);
  });
});
