/**
 * The deployable artifacts: dist/processor/Code.js and dist/addon/Code.js with their manifests.
 * Apps Script has no module system and no Node APIs, and calls only top-level functions by name,
 * so each bundle is checked for those, by parsing it, before it is pushed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { CARD_ACTIONS } from '../../src/core/cards';
import { createAppsScript } from './emulator';
import { loadBundle } from './load-bundle';
import { buildBundles, SUPPORT, type Bundles } from './support';

const SCOPE = 'https://www.googleapis.com/auth/';

interface Manifest {
  runtimeVersion?: string;
  oauthScopes?: string[];
  [key: string]: unknown;
}

/** A use of something Apps Script lacks, with where it is in the bundle. */
interface Finding {
  kind: string;
  line: number;
  text: string;
}

/** Node APIs the Apps Script runtime does not have, read as `name.` or `name(`. */
const NODE_MEMBERS = new Set(['process', 'Buffer']);
const NODE_CALLS = new Set(['require', '__require', 'setTimeout', 'setInterval', 'setImmediate']);
const NODE_NAMES = new Set(['__dirname', '__filename']);

/**
 * Reports whether a node sits in the branch a `typeof atob === "function"` test skips.
 * Libraries fall back to Buffer there for old Node versions. The bundles' text shim installs
 * atob before any library code runs, so that branch never runs in Apps Script.
 */
function inAtobFallback(node: ts.Node): boolean {
  for (let child = node, parent = node.parent; parent !== undefined; child = parent, parent = parent.parent) {
    if (
      ts.isConditionalExpression(parent) &&
      parent.whenFalse === child &&
      /^typeof atob === ["']function["']$/.test(parent.condition.getText())
    ) {
      return true;
    }
  }
  return false;
}

const parsed = new Map<string, ts.SourceFile>();

/** Parses a bundle once per test file; the processor bundle is over 1 MB. */
function parse(code: string): ts.SourceFile {
  let source = parsed.get(code);
  if (source === undefined) {
    source = ts.createSourceFile('Code.js', code, ts.ScriptTarget.ES2020, true, ts.ScriptKind.JS);
    parsed.set(code, source);
  }
  return source;
}

/** Parses a bundle and lists module syntax and Node API uses outside the atob fallback. */
function scan(code: string): Finding[] {
  const source = parse(code);
  const findings: Finding[] = [];
  const report = (node: ts.Node, kind: string) => {
    if (inAtobFallback(node)) return;
    const { line } = source.getLineAndCharacterOfPosition(node.getStart());
    findings.push({ kind, line: line + 1, text: node.getText().slice(0, 80) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isImportEqualsDeclaration(node)) report(node, 'import statement');
    if (ts.isExportDeclaration(node) || ts.isExportAssignment(node)) report(node, 'export statement');
    if (ts.canHaveModifiers(node) && ts.getModifiers(node)?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword)) {
      report(node, 'export statement');
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) report(node, 'dynamic import');
    if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword) report(node, 'import.meta');
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && NODE_CALLS.has(node.expression.text)) {
      report(node, `${node.expression.text}() call`);
    }
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && NODE_MEMBERS.has(node.expression.text)) {
      report(node, `${node.expression.text}. access`);
    }
    if (ts.isIdentifier(node) && NODE_NAMES.has(node.text)) report(node, node.text);
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && node.text.startsWith('node:')) {
      report(node, 'node: module name');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return findings;
}

/** User symbols of Apps Script advanced services that a bundle might use. */
const ADVANCED_SERVICES = ['Gmail', 'Sheets', 'Drive', 'Calendar', 'Docs', 'Slides', 'People', 'Tasks', 'AdminDirectory'];

/**
 * Lists the advanced services a bundle reads as globals (`Gmail.Users`, `typeof Sheets`). The
 * emulator offers every service to every project, but Apps Script defines only those the
 * manifest enables.
 */
function advancedServicesUsed(code: string): string[] {
  const source = parse(code);
  const used = new Set<string>();
  const visit = (node: ts.Node): void => {
    const base = ts.isPropertyAccessExpression(node) ? node.expression : ts.isTypeOfExpression(node) ? node.expression : undefined;
    if (base !== undefined && ts.isIdentifier(base) && ADVANCED_SERVICES.includes(base.text)) used.add(base.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return [...used].sort();
}

/** Every function name a manifest names: runFunction, onTriggerFunction and the like. */
function manifestFunctions(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(manifestFunctions);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) =>
    /Function$/.test(key) && typeof item === 'string' ? [item] : manifestFunctions(item),
  );
}

let bundles: Bundles;
const manifests: Record<'processor' | 'addon', Manifest> = { processor: {}, addon: {} };
const functions: Record<'processor' | 'addon', string[]> = { processor: [], addon: [] };
const forwards: Record<'processor' | 'addon', Record<string, unknown>> = { processor: {}, addon: {} };

beforeAll(async () => {
  bundles = await buildBundles();
  for (const name of ['processor', 'addon'] as const) {
    manifests[name] = JSON.parse(readFileSync(join(bundles.dir, name, 'appsscript.json'), 'utf8')) as Manifest;
    const loaded = loadBundle(bundles[name], createAppsScript({ user: SUPPORT }).globals, { filename: `${name}/Code.js` });
    functions[name] = loaded.functions();
    forwards[name] = (loaded.context as Record<string, Record<string, unknown>>).plusdesk ?? {};
  }
});

describe.each(['processor', 'addon'] as const)('%s bundle', (name) => {
  it('has no module syntax or Node API', () => {
    expect(scan(bundles[name])).toEqual([]);
  });

  it('enables every advanced service it uses', () => {
    const dependencies = manifests[name].dependencies as { enabledAdvancedServices?: { userSymbol: string }[] } | undefined;
    const enabled = (dependencies?.enabledAdvancedServices ?? []).map((service) => service.userSymbol);
    for (const service of advancedServicesUsed(bundles[name])) expect(enabled, service).toContain(service);
  });

  it('targets the V8 runtime', () => {
    expect(manifests[name].runtimeVersion).toBe('V8');
  });

  it('defines every manifest function at top level', () => {
    const named = manifestFunctions(manifests[name]);
    if (name === 'addon') expect(named).toEqual(expect.arrayContaining(['onHomepage', 'onGmailMessage']));
    for (const fn of named) expect(functions[name], fn).toContain(fn);
  });

  it('forwards each top-level function to the bundle', () => {
    for (const fn of functions[name]) expect(typeof forwards[name][fn], fn).toBe('function');
  });
});

describe('scan of a bundle', () => {
  it('finds module syntax and Node API', () => {
    const findings = scan(
      [
        "import fs from 'node:fs';",
        'export const a = 1;',
        'const b = require("x");',
        'process.env.HOME;',
        'setTimeout(() => 0, 1);',
        'const c = Buffer.from("x");',
        'const d = typeof atob === "function" ? atob("eA==") : Buffer.from("eA==", "base64");',
        'var __commonJS = (cb, mod) => function __require() { return mod; };',
        'const e = { node: 1, process: 2 };',
      ].join('\n'),
    );
    expect(findings.map((finding) => [finding.kind, finding.line])).toEqual([
      ['import statement', 1],
      ['node: module name', 1],
      ['export statement', 2],
      ['require() call', 3],
      ['process. access', 4],
      ['setTimeout() call', 5],
      ['Buffer. access', 6],
    ]);
  });
});

describe('processor project', () => {
  it('exposes setup and processInbox', () => {
    expect(functions.processor).toEqual(expect.arrayContaining(['processInbox', 'setup']));
  });

  it('uses the Gmail and Sheets advanced services', () => {
    expect(advancedServicesUsed(bundles.processor)).toEqual(['Gmail', 'Sheets']);
  });

  it('asks for the mailbox, Sheets and trigger scopes', () => {
    const scopes = manifests.processor.oauthScopes ?? [];
    for (const scope of ['gmail.modify', 'spreadsheets', 'script.scriptapp']) {
      expect(scopes, scope).toContain(`${SCOPE}${scope}`);
    }
  });
});

describe('add-on project', () => {
  it('uses the Sheets advanced service', () => {
    expect(advancedServicesUsed(bundles.addon)).toEqual(['Sheets']);
  });

  it('exposes every card action', () => {
    for (const action of CARD_ACTIONS) expect(functions.addon, action).toContain(action);
  });

  it('asks only for the add-on scopes', () => {
    const scopes = manifests.addon.oauthScopes ?? [];
    expect(scopes).toContain(`${SCOPE}gmail.addons.execute`);
    expect(scopes).toContain(`${SCOPE}spreadsheets`);
    for (const scope of scopes) {
      const name = scope.slice(SCOPE.length);
      expect(scope.startsWith(SCOPE) && (name.startsWith('gmail.addons.') || ['spreadsheets', 'userinfo.email'].includes(name)), scope).toBe(true);
    }
    expect(scopes).not.toContain(`${SCOPE}gmail.modify`);
  });
});
