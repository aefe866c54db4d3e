import type { SellingStatus, SessionMode, SessionStatus } from '../bindings';
import { LockIcon } from './Icons';

/** "71 h 58 min left", rounded down so the till never promises time it does not have. */
export function formatTimeLeft(secs: number): string {
  if (secs <= 0) return 'expired';
  if (secs < 60) return 'less than a minute left';
  const hours = Math.floor(secs / 3600);
  const minutes = Math.floor((secs % 3600) / 60);
  return hours > 0 ? `${hours} h ${minutes} min left` : `${minutes} min left`;
}

function tooltip(session: SessionStatus, working: SessionMode, expiresAt: number): string {
  const until = new Date(expiresAt * 1000).toLocaleString();
  if (session.mode === 'online' && working === 'offline') {
    return `Signed in online, but the till cannot work online now (the server cannot be reached, or your online sign-in has lapsed): sales are made under your offline access (until ${until}) until the server is back.`;
  }
  return session.mode === 'online'
    ? `Signed in online. Offline access on this till lasts until ${until}.`
    : `Signed in offline, without the server. Offline access lasts until ${until}.`;
}

interface SessionBadgeProps {
  session: SessionStatus;
  /** The core's selling status; null until it first answered. */
  selling: SellingStatus | null;
  /** The grant's seconds left now, as the core gave them (counted down between reads). */
  remainingSecs: number | null;
}

/**
 * The header's "who is signed in": name, role, Online / Offline and, offline, the time left.
 * Online or offline is the core's word on how a sale made now is made (`selling.mode`); until
 * it first answered, the mode the person signed in with.
 */
export function SessionBadge({ session, selling, remainingSecs }: SessionBadgeProps) {
  const working = selling?.mode ?? session.mode;
  const classes = ['session', `session--${working}`];
  if (session.grantWarning !== null) classes.push('session--warning');
  const title = tooltip(session, working, selling?.grantExpiresAt ?? session.grantExpiresAt);
  return (
    <div className={classes.join(' ')} data-testid="session" title={title}>
      <span className="session__name">{session.userName}</span>
      <span className="session__role">{session.role}</span>
      <span className="session__mode" data-testid="session-mode">
        {working === 'online' ? 'Online' : 'Offline'}
      </span>
      {working === 'offline' && (
        <span className="session__grant" data-testid="grant-remaining">
          Offline access: {formatTimeLeft(remainingSecs ?? session.grantRemainingSecs)}
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
