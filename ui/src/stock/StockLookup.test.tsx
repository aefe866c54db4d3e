import { fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App } from '../App';
import { commands } from '../backend';
import { mockBackend } from '../test/backendMock';
import { BANANAS, MILK, fakeTill } from '../test/fakeTill';
import { StockLookup } from './StockLookup';

const NOW = new Date(2026, 10, 27, 12, 5);
const now = () => NOW;

const STOCK = {
  [MILK.productId]: {
    syncedQuantityMilli: 44_000,
    syncedAt: new Date(2026, 10, 27, 10, 2).toISOString(),
    unsyncedChangeMilli: -3_000,
    estimateMilli: 41_000,
  },
};

async function searchFor(text: string) {
  fireEvent.change(screen.getByLabelText('Product name or SKU'), { target: { value: text } });
  fireEvent.click(screen.getByRole('button', { name: 'Search' }));
  return screen.findByRole('list', { name: 'Products found' });
}

describe('Stock lookup', () => {
  it('finds a product and shows its estimate, server figure, age and unsent sales', async () => {
    const calls = mockBackend(fakeTill({ stock: STOCK }).handlers);
    render(<StockLookup now={now} />);

    const list = await searchFor('milk');
    fireEvent.click(within(list).getByRole('button', { name: /Milk 1 L/ }));

    expect((await screen.findByTestId('stock-estimate')).textContent).toBe('41');
    expect(screen.getByTestId('stock-figure').textContent).toContain('On hand (estimate): 41');
    expect(screen.getByTestId('stock-detail').textContent).toBe(
      'server figure 44 as of 10:02 (2 h ago), 3 sold here since, not yet sent',
    );
    // The stock search, not the selling one: a Stock Manager cannot sell.
    expect(calls.map((c) => c.cmd)).toContain('find_stock_products');
    expect(calls.map((c) => c.cmd)).not.toContain('find_products');
    expect(calls.find((c) => c.cmd === 'stock_on_hand')?.args).toEqual({ productId: MILK.productId });
  });

  it('says so when the server has sent no figure yet', async () => {
    mockBackend(
      fakeTill({
        stock: {
          [BANANAS.productId]: {
            syncedQuantityMilli: null,
            syncedAt: null,
            unsyncedChangeMilli: -1_500,
            estimateMilli: null,
          },
        },
      }).handlers,
    );
    render(<StockLookup now={now} />);

    fireEvent.click(within(await searchFor('ban')).getByRole('button', { name: /Bananas/ }));
    expect((await screen.findByTestId('stock-detail')).textContent).toBe(
      'No stock figure from the server yet; 1.5 kg sold here since the last sync',
    );
    expect(screen.queryByTestId('stock-estimate')).toBeNull();
  });

  it('says when nothing matches', async () => {
    mockBackend();
    render(<StockLookup now={now} />);
    fireEvent.change(screen.getByLabelText('Product name or SKU'), { target: { value: 'zzz' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    expect(await screen.findByText('No product matches.')).toBeDefined();
  });

  it("shows the backend's refusal", async () => {
    mockBackend(fakeTill({ canViewStock: false }).handlers);
    render(<StockLookup now={now} />);
    fireEvent.change(screen.getByLabelText('Product name or SKU'), { target: { value: 'milk' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('stock:inventory:view');
    expect(alert.textContent).toContain('forbidden');
  });

  it('is on the Stock screen', async () => {
    mockBackend();
    render(<App />);
    await screen.findByTestId('pos-scan');
    fireEvent.click(screen.getByRole('button', { name: 'Stock' }));
    expect(await screen.findByRole('heading', { name: 'Stock lookup' })).toBeDefined();
  });
});

describe('stock commands', () => {
  it('reads a stock figure with stock_on_hand', async () => {
    const calls = mockBackend({
      stock_on_hand: () => ({
        productId: 'p',
        syncedQuantityMilli: null,
        syncedAt: null,
        unsyncedChangeMilli: 0,
        estimateMilli: null,
      }),
    });
    await expect(commands.stockOnHand('p')).resolves.toMatchObject({ syncedQuantityMilli: null, unsyncedChangeMilli: 0 });
    expect(calls).toEqual([{ cmd: 'stock_on_hand', args: { productId: 'p' } }]);
  });

  it('searches with find_stock_products', async () => {
    const calls = mockBackend();
    await expect(commands.findStockProducts('mi')).resolves.toEqual([MILK]);
    expect(calls).toEqual([{ cmd: 'find_stock_products', args: { query: 'mi' } }]);
  });
});
