/**
 * Follows the core's selling status for the shell: the one place the window learns whether the
 * person at the till may sell, so the badge and the selling screen show it rather than work it
 * out from the session and the connection (docs/decisions/till-sign-in.md).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { type BackendError, type Subscribe, commands, listen, toBackendError } from './backend';
import type { SellingStatus } from './bindings';

/**
 * The core's one answer to "may the person at the till sell now, how, and if not why not"
 * (`selling_status`, docs/decisions/till-sign-in.md). The window shows it and never works it
 * out: whether the till works online, whether the grant still holds, whether the till is open.
 */
export interface SellingView {
  /** Null until the core first answered. */
  status: SellingStatus | null;
  /** Why the latest read failed (cleared by the next good one). */
  error: BackendError | null;
  /** Why the changes that make it read again are not coming in. */
  liveError: BackendError | null;
  /** Asks the core again. */
  refresh: () => void;
}

/**
 * What can change the answer: who is signed in and how, whether the server is there, the
 * catalog (currencies, revocations) and each sync round (a pull brings revocations too).
 */
const CHANGES: readonly Subscribe<unknown>[] = [
  listen.sessionChanged,
  listen.connectionChanged,
  listen.catalogSynced,
  listen.syncStatus,
];

/** Reads `selling_status` once, then again on every change that can alter it. */
export function useSellingStatus(): SellingView {
  const [status, setStatus] = useState<SellingStatus | null>(null);
  const [error, setError] = useState<BackendError | null>(null);
  const [liveError, setLiveError] = useState<BackendError | null>(null);
  // Reads may answer out of order: only the latest one asked counts.
  const asked = useRef(0);
  const active = useRef(true);

  const refresh = useCallback(() => {
    const ask = ++asked.current;
    commands.sellingStatus().then(
      (answer) => {
        if (!active.current || ask !== asked.current) return;
        setStatus(answer);
        setError(null);
      },
      (reason: unknown) => {
        if (!active.current || ask !== asked.current) return;
        setError(toBackendError(reason));
      },
    );
  }, []);

  useEffect(() => {
    active.current = true;
    const stops: (() => void)[] = [];
    // Subscribed first, so no change between the first read and the subscriptions is missed.
    const subscribed = CHANGES.map((subscribe) =>
      subscribe(() => {
        refresh();
      }).then(
        (stop) => {
          if (active.current) stops.push(stop);
          else stop();
        },
        (reason: unknown) => {
          if (active.current) setLiveError(toBackendError(reason));
        },
      ),
    );
    void Promise.all(subscribed).then(() => {
      if (active.current) refresh();
    });
    return () => {
      active.current = false;
      for (const stop of stops) stop();
    };
  }, [refresh]);

  return { status, error, liveError, refresh };
}
