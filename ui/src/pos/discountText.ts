import type { DiscountInput } from '../bindings';

/**
 * A discount typed in one field: "10%" is a percentage, "1.50" an amount in the sale currency,
 * "" no discount. Null when the text is neither.
 */
export function parseDiscountText(text: string): { discount: DiscountInput | null } | null {
  const t = text.trim().replace(/\s+/g, '');
  if (t === '') return { discount: null };
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (percent?.[1] !== undefined) return { discount: { kind: 'percent', value: percent[1] } };
  if (/^\d+(\.\d+)?$/.test(t)) return { discount: { kind: 'amount', value: t } };
  return null;
}

/** The field's text for a discount the cart holds. */
export function discountText(discount: DiscountInput | null): string {
  if (!discount) return '';
  return discount.kind === 'percent' ? `${discount.value}%` : discount.value;
}
