import { type SubmitEvent, useId, useRef, useState } from 'react';
import { type BackendError, type FailureCode, commands, toBackendError } from '../backend';
import type { SessionStatus } from '../bindings';
import { Brand } from '../components/Brand';
import { ConnectionIndicator } from '../components/ConnectionIndicator';
import { ErrorBox } from '../components/ErrorBox';
import { useConnection } from '../useConnection';

type Action = 'sign-in' | 'unlock';

const ACTIONS: Record<Action, { label: string; running: string; failed: string }> = {
  'sign-in': { label: 'Sign in', running: 'Signing in…', failed: 'Could not sign in' },
  unlock: { label: 'Unlock offline', running: 'Unlocking offline…', failed: 'Could not unlock offline' },
};

/** What went wrong, in a few words, above the backend's own message (which says what to do). */
const ERROR_TITLES: Partial<Record<FailureCode, string>> = {
  server_unreachable: 'The server cannot be reached',
  wrong_credentials: 'Wrong username or password',
  rate_limited: 'Too many sign-in attempts',
  device_revoked: 'This till has been revoked',
  other_organisation: 'This till belongs to another organisation',
  keyring_unavailable: "The computer's keyring is not available",
  grant_invalid: 'The offline access on this till is not valid',
  backing_off: 'Too many wrong passwords',
  not_known_offline: 'This person cannot unlock this till offline',
  grant_expired: 'Offline access has expired',
  clock_locked: "The computer's clock was set back",
};

export const OFFLINE_HINT =
  'The server cannot be reached: unlock with the password you last signed in with on this till.';

interface SignInScreenProps {
  /** Why the sign-in screen is back, e.g. the server signed the person out. */
  notice: string | null;
  /** Why the window could not tell who is signed in (signing in still works). */
  problem: BackendError | null;
  onSignedIn: (session: SessionStatus) => void;
}

/**
 * The whole window while nobody is signed in. "Sign in" asks the server; "Unlock offline"
 * checks the same username and password against this till's offline access, for when the
 * server cannot be reached (it becomes the main action then).
 */
export function SignInScreen({ notice, problem, onSignedIn }: SignInScreenProps) {
  const connection = useConnection();
  const headingId = useId();
  const usernameId = useId();
  const passwordId = useId();
  const formRef = useRef<HTMLFormElement>(null);
  // The password stays in its input only: it is read when a request starts and never put in
  // React state (a controlled input would also mirror it into the DOM's value attribute).
  const passwordRef = useRef<HTMLInputElement>(null);
  const [username, setUsername] = useState('');
  const [running, setRunning] = useState<Action | null>(null);
  const runningNow = useRef(false);
  const [failure, setFailure] = useState<{ action: Action; error: BackendError } | null>(null);
  const [serverUnreachable, setServerUnreachable] = useState(false);

  const connectionOffline = connection.status?.state === 'offline';
  // After server_unreachable the connection indicator may not have caught up yet.
  const preferOffline = connectionOffline || serverUnreachable;
  const primary: Action = preferOffline ? 'unlock' : 'sign-in';
  const secondary: Action = preferOffline ? 'sign-in' : 'unlock';

  async function run(action: Action): Promise<void> {
    const form = formRef.current;
    const passwordInput = passwordRef.current;
    if (runningNow.current || !form || !passwordInput || !form.reportValidity()) return;
    runningNow.current = true;
    setRunning(action);
    setFailure(null);
    try {
      const send = action === 'sign-in' ? commands.signIn : commands.unlockOffline;
      const session = await send(username.trim(), passwordInput.value);
      passwordInput.value = '';
      onSignedIn(session);
    } catch (reason: unknown) {
      const error = toBackendError(reason);
      if (action === 'sign-in') setServerUnreachable(error.code === 'server_unreachable');
      // Kept only when the server could not judge it, so "Unlock offline" can use it at once.
      if (error.code !== 'server_unreachable') {
        passwordInput.value = '';
        passwordInput.focus();
      }
      setFailure({ action, error });
    } finally {
      runningNow.current = false;
      setRunning(null);
    }
  }

  function onSubmit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    void run(primary);
  }

  return (
    <div className="shell shell--bare">
      <header className="topbar">
        <Brand />
        <ConnectionIndicator
          status={connection.status}
          problem={connection.statusError ? connection.statusError.message : null}
        />
      </header>
      <main className="main main--centred">
        <form
          ref={formRef}
          className="panel sign-in"
          data-testid="sign-in"
          aria-labelledby={headingId}
          aria-busy={running !== null}
          onSubmit={onSubmit}
        >
          <h1 id={headingId} className="sign-in__title">
            Sign in
          </h1>
          {notice !== null && (
            <p className="notice notice--info" role="status" data-testid="sign-in-notice">
              {notice}
            </p>
          )}
          {problem && <ErrorBox title="Could not read who is signed in" error={problem} />}
          {connectionOffline && (
            <p className="muted" data-testid="offline-hint">
              {OFFLINE_HINT}
            </p>
          )}
          {failure && (
            <ErrorBox
              title={ERROR_TITLES[failure.error.code] ?? ACTIONS[failure.action].failed}
              error={failure.error}
            />
          )}
          <div className="field">
            <label className="field__label" htmlFor={usernameId}>
              Username
            </label>
            <input
              id={usernameId}
              className="input"
              type="text"
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              required
              // The first thing a cashier does at this screen is type their name.
              autoFocus
              value={username}
              onChange={(e) => {
                setUsername(e.target.value);
              }}
            />
          </div>
          <div className="field">
            <label className="field__label" htmlFor={passwordId}>
              Password
            </label>
            <input
              id={passwordId}
              ref={passwordRef}
              className="input"
              type="password"
              name="password"
              autoComplete="current-password"
              required
            />
          </div>
          <div className="sign-in__actions">
            <button type="submit" className="button button--primary" disabled={running !== null}>
              {ACTIONS[primary].label}
            </button>
            <button
              type="button"
              className="button button--secondary"
              disabled={running !== null}
              onClick={() => {
                void run(secondary);
              }}
            >
              {ACTIONS[secondary].label}
            </button>
          </div>
          {running !== null && (
            <p className="muted" role="status">
              {ACTIONS[running].running}
            </p>
          )}
        </form>
      </main>
    </div>
  );
}
