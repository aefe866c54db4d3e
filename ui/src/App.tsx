import { type ComponentType, useCallback, useEffect, useRef, useState } from 'react';
import { type BackendError, toBackendError } from './backend';
import { Brand } from './components/Brand';
import { CatalogProgress } from './components/CatalogProgress';
import { ConnectionIndicator } from './components/ConnectionIndicator';
import { ErrorBox } from './components/ErrorBox';
import { PosIcon, ReportsIcon, SettingsIcon, StockIcon } from './components/Icons';
import { LockButton, SessionBadge } from './components/SessionBadge';
import { SyncIndicator } from './components/SyncIndicator';
import { PosScreen } from './screens/PosScreen';
import { ReportsScreen } from './screens/ReportsScreen';
import { SettingsScreen } from './screens/SettingsScreen';
import { StockScreen } from './screens/StockScreen';
import { useSignedIn } from './session';
import { useConnection } from './useConnection';
import { useSyncStatus } from './useSyncStatus';

export type ScreenId = 'pos' | 'stock' | 'reports' | 'settings';

interface NavItem {
  id: ScreenId;
  label: string;
  /** Alt + this digit switches to the screen. */
  key: string;
  Icon: ComponentType<{ className?: string }>;
  Screen: ComponentType;
  /** Uses the whole width of the window (the till's selling screen). */
  wide?: boolean;
}

const NAV: readonly NavItem[] = [
  { id: 'pos', label: 'POS', key: '1', Icon: PosIcon, Screen: PosScreen, wide: true },
  { id: 'stock', label: 'Stock', key: '2', Icon: StockIcon, Screen: StockScreen },
  { id: 'reports', label: 'Reports', key: '3', Icon: ReportsIcon, Screen: ReportsScreen },
  { id: 'settings', label: 'Settings', key: '4', Icon: SettingsIcon, Screen: SettingsScreen },
];

export function App({ initialScreen = 'pos' }: { initialScreen?: ScreenId }) {
  const [active, setActive] = useState<ScreenId>(initialScreen);
  const connection = useConnection();
  const sync = useSyncStatus();
  const signedIn = useSignedIn();
  const lockSession = signedIn?.lock;
  const [locking, setLocking] = useState(false);
  const [lockError, setLockError] = useState<BackendError | null>(null);
  // The button is disabled while locking, but Alt+L could still come in twice.
  const lockingNow = useRef(false);

  const runLock = useCallback(async () => {
    if (!lockSession || lockingNow.current) return;
    lockingNow.current = true;
    setLocking(true);
    setLockError(null);
    try {
      // On success Root shows the sign-in screen instead of this shell.
      await lockSession();
    } catch (reason: unknown) {
      setLockError(toBackendError(reason));
    } finally {
      lockingNow.current = false;
      setLocking(false);
    }
  }, [lockSession]);

  // Keyboard-first: Alt+1…4 switch screens and Alt+L locks, from anywhere.
  useEffect(() => {
    function onKeyDown(event: KeyboardEvent) {
      if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      // `code` so layouts where Alt+key types a character still work.
      if (event.code === 'KeyL' || event.key === 'l' || event.key === 'L') {
        if (lockSession) {
          event.preventDefault();
          void runLock();
        }
        return;
      }
      const item = NAV.find((n) => event.code === `Digit${n.key}` || event.key === n.key);
      if (item) {
        event.preventDefault();
        setActive(item.id);
      }
    }
    window.addEventListener('keydown', onKeyDown);
    return () => {
      window.removeEventListener('keydown', onKeyDown);
    };
  }, [lockSession, runLock]);

  const current = NAV.find((n) => n.id === active) ?? NAV[0];
  const Screen = current?.Screen ?? PosScreen;
  const grantWarning = signedIn?.session.grantWarning ?? null;
  const sessionLiveError = signedIn?.liveError ?? null;
  const sellingError = signedIn?.selling.error ?? null;
  const sellingLiveError = signedIn?.selling.liveError ?? null;
  const hasAlerts =
    connection.statusError !== null ||
    connection.liveError !== null ||
    grantWarning !== null ||
    sessionLiveError !== null ||
    sellingError !== null ||
    sellingLiveError !== null ||
    sync.liveError !== null ||
    lockError !== null;

  return (
    <div className="shell">
      <header className="topbar">
        <Brand />
        <div className="topbar__end">
          <ConnectionIndicator
            status={connection.status}
            problem={connection.statusError ? connection.statusError.message : null}
          />
          <SyncIndicator status={sync.status} problem={sync.statusError ? sync.statusError.message : null} />
          <CatalogProgress />
          {signedIn && (
            <>
              <SessionBadge
                session={signedIn.session}
                selling={signedIn.selling.status}
                remainingSecs={signedIn.remainingSecs}
              />
              <LockButton
                busy={locking}
                onLock={() => {
                  void runLock();
                }}
              />
            </>
          )}
        </div>
      </header>

      <nav className="rail" aria-label="Main">
        <ul className="rail__list">
          {NAV.map((item) => (
            <li key={item.id}>
              <button
                type="button"
                className="rail__item"
                aria-current={item.id === active ? 'page' : undefined}
                aria-keyshortcuts={`Alt+${item.key}`}
                onClick={() => {
                  setActive(item.id);
                }}
              >
                <item.Icon className="rail__icon" />
                <span className="rail__label">{item.label}</span>
                <kbd className="rail__key" aria-hidden="true">
                  Alt {item.key}
                </kbd>
              </button>
            </li>
          ))}
        </ul>
      </nav>

      <main className="main">
        {hasAlerts && (
          <div className="main__alerts">
            {grantWarning !== null && (
              <p className="notice notice--warning" role="status" data-testid="grant-warning">
                {grantWarning}
              </p>
            )}
            {lockError && <ErrorBox title="Could not lock the till" error={lockError} />}
            {sessionLiveError && (
              <ErrorBox title="Live session updates are unavailable" error={sessionLiveError} />
            )}
            {sellingError && <ErrorBox title="Could not read whether this till may sell" error={sellingError} />}
            {sellingLiveError && (
              <ErrorBox title="Live selling-status updates are unavailable" error={sellingLiveError} />
            )}
            {connection.statusError && (
              <ErrorBox title="Could not read the connection state" error={connection.statusError} />
            )}
            {connection.liveError && (
              <ErrorBox title="Live connection updates are unavailable" error={connection.liveError} />
            )}
            {sync.liveError && <ErrorBox title="Live sync updates are unavailable" error={sync.liveError} />}
          </div>
        )}
        <div className={current?.wide ? 'screen screen--wide' : 'screen'} key={active}>
          <Screen />
        </div>
      </main>
    </div>
  );
}
