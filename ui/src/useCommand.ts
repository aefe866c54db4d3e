import { useCallback, useEffect, useState } from 'react';
import { type BackendError, toBackendError } from './backend';

export type CommandState<T> =
  | { status: 'loading' }
  | { status: 'ok'; data: T }
  | { status: 'error'; error: BackendError };

/**
 * Runs a backend read when the component mounts and tracks its result.
 * `load` must be a stable function (a module-level backend function is).
 * `retry` runs it again.
 */
export function useCommand<T>(load: () => Promise<T>): [CommandState<T>, () => void] {
  const [state, setState] = useState<CommandState<T>>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let active = true;
    load().then(
      (data) => {
        if (active) setState({ status: 'ok', data });
      },
      (reason: unknown) => {
        if (active) setState({ status: 'error', error: toBackendError(reason) });
      },
    );
    return () => {
      active = false;
    };
  }, [load, attempt]);

  const retry = useCallback(() => {
    setState({ status: 'loading' });
    setAttempt((n) => n + 1);
  }, []);

  return [state, retry];
}
