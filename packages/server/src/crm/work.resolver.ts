import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { READ_CUSTOMERS } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { Note, Task, TaskConnection, TaskInput, TaskPatch, TaskStatus } from './types.js';
import { connection } from '../customers/resolver.js';
import { type E, plain, WORK_WITH_CUSTOMERS } from './shared.js';

/** Notes and tasks. */
@Resolver()
export class NotesTasksResolver {
  // Notes and tasks
  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Note)
  addNote(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('body', () => String) body: string,
    @Arg('customerId', () => ID, { nullable: true }) customerId?: string | null,
    @Arg('companyId', () => ID, { nullable: true }) companyId?: string | null,
    @Arg('dealId', () => ID, { nullable: true }) dealId?: string | null,
    @Arg('pinned', () => Boolean, { nullable: true }) pinned?: boolean | null,
  ) {
    return kokyaku.notes.add(core, { body, customerId, companyId, dealId, pinned });
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Note)
  updateNote(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('body', () => String, { nullable: true }) body?: string | null,
    @Arg('pinned', () => Boolean, { nullable: true }) pinned?: boolean | null,
  ) {
    return kokyaku.notes.update(core, id, { body, pinned });
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Boolean)
  deleteNote(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.notes.delete(core, id);
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => TaskConnection, { description: "Tasks by due date, soonest first. `mine: true` is the caller's; `overdue: true` the open ones past due." })
  async tasks(
    @Ctx() { kokyaku, core, actor }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('mine', () => Boolean, { nullable: true }) mine?: boolean | null,
    @Arg('assigneeId', () => String, { nullable: true }) assigneeId?: string | null,
    @Arg('status', () => TaskStatus, { nullable: true }) status?: E<typeof TaskStatus> | null,
    @Arg('overdue', () => Boolean, { nullable: true }) overdue?: boolean | null,
    @Arg('customerId', () => ID, { nullable: true }) customerId?: string | null,
    @Arg('companyId', () => ID, { nullable: true }) companyId?: string | null,
    @Arg('dealId', () => ID, { nullable: true }) dealId?: string | null,
  ) {
    return connection(await kokyaku.tasks.list(core, { first, after, assigneeId: mine ? (actor?.id ?? '') : assigneeId, status, overdue, customerId, companyId, dealId }));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Task)
  createTask(@Ctx() { kokyaku, core, actor }: GraphQLContext, @Arg('input', () => TaskInput) input: TaskInput) {
    return kokyaku.tasks.create(core, { assigneeId: actor?.id ?? null, ...plain(input) });
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Task)
  updateTask(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('patch', () => TaskPatch) patch: TaskPatch) {
    return kokyaku.tasks.update(core, id, plain(patch));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Boolean)
  deleteTask(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.tasks.delete(core, id);
  }
}
