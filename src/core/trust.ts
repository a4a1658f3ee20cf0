/**
 * Whether a reply or comment may act on a ticket: the sender is an active agent and the
 * Authentication-Results that the receiving server added show no failed check for their domain.
 */
import { domainOf, normalizeEmail } from './address';
import type { Agent, ParsedMessage, Settings } from './types';

export interface AuthCheck {
  method: 'dmarc' | 'dkim' | 'spf';
  result: string;
  /** Domain the check is about (header.from, header.d/header.i, smtp.mailfrom), lower case. */
  domain: string;
}

/**
 * Reads `Authentication-Results` (RFC 8601). Only the topmost header counts: it is the one the
 * receiving server (Gmail) added, while lower ones could have been written by the sender.
 */
export function readAuthResults(message: ParsedMessage): AuthCheck[] {
  const header = message.headers['authentication-results']?.[0];
  if (header === undefined) return [];
  const checks: AuthCheck[] = [];
  const pattern = /\b(dmarc|dkim|spf)\s*=\s*([a-z]+)([^;]*)/gi;
  for (const match of header.matchAll(pattern)) {
    const method = match[1]!.toLowerCase() as AuthCheck['method'];
    const properties = match[3] ?? '';
    const domainMatch =
      /header\.(?:from|d)\s*=\s*"?([^\s;"]+)/i.exec(properties) ??
      /header\.i\s*=\s*"?@?([^\s;"]+)/i.exec(properties) ??
      /smtp\.mailfrom\s*=\s*"?([^\s;"]+)/i.exec(properties);
    const value = domainMatch?.[1] ?? '';
    checks.push({
      method,
      result: match[2]!.toLowerCase(),
      domain: value.includes('@') ? domainOf(value) : value.toLowerCase(),
    });
  }
  return checks;
}

export type TrustResult = { trusted: true; agent: Agent } | { trusted: false; reason: string };

function aboutDomain(check: AuthCheck, domain: string): boolean {
  return check.domain === '' || check.domain === domain || check.domain.endsWith(`.${domain}`);
}

export function checkAgentSender(
  message: ParsedMessage,
  team: Map<string, Agent>,
  settings: Settings,
): TrustResult {
  const sender = message.from === null ? '' : normalizeEmail(message.from.email);
  const agent = team.get(sender);
  if (agent === undefined) {
    return { trusted: false, reason: 'sender is not on the Team tab' };
  }
  if (!agent.active) return { trusted: false, reason: 'sender is not an active agent' };

  const domain = domainOf(sender);
  const checks = readAuthResults(message).filter((check) => aboutDomain(check, domain));
  const failed = checks.find((check) => ['fail', 'softfail', 'permerror'].includes(check.result));
  if (failed !== undefined) {
    return { trusted: false, reason: `${failed.method.toUpperCase()} ${failed.result} for ${domain}` };
  }
  const passed = checks.some(
    (check) => (check.method === 'dmarc' || check.method === 'dkim') && check.result === 'pass',
  );
  if (settings.requireAuthPass && !passed && !settings.trustedDomains.includes(domain)) {
    return { trusted: false, reason: `no DMARC or DKIM pass for ${domain}` };
  }
  return { trusted: true, agent };
}
