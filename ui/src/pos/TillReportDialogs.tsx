import { type SubmitEvent, useState } from 'react';
import { type BackendError, commands, toBackendError } from '../backend';
import type { CountInput, CurrencyOption, ReportView, TenderMethod } from '../bindings';
import { ErrorBox } from '../components/ErrorBox';
import { useCommand } from '../useCommand';
import { Dialog } from './Dialog';
import { METHOD_LABELS, TENDER_METHODS } from './TenderDialog';

/** A report document from the backend: shown with the same sandbox as receipts. */
function ReportFrame({ report, title }: { report: ReportView; title: string }) {
  return (
    <>
      {report.printError !== null && (
        <div className="error-box" role="alert" data-testid="report-print-error">
          <div className="error-box__text">
            <p className="error-box__title">The report did not print</p>
            <p className="error-box__message">{report.printError}</p>
          </div>
        </div>
      )}
      <iframe className="report-frame" sandbox="" srcDoc={report.html} title={title} data-testid="till-report" />
    </>
  );
}

/** The X report: the open session so far; the till stays open. */
export function XReportDialog({ onClose }: { onClose: () => void }) {
  const [report, retry] = useCommand(commands.tillReport);
  return (
    <Dialog title="X report" onClose={onClose} size="wide" testId="x-report">
      {report.status === 'loading' && <p className="muted">Reading the session…</p>}
      {report.status === 'error' && <ErrorBox title="Could not read the X report" error={report.error} onRetry={retry} />}
      {report.status === 'ok' && <ReportFrame report={report.data} title="X report" />}
    </Dialog>
  );
}

const countKey = (currency: string, tender: TenderMethod) => `${currency}/${tender}`;

interface CloseTillDialogProps {
  currencies: CurrencyOption[];
  /** The session is closed: once the Z report is dismissed, the till shows its open panel. */
  onClosed: () => void;
  onClose: () => void;
}

/**
 * Closing the till: what is in the drawer (cash, per currency) and what the card terminal and
 * mobile money say, counted blind; then the Z report.
 */
export function CloseTillDialog({ currencies, onClosed, onClose }: CloseTillDialogProps) {
  const [counts, setCounts] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<BackendError | null>(null);
  const [report, setReport] = useState<ReportView | null>(null);

  const cashMissing = currencies.some((c) => (counts[countKey(c.code, 'cash')] ?? '').trim() === '');

  async function submit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy || cashMissing) return;
    const counted: CountInput[] = [];
    for (const c of currencies) {
      for (const tender of TENDER_METHODS) {
        const amount = (counts[countKey(c.code, tender)] ?? '').trim();
        if (amount !== '') counted.push({ currency: c.code, tender, amount });
      }
    }
    setBusy(true);
    setError(null);
    try {
      setReport(await commands.closeTill(counted));
    } catch (reason: unknown) {
      setError(toBackendError(reason));
    } finally {
      setBusy(false);
    }
  }

  if (report) {
    return (
      <Dialog title="Till closed — Z report" onClose={onClosed} size="wide" testId="z-report">
        <ReportFrame report={report} title="Z report" />
        <div className="dialog__actions">
          <button type="button" className="button button--primary" autoFocus onClick={onClosed}>
            Done
          </button>
        </div>
      </Dialog>
    );
  }

  return (
    <Dialog title="Close the till" onClose={onClose} size="wide" testId="close-till">
      <form className="close-till" onSubmit={(e) => void submit(e)} aria-busy={busy}>
        <p className="muted">
          Count the cash in the drawer for each currency, and enter the card and mobile-money totals from the
          terminal. Leave card or mobile money empty when there were none.
        </p>
        <table className="cart count-grid" aria-label="Counted amounts">
          <thead>
            <tr>
              <th scope="col">Currency</th>
              {TENDER_METHODS.map((m) => (
                <th scope="col" key={m} className="num">
                  {METHOD_LABELS[m]}
                  {m === 'cash' ? ' (required)' : ''}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {currencies.map((c, i) => (
              <tr key={c.code}>
                <th scope="row">{c.code}</th>
                {TENDER_METHODS.map((m) => (
                  <td key={m} className="num">
                    <input
                      className="input input--cell input--money"
                      aria-label={`${METHOD_LABELS[m]} counted in ${c.code}`}
                      data-testid={`count-${c.code}-${m}`}
                      inputMode="decimal"
                      autoComplete="off"
                      autoFocus={i === 0 && m === 'cash'}
                      value={counts[countKey(c.code, m)] ?? ''}
                      onChange={(e) => {
                        setCounts({ ...counts, [countKey(c.code, m)]: e.target.value });
                      }}
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {error && <ErrorBox title="The till was not closed" error={error} />}
        <div className="dialog__actions">
          <button type="submit" className="button button--primary" disabled={busy || cashMissing}>
            {busy ? 'Closing…' : 'Close till and print Z report'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
