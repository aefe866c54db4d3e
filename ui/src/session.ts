import { createContext, useContext, useEffect, useState } from 'react';
import type { BackendError } from './backend';
import type { SessionStatus } from './bindings';

/** The signed-in person, as the shell and its screens see them. */
export interface SignedIn {
  session: SessionStatus;
  /**
   * Seconds of offline access left now: the backend's figure, counted down on the window's
   * monotonic clock while the session is offline (no refresh renews the grant then).
   */
  remainingSecs: number;
  /** Why live session updates are not coming in. */
  liveError: BackendError | null;
  /** Calls `lock`, then returns to the sign-in screen. Rejects with the `BackendError`. */
  lock: () => Promise<void>;
}

/**
 * Provided once, by `Root`, around the shell. Null outside it: the shell rendered on its own
 * (as its tests do) simply shows no session.
 */
export const SessionContext = createContext<SignedIn | null>(null);

export function useSignedIn(): SignedIn | null {
  return useContext(SessionContext);
}

/** How often the offline countdown moves on. */
export const COUNTDOWN_TICK_MS = 5_000;

/**
 * `session.grantRemainingSecs`, counted down while the session is offline. A new status from
 * the backend starts the count again from its own figure.
 */
export function useRemainingSecs(session: SessionStatus): number {
  const [counted, setCounted] = useState<{ of: SessionStatus; secs: number } | null>(null);

  useEffect(() => {
    if (session.mode !== 'offline' || session.grantRemainingSecs <= 0) return;
    // performance.now() cannot be set back, unlike the wall clock.
    const start = performance.now();
    const timer = setInterval(() => {
      const elapsed = Math.floor((performance.now() - start) / 1000);
      const secs = Math.max(0, session.grantRemainingSecs - elapsed);
      setCounted({ of: session, secs });
      if (secs === 0) clearInterval(timer);
    }, COUNTDOWN_TICK_MS);
    return () => {
      clearInterval(timer);
    };
  }, [session]);

  return counted?.of === session ? counted.secs : session.grantRemainingSecs;
}
