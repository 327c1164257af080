import { Field, ObjectType } from 'type-graphql';

@ObjectType({ description: 'The shop settings dates and amounts are shown in.' })
export class ShopSettings {
  @Field(() => String, { description: 'ISO 4217, e.g. JPY.' })
  currency!: string;

  @Field(() => String, { description: 'IANA time zone, e.g. Asia/Tokyo: days, months and "today" are counted in it.' })
  timeZone!: string;

  @Field(() => String, { description: 'ISO 3166-1 alpha-2: the country of phone numbers written without one.' })
  defaultCountry!: string;
}

@ObjectType({ description: 'What the caller may do: a user interface offers only what the server would accept.' })
export class ViewerPermissions {
  @Field(() => Boolean, { description: 'Sees and searches email and phone (else they are masked).' })
  contactData!: boolean;

  @Field(() => Boolean, { description: 'Adds notes and tasks, edits tags and custom fields, works inquiries and deals.' })
  workWithCustomers!: boolean;

  @Field(() => Boolean, { description: 'Saves segments and journeys.' })
  manageSegments!: boolean;

  @Field(() => Boolean, { description: 'Imports, merges, exports and erases customers; configures the CRM.' })
  admin!: boolean;
}

@ObjectType({ description: 'Who is calling, with what rights, in which shop.' })
export class Viewer {
  @Field(() => String)
  id!: string;

  @Field(() => [String], { description: 'ADMIN, MARKETER, SUPPORT, VIEWER (or STOREFRONT).' })
  roles!: string[];

  @Field(() => ViewerPermissions)
  can!: ViewerPermissions;

  @Field(() => ShopSettings)
  shop!: ShopSettings;
}

@ObjectType()
export class SegmentAttributeInfo {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'money, integer, number, timestamp, date, text, list or enum.' })
  type!: string;

  @Field(() => String)
  description!: string;

  @Field(() => String)
  example!: string;

  @Field(() => [String], { description: 'The values of an enum attribute.' })
  values!: string[];

  @Field(() => String, { nullable: true, description: 'The plugin that adds it; null for Kokyaku itself.' })
  plugin!: string | null;
}

@ObjectType()
export class SegmentFunctionArgument {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  type!: string;

  @Field(() => String, { description: 'filter (narrows the rows) or aggregate (tests the total per customer).' })
  role!: string;

  @Field(() => String)
  description!: string;
}

@ObjectType()
export class SegmentFunctionInfo {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  description!: string;

  @Field(() => String)
  example!: string;

  @Field(() => [SegmentFunctionArgument])
  arguments!: SegmentFunctionArgument[];

  @Field(() => String, { nullable: true })
  plugin!: string | null;
}

@ObjectType({ description: 'A subject written as a call, e.g. anniversary(birthday).' })
export class SegmentCallInfo {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  description!: string;

  @Field(() => String)
  example!: string;

  @Field(() => [String], { description: 'The attributes it takes.' })
  arguments!: string[];
}

@ObjectType()
export class SegmentCustomField {
  @Field(() => String, { description: 'Written custom.<key> in a query.' })
  key!: string;

  @Field(() => String)
  label!: string;

  @Field(() => String)
  type!: string;

  @Field(() => [String])
  options!: string[];
}

@ObjectType({ description: "The vocabulary of this shop's segment language (docs/segments.md), for editors and completion." })
export class SegmentLanguage {
  @Field(() => [SegmentAttributeInfo])
  attributes!: SegmentAttributeInfo[];

  @Field(() => [SegmentFunctionInfo])
  functions!: SegmentFunctionInfo[];

  @Field(() => [SegmentCallInfo])
  calls!: SegmentCallInfo[];

  @Field(() => [SegmentCustomField])
  customFields!: SegmentCustomField[];
}
