import type { CartView, DiscountInput } from '../bindings';
import { CommitInput } from './CommitInput';
import { discountText, parseDiscountText } from './discountText';
import { Kbd } from './Kbd';
import { formatMoney } from './money';

interface TotalsPanelProps {
  cart: CartView;
  canDiscount: boolean;
  onCartDiscount: (discount: DiscountInput | null, how: 'enter' | 'blur') => void;
  onDone: () => void;
  onPay: () => void;
  disabled: boolean;
}

/** Subtotal, discounts, VAT per band and the total to pay, with the Pay button under it. */
export function TotalsPanel({ cart, canDiscount, onCartDiscount, onDone, onPay, disabled }: TotalsPanelProps) {
  const money = (minor: number) => formatMoney(minor, cart.minorUnits, cart.currency);
  const empty = cart.lines.length === 0;
  return (
    <section className="panel totals" aria-label="Totals">
      <dl className="totals__list">
        <div className="totals__row">
          <dt>Items</dt>
          <dd data-testid="item-count">{cart.itemCount}</dd>
        </div>
        <div className="totals__row">
          <dt>Subtotal</dt>
          <dd>{money(cart.subtotalMinor)}</dd>
        </div>
        {cart.discountMinor !== 0 && (
          <div className="totals__row totals__row--discount">
            <dt>Discounts</dt>
            <dd data-testid="cart-discounts">{money(-cart.discountMinor)}</dd>
          </div>
        )}
        {cart.vat.map((band) => (
          <div className="totals__row totals__row--vat" key={band.label}>
            <dt>VAT {band.label}</dt>
            <dd>{money(band.vatMinor)}</dd>
          </div>
        ))}
      </dl>
      {canDiscount && (
        <label className="totals__discount">
          <span>Cart discount</span>
          <CommitInput
            key={discountText(cart.cartDiscount)}
            value={discountText(cart.cartDiscount)}
            aria-label="Cart discount"
            placeholder="10% or 5.00"
            disabled={empty}
            isValid={(t) => parseDiscountText(t) !== null}
            onCommit={(t, how) => {
              onCartDiscount(parseDiscountText(t)?.discount ?? null, how);
            }}
            onFinish={onDone}
          />
        </label>
      )}
      <div className="totals__grand">
        <span className="totals__grand-label">Total</span>
        <span className="totals__grand-value" data-testid="cart-total">
          {money(cart.totalMinor)}
        </span>
      </div>
      <button
        type="button"
        className="button button--primary button--pay"
        data-testid="pay"
        aria-keyshortcuts="F12"
        disabled={empty || disabled}
        onClick={onPay}
      >
        Pay <Kbd>F12</Kbd>
      </button>
    </section>
  );
}
