/**
 * The system Chromium for browser tests, driven by playwright-core. Tests use only this
 * executable and skip when it is missing; they never download a browser.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const chromiumPath = process.env.PLUSDESK_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(chromiumPath);

// CI sets PLUSDESK_REQUIRE_CHROMIUM after installing Chromium, so the browser test fails there
// instead of skipping when the install went wrong.
if (!hasChromium && process.env.PLUSDESK_REQUIRE_CHROMIUM === '1') {
  throw new Error(`PLUSDESK_REQUIRE_CHROMIUM is set but there is no Chromium at ${chromiumPath}.`);
}
export const chromiumMissingNote =
  `skipped: no Chromium at ${chromiumPath}; install it with "apt-get install -y chromium" ` +
  '(or set PLUSDESK_CHROMIUM to its path)';

/** Flags that keep a headless run off the network and free of first-run work. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ChromiumSession {
  context: BrowserContext;
  /** Closes the browser and removes its profile folder. */
  close(): Promise<void>;
}

/** Launches the system Chromium with a fresh profile in a temporary folder. */
export async function launchChromium(): Promise<ChromiumSession> {
  const profile = await mkdtemp(join(tmpdir(), 'plusdesk-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 1400 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
