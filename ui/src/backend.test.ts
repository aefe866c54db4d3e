import { describe, expect, it } from 'vitest';
import {
  BackendError,
  appInfo,
  checkServer,
  connectionStatus,
  localProductCount,
  startupError,
  toBackendError,
} from './backend';
import { mockBackend, sampleInfo } from './test/backendMock';

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
