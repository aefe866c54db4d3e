import { useState } from 'react';
import { type BackendError, type SyncStatus, onSyncStatus, syncStatus } from './backend';
import { useLive } from './useLive';

export interface SyncView {
  /** Null until the backend has told us anything. */
  status: SyncStatus | null;
  /** Why the current status could not be read (cleared by the next good event). */
  statusError: BackendError | null;
  /** Why live updates are not coming in. */
  liveError: BackendError | null;
}

/**
 * What this till still has to send, as the backend sees it: `sync_status` once, then every
 * `sync-status` event (see `useLive`).
 */
export function useSyncStatus(): SyncView {
  const [view, setView] = useState<SyncView>({ status: null, statusError: null, liveError: null });

  useLive(onSyncStatus, syncStatus, {
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
