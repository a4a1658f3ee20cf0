/**
 * The --team option: agent files in CSV, TSV or JSON, and inline lists.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTeam, TeamError } from '../src/node/team';

const dir = mkdtempSync(join(tmpdir(), 'plusdesk-team-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('team file', () => {
  it('reads quoted CSV fields with commas', () => {
    const team = readTeam(file('quoted.csv', 'email,name,active,notify\n"bob@example.com","Bob, Jr.",TRUE,no\n'));
    expect(team).toEqual([{ email: 'bob@example.com', name: 'Bob, Jr.', active: true, notifyNew: false }]);
  });

  it('reads TSV lines and skips comments', () => {
    const team = readTeam(file('team.tsv', '# the support team\nAlice@Example.com\tAlice Martin\ncarol@example.com\tCarol\tfalse\n'));
    expect(team.map((agent) => [agent.email, agent.name, agent.active])).toEqual([
      ['alice@example.com', 'Alice Martin', true],
      ['carol@example.com', 'Carol', false],
    ]);
  });

  it('reports an unterminated quote', () => {
    expect(() => readTeam(file('broken.csv', '"bob@example.com,Bob\n'))).toThrow(TeamError);
  });

  it('reports an address that is not one', () => {
    expect(() => readTeam(file('bad.csv', 'bob at example,Bob\n'))).toThrow('Invalid agent address "bob at example"');
  });

  it('reports a file that does not exist', () => {
    expect(() => readTeam(join(dir, 'agents.csv'))).toThrow(/--team file ".*agents\.csv" not found/);
  });
});

describe('inline team list', () => {
  it('reads names in angle-bracket form', () => {
    const team = readTeam('Alice Martin <alice@example.com>, bob@example.com');
    expect(team.map((agent) => [agent.email, agent.name])).toEqual([
      ['alice@example.com', 'Alice Martin'],
      ['bob@example.com', 'bob'],
    ]);
  });
});
