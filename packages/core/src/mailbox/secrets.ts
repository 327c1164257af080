import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KokyakuError } from '../shared/errors.js';

/** The 32-byte key of `mailbox.encryptionKey` (64 hex digits or base64), or a clear error. */
export function mailKey(text: string | null): Buffer {
  if (!text) {
    throw KokyakuError.configInvalid(
      'mailbox.encryptionKey (KOKYAKU_MAIL_KEY) is not set: mailbox passwords are stored encrypted with it. Make one with `openssl rand -base64 32`.',
    );
  }
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw KokyakuError.configInvalid('mailbox.encryptionKey (KOKYAKU_MAIL_KEY) must be 32 bytes: 64 hex digits or base64 (`openssl rand -base64 32`).');
  return key;
}

/** AES-256-GCM: the nonce (12 bytes), the tag (16) and the ciphertext, in one value. */
export function seal(key: Buffer, secret: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function open(key: Buffer, sealed: Buffer): string {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw KokyakuError.configInvalid('A mailbox secret cannot be read with mailbox.encryptionKey (was the key changed?): connect the mailbox again.');
  }
}
