import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { READ_CUSTOMERS } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { Company, CompanyConnection, CompanyContact, CompanyInput, CompanyPatch } from './types.js';
import { connection } from '../customers/resolver.js';
import { plain, WORK_WITH_CUSTOMERS } from './shared.js';

/** Companies and their contacts. */
@Resolver()
export class CompaniesResolver {
  // Companies
  @Authorized(READ_CUSTOMERS)
  @Query(() => Company, { nullable: true })
  company(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('externalId', () => String, { nullable: true }) externalId?: string | null,
  ) {
    return id != null ? kokyaku.companies.get(core, id) : kokyaku.companies.findByExternalId(core, externalId ?? '');
  }

  @Authorized(READ_CUSTOMERS)
  @Query(() => CompanyConnection, { description: 'Companies by name; `roots` lists those without a parent, `parentId` the children of one.' })
  async companies(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('search', () => String, { nullable: true, description: 'Part of the name, or the domain.' }) search?: string | null,
    @Arg('parentId', () => ID, { nullable: true }) parentId?: string | null,
    @Arg('roots', () => Boolean, { nullable: true }) roots?: boolean | null,
  ) {
    return connection(await kokyaku.companies.list(core, { first, after, search, parentId, roots: roots ?? false }));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Company)
  createCompany(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('input', () => CompanyInput) input: CompanyInput) {
    return kokyaku.companies.create(core, plain(input));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Company, { description: 'Changes a company; a new parent that is the company or one of its descendants is refused.' })
  updateCompany(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('patch', () => CompanyPatch) patch: CompanyPatch) {
    return kokyaku.companies.update(core, id, plain(patch));
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Boolean, { description: 'Deletes a company without children or deals.' })
  deleteCompany(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.companies.delete(core, id);
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => CompanyContact, { description: 'Makes a customer a contact of a company (again: changes title and role).' })
  addCompanyContact(
    @Ctx() { kokyaku, core }: GraphQLContext,
    @Arg('companyId', () => ID) companyId: string,
    @Arg('customerId', () => ID, { nullable: true }) customerId?: string | null,
    @Arg('customerExternalId', () => String, { nullable: true }) customerExternalId?: string | null,
    @Arg('title', () => String, { nullable: true }) title?: string | null,
    @Arg('role', () => String, { nullable: true }) role?: string | null,
  ) {
    return kokyaku.companies.addContact(core, companyId, { id: customerId, externalId: customerExternalId }, { title, role });
  }

  @Authorized(WORK_WITH_CUSTOMERS)
  @Mutation(() => Boolean)
  removeCompanyContact(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('companyId', () => ID) companyId: string, @Arg('customerId', () => ID) customerId: string) {
    return kokyaku.companies.removeContact(core, companyId, customerId);
  }
}
