import { describe, expect, it } from 'vitest';
import { formatAmount, formatMoney, plainAmount } from './money';

describe('money', () => {
  it('writes minor units with the currency decimals', () => {
    expect(formatMoney(12060, 2, 'ZWG')).toBe('ZWG 120.60');
    expect(formatMoney(5, 2, 'USD')).toBe('USD 0.05');
    expect(formatMoney(0, 2, 'USD')).toBe('USD 0.00');
    expect(formatMoney(1500, 0, 'JPY')).toBe('JPY 1,500');
    expect(formatMoney(1234567, 3, 'BHD')).toBe('BHD 1,234.567');
    expect(formatMoney(-15, 2, 'USD')).toBe('-USD 0.15');
  });

  it('groups thousands for display but not for typing', () => {
    expect(formatAmount(123456789, 2)).toBe('1,234,567.89');
    expect(plainAmount(123456789, 2)).toBe('1234567.89');
    expect(plainAmount(7, 2)).toBe('0.07');
    expect(plainAmount(40, 0)).toBe('40');
  });
});
