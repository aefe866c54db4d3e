/**
 * The one place the UI talks to the Tillpoint backend (Tauri commands and events).
 *
 * Components never call `invoke` or `listen` themselves: they call the typed functions here,
 * which also check the shape of what comes back and turn every failure into a `BackendError`
 * with a `code` and a human-readable `message`.
 */
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';

export type ConnectionState = 'online' | 'offline' | 'checking';

/** How the person at the till is signed in: against the server, or offline under their grant. */
export type SessionMode = 'online' | 'offline';

export interface AppInfo {
  version: string;
  dataDir: string;
  serverUrl: string;
  logLevel: string;
  schemaVersion: number;
}

export interface ConnectionStatus {
  state: ConnectionState;
  serverUrl: string;
  /** RFC 3339 timestamp of the last check, or null before the first one. */
  checkedAt: string | null;
  detail: string | null;
  serverVersion: string | null;
}

/** Who is signed in on this till. No token or grant ever reaches the window, only this. */
export interface SessionStatus {
  userName: string;
  role: string;
  mode: SessionMode;
  /** When the offline grant ends, in unix seconds. */
  grantExpiresAt: number;
  /** Seconds of offline access left when the backend answered (never negative). */
  grantRemainingSecs: number;
  /** Set in the grant's last hours: what the person should do before it ends. */
  grantWarning: string | null;
}

/** The error every backend function rejects with. */
export class BackendError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }
}

/** The name of the event the backend emits whenever the connection state changes. */
export const CONNECTION_CHANGED_EVENT = 'connection-changed';

/** The name of the event the backend emits when the session changes on its own (refresh, sign-out). */
export const SESSION_CHANGED_EVENT = 'session-changed';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns whatever a command rejected with into a `BackendError`.
 * The backend rejects with `{ code, message }`; anything else becomes code "unknown".
 */
export function toBackendError(reason: unknown): BackendError {
  if (reason instanceof BackendError) {
    return reason;
  }
  if (isRecord(reason) && typeof reason.message === 'string') {
    const code = typeof reason.code === 'string' ? reason.code : 'unknown';
    return new BackendError(code, reason.message);
  }
  if (reason instanceof Error) {
    return new BackendError('unknown', reason.message);
  }
  return new BackendError('unknown', String(reason));
}

function badResponse(what: string): BackendError {
  return new BackendError('bad_response', `The backend returned an unexpected ${what}.`);
}

/** True inside the Tauri webview (and under @tauri-apps/api/mocks in tests). */
function isTauriPresent(): boolean {
  if (typeof window === 'undefined') return false;
  const internals = (window as { __TAURI_INTERNALS__?: { invoke?: unknown } }).__TAURI_INTERNALS__;
  return typeof internals?.invoke === 'function';
}

function noBackend(): BackendError {
  return new BackendError(
    'no_backend',
    'The Tillpoint backend is not available: this screen only works inside the Tillpoint app.',
  );
}

async function call(command: string, args?: Record<string, unknown>): Promise<unknown> {
  if (!isTauriPresent()) {
    throw noBackend();
  }
  try {
    return await invoke<unknown>(command, args);
  } catch (reason: unknown) {
    throw toBackendError(reason);
  }
}

function stringField(record: Record<string, unknown>, key: string, what: string): string {
  const value = record[key];
  if (typeof value !== 'string') {
    throw badResponse(what);
  }
  return value;
}

/** A nullable string: missing and null both mean "no value". */
function optionalStringField(record: Record<string, unknown>, key: string, what: string): string | null {
  const value = record[key];
  if (value === undefined || value === null) {
    return null;
  }
  if (typeof value !== 'string') {
    throw badResponse(what);
  }
  return value;
}

function parseConnectionStatus(value: unknown): ConnectionStatus {
  const what = 'connection status';
  if (!isRecord(value)) {
    throw badResponse(what);
  }
  const state = value.state;
  if (state !== 'online' && state !== 'offline' && state !== 'checking') {
    throw badResponse(what);
  }
  return {
    state,
    serverUrl: stringField(value, 'serverUrl', what),
    checkedAt: optionalStringField(value, 'checkedAt', what),
    detail: optionalStringField(value, 'detail', what),
    serverVersion: optionalStringField(value, 'serverVersion', what),
  };
}

function parseSessionStatus(value: unknown): SessionStatus {
  const what = 'session status';
  if (!isRecord(value)) {
    throw badResponse(what);
  }
  const { mode, grantExpiresAt, grantRemainingSecs } = value;
  if (mode !== 'online' && mode !== 'offline') {
    throw badResponse(what);
  }
  if (typeof grantExpiresAt !== 'number' || !Number.isFinite(grantExpiresAt)) {
    throw badResponse(what);
  }
  if (typeof grantRemainingSecs !== 'number' || !Number.isFinite(grantRemainingSecs) || grantRemainingSecs < 0) {
    throw badResponse(what);
  }
  return {
    userName: stringField(value, 'userName', what),
    role: stringField(value, 'role', what),
    mode,
    grantExpiresAt,
    grantRemainingSecs,
    grantWarning: optionalStringField(value, 'grantWarning', what),
  };
}

/** A session status, or null for "nobody is signed in". */
function parseOptionalSession(value: unknown): SessionStatus | null {
  return value === null ? null : parseSessionStatus(value);
}

function parseAppInfo(value: unknown): AppInfo {
  const what = 'app configuration';
  if (!isRecord(value) || typeof value.schemaVersion !== 'number') {
    throw badResponse(what);
  }
  return {
    version: stringField(value, 'version', what),
    dataDir: stringField(value, 'dataDir', what),
    serverUrl: stringField(value, 'serverUrl', what),
    logLevel: stringField(value, 'logLevel', what),
    schemaVersion: value.schemaVersion,
  };
}

/**
 * `startup_error`: why the till could not start, or null when it started normally.
 * When it could not start every other command fails with this same error, so the window asks
 * this first. The backend's `{ code, message }` comes back as a `BackendError`; an answer of
 * any other shape rejects as `bad_response`.
 */
export async function startupError(): Promise<BackendError | null> {
  const value = await call('startup_error');
  if (value === null) {
    return null;
  }
  const what = 'start-up state';
  if (!isRecord(value)) {
    throw badResponse(what);
  }
  return new BackendError(stringField(value, 'code', what), stringField(value, 'message', what));
}

/** `app_info`: the running app's version and configuration. */
export async function appInfo(): Promise<AppInfo> {
  return parseAppInfo(await call('app_info'));
}

/** `local_product_count`: how many products the till's local store holds. */
export async function localProductCount(): Promise<number> {
  const count = await call('local_product_count');
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw badResponse('product count');
  }
  return count;
}

/** `connection_status`: the backend's current view of the server connection. */
export async function connectionStatus(): Promise<ConnectionStatus> {
  return parseConnectionStatus(await call('connection_status'));
}

/** `check_server`: checks whether a Tillpoint server answers at `url`. */
export async function checkServer(url: string): Promise<ConnectionStatus> {
  return parseConnectionStatus(await call('check_server', { url }));
}

/**
 * `session_status`: who is signed in on this till, or null when nobody is.
 */
export async function sessionStatus(): Promise<SessionStatus | null> {
  return parseOptionalSession(await call('session_status'));
}

/**
 * `sign_in`: signs the person in against the server. The password goes straight to the
 * backend and is never kept, logged or echoed here.
 */
export async function signIn(username: string, password: string): Promise<SessionStatus> {
  return parseSessionStatus(await call('sign_in', { username, password }));
}

/**
 * `unlock_offline`: lets someone who signed in online on this till before in without the
 * server, under their offline grant. The password is handled as for `signIn`.
 */
export async function unlockOffline(username: string, password: string): Promise<SessionStatus> {
  return parseSessionStatus(await call('unlock_offline', { username, password }));
}

/**
 * `lock`: signs the person out of the window (lock screen, switch user). Their offline access
 * stays on the till.
 */
export async function lock(): Promise<void> {
  const value = await call('lock');
  // A Rust `()` arrives as null.
  if (value !== null && value !== undefined) {
    throw badResponse('answer to lock');
  }
}

/**
 * Subscribes to `event`, parsing each payload with `parse`. Resolves once the subscription is
 * in place, with a function that ends it (safe to call more than once, and never throws).
 * A payload of the wrong shape is reported through `onError` rather than dropped silently.
 */
async function subscribe<T>(
  event: string,
  parse: (payload: unknown) => T,
  onValue: (value: T) => void,
  onError: (error: BackendError) => void,
): Promise<() => void> {
  if (!isTauriPresent()) {
    throw noBackend();
  }
  let unlisten: () => void;
  try {
    unlisten = await listen<unknown>(event, (message) => {
      let value: T;
      try {
        value = parse(message.payload);
      } catch (reason: unknown) {
        onError(toBackendError(reason));
        return;
      }
      onValue(value);
    });
  } catch (reason: unknown) {
    throw toBackendError(reason);
  }
  let done = false;
  return () => {
    if (done) {
      return;
    }
    done = true;
    // Tauri's unlisten returns a promise despite its `() => void` type; a window that is going
    // away may also make it throw. Either way there is nothing left to unsubscribe from.
    Promise.resolve()
      .then(unlisten)
      .catch(() => undefined);
  };
}

/** Subscribes to `connection-changed`; see `subscribe` for how it resolves and reports. */
export async function onConnectionChanged(
  onStatus: (status: ConnectionStatus) => void,
  onError: (error: BackendError) => void,
): Promise<() => void> {
  return subscribe(CONNECTION_CHANGED_EVENT, parseConnectionStatus, onStatus, onError);
}

/**
 * Subscribes to `session-changed`: null when the person was signed out (by the server),
 * otherwise their new status (after a refresh, or when the network went and they carry on
 * offline). See `subscribe` for how it resolves and reports.
 */
export async function onSessionChanged(
  onSession: (session: SessionStatus | null) => void,
  onError: (error: BackendError) => void,
): Promise<() => void> {
  return subscribe(SESSION_CHANGED_EVENT, parseOptionalSession, onSession, onError);
}
