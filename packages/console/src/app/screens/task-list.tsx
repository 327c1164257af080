import type { TaskFieldsFragment } from '@kokyaku/client';
import { useUpdateTaskMutation } from '@kokyaku/client/react';
import { useQueryClient } from '@tanstack/react-query';
import { Link } from 'wouter';
import { useI18n } from '../i18n.js';

/** Open tasks with their due time (red when past) and, for staff who may, a Complete button. */
export function TaskList({ tasks, editable, linkCustomer }: { tasks: readonly TaskFieldsFragment[]; editable: boolean; linkCustomer?: boolean }) {
  const { t, dateTime } = useI18n();
  const queries = useQueryClient();
  const update = useUpdateTaskMutation({ onSuccess: () => queries.invalidateQueries({ predicate: (q) => ['Tasks', 'CustomerProfile'].includes(String(q.queryKey[0])) }) });
  const now = Date.now();
  return (
    <>
      <ul className="list">
        {tasks.map((task) => (
          <li key={task.id} className="row between">
            <span>
              <strong>{task.title}</strong>{' '}
              {task.dueAt ? (
                <span className={new Date(task.dueAt).getTime() < now ? 'overdue' : 'muted'}>
                  {t('profile.taskDue')} {dateTime(task.dueAt)}
                </span>
              ) : null}{' '}
              {linkCustomer && task.customerId ? <Link href={`/customers/${task.customerId}`}>#{task.customerId}</Link> : null}
            </span>
            {editable ? (
              <button type="button" onClick={() => update.mutate({ id: task.id, patch: { status: 'DONE' } })} aria-label={`${t('profile.taskDone')}: ${task.title}`}>
                {t('profile.taskDone')}
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {tasks.length === 0 ? <p className="muted">{t('empty')}</p> : null}
    </>
  );
}
