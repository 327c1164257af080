import { createKokyakuClient } from '@kokyaku/client';
import { KokyakuProvider } from '@kokyaku/client/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { readToken } from './auth.js';
import { readConfig } from './config.js';
import './styles.css';

const config = readConfig();
const client = createKokyakuClient({
  url: config.graphql,
  // The host's session cookie travels by itself (same origin); a staff token is sent when one was given.
  headers: (): Record<string, string> => {
    const token = readToken();
    return token ? { authorization: `Bearer ${token}` } : {};
  },
});
const queries = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      refetchOnWindowFocus: false,
      // Refusals are answers, not outages: only a network failure or an outage is tried again.
      retry: (count, error) =>
        count < 2 && !['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'SEGMENT_QUERY_INVALID', 'NOT_FOUND'].includes((error as { code?: string }).code ?? ''),
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <KokyakuProvider client={client}>
        <App config={config} />
      </KokyakuProvider>
    </QueryClientProvider>
  </StrictMode>,
);
