import { fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App } from './App';
import { mockBackend } from './test/backendMock';

const NAV_LABELS = ['POS', 'Stock', 'Reports', 'Settings'];

function nav() {
  return within(screen.getByRole('navigation', { name: 'Main' }));
}

function currentPage(): string[] {
  return nav()
    .getAllByRole('button')
    .filter((b) => b.getAttribute('aria-current') === 'page')
    .map((b) => b.textContent);
}

describe('App shell', () => {
  it('renders the app name and the four nav items, POS active', async () => {
    mockBackend();
    render(<App />);

    expect(screen.getByRole('banner').textContent).toContain('Tillpoint');
    for (const label of NAV_LABELS) {
      expect(nav().getByRole('button', { name: label })).toBeDefined();
    }
    expect(nav().getAllByRole('button')).toHaveLength(4);
    expect(nav().getByRole('button', { name: 'POS' }).getAttribute('aria-current')).toBe('page');
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Point of sale');
    await screen.findByTestId('pos-scan');
  });

  it('switches screens on click and moves aria-current', async () => {
    mockBackend();
    render(<App />);
    await screen.findByTestId('pos-scan');

    const expected: [string, string][] = [
      ['Stock', 'Stock'],
      ['Reports', 'Reports'],
      ['Settings', 'Settings'],
      ['POS', 'Point of sale'],
    ];
    for (const [label, heading] of expected) {
      fireEvent.click(nav().getByRole('button', { name: label }));
      expect(screen.getByRole('heading', { level: 1 }).textContent).toBe(heading);
      const active = nav().getByRole('button', { name: label });
      expect(active.getAttribute('aria-current')).toBe('page');
      expect(currentPage()).toHaveLength(1);
    }

    fireEvent.click(nav().getByRole('button', { name: 'Reports' }));
    expect(screen.getByText('Reports are not in this build yet.')).toBeDefined();
    expect(nav().getByRole('button', { name: 'POS' }).hasAttribute('aria-current')).toBe(false);
  });

  it('switches screens with Alt+digit', async () => {
    mockBackend();
    render(<App />);
    await screen.findByTestId('pos-scan');

    fireEvent.keyDown(window, { key: '4', code: 'Digit4', altKey: true });
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Settings');
    expect(nav().getByRole('button', { name: 'Settings' }).getAttribute('aria-current')).toBe('page');

    // Without Alt, a digit is just typing.
    fireEvent.keyDown(window, { key: '3', code: 'Digit3' });
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Settings');

    fireEvent.keyDown(window, { key: '2', code: 'Digit2', altKey: true });
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Stock');
    await screen.findByTestId('product-count');
  });
});
