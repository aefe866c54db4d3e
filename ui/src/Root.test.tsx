import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Root } from './Root';
import { deferred, mockBackend } from './test/backendMock';

const STORE_MESSAGE =
  '/home/till/.local/share/tillpoint/till.db is not a Tillpoint database or is corrupt (file is not a database). ' +
  'Move it aside and restore it from a backup, or start with an empty data folder';

async function failureScreen(): Promise<HTMLElement> {
  const panel = await screen.findByTestId('startup-failure');
  expect(panel.getAttribute('role')).toBe('alert');
  expect(within(panel).getByRole('heading', { level: 1 }).textContent).toBe('Tillpoint could not start');
  expect(panel.textContent).toContain('Fix the problem above, then restart Tillpoint.');
  // The whole window is the failure screen: the brand, but no shell around it.
  expect(screen.getByRole('banner').textContent).toBe('Tillpoint');
  expect(screen.queryByRole('navigation')).toBeNull();
  expect(screen.getAllByRole('alert')).toEqual([panel]);
  return panel;
}

describe('Start-up', () => {
  it('shows Starting Tillpoint… until startup_error answers, then the shell', async () => {
    const answer = deferred<null>();
    const calls = mockBackend({ startup_error: () => answer.promise });
    render(<Root />);

    expect(screen.getByRole('status').textContent).toBe('Starting Tillpoint…');
    expect(screen.queryByRole('navigation')).toBeNull();
    // Nothing else is asked before the answer.
    expect(calls.map((c) => c.cmd)).toEqual(['startup_error']);

    answer.resolve(null);
    expect(await screen.findByRole('navigation', { name: 'Main' })).toBeDefined();
    expect(screen.queryByText('Starting Tillpoint…')).toBeNull();
  });

  it('renders the shell when the till started normally', async () => {
    const calls = mockBackend();
    render(<Root />);

    const nav = within(await screen.findByRole('navigation', { name: 'Main' }));
    expect(nav.getAllByRole('button')).toHaveLength(4);
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Point of sale');
    await screen.findByTestId('pos-scan');
    expect(screen.queryByTestId('startup-failure')).toBeNull();
    expect(calls.filter((c) => c.cmd === 'startup_error')).toEqual([{ cmd: 'startup_error', args: {} }]);
  });

  it('shows the start-up failure screen, and nothing else, when the till could not start', async () => {
    const calls = mockBackend({
      startup_error: () => ({ code: 'store_unavailable', message: STORE_MESSAGE }),
    });
    render(<Root />);

    const panel = await failureScreen();
    expect(within(panel).getByText(STORE_MESSAGE)).toBeDefined();
    expect(within(panel).getByText('Error code: store_unavailable')).toBeDefined();
    // None of the shell's commands ran, so none of their (identical) errors is shown.
    expect(calls.map((c) => c.cmd)).toEqual(['startup_error']);
    expect(screen.queryByText('Could not read the connection state')).toBeNull();
  });

  it('shows the failure screen with the error startup_error itself rejected with', async () => {
    mockBackend({
      startup_error: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: 'data_dir_unusable', message: 'cannot use the data folder /data' };
      },
    });
    render(<Root />);

    const panel = await failureScreen();
    expect(within(panel).getByText('cannot use the data folder /data')).toBeDefined();
    expect(within(panel).getByText('Error code: data_dir_unusable')).toBeDefined();
  });

  it('shows the failure screen outside the app, where there is no backend', async () => {
    render(<Root />);

    const panel = await failureScreen();
    expect(panel.textContent).toContain('this screen only works inside the Tillpoint app');
    expect(within(panel).getByText('Error code: no_backend')).toBeDefined();
  });
});
