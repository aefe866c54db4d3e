import { describe, expect, it } from 'vitest';
import { BackendError, commands, listen, toBackendError } from './backend';
import { emitSessionChanged, mockBackend, sampleInfo, session } from './test/backendMock';

describe('toBackendError', () => {
  it('keeps the code and message of a backend error', () => {
    const e = toBackendError({ code: 'invalid_server_url', message: 'bad URL' });
    expect(e).toBeInstanceOf(BackendError);
    expect([e.code, e.message]).toEqual(['invalid_server_url', 'bad URL']);
  });

  it('turns anything else into code "unknown"', () => {
    expect(toBackendError('boom')).toMatchObject({ code: 'unknown', message: 'boom' });
    expect(toBackendError(42)).toMatchObject({ code: 'unknown', message: '42' });
    expect(toBackendError(null)).toMatchObject({ code: 'unknown', message: 'null' });
    expect(toBackendError(new Error('kaput'))).toMatchObject({ code: 'unknown', message: 'kaput' });
    expect(toBackendError({ message: 'no code' })).toMatchObject({ code: 'unknown', message: 'no code' });
    // Only the codes the backend has (ERROR_CODES) are trusted as its own.
    expect(toBackendError({ code: 'ipc_failed', message: 'gone' })).toMatchObject({ code: 'unknown', message: 'gone' });
  });
});

describe('backend commands', () => {
  it('calls the commands by their names and returns their results', async () => {
    const calls = mockBackend({
      connection_status: () => ({ state: 'online', serverUrl: 'http://x:1', checkedAt: null, detail: null, serverVersion: null }),
    });

    expect(await commands.appInfo()).toEqual(sampleInfo);
    expect(await commands.localProductCount()).toBe(12);
    expect((await commands.connectionStatus()).detail).toBeNull();
    expect((await commands.checkServer('http://x:1')).state).toBe('online');
    expect(calls).toEqual([
      { cmd: 'app_info', args: {} },
      { cmd: 'local_product_count', args: {} },
      { cmd: 'connection_status', args: {} },
      { cmd: 'check_server', args: { url: 'http://x:1' } },
    ]);
  });

  it('rejects with a BackendError carrying the command error', async () => {
    mockBackend({
      check_server: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: 'invalid_server_url', message: 'nope' };
      },
    });
    await expect(commands.checkServer('x')).rejects.toMatchObject({ code: 'invalid_server_url', message: 'nope' });
  });

  it('says so when there is no Tauri backend at all', async () => {
    await expect(commands.localProductCount()).rejects.toMatchObject({ code: 'no_backend' });
    await expect(commands.startupError()).rejects.toMatchObject({ code: 'no_backend' });
  });
});

describe('startupError', () => {
  it('resolves with null when the till started', async () => {
    const calls = mockBackend();
    expect(await commands.startupError()).toBeNull();
    expect(calls).toEqual([{ cmd: 'startup_error', args: {} }]);
  });

  it("resolves with the backend's error when the till could not start", async () => {
    mockBackend({ startup_error: () => ({ code: 'config_invalid', message: 'server_url is not a URL' }) });
    expect(await commands.startupError()).toEqual({ code: 'config_invalid', message: 'server_url is not a URL' });
  });

  it('rejects with the error the command itself failed with', async () => {
    mockBackend({
      startup_error: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: 'store_unavailable', message: 'gone' };
      },
    });
    await expect(commands.startupError()).rejects.toMatchObject({ code: 'store_unavailable', message: 'gone' });
  });
});

describe('session commands', () => {
  it('sends username and password by name and returns the status', async () => {
    const offline = session({ mode: 'offline', grantRemainingSecs: 60, grantWarning: 'soon' });
    const calls = mockBackend({ unlock_offline: () => offline });

    expect(await commands.signIn('alice', 'pw 1')).toEqual(session());
    expect(await commands.unlockOffline('bea', 'pw 2')).toEqual(offline);
    expect(await commands.sessionStatus()).toEqual(session());
    // A Rust `()` arrives as null.
    await expect(commands.lock()).resolves.toBeNull();
    expect(calls).toEqual([
      { cmd: 'sign_in', args: { username: 'alice', password: 'pw 1' } },
      { cmd: 'unlock_offline', args: { username: 'bea', password: 'pw 2' } },
      { cmd: 'session_status', args: {} },
      { cmd: 'lock', args: {} },
    ]);
  });

  it('reads null from session_status as nobody signed in', async () => {
    mockBackend({ session_status: () => null });
    expect(await commands.sessionStatus()).toBeNull();
  });

  it('rejects with the sign-in error the backend gave', async () => {
    mockBackend({
      sign_in: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: 'wrong_credentials', message: 'the username or password is incorrect' };
      },
    });
    await expect(commands.signIn('a', 'b')).rejects.toMatchObject({
      code: 'wrong_credentials',
      message: 'the username or password is incorrect',
    });
  });

  it('delivers session-changed payloads until unsubscribed', async () => {
    mockBackend();
    const seen: unknown[] = [];
    const stop = await listen.sessionChanged((value) => seen.push(value));
    await emitSessionChanged(null);
    await emitSessionChanged(session({ mode: 'offline' }));
    stop();
    stop();
    // Unsubscribing goes through the (mocked) IPC too.
    await new Promise((r) => setTimeout(r, 0));
    await emitSessionChanged(null);
    expect(seen).toEqual([null, session({ mode: 'offline' })]);
  });

  it('says so when there is no Tauri backend at all', async () => {
    await expect(commands.sessionStatus()).rejects.toMatchObject({ code: 'no_backend' });
    await expect(commands.signIn('a', 'b')).rejects.toMatchObject({ code: 'no_backend' });
    await expect(listen.sessionChanged(() => undefined)).rejects.toMatchObject({ code: 'no_backend' });
  });
});
