/** The example shop's own API (not Kokyaku's): catalog and the demo session. */

export interface Product {
  sku: string;
  name: string;
  category: string;
  price: number;
}

export interface Shopper {
  id: string;
  firstName: string;
  lastName: string;
  orders?: number;
}

async function json<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, { ...init, headers: { 'content-type': 'application/json', ...init?.headers } });
  if (!res.ok) throw new Error(((await res.json().catch(() => ({}))) as { error?: string }).error ?? `${path}: ${res.status}`);
  return (await res.json()) as T;
}

export const shopApi = {
  products: () => json<Product[]>('/api/products'),
  product: (sku: string) => json<Product>(`/api/products/${encodeURIComponent(sku)}`),
  session: () => json<{ customer: Shopper | null }>('/api/session'),
  demoCustomers: () => json<Shopper[]>('/api/demo-customers'),
  signIn: (customerId: string) => json<{ customer: Shopper }>('/api/session', { method: 'POST', body: JSON.stringify({ customerId }) }),
  signOut: () => json<{ customer: null }>('/api/session', { method: 'DELETE' }),
};

export const yen = (amount: number, currency = 'JPY') => new Intl.NumberFormat('ja-JP', { style: 'currency', currency }).format(amount);
