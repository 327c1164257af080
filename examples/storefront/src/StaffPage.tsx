import { KokyakuClientError, createKokyakuClient } from '@kokyaku/client';
import { KokyakuProvider, useSegmentPreviewQuery } from '@kokyaku/client/react';
import { QueryClient, QueryClientProvider, keepPreviousData } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';

const TOKEN_KEY = 'kokyaku-staff-token';

/**
 * Staff only: the shop's staff token (printed by `pnpm start`) makes Kokyaku requests an
 * administrator's. Staff get a client and a cache of their own, apart from the shopper's.
 */
export function StaffPage() {
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY) ?? '');
  const [draft, setDraft] = useState(token);
  const client = useMemo(() => createKokyakuClient({ url: '/crm/graphql', headers: { authorization: `Bearer ${token}` } }), [token]);
  const queryClient = useMemo(() => new QueryClient({ defaultOptions: { queries: { retry: false } } }), [token]);
  return (
    <>
      <h1>Staff</h1>
      <form
        className="token"
        onSubmit={(event) => {
          event.preventDefault();
          sessionStorage.setItem(TOKEN_KEY, draft.trim());
          setToken(draft.trim());
        }}
      >
        <label>
          Staff token <input name="token" type="password" value={draft} onChange={(e) => setDraft(e.target.value)} autoComplete="off" />
        </label>
        <button type="submit">Use</button>
      </form>
      {token ? (
        <QueryClientProvider client={queryClient}>
          <KokyakuProvider client={client}>
            <SegmentPreviewBox />
          </KokyakuProvider>
        </QueryClientProvider>
      ) : (
        <p>Enter the staff token to try segment queries.</p>
      )}
    </>
  );
}

/** The value after the user stopped typing for `ms`. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

const EXAMPLES = ['number_of_orders >= 2 AND last_order_date < -90d', "products_purchased MATCHES (category = 'coffee', count >= 3)", 'rfm_group = CHAMPIONS'];

/** Type a segment query: the count and the first customers follow; a mistake is shown where it is. */
function SegmentPreviewBox() {
  const [query, setQuery] = useState(EXAMPLES[0]!);
  const settled = useDebounced(query.trim(), 300);
  const { data, error, isFetching } = useSegmentPreviewQuery({ query: settled, first: 5 }, { enabled: settled.length > 0, placeholderData: keepPreviousData });
  const problem = error instanceof KokyakuClientError ? error.errors[0] : null;
  return (
    <section className="segment-preview">
      <h2>Segment preview</h2>
      <textarea aria-label="Segment query" data-testid="segment-query" rows={3} spellCheck={false} value={query} onChange={(e) => setQuery(e.target.value)} />
      <p className="examples">
        Try:{' '}
        {EXAMPLES.map((q) => (
          <button key={q} type="button" onClick={() => setQuery(q)}>
            {q}
          </button>
        ))}
      </p>
      {problem ? (
        <QueryError query={settled} message={problem.message} extensions={problem.extensions ?? {}} />
      ) : error ? (
        <p role="alert">{(error as Error).message}</p>
      ) : data ? (
        <div className={isFetching ? 'stale' : undefined}>
          <p>
            <strong data-testid="segment-count">{data.segmentPreview.count.toLocaleString('en')}</strong> customers
          </p>
          <ul data-testid="segment-customers">
            {data.segmentPreview.customers.map((c) => (
              <li key={c.id}>
                {c.lastName} {c.firstName} <small>{c.email ?? c.externalId}</small>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

/** The query with a caret under the mistake (line and column from the server), and the server's message. */
function QueryError({ query, message, extensions }: { query: string; message: string; extensions: Record<string, unknown> }) {
  const line = typeof extensions.line === 'number' ? extensions.line : null;
  const column = typeof extensions.column === 'number' ? extensions.column : null;
  const text = line ? (query.split('\n')[line - 1] ?? '') : null;
  return (
    <div role="alert" className="query-error" data-testid="segment-error">
      {text !== null && column ? (
        <pre>
          {text}
          {'\n'}
          <span className="caret">{`${' '.repeat(column - 1)}^`}</span>
        </pre>
      ) : null}
      {/* The server's message names the position and, for a misspelling, what was meant. */}
      <p>{message}</p>
    </div>
  );
}
