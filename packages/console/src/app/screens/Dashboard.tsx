import { useClvModelQuery, useCohortReportQuery, useDecileReportQuery, useKpiReportQuery, useRepeatPurchaseReportQuery, useRfmReportQuery } from '@kokyaku/client/react';
import { useLocation } from 'wouter';
import { useI18n } from '../i18n.js';
import { ErrorNote, Loading, Section, Stat } from '../ui.js';

/** CHAMPIONS -> Champions, ALMOST_LOST -> Almost lost: readable in a narrow cell. */
export function groupName(group: string | null | undefined): string {
  if (!group) return '';
  const words = group.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The segment query of one RFM cell: recency score and FM score, FM being floor((F + M + 1) / 2). */
export function rfmCellQuery(recency: number, fm: number): string {
  const pairs: string[] = [];
  for (let f = 1; f <= 5; f++) for (let m = 1; m <= 5; m++) if (Math.floor((f + m + 1) / 2) === fm) pairs.push(`(frequency_score = ${f} AND monetary_score = ${m})`);
  return `recency_score = ${recency} AND (${pairs.join(' OR ')})`;
}

/**
 * Background of a heatmap cell: the share of the largest value as a blue of that strength. Light
 * blues (down to 62% lightness) carry dark text, dark ones (from 45%) white text: both keep a
 * contrast of 4.5:1, which the blues between would not.
 */
export function heat(value: number, max: number): { background: string; color: string } {
  const share = max > 0 ? Math.min(1, value / max) : 0;
  if (share <= 0.6) return { background: `hsl(212 80% ${97 - (share / 0.6) * 35}%)`, color: '#102a43' };
  return { background: `hsl(212 80% ${45 - ((share - 0.6) / 0.4) * 15}%)`, color: '#ffffff' };
}

export function Dashboard() {
  const { t } = useI18n();
  return (
    <div className="dashboard">
      <h1>{t('dashboard.title')}</h1>
      <Kpis />
      <div className="grid">
        <Rfm />
        <Repeat />
        <Deciles />
        <Clv />
      </div>
      <Cohorts />
    </div>
  );
}

function Kpis() {
  const { t, money, number, month } = useI18n();
  const kpi = useKpiReportQuery({ period: 'MONTH' });
  if (kpi.isPending) return <Loading />;
  if (kpi.error) return <ErrorNote error={kpi.error} retry={() => void kpi.refetch()} />;
  const periods = kpi.data.kpiReport.periods;
  const revenue = periods.reduce((s, p) => s + p.revenue, 0);
  const orders = periods.reduce((s, p) => s + p.orders, 0);
  const newCustomers = periods.reduce((s, p) => s + p.newCustomers, 0);
  const maxRevenue = Math.max(1, ...periods.map((p) => p.revenue));
  const maxOrders = Math.max(1, ...periods.map((p) => p.orders));
  const width = Math.max(1, periods.length) * 40;
  return (
    <>
      <dl className="kpis" aria-label={t('dashboard.title')}>
        <Stat label={t('dashboard.revenue')} value={money(revenue)} hint={`${kpi.data.kpiReport.from} – ${kpi.data.kpiReport.to}`} />
        <Stat label={t('dashboard.orders')} value={number(orders)} />
        <Stat label={t('dashboard.aov')} value={money(orders ? revenue / orders : 0)} />
        <Stat label={t('dashboard.newCustomers')} value={number(newCustomers)} />
      </dl>
      <Section title={t('dashboard.byMonth')}>
        <figure className="chart">
          <svg viewBox={`0 0 ${width} 160`} role="img" aria-label={t('dashboard.byMonth')} preserveAspectRatio="none">
            {periods.map((p, i) => {
              const h = (p.revenue / maxRevenue) * 140;
              return <rect key={p.start} x={i * 40 + 6} y={150 - h} width={28} height={h} className="bar" />;
            })}
            <polyline className="line" fill="none" points={periods.map((p, i) => `${i * 40 + 20},${150 - (p.orders / maxOrders) * 140}`).join(' ')} />
          </svg>
          <figcaption className="legend">
            <span className="key bar-key" /> {t('dashboard.revenue')} <span className="key line-key" /> {t('dashboard.orders')}
          </figcaption>
        </figure>
        <div className="scroll" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('dashboard.month')}</th>
                <th scope="col" className="num">
                  {t('dashboard.revenue')}
                </th>
                <th scope="col" className="num">
                  {t('dashboard.orders')}
                </th>
                <th scope="col" className="num">
                  {t('dashboard.newCustomers')}
                </th>
                <th scope="col" className="num">
                  {t('dashboard.returning')}
                </th>
              </tr>
            </thead>
            <tbody>
              {periods.map((p) => (
                <tr key={p.start}>
                  <th scope="row">{month(p.start)}</th>
                  <td className="num">{money(p.revenue)}</td>
                  <td className="num">{number(p.orders)}</td>
                  <td className="num">{number(p.newCustomers)}</td>
                  <td className="num">{number(p.returningCustomers)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
    </>
  );
}

function Rfm() {
  const { t, number, money, percent } = useI18n();
  const [, navigate] = useLocation();
  const rfm = useRfmReportQuery();
  if (rfm.isPending) return <Loading />;
  if (rfm.error) return <ErrorNote error={rfm.error} />;
  const cells = rfm.data.rfmReport.cells;
  const max = Math.max(1, ...cells.map((c) => c.customers));
  const cell = (r: number, fm: number) => cells.find((c) => c.recency === r && c.fm === fm);
  return (
    <Section title={t('dashboard.rfm')}>
      <p className="muted">{t('dashboard.rfmHelp')}</p>
      <table className="heatmap rfm">
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">{t('dashboard.recency')}</span>R \ FM
            </th>
            {[1, 2, 3, 4, 5].map((fm) => (
              <th key={fm} scope="col">
                {fm}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {[5, 4, 3, 2, 1].map((r) => (
            <tr key={r}>
              <th scope="row">{r}</th>
              {[1, 2, 3, 4, 5].map((fm) => {
                const c = cell(r, fm);
                return (
                  <td key={fm} style={heat(c?.customers ?? 0, max)}>
                    <button
                      type="button"
                      className="cell"
                      onClick={() =>
                        navigate(`/segments/new?query=${encodeURIComponent(rfmCellQuery(r, fm))}&name=${encodeURIComponent(`RFM ${r}-${fm} ${c?.group ?? ''}`.trim())}`)
                      }
                    >
                      <span className="visually-hidden">{`R${r} FM${fm}: `}</span>
                      <span className="cell-n">{number(c?.customers ?? 0)}</span>
                      <span className="cell-g">{groupName(c?.group)}</span>
                    </button>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <details>
        <summary>{t('dashboard.groups')}</summary>
        <table>
          <tbody>
            {rfm.data.rfmReport.groups.map((g) => (
              <tr key={g.group}>
                <th scope="row">{g.group}</th>
                <td className="num">{number(g.customers)}</td>
                <td className="num">{money(g.revenue)}</td>
                <td className="num">{percent(g.revenueShare)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </Section>
  );
}

function Repeat() {
  const { t, number, percent } = useI18n();
  const repeat = useRepeatPurchaseReportQuery();
  if (repeat.isPending) return <Loading />;
  if (repeat.error) return <ErrorNote error={repeat.error} />;
  const r = repeat.data.repeatPurchaseReport;
  return (
    <Section title={t('dashboard.repeat')}>
      <p className="big">{percent(r.repeatRate)}</p>
      <p>{t('dashboard.repeatCustomers', { repeat: number(r.repeatCustomers), all: number(r.customers) })}</p>
      <dl className="stats">
        <Stat label={t('dashboard.daysToSecond')} value={number(r.medianDaysToSecondOrder, 1)} />
      </dl>
    </Section>
  );
}

function Deciles() {
  const { t, money, percent, number } = useI18n();
  const deciles = useDecileReportQuery({});
  if (deciles.isPending) return <Loading />;
  if (deciles.error) return <ErrorNote error={deciles.error} />;
  const rows = deciles.data.decileReport.deciles;
  const max = Math.max(0.0001, ...rows.map((d) => d.share));
  return (
    <Section title={t('dashboard.deciles')}>
      <table className="deciles">
        <thead>
          <tr>
            <th scope="col">{t('dashboard.decile')}</th>
            <th scope="col">{t('dashboard.customers')}</th>
            <th scope="col">{t('dashboard.revenue')}</th>
            <th scope="col">{t('dashboard.share')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <tr key={d.decile}>
              <th scope="row">{d.decile}</th>
              <td className="num">{number(d.customers)}</td>
              <td className="num">{money(d.revenue)}</td>
              <td className="share">
                <span className="share-bar" style={{ width: `${(d.share / max) * 100}%` }} aria-hidden="true" />
                <span>{percent(d.share)}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function Clv() {
  const { t, dateTime } = useI18n();
  const clv = useClvModelQuery();
  if (clv.isPending) return <Loading />;
  if (clv.error) return <ErrorNote error={clv.error} />;
  const model = clv.data.clvModel;
  return (
    <Section title={t('dashboard.clvWarnings')}>
      {!model ? (
        <p role="note" className="warning">
          {t('dashboard.clvNone')}
        </p>
      ) : (
        <>
          <p className="muted">
            BG/NBD × Gamma-Gamma · {model.horizonMonths} mo · {dateTime(model.fittedAt)}
          </p>
          {model.warnings.length ? (
            <div className="warning" role="note">
              <ul>
                {model.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            </div>
          ) : null}
        </>
      )}
    </Section>
  );
}

function Cohorts() {
  const { t, month, percent, number } = useI18n();
  const cohorts = useCohortReportQuery({});
  if (cohorts.isPending) return <Loading />;
  if (cohorts.error) return <ErrorNote error={cohorts.error} />;
  const rows = cohorts.data.cohortReport.cohorts;
  const months = Math.max(0, ...rows.map((c) => c.retention.length));
  return (
    <Section title={t('dashboard.cohorts')}>
      <div className="scroll" tabIndex={0}>
        <table className="heatmap cohorts">
          <thead>
            <tr>
              <th scope="col">{t('dashboard.cohort')}</th>
              <th scope="col">{t('dashboard.customers')}</th>
              {Array.from({ length: months }, (_, i) => (
                <th key={i} scope="col">
                  {t('dashboard.monthN', { n: i })}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={c.cohort}>
                <th scope="row">{month(c.cohort)}</th>
                <td className="num">{number(c.customers)}</td>
                {Array.from({ length: months }, (_, i) => {
                  const r = c.retention.find((x) => x.month === i);
                  return (
                    <td key={i} style={r ? heat(r.rate, 1) : undefined} className="num">
                      {r ? percent(r.rate) : ''}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}
