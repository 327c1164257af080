import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Customer } from './types.js';
import { PageInfo } from '../shared/types.js';

export enum CustomerSearchField {
  EXTERNAL_ID = 'EXTERNAL_ID',
  EMAIL = 'EMAIL',
  PHONE = 'PHONE',
  NAME = 'NAME',
  KANA = 'KANA',
}

registerEnumType(CustomerSearchField, { name: 'CustomerSearchField', description: 'The customer field a search matched.' });

@ObjectType({ description: 'Where the query matched in the value (UTF-16 offsets, end exclusive).' })
export class SearchHighlight {
  @Field(() => Int)
  start!: number;

  @Field(() => Int)
  end!: number;
}

@ObjectType({ description: 'A customer found by searchCustomers, with the field that matched.' })
export class CustomerSearchHit {
  @Field(() => Customer)
  customer!: Customer;

  @Field(() => Float, { description: 'Higher is better: 100+ an exact id, email or phone; then prefixes, phone suffixes, fragments.' })
  rank!: number;

  @Field(() => CustomerSearchField)
  field!: CustomerSearchField;

  @Field(() => String, { description: 'The matched field as shown; a name as "family given".' })
  value!: string;

  @Field(() => SearchHighlight, { nullable: true })
  highlight!: SearchHighlight | null;
}

@ObjectType()
export class CustomerSearchConnection {
  @Field(() => [CustomerSearchHit])
  nodes!: CustomerSearchHit[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
