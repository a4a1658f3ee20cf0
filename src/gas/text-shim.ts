/**
 * Installs TextDecoder, TextEncoder, Blob and atob on the global object where they are missing,
 * as they are in Apps Script V8. postal-mime creates a TextDecoder and a TextEncoder as soon as it
 * loads, and it joins decoded parts through a Blob. html-to-text's entity tables call atob when
 * they load. So an Apps Script entry point imports this module before anything that imports
 * src/core/mime.ts. Under Node, which has all four, it changes nothing.
 *
 * TextDecoder comes from @zxing/text-encoding with its encoding indexes, which decode every
 * encoding of the WHATWG Encoding Standard (iso-8859-2, windows-1258, gbk, big5, iso-2022-jp,
 * shift_jis, koi8-r, ...). The indexes add about 600 KB to the bundle.
 */
import {
  TextDecoder as PolyfillTextDecoder,
  TextEncoder as PolyfillTextEncoder,
} from '@zxing/text-encoding/es2015/encoding.js';
import { encodingIndexes } from '@zxing/text-encoding/es2015/encoding-indexes.js';
import { decoders } from '@zxing/text-encoding/es2015/encoding/encoding-factory.js';
import { encodings } from '@zxing/text-encoding/es2015/encoding/encodings.js';
import { SingleByteDecoder } from '@zxing/text-encoding/es2015/coders/single-byte/index.js';
import { atobPolyfill } from 'js-base64';

type Part = ArrayBuffer | ArrayBufferView | MinimalBlob | string;

/**
 * The part of the File API Blob that postal-mime uses: built from byte arrays, Blobs and
 * strings, with `size`, `type`, `arrayBuffer()`, `text()` and `slice()`.
 */
export class MinimalBlob {
  readonly size: number;
  readonly type: string;
  private readonly bytes: Uint8Array;

  constructor(parts: readonly Part[] = [], options: { type?: string } = {}) {
    const chunks = parts.map(toChunk);
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    this.bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      this.bytes.set(chunk, offset);
      offset += chunk.length;
    }
    this.size = total;
    this.type = (options.type ?? '').toLowerCase();
  }

  get [Symbol.toStringTag](): string {
    return 'Blob';
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(this.bytes.slice().buffer);
  }

  bytesView(): Uint8Array {
    return this.bytes;
  }

  text(): Promise<string> {
    return Promise.resolve(new TextDecoder().decode(this.bytes));
  }

  slice(start = 0, end = this.size, type = ''): MinimalBlob {
    return new MinimalBlob([this.bytes.subarray(clampIndex(start, this.size), clampIndex(end, this.size))], { type });
  }
}

function clampIndex(index: number, size: number): number {
  const resolved = index < 0 ? size + index : index;
  return Math.min(Math.max(resolved, 0), size);
}

function toChunk(part: Part): Uint8Array {
  if (part instanceof MinimalBlob) return part.bytesView();
  if (typeof part === 'string') return new TextEncoder().encode(part);
  if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
  if (Object.prototype.toString.call(part) === '[object ArrayBuffer]') return new Uint8Array(part);
  // The File API turns any other value into its string form.
  return new TextEncoder().encode(String(part));
}

const scope = globalThis as Record<string, unknown>;

function installMissing(name: string, value: unknown): void {
  if (typeof scope[name] === 'undefined') {
    Object.defineProperty(scope, name, { value, writable: true, configurable: true, enumerable: false });
  }
}

/**
 * Registers the single-byte decoders (iso-8859-*, windows-125*, koi8-r, ...) with
 * @zxing/text-encoding 0.9. The library registers them only if its indexes are a global when its
 * factory module loads. That cannot happen in a bundle: imports run before this module's body,
 * and the indexes module (es2015/encoding-indexes.js) sets that global only where a Node-style
 * `global` exists. The loop does what the library's own registration does
 * (es2015/encoding/encoding-factory.js).
 */
function registerSingleByteDecoders(): void {
  const tables = encodingIndexes as unknown as Record<string, number[] | undefined>;
  const singleByte = encodings.find((category) => category.heading === 'Legacy single-byte encodings');
  for (const { name } of singleByte?.encodings ?? []) {
    // ISO-8859-8-I differs from ISO-8859-8 only in text direction and shares its index.
    const table = tables[name.toLowerCase()] ?? (name === 'ISO-8859-8-I' ? tables['iso-8859-8'] : undefined);
    if (table && !decoders[name]) {
      decoders[name] = (options: { fatal: boolean }) =>
        new SingleByteDecoder(table, options) as unknown as ReturnType<NonNullable<(typeof decoders)[string]>>;
    }
  }
}

if (typeof scope['TextDecoder'] === 'undefined') {
  // @zxing/text-encoding looks its multi-byte encoding indexes up under this global name.
  installMissing('TextEncodingIndexes', { encodingIndexes });
  registerSingleByteDecoders();
  installMissing('TextDecoder', PolyfillTextDecoder);
}
installMissing('TextEncoder', PolyfillTextEncoder);
installMissing('Blob', MinimalBlob);
installMissing('atob', atobPolyfill);
