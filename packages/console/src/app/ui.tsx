import type { KokyakuClientError } from '@kokyaku/client';
import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { useI18n } from './i18n.js';

/** The usual three states of a query. */
export function Loading() {
  const { t } = useI18n();
  return (
    <p className="muted" role="status">
      {t('loading')}
    </p>
  );
}

export function ErrorNote({ error, retry }: { error: unknown; retry?: () => void }) {
  const { t } = useI18n();
  const code = (error as KokyakuClientError | null)?.code;
  const message = code === 'FORBIDDEN' ? t('error.forbidden') : error instanceof Error ? error.message : String(error);
  return (
    <div className="error" role="alert">
      <strong>{t('error.title')}</strong> <span>{message}</span>
      {retry ? (
        <button type="button" className="link" onClick={retry}>
          {t('error.retry')}
        </button>
      ) : null}
    </div>
  );
}

export function Section({ title, children, actions, id }: { title: string; children: ReactNode; actions?: ReactNode; id?: string }) {
  const headingId = useId();
  return (
    <section className="card" aria-labelledby={headingId} id={id}>
      <div className="card-head">
        <h2 id={headingId}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function Stat({ label, value, hint }: { label: string; value: ReactNode; hint?: string }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd>
        {value}
        {hint ? <small className="muted hint"> {hint}</small> : null}
      </dd>
    </div>
  );
}

/** A modal confirmation on the native <dialog> (focus kept inside, Escape cancels). */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
  danger,
  busy,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  danger?: boolean;
  busy?: boolean;
}) {
  const { t } = useI18n();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={(event) => (event.preventDefault(), onCancel())}>
      <h2 id={titleId}>{title}</h2>
      {children}
      <div className="row end">
        <button type="button" onClick={onCancel}>
          {t('cancel')}
        </button>
        <button type="button" className={danger ? 'danger' : 'primary'} onClick={onConfirm} disabled={busy}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** Saves text as a file the browser downloads. */
export function download(name: string, text: string, type = 'text/csv;charset=utf-8') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** RFC 4180 CSV with a BOM (Excel opens UTF-8 Japanese correctly with it). */
export function toCsv(rows: readonly (readonly unknown[])[]): string {
  const cell = (value: unknown) => {
    const text = value == null ? '' : String(value);
    // A leading = + - @ would be read as a formula by spreadsheets.
    const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return `\uFEFF${rows.map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}

/** Family name first in Japanese, given name first in English. */
export function customerName(
  c: { firstName?: string | null; lastName?: string | null; externalId?: string | null; id?: string } | null | undefined,
  language: 'en' | 'ja' = 'ja',
): string {
  if (!c) return '';
  const name = (language === 'ja' ? [c.lastName, c.firstName] : [c.firstName, c.lastName]).filter(Boolean).join(' ');
  return name || c.externalId || `#${c.id}`;
}

/** `value` once it has stopped changing for `ms`: what is typed is sent when the typing pauses. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
