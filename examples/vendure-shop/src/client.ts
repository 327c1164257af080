/**
 * A small GraphQL client for Vendure's Shop and Admin APIs: keeps the session token Vendure
 * returns in its `vendure-auth-token` header, like a storefront or the admin does.
 */
/** PostgreSQL's answers to two transactions in each other's way: nothing was written, try again. */
const RETRYABLE = /deadlock detected|could not serialize access/;

export class VendureClient {
  token: string | null;

  constructor(
    readonly url: string,
    token: string | null = null,
  ) {
    this.token = token;
  }

  async query<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const { data, errors } = await this.request<T>(query, variables);
      if (!errors?.length) return data!;
      // Concurrent checkouts of the same variants can deadlock in Vendure's stock allocation.
      // Vendure rolls the whole request back and answers with the error (its own retry looks for
      // a code name PostgreSQL never sends), so a storefront tries the same request again.
      if (attempt < 5 && errors.some((e) => RETRYABLE.test(e.message))) {
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 50));
        continue;
      }
      throw new Error(`${errors[0]!.message} (${errors[0]!.extensions?.code ?? 'no code'})`);
    }
  }

  /** The whole answer, errors included (tests of refusals read the error codes). */
  async request<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}) {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const token = response.headers.get('vendure-auth-token');
    if (token) this.token = token;
    const body = (await response.json()) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
    return body;
  }
}

/** Sign in to the Admin API (the superadmin by default). */
export async function adminClient(base: string, identifier = 'superadmin', password = 'superadmin'): Promise<VendureClient> {
  const client = new VendureClient(`${base}/admin-api`);
  const { login } = await client.query<{ login: { __typename: string; message?: string } }>(
    `mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { __typename ... on ErrorResult { message } } }`,
    { u: identifier, p: password },
  );
  if (login.__typename !== 'CurrentUser') throw new Error(`Admin sign-in failed: ${login.message}`);
  return client;
}
