import { type SubmitEvent, useId, useState } from 'react';
import { type BackendError, commands, toBackendError } from '../backend';
import type { AppInfo, ConnectionStatus } from '../bindings';
import { ErrorBox } from '../components/ErrorBox';
import { InfoList } from '../components/InfoList';
import { SyncPanel } from '../components/SyncPanel';
import { useCommand } from '../useCommand';

function AppInfoList({ info }: { info: AppInfo }) {
  return (
    <InfoList
      rows={[
        ['Version', info.version],
        ['Server URL', info.serverUrl],
        ['Data folder', info.dataDir],
        ['Log level', info.logLevel],
        ['Local store schema version', String(info.schemaVersion)],
      ]}
    />
  );
}

/** What a finished check says, in words. */
export function describeCheck(result: ConnectionStatus): string {
  switch (result.state) {
    case 'online':
      return result.serverVersion === null
        ? 'Reachable'
        : `Reachable — Tillpoint server ${result.serverVersion}`;
    case 'offline':
      return result.detail === null ? 'Not reachable' : `Not reachable — ${result.detail}`;
    case 'checking':
      return 'Checking…';
  }
}

type CheckState =
  | { status: 'idle' }
  | { status: 'running' }
  | { status: 'done'; result: ConnectionStatus }
  | { status: 'failed'; error: BackendError };

function CheckServerForm({ initialUrl }: { initialUrl: string }) {
  const inputId = useId();
  const [url, setUrl] = useState(initialUrl);
  const [check, setCheck] = useState<CheckState>({ status: 'idle' });
  const running = check.status === 'running';

  async function runCheck(target: string): Promise<void> {
    setCheck({ status: 'running' });
    try {
      setCheck({ status: 'done', result: await commands.checkServer(target) });
    } catch (reason: unknown) {
      setCheck({ status: 'failed', error: toBackendError(reason) });
    }
  }

  function onSubmit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!running) void runCheck(url.trim());
  }

  return (
    <form className="check-form" onSubmit={onSubmit} aria-busy={running}>
      <label className="field__label" htmlFor={inputId}>
        Server URL
      </label>
      <div className="check-form__row">
        <input
          id={inputId}
          className="input"
          type="text"
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
          value={url}
          onChange={(e) => {
            setUrl(e.target.value);
          }}
        />
        <button type="submit" className="button button--primary" disabled={running}>
          {running ? 'Checking…' : 'Check connection'}
        </button>
      </div>
      {check.status === 'done' && (
        <p
          className={`check-result check-result--${check.result.state}`}
          role="status"
          data-testid="check-result"
        >
          {describeCheck(check.result)}
        </p>
      )}
      {check.status === 'failed' && <ErrorBox title="Could not check that server" error={check.error} />}
    </form>
  );
}

export function SettingsScreen() {
  const [info, retry] = useCommand(commands.appInfo);

  return (
    <>
      <div className="screen__header">
        <h1 className="screen__title">Settings</h1>
      </div>
      <section className="panel" aria-labelledby="app-info-heading" aria-busy={info.status === 'loading'}>
        <h2 id="app-info-heading" className="panel__title">
          App configuration
        </h2>
        {info.status === 'loading' && <p className="muted">Reading the configuration…</p>}
        {info.status === 'error' && (
          <ErrorBox title="Could not read the app configuration" error={info.error} onRetry={retry} />
        )}
        {info.status === 'ok' && <AppInfoList info={info.data} />}
      </section>
      <SyncPanel />
      <section className="panel" aria-labelledby="check-heading">
        <h2 id="check-heading" className="panel__title">
          Check a server
        </h2>
        <p className="muted">Asks a Tillpoint server whether it answers. This does not change the configuration.</p>
        {/* Remounts with the configured URL once the configuration has loaded. */}
        <CheckServerForm
          key={info.status === 'ok' ? 'configured' : 'blank'}
          initialUrl={info.status === 'ok' ? info.data.serverUrl : ''}
        />
      </section>
    </>
  );
}
