import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SellingBlocked, SellingStatus, SessionStatus } from './bindings';
import { Root } from './Root';
import { COUNTDOWN_TICK_MS } from './session';
import {
  type BackendHandlers,
  type CommandCall,
  SEVENTY_ONE_HOURS_58,
  deferred,
  emitCatalogSynced,
  emitConnectionChanged,
  emitSessionChanged,
  emitSyncStatus,
  mockBackend,
  refuseListening,
  session,
  status,
  syncState,
} from './test/backendMock';

const OFFLINE_HINT =
  'The server cannot be reached: unlock with the password you last signed in with on this till.';
const BLOCKED = 'Offline access has expired: selling is blocked until you sign in online.';
const UNREACHABLE =
  'cannot reach the server; if you signed in on this till before, unlock it offline with your password';
const PASSWORD = 'correct horse 7';

/** A handler that rejects the way the backend does. */
function failWith(code: string, message: string): () => never {
  return () => {
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    throw { code, message };
  };
}

/** Root with nobody signed in; the connection is online unless the test says otherwise. */
function signedOut(handlers: BackendHandlers = {}): CommandCall[] {
  const calls = mockBackend({
    session_status: () => null,
    connection_status: () => status({ state: 'online', detail: null }),
    ...handlers,
  });
  render(<Root />);
  return calls;
}

async function signInForm(): Promise<HTMLFormElement> {
  return screen.findByTestId<HTMLFormElement>('sign-in');
}

function usernameInput(): HTMLInputElement {
  return screen.getByLabelText<HTMLInputElement>('Username');
}

function passwordInput(): HTMLInputElement {
  return screen.getByLabelText<HTMLInputElement>('Password');
}

function button(name: string): HTMLButtonElement {
  return screen.getByRole<HTMLButtonElement>('button', { name });
}

function fill(username: string, password: string): void {
  fireEvent.change(usernameInput(), { target: { value: username } });
  fireEvent.change(passwordInput(), { target: { value: password } });
}

/** The one submit button, i.e. what Enter in the form does. */
function submitButton(form: HTMLFormElement): HTMLButtonElement {
  const submits = within(form)
    .getAllByRole<HTMLButtonElement>('button')
    .filter((b) => b.type === 'submit');
  expect(submits).toHaveLength(1);
  const [only] = submits;
  if (!only) throw new Error('no submit button');
  return only;
}

function sent(calls: CommandCall[], cmd: string): CommandCall[] {
  return calls.filter((c) => c.cmd === cmd);
}

async function badge(): Promise<HTMLElement> {
  return screen.findByTestId('session');
}

describe('Sign-in screen', () => {
  it('waits for session_status, then shows the sign-in screen and not the shell', async () => {
    const answer = deferred<SessionStatus | null>();
    const calls = signedOut({ session_status: () => answer.promise });
    await waitFor(() => {
      expect(sent(calls, 'session_status')).toEqual([{ cmd: 'session_status', args: {} }]);
    });
    expect(screen.getByRole('status').textContent).toBe('Starting Tillpoint…');
    expect(screen.queryByTestId('sign-in')).toBeNull();

    answer.resolve(null);
    const form = await signInForm();
    expect(within(form).getByRole('heading', { level: 1 }).textContent).toBe('Sign in');
    expect(screen.getByRole('banner').textContent).toContain('Tillpoint');
    expect(screen.queryByRole('navigation')).toBeNull();
    expect(screen.queryByTestId('session')).toBeNull();
    expect(screen.queryByText('Point of sale')).toBeNull();

    expect(usernameInput().getAttribute('autocomplete')).toBe('username');
    expect(passwordInput().type).toBe('password');
    expect(passwordInput().getAttribute('autocomplete')).toBe('current-password');
    expect(submitButton(form).textContent).toBe('Sign in');
    expect(button('Sign in').className).toContain('button--primary');
    expect(button('Unlock offline').className).toContain('button--secondary');
    expect(screen.queryByText(OFFLINE_HINT)).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('signs in with the typed username and password, then shows the shell with the badge', async () => {
    const calls = signedOut({ sign_in: () => session({ userName: 'Bea Lund', role: 'manager' }) });
    await signInForm();

    fill('  bea ', PASSWORD);
    // The password lives in its input only: not in any attribute or text of the page.
    expect(document.documentElement.outerHTML).not.toContain(PASSWORD);
    fireEvent.click(button('Sign in'));

    const el = await badge();
    expect(sent(calls, 'sign_in')).toEqual([{ cmd: 'sign_in', args: { username: 'bea', password: PASSWORD } }]);
    expect(sent(calls, 'unlock_offline')).toEqual([]);
    expect(within(el).getByText('Bea Lund')).toBeDefined();
    expect(within(el).getByText('manager')).toBeDefined();
    expect(screen.getByTestId('session-mode').textContent).toBe('Online');
    expect(screen.queryByTestId('grant-remaining')).toBeNull();
    expect(screen.getByRole('navigation', { name: 'Main' })).toBeDefined();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Point of sale');
    expect(screen.queryByTestId('sign-in')).toBeNull();
    expect(document.documentElement.outerHTML).not.toContain(PASSWORD);
  });

  it('disables both buttons while a request runs', async () => {
    const answer = deferred<SessionStatus>();
    signedOut({ sign_in: () => answer.promise });
    await signInForm();
    fill('alice', PASSWORD);
    fireEvent.click(button('Sign in'));

    expect(await screen.findByText('Signing in…')).toBeDefined();
    expect(button('Sign in').disabled).toBe(true);
    expect(button('Unlock offline').disabled).toBe(true);

    answer.resolve(session());
    await badge();
  });

  it('on wrong_credentials shows the message, clears the password and keeps the username', async () => {
    const calls = signedOut({ sign_in: failWith('wrong_credentials', 'the username or password is incorrect') });
    await signInForm();
    fill('alice', 'wrong');
    fireEvent.click(button('Sign in'));

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Wrong username or password');
    expect(alert.textContent).toContain('the username or password is incorrect');
    expect(passwordInput().value).toBe('');
    expect(document.activeElement).toBe(passwordInput());
    expect(usernameInput().value).toBe('alice');
    expect(button('Sign in').disabled).toBe(false);
    expect(screen.queryByRole('navigation')).toBeNull();
    expect(sent(calls, 'sign_in')).toHaveLength(1);
  });

  it('gives each sign-in failure a clear title above the backend message', async () => {
    const cases: [string, string, 'Sign in' | 'Unlock offline', string][] = [
      ['rate_limited', 'too many attempts; try again in 60 s', 'Sign in', 'Too many sign-in attempts'],
      ['device_revoked', 'this till has been revoked', 'Sign in', 'This till has been revoked'],
      ['other_organisation', 'another organisation', 'Sign in', 'This till belongs to another organisation'],
      ['keyring_unavailable', 'no Secret Service', 'Sign in', "The computer's keyring is not available"],
      ['grant_invalid', 'bad signature', 'Sign in', 'The offline access on this till is not valid'],
      ['grant_invalid', 'bad signature', 'Unlock offline', 'The offline access on this till is not valid'],
      ['server_error', 'the server answered unexpectedly: 502', 'Sign in', 'Could not sign in'],
      ['not_known_offline', 'bea has not signed in online on this till', 'Unlock offline', 'This person cannot unlock this till offline'],
      ['grant_expired', 'your offline access has expired', 'Unlock offline', 'Offline access has expired'],
      ['clock_locked', 'the clock was set back', 'Unlock offline', "The computer's clock was set back"],
      ['store_unavailable', 'disk full', 'Unlock offline', 'Could not unlock offline'],
    ];
    for (const [code, message, action, title] of cases) {
      const fail = failWith(code, message);
      signedOut({ sign_in: fail, unlock_offline: fail });
      await signInForm();
      fill('alice', PASSWORD);
      fireEvent.click(button(action));

      const alert = await screen.findByRole('alert');
      expect(within(alert).getByText(title), code).toBeDefined();
      expect(within(alert).getByText(message), code).toBeDefined();
      expect(within(alert).getByText(`Error code: ${code}`), code).toBeDefined();
      expect(passwordInput().value, code).toBe('');
      expect(usernameInput().value, code).toBe('alice');
      cleanup();
    }
  });

  it('on server_unreachable says so, and Unlock offline uses the same username and password', async () => {
    const calls = signedOut({
      sign_in: failWith('server_unreachable', UNREACHABLE),
      unlock_offline: () => session({ mode: 'offline', grantRemainingSecs: SEVENTY_ONE_HOURS_58 + 59 }),
    });
    const form = await signInForm();
    fill('alice', PASSWORD);
    fireEvent.click(button('Sign in'));

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The server cannot be reached');
    expect(alert.textContent).toContain(UNREACHABLE);
    // Kept, so it can go straight to the offline unlock; and Enter now does that.
    expect(passwordInput().value).toBe(PASSWORD);
    expect(submitButton(form).textContent).toBe('Unlock offline');

    fireEvent.click(button('Unlock offline'));
    await badge();
    expect(sent(calls, 'sign_in')).toEqual([{ cmd: 'sign_in', args: { username: 'alice', password: PASSWORD } }]);
    expect(sent(calls, 'unlock_offline')).toEqual([
      { cmd: 'unlock_offline', args: { username: 'alice', password: PASSWORD } },
    ]);
    expect(screen.getByTestId('session-mode').textContent).toBe('Offline');
    expect(screen.getByTestId('grant-remaining').textContent).toBe('Offline access: 71 h 58 min left');
  });

  it('makes Unlock offline the primary (Enter) action while the connection is offline', async () => {
    const calls = signedOut({
      connection_status: () => status({ state: 'offline' }),
      unlock_offline: () => session({ mode: 'offline' }),
    });
    const form = await signInForm();
    await screen.findByText(OFFLINE_HINT);
    expect(screen.getByText(OFFLINE_HINT).className).toBe('muted');
    expect(submitButton(form).textContent).toBe('Unlock offline');
    expect(button('Unlock offline').className).toContain('button--primary');
    expect(button('Sign in').className).toContain('button--secondary');
    expect(button('Sign in').type).toBe('button');

    fill('alice', PASSWORD);
    fireEvent.submit(form);
    await badge();
    expect(sent(calls, 'unlock_offline')).toEqual([
      { cmd: 'unlock_offline', args: { username: 'alice', password: PASSWORD } },
    ]);
    expect(sent(calls, 'sign_in')).toEqual([]);
  });

  it('follows the connection: Enter signs in online once the server is back', async () => {
    const calls = signedOut({ connection_status: () => status({ state: 'offline' }) });
    const form = await signInForm();
    await screen.findByText(OFFLINE_HINT);

    await emitConnectionChanged(status({ state: 'online', detail: null }));
    expect(submitButton(form).textContent).toBe('Sign in');
    expect(screen.queryByText(OFFLINE_HINT)).toBeNull();

    fill('alice', PASSWORD);
    fireEvent.submit(form);
    await badge();
    expect(sent(calls, 'sign_in')).toHaveLength(1);
    expect(sent(calls, 'unlock_offline')).toEqual([]);
  });

  it('shows how long to wait on backing_off', async () => {
    signedOut({
      connection_status: () => status({ state: 'offline' }),
      unlock_offline: failWith('backing_off', 'wait 30 s before trying the password again'),
    });
    await signInForm();
    fill('alice', 'guess');
    fireEvent.click(button('Unlock offline'));

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Too many wrong passwords');
    expect(alert.textContent).toContain('wait 30 s before trying the password again');
    expect(passwordInput().value).toBe('');
    expect(usernameInput().value).toBe('alice');
  });

  it('still offers sign-in when session_status fails, and says why', async () => {
    signedOut({ session_status: failWith('store_unavailable', 'the store is locked') });
    await signInForm();
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('Could not read who is signed in');
    expect(alert.textContent).toContain('the store is locked');
  });
});

describe('Session badge and Lock', () => {
  it('shows the signed-in person from session_status', async () => {
    mockBackend({
      session_status: () => session({ userName: 'Carl Dahl', role: 'cashier' }),
      connection_status: () => status({ state: 'online', detail: null }),
    });
    render(<Root />);
    const el = await badge();
    expect(within(el).getByText('Carl Dahl')).toBeDefined();
    expect(within(el).getByText('cashier')).toBeDefined();
    expect(screen.getByTestId('session-mode').textContent).toBe('Online');
    expect(screen.queryByTestId('sign-in')).toBeNull();
  });

  it('shows an offline session with the time its grant has left', async () => {
    mockBackend({ session_status: () => session({ mode: 'offline', grantRemainingSecs: 2 * 3600 + 5 * 60 }) });
    render(<Root />);
    await badge();
    expect(screen.getByTestId('session-mode').textContent).toBe('Offline');
    expect(screen.getByTestId('grant-remaining').textContent).toBe('Offline access: 2 h 5 min left');
  });

  it('Lock calls lock and returns to an empty sign-in screen', async () => {
    const calls = mockBackend();
    render(<Root />);
    await badge();

    const lock = button('Lock');
    expect(lock.getAttribute('aria-keyshortcuts')).toBe('Alt+L');
    fireEvent.click(lock);

    await signInForm();
    expect(sent(calls, 'lock')).toEqual([{ cmd: 'lock', args: {} }]);
    expect(screen.queryByTestId('session')).toBeNull();
    expect(screen.queryByRole('navigation')).toBeNull();
    expect(usernameInput().value).toBe('');
    // Locking was the person's own doing: no "you were signed out".
    expect(screen.queryByTestId('sign-in-notice')).toBeNull();
  });

  it('Alt+L locks too', async () => {
    const calls = mockBackend();
    render(<Root />);
    await badge();
    // The shell's effects (its key handler among them) have run once the till answered.
    await screen.findByTestId('pos-scan');

    fireEvent.keyDown(window, { key: '¬', code: 'KeyL', altKey: true });
    await signInForm();
    expect(sent(calls, 'lock')).toHaveLength(1);
  });

  it('stays signed in and says why when lock fails', async () => {
    mockBackend({ lock: failWith('not_signed_in', 'nobody is signed in on this till') });
    render(<Root />);
    await badge();
    fireEvent.click(button('Lock'));

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not lock the till');
    expect(alert.textContent).toContain('nobody is signed in on this till');
    expect(screen.getByTestId('session')).toBeDefined();
    expect(button('Lock').disabled).toBe(false);
  });

  it('returns to sign-in with a notice when session-changed says the person was signed out', async () => {
    mockBackend();
    render(<Root />);
    await badge();

    await emitSessionChanged(null);
    const form = await signInForm();
    const notice = within(form).getByRole('status');
    expect(notice.textContent).toBe('You were signed out: sign in again.');
    expect(screen.queryByTestId('session')).toBeNull();
    expect(screen.queryByRole('navigation')).toBeNull();
  });

  it('updates the badge when session-changed brings a new status', async () => {
    // The server is there: the badge shows the session's own mode.
    mockBackend({ connection_status: () => status({ state: 'online', detail: null }) });
    render(<Root />);
    await badge();
    expect(screen.getByTestId('session-mode').textContent).toBe('Online');

    await emitSessionChanged(session({ mode: 'offline', grantRemainingSecs: 90 * 60 }));
    expect(screen.getByTestId('session-mode').textContent).toBe('Offline');
    expect(screen.getByTestId('grant-remaining').textContent).toBe('Offline access: 1 h 30 min left');

    await emitSessionChanged(session({ mode: 'online' }));
    expect(screen.getByTestId('session-mode').textContent).toBe('Online');
    expect(screen.queryByTestId('grant-remaining')).toBeNull();
  });

  it('never reopens a locked till on a late session-changed status', async () => {
    mockBackend();
    render(<Root />);
    await badge();
    fireEvent.click(button('Lock'));
    await signInForm();

    await emitSessionChanged(session());
    expect(screen.getByTestId('sign-in')).toBeDefined();
    expect(screen.queryByTestId('session')).toBeNull();
  });

  it('says so when session-changed events cannot be received, and keeps the session', async () => {
    // The server is there: the badge shows the session's own mode.
    mockBackend({ connection_status: () => status({ state: 'online', detail: null }) });
    refuseListening('session-changed');
    render(<Root />);
    await badge();

    const title = await screen.findByText('Live session updates are unavailable');
    const alert = title.closest<HTMLElement>('[role=alert]');
    expect(alert?.textContent).toContain('event.listen not allowed');
    expect(screen.getByTestId('session-mode').textContent).toBe('Online');
    // The selling status, which follows the same event, says so too.
    expect(await screen.findByText('Live selling-status updates are unavailable')).toBeDefined();
  });

  it('shows the grant warning as a warning status', async () => {
    const warning = 'offline access ends in 3 h 0 min; sign in online before then';
    mockBackend({ session_status: () => session({ mode: 'offline', grantRemainingSecs: 3 * 3600, grantWarning: warning }) });
    render(<Root />);
    await badge();

    const el = screen.getByTestId('grant-warning');
    expect(el.textContent).toBe(warning);
    expect(el.getAttribute('role')).toBe('status');
    expect(el.className).toContain('notice--warning');
    expect(screen.getByTestId('session').className).toContain('session--warning');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('shows no grant warning when there is none', async () => {
    mockBackend();
    render(<Root />);
    await badge();
    expect(screen.queryByTestId('grant-warning')).toBeNull();
    expect(screen.getByTestId('session').className).not.toContain('session--warning');
  });
});

describe('Selling as the core says', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** The core's answer: may sell offline with `secs` left, unless `blocked`. */
  function core(secs: number, blocked: SellingBlocked | null = null): SellingStatus {
    return { maySell: blocked === null, mode: 'offline', grantExpiresAt: 1_767_261_600, grantRemainingSecs: secs, blocked };
  }

  const EXPIRED: SellingBlocked = { reason: 'grant_expired', message: 'your offline access has expired' };

  it('blocks the POS screen when an offline session has 0 s left', async () => {
    mockBackend({ session_status: () => session({ mode: 'offline', grantRemainingSecs: 0 }) });
    render(<Root />);
    await badge();

    const alert = await screen.findByRole('alert');
    expect(within(alert).getByText(BLOCKED)).toBeDefined();
    expect(screen.getByTestId('grant-remaining').textContent).toBe('Offline access: expired');
  });

  it('does not block with time left, nor online', async () => {
    for (const status of [
      session({ mode: 'offline', grantRemainingSecs: 60 }),
      session({ mode: 'online', grantRemainingSecs: 0 }),
    ]) {
      mockBackend({
        session_status: () => status,
        connection_status: () => statusOf(status.mode),
      });
      render(<Root />);
      await badge();
      await screen.findByTestId('pos-scan');
      expect(screen.queryByText(BLOCKED), JSON.stringify(status)).toBeNull();
      cleanup();
    }
  });

  it('shows the block the core gives, with its message, though the session and connection look fine', async () => {
    const blocked: SellingBlocked = { reason: 'clock_locked', message: 'the clock was set back; sign in online' };
    mockBackend({
      session_status: () => session({ mode: 'online' }),
      connection_status: () => status({ state: 'online', detail: null }),
      selling_status: () => ({ ...core(3600, blocked), mode: 'online' }),
    });
    render(<Root />);
    const box = await screen.findByTestId('selling-blocked');
    expect(box.textContent).toContain("The computer's clock was set back");
    expect(within(box).getByTestId('selling-blocked-message').textContent).toBe(blocked.message);
    expect(screen.queryByTestId('pos-scan')).toBeNull();
  });

  it('says Offline in the badge when the core does, though the session is online and the server there', async () => {
    // E.g. the access token lapsed: the core sells under the grant.
    mockBackend({
      session_status: () => session({ mode: 'online' }),
      connection_status: () => status({ state: 'online', detail: null }),
      selling_status: () => core(2 * 3600),
    });
    render(<Root />);
    await badge();
    await waitFor(() => {
      expect(screen.getByTestId('session-mode').textContent).toBe('Offline');
    });
    expect(screen.getByTestId('grant-remaining').textContent).toBe('Offline access: 2 h 0 min left');
    await screen.findByTestId('pos-scan');
  });

  it('asks the core again on every change that can alter its answer', async () => {
    let answer = core(3600);
    const calls = mockBackend({
      session_status: () => session({ mode: 'offline' }),
      selling_status: () => answer,
    });
    render(<Root />);
    await screen.findByTestId('pos-scan');
    const asked = () => sent(calls, 'selling_status').length;
    const changes: [string, () => Promise<void>][] = [
      ['session-changed', () => emitSessionChanged(session({ mode: 'offline' }))],
      ['connection-changed', () => emitConnectionChanged(status())],
      ['catalog-synced', () => emitCatalogSynced({ pages: 1, records: 1, products: 1 })],
      ['sync-status', () => emitSyncStatus(syncState())],
    ];
    for (const [event, emit] of changes) {
      const before = asked();
      await emit();
      await waitFor(() => {
        expect(asked(), event).toBe(before + 1);
      });
    }
    answer = core(0, EXPIRED);
    await emitSyncStatus(syncState());
    expect(await screen.findByText(BLOCKED)).toBeDefined();
  });

  it('asks the core again when the time it gave runs out, and blocks only once the core says so', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    let answer = core(125);
    const calls = mockBackend({
      session_status: () => session({ mode: 'offline', grantRemainingSecs: 125 }),
      selling_status: () => answer,
    });
    render(<Root />);
    await badge();
    // The countdown starts in an effect; those have run once the till answered.
    await screen.findByTestId('pos-scan');
    await waitFor(() => {
      expect(sent(calls, 'selling_status')).toHaveLength(1);
    });
    // Its answer is in: the countdown runs (and nothing else).
    await act(async () => {
      await Promise.resolve();
    });
    expect(vi.getTimerCount()).toBe(1);
    expect(screen.getByTestId('grant-remaining').textContent).toBe('Offline access: 2 min left');
    const asked = sent(calls, 'selling_status').length;

    act(() => {
      vi.advanceTimersByTime(6 * COUNTDOWN_TICK_MS);
    });
    expect(screen.getByTestId('grant-remaining').textContent).toBe('Offline access: 1 min left');
    expect(sent(calls, 'selling_status')).toHaveLength(asked);

    // The window's clock says the time is up; the core (whose clock it is) still gives 20 s.
    answer = core(20);
    await act(async () => {
      vi.advanceTimersByTime(125_000);
      await Promise.resolve();
    });
    await waitFor(() => {
      expect(sent(calls, 'selling_status')).toHaveLength(asked + 1);
    });
    await waitFor(() => {
      expect(screen.getByTestId('grant-remaining').textContent).toBe('Offline access: less than a minute left');
    });
    expect(screen.queryByText(BLOCKED)).toBeNull();

    answer = core(0, EXPIRED);
    await act(async () => {
      vi.advanceTimersByTime(20_000);
      await Promise.resolve();
    });
    expect(await screen.findByText(BLOCKED)).toBeDefined();
    expect(sent(calls, 'selling_status')).toHaveLength(asked + 2);
    expect(screen.getByTestId('grant-remaining').textContent).toBe('Offline access: expired');
  });
});

/** A connection status that lets a session in `mode` work that way. */
function statusOf(mode: 'online' | 'offline') {
  return mode === 'online' ? status({ state: 'online', detail: null }) : status();
}
