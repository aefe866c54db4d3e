import { useLayoutEffect, useRef, useState } from 'react';
import { type BackendError, commands, toBackendError } from '../backend';
import type { PrintedReceipt } from '../bindings';
import { ErrorBox } from '../components/ErrorBox';
import { Dialog } from './Dialog';
import { Kbd } from './Kbd';
import { formatMoney } from './money';

interface ReceiptDialogProps {
  saleId: string;
  printed: PrintedReceipt;
  /** Back to selling (Enter, Esc or the button). */
  onNewSale: () => void;
}

/**
 * The receipt of a sale or refund as the backend rendered it, in a sandboxed frame (no
 * scripts, no same-origin access), with the change to hand over written large.
 */
export function ReceiptDialog({ saleId, printed: first, onNewSale }: ReceiptDialogProps) {
  const [printed, setPrinted] = useState(first);
  const [printing, setPrinting] = useState(false);
  const [error, setError] = useState<BackendError | null>(null);
  const { receipt } = printed;
  const onNewSaleRef = useRef(onNewSale);
  useLayoutEffect(() => {
    onNewSaleRef.current = onNewSale;
  });

  // Enter anywhere starts the next sale (a focused button handles its own Enter).
  useLayoutEffect(() => {
    function onKeyDown(event: KeyboardEvent) {
      if (event.key !== 'Enter') return;
      const target = event.target;
      if (target instanceof HTMLButtonElement || target instanceof HTMLInputElement) return;
      event.preventDefault();
      onNewSaleRef.current();
    }
    window.addEventListener('keydown', onKeyDown);
    return () => {
      window.removeEventListener('keydown', onKeyDown);
    };
  }, []);
  const refund = receipt.kind === 'refund';

  async function print() {
    setPrinting(true);
    setError(null);
    try {
      setPrinted(await commands.reprintReceipt(saleId));
    } catch (reason: unknown) {
      setError(toBackendError(reason));
    } finally {
      setPrinting(false);
    }
  }

  return (
    <Dialog title={refund ? 'Refund done' : 'Sale complete'} onClose={onNewSale} size="wide" testId="receipt-dialog">
      <div className="receipt-view">
        <iframe className="receipt-view__frame" sandbox="" srcDoc={printed.html} title="Receipt" data-testid="receipt" />
        <div className="receipt-view__side">
          <p className="receipt-view__no muted">Receipt {receipt.receiptNo}</p>
          {refund ? (
            <p className="change-due" data-testid="change-due">
              Refund: {formatMoney(receipt.totalMinor, receipt.minorUnits, receipt.currency)}
            </p>
          ) : receipt.change && receipt.change.minor > 0 ? (
            <p className="change-due" data-testid="change-due">
              Change: {formatMoney(receipt.change.minor, receipt.change.minorUnits, receipt.change.currency)}
            </p>
          ) : (
            <p className="change-due change-due--none" data-testid="change-due">
              No change due
            </p>
          )}
          {printed.printError !== null && (
            <div className="error-box" role="alert">
              <div className="error-box__text">
                <p className="error-box__title">The receipt did not print</p>
                <p className="error-box__message">{printed.printError}</p>
              </div>
            </div>
          )}
          {error && <ErrorBox title="Could not print the receipt" error={error} />}
          <button
            type="button"
            className="button button--secondary"
            disabled={printing}
            onClick={() => {
              void print();
            }}
          >
            {printing ? 'Printing…' : printed.printed ? 'Reprint' : 'Print'}
          </button>
          <button type="button" className="button button--primary button--pay" autoFocus onClick={onNewSale}>
            New sale <Kbd>Enter</Kbd>
          </button>
        </div>
      </div>
    </Dialog>
  );
}
