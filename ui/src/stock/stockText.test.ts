import { describe, expect, it } from 'vitest';
import type { StockOnHand } from '../bindings';
import { describeStock, formatAge, formatQuantity } from './stockText';

// Local times, so the wording does not depend on the machine's time zone.
const NOW = new Date(2026, 10, 27, 12, 5);
const TEN_O_TWO = new Date(2026, 10, 27, 10, 2).toISOString();

function stock(overrides: Partial<StockOnHand>): StockOnHand {
  return {
    productId: 'p-milk',
    syncedQuantityMilli: 44_000,
    syncedAt: TEN_O_TWO,
    unsyncedChangeMilli: -3_000,
    estimateMilli: 41_000,
    ...overrides,
  };
}

describe('stock wording', () => {
  it('formats thousandths with the unit: whole for each, up to 3 decimals for kg', () => {
    expect(formatQuantity(41_000, 'each')).toBe('41');
    expect(formatQuantity(0, 'each')).toBe('0');
    expect(formatQuantity(-2_000, 'each')).toBe('-2');
    expect(formatQuantity(12_345, 'kg')).toBe('12.345 kg');
    expect(formatQuantity(1_500, 'kg')).toBe('1.5 kg');
    expect(formatQuantity(7, 'kg')).toBe('0.007 kg');
    expect(formatQuantity(3_000, 'kg')).toBe('3 kg');
    expect(formatQuantity(-250, 'kg')).toBe('-0.25 kg');
  });

  it('says how old a figure is', () => {
    expect(formatAge(new Date(NOW.getTime() - 20_000), NOW)).toBe('just now');
    expect(formatAge(new Date(NOW.getTime() - 5 * 60_000), NOW)).toBe('5 min ago');
    expect(formatAge(new Date(TEN_O_TWO), NOW)).toBe('2 h ago');
    expect(formatAge(new Date(NOW.getTime() - 50 * 3_600_000), NOW)).toBe('2 days ago');
  });

  it('gives the estimate, the server figure with its time and age, and what was sold here since', () => {
    expect(describeStock(stock({}), 'each', NOW)).toEqual({
      estimate: '41',
      detail: 'server figure 44 as of 10:02 (2 h ago), 3 sold here since, not yet sent',
    });
  });

  it('names the day of an older figure, and words refunds and no movement', () => {
    const yesterday = new Date(2026, 10, 26, 18, 30).toISOString();
    const text = describeStock(
      stock({ syncedAt: yesterday, syncedQuantityMilli: 10_000, unsyncedChangeMilli: 1_250, estimateMilli: 11_250 }),
      'kg',
      NOW,
    );
    expect(text.estimate).toBe('11.25 kg');
    expect(text.detail).toBe('server figure 10 kg as of 26 Nov 18:30 (17 h ago), 1.25 kg returned here since, not yet sent');
    expect(describeStock(stock({ unsyncedChangeMilli: 0, estimateMilli: 44_000 }), 'each', NOW).detail).toBe(
      'server figure 44 as of 10:02 (2 h ago), nothing sold here since',
    );
  });

  it('says plainly when the server has sent no figure yet', () => {
    const none = stock({ syncedQuantityMilli: null, syncedAt: null, estimateMilli: null });
    expect(describeStock(none, 'each', NOW)).toEqual({
      estimate: null,
      detail: 'No stock figure from the server yet; 3 sold here since the last sync',
    });
  });
});
