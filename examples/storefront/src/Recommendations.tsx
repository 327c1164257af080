import type { RecommendationsQueryVariables } from '@kokyaku/client';
import { useRecommendationsQuery } from '@kokyaku/client/react';
import { Link } from './router.js';
import { yen } from './shop.js';

/** A block of recommended products, each with the reason Kokyaku gives for it. */
export function Recommendations({ title, variables, testId }: { title: string; variables: RecommendationsQueryVariables; testId: string }) {
  const { data, error, isPending } = useRecommendationsQuery(variables);
  return (
    <section data-testid={testId}>
      <h2>{title}</h2>
      {isPending ? <p>Loading…</p> : null}
      {error ? <p role="alert">{(error as Error).message}</p> : null}
      {data && data.recommendations.length === 0 ? <p>Nothing to recommend yet.</p> : null}
      <ul className="grid">
        {data?.recommendations.map((r) => (
          <li key={r.product.externalId} className="card recommendation">
            <Link to={`/products/${encodeURIComponent(r.product.externalId)}`}>{r.product.name ?? r.product.externalId}</Link>
            {r.product.price != null ? <span>{yen(r.product.price, r.product.currency ?? 'JPY')}</span> : null}
            <small className="reason">{r.reason}</small>
          </li>
        ))}
      </ul>
    </section>
  );
}
