/**
 * How the Stock screen words a product's stock. Quantities arrive as thousandths of the
 * product's unit (`quantity_milli` in the core).
 */
import type { StockOnHand, Unit } from '../bindings';

/** 41000 → "41" (each); 1500 → "1.5 kg", 12345 → "12.345 kg". Negative stays negative. */
export function formatQuantity(milli: number, unit: Unit): string {
  const sign = milli < 0 ? '-' : '';
  const abs = Math.abs(milli);
  if (unit === 'each') return `${sign}${String(Math.round(abs / 1000))}`;
  const whole = Math.floor(abs / 1000);
  const fraction = String(abs % 1000)
    .padStart(3, '0')
    .replace(/0+$/, '');
  return `${sign}${String(whole)}${fraction === '' ? '' : `.${fraction}`} kg`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** "10:02" today, "27 Nov 10:02" another day (local time). */
export function formatAsOf(at: Date, now: Date): string {
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  if (at.toDateString() === now.toDateString()) return time;
  const month = at.toLocaleString('en-GB', { month: 'short' });
  return `${String(at.getDate())} ${month} ${time}`;
}

/** "just now", "5 min ago", "2 h ago", "3 days ago". */
export function formatAge(at: Date, now: Date): string {
  const minutes = Math.floor((now.getTime() - at.getTime()) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${String(minutes)} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${String(hours)} h ago`;
  const days = Math.floor(hours / 24);
  return days === 1 ? '1 day ago' : `${String(days)} days ago`;
}

/** "3 sold here", "2 returned here", "nothing sold here" — the till's net unsent movement. */
function movedHere(changeMilli: number, unit: Unit): string {
  if (changeMilli === 0) return 'nothing sold here';
  const amount = formatQuantity(Math.abs(changeMilli), unit);
  return changeMilli < 0 ? `${amount} sold here` : `${amount} returned here`;
}

export interface StockText {
  /** The figure to show large, or null when there is none. */
  estimate: string | null;
  /** Where it comes from and how old it is. */
  detail: string;
}

/**
 * "On hand (estimate): 41" with "server figure 44 as of 10:02 (2 h ago), 3 sold here since,
 * not yet sent"; without a server figure, "No stock figure from the server yet; 3 sold here
 * since the last sync".
 */
export function describeStock(stock: StockOnHand, unit: Unit, now: Date): StockText {
  const moved = movedHere(stock.unsyncedChangeMilli, unit);
  if (stock.syncedQuantityMilli === null || stock.syncedAt === null || stock.estimateMilli === null) {
    return { estimate: null, detail: `No stock figure from the server yet; ${moved} since the last sync` };
  }
  const at = new Date(stock.syncedAt);
  const when = Number.isNaN(at.getTime()) ? stock.syncedAt : `${formatAsOf(at, now)} (${formatAge(at, now)})`;
  const since = stock.unsyncedChangeMilli === 0 ? `${moved} since` : `${moved} since, not yet sent`;
  return {
    estimate: formatQuantity(stock.estimateMilli, unit),
    detail: `server figure ${formatQuantity(stock.syncedQuantityMilli, unit)} as of ${when}, ${since}`,
  };
}
