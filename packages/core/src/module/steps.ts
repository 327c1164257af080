import type { KokyakuContext } from '../shared/context.js';
import type { StandardSchemaV1 } from '../shared/standard-schema.js';

/** What a journey step type gets when it runs. */
export interface StepRun<Options> {
  /** The step's options as its schema returned them. */
  options: Options;
  runId: string;
  journeyId: string;
  /** The journey's name and the version the run follows. */
  journeyName: string;
  journeyVersion: number;
  stepId: string;
  customerId: string;
  /** What started the run: `{ orderId }`, `{ eventId }`, `{ segmentId }`, `{ data }`... */
  trigger: Record<string, unknown>;
  /**
   * Unique per run and step execution, and the same when a step runs again after a crash:
   * use it as an idempotency key for anything outside the database.
   */
  key: string;
  now: Date;
  /** True on the step's last attempt: a step that throws now fails the run. */
  finalAttempt: boolean;
}

/** How a step went: an outcome for the run's history (default `DONE`), or `failed` to end the run as FAILED. */
export interface StepOutcome {
  outcome?: string;
  detail?: Record<string, unknown>;
  /** The run ends as FAILED with this error (the step does not go on). */
  failed?: string;
}

/**
 * A step type of journeys (`{ "id": "call", "type": "TASK", "title": "..." }`). Core's action steps
 * are their modules' (TASK the CRM's, TAG and FIELD the customers', WEBHOOK the automation
 * module's), declared like a plugin's; the engine itself keeps only WAIT, CONDITION, SEND and END.
 */
export interface AutomationStep<Options = any, K = unknown> {
  /** UPPER_SNAKE_CASE, unique among step types (e.g. `AWARD_POINTS`). */
  type: string;
  description: string;
  /** Checks the step's fields (all but `id`, `type` and `next`) when a journey is saved. */
  options: StandardSchemaV1<unknown, Options>;
  /**
   * Runs the step inside the step's transaction (which holds the run's row lock): what it writes
   * through `ctx` commits together with the run's move to the next step, or not at all. A step
   * that throws is tried again (its `key` stays the same).
   */
  run(ctx: KokyakuContext, step: StepRun<Options>, kokyaku: K): Promise<StepOutcome | void>;
}
