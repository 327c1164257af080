import { useKokyakuClient } from './context.js';

/** The fetcher the generated hooks call: sends the operation through the client of the provider. */
export function useKokyakuFetcher<TData, TVariables>(document: { toString(): string }, headers?: RequestInit['headers']) {
  const client = useKokyakuClient();
  return (variables?: TVariables): Promise<TData> => client.request<TData, TVariables>(document.toString(), variables, headers as Record<string, string> | undefined);
}
