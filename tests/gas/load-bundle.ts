/**
 * Loads a built Apps Script bundle (an esbuild IIFE script that declares top-level functions)
 * into a Node `vm` context. The context contains only the given globals and what V8 itself
 * provides. As in Apps Script, it has no require, process, Buffer, setTimeout, TextEncoder or
 * other Node additions.
 */
import vm from 'node:vm';
import { ADOPT_REALM, type RealmConstructors } from './emulator/runtime';

export interface LoadedBundle {
  /**
   * Calls a top-level function of the bundle and awaits its result when it returns a promise
   * (Apps Script V8 drains promises before an execution ends). Arrays, plain objects and Dates in
   * the result are copied out of the vm realm; other objects are returned as they are.
   */
  call(functionName: string, ...args: unknown[]): Promise<unknown>;
  /** Names of the top-level functions the bundle declares, sorted; not those it assigns to globalThis. */
  functions(): string[];
  /** The vm context, for tests that inspect the bundle's globals. */
  context: vm.Context;
}

export interface LoadBundleOptions {
  /** File name shown in stack traces. */
  filename?: string;
}

export function loadBundle(code: string, globals: object, options: LoadBundleOptions = {}): LoadedBundle {
  const filename = options.filename ?? 'bundle.js';
  const sandbox = Object.create(null) as Record<string, unknown>;
  // Object.entries leaves out symbol keys, so ADOPT_REALM does not reach the bundle.
  for (const [name, value] of Object.entries(globals)) sandbox[name] = value;
  const context = vm.createContext(sandbox, { name: filename, codeGeneration: { strings: true, wasm: false } });
  const realm = vm.runInContext('({ Array: Array, Object: Object, Error: Error })', context) as RealmConstructors;
  const adopt = (globals as Record<symbol, unknown>)[ADOPT_REALM];
  if (typeof adopt === 'function') (adopt as (realm: RealmConstructors) => void)(realm);

  vm.runInContext(code, context, { filename });

  // Apps Script calls only top-level function declarations. esbuild writes them at the start of
  // a line and indents everything inside the IIFE, so a line-start match finds exactly those.
  const declared = new Set(
    [...code.matchAll(/^(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)\s*\(/gm)].map((match) => match[1]!),
  );
  const functions = (): string[] =>
    [...declared].filter((name) => typeof sandbox[name] === 'function').sort();

  return {
    context,
    functions,
    async call(functionName: string, ...args: unknown[]): Promise<unknown> {
      const target = sandbox[functionName];
      if (typeof target !== 'function') {
        throw new Error(`The bundle has no top-level function "${functionName}"; it defines: ${functions().join(', ') || 'none'}`);
      }
      const result = (target as (...values: unknown[]) => unknown)(...args);
      const settled = isThenable(result) ? await settle(functionName, result) : result;
      return toHost(settled, realm.Object.prototype, new Map());
    },
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Awaits a promise from the bundle. The bundle has no timers, so a promise still pending once
 * the microtask queue is empty never settles. That is reported instead of hanging the test.
 */
async function settle(functionName: string, promise: PromiseLike<unknown>): Promise<unknown> {
  const pending = Symbol('pending');
  const drained = new Promise<typeof pending>((resolve) => setImmediate(() => resolve(pending)));
  const outcome = await Promise.race([Promise.resolve(promise), drained]);
  if (outcome === pending) {
    throw new Error(
      `${functionName} returned a promise that was still pending after the microtask queue emptied; in Apps Script the execution would end without its result`,
    );
  }
  return outcome;
}

/** Copies vm-realm arrays, plain objects and Dates into Node's realm. */
function toHost(value: unknown, vmObjectPrototype: object, seen: Map<object, unknown>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const known = seen.get(value);
  if (known !== undefined) return known;
  if (Object.prototype.toString.call(value) === '[object Date]') return new Date((value as Date).getTime());
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(toHost(item, vmObjectPrototype, seen));
    return copy;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== vmObjectPrototype && prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  for (const [key, item] of Object.entries(value)) copy[key] = toHost(item, vmObjectPrototype, seen);
  return copy;
}
