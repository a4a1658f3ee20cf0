/**
 * Reads the `--team` option: a file (CSV or TSV lines `email, name`, or a JSON array of agents)
 * or an inline list such as `Alice <alice@example.com>, bob@example.com`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Agent } from '../core/types';

export class TeamError extends Error {
  override name = 'TeamError';
}

function agent(email: string, name: string): Agent {
  const address = email.trim().toLowerCase();
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
    throw new TeamError(
      `Invalid agent address "${email.trim()}" in --team: use an email such as alice@example.com.`,
    );
  }
  return { email: address, name: name.trim() || address.split('@')[0]!, active: true, notifyNew: true };
}

function parseEntry(entry: string): Agent {
  const angle = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(entry);
  if (angle !== null) return agent(angle[2]!, angle[1]!);
  return agent(entry, '');
}

function parseJson(text: string, source: string): Agent[] {
  const data: unknown = JSON.parse(text);
  if (!Array.isArray(data)) throw new TeamError(`${source} must hold a JSON array of agents.`);
  return data.map((item) => {
    if (typeof item === 'string') return parseEntry(item);
    const record = item as Partial<Agent>;
    if (typeof record.email !== 'string') {
      throw new TeamError(`Each agent in ${source} needs an "email" string.`);
    }
    return {
      ...agent(record.email, record.name ?? ''),
      active: record.active ?? true,
      notifyNew: record.notifyNew ?? true,
    };
  });
}

/** Reads CSV or TSV lines `email, name, active, notified of new tickets`; quoted fields may hold commas. */
function parseLines(text: string, source: string): Agent[] {
  let rows: string[][];
  try {
    rows = parse(text, { delimiter: [',', '\t'], relax_column_count: true, skip_empty_lines: true, trim: true, comment: '#' });
  } catch (error) {
    throw new TeamError(`${source} is not valid CSV: ${error instanceof Error ? error.message : String(error)}`);
  }
  const agents: Agent[] = [];
  for (const [email = '', name = '', active = '', notify = ''] of rows) {
    if (email.toLowerCase() === 'email') continue;
    const parsed = email.includes('<') ? parseEntry(email) : agent(email, name);
    const no = (value: string) => /^(false|no|0|n)$/i.test(value.trim());
    agents.push({ ...parsed, active: !no(active), notifyNew: !no(notify) });
  }
  return agents;
}

export function readTeam(option: string): Agent[] {
  let agents: Agent[];
  if (existsSync(option)) {
    const text = readFileSync(option, 'utf8');
    agents = text.trim().startsWith('[') ? parseJson(text, option) : parseLines(text, option);
  } else if (!option.includes('@')) {
    // A list contains addresses, so this was meant as a file.
    throw new TeamError(`--team file "${option}" not found: give the path of a CSV, TSV or JSON file, or a list of addresses.`);
  } else {
    agents = option
      .split(/,(?![^<]*>)/)
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
      .map(parseEntry);
  }
  if (agents.length === 0) {
    throw new TeamError(`--team "${option}" names no agents: give a file or a list of addresses.`);
  }
  return agents;
}
