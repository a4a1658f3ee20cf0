/**
 * Builds the two Apps Script projects into dist/: the processor (runs in the support account)
 * and the add-on (installed by agents). Each gets Code.js, appsscript.json and .clasp.json.
 *
 * Apps Script finds callable functions by their top-level `function` declarations, and it has
 * no module system. So each bundle is an IIFE that stores its exports in one global, followed by
 * a plain top-level function per export that forwards to it.
 */
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface ProjectBuild {
  name: 'processor' | 'addon';
  entry: string;
  manifest: string;
  claspFile: string;
}

export const PROJECTS: ProjectBuild[] = [
  { name: 'processor', entry: 'src/entries/processor.ts', manifest: 'appsscript.json', claspFile: '.clasp.json' },
  { name: 'addon', entry: 'src/entries/addon.ts', manifest: 'appsscript.addon.json', claspFile: '.clasp-addon.json' },
];

const GLOBAL_NAME = 'plusdesk';

/** Names the entry exports; an IIFE build's metafile does not list them, an ESM build's does. */
async function exportNames(project: ProjectBuild): Promise<string[]> {
  const result = await build({
    entryPoints: [join(root, project.entry)],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.values(result.metafile.outputs).flatMap((output) => output.exports);
}

export async function buildProject(project: ProjectBuild, outDir = join(root, 'dist')): Promise<string> {
  const result = await build({
    entryPoints: [join(root, project.entry)],
    bundle: true,
    format: 'iife',
    globalName: GLOBAL_NAME,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2020',
    write: false,
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const forwards = (await exportNames(project))
    .filter((name) => name !== 'default')
    .sort()
    .map((name) => `function ${name}() {\n  return ${GLOBAL_NAME}.${name}.apply(this, arguments);\n}`)
    .join('\n');
  const code = `${result.outputFiles[0]!.text}\n${forwards}\n`;

  const dir = join(outDir, project.name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Code.js'), code);
  writeFileSync(join(dir, 'appsscript.json'), readFileSync(join(root, project.manifest)));
  return code;
}

async function main(): Promise<void> {
  for (const project of PROJECTS) {
    const code = await buildProject(project);
    console.log(`dist/${project.name}/Code.js  ${(code.length / 1024).toFixed(0)} KB`);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
