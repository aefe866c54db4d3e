/**
 * Test double for the Tillpoint backend, built on Tauri's own IPC mock: the code under test
 * goes through the real `invoke`/`listen` from @tauri-apps/api, so argument names, error
 * shapes and event payloads are exercised exactly as in the app.
 */
import { act } from '@testing-library/react';
import { emit } from '@tauri-apps/api/event';
import { mockIPC } from '@tauri-apps/api/mocks';
import {
  type AppInfo,
  COMMANDS,
  type CatalogSynced,
  type ConnectionChanged,
  type ConnectionStatus,
  type PosState,
  type SellingBlocked,
  type SellingStatus,
  type SessionChanged,
  type SessionStatus,
  type SyncStatus,
  type SyncStatusChanged,
} from '../bindings';
import { fakeTill } from './fakeTill';

type Handler = (args: Record<string, unknown>) => unknown;
type CommandName = (typeof COMMANDS)[number];

/** A handler per command, by its IPC name; the names come from the generated contract. */
export type BackendHandlers = Partial<Record<CommandName, Handler>>;

export interface CommandCall {
  cmd: string;
  args: Record<string, unknown>;
}

export const sampleInfo: AppInfo = {
  version: '0.1.0',
  dataDir: '/home/till/.local/share/tillpoint',
  serverUrl: 'http://127.0.0.1:8080',
  logLevel: 'info',
  schemaVersion: 3,
};

export function status(overrides: Partial<ConnectionStatus> = {}): ConnectionStatus {
  return {
    state: 'offline',
    serverUrl: 'http://127.0.0.1:8080',
    checkedAt: '2025-01-01T10:00:00Z',
    detail: 'connection refused',
    serverVersion: null,
    ...overrides,
  };
}

/** 71 h 58 min, in seconds. */
export const SEVENTY_ONE_HOURS_58 = 71 * 3600 + 58 * 60;

/** A signed-in status; online by default, as `session_status` answers unless a test says otherwise. */
export function session(overrides: Partial<SessionStatus> = {}): SessionStatus {
  return {
    userName: 'Alice Martin',
    role: 'cashier',
    mode: 'online',
    grantExpiresAt: 1_767_261_600,
    grantRemainingSecs: SEVENTY_ONE_HOURS_58,
    grantWarning: null,
    ...overrides,
  };
}

/** A sync status; nothing waiting by default. */
export function syncState(overrides: Partial<SyncStatus> = {}): SyncStatus {
  return {
    pending: 0,
    quarantined: 0,
    rejected: 0,
    lastSuccessAt: '2025-01-01T10:00:00Z',
    lastError: null,
    ...overrides,
  };
}

/** Defaults answer every command, so a test only states what it is about. */
const defaults: BackendHandlers = {
  startup_error: () => null,
  app_info: () => sampleInfo,
  local_product_count: () => 12,
  connection_status: () => status(),
  check_server: () => status({ state: 'online', serverVersion: '0.1.0', detail: null }),
  session_status: () => session(),
  sign_in: () => session(),
  unlock_offline: () => session({ mode: 'offline' }),
  lock: () => null,
  sync_status: () => syncState(),
  sync_problems: () => [],
  sync_now: () => syncState(),
  export_unsynced: () => ({ path: '/data/exports/unsynced-1.json', records: 3, unsynced: 2 }),
};

/**
 * What the mocked backend last told the window about who is signed in and the connection (by
 * an answer or an event); `undefined` until it told anything. `selling_status` answers from it.
 */
let told: { session?: SessionStatus | null; connection?: ConnectionStatus } = {};

/** `handler`'s answer now, when it gives one at once; undefined when it fails or is pending. */
function answerNow(handler: Handler | undefined): unknown {
  try {
    const answer = handler?.({});
    return answer instanceof Promise ? undefined : answer;
  } catch {
    return undefined;
  }
}

/** Calls `handler`, then keeps its answer (once it arrives) with `keep`. */
function tracked(handler: Handler | undefined, keep: (value: never) => void): Handler | undefined {
  if (!handler) return undefined;
  const keepAny = keep as (value: unknown) => void;
  return (args) => {
    const answer = handler(args);
    if (answer instanceof Promise) {
      return answer.then((value: unknown) => {
        keepAny(value);
        return value;
      });
    }
    keepAny(answer);
    return answer;
  };
}

function blockedAs(reason: SellingBlocked['reason'], message: string): SellingBlocked {
  return { reason, message };
}

/**
 * `selling_status` as the core answers it, from what the mock told the window: nobody signed
 * in; online only while the session is online and the connection not offline; offline with no
 * time left, expired; otherwise what the fake till's state says (till open, currencies).
 */
function sellingFrom(all: Record<string, Handler | undefined>): SellingStatus {
  const person = told.session !== undefined ? told.session : (answerNow(all.session_status) as SessionStatus | null | undefined);
  if (!person) {
    return {
      maySell: false,
      mode: null,
      grantExpiresAt: null,
      grantRemainingSecs: null,
      blocked: blockedAs('not_signed_in', 'nobody is signed in'),
    };
  }
  const connection = told.connection ?? (answerNow(all.connection_status) as ConnectionStatus | undefined);
  const mode = person.mode === 'online' && connection?.state !== 'offline' ? 'online' : 'offline';
  const blocked =
    mode === 'offline' && person.grantRemainingSecs <= 0
      ? blockedAs('grant_expired', 'your offline access has expired; sign in online')
      : ((answerNow(all.pos_state) as PosState | undefined)?.selling.blocked ?? null);
  return {
    maySell: blocked === null,
    mode,
    grantExpiresAt: person.grantExpiresAt,
    grantRemainingSecs: person.grantRemainingSecs,
    blocked,
  };
}

/** Installs the mock; returns the list of commands called (events excluded). */
export function mockBackend(handlers: BackendHandlers = {}): CommandCall[] {
  const calls: CommandCall[] = [];
  told = {};
  const given: Record<string, Handler | undefined> = { ...defaults, ...fakeTill().handlers, ...handlers };
  const keepSession = (session: SessionStatus | null) => {
    told.session = session;
  };
  const all: Record<string, Handler | undefined> = {
    selling_status: () => sellingFrom(given),
    ...given,
    session_status: tracked(given.session_status, keepSession),
    sign_in: tracked(given.sign_in, keepSession),
    unlock_offline: tracked(given.unlock_offline, keepSession),
    lock: tracked(given.lock, () => {
      keepSession(null);
    }),
    connection_status: tracked(given.connection_status, (connection: ConnectionStatus) => {
      told.connection = connection;
    }),
  };
  mockIPC(
    (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args });
      const handler = all[cmd];
      if (!handler) {
        // Same shape as the backend's own errors, so an unexpected call is visible on screen.
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: 'unknown_command', message: `no mock for command ${cmd}` };
      }
      return handler(args);
    },
    { shouldMockEvents: true },
  );
  return calls;
}

/**
 * Makes listening to `event` fail, as when Tauri refuses the call (the window's capability does
 * not allow it). Call after `mockBackend`.
 */
export function refuseListening(event: string): void {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { invoke: Invoke } }).__TAURI_INTERNALS__;
  const invoke = internals.invoke;
  internals.invoke = (cmd, args, options) =>
    cmd === 'plugin:event|listen' && (args as { event?: unknown } | undefined)?.event === event
      ? Promise.reject(new Error(`event.listen not allowed for ${event}`))
      : invoke(cmd, args, options);
}

type Invoke = (cmd: string, args?: unknown, options?: unknown) => Promise<unknown>;

/** Emits `connection-changed` as the backend would. */
export async function emitConnectionChanged(payload: ConnectionChanged): Promise<void> {
  told.connection = payload;
  await act(async () => {
    await emit('connection-changed', payload);
  });
}

/** Emits `session-changed` as the backend would. */
export async function emitSessionChanged(payload: SessionChanged): Promise<void> {
  told.session = payload;
  await act(async () => {
    await emit('session-changed', payload);
  });
}

/** Emits `catalog-synced` as the backend would after a catalog pull. */
export async function emitCatalogSynced(payload: CatalogSynced): Promise<void> {
  await act(async () => {
    await emit('catalog-synced', payload);
  });
}

/** Emits `sync-status` as the backend would after a sync round or a pushed batch. */
export async function emitSyncStatus(payload: SyncStatusChanged): Promise<void> {
  await act(async () => {
    await emit('sync-status', payload);
  });
}

/** A command's answer that the test releases when it wants. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
