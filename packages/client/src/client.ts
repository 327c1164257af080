/** A GraphQL error as the server returns it; `extensions.code` is stable (e.g. UNAUTHENTICATED). */
export interface KokyakuGraphQLError {
  message: string;
  path?: (string | number)[];
  locations?: { line: number; column: number }[];
  extensions?: { code?: string; [key: string]: unknown };
}

/** Thrown when the request fails or the response carries errors. */
export class KokyakuClientError extends Error {
  override name = 'KokyakuClientError';
  constructor(
    message: string,
    readonly status: number,
    readonly errors: KokyakuGraphQLError[],
    /** Data of the fields that did resolve, when the server sent some. */
    readonly data?: unknown,
  ) {
    super(message);
  }

  /** `extensions.code` of the first error, e.g. UNAUTHENTICATED, BAD_USER_INPUT. */
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
}

/** A document typed with its result and variables (what codegen emits), or plain text. */
export type Document<TResult, TVariables> = string | { toString(): string; readonly __apiType?: (v: TVariables) => TResult };

type HeadersInput = Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);

export interface KokyakuClientOptions {
  /** The GraphQL endpoint, e.g. https://shop.example/crm/graphql. */
  url: string;
  /** Headers for every request (e.g. Authorization), or a function that returns them. */
  headers?: HeadersInput;
  /** A fetch implementation; the global one by default (Node 18+, browsers). */
  fetch?: typeof fetch;
}

export interface KokyakuClient {
  request<TResult, TVariables>(document: Document<TResult, TVariables>, variables?: TVariables, headers?: Record<string, string>): Promise<TResult>;
}

/**
 * A small typed GraphQL client over fetch: works in Node and browsers.
 *
 * @example
 * import { createKokyakuClient, Customer360Document } from '@kokyaku/client';
 * const client = createKokyakuClient({ url: 'http://localhost:3000/crm/graphql', headers: { authorization: 'Bearer ...' } });
 * const { customer } = await client.request(Customer360Document, { externalId: 'C-1' });
 */
export function createKokyakuClient(options: KokyakuClientOptions): KokyakuClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  if (!doFetch) throw new Error('No fetch available: pass `fetch` to createKokyakuClient.');
  return {
    async request(document, variables, headers) {
      const base = typeof options.headers === 'function' ? await options.headers() : (options.headers ?? {});
      const response = await doFetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...base, ...headers },
        body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
      });
      let body: { data?: unknown; errors?: KokyakuGraphQLError[] };
      try {
        body = (await response.json()) as typeof body;
      } catch {
        throw new KokyakuClientError(`The server answered ${response.status} without a GraphQL response.`, response.status, []);
      }
      if (body.errors?.length) {
        throw new KokyakuClientError(body.errors.map((e) => e.message).join('; '), response.status, body.errors, body.data);
      }
      if (!response.ok || body.data === undefined) {
        throw new KokyakuClientError(`The server answered ${response.status}.`, response.status, []);
      }
      return body.data as never;
    },
  };
}
