import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App } from '../App';
import type { SyncStatus } from '../bindings';
import { deferred, emitSyncStatus, mockBackend, refuseListening, syncState } from '../test/backendMock';
import { describeSync } from './SyncIndicator';

async function syncText(expected: string): Promise<HTMLElement> {
  return screen.findByText(expected, { selector: '[data-testid="sync-state"]' });
}

describe('Sync indicator', () => {
  it('says everything is synced, with the last success in the tooltip', async () => {
    mockBackend({ sync_status: () => syncState({ lastSuccessAt: '2025-01-01T10:00:00Z' }) });
    render(<App />);
    const el = await syncText('All synced');
    const title = el.closest('[title]')?.getAttribute('title') ?? '';
    expect(title).toContain('Last sent to the server:');
    expect(el.closest('.sync')?.className).toContain('sync--ok');
  });

  it('counts what is waiting and what needs a manager, and follows sync-status events', async () => {
    const first = deferred<SyncStatus>();
    mockBackend({ sync_status: () => first.promise });
    render(<App />);
    expect(screen.getByTestId('sync-state').textContent).toBe('Sync…');

    first.resolve(syncState({ pending: 3, lastSuccessAt: null }));
    const el = await syncText('3 to send');
    expect(el.closest('[title]')?.getAttribute('title')).toContain('Nothing sent to the server yet');

    await emitSyncStatus(
      syncState({
        pending: 0,
        quarantined: 1,
        rejected: 1,
        lastError: { code: 'server_unreachable', message: 'cannot reach the server', at: '2025-01-01T11:00:00Z' },
      }),
    );
    const now = screen.getByTestId('sync-state');
    expect(now.textContent).toBe('2 need a manager');
    expect(now.closest('.sync')?.className).toContain('sync--problem');
    const title = now.closest('[title]')?.getAttribute('title') ?? '';
    expect(title).toContain('1 held by the server for a manager');
    expect(title).toContain('1 refused by the server');
    expect(title).toContain('Last attempt failed: cannot reach the server');

    await emitSyncStatus(syncState());
    expect(screen.getByTestId('sync-state').textContent).toBe('All synced');
  });

  it('says so when sync-status events cannot be received', async () => {
    mockBackend();
    refuseListening('sync-status');
    render(<App />);
    await syncText('All synced');
    expect(await screen.findByText('Live sync updates are unavailable')).toBeTruthy();
  });

  it('words both counts together', () => {
    expect(describeSync(syncState({ pending: 2, quarantined: 1 }))).toBe('2 to send · 1 needs a manager');
  });
});
