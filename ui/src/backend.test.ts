import { describe, expect, it } from 'vitest';
import {
  BackendError,
  appInfo,
  checkServer,
  connectionStatus,
  localProductCount,
  lock,
  onSessionChanged,
  sessionStatus,
  signIn,
  startupError,
  toBackendError,
  unlockOffline,
} from './backend';
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
  });
});

describe('backend commands', () => {
  it('calls the commands by their names and returns their results', async () => {
    const calls = mockBackend({
      connection_status: () => ({ state: 'online', serverUrl: 'http://x:1', checkedAt: null, serverVersion: null }),
    });

    expect(await appInfo()).toEqual(sampleInfo);
    expect(await localProductCount()).toBe(12);
    // A missing nullable field reads as null.
    expect((await connectionStatus()).detail).toBeNull();
    expect((await checkServer('http://x:1')).state).toBe('online');
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
    await expect(checkServer('x')).rejects.toMatchObject({ code: 'invalid_server_url', message: 'nope' });
  });

  it('rejects a result of the wrong shape as bad_response', async () => {
    mockBackend({ local_product_count: () => '12', app_info: () => ({ version: '1' }) });
    await expect(localProductCount()).rejects.toMatchObject({ code: 'bad_response' });
    await expect(appInfo()).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('says so when there is no Tauri backend at all', async () => {
    await expect(localProductCount()).rejects.toMatchObject({ code: 'no_backend' });
    await expect(startupError()).rejects.toMatchObject({ code: 'no_backend' });
  });
});

describe('startupError', () => {
  it('resolves with null when the till started', async () => {
    const calls = mockBackend();
    expect(await startupError()).toBeNull();
    expect(calls).toEqual([{ cmd: 'startup_error', args: {} }]);
  });

  it("resolves with the backend's error when the till could not start", async () => {
    mockBackend({ startup_error: () => ({ code: 'config_invalid', message: 'server_url is not a URL' }) });
    const e = await startupError();
    expect(e).toBeInstanceOf(BackendError);
    expect([e?.code, e?.message]).toEqual(['config_invalid', 'server_url is not a URL']);
  });

  it('rejects an answer of any other shape as bad_response', async () => {
    const answers: unknown[] = [
      42,
      'store_unavailable',
      undefined,
      [],
      {},
      { message: 'no code' },
      { code: 'store_unavailable' },
      { code: 1, message: 'x' },
      { code: 'x', message: null },
    ];
    for (const answer of answers) {
      mockBackend({ startup_error: () => answer });
      await expect(startupError(), JSON.stringify(answer)).rejects.toMatchObject({
        code: 'bad_response',
        message: 'The backend returned an unexpected start-up state.',
      });
    }
  });

  it('rejects with the error the command itself failed with', async () => {
    mockBackend({
      startup_error: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: 'ipc_failed', message: 'gone' };
      },
    });
    await expect(startupError()).rejects.toMatchObject({ code: 'ipc_failed', message: 'gone' });
  });
});

describe('session commands', () => {
  it('sends username and password by name and returns the status', async () => {
    const offline = session({ mode: 'offline', grantRemainingSecs: 60, grantWarning: 'soon' });
    const calls = mockBackend({ unlock_offline: () => offline });

    expect(await signIn('alice', 'pw 1')).toEqual(session());
    expect(await unlockOffline('bea', 'pw 2')).toEqual(offline);
    expect(await sessionStatus()).toEqual(session());
    await expect(lock()).resolves.toBeUndefined();
    expect(calls).toEqual([
      { cmd: 'sign_in', args: { username: 'alice', password: 'pw 1' } },
      { cmd: 'unlock_offline', args: { username: 'bea', password: 'pw 2' } },
      { cmd: 'session_status', args: {} },
      { cmd: 'lock', args: {} },
    ]);
  });

  it('reads null from session_status as nobody signed in, and a missing warning as null', async () => {
    const withoutWarning: Record<string, unknown> = { ...session() };
    delete withoutWarning.grantWarning;
    mockBackend({ session_status: () => null, sign_in: () => withoutWarning });
    expect(await sessionStatus()).toBeNull();
    expect((await signIn('a', 'b')).grantWarning).toBeNull();
  });

  it('rejects a session of the wrong shape as bad_response', async () => {
    const answers: unknown[] = [
      undefined,
      42,
      [],
      {},
      { ...session(), mode: 'sideways' },
      { ...session(), userName: 7 },
      { ...session(), role: null },
      { ...session(), grantExpiresAt: '1767261600' },
      { ...session(), grantRemainingSecs: -1 },
      { ...session(), grantRemainingSecs: Number.NaN },
      { ...session(), grantWarning: 3 },
    ];
    for (const answer of answers) {
      mockBackend({ session_status: () => answer, sign_in: () => answer });
      await expect(sessionStatus(), JSON.stringify(answer)).rejects.toMatchObject({
        code: 'bad_response',
        message: 'The backend returned an unexpected session status.',
      });
      if (answer !== undefined) {
        await expect(signIn('a', 'b'), JSON.stringify(answer)).rejects.toMatchObject({ code: 'bad_response' });
      }
    }
  });

  it('rejects anything but null from lock as bad_response', async () => {
    mockBackend({ lock: () => ({ ok: true }) });
    await expect(lock()).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('rejects with the sign-in error the backend gave', async () => {
    mockBackend({
      sign_in: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw { code: 'wrong_credentials', message: 'the username or password is incorrect' };
      },
    });
    await expect(signIn('a', 'b')).rejects.toMatchObject({
      code: 'wrong_credentials',
      message: 'the username or password is incorrect',
    });
  });

  it('delivers session-changed payloads, and reports malformed ones', async () => {
    mockBackend();
    const seen: unknown[] = [];
    const errors: string[] = [];
    const stop = await onSessionChanged(
      (value) => seen.push(value),
      (error) => errors.push(error.code),
    );
    await emitSessionChanged(null);
    await emitSessionChanged(session({ mode: 'offline' }));
    await emitSessionChanged({ mode: 'offline' });
    stop();
    stop();
    // Unsubscribing goes through the (mocked) IPC too.
    await new Promise((r) => setTimeout(r, 0));
    await emitSessionChanged(null);
    expect(seen).toEqual([null, session({ mode: 'offline' })]);
    expect(errors).toEqual(['bad_response']);
  });

  it('says so when there is no Tauri backend at all', async () => {
    await expect(sessionStatus()).rejects.toMatchObject({ code: 'no_backend' });
    await expect(signIn('a', 'b')).rejects.toMatchObject({ code: 'no_backend' });
    await expect(onSessionChanged(() => undefined, () => undefined)).rejects.toMatchObject({ code: 'no_backend' });
  });
});
