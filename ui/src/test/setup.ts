import { cleanup } from '@testing-library/react';
import { clearMocks } from '@tauri-apps/api/mocks';
import { afterEach } from 'vitest';

afterEach(() => {
  // Unmount first (components unsubscribe through the mocked IPC), then drop the mocks.
  cleanup();
  clearMocks();
});
