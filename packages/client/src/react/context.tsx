import { createContext, type ReactNode, useContext } from 'react';
import type { KokyakuClient } from '../client.js';

const KokyakuClientContext = createContext<KokyakuClient | null>(null);

/**
 * Makes a Kokyaku client available to the generated hooks. Put it inside your TanStack
 * `QueryClientProvider`.
 */
export function KokyakuProvider({ client, children }: { client: KokyakuClient; children?: ReactNode }) {
  return <KokyakuClientContext.Provider value={client}>{children}</KokyakuClientContext.Provider>;
}

export function useKokyakuClient(): KokyakuClient {
  const client = useContext(KokyakuClientContext);
  if (!client) throw new Error('No Kokyaku client: wrap your app in <KokyakuProvider client={createKokyakuClient({ url })}>.');
  return client;
}
