import { Drop, Liquid, type Template } from 'liquidjs';
import type { KokyakuContext } from '../shared/context.js';
import type { CustomerRecord } from '../customers/customer.service.js';
import type { Recommendation, RecommendationService } from '../recommendations/recommendation.service.js';
import { KokyakuError } from '../shared/errors.js';
import { sql } from '../shared/sql.js';
import { toMajorUnits } from '../shared/money.js';

/**
 * Message templates: Liquid (liquidjs), the language of Shopify's own notifications. A template
 * sees the customer, the order or event that started the journey, recommendations and the links
 * of the message; it cannot read files, run code, or run long: parsing and rendering are bounded
 * in size, time and memory, and a template over a limit fails with a clear message.
 */

/** Bounds on what one template may cost. */
export const TEMPLATE_LIMITS = {
  /** Characters of template source. */
  source: 20_000,
  /** Characters the parser may read (includes). */
  parse: 50_000,
  /** Milliseconds of rendering. */
  renderMs: 200,
  /** Characters the rendering may allocate (strings, arrays). */
  memory: 1_000_000,
  /** Characters of output. */
  output: 100_000,
} as const;

/** Blocks a template may `{% render %}`; the only "files" a template can reach. */
const PARTIALS: Record<string, string> = {
  recommendations: `{% for item in items limit: 4 %}- {{ item.name }}{% if item.price %} {{ item.price | money }}{% endif %}
{% endfor %}`,
  recommendations_html: `<ul>{% for item in items limit: 4 %}<li>{{ item.name }}{% if item.price %} {{ item.price | money }}{% endif %}</li>{% endfor %}</ul>`,
};

export interface TemplateSet {
  subject?: string | null;
  text: string;
  html?: string | null;
}

export interface RenderedMessage {
  subject: string | null;
  text: string;
  html: string | null;
}

function engine(options: { html: boolean; currency: string; locale: string }): Liquid {
  const liquid = new Liquid({
    templates: PARTIALS,
    strictFilters: true,
    ownPropertyOnly: true,
    outputEscape: options.html ? 'escape' : undefined,
    parseLimit: TEMPLATE_LIMITS.parse,
    renderLimit: TEMPLATE_LIMITS.renderMs,
    memoryLimit: TEMPLATE_LIMITS.memory,
    cache: false,
  });
  const money = new Intl.NumberFormat(options.locale, { style: 'currency', currency: options.currency });
  liquid.registerFilter('money', (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? money.format(value) : ''));
  return liquid;
}

const engines = new Map<string, Liquid>();
function engineFor(shop: KokyakuContext['shop'], html: boolean): Liquid {
  const locale = localeOf(shop);
  const key = `${shop.currency}|${locale}|${html}`;
  let liquid = engines.get(key);
  if (!liquid) engines.set(key, (liquid = engine({ html, currency: shop.currency, locale })));
  return liquid;
}

function localeOf(shop: KokyakuContext['shop']): string {
  return shop.defaultCountry === 'JP' ? 'ja-JP' : 'en-US';
}

/**
 * Parses each part of a template set; the first problem is a BAD_USER_INPUT naming `field` and
 * the part (`…subject`, `…text`, `…html`), with the line and column the parser gave.
 */
export function checkTemplates(shop: KokyakuContext['shop'], set: TemplateSet, field: string): void {
  for (const part of ['subject', 'text', 'html'] as const) {
    const source = set[part];
    if (source == null) continue;
    parse(shop, source, part === 'html', `${field}.${part}`);
  }
}

function parse(shop: KokyakuContext['shop'], source: string, html: boolean, field: string): Template[] {
  if (source.length > TEMPLATE_LIMITS.source) {
    throw KokyakuError.badInput(`${field}: a template holds at most ${TEMPLATE_LIMITS.source} characters.`, { field });
  }
  try {
    return engineFor(shop, html).parse(source);
  } catch (error) {
    throw KokyakuError.badInput(`${field}: ${(error as Error).message}`, { field });
  }
}

/** Renders a template set with merge data; a render error or a limit names the part. */
export async function renderTemplates(shop: KokyakuContext['shop'], set: TemplateSet, data: Record<string, unknown>, field = 'template'): Promise<RenderedMessage> {
  const render = async (part: 'subject' | 'text' | 'html'): Promise<string | null> => {
    const source = set[part];
    if (source == null) return null;
    const html = part === 'html';
    const templates = parse(shop, source, html, `${field}.${part}`);
    let out: string;
    try {
      out = String(await engineFor(shop, html).render(templates, data));
    } catch (error) {
      throw KokyakuError.badInput(`${field}.${part}: ${(error as Error).message}`, { field: `${field}.${part}` });
    }
    if (out.length > TEMPLATE_LIMITS.output) {
      throw KokyakuError.badInput(`${field}.${part}: the rendered text is longer than ${TEMPLATE_LIMITS.output} characters.`, { field: `${field}.${part}` });
    }
    return part === 'subject' ? out.replace(/\s+/g, ' ').trim() : out;
  };
  return { subject: await render('subject'), text: (await render('text')) ?? '', html: await render('html') };
}

/** How a customer is addressed: Japanese shops put the family name first and add 様. */
export function customerNames(customer: Pick<CustomerRecord, 'firstName' | 'lastName'>, shop: KokyakuContext['shop']): { name: string; salutation: string } {
  const first = customer.firstName?.trim() ?? '';
  const last = customer.lastName?.trim() ?? '';
  if (shop.defaultCountry === 'JP') {
    const name = [last, first].filter(Boolean).join(' ');
    return { name, salutation: name ? `${name} 様` : 'お客様' };
  }
  const name = [first, last].filter(Boolean).join(' ');
  return { name, salutation: first || name || 'there' };
}

/** Products as templates see them. */
function productView(r: Recommendation) {
  return { name: r.product.name, external_id: r.product.externalId, price: r.product.price, categories: r.product.categories, due_on: r.dueOn ?? null };
}

/** Recommendations, computed only when a template reads them. */
class RecommendationsDrop extends Drop {
  constructor(private readonly load: (strategy: 'FOR_CUSTOMER' | 'BOUGHT_TOGETHER' | 'BUY_AGAIN') => Promise<Recommendation[]>) {
    super();
  }
  async for_you() {
    return (await this.load('FOR_CUSTOMER')).map(productView);
  }
  async bought_together() {
    return (await this.load('BOUGHT_TOGETHER')).map(productView);
  }
  async buy_again() {
    return (await this.load('BUY_AGAIN')).map(productView);
  }
}

export interface MergeSources {
  customer: CustomerRecord;
  context: { orderId?: string; eventId?: string; inquiryId?: string; data?: Record<string, unknown> };
  links?: { unsubscribe_url?: string | null };
  recommendations?: RecommendationService;
}

/**
 * The merge fields of a message: `customer`, `order` (with `lines`), `event`, `data` (what a
 * manual start passed), `recommendations.for_you` / `.bought_together` / `.buy_again` and
 * `unsubscribe_url`. Money is in major units; `| money` formats it in the shop's currency.
 */
export async function mergeData(ctx: KokyakuContext, sources: MergeSources): Promise<Record<string, unknown>> {
  const { customer, context } = sources;
  const names = customerNames(customer, ctx.shop);
  const data: Record<string, unknown> = {
    customer: {
      first_name: customer.firstName,
      last_name: customer.lastName,
      name: names.name,
      salutation: names.salutation,
      email: customer.email,
      external_id: customer.externalId,
      tags: customer.tags,
      custom: customer.customFields,
      orders_count: customer.metrics.ordersCount,
      total_spent: customer.metrics.totalSpent,
      rfm_group: customer.metrics.rfm.group,
    },
    shop: { currency: ctx.shop.currency },
    data: context.data ?? {},
    unsubscribe_url: sources.links?.unsubscribe_url ?? null,
  };
  let orderProducts: string[] = [];
  if (context.orderId) {
    const lines = await sql<{
      external_id: string;
      placed_at: Date;
      total_minor: string;
      currency: string;
      status: string;
      product: string;
      name: string;
      quantity: number;
      unit_price_minor: string;
    }>(
      ctx.em,
      `select o.external_id, o.placed_at, o.total_minor::text, o.currency, o.status, p.external_id as product, p.name, l.quantity, l.unit_price_minor::text
       from kokyaku.orders o left join kokyaku.order_lines l on l.tenant_id = o.tenant_id and l.order_id = o.id
       left join kokyaku.products p on p.tenant_id = l.tenant_id and p.id = l.product_id
       where o.tenant_id = $1 and o.id = $2::bigint order by l.position`,
      [ctx.tenantId, context.orderId],
    );
    const first = lines[0];
    if (first) {
      orderProducts = lines.filter((l) => l.product).map((l) => l.product);
      data.order = {
        number: first.external_id,
        external_id: first.external_id,
        placed_at: first.placed_at,
        status: first.status,
        total: toMajorUnits(Number(first.total_minor), first.currency),
        lines: lines
          .filter((l) => l.product)
          .map((l) => ({
            product: { name: l.name, external_id: l.product },
            name: l.name,
            quantity: l.quantity,
            unit_price: toMajorUnits(Number(l.unit_price_minor), first.currency),
          })),
      };
    }
  }
  if (context.eventId) {
    const [event] = await sql<{ type: string; properties: Record<string, unknown>; occurred_at: Date; product: string | null }>(
      ctx.em,
      `select e.type, e.properties, e.occurred_at, p.external_id as product from kokyaku.events e left join kokyaku.products p on p.tenant_id = e.tenant_id and p.id = e.product_id
       where e.tenant_id = $1 and e.id = $2::bigint`,
      [ctx.tenantId, context.eventId],
    );
    if (event) {
      data.event = { type: event.type, properties: event.properties, occurred_at: event.occurred_at, product_external_id: event.product };
      if (event.product) orderProducts = [event.product];
    }
  }
  const service = sources.recommendations;
  if (service) {
    const cache = new Map<string, Promise<Recommendation[]>>();
    data.recommendations = new RecommendationsDrop((strategy) => {
      let hit = cache.get(strategy);
      if (!hit) {
        hit =
          strategy === 'BOUGHT_TOGETHER'
            ? orderProducts.length > 0
              ? service.fromBasket(ctx, orderProducts, 'BOUGHT_TOGETHER', 4, new Date(), 30)
              : Promise.resolve([])
            : service.recommend(ctx, { customerExternalId: customer.externalId, strategy, first: 4 });
        cache.set(strategy, hit);
      }
      return hit;
    });
  }
  return data;
}
