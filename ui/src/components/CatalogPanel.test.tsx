import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App } from '../App';
import { mockBackend } from '../test/backendMock';
import { CatalogPanel } from './CatalogPanel';

const EMPTY_TEXT =
  'No products on this till yet. The catalog arrives when the till syncs with the server.';

describe('Local catalog panel', () => {
  it('shows the product count from the backend', async () => {
    const calls = mockBackend({ local_product_count: () => 42 });
    render(<CatalogPanel />);

    expect((await screen.findByTestId('product-count')).textContent).toBe('42');
    expect(screen.getByRole('heading', { name: 'Local catalog' })).toBeDefined();
    expect(screen.queryByText(EMPTY_TEXT)).toBeNull();
    expect(calls.map((c) => c.cmd)).toContain('local_product_count');
  });

  it('shows the empty state when the count is 0', async () => {
    mockBackend({ local_product_count: () => 0 });
    render(<CatalogPanel />);

    expect((await screen.findByTestId('product-count')).textContent).toBe('0');
    expect(screen.getByText(EMPTY_TEXT)).toBeDefined();
  });

  it('shows the message of a rejected command in an alert, and can retry', async () => {
    let fail = true;
    mockBackend({
      local_product_count: () => {
        if (fail) {
          // eslint-disable-next-line @typescript-eslint/only-throw-error
          throw { code: 'store_unavailable', message: 'The local store is locked by another process.' };
        }
        return 7;
      },
    });
    render(<CatalogPanel />);

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The local store is locked by another process.');
    expect(alert.textContent).toContain('store_unavailable');
    expect(screen.queryByTestId('product-count')).toBeNull();

    fail = false;
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect((await screen.findByTestId('product-count')).textContent).toBe('7');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('treats a plain string rejection as an unknown error with that message', async () => {
    mockBackend({
      local_product_count: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw 'database is gone';
      },
    });
    render(<CatalogPanel />);

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('database is gone');
    expect(alert.textContent).toContain('unknown');
  });

  it('appears on Stock, and no longer on POS (the till sells there)', async () => {
    mockBackend({ local_product_count: () => 5 });
    render(<App />);
    await screen.findByTestId('pos-scan');
    expect(screen.queryByTestId('product-count')).toBeNull();
    expect(screen.queryByText('The cart and checkout are not in this build yet.')).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Stock' }));
    expect((await screen.findByTestId('product-count')).textContent).toBe('5');
    expect(screen.getByText('Stock operations are not in this build yet.')).toBeDefined();
  });
});
