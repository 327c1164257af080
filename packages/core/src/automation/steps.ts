import { z } from 'zod';
import type { CustomerService } from '../customers/customer.service.js';
import type { AutomationStep } from '../module/steps.js';
import { ChannelError, postWebhook } from './channels.js';
import type { MessagingConfig } from './config.js';

const webhookOptions = z.strictObject({ url: z.url({ protocol: /^https?$/, error: 'Must be an http(s) URL.' }) });

/**
 * `WEBHOOK`: posts the run (journey, step, customer ids, trigger) to the shop's URL, signed with
 * the webhook secret; the step's key is the idempotency key the receiver sees again on a retry.
 */
export const WEBHOOK_STEP: AutomationStep<z.output<typeof webhookOptions>, { config: { messaging: MessagingConfig }; customers: CustomerService }> = {
  type: 'WEBHOOK',
  description: "Posts the run to the shop's URL, signed (docs/automation.md).",
  options: webhookOptions,
  run: async (ctx, step, kokyaku) => {
    const { webhookSecret: secret, allowPrivateWebhooks } = kokyaku.config.messaging;
    if (!secret) return { outcome: 'FAILED', failed: 'No webhook secret is configured (messaging.webhookSecret, KOKYAKU_WEBHOOK_SECRET).' };
    const customer = await kokyaku.customers.findById(ctx, step.customerId);
    const payload = {
      type: 'journey.step',
      journey: { id: step.journeyId, name: step.journeyName, version: step.journeyVersion },
      run: { id: step.runId, step: step.stepId },
      customer: { id: step.customerId, externalId: customer?.externalId ?? null },
      context: step.trigger,
      at: step.now.toISOString(),
    };
    try {
      const status = await postWebhook(step.options.url, payload, { secret, key: step.key, allowPrivate: allowPrivateWebhooks });
      return { outcome: 'CALLED', detail: { status } };
    } catch (error) {
      if (error instanceof ChannelError && (!error.retryable || step.finalAttempt)) return { outcome: 'FAILED', detail: { error: error.message } };
      throw error;
    }
  },
};
