import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

/**
 * The console is built into dist/app with relative asset paths: the server that mounts it writes
 * a <base href> into index.html, so one build works under any path (/crm/console, /admin/crm, ...).
 */
export default defineConfig(({ command }) => {
  // A build is React's production build whoever runs it: Vite and its React plugin follow
  // NODE_ENV, and a build started from a test runner (NODE_ENV=test) gave React's development
  // build, then served by every mount.
  if (command === 'build') process.env.NODE_ENV = 'production';
  return {
    root: import.meta.dirname,
    base: './',
    plugins: [react()],
    resolve: { conditions: ['@kokyaku/source', ...defaultClientConditions] },
    build: {
      outDir: 'dist/app',
      emptyOutDir: true,
      target: 'es2022',
      // Every asset is a file: the server's Content-Security-Policy allows no data: scripts.
      assetsInlineLimit: 0,
    },
    clearScreen: false,
    logLevel: 'warn',
  };
});
