import { z } from 'zod';
import type { AutomationStep } from '../module/steps.js';
import type { TaskService } from './notes-tasks.js';

const taskOptions = z.strictObject({
  title: z.string().trim().min(1).max(300),
  description: z.string().max(5000).nullable().optional(),
  dueInDays: z.number().int().min(0).max(365).optional(),
  priority: z.enum(['LOW', 'NORMAL', 'HIGH', 'URGENT']).optional(),
  assigneeId: z.string().max(200).nullable().optional(),
});

/** `TASK`: a task for staff about the run's customer (`dueInDays` from when the step runs). */
export const TASK_STEP: AutomationStep<z.output<typeof taskOptions>, { tasks: TaskService }> = {
  type: 'TASK',
  description: 'Creates a task for staff about the customer.',
  options: taskOptions,
  run: async (ctx, step, kokyaku) => {
    const o = step.options;
    const task = await kokyaku.tasks.create(ctx, {
      title: o.title,
      description: o.description ?? null,
      dueAt: o.dueInDays !== undefined ? new Date(step.now.getTime() + o.dueInDays * 86_400_000) : null,
      priority: o.priority ?? null,
      assigneeId: o.assigneeId ?? null,
      customerId: step.customerId,
      orderExternalId: null,
    });
    return { outcome: 'TASK_CREATED', detail: { taskId: task.id } };
  },
};
