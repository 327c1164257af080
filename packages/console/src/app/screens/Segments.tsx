import { CustomersDocument, type CustomersQuery, type KokyakuClientError } from '@kokyaku/client';
import {
  useCreateSegmentMutation,
  useCustomersQuery,
  useDeleteSegmentMutation,
  useKokyakuClient,
  useSegmentLanguageQuery,
  useSegmentPreviewQuery,
  useSegmentQuery,
  useSegmentsQuery,
  useUpdateSegmentMutation,
} from '@kokyaku/client/react';
import { keepPreviousData, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { useI18n } from '../i18n.js';
import { customerName, download, ErrorNote, Loading, Section, toCsv, useDebounced } from '../ui.js';
import { useViewer } from '../viewer.js';
import { createSegmentEditor, type SegmentEditor } from './segment-editor.js';

/** The segment editor with its live count: the query is tried on the server as you type. */
function QueryEditor({ initial, onChange, readOnly }: { initial: string; onChange: (query: string) => void; readOnly: boolean }) {
  const { t, number } = useI18n();
  const language = useSegmentLanguageQuery(undefined, { staleTime: Infinity });
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<SegmentEditor | null>(null);
  const [query, setQuery] = useState(initial);
  const text = query.trim();
  const tried = useDebounced(text, 250);
  const preview = useSegmentPreviewQuery({ query: tried, first: 0 }, { enabled: tried.length > 0, retry: false, staleTime: 10_000 });
  const vocabulary = language.data?.segmentLanguage;

  useEffect(() => {
    if (!host.current || !vocabulary) return;
    editor.current = createSegmentEditor({
      parent: host.current,
      doc: initial,
      vocabulary,
      label: t('segments.editor'),
      describedBy: 'segment-status segment-help',
      placeholder: 'number_of_orders >= 2 AND last_order_date > -90d',
      readOnly,
      onChange: (next) => {
        setQuery(next);
        onChange(next);
      },
    });
    return () => editor.current?.destroy();
    // The editor is made once per vocabulary; its text is its own from then on.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [vocabulary]);

  // The answer is about the text on screen only when nothing was typed since it was asked.
  const current = tried === text && text.length > 0 && !preview.isFetching;
  const failure = current && preview.error ? (preview.error as KokyakuClientError) : null;
  const where = failure?.errors?.[0]?.extensions as { line?: number; column?: number; offset?: number; suggestion?: string } | undefined;
  const message = failure ? (where?.suggestion && !failure.message.includes(where.suggestion) ? `${failure.message} (${where.suggestion}?)` : failure.message) : null;
  useEffect(() => {
    // Offsets are in the trimmed text: add what trim took from the start.
    editor.current?.showError(message != null && where?.offset != null ? { offset: where.offset + (query.length - query.trimStart().length), message } : null);
  }, [message, where?.offset, query]);

  if (language.error) return <ErrorNote error={language.error} />;
  return (
    <div className="segment-editor">
      <div id="segment-label" className="label">
        {t('segments.editor')}
      </div>
      <div ref={host} className="editor" />
      <p id="segment-status" role="status" aria-live="polite" className={message != null ? 'error' : 'count'}>
        {!text
          ? ''
          : !current
            ? t('segments.counting')
            : message != null
              ? where?.line
                ? t('segments.errorAt', { line: where.line, column: where.column ?? 1, message })
                : message
              : preview.data
                ? t('segments.count', { n: number(preview.data.segmentPreview.count) })
                : ''}
      </p>
      <p id="segment-help" className="muted">
        {t('segments.help')}
      </p>
    </div>
  );
}

export function Segments() {
  const { t, number } = useI18n();
  const viewer = useViewer();
  const params = new URLSearchParams(useSearch());
  const [location, navigate] = useLocation();
  const segments = useSegmentsQuery({ first: 100 });
  const queries = useQueryClient();
  const initial = params.get('query') ?? '';
  const [query, setQuery] = useState(initial);
  const [name, setName] = useState(params.get('name') ?? '');
  const create = useCreateSegmentMutation({
    onSuccess: (data) => {
      void queries.invalidateQueries({ queryKey: ['Segments'] });
      navigate(`/segments/${data.createSegment.id}`);
    },
  });
  return (
    <div>
      <h1>{t('segments.title')}</h1>
      <div className="grid wide">
        <Section title={t('segments.new')}>
          <QueryEditor key={location + initial} initial={initial} onChange={setQuery} readOnly={!viewer.can.manageSegments} />
          {viewer.can.manageSegments ? (
            <form
              className="stack"
              onSubmit={(e) => {
                e.preventDefault();
                create.mutate({ name, query });
              }}
            >
              <label htmlFor="segment-name">{t('segments.name')}</label>
              <input id="segment-name" value={name} onChange={(e) => setName(e.target.value)} required />
              <button type="submit" className="primary" disabled={create.isPending || !query.trim()}>
                {t('save')}
              </button>
              {create.error ? <ErrorNote error={create.error} /> : null}
            </form>
          ) : null}
          {query.trim() ? <Members query={query.trim()} /> : null}
        </Section>
        <Section title={t('segments.saved')}>
          {segments.isPending ? <Loading /> : segments.error ? <ErrorNote error={segments.error} /> : null}
          <ul className="list">
            {segments.data?.segments.nodes.map((s) => (
              <li key={s.id} className="row between">
                <Link href={`/segments/${s.id}`}>{s.name}</Link>
                <span className="num">{t('segments.count', { n: number(s.count) })}</span>
              </li>
            ))}
          </ul>
        </Section>
      </div>
    </div>
  );
}

export function SegmentDetail({ id }: { id: string }) {
  const { t, number } = useI18n();
  const viewer = useViewer();
  const [, navigate] = useLocation();
  const queries = useQueryClient();
  const segment = useSegmentQuery({ id, first: 0 });
  const [query, setQuery] = useState<string | null>(null);
  const refresh = () => queries.invalidateQueries({ predicate: (q) => ['Segment', 'Segments', 'Customers'].includes(String(q.queryKey[0])) });
  const update = useUpdateSegmentMutation({ onSuccess: refresh });
  const remove = useDeleteSegmentMutation({ onSuccess: () => (refresh(), navigate('/segments')) });
  if (segment.isPending) return <Loading />;
  if (segment.error) return <ErrorNote error={segment.error} />;
  const s = segment.data.segment;
  if (!s) return <p role="alert">404</p>;
  const current = query ?? s.query;
  return (
    <div>
      <div className="page-head">
        <h1>
          {s.name} <span className="muted">{t('segments.count', { n: number(s.count) })}</span>
        </h1>
        <Link href="/segments">← {t('segments.title')}</Link>
      </div>
      <Section title={t('segments.editor')}>
        <QueryEditor key={s.id} initial={s.query} onChange={setQuery} readOnly={!viewer.can.manageSegments} />
        {viewer.can.manageSegments ? (
          <div className="row">
            <button type="button" className="primary" disabled={update.isPending || current === s.query} onClick={() => update.mutate({ id, query: current })}>
              {update.isSuccess && current === s.query ? t('saved') : t('save')}
            </button>
            <button type="button" className="danger" onClick={() => remove.mutate({ id })} disabled={remove.isPending}>
              {t('segments.delete')}
            </button>
          </div>
        ) : null}
        {update.error ? <ErrorNote error={update.error} /> : null}
      </Section>
      <Section title={t('segments.members')}>
        <Members query={s.query} name={s.name} />
      </Section>
    </div>
  );
}

const PAGE = 25;

/** A segment's members, page by page, and all of them as a CSV file. */
function Members({ query, name = 'segment' }: { query: string; name?: string }) {
  const { t, money, number, date, language } = useI18n();
  const client = useKokyakuClient();
  const segment = useDebounced(query, 300);
  // Cursors of the pages seen so far, kept per query: a new query starts at its first page.
  const [paging, setPaging] = useState<{ segment: string; cursors: (string | null)[] }>({ segment, cursors: [null] });
  const cursors = paging.segment === segment ? paging.cursors : [null];
  const members = useCustomersQuery({ segment, first: PAGE, after: cursors[cursors.length - 1] ?? null }, { placeholderData: keepPreviousData, retry: false });
  const [exportError, setExportError] = useState<unknown>(null);
  const [exporting, setExporting] = useState(false);
  const exportCsv = async () => {
    setExporting(true);
    setExportError(null);
    try {
      const rows: unknown[][] = [['id', 'externalId', 'lastName', 'firstName', 'email', 'tags', 'orders', 'spent', 'lastOrderAt']];
      for (let cursor: string | null = null, more = true; more; ) {
        const r: CustomersQuery = await client.request(CustomersDocument, { segment, first: 500, after: cursor });
        for (const c of r.customers.nodes)
          rows.push([c.id, c.externalId, c.lastName, c.firstName, c.email, c.tags.join(' '), c.metrics.ordersCount, c.metrics.totalSpent, c.metrics.lastOrderAt]);
        cursor = r.customers.pageInfo.endCursor;
        more = r.customers.pageInfo.hasNextPage;
      }
      download(`${name.replace(/[^\p{L}\p{N}_-]+/gu, '-')}.csv`, toCsv(rows));
    } catch (e) {
      setExportError(e);
    } finally {
      setExporting(false);
    }
  };
  // An invalid query is said by the editor, at its place.
  if ((members.error as KokyakuClientError | null)?.code === 'SEGMENT_QUERY_INVALID') return null;
  const page = members.data?.customers;
  return (
    <div className="members">
      {members.error || exportError ? <ErrorNote error={members.error ?? exportError} /> : null}
      {!page ? <Loading /> : null}
      {page ? (
        <>
          <div className="row between">
            <span>{t('segments.count', { n: number(page.totalCount) })}</span>
            <button type="button" onClick={() => void exportCsv()} disabled={exporting}>
              {exporting ? t('loading') : t('segments.csv')}
            </button>
          </div>
          <div className="scroll" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('profile.title')}</th>
                  <th scope="col">{t('profile.email')}</th>
                  <th scope="col" className="num">
                    {t('profile.orders')}
                  </th>
                  <th scope="col" className="num">
                    {t('profile.spent')}
                  </th>
                  <th scope="col">{t('profile.lastOrder')}</th>
                </tr>
              </thead>
              <tbody>
                {page.nodes.map((c) => (
                  <tr key={c.id}>
                    <th scope="row">
                      <Link href={`/customers/${c.id}`}>{customerName(c, language)}</Link>
                    </th>
                    <td>{c.email ?? t('none')}</td>
                    <td className="num">{number(c.metrics.ordersCount)}</td>
                    <td className="num">{money(c.metrics.totalSpent)}</td>
                    <td>{date(c.metrics.lastOrderAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="row">
            <button type="button" disabled={cursors.length === 1} onClick={() => setPaging({ segment, cursors: cursors.slice(0, -1) })}>
              ←
            </button>
            <span>{cursors.length}</span>
            <button
              type="button"
              disabled={!page.pageInfo.hasNextPage}
              onClick={() => setPaging({ segment, cursors: [...cursors, page.pageInfo.endCursor] })}
              aria-label={t('more')}
            >
              →
            </button>
          </div>
        </>
      ) : null}
    </div>
  );
}
