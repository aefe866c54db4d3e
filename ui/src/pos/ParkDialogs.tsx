import { type SubmitEvent, useState } from 'react';
import type { ParkedCartInfo } from '../bindings';
import { Dialog } from './Dialog';
import { formatMoney } from './money';

/** Asks for the label a parked cart is found by ("Blue shirt", "Table 4"). */
export function ParkDialog({ onPark, onClose }: { onPark: (label: string) => void; onClose: () => void }) {
  const [label, setLabel] = useState('');
  function submit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    if (label.trim() !== '') onPark(label.trim());
  }
  return (
    <Dialog title="Park this sale" onClose={onClose}>
      <form className="field" onSubmit={submit}>
        <label className="field__label" htmlFor="park-label">
          Label (who or what it is for)
        </label>
        <input
          id="park-label"
          className="input"
          autoFocus
          autoComplete="off"
          value={label}
          onChange={(e) => {
            setLabel(e.target.value);
          }}
        />
        <div className="dialog__actions">
          <button type="submit" className="button button--primary" disabled={label.trim() === ''}>
            Park
          </button>
        </div>
      </form>
    </Dialog>
  );
}

interface ParkedDialogProps {
  parked: ParkedCartInfo[];
  onResume: (cart: ParkedCartInfo) => void;
  onClose: () => void;
}

/** The parked carts, to resume one. */
export function ParkedDialog({ parked, onResume, onClose }: ParkedDialogProps) {
  return (
    <Dialog title={`Parked sales (${parked.length})`} onClose={onClose}>
      {parked.length === 0 ? (
        <p className="empty-state">No parked sales.</p>
      ) : (
        <ul className="pick-list" aria-label="Parked sales">
          {parked.map((p, i) => (
            <li key={p.id}>
              <button
                type="button"
                className="pick-list__item"
                autoFocus={i === 0}
                onClick={() => {
                  onResume(p);
                }}
              >
                <span className="pick-list__main">{p.label}</span>
                <span className="muted">
                  {p.lineCount} {p.lineCount === 1 ? 'line' : 'lines'} · {p.parkedByName}
                </span>
                <span className="pick-list__amount">{formatMoney(p.totalMinor, p.minorUnits, p.currency)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}

/** "Void this sale?" — Enter on the focused Void button confirms, Esc keeps the sale. */
export function ConfirmVoidDialog({ onConfirm, onClose }: { onConfirm: () => void; onClose: () => void }) {
  return (
    <Dialog title="Void this sale?" onClose={onClose}>
      <p>Every line in the cart is removed. This cannot be undone.</p>
      <div className="dialog__actions">
        <button type="button" className="button button--secondary" onClick={onClose}>
          Keep the sale
        </button>
        <button type="button" className="button button--danger" autoFocus onClick={onConfirm}>
          Void sale
        </button>
      </div>
    </Dialog>
  );
}
