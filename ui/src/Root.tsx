import { App } from './App';
import { type BackendError, commands, toBackendError } from './backend';
import type { SessionStatus } from './bindings';
import { Brand } from './components/Brand';
import { ErrorDetails } from './components/ErrorBox';
import { SignInScreen } from './screens/SignInScreen';
import { SessionContext, useRemainingSecs } from './session';
import { useCommand } from './useCommand';
import { useSellingStatus } from './useSellingStatus';
import { useSession } from './useSession';

function Starting() {
  return (
    <p className="starting" role="status">
      Starting Tillpoint…
    </p>
  );
}

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

/** The shell, with the signed-in person provided to it (the one place that does). */
function SignedInShell({
  session,
  liveError,
  lock,
}: {
  session: SessionStatus;
  liveError: BackendError | null;
  lock: () => Promise<void>;
}) {
  const selling = useSellingStatus();
  const remainingSecs = useRemainingSecs(selling.status, selling.refresh);
  return (
    <SessionContext value={{ session, selling, remainingSecs, liveError, lock }}>
      <App />
    </SessionContext>
  );
}

/** The shell while someone is signed in, the sign-in screen while nobody is. */
function SessionGate() {
  const { state, liveError, signedIn, lock } = useSession();

  switch (state.status) {
    case 'loading':
      return <Starting />;
    case 'signed-out':
      return <SignInScreen notice={state.notice} problem={state.problem} onSignedIn={signedIn} />;
    case 'signed-in':
      return <SignedInShell session={state.session} liveError={liveError} lock={lock} />;
  }
}

/**
 * Asks the backend once whether the till started, before any other command: when it did not,
 * every command fails with the same error, so that error gets one screen of its own. Only
 * then does it ask who is signed in.
 */
export function Root() {
  const [startup] = useCommand(commands.startupError);

  if (startup.status === 'loading') {
    return <Starting />;
  }
  // The answer is the start-up's own CommandError, or null when the till started.
  const failure = startup.status === 'error' ? startup.error : startup.data && toBackendError(startup.data);
  if (failure) {
    return <StartupFailure error={failure} />;
  }
  return <SessionGate />;
}
