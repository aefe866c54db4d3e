/**
 * Money as the till shows it. Amounts are integers in minor units; the currency's `minorUnits`
 * says how many of their digits are decimals. Nothing here does arithmetic on money: the
 * backend computes every amount, the window only writes them out.
 */

function digits(minor: number, minorUnits: number): { sign: string; whole: string; fraction: string } {
  const sign = minor < 0 ? '-' : '';
  const text = String(Math.abs(Math.trunc(minor))).padStart(minorUnits + 1, '0');
  const cut = text.length - minorUnits;
  return { sign, whole: text.slice(0, cut), fraction: text.slice(cut) };
}

/** "1,234.50" (no currency). */
export function formatAmount(minor: number, minorUnits: number): string {
  const { sign, whole, fraction } = digits(minor, minorUnits);
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === '' ? `${sign}${grouped}` : `${sign}${grouped}.${fraction}`;
}

/** "ZWG 1,234.50"; a negative amount reads "-USD 0.15". */
export function formatMoney(minor: number, minorUnits: number, currency: string): string {
  const amount = formatAmount(Math.abs(minor), minorUnits);
  return minor < 0 ? `-${currency} ${amount}` : `${currency} ${amount}`;
}

/** "1234.50": an amount as a cashier would type it, to prefill an amount field. */
export function plainAmount(minor: number, minorUnits: number): string {
  const { sign, whole, fraction } = digits(minor, minorUnits);
  return fraction === '' ? `${sign}${whole}` : `${sign}${whole}.${fraction}`;
}
