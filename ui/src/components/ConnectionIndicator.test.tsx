import { render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App } from '../App';
import type { ConnectionStatus } from '../bindings';
import { deferred, emitConnectionChanged, mockBackend, refuseListening, status } from '../test/backendMock';

async function stateText(expected: string): Promise<HTMLElement> {
  const el = await screen.findByTestId('connection-state');
  await screen.findByText(expected, { selector: '[data-testid="connection-state"]' });
  return el;
}

describe('Connection indicator', () => {
  it('shows Checking… until connection_status answers, then its state', async () => {
    const answer = deferred<ConnectionStatus>();
    mockBackend({ connection_status: () => answer.promise });
    render(<App />);

    expect(screen.getByTestId('connection-state').textContent).toBe('Checking…');

    answer.resolve(status({ state: 'online', serverVersion: '0.1.0', detail: null }));
    const el = await stateText('Online');
    expect(el.textContent).toBe('Online');
  });

  it('shows the initial state with the server URL and detail in the tooltip', async () => {
    mockBackend({
      connection_status: () =>
        status({ state: 'offline', serverUrl: 'http://10.1.2.3:9000', detail: 'connection refused' }),
    });
    render(<App />);

    const el = await stateText('Offline');
    const indicator = el.closest('[title]');
    expect(indicator?.getAttribute('title')).toContain('http://10.1.2.3:9000');
    expect(indicator?.getAttribute('title')).toContain('connection refused');
  });

  it('updates when a connection-changed event arrives', async () => {
    mockBackend({ connection_status: () => status({ state: 'offline' }) });
    render(<App />);
    await stateText('Offline');

    await emitConnectionChanged(status({ state: 'checking', detail: null }));
    expect(screen.getByTestId('connection-state').textContent).toBe('Checking…');

    await emitConnectionChanged(
      status({ state: 'online', serverVersion: '0.2.0', detail: 'all good', serverUrl: 'http://srv:1' }),
    );
    const el = screen.getByTestId('connection-state');
    expect(el.textContent).toBe('Online');
    expect(el.closest('[title]')?.getAttribute('title')).toContain('http://srv:1');
    expect(el.closest('[title]')?.getAttribute('title')).toContain('all good');

    await emitConnectionChanged(status({ state: 'offline', detail: 'timed out' }));
    expect(screen.getByTestId('connection-state').textContent).toBe('Offline');
  });

  it('lets an event that arrives before the initial answer win', async () => {
    const answer = deferred<ConnectionStatus>();
    const calls = mockBackend({ connection_status: () => answer.promise });
    render(<App />);

    // The subscription is in place once the status request has gone out (it follows it).
    await waitFor(() => {
      expect(calls.map((c) => c.cmd)).toContain('connection_status');
    });
    await emitConnectionChanged(status({ state: 'online', detail: null }));
    expect(screen.getByTestId('connection-state').textContent).toBe('Online');

    answer.resolve(status({ state: 'offline' }));
    await answer.promise;
    await new Promise((r) => setTimeout(r, 0));
    expect(screen.getByTestId('connection-state').textContent).toBe('Online');
  });

  it('shows the error when connection_status fails', async () => {
    mockBackend({
      connection_status: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: 'internal', message: 'connection monitor is not running' };
      },
    });
    render(<App />);

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('connection monitor is not running');
    expect(screen.getByTestId('connection-state').textContent).toBe('Offline');
  });

  it('says so when connection-changed events cannot be received', async () => {
    mockBackend();
    refuseListening('connection-changed');
    render(<App />);
    await stateText('Offline');

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Live connection updates are unavailable');
    expect(alert.textContent).toContain('event.listen not allowed');
    expect(screen.getByTestId('connection-state').textContent).toBe('Offline');
  });
});
