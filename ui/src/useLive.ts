import { useEffect, useRef, useState } from 'react';
import { type BackendError, type Subscribe, toBackendError } from './backend';

/** What to do with each kind of news about a value the backend pushes as events. */
export interface LiveHandlers<T> {
  /** An event carried a new value. */
  onEvent: (value: T) => void;
  /** The first read answered, and no event came before it. */
  onInitial: (value: T) => void;
  /** The first read failed, and no event came before it. */
  onInitialError: (error: BackendError) => void;
  /** Events cannot be received (subscribing failed). */
  onLiveError: (error: BackendError) => void;
}

/**
 * Follows a backend value that is read once and then pushed as events. The subscription is
 * made first, so no change between the read and the subscription is missed, and an event
 * that arrives before the read's answer wins over it. `subscribe` and `read` must be stable
 * (module-level backend functions are); the handlers may change between renders.
 */
export function useLive<T>(
  subscribe: Subscribe<T>,
  read: () => Promise<T>,
  handlers: LiveHandlers<T>,
): void {
  const latest = useRef(handlers);
  useEffect(() => {
    latest.current = handlers;
  });

  useEffect(() => {
    let active = true;
    let heardEvent = false;
    let unlisten: (() => void) | null = null;

    async function start(): Promise<void> {
      try {
        const stop = await subscribe((value) => {
          if (!active) return;
          heardEvent = true;
          latest.current.onEvent(value);
        });
        if (active) {
          unlisten = stop;
        } else {
          stop();
        }
      } catch (reason: unknown) {
        if (active) latest.current.onLiveError(toBackendError(reason));
      }

      try {
        const value = await read();
        if (active && !heardEvent) latest.current.onInitial(value);
      } catch (reason: unknown) {
        if (active && !heardEvent) latest.current.onInitialError(toBackendError(reason));
      }
    }

    void start();
    return () => {
      active = false;
      unlisten?.();
    };
  }, [subscribe, read]);
}

/** A backend value followed live, with what went wrong reading it. */
export interface LiveState<T> {
  /** Null until the backend has told us anything. */
  status: T | null;
  /** Why the current value could not be read (cleared by the next good event). */
  statusError: BackendError | null;
  /** Why live updates are not coming in. */
  liveError: BackendError | null;
}

/** `useLive` kept as state: the latest value, and why it could not be read or followed. */
export function useLiveState<T>(
  subscribe: Subscribe<T>,
  read: () => Promise<T>,
): LiveState<T> {
  const [view, setView] = useState<LiveState<T>>({ status: null, statusError: null, liveError: null });
  useLive(subscribe, read, {
    onEvent: (status) => {
      setView((v) => ({ ...v, status, statusError: null }));
    },
    onInitial: (status) => {
      setView((v) => ({ ...v, status, statusError: null }));
    },
    onInitialError: (error) => {
      setView((v) => ({ ...v, statusError: error }));
    },
    onLiveError: (error) => {
      setView((v) => ({ ...v, liveError: error }));
    },
  });
  return view;
}
