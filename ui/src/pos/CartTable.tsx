import type { CartLineView, CartView, DiscountInput } from '../bindings';
import { CommitInput } from './CommitInput';
import { discountText, parseDiscountText } from './discountText';
import { formatAmount, plainAmount } from './money';

/** Whole numbers for items sold by the piece; up to three decimals for weighed ones. */
export function isQuantity(text: string, unit: CartLineView['unit']): boolean {
  const t = text.trim();
  const ok = unit === 'kg' ? /^\d+(\.\d{1,3})?$/.test(t) : /^\d+$/.test(t);
  return ok && Number(t) > 0;
}

const isPrice = (text: string) => text.trim() === '' || /^\d+(\.\d+)?$/.test(text.trim());
const isDiscount = (text: string) => parseDiscountText(text) !== null;

export interface CartEdits {
  onQuantity: (line: CartLineView, quantity: string, how: 'enter' | 'blur') => void;
  onDiscount: (line: CartLineView, discount: DiscountInput | null, how: 'enter' | 'blur') => void;
  /** Null restores the list price. */
  onPrice: (line: CartLineView, price: string | null, how: 'enter' | 'blur') => void;
  onRemove: (line: CartLineView) => void;
  onSelect: (line: CartLineView) => void;
  /** Enter in a cell without a change: back to the scan field. */
  onDone: () => void;
}

interface CartTableProps extends CartEdits {
  cart: CartView;
  selectedLineId: number | null;
  canDiscount: boolean;
  canOverridePrice: boolean;
}

/** The cart's lines; quantity, price and discount are edited in place. */
export function CartTable({ cart, selectedLineId, canDiscount, canOverridePrice, ...edits }: CartTableProps) {
  if (cart.lines.length === 0) {
    return (
      <p className="empty-state cart-empty" data-testid="cart-empty">
        The cart is empty. Scan a barcode or search for a product to start a sale.
      </p>
    );
  }
  const units = cart.minorUnits;
  return (
    <div className="cart-scroll">
      <table className="cart" aria-label="Cart">
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col" className="num">
              Qty
            </th>
            <th scope="col" className="num">
              Price
            </th>
            <th scope="col" className="num">
              Discount
            </th>
            <th scope="col" className="num">
              Total ({cart.currency})
            </th>
            <th scope="col">Tax</th>
            <th scope="col">
              <span className="visually-hidden">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {cart.lines.map((line) => {
            const discountMinor = line.lineDiscountMinor + line.cartDiscountMinor;
            return (
              <tr
                key={line.lineId}
                data-testid="cart-line"
                aria-selected={line.lineId === selectedLineId}
                className={line.lineId === selectedLineId ? 'cart__line cart__line--selected' : 'cart__line'}
                onClick={() => {
                  edits.onSelect(line);
                }}
              >
                <td className="cart__name">
                  <span className="cart__product">{line.name}</span>
                  <span className="cart__sku">{line.sku}</span>
                </td>
                <td className="num">
                  <span className="cart__qty">
                    <CommitInput
                      key={line.quantity}
                      value={line.quantity}
                      aria-label={`Quantity of ${line.name}`}
                      inputMode={line.unit === 'kg' ? 'decimal' : 'numeric'}
                      className="cart__qty-input"
                      isValid={(t) => isQuantity(t, line.unit)}
                      onCommit={(t, how) => {
                        edits.onQuantity(line, t.trim(), how);
                      }}
                      onFinish={edits.onDone}
                    />
                    {line.unit === 'kg' && <span className="cart__unit">kg</span>}
                  </span>
                </td>
                <td className="num">
                  {canOverridePrice ? (
                    <CommitInput
                      key={line.unitPriceMinor}
                      value={plainAmount(line.unitPriceMinor, units)}
                      aria-label={`Price of ${line.name}`}
                      inputMode="decimal"
                      className="cart__price-input"
                      title="Type a new price; clear the field to go back to the list price"
                      isValid={isPrice}
                      onCommit={(t, how) => {
                        edits.onPrice(line, t.trim() === '' ? null : t.trim(), how);
                      }}
                      onFinish={edits.onDone}
                    />
                  ) : (
                    formatAmount(line.unitPriceMinor, units)
                  )}
                  {line.priceOverridden && (
                    <span className="cart__note" title="Price changed by hand">
                      list {formatAmount(line.listPriceMinor, units)}
                    </span>
                  )}
                </td>
                <td className="num">
                  {canDiscount && (
                    <CommitInput
                      key={discountText(line.lineDiscount)}
                      value={discountText(line.lineDiscount)}
                      aria-label={`Discount on ${line.name}`}
                      placeholder="% or amt"
                      title="10% for a percentage, 1.50 for an amount; clear to remove"
                      className="cart__discount-input"
                      isValid={isDiscount}
                      onCommit={(t, how) => {
                        edits.onDiscount(line, parseDiscountText(t)?.discount ?? null, how);
                      }}
                      onFinish={edits.onDone}
                    />
                  )}
                  {discountMinor > 0 ? (
                    <span className="cart__note cart__note--discount">−{formatAmount(discountMinor, units)}</span>
                  ) : (
                    !canDiscount && <span className="muted">—</span>
                  )}
                </td>
                <td className="num cart__total">{formatAmount(line.totalMinor, units)}</td>
                <td>
                  <span className="tax-label">{line.taxLabel}</span>
                </td>
                <td>
                  <button
                    type="button"
                    className="icon-button"
                    aria-label={`Remove ${line.name}`}
                    title="Remove the line (Ctrl+Delete when selected)"
                    onClick={(e) => {
                      e.stopPropagation();
                      edits.onRemove(line);
                    }}
                  >
                    ×
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
