import { useEffect, useRef, useState } from 'react';
import { type BackendError, type FailureCode, commands, toBackendError } from '../backend';
import type { CurrencyOption, PaymentRequest, SaleDone, TenderMethod, TenderView } from '../bindings';
import { ErrorBox } from '../components/ErrorBox';
import { Dialog } from './Dialog';
import { Kbd } from './Kbd';
import { formatMoney, plainAmount } from './money';

export const METHOD_LABELS: Record<TenderMethod, string> = {
  cash: 'Cash',
  card: 'Card',
  mobile_money: 'Mobile money',
};

/** Every tender method, in the order the screens offer them. */
export const TENDER_METHODS = Object.keys(METHOD_LABELS) as TenderMethod[];

/** Why checkout refused, in the cashier's words; the backend's message follows. */
const CHECKOUT_TITLES: Partial<Record<FailureCode, string>> = {
  offline_limit: 'Over the offline limit: this sale needs the server',
  forbidden: 'You may not complete this sale',
  grant_expired: 'Offline access has expired',
  payment_short: 'The payments do not cover the total',
};

/** A preview answers one exact request; only then may its `complete` enable the button. */
interface Preview {
  key: string;
  view: TenderView | null;
  error: BackendError | null;
}

function usePreview(payments: PaymentRequest[], changeCurrency: string): Preview | null {
  const key = JSON.stringify([payments, changeCurrency]);
  const [preview, setPreview] = useState<Preview | null>(null);
  useEffect(() => {
    let active = true;
    const [sent, currency] = JSON.parse(key) as [PaymentRequest[], string];
    commands.tenderPreview(sent, currency).then(
      (view) => {
        if (active) setPreview({ key, view, error: null });
      },
      (reason: unknown) => {
        if (active) setPreview({ key, view: null, error: toBackendError(reason) });
      },
    );
    return () => {
      active = false;
    };
  }, [key]);
  return preview?.key === key ? preview : null;
}

interface TenderDialogProps {
  currencies: CurrencyOption[];
  onSold: (sale: SaleDone) => void;
  onClose: () => void;
}

/**
 * Takes payment: one or more tenders (split across methods and currencies), a live preview of
 * what is left and the change, and Complete once the payments cover the total. Nothing typed
 * is lost when checkout refuses.
 */
export function TenderDialog({ currencies, onSold, onClose }: TenderDialogProps) {
  const saleCurrency = currencies[0]?.code ?? '';
  const [payments, setPayments] = useState<PaymentRequest[]>([]);
  const [method, setMethod] = useState<TenderMethod>('cash');
  const [currency, setCurrency] = useState(saleCurrency);
  /** Null: the amount follows what is still due in `currency`. */
  const [typedAmount, setTypedAmount] = useState<string | null>(null);
  const [reference, setReference] = useState('');
  const [changeCurrency, setChangeCurrency] = useState(saleCurrency);
  const [submitting, setSubmitting] = useState(false);
  const [checkoutError, setCheckoutError] = useState<BackendError | null>(null);
  const amountRef = useRef<HTMLInputElement>(null);

  // What the payments already added leave due: the amount field's default.
  const base = usePreview(payments, changeCurrency);
  const dueHere = base?.view?.dueIn.find((d) => d.currency === currency) ?? null;
  const amount = typedAmount ?? (dueHere ? plainAmount(dueHere.amountMinor, dueHere.minorUnits) : '');

  const draft: PaymentRequest | null =
    amount.trim() === ''
      ? null
      : { method, currency, amount: amount.trim(), reference: method === 'cash' ? null : reference.trim() || null };
  const all = draft ? [...payments, draft] : payments;
  // With the amount in the field counted: the change, and whether Complete may go ahead.
  const live = usePreview(all, changeCurrency);
  const shown = live?.view ?? base?.view ?? null;
  const canComplete = live?.view?.complete === true && !submitting;
  const canAdd = draft !== null && live?.view !== null && live?.view !== undefined && !submitting;

  function addPayment() {
    if (!draft) return;
    setPayments([...payments, draft]);
    setTypedAmount(null);
    setReference('');
    amountRef.current?.focus();
  }

  async function complete() {
    if (!canComplete) return;
    setSubmitting(true);
    setCheckoutError(null);
    try {
      onSold(await commands.checkout(all, changeCurrency));
    } catch (reason: unknown) {
      setCheckoutError(toBackendError(reason));
      setSubmitting(false);
    }
  }

  const money = (minor: number, units: number, code: string) => formatMoney(minor, units, code);

  return (
    <Dialog title="Payment" onClose={onClose} size="wide" testId="tender-dialog">
      <div className="tender">
        <div className="tender__form">
          <div className="segmented" role="group" aria-label="Payment method">
            {TENDER_METHODS.map((m) => (
              <button
                key={m}
                type="button"
                className="segmented__button"
                aria-pressed={m === method}
                onClick={() => {
                  setMethod(m);
                  amountRef.current?.focus();
                }}
              >
                {METHOD_LABELS[m]}
              </button>
            ))}
          </div>

          <div className="tender__row">
            <label className="field">
              <span className="field__label">Currency</span>
              <select
                className="input"
                data-testid="tender-currency"
                value={currency}
                onChange={(e) => {
                  setCurrency(e.target.value);
                }}
              >
                {currencies.map((c) => (
                  <option key={c.code} value={c.code}>
                    {c.code} — {c.name}
                  </option>
                ))}
              </select>
            </label>
            <label className="field tender__amount">
              <span className="field__label">Amount tendered</span>
              <input
                ref={amountRef}
                className="input input--money"
                data-testid="tender-amount"
                inputMode="decimal"
                autoComplete="off"
                autoFocus
                value={amount}
                onFocus={(e) => {
                  e.target.select();
                }}
                onChange={(e) => {
                  setTypedAmount(e.target.value);
                }}
                onKeyDown={(e) => {
                  if (e.key !== 'Enter') return;
                  e.preventDefault();
                  if (canComplete) void complete();
                  else if (canAdd) addPayment();
                }}
              />
            </label>
          </div>
          {dueHere && (
            <p className="tender__due-in muted" data-testid="due-in">
              Due in {dueHere.currency}: <strong>{money(dueHere.amountMinor, dueHere.minorUnits, dueHere.currency)}</strong>
              {dueHere.rate !== '1' && (
                <>
                  {' '}
                  (1 {saleCurrency} = {dueHere.rate} {dueHere.currency})
                </>
              )}
            </p>
          )}
          {method !== 'cash' && (
            <label className="field">
              <span className="field__label">Reference ({METHOD_LABELS[method]})</span>
              <input
                className="input"
                autoComplete="off"
                value={reference}
                placeholder="Approval code or transaction ID"
                onChange={(e) => {
                  setReference(e.target.value);
                }}
              />
            </label>
          )}
          <button
            type="button"
            className="button button--secondary"
            data-testid="add-payment"
            disabled={!canAdd}
            onClick={addPayment}
          >
            Add payment (split)
          </button>

          {payments.length > 0 && (
            <ul className="tender__payments" aria-label="Payments added">
              {payments.map((p, i) => {
                return (
                  <li key={i} className="tender__payment" data-testid="tender-payment">
                    <span>{METHOD_LABELS[p.method]}</span>
                    <span className="tender__payment-amount">
                      {p.currency} {p.amount}
                    </span>
                    {p.reference ? <span className="muted">{p.reference}</span> : <span />}
                    <button
                      type="button"
                      className="icon-button"
                      aria-label={`Remove payment ${i + 1}`}
                      onClick={() => {
                        setPayments(payments.filter((_, j) => j !== i));
                      }}
                    >
                      ×
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
        </div>

        <div className="tender__summary">
          {shown && (
            <dl className="totals__list">
              <div className="totals__row">
                <dt>Total due</dt>
                <dd data-testid="tender-total">{money(shown.totalMinor, shown.minorUnits, shown.currency)}</dd>
              </div>
              <div className="totals__row">
                <dt>Paid</dt>
                <dd>{money(shown.paidMinor, shown.minorUnits, shown.currency)}</dd>
              </div>
              <div className="totals__row totals__row--strong">
                <dt>Remaining</dt>
                <dd data-testid="tender-remaining">{money(shown.remainingMinor, shown.minorUnits, shown.currency)}</dd>
              </div>
            </dl>
          )}
          <label className="field">
            <span className="field__label">Give change in</span>
            <select
              className="input"
              data-testid="change-currency"
              value={changeCurrency}
              onChange={(e) => {
                setChangeCurrency(e.target.value);
              }}
            >
              {currencies.map((c) => (
                <option key={c.code} value={c.code}>
                  {c.code}
                </option>
              ))}
            </select>
          </label>
          <div className="tender__change">
            <span className="tender__change-label">Change</span>
            <span className="tender__change-value" data-testid="tender-change">
              {live?.view
                ? money(live.view.changeMinor, live.view.changeMinorUnits, live.view.changeCurrency)
                : '—'}
            </span>
          </div>
          {live?.error && <ErrorBox title="That payment cannot be counted" error={live.error} />}
          {checkoutError && (
            <ErrorBox
              title={CHECKOUT_TITLES[checkoutError.code] ?? 'The sale could not be completed'}
              error={checkoutError}
            />
          )}
          <button
            type="button"
            className="button button--primary button--pay"
            data-testid="complete-sale"
            disabled={!canComplete}
            onClick={() => {
              void complete();
            }}
          >
            {submitting ? 'Completing…' : 'Complete sale'} <Kbd>Enter</Kbd>
          </button>
        </div>
      </div>
    </Dialog>
  );
}
