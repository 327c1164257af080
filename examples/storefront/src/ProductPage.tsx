import { useQuery } from '@tanstack/react-query';
import { Recommendations } from './Recommendations.js';
import { Link } from './router.js';
import { shopApi, yen } from './shop.js';

export function ProductPage({ sku }: { sku: string }) {
  const product = useQuery({ queryKey: ['product', sku], queryFn: () => shopApi.product(sku) });
  return (
    <>
      <p>
        <Link to="/">← All products</Link>
      </p>
      {product.error ? <p role="alert">{String(product.error)}</p> : null}
      {product.data ? (
        <section className="product">
          <h1>{product.data.name}</h1>
          <p>
            {product.data.category} · {yen(product.data.price)}
          </p>
        </section>
      ) : null}
      <Recommendations title="Bought together" testId="bought-together" variables={{ productExternalId: sku, strategy: 'BOUGHT_TOGETHER', first: 4 }} />
    </>
  );
}
