/**
 * Runs the MIME parser the way Apps Script V8 runs it: bundled by esbuild into one script with
 * the text shim, in a V8 context that has no TextDecoder, TextEncoder, Blob, atob, Buffer,
 * require or process.
 */
import { readdirSync, readFileSync } from 'node:fs';
import vm from 'node:vm';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMessage } from '../src/core/mime';
import { MinimalBlob } from '../src/gas/text-shim';
import type { ParsedMessage } from '../src/core/types';
import { hasShared, repoRoot, sharedMissingNote, sharedPath } from './shared';

const ENTRY = `
import '../src/gas/text-shim';
export { parseMessage } from '../src/core/mime';
`;

type Parse = (raw: Uint8Array) => Promise<ParsedMessage>;

let bundle = '';
let context: vm.Context;
let parseInContext: Parse;

/** Copies bytes into a Uint8Array of the context, as Apps Script code would hold them. */
function contextBytes(raw: Uint8Array): Uint8Array {
  const bytes = vm.runInContext('(length) => new Uint8Array(length)', context)(raw.length) as Uint8Array;
  bytes.set(raw);
  return bytes;
}

/** Converts a message to plain data, with attachment content as numbers, to compare across realms. */
function plain(message: ParsedMessage): unknown {
  const json = JSON.stringify(message, (key, value) => (key === 'content' ? Array.from(value as Uint8Array) : value));
  return JSON.parse(json);
}

beforeAll(async () => {
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: `${repoRoot}/tests`, loader: 'ts' },
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'plusdeskMime',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2020',
    logLevel: 'silent',
  });
  bundle = result.outputFiles[0]?.text ?? '';

  // A new context holds only what V8 itself provides.
  context = vm.createContext({});
  vm.runInContext(bundle, context, { filename: 'plusdesk-mime.js' });
  parseInContext = vm.runInContext('plusdeskMime.parseMessage', context) as Parse;
});

describe('parser bundle for Apps Script', () => {
  it('contains no require call', () => {
    expect(bundle.length).toBeGreaterThan(0);
    expect(bundle).not.toMatch(/\brequire\s*\(/);
  });

  it('runs in a context without Node or Web globals', () => {
    const fresh = vm.createContext({});
    for (const name of ['TextDecoder', 'TextEncoder', 'Blob', 'atob', 'Buffer', 'require', 'process']) {
      expect(vm.runInContext(`typeof ${name}`, fresh), name).toBe('undefined');
    }
    for (const name of ['TextDecoder', 'TextEncoder', 'Blob', 'atob']) {
      expect(vm.runInContext(`typeof ${name}`, context), `${name} after the shim`).toBe('function');
    }
    for (const name of ['Buffer', 'require', 'process']) {
      expect(vm.runInContext(`typeof ${name}`, context), `${name} after the shim`).toBe('undefined');
    }
  });

  it.each([
    ['koi8-r', [0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4], 'Привет'],
    ['shift_jis', [0x93, 0xfa, 0x96, 0x7b], '日本'],
    ['big5', [0xa4, 0xa4, 0xa4, 0xe5], '中文'],
    ['gb2312', [0xd6, 0xd0, 0xce, 0xc4], '中文'],
    ['windows-1258', [0x61, 0x6f, 0xfb, 0x74], 'août'],
    ['windows-1252', [0x93, 0x68, 0x69, 0x94, 0x20, 0x80], '\u201chi\u201d \u20ac'],
    ['iso-8859-8-i', [0xf9, 0xec, 0xe5, 0xed], 'שלום'],
    ['iso-2022-jp', [0x1b, 0x24, 0x42, 0x46, 0x7c, 0x4b, 0x5c, 0x1b, 0x28, 0x42], '日本'],
  ])('decodes a %s body like Node', async (charset, body, text) => {
    const raw = new Uint8Array([
      ...new TextEncoder().encode(`From: a@example.org\r\nContent-Type: text/plain; charset=${charset}\r\n\r\n`),
      ...body,
    ]);
    const inNode = await parseMessage(raw);
    const inContext = await parseInContext(contextBytes(raw));
    expect(inNode.text).toBe(text);
    expect(inContext.text).toBe(text);
    expect(inContext.warnings).toEqual([]);
  });
});

describe('parser bundle on real mail', () => {
  if (!hasShared) {
    it.skip(sharedMissingNote, () => {});
    return;
  }

  it.each([
    ['iso-8859-2', sharedPath('cases', 'B15.eml')],
    ['gb2312', sharedPath('corpus', 'zammad', 'mail044.box')],
    ['gb2312 html', sharedPath('corpus', 'zammad', 'mail016.box')],
    ['iso-2022-jp', sharedPath('corpus', 'zammad', 'mail091.box')],
    ['windows-1258', sharedPath('corpus', 'zammad', 'mail072.box')],
  ])('decodes %s mail like Node', async (_, path) => {
    const raw = readFileSync(path);
    const inNode = await parseMessage(raw);
    const inContext = await parseInContext(contextBytes(raw));
    expect(inContext.subject).toBe(inNode.subject);
    expect(inContext.text).toBe(inNode.text);
    expect(inContext.from).toEqual(inNode.from);
    expect(inContext.text).not.toContain('\ufffd');
  });

  it('decodes iso-8859-2 to the expected Polish text', async () => {
    const message = await parseInContext(contextBytes(readFileSync(sharedPath('cases', 'B15.eml'))));
    expect(message.subject).toBe('Reklamacja zamówienia 1182');
    const lines = ['Dzień dobry,', 'zamówienie nr 1182 nie dotarło.', 'Test znaków: Zażółć gęślą jaźń.'];
    expect(message.text).toBe(lines.join('\n'));
  });

  it('gives the Node result for every corpus message', async () => {
    const dir = sharedPath('corpus', 'zammad');
    const files = readdirSync(dir).filter((name) => name.endsWith('.box'));
    const differing: string[] = [];
    for (const file of files) {
      const raw = readFileSync(`${dir}/${file}`);
      const inNode = plain(await parseMessage(raw));
      const inContext = plain(await parseInContext(contextBytes(raw)));
      if (JSON.stringify(inContext) !== JSON.stringify(inNode)) differing.push(file);
    }
    expect(files.length).toBeGreaterThan(0);
    expect(differing).toEqual([]);
  });
});

describe('MinimalBlob', () => {
  it('joins byte arrays, blobs and strings', async () => {
    const inner = new MinimalBlob([new Uint8Array([0x63])]);
    const parts = [new Uint8Array([0x61]), new Uint8Array([0x62]).buffer, inner, 'dé'];
    const blob = new MinimalBlob(parts, { type: 'Text/Plain' });
    expect(blob.size).toBe(6);
    expect(blob.type).toBe('text/plain');
    expect(Object.prototype.toString.call(blob)).toBe('[object Blob]');
    expect(Array.from(new Uint8Array(await blob.arrayBuffer()))).toEqual([0x61, 0x62, 0x63, 0x64, 0xc3, 0xa9]);
    expect(await blob.text()).toBe('abcdé');
  });

  it('slices like the File API', async () => {
    const blob = new MinimalBlob(['abcdef']);
    expect(await blob.slice(1, 3).text()).toBe('bc');
    expect(await blob.slice(-2).text()).toBe('ef');
    expect(blob.slice(4, 1).size).toBe(0);
  });
});
