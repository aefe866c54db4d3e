import { useCallback, useState } from 'react';
import { type BackendError, commands, listen } from './backend';
import type { SessionStatus } from './bindings';
import { useLive } from './useLive';

/** Shown on the sign-in screen when the backend signed the person out on its own. */
export const SIGNED_OUT_NOTICE = 'You were signed out: sign in again.';

export type SessionState =
  | { status: 'loading' }
  | {
      status: 'signed-out';
      /** Why the sign-in screen is back, when it is not the person's own doing. */
      notice: string | null;
      /** Why `session_status` could not be read (the person can still sign in). */
      problem: BackendError | null;
    }
  | { status: 'signed-in'; session: SessionStatus };

export interface SessionControl {
  state: SessionState;
  /** Why live session updates are not coming in. */
  liveError: BackendError | null;
  /** Call with the status `sign_in` or `unlock_offline` answered. */
  signedIn: (session: SessionStatus) => void;
  /** Calls `lock`, then returns to the sign-in screen. Rejects with the `BackendError`. */
  lock: () => Promise<void>;
}

const SIGNED_OUT: SessionState = { status: 'signed-out', notice: null, problem: null };

/** What a `session-changed` payload does to the current state. */
function afterEvent(current: SessionState, session: SessionStatus | null): SessionState {
  if (session === null) {
    if (current.status === 'signed-in') {
      return { status: 'signed-out', notice: SIGNED_OUT_NOTICE, problem: null };
    }
    return current.status === 'loading' ? SIGNED_OUT : current;
  }
  // Once the window shows the sign-in screen, only the person's own sign-in (whose answer
  // carries the status) lets them in: a late refresh event must never reopen a locked till.
  if (current.status === 'signed-out') {
    return current;
  }
  return { status: 'signed-in', session };
}

/**
 * Who is signed in, as the backend sees it: `session_status` once, then every
 * `session-changed` event (see `useLive`).
 */
export function useSession(): SessionControl {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const [liveError, setLiveError] = useState<BackendError | null>(null);

  useLive(listen.sessionChanged, commands.sessionStatus, {
    onEvent: (session) => {
      setState((current) => afterEvent(current, session));
    },
    onInitial: (session) => {
      setState(session === null ? SIGNED_OUT : { status: 'signed-in', session });
    },
    onInitialError: (problem) => {
      setState({ status: 'signed-out', notice: null, problem });
    },
    onLiveError: setLiveError,
  });

  const signedIn = useCallback((session: SessionStatus) => {
    setState({ status: 'signed-in', session });
  }, []);

  const lock = useCallback(async () => {
    await commands.lock();
    // Also over a sign-out event the backend may have sent while locking: this was on purpose.
    setState(SIGNED_OUT);
  }, []);

  return { state, liveError, signedIn, lock };
}
