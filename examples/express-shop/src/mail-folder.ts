import fs from 'node:fs/promises';
import path from 'node:path';
import type { ChannelAdapter, OutboundMessage } from '@kokyaku/core';
import nodemailer from 'nodemailer';

/**
 * A channel adapter of the example shop: without an SMTP server (KOKYAKU_SMTP_URL), the mails
 * journeys send are written as .eml files to a folder instead, so the demo works offline. Any
 * object with `send(message)` can stand in for a channel (`messaging.adapters`).
 */
export class MailFolder implements ChannelAdapter {
  private readonly composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  constructor(
    readonly dir: string,
    private readonly from: string,
  ) {}

  async send(message: OutboundMessage): Promise<{ providerId: string | null }> {
    const info = await this.composer.sendMail({
      from: this.from,
      to: message.to,
      subject: message.subject ?? '',
      text: message.text,
      html: message.html ?? undefined,
      headers: message.unsubscribeUrl ? { 'List-Unsubscribe': `<${message.unsubscribeUrl}>` } : {},
    });
    await fs.mkdir(this.dir, { recursive: true });
    // One file per message key: sending the same message again overwrites it, never duplicates it.
    const file = path.join(this.dir, `${message.key.replace(/[^A-Za-z0-9_-]/g, '_')}.eml`);
    await fs.writeFile(file, info.message as Buffer);
    return { providerId: path.basename(file) };
  }
}
