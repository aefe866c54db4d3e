import { useEffect, useState } from 'react';
import {
  type BackendError,
  type ConnectionStatus,
  connectionStatus,
  onConnectionChanged,
  toBackendError,
} from './backend';

export interface ConnectionView {
  /** Null until the backend has told us anything. */
  status: ConnectionStatus | null;
  /** Why the current status could not be read (cleared by the next good event). */
  statusError: BackendError | null;
  /** Why live updates are not coming in. */
  liveError: BackendError | null;
}

/**
 * The server connection as the backend sees it: `connection_status` once, then every
 * `connection-changed` event. The subscription is made first, so no change is missed, and
 * an event that arrives before the initial answer wins over it.
 */
export function useConnection(): ConnectionView {
  const [view, setView] = useState<ConnectionView>({
    status: null,
    statusError: null,
    liveError: null,
  });

  useEffect(() => {
    let active = true;
    let heardEvent = false;
    let unlisten: (() => void) | null = null;

    async function start(): Promise<void> {
      try {
        const stop = await onConnectionChanged(
          (status) => {
            if (!active) return;
            heardEvent = true;
            setView((v) => ({ ...v, status, statusError: null }));
          },
          (error) => {
            if (active) setView((v) => ({ ...v, liveError: error }));
          },
        );
        if (active) {
          unlisten = stop;
        } else {
          stop();
        }
      } catch (reason: unknown) {
        if (active) setView((v) => ({ ...v, liveError: toBackendError(reason) }));
      }

      try {
        const status = await connectionStatus();
        if (active && !heardEvent) setView((v) => ({ ...v, status, statusError: null }));
      } catch (reason: unknown) {
        if (active && !heardEvent) setView((v) => ({ ...v, statusError: toBackendError(reason) }));
      }
    }

    void start();
    return () => {
      active = false;
      unlisten?.();
    };
  }, []);

  return view;
}
