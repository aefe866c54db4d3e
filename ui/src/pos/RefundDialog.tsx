import { type SubmitEvent, useState } from 'react';
import { type BackendError, commands, toBackendError } from '../backend';
import type { SaleDetail, SaleDone, SaleListItem, TenderMethod } from '../bindings';
import { ErrorBox } from '../components/ErrorBox';
import { useCommand } from '../useCommand';
import { Dialog } from './Dialog';
import { formatMoney } from './money';
import { METHOD_LABELS, TENDER_METHODS } from './TenderDialog';

/** How many of the till's latest sales the list offers. */
export const RECENT_SALES_LIMIT = 30;

const loadRecentSales = () => commands.recentSales(RECENT_SALES_LIMIT);

function localTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function SaleList({ onPick }: { onPick: (sale: SaleListItem) => void }) {
  const [sales, retry] = useCommand(loadRecentSales);
  if (sales.status === 'loading') return <p className="muted">Reading the latest sales…</p>;
  if (sales.status === 'error') return <ErrorBox title="Could not read the latest sales" error={sales.error} onRetry={retry} />;
  if (sales.data.length === 0) return <p className="empty-state">No sales on this till yet.</p>;
  return (
    <ul className="pick-list" aria-label="Latest sales">
      {sales.data.map((sale, i) => (
        <li key={sale.saleId}>
          <button
            type="button"
            className="pick-list__item"
            data-testid="refund-sale"
            disabled={!sale.refundable}
            autoFocus={i === 0}
            onClick={() => {
              onPick(sale);
            }}
          >
            <span className="pick-list__main">
              {sale.receiptNo}
              {sale.kind === 'refund' && <span className="tag">refund</span>}
            </span>
            <span className="muted">
              {localTime(sale.createdAt)} · {sale.cashierName}
            </span>
            <span className="pick-list__amount">{formatMoney(sale.totalMinor, sale.minorUnits, sale.currency)}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

const isRefundQuantity = (text: string, max: string) => {
  const t = text.trim();
  return t === '' || (/^\d+(\.\d{1,3})?$/.test(t) && Number(t) <= Number(max));
};

interface RefundFormProps {
  detail: SaleDetail;
  canRefund: boolean;
  onDone: (done: SaleDone) => void;
  onBack: () => void;
}

function RefundForm({ detail, canRefund, onDone, onBack }: RefundFormProps) {
  const [quantities, setQuantities] = useState<Record<number, string>>(() =>
    Object.fromEntries(detail.lines.map((l) => [l.lineNo, l.refundableQuantity])),
  );
  const [restock, setRestock] = useState<Record<number, boolean>>(() =>
    Object.fromEntries(detail.lines.map((l) => [l.lineNo, true])),
  );
  const [reason, setReason] = useState('');
  const [tender, setTender] = useState<TenderMethod>('cash');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<BackendError | null>(null);

  const lines = detail.lines
    .map((l) => ({ lineNo: l.lineNo, quantity: (quantities[l.lineNo] ?? '').trim(), restock: restock[l.lineNo] ?? true }))
    .filter((l) => l.quantity !== '' && Number(l.quantity) > 0);
  const allValid = detail.lines.every((l) => isRefundQuantity(quantities[l.lineNo] ?? '', l.refundableQuantity));
  const approverReady = canRefund || (username.trim() !== '' && password !== '');
  const ready = lines.length > 0 && allValid && reason.trim() !== '' && approverReady && !submitting;

  async function submit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!ready) return;
    setSubmitting(true);
    setError(null);
    try {
      onDone(
        await commands.refund(
          detail.sale.saleId,
          lines,
          reason.trim(),
          canRefund ? null : { username: username.trim(), password },
          tender,
        ),
      );
    } catch (reason: unknown) {
      setError(toBackendError(reason));
      setSubmitting(false);
      // The password is never kept longer than one attempt.
      setPassword('');
    }
  }

  const { sale } = detail;
  return (
    <form className="refund" onSubmit={(e) => void submit(e)}>
      <p className="refund__sale">
        <button type="button" className="button button--ghost" onClick={onBack}>
          ← All sales
        </button>
        <span>
          Sale <strong>{sale.receiptNo}</strong> · {localTime(sale.createdAt)} ·{' '}
          {formatMoney(sale.totalMinor, sale.minorUnits, sale.currency)}
        </span>
      </p>
      <table className="cart refund__lines" aria-label="Lines to refund">
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col" className="num">
              Sold
            </th>
            <th scope="col" className="num">
              Refund qty
            </th>
            <th scope="col">Back to stock</th>
          </tr>
        </thead>
        <tbody>
          {detail.lines.map((l) => {
            const text = quantities[l.lineNo] ?? '';
            const none = Number(l.refundableQuantity) === 0;
            return (
              <tr key={l.lineNo} data-testid="refund-line">
                <td>
                  {l.name}
                  <span className="cart__sku">{formatMoney(l.totalMinor, sale.minorUnits, sale.currency)}</span>
                </td>
                <td className="num">
                  {l.quantity}
                  {l.unit === 'kg' ? ' kg' : ''}
                </td>
                <td className="num">
                  <input
                    className="input input--cell"
                    aria-label={`Refund quantity of ${l.name}`}
                    inputMode="decimal"
                    disabled={none}
                    aria-invalid={!isRefundQuantity(text, l.refundableQuantity)}
                    value={text}
                    onChange={(e) => {
                      setQuantities({ ...quantities, [l.lineNo]: e.target.value });
                    }}
                  />
                  <span className="cart__note">of {l.refundableQuantity}</span>
                </td>
                <td>
                  <label className="check">
                    <input
                      type="checkbox"
                      checked={restock[l.lineNo] ?? true}
                      disabled={none}
                      onChange={(e) => {
                        setRestock({ ...restock, [l.lineNo]: e.target.checked });
                      }}
                    />
                    <span>{restock[l.lineNo] === false ? 'Damaged' : 'Restock'}</span>
                  </label>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="tender__row">
        <label className="field refund__reason">
          <span className="field__label">Reason (required)</span>
          <input
            className="input"
            required
            autoFocus
            value={reason}
            onChange={(e) => {
              setReason(e.target.value);
            }}
          />
        </label>
        <label className="field">
          <span className="field__label">Give back as</span>
          <select
            className="input"
            value={tender}
            onChange={(e) => {
              setTender(TENDER_METHODS.find((m) => m === e.target.value) ?? 'cash');
            }}
          >
            {TENDER_METHODS.map((m) => (
              <option key={m} value={m}>
                {METHOD_LABELS[m]}
              </option>
            ))}
          </select>
        </label>
      </div>
      {!canRefund && (
        <fieldset className="approver">
          <legend>A manager must approve this refund</legend>
          <div className="tender__row">
            <label className="field">
              <span className="field__label">Manager username</span>
              <input
                className="input"
                autoComplete="off"
                value={username}
                onChange={(e) => {
                  setUsername(e.target.value);
                }}
              />
            </label>
            <label className="field">
              <span className="field__label">Manager password</span>
              <input
                className="input"
                type="password"
                autoComplete="off"
                value={password}
                onChange={(e) => {
                  setPassword(e.target.value);
                }}
              />
            </label>
          </div>
        </fieldset>
      )}
      {error && <ErrorBox title="The refund was not made" error={error} />}
      <div className="dialog__actions">
        <button type="submit" className="button button--primary" disabled={!ready} data-testid="refund-submit">
          {submitting ? 'Refunding…' : 'Refund'}
        </button>
      </div>
    </form>
  );
}

interface RefundDialogProps {
  canRefund: boolean;
  onDone: (done: SaleDone) => void;
  onClose: () => void;
}

/** Refunds: pick one of the latest sales, choose lines and quantities, give a reason. */
export function RefundDialog({ canRefund, onDone, onClose }: RefundDialogProps) {
  const [detail, setDetail] = useState<SaleDetail | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<BackendError | null>(null);

  async function pick(sale: SaleListItem) {
    setLoading(true);
    setError(null);
    try {
      setDetail(await commands.saleDetail(sale.saleId));
    } catch (reason: unknown) {
      setError(toBackendError(reason));
    } finally {
      setLoading(false);
    }
  }

  return (
    <Dialog title="Refund" onClose={onClose} size="wide" testId="refund-dialog">
      {error && <ErrorBox title="Could not open that sale" error={error} />}
      {detail ? (
        <RefundForm
          detail={detail}
          canRefund={canRefund}
          onDone={onDone}
          onBack={() => {
            setDetail(null);
          }}
        />
      ) : loading ? (
        <p className="muted">Opening the sale…</p>
      ) : (
        <SaleList onPick={(sale) => void pick(sale)} />
      )}
    </Dialog>
  );
}
