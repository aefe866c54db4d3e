import { type ComponentType, useEffect, useState } from 'react';
import { Brand } from './components/Brand';
import { ConnectionIndicator } from './components/ConnectionIndicator';
import { ErrorBox } from './components/ErrorBox';
import { PosIcon, ReportsIcon, SettingsIcon, StockIcon } from './components/Icons';
import { PosScreen } from './screens/PosScreen';
import { ReportsScreen } from './screens/ReportsScreen';
import { SettingsScreen } from './screens/SettingsScreen';
import { StockScreen } from './screens/StockScreen';
import { useConnection } from './useConnection';

export type ScreenId = 'pos' | 'stock' | 'reports' | 'settings';

interface NavItem {
  id: ScreenId;
  label: string;
  /** Alt + this digit switches to the screen. */
  key: string;
  Icon: ComponentType<{ className?: string }>;
  Screen: ComponentType;
}

const NAV: readonly NavItem[] = [
  { id: 'pos', label: 'POS', key: '1', Icon: PosIcon, Screen: PosScreen },
  { id: 'stock', label: 'Stock', key: '2', Icon: StockIcon, Screen: StockScreen },
  { id: 'reports', label: 'Reports', key: '3', Icon: ReportsIcon, Screen: ReportsScreen },
  { id: 'settings', label: 'Settings', key: '4', Icon: SettingsIcon, Screen: SettingsScreen },
];

export function App({ initialScreen = 'pos' }: { initialScreen?: ScreenId }) {
  const [active, setActive] = useState<ScreenId>(initialScreen);
  const connection = useConnection();

  // Keyboard-first: Alt+1…4 switch screens from anywhere.
  useEffect(() => {
    function onKeyDown(event: KeyboardEvent) {
      if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      // `code` so layouts where Alt+digit types a character still work.
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
  }, []);

  const current = NAV.find((n) => n.id === active) ?? NAV[0];
  const Screen = current?.Screen ?? PosScreen;

  return (
    <div className="shell">
      <header className="topbar">
        <Brand />
        <ConnectionIndicator
          status={connection.status}
          problem={connection.statusError ? connection.statusError.message : null}
        />
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
        {(connection.statusError ?? connection.liveError) && (
          <div className="main__alerts">
            {connection.statusError && (
              <ErrorBox title="Could not read the connection state" error={connection.statusError} />
            )}
            {connection.liveError && (
              <ErrorBox title="Live connection updates are unavailable" error={connection.liveError} />
            )}
          </div>
        )}
        <div className="screen" key={active}>
          <Screen />
        </div>
      </main>
    </div>
  );
}
