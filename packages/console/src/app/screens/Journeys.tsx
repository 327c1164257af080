import { useActivateJourneyMutation, useCampaignReportQuery, useJourneyQuery, useJourneysOverviewQuery, usePauseJourneyMutation } from '@kokyaku/client/react';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';
import { useI18n } from '../i18n.js';
import { ErrorNote, Loading, Section, Stat } from '../ui.js';
import { useViewer } from '../viewer.js';

export function Journeys() {
  const { t, number, money } = useI18n();
  const journeys = useJourneysOverviewQuery({ first: 50 });
  return (
    <div>
      <h1>{t('journeys.title')}</h1>
      {journeys.isPending ? <Loading /> : journeys.error ? <ErrorNote error={journeys.error} /> : null}
      <div className="scroll" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('segments.name')}</th>
              <th scope="col">{t('work.status')}</th>
              <th scope="col">{t('journeys.runs')}</th>
              <th scope="col">{t('journeys.active')}</th>
              <th scope="col">{t('journeys.sent')}</th>
              <th scope="col">{t('journeys.withheld')}</th>
              <th scope="col">{t('journeys.revenue')}</th>
            </tr>
          </thead>
          <tbody>
            {journeys.data?.journeys.nodes.map((j) => (
              <tr key={j.id}>
                <th scope="row">
                  <Link href={`/journeys/${j.id}`}>{j.name}</Link>
                </th>
                <td>
                  <span className={`tag status-${j.status}`}>{j.status}</span>
                </td>
                <td className="num">{number(j.report.runs)}</td>
                <td className="num">{number(j.report.active)}</td>
                <td className="num">{number(j.report.sent)}</td>
                <td className="num">{number(j.report.withheld)}</td>
                <td className="num">{money(j.report.attributedRevenue)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {journeys.data?.journeys.nodes.length === 0 ? <p className="muted">{t('empty')}</p> : null}
    </div>
  );
}

interface Step {
  id: string;
  type: string;
  [key: string]: unknown;
}

/** A step in words: its type and its most telling setting. */
function describe(step: Step): string {
  const detail = step.subject ?? step.channel ?? step.duration ?? step.days ?? step.condition ?? step.title ?? '';
  return typeof detail === 'string' || typeof detail === 'number' ? String(detail) : JSON.stringify(detail);
}

export function JourneyDetail({ id }: { id: string }) {
  const { t, number, money, percent } = useI18n();
  const viewer = useViewer();
  const queries = useQueryClient();
  const journey = useJourneyQuery({ id });
  const [cost, setCost] = useState('');
  const campaign = useCampaignReportQuery({ cost: Number(cost) || 0, journeyId: id }, { enabled: Number(cost) > 0 });
  const refresh = () => queries.invalidateQueries({ predicate: (q) => ['Journey', 'JourneysOverview'].includes(String(q.queryKey[0])) });
  const pause = usePauseJourneyMutation({ onSuccess: refresh });
  const activate = useActivateJourneyMutation({ onSuccess: refresh });
  if (journey.isPending) return <Loading />;
  if (journey.error) return <ErrorNote error={journey.error} />;
  const j = journey.data.journey;
  if (!j) return <p role="alert">404</p>;
  const definition = j.definition as { trigger?: { type?: string }; steps?: Step[] };
  const report = j.report;
  const stepReport = new Map(report.steps.map((s) => [s.stepId, s]));
  return (
    <div>
      <div className="page-head">
        <h1>
          {j.name} <span className={`tag status-${j.status}`}>{j.status}</span>
        </h1>
        {viewer.can.manageSegments ? (
          <div className="row">
            {j.status === 'ACTIVE' ? (
              <button type="button" onClick={() => pause.mutate({ id })} disabled={pause.isPending}>
                {t('journeys.pause')}
              </button>
            ) : j.status !== 'ARCHIVED' ? (
              <button type="button" className="primary" onClick={() => activate.mutate({ id })} disabled={activate.isPending}>
                {t('journeys.activate')}
              </button>
            ) : null}
          </div>
        ) : null}
      </div>
      {pause.error || activate.error ? <ErrorNote error={pause.error ?? activate.error} /> : null}
      <dl className="kpis">
        <Stat label={t('journeys.runs')} value={number(report.runs)} />
        <Stat label={t('journeys.sent')} value={number(report.sent)} />
        <Stat label={t('journeys.withheld')} value={number(report.withheld)} />
        <Stat label={t('journeys.revenue')} value={money(report.attributedRevenue)} hint={`${report.attributionDays} d`} />
      </dl>
      <Section title={t('journeys.steps')}>
        <ol className="flow">
          <li className="trigger">
            <span className="tag">TRIGGER</span> {definition.trigger?.type ?? ''}
          </li>
          {(definition.steps ?? []).map((step) => {
            const counts = stepReport.get(step.id);
            return (
              <li key={step.id} className="step">
                <div>
                  <span className="tag">{step.type}</span> <strong>{step.id}</strong> <span className="muted">{describe(step)}</span>
                </div>
                <dl className="step-counts">
                  <Stat label={t('journeys.waiting')} value={number(counts?.waiting ?? 0)} />
                  <Stat label={t('journeys.sent')} value={number(counts?.sent ?? 0)} />
                  <Stat label={t('journeys.withheld')} value={number(counts?.withheld ?? 0)} />
                </dl>
                {counts?.withheldByReason.length ? (
                  <p className="muted">
                    {t('journeys.why')}: {counts.withheldByReason.map((r) => `${r.reason} ${number(r.count)}`).join(', ')}
                  </p>
                ) : null}
              </li>
            );
          })}
        </ol>
      </Section>
      <Section title={`${t('journeys.roi')} / ${t('journeys.roas')}`}>
        <label htmlFor="campaign-cost">{t('journeys.cost')}</label>
        <input id="campaign-cost" type="number" min="0" inputMode="decimal" value={cost} onChange={(e) => setCost(e.target.value)} />
        {campaign.error ? <ErrorNote error={campaign.error} /> : null}
        {campaign.data ? (
          <dl className="stats">
            <Stat label={t('journeys.revenue')} value={money(campaign.data.campaignReport.revenue)} />
            <Stat label={t('journeys.roi')} value={percent(campaign.data.campaignReport.roi)} />
            <Stat label={t('journeys.roas')} value={number(campaign.data.campaignReport.roas, 2)} />
          </dl>
        ) : null}
      </Section>
    </div>
  );
}
