import { CustomerDataExportDocument, type CustomerProfileQuery, type KokyakuClientError } from '@kokyaku/client';
import {
  useAddNoteMutation,
  useCreateTaskMutation,
  useCustomerConsentsQuery,
  useCustomerProfileQuery,
  useEraseCustomerMutation,
  useInfiniteCustomerTimelineQuery,
  useKokyakuClient,
  useMergeCustomersMutation,
  useMergePreviewQuery,
  useRecommendationsQuery,
  useUpdateCustomerMutation,
} from '@kokyaku/client/react';
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Link } from 'wouter';
import { useI18n } from '../i18n.js';
import { ConfirmDialog, customerName, download, ErrorNote, Loading, Section, Stat } from '../ui.js';
import { useViewer } from '../viewer.js';
import { TaskList } from './task-list.js';

export function Profile({ id }: { id: string }) {
  const { t, language, money, number, percent, date, dateTime } = useI18n();
  const viewer = useViewer();
  const profile = useCustomerProfileQuery({ id });
  if (profile.isPending) return <Loading />;
  if (profile.error) return <ErrorNote error={profile.error} retry={() => void profile.refetch()} />;
  const c = profile.data.customer;
  if (!c) return <p role="alert">{t('profile.notFound')}</p>;
  const m = c.metrics;
  const name = customerName(c, language);
  return (
    <div className="profile">
      <div className="page-head">
        <div>
          <h1>
            {name}
            {c.erasedAt ? <span className="tag danger-tag">{t('profile.erased')}</span> : null}
          </h1>
          {c.lastNameKana || c.firstNameKana ? <p className="muted">{[c.lastNameKana, c.firstNameKana].filter(Boolean).join(' ')}</p> : null}
        </div>
        <Tags id={c.id} tags={c.tags} editable={viewer.can.workWithCustomers && !c.erasedAt} />
      </div>
      <div className="grid">
        <Section title={t('profile.metrics')}>
          <dl className="stats">
            <Stat label={t('profile.orders')} value={number(m.ordersCount)} />
            <Stat label={t('profile.spent')} value={money(m.totalSpent)} />
            <Stat label={t('profile.aov')} value={money(m.averageOrderValue)} />
            <Stat label={t('profile.lastOrder')} value={date(m.lastOrderAt)} />
            <Stat label={t('profile.firstOrder')} value={date(m.firstOrderAt)} />
            <Stat label={t('profile.between')} value={number(m.averageDaysBetweenOrders, 1)} />
            <Stat label={t('profile.rfm')} value={m.rfm ? m.rfm.group : t('none')} hint={m.rfm ? `R${m.rfm.recency} F${m.rfm.frequency} M${m.rfm.monetary}` : undefined} />
            <Stat label={t('profile.decile')} value={m.decile ?? t('none')} />
            <Stat label={t('profile.clv')} value={money(m.predictedClv)} />
            <Stat label={t('profile.churn')} value={percent(m.churnRisk)} />
          </dl>
        </Section>
        <Section title={t('profile.lead')}>
          <p className="big">
            {number(c.leadScore.score, 1)} <span className={`tag band-${c.leadScore.band}`}>{c.leadScore.band}</span>
          </p>
          {c.scoreContributions.length ? (
            <table>
              <caption>{t('profile.contributions')}</caption>
              <tbody>
                {c.scoreContributions.map((s) => (
                  <tr key={s.ruleId}>
                    <th scope="row">{s.ruleName}</th>
                    <td className="num">{s.points > 0 ? `+${number(s.points, 1)}` : number(s.points, 1)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </Section>
        <Section title={t('profile.contact')}>
          <dl className="facts">
            <dt>{t('profile.email')}</dt>
            <dd>{c.email ?? t('none')}</dd>
            <dt>{t('profile.phone')}</dt>
            <dd>{c.phone ? viewer.can.contactData ? <a href={`tel:${c.phone}`}>{c.phone}</a> : c.phone : t('none')}</dd>
            <dt>{t('profile.address')}</dt>
            <dd>{[c.region, c.city, c.country].filter(Boolean).join(' ') || t('none')}</dd>
            <dt>{t('profile.birthday')}</dt>
            <dd>{date(c.birthday)}</dd>
            <dt>{t('profile.shopId')}</dt>
            <dd>{c.externalId}</dd>
            <dt>{t('profile.since')}</dt>
            <dd>{date(c.createdAt)}</dd>
          </dl>
        </Section>
        <Consents id={c.id} emailConsent={c.emailConsent} />
        <Section title={t('profile.segments')}>
          {c.segments.length === 0 ? <p className="muted">{t('profile.noSegments')}</p> : null}
          <ul className="chips">
            {c.segments.map((s) => (
              <li key={s.id}>
                <Link href={`/segments/${s.id}`}>{s.name}</Link>
              </li>
            ))}
          </ul>
          {c.companies.length ? (
            <>
              <h3>{t('profile.companies')}</h3>
              <ul>
                {c.companies.map((k) => (
                  <li key={k.company?.id}>
                    {k.company?.name} {k.title ? <span className="muted">({k.title})</span> : null}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </Section>
        <CustomFields id={c.id} values={c.customFieldValues} editable={viewer.can.workWithCustomers && !c.erasedAt} />
        <Tasks customerId={c.id} tasks={c.tasks.nodes} editable={viewer.can.workWithCustomers} />
        <Recommendations externalId={c.externalId} />
      </div>
      <div className="grid wide">
        <Timeline id={c.id} canNote={viewer.can.workWithCustomers && !c.erasedAt} />
        {viewer.can.admin ? <Admin id={c.id} name={name} erased={Boolean(c.erasedAt)} /> : null}
      </div>
    </div>
  );
}

/** Consent per channel, latest first; roles without contact data see only whether email may be sent. */
function Consents({ id, emailConsent }: { id: string; emailConsent: boolean }) {
  const { t, dateTime } = useI18n();
  const viewer = useViewer();
  const history = useCustomerConsentsQuery({ id }, { enabled: viewer.can.contactData });
  const consents = new Map<string, { channel: string; granted: boolean; recordedAt: string | null }>();
  for (const consent of history.data?.customerConsents ?? []) if (!consents.has(consent.channel)) consents.set(consent.channel, consent);
  // Email consent as the shop sent it, when no consent history says more.
  if (!consents.has('EMAIL') && (viewer.can.contactData ? history.isSuccess : true)) consents.set('EMAIL', { channel: 'EMAIL', granted: emailConsent, recordedAt: null });
  return (
    <Section title={t('profile.consent')}>
      {history.error ? <ErrorNote error={history.error} /> : null}
      {consents.size === 0 ? (
        <p className="muted">{t('profile.noConsent')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('profile.channel')}</th>
              <th scope="col">{t('work.status')}</th>
              <th scope="col">{t('profile.recorded')}</th>
            </tr>
          </thead>
          <tbody>
            {[...consents.values()].map((consent) => (
              <tr key={consent.channel}>
                <th scope="row">{consent.channel}</th>
                <td>{consent.granted ? t('profile.granted') : t('profile.withdrawn')}</td>
                <td>{consent.recordedAt ? dateTime(consent.recordedAt) : t('none')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function Tags({ id, tags, editable }: { id: string; tags: string[]; editable: boolean }) {
  const { t } = useI18n();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(tags.join(', '));
  const queries = useQueryClient();
  const update = useUpdateCustomerMutation({ onSuccess: () => queries.invalidateQueries({ queryKey: ['CustomerProfile'] }).then(() => setEditing(false)) });
  if (editing) {
    return (
      <form
        className="row tags-form"
        onSubmit={(e) => {
          e.preventDefault();
          update.mutate({
            id,
            tags: text
              .split(/[,、]/)
              .map((s) => s.trim())
              .filter(Boolean),
          });
        }}
      >
        <label htmlFor="tags-input">{t('profile.tagsLabel')}</label>
        <input id="tags-input" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit" className="primary" disabled={update.isPending}>
          {t('save')}
        </button>
        <button type="button" onClick={() => setEditing(false)}>
          {t('cancel')}
        </button>
        {update.error ? <ErrorNote error={update.error} /> : null}
      </form>
    );
  }
  return (
    <div className="row">
      <ul className="chips" aria-label={t('profile.tags')}>
        {tags.map((tag) => (
          <li key={tag} className="tag">
            {tag}
          </li>
        ))}
      </ul>
      {editable ? (
        <button type="button" onClick={() => (setText(tags.join(', ')), setEditing(true))}>
          {t('profile.tagsEdit')}
        </button>
      ) : null}
    </div>
  );
}

type ProfileCustomer = NonNullable<CustomerProfileQuery['customer']>;
type FieldValue = ProfileCustomer['customFieldValues'][number];

function CustomFields({ id, values, editable }: { id: string; values: FieldValue[]; editable: boolean }) {
  const { t, number } = useI18n();
  const queries = useQueryClient();
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const update = useUpdateCustomerMutation({
    onSuccess: () => {
      setValue('');
      return queries.invalidateQueries({ queryKey: ['CustomerProfile'] });
    },
  });
  const shown = (v: FieldValue) => v.text ?? (v.number != null ? number(v.number, 4) : v.boolean != null ? String(v.boolean) : (v.options ?? []).join(', '));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const definition = values.find((v) => v.key === key);
    const typed =
      definition?.type === 'NUMBER'
        ? Number(value)
        : definition?.type === 'BOOLEAN'
          ? value === 'true'
          : definition?.type === 'MULTI_SELECT'
            ? value.split(',').map((s) => s.trim())
            : value;
    update.mutate({ id, customFields: { [key.trim()]: value === '' ? null : typed } });
  };
  return (
    <Section title={t('profile.customFields')}>
      <dl className="facts">
        {values.map((v) => (
          <div key={v.key} className="fact">
            <dt>{v.label}</dt>
            <dd>{shown(v) || t('none')}</dd>
          </div>
        ))}
      </dl>
      {editable ? (
        <form className="stack" onSubmit={submit}>
          <label htmlFor="cf-key">{t('profile.addField')}</label>
          <input id="cf-key" list="cf-keys" value={key} onChange={(e) => setKey(e.target.value)} required />
          <datalist id="cf-keys">
            {values.map((v) => (
              <option key={v.key} value={v.key}>
                {v.label}
              </option>
            ))}
          </datalist>
          <label htmlFor="cf-value">{t('profile.value')}</label>
          <input id="cf-value" value={value} onChange={(e) => setValue(e.target.value)} />
          <button type="submit" disabled={update.isPending}>
            {t('save')}
          </button>
          {update.error ? <ErrorNote error={update.error} /> : null}
        </form>
      ) : null}
    </Section>
  );
}

function Tasks({ customerId, tasks, editable }: { customerId: string; tasks: ProfileCustomer['tasks']['nodes']; editable: boolean }) {
  const { t } = useI18n();
  const queries = useQueryClient();
  const refresh = () => queries.invalidateQueries({ queryKey: ['CustomerProfile'] });
  const [title, setTitle] = useState('');
  const [due, setDue] = useState('');
  const create = useCreateTaskMutation({ onSuccess: () => (setTitle(''), setDue(''), refresh()) });
  return (
    <Section title={t('profile.tasks')}>
      <TaskList tasks={tasks} editable={editable} />
      {editable ? (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate({ input: { title, customerId, dueAt: due ? new Date(due).toISOString() : undefined } });
          }}
        >
          <label htmlFor="task-title">{t('profile.taskTitle')}</label>
          <input id="task-title" value={title} onChange={(e) => setTitle(e.target.value)} required />
          <label htmlFor="task-due">{t('profile.taskDue')}</label>
          <input id="task-due" type="datetime-local" value={due} onChange={(e) => setDue(e.target.value)} />
          <button type="submit" disabled={create.isPending}>
            {t('profile.taskAdd')}
          </button>
          {create.error ? <ErrorNote error={create.error} /> : null}
        </form>
      ) : null}
    </Section>
  );
}

function Recommendations({ externalId }: { externalId: string }) {
  const { t, money } = useI18n();
  const recs = useRecommendationsQuery({ customerExternalId: externalId, strategy: 'FOR_CUSTOMER', first: 6 });
  return (
    <Section title={t('profile.recs')}>
      {recs.isPending ? <Loading /> : recs.error ? <ErrorNote error={recs.error} /> : null}
      <ol className="list">
        {recs.data?.recommendations.map((r) => (
          <li key={r.product.externalId}>
            <strong>{r.product.name}</strong> <span className="muted">{money(r.product.price)}</span>
            <br />
            <small className="muted">{r.reason}</small>
          </li>
        ))}
      </ol>
    </Section>
  );
}

function Timeline({ id, canNote }: { id: string; canNote: boolean }) {
  const { t, dateTime } = useI18n();
  const queries = useQueryClient();
  const [note, setNote] = useState('');
  const timeline = useInfiniteCustomerTimelineQuery(
    { id, first: 20 },
    {
      initialPageParam: {},
      getNextPageParam: (last) => (last.customer?.timeline.pageInfo.hasNextPage ? { after: last.customer.timeline.pageInfo.endCursor } : undefined),
    },
  );
  const addNote = useAddNoteMutation({ onSuccess: () => (setNote(''), queries.invalidateQueries({ queryKey: ['CustomerTimeline.infinite'] })) });
  // Infinite scroll: the next page loads when the end of the list comes into view.
  const end = useRef<HTMLDivElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = timeline;
  useEffect(() => {
    const target = end.current;
    if (!target || !hasNextPage) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const entries = timeline.data?.pages.flatMap((p) => p.customer?.timeline.nodes ?? []) ?? [];
  return (
    <Section title={t('profile.timeline')} id="timeline">
      {canNote ? (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            addNote.mutate({ body: note, customerId: id });
          }}
        >
          <label htmlFor="note-body">{t('profile.noteLabel')}</label>
          <textarea id="note-body" rows={2} value={note} onChange={(e) => setNote(e.target.value)} required />
          <button type="submit" disabled={addNote.isPending}>
            {t('profile.noteAdd')}
          </button>
          {addNote.error ? <ErrorNote error={addNote.error} /> : null}
        </form>
      ) : null}
      {timeline.isPending ? <Loading /> : timeline.error ? <ErrorNote error={timeline.error} /> : null}
      <ol className="timeline" aria-label={t('profile.timeline')}>
        {entries.map((entry) => (
          <li key={entry.id} className={`kind-${entry.kind}`}>
            <span className="tag">{entry.kind}</span> <time dateTime={entry.at}>{dateTime(entry.at)}</time>
            <p>{entry.summary}</p>
          </li>
        ))}
      </ol>
      <div ref={end} />
      {hasNextPage ? (
        <button type="button" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
          {isFetchingNextPage ? t('loading') : t('more')}
        </button>
      ) : null}
    </Section>
  );
}

function Admin({ id, name, erased }: { id: string; name: string; erased: boolean }) {
  const { t } = useI18n();
  const client = useKokyakuClient();
  const queries = useQueryClient();
  const [other, setOther] = useState('');
  const [asked, setAsked] = useState<string | null>(null);
  const [confirmErase, setConfirmErase] = useState(false);
  const [reason, setReason] = useState('');
  const preview = useMergePreviewQuery({ survivorId: id, otherIds: asked ? [asked] : [] }, { enabled: Boolean(asked) });
  const merge = useMergeCustomersMutation({ onSuccess: () => (setAsked(null), setOther(''), queries.invalidateQueries()) });
  const erase = useEraseCustomerMutation({ onSuccess: () => (setConfirmErase(false), queries.invalidateQueries()) });
  const [exportError, setExportError] = useState<KokyakuClientError | null>(null);
  const exportData = async () => {
    try {
      const result = await client.request(CustomerDataExportDocument, { id });
      download(`customer-${id}.json`, JSON.stringify(result.customerDataExport, null, 2), 'application/json');
    } catch (error) {
      setExportError(error as KokyakuClientError);
    }
  };
  return (
    <>
      {!erased ? (
        <Section title={t('profile.merge')}>
          <form
            className="stack"
            onSubmit={(e) => {
              e.preventDefault();
              setAsked(other.trim());
            }}
          >
            <label htmlFor="merge-id">{t('profile.mergeLabel')}</label>
            <input id="merge-id" inputMode="numeric" value={other} onChange={(e) => setOther(e.target.value)} required />
            <button type="submit">{t('profile.mergePreview')}</button>
          </form>
          {preview.error ? <ErrorNote error={preview.error} /> : null}
          {preview.data && asked ? (
            <div className="stack" role="status">
              <p>
                {t('profile.mergeSummary', {
                  orders: preview.data.mergePreview.ordersMoved,
                  events: preview.data.mergePreview.eventsMoved,
                  aliases: preview.data.mergePreview.aliases.join(', ') || t('none'),
                })}
              </p>
              <button type="button" className="primary" onClick={() => merge.mutate({ survivorId: id, otherIds: [asked] })} disabled={merge.isPending}>
                {t('profile.mergeDo')}
              </button>
            </div>
          ) : null}
          {merge.isSuccess ? <p role="status">{t('profile.mergeDone')}</p> : null}
          {merge.error ? <ErrorNote error={merge.error} /> : null}
        </Section>
      ) : null}
      <Section title={t('profile.privacy')}>
        <div className="row">
          <button type="button" onClick={() => void exportData()}>
            {t('profile.export')}
          </button>
          {!erased ? (
            <button type="button" className="danger" onClick={() => setConfirmErase(true)}>
              {t('profile.erase')}
            </button>
          ) : null}
        </div>
        {exportError ? <ErrorNote error={exportError} /> : null}
        <ConfirmDialog
          open={confirmErase}
          title={t('profile.erase')}
          confirmLabel={t('profile.erase')}
          danger
          busy={erase.isPending}
          onCancel={() => setConfirmErase(false)}
          onConfirm={() => erase.mutate({ id, reason: reason || undefined })}
        >
          <p>{t('profile.eraseConfirm', { name })}</p>
          <label htmlFor="erase-reason">{t('profile.eraseReason')}</label>
          <input id="erase-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
          {erase.error ? <ErrorNote error={erase.error} /> : null}
        </ConfirmDialog>
      </Section>
    </>
  );
}
