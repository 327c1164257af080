import { describe, expect, it } from 'vitest';
import { createLogger, redactPersonal } from './logger.js';

describe('redactPersonal', () => {
  it('replaces personal fields at any depth and in arrays, and keeps everything else', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    expect(redactPersonal({ requestId: 'r-1', at, customer: { Email: 'a@b.jp', tags: ['vip'], orders: [{ city: 'Sapporo', total: 100 }] }, ids: [1, 2] })).toEqual({
      requestId: 'r-1',
      at,
      customer: { Email: '[redacted]', tags: ['vip'], orders: [{ city: '[redacted]', total: 100 }] },
      ids: [1, 2],
    });
  });

  it('serializes errors and redacts what they quote', () => {
    const error = Object.assign(new Error('duplicate key'), { detail: 'Key (email)=(a@b.jp) already exists.', code: '23505' });
    expect(redactPersonal({ err: error })).toMatchObject({ err: { type: 'Error', message: 'duplicate key', detail: '[redacted]', code: '23505' } });
  });

  it('stops at cycles and great depth instead of looping', () => {
    const loop: Record<string, unknown> = { name: 'x' };
    loop.self = loop;
    expect(JSON.stringify(redactPersonal(loop))).toContain('[truncated]');
  });

  it('is what the logger writes', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    logger.info({ batch: [{ phone: '+819012345678' }] }, 'received');
    logger.error(new Error('boom'));
    expect(lines[0]).not.toContain('+8190');
    expect(JSON.parse(lines[1]!).err).toMatchObject({ type: 'Error', message: 'boom' });
  });
});
