import { commands, listen } from './backend';
import type { SyncStatus } from './bindings';
import { type LiveState, useLiveState } from './useLive';

export type SyncView = LiveState<SyncStatus>;

/**
 * What this till still has to send, as the backend sees it: `sync_status` once, then every
 * `sync-status` event (see `useLive`).
 */
export function useSyncStatus(): SyncView {
  return useLiveState(listen.syncStatus, commands.syncStatus);
}
