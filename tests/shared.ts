/**
 * Locates the real-mail corpus and bug-report cases that sit beside the repository at test time.
 * They are test data from other projects and are never copied into this repository.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Folder of the shared test data: PLUSDESK_SHARED, or `../shared` beside the repository. */
export const sharedDir = process.env.PLUSDESK_SHARED ?? resolve(repoRoot, '..', 'shared');
export const hasShared = existsSync(join(sharedDir, 'corpus'));
export const sharedMissingNote = `skipped: no shared test data at ${sharedDir} (set PLUSDESK_SHARED to its folder)`;

export function sharedPath(...parts: string[]): string {
  return join(sharedDir, ...parts);
}

export { repoRoot };
