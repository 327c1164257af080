import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  CollectionModificationEvent,
  CustomerAddressEvent,
  CustomerEvent,
  EventBus,
  OrderLineEvent,
  OrderPlacedEvent,
  OrderStateTransitionEvent,
  ProductEvent,
  ProductVariant,
  ProductVariantEvent,
  ProductVariantPriceEvent,
  RefundStateTransitionEvent,
  type RequestContext,
  StockMovementEvent,
  TransactionalConnection,
  type VendureEvent,
} from '@vendure/core';
import { In } from 'typeorm';
import { KokyakuOutboxItem, type OutboxKind } from './entities.js';
import { KokyakuService } from './kokyaku.service.js';

type Row = { kind: OutboxKind; ref: string; payload?: Record<string, unknown> | null };

const EVENTS = [
  CustomerEvent,
  CustomerAddressEvent,
  ProductEvent,
  ProductVariantEvent,
  ProductVariantPriceEvent,
  StockMovementEvent,
  CollectionModificationEvent,
  OrderPlacedEvent,
  OrderStateTransitionEvent,
  OrderLineEvent,
  RefundStateTransitionEvent,
] as const;

/**
 * Writes the outbox: a blocking EventBus handler runs inside the transaction of the change it
 * hears of, so a change and its outbox row commit together or not at all. After the commit, the
 * same event nudges the delivery.
 */
@Injectable()
export class KokyakuOutbox implements OnModuleInit {
  constructor(
    @Inject(EventBus) private readonly eventBus: EventBus,
    @Inject(TransactionalConnection) private readonly connection: TransactionalConnection,
    @Inject(KokyakuService) private readonly kokyaku: KokyakuService,
  ) {}

  onModuleInit(): void {
    this.eventBus.registerBlockingEventHandler({
      id: 'kokyaku-outbox',
      event: [...EVENTS] as never,
      handler: async (event: VendureEvent) => {
        const rows = await this.rowsFor(event);
        if (rows.length) await this.add((event as unknown as { ctx: RequestContext }).ctx, rows);
      },
    });
    for (const type of EVENTS) this.eventBus.ofType(type as never).subscribe(() => this.kokyaku.nudge());
  }

  /** Add rows in the transaction of `ctx` (a storefront event, a customer to send again...). */
  async add(ctx: RequestContext | undefined, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const now = new Date();
    const repository = ctx ? this.connection.getRepository(ctx, KokyakuOutboxItem) : this.connection.rawConnection.getRepository(KokyakuOutboxItem);
    await repository.insert(
      rows.map((r) => ({ kind: r.kind, ref: r.ref, payload: (r.payload ?? null) as Record<string, never> | null, attempts: 0, dueAt: now, lastError: null })),
    );
  }

  private async rowsFor(event: VendureEvent): Promise<Row[]> {
    if (event instanceof CustomerEvent) {
      return [{ kind: event.type === 'deleted' ? 'erase' : 'customer', ref: String(event.entity.id) }];
    }
    if (event instanceof CustomerAddressEvent) {
      return event.entity.customer?.id ? [{ kind: 'customer', ref: String(event.entity.customer.id) }] : [];
    }
    if (event instanceof ProductVariantEvent) return event.entity.map((v) => ({ kind: 'product', ref: String(v.id) }));
    if (event instanceof ProductVariantPriceEvent) {
      return [...new Set(event.entity.map((p) => String(p.variant?.id ?? (p as { variantId?: unknown }).variantId)).filter((id) => id !== 'undefined'))].map((ref) => ({
        kind: 'product',
        ref,
      }));
    }
    if (event instanceof StockMovementEvent) {
      return [
        ...new Set(event.stockMovements.map((m) => String(m.productVariant?.id ?? (m as { productVariantId?: unknown }).productVariantId)).filter((id) => id !== 'undefined')),
      ].map((ref) => ({ kind: 'product', ref }));
    }
    if (event instanceof CollectionModificationEvent) return event.productVariantIds.map((id) => ({ kind: 'product', ref: String(id) }));
    if (event instanceof ProductEvent) {
      // A product's name or facets changed: its variants (what Kokyaku knows as products) follow.
      const variants = await this.connection
        .getRepository(event.ctx, ProductVariant)
        .find({ where: { productId: In([event.entity.id]) }, select: { id: true }, withDeleted: true });
      return variants.map((v) => ({ kind: 'product', ref: String(v.id) }));
    }
    if (event instanceof OrderPlacedEvent || event instanceof OrderStateTransitionEvent || event instanceof RefundStateTransitionEvent) return orderRows(event.order);
    if (event instanceof OrderLineEvent) {
      const { order, orderLine } = event;
      if (order.orderPlacedAt) return orderRows(order);
      // A product newly in the cart of a known customer: the storefront event "added_to_cart".
      // (Vendure also reports 'updated' lines when it recalculates a cart: those are no additions.)
      if (!order.customerId || event.type !== 'created') return [];
      return [
        {
          kind: 'event',
          ref: String(order.customerId),
          payload: {
            type: 'added_to_cart',
            productVariantId: String(orderLine.productVariantId ?? orderLine.productVariant?.id),
            occurredAt: new Date().toISOString(),
            properties: { quantity: orderLine.quantity, orderCode: order.code },
          },
        },
      ];
    }
    return [];
  }
}

/** A placed order is sent again in full whenever anything about it changes; its customer with it. */
function orderRows(order: { id: unknown; orderPlacedAt?: Date | null; customerId?: unknown }): Row[] {
  if (!order.orderPlacedAt) return [];
  const rows: Row[] = [{ kind: 'order', ref: String(order.id) }];
  if (order.customerId) rows.unshift({ kind: 'customer', ref: String(order.customerId) });
  return rows;
}
