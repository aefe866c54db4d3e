import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { SessionStatus } from '../bindings';
import { SessionBadge } from './SessionBadge';

const online: SessionStatus = {
  userName: 'Tendai',
  role: 'Cashier',
  mode: 'online',
  grantExpiresAt: 2_000_000_000,
  grantRemainingSecs: 72 * 3600,
  grantWarning: null,
};

describe('the session badge', () => {
  it('says Online while the server is there', () => {
    render(<SessionBadge session={online} remainingSecs={72 * 3600} serverReachable />);
    expect(screen.getByTestId('session-mode').textContent).toBe('Online');
    expect(screen.queryByTestId('grant-remaining')).toBeNull();
  });

  it('says Offline, with the offline access left, once the server has gone', () => {
    // The till then sells under the grant, whatever mode the person signed in with.
    render(<SessionBadge session={online} remainingSecs={3 * 3600} serverReachable={false} />);
    expect(screen.getByTestId('session-mode').textContent).toBe('Offline');
    expect(screen.getByTestId('grant-remaining').textContent).toContain('3 h 0 min left');
    expect(screen.getByTestId('session').getAttribute('title')).toContain('cannot be reached');
  });
});
