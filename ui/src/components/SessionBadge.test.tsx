import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { SellingStatus, SessionStatus } from '../bindings';
import { SessionBadge } from './SessionBadge';

const online: SessionStatus = {
  userName: 'Tendai',
  role: 'Cashier',
  mode: 'online',
  grantExpiresAt: 2_000_000_000,
  grantRemainingSecs: 72 * 3600,
  grantWarning: null,
};

/** The core's answer: may sell, in `mode`, with `secs` of offline access left. */
function selling(mode: 'online' | 'offline', secs: number): SellingStatus {
  return { maySell: true, mode, grantExpiresAt: 2_000_000_000, grantRemainingSecs: secs, blocked: null };
}

describe('the session badge', () => {
  it('says Online while the core says sales are made online', () => {
    render(<SessionBadge session={online} selling={selling('online', 72 * 3600)} remainingSecs={72 * 3600} />);
    expect(screen.getByTestId('session-mode').textContent).toBe('Online');
    expect(screen.queryByTestId('grant-remaining')).toBeNull();
  });

  it('says Offline, with the offline access left, once the core says sales go under the grant', () => {
    // The person signed in online; the core (server gone, or the token lapsed) says offline.
    render(<SessionBadge session={online} selling={selling('offline', 3 * 3600)} remainingSecs={3 * 3600} />);
    expect(screen.getByTestId('session-mode').textContent).toBe('Offline');
    expect(screen.getByTestId('grant-remaining').textContent).toContain('3 h 0 min left');
    expect(screen.getByTestId('session').getAttribute('title')).toContain('cannot be reached');
  });

  it('shows the core’s mode even where the session says otherwise', () => {
    const offline = { ...online, mode: 'offline' as const };
    render(<SessionBadge session={offline} selling={selling('online', 60)} remainingSecs={60} />);
    expect(screen.getByTestId('session-mode').textContent).toBe('Online');
    expect(screen.queryByTestId('grant-remaining')).toBeNull();
  });

  it('shows the mode signed in with until the core first answered', () => {
    render(<SessionBadge session={online} selling={null} remainingSecs={null} />);
    expect(screen.getByTestId('session-mode').textContent).toBe('Online');
  });
});
