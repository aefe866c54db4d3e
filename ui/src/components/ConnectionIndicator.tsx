import type { ConnectionState, ConnectionStatus } from '../bindings';

const LABELS: Record<ConnectionState, string> = {
  online: 'Online',
  offline: 'Offline',
  checking: 'Checking…',
};

function formatCheckedAt(checkedAt: string): string {
  const date = new Date(checkedAt);
  return Number.isNaN(date.getTime()) ? checkedAt : date.toLocaleString();
}

function tooltip(status: ConnectionStatus | null, problem: string | null): string {
  if (status === null) {
    return problem ?? 'Asking the backend for the connection state…';
  }
  const lines = [`Server: ${status.serverUrl}`];
  if (status.serverVersion !== null) lines.push(`Server version: ${status.serverVersion}`);
  if (status.detail !== null) lines.push(status.detail);
  lines.push(
    status.checkedAt === null ? 'Not checked yet' : `Last checked: ${formatCheckedAt(status.checkedAt)}`,
  );
  if (problem !== null) lines.push(problem);
  return lines.join('\n');
}

interface ConnectionIndicatorProps {
  status: ConnectionStatus | null;
  /** Set when the state could not be read; the indicator then shows Offline. */
  problem: string | null;
}

/** The header's connection state: a coloured dot and Online / Offline / Checking…. */
export function ConnectionIndicator({ status, problem }: ConnectionIndicatorProps) {
  const state: ConnectionState = status?.state ?? (problem === null ? 'checking' : 'offline');
  return (
    <div className={`connection connection--${state}`} title={tooltip(status, problem)} role="status">
      <span className="connection__dot" aria-hidden="true" />
      <span data-testid="connection-state">{LABELS[state]}</span>
      {status && <span className="connection__server">{status.serverUrl}</span>}
    </div>
  );
}
