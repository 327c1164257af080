import {
  useDealForecastQuery,
  useDealsBoardQuery,
  useInquiriesQuery,
  useInquiryThreadQuery,
  useMoveDealMutation,
  usePipelinesQuery,
  useReplyToInquiryMutation,
  useTasksQuery,
  useUpdateInquiryMutation,
} from '@kokyaku/client/react';
import type { InquiryKind, InquiryStatus } from '@kokyaku/client';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useLocation } from 'wouter';
import { useI18n } from '../i18n.js';
import { customerName, ErrorNote, Loading, Section } from '../ui.js';
import { useViewer } from '../viewer.js';
import { TaskList } from './task-list.js';

const TABS = [
  ['tasks', 'work.tasks'],
  ['inquiries', 'work.inquiries'],
  ['deals', 'work.deals'],
] as const;

export function Work({ tab, id }: { tab: string; id?: string }) {
  const { t } = useI18n();
  return (
    <div>
      <h1>{t('work.title')}</h1>
      <nav aria-label={t('work.title')} className="tabs">
        {TABS.map(([key, label]) => (
          <Link key={key} href={`/work/${key}`} aria-current={tab === key ? 'page' : undefined}>
            {t(label)}
          </Link>
        ))}
      </nav>
      {tab === 'tasks' ? <MyTasks /> : tab === 'inquiries' ? id ? <Thread id={id} /> : <InquiryList /> : tab === 'deals' ? <Deals /> : <p>404</p>}
    </div>
  );
}

function MyTasks() {
  const { t } = useI18n();
  const viewer = useViewer();
  const [mine, setMine] = useState(false);
  const [overdue, setOverdue] = useState(false);
  const tasks = useTasksQuery({ mine: mine || undefined, overdue: overdue || undefined, status: 'OPEN', first: 50 });
  return (
    <Section
      title={t('work.tasks')}
      actions={
        <div className="row">
          <label className="check">
            <input type="checkbox" checked={mine} onChange={(e) => setMine(e.target.checked)} /> {t('work.mine')}
          </label>
          <label className="check">
            <input type="checkbox" checked={overdue} onChange={(e) => setOverdue(e.target.checked)} /> {t('work.overdue')}
          </label>
        </div>
      }
    >
      {tasks.isPending ? <Loading /> : tasks.error ? <ErrorNote error={tasks.error} /> : null}
      {tasks.data ? <TaskList tasks={tasks.data.tasks.nodes} editable={viewer.can.workWithCustomers} linkCustomer /> : null}
    </Section>
  );
}

const STATUSES: InquiryStatus[] = ['OPEN', 'PENDING', 'RESOLVED', 'CLOSED'];

function InquiryList() {
  const { t, dateTime, language } = useI18n();
  const [status, setStatus] = useState<InquiryStatus | ''>('OPEN');
  const [kind, setKind] = useState<InquiryKind | ''>('');
  const inquiries = useInquiriesQuery({ status: status || undefined, kind: kind || undefined, first: 50 });
  return (
    <Section
      title={t('work.inquiries')}
      actions={
        <div className="row">
          <label>
            {t('work.status')}{' '}
            <select value={status} onChange={(e) => setStatus(e.target.value as InquiryStatus | '')}>
              <option value="">{t('work.all')}</option>
              {STATUSES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
          <label>
            {t('work.kind')}{' '}
            <select value={kind} onChange={(e) => setKind(e.target.value as InquiryKind | '')}>
              <option value="">{t('work.all')}</option>
              <option>INQUIRY</option>
              <option>COMPLAINT</option>
            </select>
          </label>
        </div>
      }
    >
      {inquiries.isPending ? <Loading /> : inquiries.error ? <ErrorNote error={inquiries.error} /> : null}
      <ul className="list">
        {inquiries.data?.inquiries.nodes.map((q) => (
          <li key={q.id}>
            <Link href={`/work/inquiries/${q.id}`}>
              <strong>{q.subject || `#${q.id}`}</strong>
            </Link>{' '}
            <span className="tag">{q.status}</span> <span className="tag">{q.kind}</span>{' '}
            <span className="muted">
              {customerName(q.customer, language)} · {dateTime(q.openedAt)}
            </span>
          </li>
        ))}
      </ul>
      {inquiries.data?.inquiries.nodes.length === 0 ? <p className="muted">{t('empty')}</p> : null}
    </Section>
  );
}

function Thread({ id }: { id: string }) {
  const { t, dateTime, language } = useI18n();
  const viewer = useViewer();
  const queries = useQueryClient();
  const [body, setBody] = useState('');
  const thread = useInquiryThreadQuery({ id });
  const refresh = () => queries.invalidateQueries({ predicate: (q) => ['InquiryThread', 'Inquiries'].includes(String(q.queryKey[0])) });
  const reply = useReplyToInquiryMutation({ onSuccess: () => (setBody(''), refresh()) });
  const update = useUpdateInquiryMutation({ onSuccess: refresh });
  if (thread.isPending) return <Loading />;
  if (thread.error) return <ErrorNote error={thread.error} />;
  const q = thread.data.inquiry;
  if (!q) return <p role="alert">404</p>;
  return (
    <Section
      title={q.subject || `#${q.id}`}
      actions={
        <label>
          {t('work.status')}{' '}
          <select value={q.status} disabled={!viewer.can.workWithCustomers || update.isPending} onChange={(e) => update.mutate({ id, status: e.target.value as InquiryStatus })}>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      }
    >
      <p>
        <Link href="/work/inquiries">← {t('work.inquiries')}</Link> · {q.customer ? <Link href={`/customers/${q.customer.id}`}>{customerName(q.customer, language)}</Link> : null} ·{' '}
        <span className="tag">{q.kind}</span> <span className="tag">{q.priority}</span>
      </p>
      <ol className="thread">
        {q.messages.map((m) => (
          <li key={m.id} className={m.direction === 'OUTBOUND' ? 'out' : 'in'}>
            <p className="muted">
              {m.direction} · {m.authorId ?? ''} · {dateTime(m.sentAt)}
            </p>
            <p className="body">{m.body}</p>
          </li>
        ))}
      </ol>
      {viewer.can.workWithCustomers ? (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            reply.mutate({ id, body, direction: 'OUTBOUND' });
          }}
        >
          <label htmlFor="reply-body">{t('work.replyLabel')}</label>
          <textarea id="reply-body" rows={3} value={body} onChange={(e) => setBody(e.target.value)} required />
          <button type="submit" className="primary" disabled={reply.isPending}>
            {t('work.send')}
          </button>
          {reply.error ? <ErrorNote error={reply.error} /> : null}
        </form>
      ) : null}
    </Section>
  );
}

function Deals() {
  const { t, money, number } = useI18n();
  const viewer = useViewer();
  const queries = useQueryClient();
  const pipelines = usePipelinesQuery();
  const [chosen, setChosen] = useState<string | null>(null);
  const pipelineId = chosen ?? pipelines.data?.pipelines[0]?.id ?? null;
  const board = useDealsBoardQuery({ pipelineId: pipelineId ?? '0', first: 200 }, { enabled: Boolean(pipelineId) });
  const today = new Date();
  const from = today.toISOString().slice(0, 10);
  const to = new Date(today.getTime() + 365 * 86_400_000).toISOString().slice(0, 10);
  const forecast = useDealForecastQuery({ from, to, period: 'QUARTER', pipelineId }, { enabled: Boolean(pipelineId) });
  const move = useMoveDealMutation({ onSuccess: () => queries.invalidateQueries({ predicate: (q) => ['DealsBoard', 'DealForecast'].includes(String(q.queryKey[0])) }) });
  const [, navigate] = useLocation();
  if (pipelines.isPending) return <Loading />;
  if (pipelines.error) return <ErrorNote error={pipelines.error} />;
  if (!pipelineId) return <p className="muted">{t('work.noPipeline')}</p>;
  const pipeline = pipelines.data.pipelines.find((p) => p.id === pipelineId)!;
  const deals = board.data?.deals.nodes ?? [];
  return (
    <>
      <Section
        title={pipeline.name}
        actions={
          <label>
            {t('work.pipeline')}{' '}
            <select value={pipelineId} onChange={(e) => setChosen(e.target.value)}>
              {pipelines.data.pipelines.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
        }
      >
        {board.error ? <ErrorNote error={board.error} /> : null}
        <div className="board">
          {pipeline.stages.map((stage) => {
            const here = deals.filter((d) => d.stageId === stage.id);
            return (
              <section key={stage.id} className="column" aria-label={stage.name}>
                <h3>
                  {stage.name}{' '}
                  <span className="muted">
                    ({here.length} · {Math.round(stage.probability * 100)}%)
                  </span>
                </h3>
                <ul className="list">
                  {here.map((deal) => (
                    <li key={deal.id} className="deal">
                      <strong>{deal.title}</strong>
                      <span>{money(deal.amount)}</span>
                      {deal.customerId ? (
                        <button type="button" className="link" onClick={() => navigate(`/customers/${deal.customerId}`)}>
                          #{deal.customerId}
                        </button>
                      ) : null}
                      {viewer.can.workWithCustomers ? (
                        <label>
                          <span className="visually-hidden">
                            {t('work.moveTo')} ({deal.title})
                          </span>
                          <select aria-label={`${t('work.moveTo')}: ${deal.title}`} value={deal.stageId} onChange={(e) => move.mutate({ id: deal.id, stageId: e.target.value })}>
                            {pipeline.stages.map((s) => (
                              <option key={s.id} value={s.id}>
                                {s.name}
                              </option>
                            ))}
                          </select>
                        </label>
                      ) : null}
                    </li>
                  ))}
                </ul>
              </section>
            );
          })}
        </div>
        {move.error ? <ErrorNote error={move.error} /> : null}
      </Section>
      <Section title={t('work.forecast')}>
        {forecast.error ? <ErrorNote error={forecast.error} /> : null}
        <table>
          <thead>
            <tr>
              <th scope="col">{t('dashboard.month')}</th>
              <th scope="col" className="num">
                {t('work.deals')}
              </th>
              <th scope="col" className="num">
                {t('work.forecast')}
              </th>
            </tr>
          </thead>
          <tbody>
            {forecast.data?.dealForecast.map((row) => (
              <tr key={`${row.period}-${row.ownerId}`}>
                <th scope="row">
                  {row.period} {row.ownerId ? <span className="muted">{row.ownerId}</span> : null}
                </th>
                <td className="num">{number(row.openDeals)}</td>
                <td className="num">{money(row.weightedAmount)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </>
  );
}
