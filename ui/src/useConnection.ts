import { useState } from 'react';
import { type BackendError, type ConnectionStatus, connectionStatus, onConnectionChanged } from './backend';
import { useLive } from './useLive';

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
 * `connection-changed` event (see `useLive`).
 */
export function useConnection(): ConnectionView {
  const [view, setView] = useState<ConnectionView>({
    status: null,
    statusError: null,
    liveError: null,
  });

  useLive(onConnectionChanged, connectionStatus, {
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
