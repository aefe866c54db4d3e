import { createContext, useContext, useEffect, useRef, useState } from 'react';
import type { BackendError } from './backend';
import type { SellingStatus, SessionStatus } from './bindings';
import type { SellingView } from './useSellingStatus';

/** The signed-in person, as the shell and its screens see them. */
export interface SignedIn {
  session: SessionStatus;
  /** Whether they may sell now, and how: the core's answer (`useSellingStatus`). */
  selling: SellingView;
  /**
   * Seconds of offline access left now, for display: the core's figure, counted down on the
   * window's monotonic clock between reads while it says the till works offline. Null until
   * the core answered, or when it gave no figure.
   */
  remainingSecs: number | null;
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
 * `selling.grantRemainingSecs`, counted down while the core says the till works offline, for
 * the badge. When the count reaches 0 it asks the core again (`onRunOut`): the core, not this
 * clock, says whether the grant has run out. A new answer starts the count from its figure.
 */
export function useRemainingSecs(selling: SellingStatus | null, onRunOut: () => void): number | null {
  const [counted, setCounted] = useState<{ of: SellingStatus; secs: number } | null>(null);
  const runOut = useRef(onRunOut);
  useEffect(() => {
    runOut.current = onRunOut;
  });

  useEffect(() => {
    const from = selling?.grantRemainingSecs ?? null;
    if (selling?.mode !== 'offline' || from === null || from <= 0) return;
    // performance.now() cannot be set back, unlike the wall clock.
    const start = performance.now();
    const timer = setInterval(() => {
      const elapsed = Math.floor((performance.now() - start) / 1000);
      const secs = Math.max(0, from - elapsed);
      setCounted({ of: selling, secs });
      if (secs === 0) {
        clearInterval(timer);
        runOut.current();
      }
    }, COUNTDOWN_TICK_MS);
    return () => {
      clearInterval(timer);
    };
  }, [selling]);

  if (selling === null) return null;
  return counted?.of === selling ? counted.secs : selling.grantRemainingSecs;
}
