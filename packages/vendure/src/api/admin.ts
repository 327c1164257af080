import { Inject } from '@nestjs/common';
import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Allow, Permission, TransactionalConnection } from '@vendure/core';
import gql from 'graphql-tag';
import { type BackfillState, KokyakuBackfill } from '../backfill.js';
import { KokyakuOutboxItem } from '../entities.js';
import { KOKYAKU_PLUGIN_OPTIONS, type ResolvedOptions } from '../options.js';
import { kokyakuAdmin, kokyakuMarketing, kokyakuRead, kokyakuSupport } from '../permissions.js';

export const adminSchema = gql`
  type KokyakuCounts {
    customers: Int!
    products: Int!
    orders: Int!
  }
  type KokyakuPhaseSeconds {
    customers: Float!
    products: Float!
    orders: Float!
  }
  "The history backfill: one run at a time, resumable."
  type KokyakuBackfill {
    "idle, running, paused, done or failed"
    status: String!
    "customers, products or orders"
    phase: String!
    done: KokyakuCounts!
    total: KokyakuCounts!
    "Records Kokyaku refused, with the first messages."
    refused: Int!
    problems: [String!]!
    startedAt: DateTime
    finishedAt: DateTime
    seconds: Float!
    "Seconds spent on each phase."
    phaseSeconds: KokyakuPhaseSeconds!
    error: String
  }
  "How the CRM keeps up with the shop."
  type KokyakuSync {
    "Changes waiting in the outbox."
    pending: Int!
    "Of those, how many failed at least once (kept and tried again)."
    failing: Int!
    oldestPendingAt: DateTime
    lastError: String
    backfill: KokyakuBackfill!
    "Where the staff console and the CRM's GraphQL API answer on this server."
    consolePath: String
    graphqlPath: String!
  }
  extend type Query {
    kokyakuSync: KokyakuSync!
  }
  extend type Mutation {
    "Send the shop's whole history to Kokyaku (customers, variants, placed orders); resumes a paused one."
    startKokyakuBackfill(restart: Boolean, batchSize: Int): KokyakuBackfill!
    "Stop the backfill after the batch in flight; start resumes it."
    pauseKokyakuBackfill: KokyakuBackfill!
  }
`;

@Resolver()
export class KokyakuAdminResolver {
  constructor(
    @Inject(KOKYAKU_PLUGIN_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(TransactionalConnection) private readonly connection: TransactionalConnection,
    @Inject(KokyakuBackfill) private readonly backfill: KokyakuBackfill,
  ) {}

  @Query()
  @Allow(Permission.SuperAdmin, kokyakuAdmin.Permission, kokyakuMarketing.Permission, kokyakuSupport.Permission, kokyakuRead.Permission)
  async kokyakuSync() {
    const table = this.connection.rawConnection.getMetadata(KokyakuOutboxItem).tableName;
    const [row] = await this.connection.rawConnection.query(
      `select count(*)::int as pending, count(*) filter (where attempts > 0)::int as failing, min("createdAt") as "oldestPendingAt",
              (select "lastError" from "${table}" where "lastError" is not null order by "updatedAt" desc limit 1) as "lastError"
       from "${table}"`,
    );
    return {
      ...row,
      backfill: view(await this.backfill.state()),
      consolePath: this.options.console ? `/${this.options.route}/console/` : null,
      graphqlPath: `/${this.options.route}/graphql`,
    };
  }

  @Mutation()
  @Allow(Permission.SuperAdmin, kokyakuAdmin.Permission)
  async startKokyakuBackfill(@Args() args: { restart?: boolean | null; batchSize?: number | null }) {
    const batchSize = args.batchSize == null ? undefined : Math.min(Math.max(Math.trunc(args.batchSize), 1), 5000);
    return view(await this.backfill.start({ restart: args.restart ?? false, batchSize }));
  }

  @Mutation()
  @Allow(Permission.SuperAdmin, kokyakuAdmin.Permission)
  async pauseKokyakuBackfill() {
    return view(await this.backfill.pause());
  }
}

function view(state: BackfillState) {
  return { ...state, startedAt: state.startedAt ? new Date(state.startedAt) : null, finishedAt: state.finishedAt ? new Date(state.finishedAt) : null };
}
