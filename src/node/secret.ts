/**
 * The local runtime's signing secret: kept in `DIR/.plusdesk-secret`, made on first use, so that
 * plus tags stay valid across runs on the same output folder.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Signer } from '../core/ports';

export const SECRET_FILE = '.plusdesk-secret';

export function hmacSigner(secret: string): Signer {
  return { sign: (data) => new Uint8Array(createHmac('sha256', secret).update(data, 'utf8').digest()) };
}

/** Reads the folder's secret, or writes `preset` (or a fresh random one) when there is none. */
export function loadSecret(dir: string, preset?: string): string {
  const path = join(dir, SECRET_FILE);
  if (existsSync(path)) {
    const secret = readFileSync(path, 'utf8').trim();
    if (secret !== '') return secret;
  }
  mkdirSync(dir, { recursive: true });
  const secret = preset ?? randomBytes(32).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
