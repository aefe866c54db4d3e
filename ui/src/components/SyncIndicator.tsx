import type { SyncStatus } from '../bindings';

/** A time the backend sent, in the till's locale. */
export function formatTime(at: string): string {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? at : date.toLocaleString();
}

/** "All synced", "3 to send", "2 need a manager", or both counts. */
export function describeSync(status: SyncStatus): string {
  const parts: string[] = [];
  if (status.pending > 0) parts.push(`${status.pending} to send`);
  const problems = status.quarantined + status.rejected;
  if (problems > 0) parts.push(`${problems} ${problems === 1 ? 'needs' : 'need'} a manager`);
  return parts.length === 0 ? 'All synced' : parts.join(' · ');
}

function tooltip(status: SyncStatus | null, problem: string | null): string {
  if (status === null) {
    return problem ?? 'Asking the backend what is waiting to sync…';
  }
  const lines = [
    status.lastSuccessAt === null
      ? 'Nothing sent to the server yet'
      : `Last sent to the server: ${formatTime(status.lastSuccessAt)}`,
  ];
  if (status.quarantined > 0) lines.push(`${status.quarantined} held by the server for a manager`);
  if (status.rejected > 0) lines.push(`${status.rejected} refused by the server`);
  if (status.lastError !== null) lines.push(`Last attempt failed: ${status.lastError.message}`);
  if (problem !== null) lines.push(problem);
  return lines.join('\n');
}

function tone(status: SyncStatus | null): 'ok' | 'pending' | 'problem' | 'unknown' {
  if (status === null) return 'unknown';
  if (status.quarantined + status.rejected > 0) return 'problem';
  return status.pending > 0 ? 'pending' : 'ok';
}

interface SyncIndicatorProps {
  status: SyncStatus | null;
  /** Set when the status could not be read. */
  problem: string | null;
}

/** The header's sync state, next to the connection: what is waiting and what needs a manager. */
export function SyncIndicator({ status, problem }: SyncIndicatorProps) {
  const label = status === null ? (problem === null ? 'Sync…' : 'Sync unknown') : describeSync(status);
  return (
    <div className={`sync sync--${tone(status)}`} title={tooltip(status, problem)} role="status">
      <span className="sync__dot" aria-hidden="true" />
      <span data-testid="sync-state">{label}</span>
    </div>
  );
}
