import { type AccessRule, inherit, contact } from '../security/rules.js';

/** Who may read each field of the imports types (security/access.ts explains the rules). */
export const IMPORTS_ACCESS: Record<string, Record<string, AccessRule>> = {
  // Imports and identity: reached through ADMIN (or contact-data) operations.
  ImportResult: inherit('runId', 'kind', 'phase', 'encoding', 'columns', 'unusedHeaders', 'rowsRead', 'rowsValid', 'rowsFailed', 'rowsWarned', 'problems', 'resumed', 'seconds'),
  ImportColumn: inherit('field', 'header'),
  ImportProblem: inherit('line', 'column', 'reason', 'stored'),
  ImportField: inherit('field', 'required', 'description'),
  ImportUpload: inherit('uploadId', 'path', 'bytes'),
  ImportRun: inherit('id', 'kind', 'fileName', 'status', 'rowsRead', 'rowsFailed', 'rowsApplied', 'startedAt', 'updatedAt', 'finishedAt'),
  DuplicateGroup: inherit('rule', 'customers'),
  MergePreview: inherit('survivorId', 'mergedIds', 'fields', 'aliases', 'ordersMoved', 'eventsMoved'),
  MergeField: inherit('field', 'value', 'fromCustomerId', 'dropped'),
};
