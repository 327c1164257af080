import type { ImportFileMutation, ImportKind, KokyakuClientError } from '@kokyaku/client';
import { useImportFieldsQuery, useImportFileMutation, useImportRunsQuery, useUploadImportFileMutation } from '@kokyaku/client/react';
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useI18n } from '../i18n.js';
import { download, ErrorNote, Section, toCsv } from '../ui.js';

const KINDS: ImportKind[] = ['customers', 'orders', 'products', 'events'];
/** Decoded bytes per upload piece: base64 of it stays far below the API's body limit. */
const PIECE = 3 * 1024 * 1024;
const RECENT = 'kokyaku.console.imports';

interface Upload {
  path: string;
  name: string;
  kind: ImportKind;
  mapping?: Record<string, string>;
}

function remember(upload: Upload) {
  const known = recall().filter((u) => u.path !== upload.path);
  localStorage.setItem(RECENT, JSON.stringify([upload, ...known].slice(0, 20)));
}

function recall(): Upload[] {
  try {
    return JSON.parse(localStorage.getItem(RECENT) ?? '[]') as Upload[];
  } catch {
    return [];
  }
}

function base64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

type Result = ImportFileMutation['importFile'];

export function ImportScreen() {
  const { t, number } = useI18n();
  const queries = useQueryClient();
  const [kind, setKind] = useState<ImportKind>('customers');
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [upload, setUpload] = useState<Upload | null>(null);
  const [check, setCheck] = useState<Result | null>(null);
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<unknown>(null);
  const send = useUploadImportFileMutation();
  const fields = useImportFieldsQuery({ kind: upload?.kind ?? kind }, { staleTime: Infinity });
  const run = useImportFileMutation();
  const runs = useImportRunsQuery({ first: 10 }, { refetchInterval: run.isPending ? 1000 : false });
  const running = run.isPending ? runs.data?.importRuns.find((r) => r.status !== 'DONE' && r.fileName === upload?.name) : undefined;

  const uploadAndCheck = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    setError(null);
    setCheck(null);
    setResult(null);
    try {
      const path = await uploadInPieces(file, (piece) => send.mutateAsync(piece), setProgress);
      setProgress(100);
      const next: Upload = { path, name: file.name, kind };
      setUpload(next);
      remember(next);
      const dry = await run.mutateAsync({ kind, path, dryRun: true });
      setCheck(dry.importFile);
      setMapping(Object.fromEntries(dry.importFile.columns.map((c) => [c.field, c.header])));
    } catch (e) {
      setError(e);
    } finally {
      setProgress(null);
    }
  };

  const start = async (target: Upload) => {
    setError(null);
    setResult(null);
    setUpload(target);
    remember(target);
    try {
      const done = await run.mutateAsync({ kind: target.kind, path: target.path, mapping: target.mapping, wait: true });
      setResult(done.importFile);
    } catch (e) {
      setError(e);
    } finally {
      void queries.invalidateQueries({ queryKey: ['ImportRuns'] });
    }
  };

  const headers = check ? [...new Set([...check.columns.map((c) => c.header), ...check.unusedHeaders])] : [];
  const problems = (result ?? check)?.problems ?? [];
  const expected = check?.rowsRead ?? 0;
  const noFolder = (error as KokyakuClientError | null)?.code === 'FORBIDDEN';
  return (
    <div>
      <h1>{t('import.title')}</h1>
      <Section title={t('import.choose')}>
        <form className="stack" onSubmit={(e) => void uploadAndCheck(e)}>
          <label htmlFor="import-kind">{t('import.kind')}</label>
          <select id="import-kind" value={kind} onChange={(e) => setKind(e.target.value as ImportKind)}>
            {KINDS.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
          <label htmlFor="import-file">{t('import.file')}</label>
          <input id="import-file" type="file" accept=".csv,.tsv,.txt,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} required />
          <button type="submit" className="primary" disabled={!file || progress !== null || run.isPending}>
            {t('import.upload')}
          </button>
        </form>
        {progress !== null ? (
          <div>
            <label htmlFor="upload-progress">{t('import.uploading', { p: progress })}</label>
            <progress id="upload-progress" max={100} value={progress} />
          </div>
        ) : null}
        {noFolder ? (
          <p role="alert" className="error">
            {t('import.noDir')}
          </p>
        ) : error ? (
          <ErrorNote error={error} />
        ) : null}
      </Section>
      {check && upload ? (
        <Section title={t('import.mapping')}>
          <p role="status">{t('import.checked', { valid: number(check.rowsValid), read: number(check.rowsRead), failed: number(check.rowsFailed) })}</p>
          <MappingTable fields={fields.data?.importFields ?? []} headers={headers} mapping={mapping} onChange={setMapping} />
          {headers.some((h) => !Object.values(mapping).includes(h)) ? (
            <p className="muted">
              {t('import.unused')}: {headers.filter((h) => !Object.values(mapping).includes(h)).join(', ')}
            </p>
          ) : null}
          <button
            type="button"
            disabled={run.isPending}
            onClick={() =>
              void run.mutateAsync({ kind: upload.kind, path: upload.path, mapping, dryRun: true }).then(
                (dry) => setCheck(dry.importFile),
                (e: unknown) => setError(e),
              )
            }
          >
            {t('import.recheck')}
          </button>
          <button type="button" className="primary" disabled={run.isPending} onClick={() => void start({ ...upload, mapping })}>
            {run.isPending ? t('import.running') : t('import.start')}
          </button>
          {run.isPending ? (
            <div>
              <label htmlFor="import-progress">
                {t('import.running')} {running ? `${number(running.rowsApplied || running.rowsRead)} / ${number(expected)}` : ''}
              </label>
              <progress id="import-progress" max={Math.max(1, expected)} value={running ? Math.min(expected, running.rowsApplied || running.rowsRead) : undefined} />
            </div>
          ) : null}
        </Section>
      ) : null}
      {result ? (
        <p role="status" className="success">
          {t('import.done', { read: number(result.rowsRead), failed: number(result.rowsFailed), warned: number(result.rowsWarned) })}
        </p>
      ) : null}
      {problems.length ? <ProblemsSection problems={problems} name={upload?.name ?? 'import'} /> : null}
      <RunHistory runs={runs.data?.importRuns ?? []} busy={run.isPending} onResume={(known) => void start(known)} />
    </div>
  );
}

type ImportField = { field: string; required: boolean; description: string };

/** Which column of the file each field comes from. */
function MappingTable({
  fields,
  headers,
  mapping,
  onChange,
}: {
  fields: readonly ImportField[];
  headers: string[];
  mapping: Record<string, string>;
  onChange: (next: Record<string, string>) => void;
}) {
  const { t } = useI18n();
  return (
    <div className="scroll" tabIndex={0}>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('import.field')}</th>
            <th scope="col">{t('import.column')}</th>
          </tr>
        </thead>
        <tbody>
          {fields.map((f) => (
            <tr key={f.field}>
              <th scope="row">
                {f.field}
                {f.required ? ' *' : ''}
                <br />
                <small className="muted">{f.description}</small>
              </th>
              <td>
                <select
                  aria-label={`${t('import.column')}: ${f.field}`}
                  value={mapping[f.field] ?? ''}
                  onChange={(e) => {
                    const next = { ...mapping };
                    if (e.target.value) next[f.field] = e.target.value;
                    else delete next[f.field];
                    onChange(next);
                  }}
                >
                  <option value="">{t('import.notImported')}</option>
                  {headers.map((h) => (
                    <option key={h}>{h}</option>
                  ))}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The rows refused or stored without a value, with a CSV of them to download. */
function ProblemsSection({ problems, name }: { problems: readonly { line: number; column?: string | null; reason: string; stored: boolean }[]; name: string }) {
  const { t } = useI18n();
  return (
    <Section
      title={t('import.problems')}
      actions={
        <button
          type="button"
          onClick={() => download(`${name}-problems.csv`, toCsv([['line', 'column', 'reason', 'stored'], ...problems.map((p) => [p.line, p.column ?? '', p.reason, p.stored])]))}
        >
          {t('import.download')}
        </button>
      }
    >
      <div className="scroll" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('import.line')}</th>
              <th scope="col">{t('import.column')}</th>
              <th scope="col">{t('import.reason')}</th>
            </tr>
          </thead>
          <tbody>
            {problems.slice(0, 200).map((p, i) => (
              <tr key={`${p.line}-${i}`}>
                <td className="num">{p.line}</td>
                <td>{p.column ?? ''}</td>
                <td>{p.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}

type ImportRunRow = { id: string; fileName: string; kind: ImportKind; status: string; rowsApplied: number; rowsRead: number; rowsFailed: number; startedAt: string };

/** The last imports; one not finished can be resumed from this browser's upload. */
function RunHistory({ runs, busy, onResume }: { runs: readonly ImportRunRow[]; busy: boolean; onResume: (upload: Upload) => void }) {
  const { t, number, dateTime } = useI18n();
  return (
    <Section title={t('import.history')}>
      <ul className="list">
        {runs.map((r) => {
          const known = r.status !== 'DONE' ? recall().find((u) => u.name === r.fileName && u.kind === r.kind) : undefined;
          return (
            <li key={r.id} className="row between">
              <span>
                <strong>{r.fileName}</strong> <span className="tag">{r.kind}</span> <span className="tag">{r.status}</span>{' '}
                <span className="muted">
                  {number(r.rowsApplied)} / {number(r.rowsRead)} · {number(r.rowsFailed)} ✕ · {dateTime(r.startedAt)}
                </span>
              </span>
              {known && !busy ? (
                <button type="button" onClick={() => onResume(known)}>
                  {t('import.resume')}
                </button>
              ) : null}
            </li>
          );
        })}
      </ul>
    </Section>
  );
}

/** Sends the file in pieces (the API takes base64 bodies of bounded size); returns its path on the server. */
async function uploadInPieces(
  file: File,
  send: (piece: { name: string; data: string; offset: number; uploadId: string | null }) => Promise<{ uploadImportFile: { uploadId: string; path: string } }>,
  setProgress: (percent: number) => void,
): Promise<string> {
  let uploadId: string | null = null;
  let path = '';
  for (let offset = 0; offset < file.size || offset === 0; offset += PIECE) {
    setProgress(Math.round((offset / Math.max(1, file.size)) * 100));
    const bytes = new Uint8Array(await file.slice(offset, offset + PIECE).arrayBuffer());
    const piece = await send({ name: file.name, data: base64(bytes), offset, uploadId });
    uploadId = piece.uploadImportFile.uploadId;
    path = piece.uploadImportFile.path;
    if (file.size === 0) break;
  }
  return path;
}
