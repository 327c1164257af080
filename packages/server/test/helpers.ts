export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[];
}

/** POSTs one GraphQL operation over real HTTP. */
export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: GraphQLResponse['errors'] };
  return { status: res.status, ...body };
}

export const CUSTOMER_360 = /* GraphQL */ `
  query Customer360($externalId: String!) {
    customer(externalId: $externalId) {
      id
      externalId
      email
      phone
      tags
      customFields
      metrics { ordersCount totalSpent averageOrderValue firstOrderAt lastOrderAt currency }
      orders(first: 10) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { externalId placedAt status total lines { quantity unitPrice total product { externalId name } } }
      }
    }
  }
`;

export const RECORD_ORDERS = /* GraphQL */ `
  mutation RecordOrders($orders: [OrderInput!]!) {
    recordOrders(orders: $orders) { received created updated unchanged failed errors { index field message externalId } }
  }
`;

export const UPSERT_CUSTOMERS = /* GraphQL */ `
  mutation UpsertCustomers($customers: [CustomerInput!]!) {
    upsertCustomers(customers: $customers) { received created updated unchanged failed errors { index field message externalId } }
  }
`;

export const UPSERT_PRODUCTS = /* GraphQL */ `
  mutation UpsertProducts($products: [ProductInput!]!) {
    upsertProducts(products: $products) { received created updated unchanged failed errors { index field message externalId } }
  }
`;

export const TRACK_EVENTS = /* GraphQL */ `
  mutation TrackEvents($events: [EventInput!]!) {
    trackEvents(events: $events) { received created updated unchanged failed errors { index field message externalId } }
  }
`;
