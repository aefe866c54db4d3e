import { fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { SyncProblem } from '../bindings';
import { SettingsScreen } from '../screens/SettingsScreen';
import { emitSyncStatus, mockBackend, syncState } from '../test/backendMock';
import { reject } from '../test/fakeTill';

function definition(term: string): string | null | undefined {
  const dt = screen.getAllByRole('term').find((el) => el.textContent === term);
  return dt?.nextElementSibling?.textContent;
}

const QUARANTINED: SyncProblem = {
  seq: 7,
  id: '0190f0c4-7a37-7000-8000-000000000007',
  kind: 'sale',
  state: 'quarantined',
  reason: 'the offline grant had expired when the sale was made',
  receiptNo: 'A1B2C3D4-000007',
  createdAt: '2025-01-01T09:00:00Z',
  attempts: 1,
};

describe('Settings: Sync', () => {
  it('shows what is waiting, the last success and the records held back with their reasons', async () => {
    mockBackend({
      sync_status: () => syncState({ pending: 3, quarantined: 1, rejected: 1 }),
      sync_problems: () => [
        QUARANTINED,
        { ...QUARANTINED, seq: 9, kind: 'till_closed', state: 'rejected', reason: 'unreadable', receiptNo: null },
      ],
    });
    render(<SettingsScreen />);
    const table = await screen.findByTestId('sync-problems');
    expect(definition('Waiting to send')).toBe('3');
    expect(definition('Held by the server')).toBe('1');
    expect(definition('Refused by the server')).toBe('1');
    expect(definition('Last sent')).not.toBe('Never');
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(rows[1]?.textContent).toContain('Sale A1B2C3D4-000007');
    expect(rows[1]?.textContent).toContain('Held for a manager');
    expect(rows[1]?.textContent).toContain('the offline grant had expired');
    expect(rows[2]?.textContent).toContain('Till closed');
    expect(rows[2]?.textContent).toContain('Refused');
  });

  it('says when nothing is held back, and shows the last failure', async () => {
    mockBackend({
      sync_status: () =>
        syncState({
          lastSuccessAt: null,
          lastError: { code: 'push_refused', message: 'the device was revoked', at: '2025-01-01T10:00:00Z' },
        }),
    });
    render(<SettingsScreen />);
    expect(await screen.findByText('The server has held nothing back from this till.')).toBeTruthy();
    expect(definition('Last sent')).toBe('Never');
    expect((await screen.findByTestId('sync-last-error')).textContent).toContain('the device was revoked');
  });

  it('asks for a sync with Sync now, and reads the list again when the held count changes', async () => {
    let problems: SyncProblem[] = [];
    const calls = mockBackend({ sync_problems: () => problems });
    render(<SettingsScreen />);
    await screen.findByText('The server has held nothing back from this till.');

    fireEvent.click(screen.getByRole('button', { name: 'Sync now' }));
    await screen.findByRole('button', { name: 'Sync now' });
    expect(calls.filter((c) => c.cmd === 'sync_now')).toHaveLength(1);

    problems = [QUARANTINED];
    await emitSyncStatus(syncState({ quarantined: 1 }));
    const table = await screen.findByTestId('sync-problems');
    expect(table.textContent).toContain('A1B2C3D4-000007');
  });

  it('shows why a sync could not be started', async () => {
    mockBackend({ sync_now: () => reject('store_unavailable', 'the local store is busy') });
    render(<SettingsScreen />);
    fireEvent.click(await screen.findByRole('button', { name: 'Sync now' }));
    expect(await screen.findByText('Could not start a sync')).toBeTruthy();
    expect(screen.getByText('the local store is busy')).toBeTruthy();
  });

  it('exports the unsynced records for a manager, and shows a refusal for anyone else', async () => {
    let allowed = false;
    mockBackend({
      export_unsynced: () =>
        allowed
          ? { path: '/data/exports/unsynced-1.json', records: 3, unsynced: 2 }
          : reject('forbidden', 'this needs the permission sync:quarantine:manage, which you do not hold'),
    });
    render(<SettingsScreen />);
    fireEvent.click(await screen.findByRole('button', { name: 'Export unsynced records' }));
    expect(await screen.findByText('Could not export the unsynced records')).toBeTruthy();
    expect(screen.getByText(/sync:quarantine:manage/)).toBeTruthy();

    allowed = true;
    fireEvent.click(screen.getByRole('button', { name: 'Export unsynced records' }));
    const done = await screen.findByTestId('sync-export');
    expect(done.textContent).toContain('2 unsynced records written (3 in all) to /data/exports/unsynced-1.json');
    expect(screen.queryByText('Could not export the unsynced records')).toBeNull();
  });
});
