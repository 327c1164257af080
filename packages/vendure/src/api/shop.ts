import { CONSENT_CHANNELS, type ConsentChannel, type ConsentRecord, STRATEGIES, type Strategy } from '@kokyaku/core';
import { Inject } from '@nestjs/common';
import { Args, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Ctx, type Customer, CustomerService, ProductVariantService, type RequestContext, TransactionalConnection, UserInputError } from '@vendure/core';
import gql from 'graphql-tag';
import { KokyakuService } from '../kokyaku.service.js';
import { KokyakuOutbox } from '../outbox.js';

export const shopSchema = gql`
  enum KokyakuRecommendationStrategy {
    ${STRATEGIES.join('\n    ')}
  }
  enum KokyakuConsentChannel {
    ${CONSENT_CHANNELS.join('\n    ')}
  }
  "A product variant Kokyaku recommends, with why."
  type KokyakuRecommendation {
    productVariantId: ID!
    productVariant: ProductVariant
    score: Float!
    reason: String!
    strategy: KokyakuRecommendationStrategy!
  }
  type KokyakuConsent {
    channel: KokyakuConsentChannel!
    granted: Boolean!
    source: String!
    recordedAt: DateTime!
  }
  extend type Query {
    """
    Recommendations from Kokyaku: FOR_CUSTOMER for the signed-in customer (POPULAR for guests),
    BOUGHT_TOGETHER or SIMILAR with a productVariantId.
    """
    kokyakuRecommendations(strategy: KokyakuRecommendationStrategy, productVariantId: ID, take: Int): [KokyakuRecommendation!]!
    "The signed-in customer's marketing consents, per channel."
    kokyakuConsents: [KokyakuConsent!]!
  }
  extend type Mutation {
    "The signed-in customer gives or withdraws consent to messages on one channel."
    kokyakuSetConsent(channel: KokyakuConsentChannel!, granted: Boolean!): KokyakuConsent!
    "The storefront tells Kokyaku the signed-in customer viewed a product (false for guests)."
    kokyakuTrackProductView(productVariantId: ID!): Boolean!
  }
`;

@Resolver()
export class KokyakuShopResolver {
  constructor(
    @Inject(KokyakuService) private readonly kokyaku: KokyakuService,
    @Inject(KokyakuOutbox) private readonly outbox: KokyakuOutbox,
    @Inject(CustomerService) private readonly customers: CustomerService,
    @Inject(TransactionalConnection) private readonly connection: TransactionalConnection,
  ) {}

  @Query()
  async kokyakuRecommendations(@Ctx() ctx: RequestContext, @Args() args: { strategy?: Strategy | null; productVariantId?: string | null; take?: number | null }) {
    const customer = await this.customer(ctx);
    const strategy = args.strategy ?? (args.productVariantId ? 'BOUGHT_TOGETHER' : customer ? 'FOR_CUSTOMER' : 'POPULAR');
    if (strategy === 'FOR_CUSTOMER' && !customer) return this.recommend({ strategy: 'POPULAR', first: args.take });
    if ((strategy === 'BOUGHT_TOGETHER' || strategy === 'SIMILAR') && !args.productVariantId) {
      throw new UserInputError(`${strategy} needs a productVariantId.`);
    }
    return this.recommend({
      strategy,
      first: Math.min(Math.max(args.take ?? 10, 1), 50),
      customerExternalId: customer ? String(customer.id) : null,
      productExternalId: args.productVariantId ? String(args.productVariantId) : null,
    });
  }

  @Query()
  async kokyakuConsents(@Ctx() ctx: RequestContext): Promise<ConsentRecord[]> {
    const customer = await this.customer(ctx);
    if (!customer) return [];
    const kokyaku = await this.kokyaku.kokyaku();
    const kctx = await this.kokyaku.context();
    if (!(await kokyaku.customers.findByExternalId(kctx, String(customer.id)))) return [];
    return kokyaku.privacy.consents(kctx, { externalId: String(customer.id) });
  }

  @Mutation()
  async kokyakuSetConsent(@Ctx() ctx: RequestContext, @Args() args: { channel: ConsentChannel; granted: boolean }): Promise<ConsentRecord> {
    const customer = await this.customer(ctx);
    if (!customer) throw new UserInputError('Sign in to give or withdraw consent.');
    const kokyaku = await this.kokyaku.kokyaku();
    const kctx = await this.kokyaku.context();
    // The customer may be newer than the last delivery: send them first.
    await kokyaku.customers.upsert(kctx, await this.kokyaku.loadCustomers(this.connection.rawConnection.manager, [String(customer.id)]));
    return kokyaku.privacy.recordConsent(kctx, { externalId: String(customer.id) }, { channel: args.channel, granted: args.granted, source: 'Vendure storefront' });
  }

  @Mutation()
  async kokyakuTrackProductView(@Ctx() ctx: RequestContext, @Args() args: { productVariantId: string }): Promise<boolean> {
    const customer = await this.customer(ctx);
    if (!customer) return false;
    await this.outbox.add(ctx, [
      {
        kind: 'event',
        ref: String(customer.id),
        payload: { type: 'product_viewed', productVariantId: String(args.productVariantId), occurredAt: new Date().toISOString(), properties: {} },
      },
    ]);
    this.kokyaku.nudge();
    return true;
  }

  private async customer(ctx: RequestContext): Promise<Customer | undefined> {
    return ctx.activeUserId ? this.customers.findOneByUserId(ctx, ctx.activeUserId) : undefined;
  }

  private async recommend(args: { strategy: Strategy; first?: number | null; customerExternalId?: string | null; productExternalId?: string | null }) {
    const kokyaku = await this.kokyaku.kokyaku();
    const list = await kokyaku.recommendations.recommend(await this.kokyaku.context(), args);
    return list.map((r) => ({ productVariantId: r.product.externalId, score: r.score, reason: r.reason, strategy: r.strategy }));
  }
}

@Resolver('KokyakuRecommendation')
export class KokyakuRecommendationResolver {
  constructor(@Inject(ProductVariantService) private readonly variants: ProductVariantService) {}

  @ResolveField()
  productVariant(@Ctx() ctx: RequestContext, @Parent() parent: { productVariantId: string }) {
    return this.variants.findOne(ctx, parent.productVariantId);
  }
}
