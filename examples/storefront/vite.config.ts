import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

/**
 * The storefront is served by the example shop (`pnpm start`) under /storefront/, through Vite's
 * middleware; the workspace packages are read from their TypeScript sources.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/storefront/',
  plugins: [react()],
  resolve: { conditions: ['@kokyaku/source', ...defaultClientConditions] },
  appType: 'spa',
  clearScreen: false,
  logLevel: 'warn',
});
