import { act, render, screen } from '@testing-library/react';
import { emit } from '@tauri-apps/api/event';
import { describe, expect, it } from 'vitest';
import { mockBackend } from '../test/backendMock';
import { CatalogProgress } from './CatalogProgress';

async function send(event: string, payload: unknown): Promise<void> {
  await act(async () => {
    await emit(event, payload);
  });
}

describe('the catalog arriving', () => {
  it('shows how much of a large pull has arrived, then goes away', async () => {
    mockBackend();
    render(<CatalogProgress />);
    expect(screen.queryByTestId('catalog-progress')).toBeNull();

    await send('catalog-progress', { pages: 2, records: 10000, more: true, remaining: 990000 });
    const bar = await screen.findByTestId('catalog-progress');
    expect(bar.textContent).toContain((10000).toLocaleString());
    expect(bar.textContent).toContain((1000000).toLocaleString());
    const progress = bar.querySelector('progress');
    expect(progress?.getAttribute('value')).toBe('10000');
    expect(progress?.getAttribute('max')).toBe('1000000');

    await send('catalog-synced', { pages: 200, records: 1000000, products: 1000000 });
    expect(screen.queryByTestId('catalog-progress')).toBeNull();
  });

  it('shows an open-ended bar when the server does not say how much is left', async () => {
    mockBackend();
    render(<CatalogProgress />);
    await send('catalog-progress', { pages: 1, records: 5000, more: true, remaining: null });
    const bar = await screen.findByTestId('catalog-progress');
    expect(bar.querySelector('progress')?.hasAttribute('value')).toBe(false);
    // The last page ends it even before the summary arrives.
    await send('catalog-progress', { pages: 2, records: 7000, more: false, remaining: null });
    expect(screen.queryByTestId('catalog-progress')).toBeNull();
  });
});
