import { createHmac } from 'node:crypto';
import type { KokyakuContext } from '../shared/context.js';
import type { CustomerRecord, CustomerService } from '../customers/customer.service.js';
import type { PrivacyService } from '../privacy/privacy.service.js';
import type { RecommendationService } from '../recommendations/recommendation.service.js';
import { segmentFrom } from '../segments/compiler.js';
import type { SegmentService } from '../segments/segment.service.js';
import { asDate, sql, sqlOne, transaction } from '../shared/sql.js';
import type { MessagingConfig } from './config.js';
import { type ChannelAdapter, ChannelError, uuidFromHex, EmailChannel, LineChannel, SmsChannel, TwilioSms } from './channels.js';
import { inWindow, nextLocalTime, parseTimeOfDay } from './clock.js';
import { CHANNELS, type Channel, type JourneyDefinition, type JourneyStep, type PluginStep, pluginStepOptions, successors, type AutomationExtensions } from './definition.js';
import { mergeData, renderTemplates } from './templates.js';

/** The shop's messaging policy. */
export interface MessagingSettings {
  /** Quiet hours in the shop's time zone ("21:00"-"09:00"); marketing waits until they end. Null: none. */
  quietHoursStart: string | null;
  quietHoursEnd: string | null;
  /** At most this many marketing messages per customer within `frequencyCapDays` (null: no cap). */
  frequencyCapMax: number | null;
  frequencyCapDays: number | null;
  /** An order this many days after a message is attributed to the message's journey (last touch). */
  attributionDays: number;
  /** PREFERRED sends try the customer's preferred channel, then these in order. */
  channelOrder: Channel[];
}

interface SettingsRow {
  quiet_start: string | null;
  quiet_end: string | null;
  cap_max: number | null;
  cap_days: number | null;
  attribution_days: number;
  channel_order: Channel[];
}

export const DEFAULT_SETTINGS: MessagingSettings = {
  quietHoursStart: null,
  quietHoursEnd: null,
  frequencyCapMax: null,
  frequencyCapDays: null,
  attributionDays: 5,
  channelOrder: ['LINE', 'EMAIL', 'SMS'],
};

export async function loadSettings(ctx: KokyakuContext): Promise<MessagingSettings> {
  const row = await sqlOne<SettingsRow>(
    ctx.em,
    `select to_char(quiet_start, 'HH24:MI') as quiet_start, to_char(quiet_end, 'HH24:MI') as quiet_end, cap_max, cap_days, attribution_days, channel_order
     from kokyaku.messaging_settings where tenant_id = $1`,
    [ctx.tenantId],
  );
  return row ? mapSettings(row) : { ...DEFAULT_SETTINGS };
}

/** The policy and the tenant's secret for message tokens, in one statement (the settings row is made on first use). */
async function loadSendSettings(ctx: KokyakuContext): Promise<MessagingSettings & { secret: string }> {
  const columns = `to_char(quiet_start, 'HH24:MI') as quiet_start, to_char(quiet_end, 'HH24:MI') as quiet_end, cap_max, cap_days, attribution_days, channel_order, link_secret`;
  const read = () => sqlOne<SettingsRow & { link_secret: string }>(ctx.em, `select ${columns} from kokyaku.messaging_settings where tenant_id = $1`, [ctx.tenantId]);
  // A new shop's row is made by its first send. Sends of a new shop that run side by side all
  // insert it: the losers wait for the winner's commit, do nothing, and read its row in a new
  // statement (one statement could not see a row committed after it began).
  const row =
    (await read()) ??
    (await sqlOne<SettingsRow & { link_secret: string }>(
      ctx.em,
      `insert into kokyaku.messaging_settings (tenant_id) values ($1) on conflict (tenant_id) do nothing returning ${columns}`,
      [ctx.tenantId],
    )) ??
    (await read());
  if (!row) throw new Error(`The messaging settings of tenant ${ctx.tenantId} could not be read or made.`);
  return { ...mapSettings(row), secret: row.link_secret };
}

function mapSettings(row: SettingsRow): MessagingSettings {
  return {
    quietHoursStart: row.quiet_start,
    quietHoursEnd: row.quiet_end,
    frequencyCapMax: row.cap_max,
    frequencyCapDays: row.cap_days,
    attributionDays: row.attribution_days,
    channelOrder: row.channel_order,
  };
}

/** The run being advanced, as read under its row lock. */
interface RunRow {
  id: string;
  journey_id: string;
  journey_name: string;
  journey_status: string;
  version: number;
  customer_id: string;
  status: 'ACTIVE' | 'WAITING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  step_id: string | null;
  seq: number;
  wake_at: Date | string;
  context: { orderId?: string; eventId?: string; inquiryId?: string; segmentId?: string; data?: Record<string, unknown> };
  definition: JourneyDefinition;
}

/** What one step did. */
interface StepResult {
  outcome: string;
  detail?: Record<string, unknown>;
  /** The next step (null: the run is over). */
  next?: string | null;
  /** Stay on this step and come back then (a wait, quiet hours). */
  waitUntil?: Date;
  /** The run ends as FAILED with this error. */
  failed?: string;
}

export interface AdvanceOptions {
  now?: Date;
  /** The last attempt of the worker's job: a failing send is recorded as FAILED and the run moves on instead of retrying. */
  finalAttempt?: boolean;
}

export interface EngineDeps {
  customers: CustomerService;
  segments: SegmentService;
  privacy: PrivacyService;
  recommendations: RecommendationService;
  messaging: MessagingConfig;
  /** The step types of the composed modules (TASK, TAG, FIELD, WEBHOOK and plugins'). */
  plugins?: AutomationExtensions;
}

/** How many steps one advance may take before it yields (a journey without waits is short anyway). */
const MAX_STEPS_PER_ADVANCE = 50;

/**
 * Advances journey runs: the state machine behind the worker. Every step runs in its own
 * transaction holding the run's row lock, so two workers never run the same step, and a crash
 * anywhere before the commit leaves the run where it was: the step runs again, and a message it
 * sends carries the same idempotency key (the run and its step counter).
 */
export class JourneyEngine {
  private readonly adapters: Partial<Record<Channel, ChannelAdapter>>;

  constructor(private readonly deps: EngineDeps) {
    const m = deps.messaging;
    const sms = m.sms ? new SmsChannel('provider' in m.sms ? m.sms.provider : new TwilioSms(m.sms)) : undefined;
    this.adapters = {
      EMAIL: m.email ? new EmailChannel(m.email) : undefined,
      LINE: m.line ? new LineChannel(m.line) : undefined,
      SMS: sms,
      ...deps.plugins?.channels,
      ...m.adapters,
    };
  }

  /** Channels that can send. */
  configuredChannels(): Channel[] {
    return CHANNELS.filter((c) => this.adapters[c]);
  }

  async close(): Promise<void> {
    for (const adapter of Object.values(this.adapters)) await adapter?.close?.();
  }

  /**
   * Runs the steps of one run that are due, until it waits, ends, or is locked by another worker.
   * Returns what the run is doing afterwards.
   */
  async advance(ctx: KokyakuContext, runId: string, options: AdvanceOptions = {}): Promise<'WAITING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'BUSY' | 'NOT_DUE'> {
    for (let i = 0; i < MAX_STEPS_PER_ADVANCE; i++) {
      const state = await this.step(ctx, runId, options);
      if (state !== 'ACTIVE') return state;
    }
    return 'WAITING';
  }

  private async step(ctx: KokyakuContext, runId: string, options: AdvanceOptions): Promise<'ACTIVE' | 'WAITING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'BUSY' | 'NOT_DUE'> {
    const now = options.now ?? new Date();
    return transaction(ctx, async (em) => {
      const tx: KokyakuContext = { ...ctx, em };
      const run = await sqlOne<RunRow>(
        em,
        `select r.id::text as id, r.journey_id::text as journey_id, j.name as journey_name, j.status as journey_status, r.version,
                r.customer_id::text as customer_id, r.status, r.step_id, r.seq, r.wake_at, r.context, v.definition
         from kokyaku.journey_runs r
         join kokyaku.journeys j on j.tenant_id = r.tenant_id and j.id = r.journey_id
         join kokyaku.journey_versions v on v.tenant_id = r.tenant_id and v.journey_id = r.journey_id and v.version = r.version
         where r.tenant_id = $1 and r.id = $2::bigint
         for update of r skip locked`,
        [ctx.tenantId, runId],
      );
      if (!run) {
        const exists = await sqlOne(em, `select 1 from kokyaku.journey_runs where tenant_id = $1 and id = $2::bigint`, [ctx.tenantId, runId]);
        return exists ? 'BUSY' : 'CANCELLED';
      }
      if (run.status !== 'ACTIVE' && run.status !== 'WAITING') return run.status;
      if (asDate(run.wake_at)!.getTime() > now.getTime()) return 'NOT_DUE';
      if (run.journey_status === 'PAUSED' || run.journey_status === 'DRAFT') return 'NOT_DUE';
      if (run.journey_status === 'ARCHIVED') return this.finish(tx, run, 'CANCELLED', 'The journey was archived.', now);

      const customer = await this.deps.customers.findById(tx, run.customer_id);
      if (!customer || customer.erasedAt) return this.finish(tx, run, 'CANCELLED', 'The customer was erased.', now);

      const definition = run.definition;
      const index = definition.steps.findIndex((s) => s.id === run.step_id);
      if (index < 0) return this.finish(tx, run, 'COMPLETED', null, now);
      const step = definition.steps[index]!;
      const next = successors(definition, index);

      let result: StepResult;
      if (step.type === 'WAIT' && run.status === 'WAITING') {
        result = { outcome: 'WAITED', next: next[0] };
      } else {
        result = await this.execute(tx, run, step, next, customer, { now, finalAttempt: options.finalAttempt ?? false });
      }

      // Where the run goes: the step's record and the run's move in one statement.
      const after: { status: 'ACTIVE' | 'WAITING' | 'COMPLETED' | 'FAILED'; stepId: string | null; wakeAt: Date | null; error: string | null } = result.failed
        ? { status: 'FAILED', stepId: step.id, wakeAt: null, error: result.failed }
        : result.waitUntil
          ? { status: 'WAITING', stepId: step.id, wakeAt: result.waitUntil, error: null }
          : result.next == null
            ? { status: 'COMPLETED', stepId: null, wakeAt: null, error: null }
            : { status: 'ACTIVE', stepId: result.next, wakeAt: now, error: null };
      await sql(
        em,
        `with logged as (
           insert into kokyaku.journey_run_steps (tenant_id, run_id, seq, step_id, type, outcome, detail, at) values ($1, $2::bigint, $3, $4, $5, $6, $7::jsonb, $8)
         )
         update kokyaku.journey_runs set status = $9, step_id = $10, seq = $3 + 1, wake_at = coalesce($11::timestamptz, wake_at), error = $12,
           finished_at = case when $9 in ('COMPLETED', 'FAILED') then $8::timestamptz end,
           dispatched_at = case when $9 = 'WAITING' then null else dispatched_at end, updated_at = $8
         where tenant_id = $1 and id = $2::bigint`,
        [ctx.tenantId, run.id, run.seq, step.id, step.type, result.outcome, JSON.stringify(result.detail ?? {}), now, after.status, after.stepId, after.wakeAt, after.error],
      );
      return after.status;
    });
  }

  private async finish(
    tx: KokyakuContext,
    run: RunRow,
    status: 'COMPLETED' | 'FAILED' | 'CANCELLED',
    error: string | null,
    now: Date,
    seq = run.seq,
    stepId: string | null = run.step_id,
  ): Promise<'COMPLETED' | 'FAILED' | 'CANCELLED'> {
    await sql(
      tx.em,
      `update kokyaku.journey_runs set status = $3, error = $4, seq = $5, step_id = $6, finished_at = $7, updated_at = $7 where tenant_id = $1 and id = $2::bigint`,
      [tx.tenantId, run.id, status, error, seq, stepId, now],
    );
    return status;
  }

  /** Records that a run's step failed for good (the worker's last attempt threw outside a send). */
  async fail(ctx: KokyakuContext, runId: string, error: string, now = new Date()): Promise<void> {
    await sql(
      ctx.em,
      `update kokyaku.journey_runs set status = 'FAILED', error = $3, finished_at = $4, updated_at = $4 where tenant_id = $1 and id = $2::bigint and status in ('ACTIVE', 'WAITING')`,
      [ctx.tenantId, runId, error.slice(0, 1000), now],
    );
  }

  private async execute(
    tx: KokyakuContext,
    run: RunRow,
    step: JourneyStep,
    next: (string | null)[],
    customer: CustomerRecord,
    options: { now: Date; finalAttempt: boolean },
  ): Promise<StepResult> {
    const { now } = options;
    switch (step.type) {
      case 'WAIT': {
        let until = new Date(now.getTime() + ((step.days ?? 0) * 1440 + (step.hours ?? 0) * 60 + (step.minutes ?? 0)) * 60_000 + (step.seconds ?? 0) * 1000);
        if (step.untilTime) until = nextLocalTime(until, parseTimeOfDay(step.untilTime), tx.shop.timeZone);
        return { outcome: 'WAITING', detail: { until: until.toISOString() }, waitUntil: until };
      }
      case 'CONDITION': {
        const compiled = await this.deps.segments.compile(tx, step.query, { firstParam: 3, now });
        const row = await sqlOne<{ yes: boolean }>(
          tx.em,
          `select exists (select 1 from ${segmentFrom(compiled)} where f.tenant_id = $1 and f.customer_id = $2::bigint and ${compiled.where}) as yes`,
          [tx.tenantId, run.customer_id, ...compiled.params],
        );
        const yes = row?.yes ?? false;
        return { outcome: yes ? 'YES' : 'NO', next: yes ? next[0] : next[1] };
      }
      case 'SEND':
        return this.send(tx, run, step, next[0]!, customer, options);
      case 'END':
        return { outcome: 'ENDED', next: null };
      default: {
        // A step type of a module (core's TASK, TAG, FIELD, WEBHOOK, or a plugin's): it runs in this transaction, under the run's lock.
        const moduleStep = step as PluginStep;
        const handler = this.deps.plugins?.steps.get(moduleStep.type);
        if (!handler) return { outcome: 'FAILED', failed: `No plugin provides the step type ${moduleStep.type} (was its plugin removed from plugins?).` };
        const result = await handler.run(
          tx,
          {
            options: pluginStepOptions(moduleStep),
            runId: run.id,
            journeyId: run.journey_id,
            journeyName: run.journey_name,
            journeyVersion: run.version,
            stepId: moduleStep.id,
            customerId: run.customer_id,
            trigger: run.context,
            key: `${run.id}:${run.seq}`,
            now,
            finalAttempt: options.finalAttempt,
          },
          this.deps.plugins!.instance(),
        );
        if (result?.failed) return { outcome: result.outcome ?? 'FAILED', failed: result.failed };
        return { outcome: result?.outcome ?? 'DONE', detail: result?.detail, next: next[0] };
      }
    }
  }

  private async send(
    tx: KokyakuContext,
    run: RunRow,
    step: Extract<JourneyStep, { type: 'SEND' }>,
    next: string | null,
    customer: CustomerRecord,
    options: { now: Date; finalAttempt: boolean },
  ): Promise<StepResult> {
    const { now } = options;
    const settings = await loadSendSettings(tx);
    const marketing = step.purpose === 'MARKETING';
    const key = `run:${run.id}:${run.seq}`;
    const token = tokenFor(settings.secret, key);
    const record = (fields: MessageFields) => recordMessage(tx, run, step, key, token, now, fields);

    const deferred = marketing ? quietHoursEnd(settings, now, tx.shop.timeZone) : null;
    if (deferred) return { outcome: 'DEFERRED', detail: { reason: 'QUIET_HOURS', until: deferred.toISOString() }, waitUntil: deferred };

    const { candidates, chosen, skipped } = await this.chooseChannel(tx, step, customer, settings.channelOrder, marketing);
    if (!chosen) {
      const reason = skipped.find((s) => s.reason === 'NO_CONSENT')?.reason ?? skipped[0]?.reason ?? 'NO_CHANNEL';
      await record({ channel: candidates[0] ?? 'EMAIL', status: 'WITHHELD', reason });
      return { outcome: 'WITHHELD', detail: { reason, tried: skipped }, next };
    }
    const sentInWindow = marketing ? await overFrequencyCap(tx, settings, customer.id, now) : null;
    if (sentInWindow !== null) {
      await record({ channel: chosen.channel, status: 'WITHHELD', reason: 'FREQUENCY_CAP' });
      return { outcome: 'WITHHELD', detail: { reason: 'FREQUENCY_CAP', sentInWindow }, next };
    }

    const publicUrl = this.deps.messaging.publicUrl?.replace(/\/$/, '') ?? null;
    const unsubscribeUrl = publicUrl ? `${publicUrl}/u/${token}` : null;
    const data = await mergeData(tx, { customer, context: run.context, links: { unsubscribe_url: unsubscribeUrl }, recommendations: this.deps.recommendations });
    const rendered = await renderTemplates(tx.shop, step, data, `step ${step.id}`);
    const links: string[] = [];
    const text = trackLinks(rendered.text, publicUrl, unsubscribeUrl, token, links)!;
    const html = trackLinks(rendered.html, publicUrl, unsubscribeUrl, token, links);
    const channel = chosen.channel;
    try {
      const { providerId } = await chosen.adapter.send({
        key,
        channel,
        to: chosen.to,
        subject: channel === 'EMAIL' ? rendered.subject : null,
        text,
        html: channel === 'EMAIL' ? html : null,
        unsubscribeUrl: channel === 'EMAIL' && marketing ? unsubscribeUrl : null,
      });
      await record({ channel, status: 'SENT', recipient: chosen.to, subject: rendered.subject, body: text, links, providerId });
      return { outcome: 'SENT', detail: { channel, ...(skipped.length > 0 ? { skipped } : {}) }, next };
    } catch (error) {
      const retryable = !(error instanceof ChannelError) || error.retryable;
      if (retryable && !options.finalAttempt) throw error;
      const message = (error as Error).message.slice(0, 1000);
      await record({ channel, status: 'FAILED', recipient: chosen.to, subject: rendered.subject, body: text, links, error: message });
      return { outcome: 'FAILED', detail: { channel, error: message }, next };
    }
  }

  /** The first channel the customer can be reached on (address, transport, consent for marketing), and why the others were not. */
  private async chooseChannel(tx: KokyakuContext, step: Extract<JourneyStep, { type: 'SEND' }>, customer: CustomerRecord, channelOrder: readonly Channel[], marketing: boolean) {
    const candidates: Channel[] = [];
    const add = (c: Channel | null | undefined) => {
      if (c && !candidates.includes(c)) candidates.push(c);
    };
    if (step.channel === 'PREFERRED') {
      add(customer.preferredChannel);
      for (const c of channelOrder) add(c);
    } else {
      add(step.channel);
    }
    for (const c of step.fallback ?? []) add(c);

    const skipped: { channel: Channel; reason: string }[] = [];
    for (const channel of candidates) {
      const to = channel === 'EMAIL' ? customer.email : channel === 'SMS' ? customer.phone : customer.lineUserId;
      const adapter = this.adapters[channel];
      if (!to) skipped.push({ channel, reason: 'NO_ADDRESS' });
      else if (!adapter) skipped.push({ channel, reason: 'CHANNEL_NOT_CONFIGURED' });
      else if (marketing && !(await this.deps.privacy.mayMarket(tx, { id: customer.id }, channel))) skipped.push({ channel, reason: 'NO_CONSENT' });
      else return { candidates, chosen: { channel, to, adapter } as { channel: Channel; to: string; adapter: ChannelAdapter }, skipped };
    }
    return { candidates, chosen: null, skipped };
  }
}

interface MessageFields {
  channel: Channel;
  status: 'SENT' | 'FAILED' | 'WITHHELD';
  reason?: string | null;
  recipient?: string | null;
  subject?: string | null;
  body?: string | null;
  links?: string[];
  providerId?: string | null;
  error?: string | null;
}

/** Stores what a SEND step did: sent, failed or withheld, with its token for links and unsubscribing. */
function recordMessage(tx: KokyakuContext, run: RunRow, step: Extract<JourneyStep, { type: 'SEND' }>, key: string, token: string, now: Date, fields: MessageFields) {
  return sql(
    tx.em,
    `insert into kokyaku.messages (tenant_id, customer_id, journey_id, run_id, step_id, idempotency_key, token, channel, purpose, status, reason, recipient, subject, body, links, provider_id, error, created_at, sent_at)
     values ($1, $2::bigint, $3::bigint, $4::bigint, $5, $6, $7::uuid, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16, $17, $18, case when $10 = 'SENT' then $18::timestamptz end)`,
    [
      tx.tenantId,
      run.customer_id,
      run.journey_id,
      run.id,
      step.id,
      key,
      token,
      fields.channel,
      step.purpose,
      fields.status,
      fields.reason ?? null,
      fields.recipient ?? null,
      fields.subject ?? null,
      fields.body ?? null,
      JSON.stringify(fields.links ?? []),
      fields.providerId ?? null,
      fields.error ?? null,
      now,
    ],
  );
}

/** When the shop's quiet hours end, if `now` is inside them (null: send now). */
function quietHoursEnd(settings: { quietHoursStart: string | null; quietHoursEnd: string | null }, now: Date, timeZone: string): Date | null {
  if (!settings.quietHoursStart || !settings.quietHoursEnd) return null;
  const start = parseTimeOfDay(settings.quietHoursStart);
  const end = parseTimeOfDay(settings.quietHoursEnd);
  return inWindow(now, timeZone, start, end) ? nextLocalTime(now, end, timeZone) : null;
}

/** How many marketing messages the customer had in the cap's window, when that reaches the cap (null: under it). */
async function overFrequencyCap(
  tx: KokyakuContext,
  settings: { frequencyCapMax: number | null; frequencyCapDays: number | null },
  customerId: string,
  now: Date,
): Promise<number | null> {
  if (!settings.frequencyCapMax || !settings.frequencyCapDays) return null;
  const since = new Date(now.getTime() - settings.frequencyCapDays * 86_400_000);
  const row = await sqlOne<{ n: number }>(
    tx.em,
    `select count(*)::int as n from kokyaku.messages where customer_id = $2::bigint and tenant_id = $1 and purpose = 'MARKETING' and sent_at > $3 and sent_at <= $4`,
    [tx.tenantId, customerId, since, now],
  );
  const n = row?.n ?? 0;
  return n >= settings.frequencyCapMax ? n : null;
}

/** Every link but the unsubscribe link, through the click tracker (`links` collects them in order). */
function trackLinks(text: string | null, publicUrl: string | null, unsubscribeUrl: string | null, token: string, links: string[]): string | null {
  if (!text || !publicUrl) return text;
  return text.replace(/https?:\/\/[^\s"'<>]+/g, (url) => {
    if (url === unsubscribeUrl) return url;
    let n = links.indexOf(url);
    if (n < 0) n = links.push(url) - 1;
    return `${publicUrl}/r/${token}/${n}`;
  });
}

/** A message's public token: derived from the tenant's secret and the message key, so a resend keeps its links. */
export function tokenFor(secret: string, key: string): string {
  return uuidFromHex(createHmac('sha256', secret).update(key).digest('hex'));
}
