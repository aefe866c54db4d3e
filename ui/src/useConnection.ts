import { commands, listen } from './backend';
import type { ConnectionStatus } from './bindings';
import { type LiveState, useLiveState } from './useLive';

export type ConnectionView = LiveState<ConnectionStatus>;

/**
 * The server connection as the backend sees it: `connection_status` once, then every
 * `connection-changed` event (see `useLive`).
 */
export function useConnection(): ConnectionView {
  return useLiveState(listen.connectionChanged, commands.connectionStatus);
}
