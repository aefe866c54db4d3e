import { useEffect, useState } from 'react';
import { type BackendError, commands, toBackendError } from '../backend';
import type { ExportSummary, SyncProblem } from '../bindings';
import { useSyncStatus } from '../useSyncStatus';
import { ErrorBox } from './ErrorBox';
import { InfoList } from './InfoList';
import { formatTime } from './SyncIndicator';

const KINDS: Record<string, string> = {
  sale: 'Sale',
  refund: 'Refund',
  till_opened: 'Till opened',
  till_closed: 'Till closed',
};

type ProblemsState =
  | { status: 'loading' }
  | { status: 'ok'; problems: SyncProblem[] }
  | { status: 'error'; error: BackendError };

function ProblemList({ problems }: { problems: SyncProblem[] }) {
  if (problems.length === 0) {
    return <p className="muted">The server has held nothing back from this till.</p>;
  }
  return (
    <table className="sync-problems" data-testid="sync-problems">
      <thead>
        <tr>
          <th scope="col">Record</th>
          <th scope="col">Made</th>
          <th scope="col">Server</th>
          <th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {problems.map((p) => (
          <tr key={p.seq}>
            <td>
              {KINDS[p.kind] ?? p.kind}
              {p.receiptNo !== null && ` ${p.receiptNo}`}
            </td>
            <td>{formatTime(p.createdAt)}</td>
            <td>{p.state === 'quarantined' ? 'Held for a manager' : 'Refused'}</td>
            <td>{p.reason ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Settings' Sync section: what is waiting, the last success and failure, the records the
 * server quarantined or rejected with its reasons, and "Sync now".
 */
export function SyncPanel() {
  const sync = useSyncStatus();
  const [problems, setProblems] = useState<ProblemsState>({ status: 'loading' });
  const [requesting, setRequesting] = useState(false);
  const [requestError, setRequestError] = useState<BackendError | null>(null);
  const held = sync.status === null ? null : sync.status.quarantined + sync.status.rejected;

  // Read the list again whenever the number of held records changes.
  useEffect(() => {
    let active = true;
    commands.syncProblems().then(
      (list) => {
        if (active) setProblems({ status: 'ok', problems: list });
      },
      (reason: unknown) => {
        if (active) setProblems({ status: 'error', error: toBackendError(reason) });
      },
    );
    return () => {
      active = false;
    };
  }, [held]);

  const [exporting, setExporting] = useState(false);
  const [exported, setExported] = useState<ExportSummary | null>(null);
  const [exportError, setExportError] = useState<BackendError | null>(null);

  async function runExport(): Promise<void> {
    setExporting(true);
    setExported(null);
    setExportError(null);
    try {
      setExported(await commands.exportUnsynced());
    } catch (reason: unknown) {
      setExportError(toBackendError(reason));
    } finally {
      setExporting(false);
    }
  }

  async function requestSync(): Promise<void> {
    setRequesting(true);
    setRequestError(null);
    try {
      await commands.syncNow();
    } catch (reason: unknown) {
      setRequestError(toBackendError(reason));
    } finally {
      setRequesting(false);
    }
  }

  const status = sync.status;
  const rows: [string, string][] =
    status === null
      ? []
      : [
          ['Waiting to send', String(status.pending)],
          ['Last sent', status.lastSuccessAt === null ? 'Never' : formatTime(status.lastSuccessAt)],
          ['Held by the server', String(status.quarantined)],
          ['Refused by the server', String(status.rejected)],
        ];

  return (
    <section className="panel" aria-labelledby="sync-heading">
      <h2 id="sync-heading" className="panel__title">
        Sync
      </h2>
      {status === null && sync.statusError === null && <p className="muted">Reading the sync state…</p>}
      {sync.statusError && <ErrorBox title="Could not read the sync state" error={sync.statusError} />}
      {status !== null && (
        <InfoList rows={rows} />
      )}
      {status?.lastError && (
        <p className="notice notice--warning" role="status" data-testid="sync-last-error">
          The last attempt failed ({formatTime(status.lastError.at)}): {status.lastError.message}
        </p>
      )}
      <button
        type="button"
        className="button button--secondary"
        disabled={requesting}
        onClick={() => {
          void requestSync();
        }}
      >
        {requesting ? 'Asking…' : 'Sync now'}
      </button>
      {requestError && <ErrorBox title="Could not start a sync" error={requestError} />}
      <h3 className="panel__subtitle">Records that need a manager</h3>
      {problems.status === 'loading' && <p className="muted">Reading the records the server held back…</p>}
      {problems.status === 'error' && (
        <ErrorBox title="Could not read the records the server held back" error={problems.error} />
      )}
      {problems.status === 'ok' && <ProblemList problems={problems.problems} />}
      <h3 className="panel__subtitle">A till that cannot reach the server</h3>
      <p className="muted">
        A manager can write every record not yet synced to a file signed by this till, for the server to import.
      </p>
      <button
        type="button"
        className="button button--secondary"
        disabled={exporting}
        onClick={() => {
          void runExport();
        }}
      >
        {exporting ? 'Exporting…' : 'Export unsynced records'}
      </button>
      {exported && (
        <p className="notice notice--info" role="status" data-testid="sync-export">
          {exported.unsynced} unsynced record{exported.unsynced === 1 ? '' : 's'} written ({exported.records} in
          all) to {exported.path}
        </p>
      )}
      {exportError && <ErrorBox title="Could not export the unsynced records" error={exportError} />}
    </section>
  );
}
