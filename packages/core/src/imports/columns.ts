import { KokyakuError } from '../shared/errors.js';

/** What a CSV file holds: one customer, product or event per row, or one order line per row. */
export const IMPORT_KINDS = ['customers', 'products', 'orders', 'events'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

export interface FieldSpec {
  field: string;
  required?: boolean;
  /** Headers matched automatically (compared after `normalizeHeader`). */
  aliases: string[];
  description: string;
}

/**
 * The fields of each kind and the headers that name them, in English and Japanese. A mapping
 * file or `--map field=header` overrides or adds to them.
 */
export const FIELDS: Record<ImportKind, FieldSpec[]> = {
  customers: [
    {
      field: 'externalId',
      required: true,
      aliases: ['externalid', 'customerid', 'customer', 'id', 'membernumber', 'memberid', '会員id', '会員番号', '顧客id', '顧客番号', '顧客コード'],
      description: "the shop's customer id",
    },
    { field: 'email', aliases: ['email', 'emailaddress', 'mail', 'メールアドレス', 'メール', 'eメール'], description: 'email address' },
    { field: 'phone', aliases: ['phone', 'phonenumber', 'tel', 'telephone', 'mobile', '電話番号', '電話', '携帯電話', '携帯番号'], description: 'phone number, any format' },
    { field: 'lastName', aliases: ['lastname', 'familyname', 'surname', '姓', '苗字'], description: 'family name' },
    { field: 'firstName', aliases: ['firstname', 'givenname', '名'], description: 'given name' },
    { field: 'fullName', aliases: ['name', 'fullname', '氏名', '名前', 'お名前', '顧客名'], description: 'full name, family name first (split at the first space)' },
    { field: 'lastNameKana', aliases: ['lastnamekana', 'セイ', '姓カナ', '姓(カナ)', '姓フリガナ'], description: 'reading of the family name' },
    { field: 'firstNameKana', aliases: ['firstnamekana', 'メイ', '名カナ', '名(カナ)', '名フリガナ'], description: 'reading of the given name' },
    {
      field: 'fullNameKana',
      aliases: ['kana', 'furigana', 'フリガナ', 'ふりがな', '氏名カナ', '氏名(カナ)', 'カナ'],
      description: 'reading of the full name (split at the first space)',
    },
    { field: 'birthday', aliases: ['birthday', 'birthdate', 'dateofbirth', 'dob', '生年月日', '誕生日'], description: 'date of birth' },
    { field: 'postalCode', aliases: ['postalcode', 'postcode', 'zip', 'zipcode', '郵便番号', '〒'], description: 'postal code (kept in custom fields)' },
    { field: 'region', aliases: ['region', 'prefecture', 'state', 'province', '都道府県', '県'], description: 'prefecture or state' },
    { field: 'city', aliases: ['city', 'town', '市区町村', '市町村'], description: 'city' },
    { field: 'address', aliases: ['address', 'address1', 'street', '住所', '番地'], description: 'street address (kept in custom fields)' },
    { field: 'country', aliases: ['country', 'countrycode', '国', '国名'], description: 'country' },
    { field: 'tags', aliases: ['tags', 'tag', 'タグ'], description: 'tags, separated by ; or |' },
    {
      field: 'emailConsent',
      aliases: ['emailconsent', 'acceptsmarketing', 'acceptsemailmarketing', 'newsletter', 'メルマガ', 'メルマガ購読', 'メール配信'],
      description: 'consent to email (yes/no, 1/0, 希望する/希望しない)',
    },
    { field: 'createdAt', aliases: ['createdat', 'signupdate', 'registeredat', '登録日', '入会日'], description: 'when the customer joined' },
  ],
  products: [
    {
      field: 'externalId',
      required: true,
      aliases: ['externalid', 'sku', 'productid', 'product', 'id', 'itemcode', '商品コード', '商品id', '品番', '型番'],
      description: "the shop's product id",
    },
    { field: 'name', required: true, aliases: ['name', 'productname', 'title', 'itemname', 'itemdescription', '商品名', '品名'], description: 'product name' },
    { field: 'price', aliases: ['price', 'unitprice', 'cost', '価格', '単価', '販売価格', '税込価格'], description: 'price in the shop currency' },
    { field: 'categories', aliases: ['category', 'categories', 'カテゴリ', 'カテゴリー', '分類'], description: 'categories, separated by ; or |' },
    { field: 'tags', aliases: ['tags', 'tag', 'タグ'], description: 'tags, separated by ; or |' },
    { field: 'inStock', aliases: ['instock', 'available', 'stock', '在庫', '在庫あり'], description: 'in stock (yes/no, or a quantity)' },
  ],
  orders: [
    {
      field: 'orderId',
      aliases: ['orderid', 'ordernumber', 'order', 'orderno', '注文番号', '受注番号', '注文id', '伝票番号'],
      description: "the shop's order id (or --order-key)",
    },
    {
      field: 'customerId',
      required: true,
      aliases: ['customerid', 'customer', 'membernumber', 'memberid', '会員id', '会員番号', '顧客id', '顧客番号', '顧客コード'],
      description: "the shop's customer id",
    },
    {
      field: 'placedAt',
      required: true,
      aliases: ['placedat', 'date', 'orderdate', 'ordereddate', 'createdat', '注文日', '注文日時', '受注日', '購入日'],
      description: 'when the order was placed',
    },
    {
      field: 'productId',
      required: true,
      aliases: ['productid', 'sku', 'product', 'itemcode', 'itemdescription', '商品コード', '商品id', '品番'],
      description: "the shop's product id",
    },
    { field: 'quantity', aliases: ['quantity', 'qty', 'count', '数量', '個数'], description: 'quantity (default 1)' },
    { field: 'unitPrice', required: true, aliases: ['unitprice', 'price', 'cost', '単価', '価格', '販売単価'], description: 'unit price in the shop currency' },
    { field: 'status', aliases: ['status', 'orderstatus', 'ステータス', '状態'], description: 'PLACED or CANCELLED (キャンセル)' },
    { field: 'currency', aliases: ['currency', '通貨'], description: 'currency code' },
  ],
  events: [
    { field: 'eventId', required: true, aliases: ['eventid', 'id', 'イベントid'], description: "the shop's event id" },
    { field: 'type', required: true, aliases: ['type', 'event', 'eventtype', 'eventname', 'イベント', '種別'], description: 'event type, e.g. product_viewed' },
    { field: 'customerId', aliases: ['customerid', 'customer', 'membernumber', '会員id', '会員番号', '顧客id'], description: "the shop's customer id" },
    { field: 'productId', aliases: ['productid', 'sku', 'product', '商品コード', '商品id'], description: "the shop's product id" },
    { field: 'occurredAt', required: true, aliases: ['occurredat', 'timestamp', 'time', 'date', 'datetime', '日時', '発生日時'], description: 'when it happened' },
  ],
};

/** Headers compare after NFKC (full-width to half-width), lower case, no spaces, _ - . or ・. */
export function normalizeHeader(header: string): string {
  return header
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_\-.・:：]/g, '');
}

export interface ColumnMapping {
  /** field -> 0-based column index. */
  columns: Record<string, number>;
  /** field -> header it came from. */
  headers: Record<string, string>;
  /** Headers no field uses. */
  unused: string[];
}

/**
 * Matches a file's headers to fields. `overrides` (field -> header, from a mapping file or
 * arguments) win over automatic matching. Fails when a required field has no column, naming the
 * headers there are.
 */
export function resolveMapping(kind: ImportKind, headers: readonly string[], overrides: Record<string, string> = {}, options: { optional?: string[] } = {}): ColumnMapping {
  const specs = FIELDS[kind];
  const byNormal = new Map<string, number>();
  headers.forEach((h, i) => {
    const n = normalizeHeader(h);
    if (!byNormal.has(n)) byNormal.set(n, i);
  });
  const columns: Record<string, number> = {};
  for (const [field, header] of Object.entries(overrides)) {
    if (!specs.some((s) => s.field === field)) {
      throw KokyakuError.badInput(`Unknown field "${field}" for ${kind}; fields: ${specs.map((s) => s.field).join(', ')}.`, { field });
    }
    const index = byNormal.get(normalizeHeader(header));
    if (index === undefined)
      throw KokyakuError.badInput(`The mapping names the column "${header}" for ${field}, but the file has no such header (${headers.join(', ')}).`, { field });
    columns[field] = index;
  }
  const taken = new Set(Object.values(columns));
  for (const spec of specs) {
    if (columns[spec.field] !== undefined) continue;
    for (const alias of spec.aliases) {
      const index = byNormal.get(normalizeHeader(alias));
      if (index !== undefined && !taken.has(index)) {
        columns[spec.field] = index;
        taken.add(index);
        break;
      }
    }
  }
  // Customers: a column headed `custom.<key>` (or `custom:<key>`) fills that custom field; a
  // defined field reads the text as its type.
  if (kind === 'customers') {
    headers.forEach((h, i) => {
      const key = /^custom[.:]\s*(\S.{0,99})$/i.exec(h.trim())?.[1]?.trim();
      if (key && !taken.has(i) && columns[`customFields.${key}`] === undefined) {
        columns[`customFields.${key}`] = i;
        taken.add(i);
      }
    });
  }
  const optional = new Set(options.optional ?? []);
  const missing = specs.filter((s) => s.required && columns[s.field] === undefined && !optional.has(s.field)).map((s) => s.field);
  if (missing.length > 0) {
    throw KokyakuError.badInput(`No column for ${missing.join(', ')} among the headers ${headers.map((h) => `"${h}"`).join(', ')}. Map it: --map ${missing[0]}=<header>.`, {
      field: missing[0],
    });
  }
  return {
    columns,
    headers: Object.fromEntries(Object.entries(columns).map(([f, i]) => [f, headers[i]!])),
    unused: headers.filter((_, i) => !taken.has(i)),
  };
}
