import { type DeepPartial, VendureEntity } from '@vendure/core';
import { Column, Entity, Index } from 'typeorm';

/** What an outbox row asks for: the current state of one Vendure record, or one storefront event. */
export type OutboxKind = 'customer' | 'erase' | 'product' | 'order' | 'event';

/**
 * The outbox: one row per change the CRM has yet to hear of, written in the same transaction as
 * the change itself (a blocking EventBus handler). Rows leave only when Kokyaku has stored what
 * they point at; a failed delivery stays with its error and is tried again later.
 */
@Entity('kokyaku_outbox')
@Index('kokyaku_outbox_due', ['dueAt'])
export class KokyakuOutboxItem extends VendureEntity {
  constructor(input?: DeepPartial<KokyakuOutboxItem>) {
    super(input);
  }

  @Column({ type: 'varchar', length: 16 })
  kind!: OutboxKind;

  /** The Vendure id of the customer, product variant or order (for events: the customer's). */
  @Column({ type: 'varchar', length: 64 })
  ref!: string;

  /** For storefront events: the event (type, product, properties). */
  @Column({ type: 'simple-json', nullable: true })
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  payload!: Record<string, any> | null;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ type: 'timestamp' })
  dueAt!: Date;

  /** The last delivery's error; a row whose data Kokyaku refuses keeps its error until fixed. */
  @Column({ type: 'text', nullable: true })
  lastError!: string | null;
}

/** Small persistent state of the plugin (the history backfill's checkpoint), one row per key. */
@Entity('kokyaku_sync_state')
export class KokyakuSyncState extends VendureEntity {
  constructor(input?: DeepPartial<KokyakuSyncState>) {
    super(input);
  }

  @Index({ unique: true })
  @Column({ type: 'varchar', length: 64 })
  key!: string;

  @Column({ type: 'simple-json' })
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  value!: Record<string, any>;
}
