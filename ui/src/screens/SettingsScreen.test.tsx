import { fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockBackend, sampleInfo, status } from '../test/backendMock';
import { SettingsScreen } from './SettingsScreen';

function definition(term: string): string | null | undefined {
  const dt = screen.getAllByRole('term').find((el) => el.textContent === term);
  return dt?.nextElementSibling?.textContent;
}

async function serverUrlInput(): Promise<HTMLInputElement> {
  // Wait for the configuration, so the input has been prefilled.
  await screen.findByText(sampleInfo.dataDir);
  return screen.getByLabelText<HTMLInputElement>('Server URL');
}

describe('Settings', () => {
  it('shows the app configuration from app_info', async () => {
    mockBackend();
    render(<SettingsScreen />);
    await screen.findByText(sampleInfo.dataDir);

    expect(definition('Version')).toBe('0.1.0');
    expect(definition('Server URL')).toBe('http://127.0.0.1:8080');
    expect(definition('Data folder')).toBe('/home/till/.local/share/tillpoint');
    expect(definition('Log level')).toBe('info');
    expect(definition('Local store schema version')).toBe('3');
  });

  it('prefills the Server URL input with the configured URL', async () => {
    mockBackend();
    render(<SettingsScreen />);
    expect((await serverUrlInput()).value).toBe('http://127.0.0.1:8080');
  });

  it('shows the reachable result of check_server for the URL typed', async () => {
    const calls = mockBackend({
      check_server: () =>
        status({ state: 'online', serverUrl: 'http://192.0.2.10:8080', serverVersion: '0.1.0', detail: null }),
    });
    render(<SettingsScreen />);
    const input = await serverUrlInput();

    fireEvent.change(input, { target: { value: '  http://192.0.2.10:8080 ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Check connection' }));

    const result = await screen.findByTestId('check-result');
    expect(result.textContent).toBe('Reachable — Tillpoint server 0.1.0');
    expect(result.getAttribute('role')).toBe('status');
    expect(calls.filter((c) => c.cmd === 'check_server')).toEqual([
      { cmd: 'check_server', args: { url: 'http://192.0.2.10:8080' } },
    ]);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('shows an unreachable server with its detail, not as a success', async () => {
    mockBackend({ check_server: () => status({ state: 'offline', detail: 'connection refused' }) });
    render(<SettingsScreen />);
    await serverUrlInput();

    fireEvent.click(screen.getByRole('button', { name: 'Check connection' }));
    expect((await screen.findByTestId('check-result')).textContent).toBe(
      'Not reachable — connection refused',
    );
  });

  it('shows the error message for a rejected invalid URL', async () => {
    mockBackend({
      check_server: (args) => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw {
          code: 'invalid_server_url',
          message: `"${String(args.url)}" is not a valid server URL: it must start with http:// or https://`,
        };
      },
    });
    render(<SettingsScreen />);
    const input = await serverUrlInput();

    fireEvent.change(input, { target: { value: 'ftp://nope' } });
    const form = input.closest('form');
    if (!form) throw new Error('the Server URL input is not in a form');
    fireEvent.submit(form);

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain(
      '"ftp://nope" is not a valid server URL: it must start with http:// or https://',
    );
    expect(within(alert).getByText(/invalid_server_url/)).toBeDefined();
    expect(screen.queryByTestId('check-result')).toBeNull();
    // The form stays usable.
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Check connection' }).disabled).toBe(false);
  });

  it('shows the error when app_info fails, and still offers the check', async () => {
    mockBackend({
      app_info: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: 'config', message: 'config file is unreadable' };
      },
    });
    render(<SettingsScreen />);

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('config file is unreadable');
    expect(screen.getByLabelText<HTMLInputElement>('Server URL').value).toBe('');
  });
});
