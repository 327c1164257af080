import { createKokyakuClient } from '@kokyaku/client';
import { KokyakuProvider, useKokyakuClient } from '@kokyaku/client/react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ProductPage } from './ProductPage.js';
import { Recommendations } from './Recommendations.js';
import { Link, usePath } from './router.js';
import { type Shopper, shopApi, yen } from './shop.js';
import { StaffPage } from './StaffPage.js';

/** Shoppers speak to Kokyaku with the shop's session cookie: the shop maps it to a STOREFRONT actor. */
const shopperClient = createKokyakuClient({ url: '/crm/graphql' });

export function App() {
  const path = usePath();
  const session = useQuery({ queryKey: ['session'], queryFn: shopApi.session });
  const shopper = session.data?.customer ?? null;
  const product = /^\/products\/(.+)$/.exec(path)?.[1];
  // Recommendations need the session cookie the shop sets with /api/session.
  const page = path.startsWith('/staff') ? (
    <StaffPage />
  ) : !session.data ? (
    session.error ? (
      <p role="alert">{String(session.error)}</p>
    ) : (
      <p>Loading…</p>
    )
  ) : product ? (
    <ProductPage sku={decodeURIComponent(product)} />
  ) : (
    <Home shopper={shopper} />
  );
  return (
    <KokyakuProvider client={shopperClient}>
      {/* A new shopper means new recommendations: the cache is keyed by who is signed in. */}
      <Layout shopper={shopper} key={shopper?.id ?? 'visitor'}>
        {page}
      </Layout>
    </KokyakuProvider>
  );
}

function Layout({ shopper, children }: { shopper: Shopper | null; children: React.ReactNode }) {
  const queryClient = useQueryClient();
  const signOut = useMutation({
    mutationFn: shopApi.signOut,
    onSuccess: () => queryClient.resetQueries(),
  });
  return (
    <>
      <header>
        <Link to="/" className="brand">
          Kokyaku Coffee
        </Link>
        <nav>
          <Link to="/">Shop</Link>
          <Link to="/staff">Staff</Link>
          {shopper ? (
            <span className="who" data-testid="signed-in">
              {shopper.lastName} {shopper.firstName} 様 <Points />{' '}
              <button type="button" onClick={() => signOut.mutate()}>
                Sign out
              </button>
            </span>
          ) : null}
        </nav>
      </header>
      <main>{children}</main>
    </>
  );
}

/**
 * The shopper's loyalty points: a field of the loyalty plugin (examples/plugin-loyalty), so not in
 * the generated client; the document and its result type are written here.
 */
function Points() {
  const client = useKokyakuClient();
  const { data } = useQuery({
    queryKey: ['my-loyalty'],
    queryFn: () => client.request<{ myLoyalty: { balance: number } | null }, Record<string, never>>('query MyLoyalty { myLoyalty { balance } }'),
  });
  return data?.myLoyalty ? <small data-testid="points">{data.myLoyalty.balance.toLocaleString('en')} pt</small> : null;
}

function Home({ shopper }: { shopper: Shopper | null }) {
  const products = useQuery({ queryKey: ['products'], queryFn: shopApi.products });
  return (
    <>
      {shopper ? (
        <Recommendations title="Recommended for you" testId="for-you" variables={{ strategy: 'FOR_CUSTOMER', first: 4 }} />
      ) : (
        <>
          <SignIn />
          <Recommendations title="Popular now" testId="popular" variables={{ strategy: 'POPULAR', first: 4 }} />
        </>
      )}
      <section>
        <h2>All products</h2>
        {products.data ? (
          <ul className="grid">
            {products.data.map((p) => (
              <li key={p.sku} className="card">
                <Link to={`/products/${encodeURIComponent(p.sku)}`}>{p.name}</Link>
                <small>{p.category}</small>
                <span>{yen(p.price)}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p>Loading…</p>
        )}
      </section>
    </>
  );
}

function SignIn() {
  const queryClient = useQueryClient();
  const customers = useQuery({ queryKey: ['demo-customers'], queryFn: shopApi.demoCustomers });
  const signIn = useMutation({
    mutationFn: shopApi.signIn,
    onSuccess: () => queryClient.resetQueries(),
  });
  return (
    <section className="sign-in">
      <h2>Sign in as a demo customer</h2>
      <p>A demo sign-in without a password: the shop keeps who you are in its own session cookie, and Kokyaku sees a storefront caller for that customer only.</p>
      <ul data-testid="demo-customers">
        {customers.data?.map((c) => (
          <li key={c.id}>
            <button type="button" onClick={() => signIn.mutate(c.id)}>
              {c.lastName} {c.firstName} <small>({c.orders} orders)</small>
            </button>
          </li>
        ))}
      </ul>
      {signIn.error ? <p role="alert">{String(signIn.error)}</p> : null}
    </section>
  );
}
