import type { QueryClient } from '@tanstack/react-query';
import type { Document, KokyakuClient } from '../client.js';

/** A generated query hook: it knows its document and its cache key. */
export interface KokyakuQueryHook<TData, TVariables> {
  document: Document<TData, TVariables>;
  getKey(variables?: TVariables): unknown[];
}

/**
 * Fetches a generated hook's query on the server, into the cache the hook reads, for server-side
 * rendering: prefetch, `dehydrate(queryClient)` into the page, and `<HydrationBoundary>` on the
 * client renders the data at once, with no loading state and no second request.
 *
 * @example
 * const queryClient = new QueryClient();
 * await prefetchKokyakuQuery(queryClient, client, useRecommendationsQuery, { productExternalId: 'SKU-1' });
 * const html = renderToString(<QueryClientProvider client={queryClient}><KokyakuProvider client={client}><Page /></KokyakuProvider></QueryClientProvider>);
 * const state = dehydrate(queryClient); // send with the page, hydrate with <HydrationBoundary state={state}>
 */
export function prefetchKokyakuQuery<TData, TVariables>(
  queryClient: QueryClient,
  client: KokyakuClient,
  hook: KokyakuQueryHook<TData, TVariables>,
  variables?: TVariables,
): Promise<void> {
  return queryClient.prefetchQuery({ queryKey: hook.getKey(variables), queryFn: () => client.request(hook.document, variables) });
}
