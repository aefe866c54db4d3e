import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// Tauri serves ui/dist at the root of its custom protocol, so the default base ('/') is right.
// The dev server port must match `build.devUrl` in tauri.conf.json.
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    host: '127.0.0.1',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The Tauri webviews (WebView2, WebKitGTK, WKWebView) are all evergreen enough for ES2022.
    target: 'es2022',
    sourcemap: false,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
  },
});
