/**
 * The one door from the screens to the Tillpoint backend.
 *
 * The commands, their argument and answer types and the event payloads are generated from the
 * Rust side into `./bindings` (docs/decisions/desktop-contract.md): a renamed field or a new
 * error code breaks the type check, not a screen. This module adds only what a generated file
 * cannot: every failure becomes a `BackendError` with a typed `code`, a clear "no backend"
 * outside the app, and event subscriptions that end cleanly. Screens call `commands.x(...)` and
 * `listen.y(...)` from here, never `invoke` or the generated objects themselves.
 */
import type { Event, UnlistenFn } from '@tauri-apps/api/event';
import { ERROR_CODES, type ErrorCode, commands as generatedCommands, events as generatedEvents } from './bindings';

/**
 * Why a call failed: a code the backend gave (`ErrorCode`), or one of the window's own —
 * `no_backend` outside the Tillpoint app, `unknown` for a rejection that is not a command's
 * error (Tauri refused the call, the webview is going away).
 */
export type FailureCode = ErrorCode | 'no_backend' | 'unknown';

/** The error every command and subscription rejects with. */
export class BackendError extends Error {
  readonly code: FailureCode;

  constructor(code: FailureCode, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isErrorCode(value: unknown): value is ErrorCode {
  return ERROR_CODES.some((code) => code === value);
}

/**
 * Turns whatever a command rejected with into a `BackendError`. A command rejects with its
 * `CommandError` (`{ code, message }`); anything else becomes code "unknown".
 */
export function toBackendError(reason: unknown): BackendError {
  if (reason instanceof BackendError) {
    return reason;
  }
  if (isRecord(reason) && typeof reason.message === 'string') {
    return new BackendError(isErrorCode(reason.code) ? reason.code : 'unknown', reason.message);
  }
  if (reason instanceof Error) {
    return new BackendError('unknown', reason.message);
  }
  return new BackendError('unknown', String(reason));
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

/** `command` as it is, except that it fails with a `BackendError`. */
function guarded<Args extends unknown[], T>(command: (...args: Args) => Promise<T>): (...args: Args) => Promise<T> {
  return async (...args) => {
    if (!isTauriPresent()) throw noBackend();
    try {
      return await command(...args);
    } catch (reason: unknown) {
      throw toBackendError(reason);
    }
  };
}

type Commands = typeof generatedCommands;

/** Every backend command, as generated, failing with a `BackendError`. */
export const commands = Object.fromEntries(
  Object.entries(generatedCommands).map(([name, command]): [string, unknown] => [
    name,
    guarded(command as (...args: unknown[]) => Promise<unknown>),
  ]),
) as Commands;

type GeneratedEvents = typeof generatedEvents;

/** What an event carries, read off its generated `listen`. */
type Payload<K extends keyof GeneratedEvents> =
  Parameters<GeneratedEvents[K]['listen']>[0] extends (event: Event<infer T>) => void ? T : never;

/**
 * Subscribes to an event: resolves once the subscription is in place, with a function that
 * ends it (safe to call more than once, and never throws). Rejects with a `BackendError` when
 * events cannot be received.
 */
export type Subscribe<T> = (onValue: (value: T) => void) => Promise<() => void>;

function subscription<K extends keyof GeneratedEvents>(name: K): Subscribe<Payload<K>> {
  return async (onValue) => {
    if (!isTauriPresent()) throw noBackend();
    const listenTo = generatedEvents[name].listen as (cb: (event: Event<Payload<K>>) => void) => Promise<UnlistenFn>;
    let unlisten: UnlistenFn;
    try {
      unlisten = await listenTo((event) => {
        onValue(event.payload);
      });
    } catch (reason: unknown) {
      throw toBackendError(reason);
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      // Tauri's unlisten returns a promise despite its `() => void` type; a window that is going
      // away may also make it throw. Either way there is nothing left to unsubscribe from.
      Promise.resolve()
        .then(unlisten)
        .catch(() => undefined);
    };
  };
}

/** Every backend event, as a subscription (`listen.syncStatus(onValue)`). */
export const listen = Object.fromEntries(
  (Object.keys(generatedEvents) as (keyof GeneratedEvents)[]).map((name): [string, unknown] => [
    name,
    subscription(name),
  ]),
) as { [K in keyof GeneratedEvents]: Subscribe<Payload<K>> };
