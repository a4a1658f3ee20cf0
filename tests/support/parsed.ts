/** Builds ParsedMessage values directly, for unit tests that do not need MIME parsing. */
import type { ParsedMessage } from '../../src/core/types';

export function parsed(
  fields: Partial<Omit<ParsedMessage, 'headers' | 'from'>> & {
    from?: string;
    headers?: Record<string, string>;
  } = {},
): ParsedMessage {
  const { from, headers, ...rest } = fields;
  return {
    messageId: 'm1@customer.example',
    inReplyTo: [],
    references: [],
    from: { name: '', email: from ?? 'dana@customer.example' },
    replyTo: [],
    to: [{ name: '', email: 'support@example.com' }],
    cc: [],
    subject: 'Help',
    date: '2026-03-02T09:00:00.000Z',
    headers: Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), [v]])),
    text: 'Hello',
    html: '',
    attachments: [],
    contentType: 'text/plain',
    warnings: [],
    ...rest,
  };
}
