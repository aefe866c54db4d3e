import { App } from './App';
import { type BackendError, startupError } from './backend';
import { Brand } from './components/Brand';
import { ErrorDetails } from './components/ErrorBox';
import { useCommand } from './useCommand';

/** Shown instead of the shell when the till could not start: nothing else would work. */
function StartupFailure({ error }: { error: BackendError }) {
  return (
    <div className="shell shell--bare">
      <header className="topbar">
        <Brand />
      </header>
      <main className="main main--centred">
        <div className="error-box startup-failure" role="alert" data-testid="startup-failure">
          <div className="error-box__text">
            <h1 className="error-box__title startup-failure__title">Tillpoint could not start</h1>
            <ErrorDetails error={error} />
            <p className="startup-failure__hint">Fix the problem above, then restart Tillpoint.</p>
          </div>
        </div>
      </main>
    </div>
  );
}

/**
 * Asks the backend once whether the till started, before any other command: when it did not,
 * every command fails with the same error, so that error gets one screen of its own.
 */
export function Root() {
  const [startup] = useCommand(startupError);

  if (startup.status === 'loading') {
    return (
      <p className="starting" role="status">
        Starting Tillpoint…
      </p>
    );
  }
  const failure = startup.status === 'error' ? startup.error : startup.data;
  if (failure) {
    return <StartupFailure error={failure} />;
  }
  return <App />;
}
