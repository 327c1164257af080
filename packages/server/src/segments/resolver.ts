import { KokyakuError } from '@kokyaku/core';
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { MANAGE_SEGMENTS, READ_CUSTOMERS } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { Costly } from '../security/rate-limit.js';
import { CustomerConnection } from '../customers/types.js';
import { Segment, SegmentConnection, SegmentPreview } from './types.js';
import { connection } from '../customers/resolver.js';
import { SegmentLanguage } from '../viewer/types.js';

@Resolver(() => Segment)
export class SegmentResolver {
  @Authorized(READ_CUSTOMERS)
  @Query(() => SegmentConnection, { description: 'Saved segments, oldest first.' })
  async segments(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<SegmentConnection> {
    return connection(await kokyaku.segments.list(core, { first, after })) as SegmentConnection;
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => SegmentLanguage, { description: "This shop's segment vocabulary: attributes, MATCHES functions, calls and custom fields (plugins' included)." })
  segmentLanguage(@Ctx() { kokyaku, core }: GraphQLContext): Promise<SegmentLanguage> {
    return kokyaku.segments.language(core);
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => Segment, { nullable: true })
  segment(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Segment | null> {
    return kokyaku.segments.get(core, id);
  }

  @Authorized(READ_CUSTOMERS)
  @UseMiddleware(Costly(5))
  @Query(() => SegmentPreview, { description: 'Try a segment query: how many customers it selects now, and the first of them.' })
  segmentPreview(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('query', () => String) query: string,
    @Arg('first', () => Int, { nullable: true, defaultValue: 10 }) first: number,
  ): Promise<SegmentPreview> {
    return kokyaku.segments.preview(core, query, first) as Promise<SegmentPreview>;
  }

  @Authorized(MANAGE_SEGMENTS)
  @Mutation(() => Segment, { description: 'Save a segment query under a name; SEGMENT_QUERY_INVALID if it does not compile.' })
  createSegment(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('name', () => String) name: string, @Arg('query', () => String) query: string): Promise<Segment> {
    return kokyaku.segments.create(core, { name, query });
  }

  @Authorized(MANAGE_SEGMENTS)
  @Mutation(() => Segment)
  updateSegment(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('name', () => String, { nullable: true }) name?: string | null,
    @Arg('query', () => String, { nullable: true }) query?: string | null,
  ): Promise<Segment> {
    return kokyaku.segments.update(core, id, { ...(name != null ? { name } : {}), ...(query != null ? { query } : {}) });
  }

  @Authorized(MANAGE_SEGMENTS)
  @Mutation(() => Boolean, { description: 'True when a segment was deleted.' })
  async deleteSegment(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    const deleted = await kokyaku.segments.delete(core, id);
    if (!deleted) throw KokyakuError.notFound('Segment', id);
    return true;
  }

  @UseMiddleware(Costly(1))
  @FieldResolver(() => Int, { description: 'Number of customers in the segment now.' })
  count(@Root() segment: Segment, @Ctx() { kokyaku, core }: GraphQLContext): Promise<number> {
    return kokyaku.segments.count(core, segment.query);
  }

  @FieldResolver(() => CustomerConnection, { description: 'The members, oldest first.' })
  async customers(
    @Root() segment: Segment,
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<CustomerConnection> {
    return { ...connection(await kokyaku.segments.customers(core, segment.query, { first, after })), segmentQuery: segment.query } as CustomerConnection;
  }
}

@Resolver(() => SegmentConnection)
export class SegmentConnectionResolver {
  @FieldResolver(() => Int)
  totalCount(@Ctx() { kokyaku, core }: GraphQLContext): Promise<number> {
    return kokyaku.segments.countSaved(core);
  }
}
