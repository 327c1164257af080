/** Neighbours kept per product and kind. */
export const TOP_K = 50;
/** Shrinkage of co-occurrence scores: a pair seen n times keeps n / (n + SHRINK) of its score. */
export const SHRINK = 3;
/** Products sharing a category or tag considered for SIMILAR (the most bought first). */
export const ALIKE_CANDIDATES = 200;

export type NeighbourKind = 'BOUGHT_TOGETHER' | 'ALSO_BOUGHT' | 'SIMILAR';

/** What scoring needs to know of a product. */
export interface ProductFacts {
  id: string;
  /** Categories as `c:<name>` and tags as `t:<name>`. */
  features: ReadonlySet<string>;
  priceMinor: number;
  /** Orders (baskets) containing it. */
  baskets: number;
  /** Customers who bought it. */
  customers: number;
}

export interface Partner {
  product: ProductFacts;
  /** Orders containing both. */
  baskets: number;
  /** Customers who bought both. */
  customers: number;
}

export interface NeighbourRow {
  productId: string;
  kind: NeighbourKind;
  rank: number;
  neighbourId: string;
  score: number;
  support: number;
}

export function featuresOf(categories: readonly string[], tags: readonly string[]): Set<string> {
  return new Set([...categories.map((c) => `c:${c}`), ...tags.map((t) => `t:${t}`)]);
}

/** Product ids are bigints: compare them as numbers of any length. */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Cosine of two occurrence counts, shrunk by the support of the pair. */
function cosine(pair: number, a: number, b: number): number {
  return (pair / Math.sqrt(Math.max(a, 1) * Math.max(b, 1))) * (pair / (pair + SHRINK));
}

/** Jaccard of categories and tags, times price closeness (1 at the same price). */
export function attributeSimilarity(a: ProductFacts, b: ProductFacts): number {
  let shared = 0;
  for (const f of a.features) if (b.features.has(f)) shared++;
  const union = a.features.size + b.features.size - shared;
  const jaccard = shared / Math.max(1, union);
  if (jaccard === 0) return 0;
  const price = a.priceMinor > 0 && b.priceMinor > 0 ? 1 / (1 + Math.abs(Math.log(a.priceMinor / b.priceMinor))) : 0.5;
  return jaccard * price;
}

/** The order of SIMILAR candidates by attributes: most customers first, then id. */
export function alikeOrder(a: ProductFacts, b: ProductFacts): number {
  return b.customers - a.customers || compareIds(a.id, b.id);
}

/**
 * The three top-K lists of one product:
 * - BOUGHT_TOGETHER: cosine of the orders containing each, shrunk by support;
 * - ALSO_BOUGHT: cosine of the customers who bought each, shrunk by support;
 * - SIMILAR: half ALSO_BOUGHT, half attributes, over the products bought by the same customers
 *   and the `alike` ones (sharing a category or tag), so new products get neighbours too.
 * Ties go to more support, then the lower id.
 */
export function neighbourLists(product: ProductFacts, partners: readonly Partner[], alike: readonly ProductFacts[]): NeighbourRow[] {
  type Scored = { id: string; score: number; support: number };
  const together: Scored[] = [];
  const also: Scored[] = [];
  const similar = new Map<string, Scored>();
  for (const p of partners) {
    if (p.product.id === product.id) continue;
    if (p.baskets > 0) together.push({ id: p.product.id, score: cosine(p.baskets, product.baskets, p.product.baskets), support: p.baskets });
    if (p.customers > 0) {
      const c = cosine(p.customers, product.customers, p.product.customers);
      also.push({ id: p.product.id, score: c, support: p.customers });
      similar.set(p.product.id, { id: p.product.id, score: 0.5 * c + 0.5 * attributeSimilarity(product, p.product), support: p.customers });
    }
  }
  for (const b of alike) {
    if (b.id === product.id || similar.has(b.id)) continue;
    const score = 0.5 * attributeSimilarity(product, b);
    if (score > 0) similar.set(b.id, { id: b.id, score, support: 0 });
  }
  const rows: NeighbourRow[] = [];
  const rank = (kind: NeighbourKind, list: Scored[]) => {
    const top = list.filter((s) => s.score > 0).sort((x, y) => y.score - x.score || y.support - x.support || compareIds(x.id, y.id));
    top.slice(0, TOP_K).forEach((s, i) => rows.push({ productId: product.id, kind, rank: i + 1, neighbourId: s.id, score: Math.fround(s.score), support: s.support }));
  };
  rank('BOUGHT_TOGETHER', together);
  rank('ALSO_BOUGHT', also);
  rank('SIMILAR', [...similar.values()]);
  return rows;
}
