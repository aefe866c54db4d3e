import { type SubmitEvent, useState } from 'react';
import { type BackendError, commands, toBackendError } from '../backend';
import type { CurrencyOption, PosState } from '../bindings';
import { ErrorBox } from '../components/ErrorBox';

interface OpenTillPanelProps {
  currencies: CurrencyOption[];
  onOpened: (state: PosState) => void;
}

/**
 * Before the first sale of a session: the cash float counted in each currency. A new till has
 * no currencies until its first catalog pull brings them; until then it says so, and the form
 * fills in when `PosWorkspace` reads the state again after that pull.
 */
export function OpenTillPanel({ currencies, onOpened }: OpenTillPanelProps) {
  const waiting = currencies.length === 0;
  const [amounts, setAmounts] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<BackendError | null>(null);

  async function submit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      onOpened(
        await commands.openTill(
          currencies.map((c) => {
            const amount = (amounts[c.code] ?? '').trim();
            return { currency: c.code, tender: 'cash', amount: amount === '' ? '0' : amount };
          }),
        ),
      );
    } catch (reason: unknown) {
      setError(toBackendError(reason));
      setBusy(false);
    }
  }

  return (
    <section className="panel open-till" aria-labelledby="open-till-heading">
      <h2 id="open-till-heading" className="panel__title">
        Open the till
      </h2>
      {waiting ? (
        <p className="notice notice--info" role="status" data-testid="currencies-coming">
          The shop&apos;s currencies are on their way from the server. The float can be counted as soon as they
          arrive.
        </p>
      ) : (
        <p className="muted">Count the cash float in the drawer, per currency. Leave a field empty for none.</p>
      )}
      <form className="open-till__form" onSubmit={(e) => void submit(e)} aria-busy={busy}>
        {currencies.map((c, i) => (
          <label className="field" key={c.code}>
            <span className="field__label">
              Float in {c.code} <span className="muted">({c.name})</span>
            </span>
            <input
              className="input input--money"
              data-testid={`float-${c.code}`}
              inputMode="decimal"
              autoComplete="off"
              autoFocus={i === 0}
              placeholder={(0).toFixed(c.minorUnits)}
              value={amounts[c.code] ?? ''}
              onChange={(e) => {
                setAmounts({ ...amounts, [c.code]: e.target.value });
              }}
            />
          </label>
        ))}
        {error && <ErrorBox title="The till was not opened" error={error} />}
        <button type="submit" className="button button--primary button--pay" data-testid="open-till" disabled={busy || waiting}>
          {busy ? 'Opening…' : 'Open till'}
        </button>
      </form>
    </section>
  );
}
