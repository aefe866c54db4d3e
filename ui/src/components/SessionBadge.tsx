import type { SessionStatus } from '../bindings';
import { LockIcon } from './Icons';

/** "71 h 58 min left", rounded down so the till never promises time it does not have. */
export function formatTimeLeft(secs: number): string {
  if (secs <= 0) return 'expired';
  if (secs < 60) return 'less than a minute left';
  const hours = Math.floor(secs / 3600);
  const minutes = Math.floor((secs % 3600) / 60);
  return hours > 0 ? `${hours} h ${minutes} min left` : `${minutes} min left`;
}

function tooltip(session: SessionStatus, working: 'online' | 'offline'): string {
  const until = new Date(session.grantExpiresAt * 1000).toLocaleString();
  if (session.mode === 'online' && working === 'offline') {
    return `Signed in online, but the server cannot be reached: sales are made under your offline access (until ${until}) until it is back.`;
  }
  return session.mode === 'online'
    ? `Signed in online. Offline access on this till lasts until ${until}.`
    : `Signed in offline, without the server. Offline access lasts until ${until}.`;
}

interface SessionBadgeProps {
  session: SessionStatus;
  /** The grant's seconds left now (counted down while offline). */
  remainingSecs: number;
  /** False once the connection monitor has seen the server go: the till then works offline
   * (under the grant) even though the person signed in online. */
  serverReachable: boolean;
}

/** The header's "who is signed in": name, role, Online / Offline and, offline, the time left. */
export function SessionBadge({ session, remainingSecs, serverReachable }: SessionBadgeProps) {
  // What the till does now, as the core decides each sale: online only while the server is
  // there.
  const working = session.mode === 'online' && serverReachable ? 'online' : 'offline';
  const classes = ['session', `session--${working}`];
  if (session.grantWarning !== null) classes.push('session--warning');
  return (
    <div className={classes.join(' ')} data-testid="session" title={tooltip(session, working)}>
      <span className="session__name">{session.userName}</span>
      <span className="session__role">{session.role}</span>
      <span className="session__mode" data-testid="session-mode">
        {working === 'online' ? 'Online' : 'Offline'}
      </span>
      {working === 'offline' && (
        <span className="session__grant" data-testid="grant-remaining">
          Offline access: {formatTimeLeft(remainingSecs)}
        </span>
      )}
    </div>
  );
}

interface LockButtonProps {
  onLock: () => void;
  busy: boolean;
}

/** Signs the person out of the window (Alt+L): how cashiers switch on a shared till. */
export function LockButton({ onLock, busy }: LockButtonProps) {
  return (
    <button
      type="button"
      className="button button--secondary lock-button"
      aria-keyshortcuts="Alt+L"
      disabled={busy}
      onClick={onLock}
    >
      <LockIcon className="lock-button__icon" />
      Lock
      <kbd className="lock-button__key" aria-hidden="true">
        Alt L
      </kbd>
    </button>
  );
}
