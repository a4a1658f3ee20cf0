/**
 * The emulated Utilities service and Blob: HMAC and digests as signed byte arrays (Apps Script's
 * Byte[]), base64 in both alphabets, blobs, UUIDs, sleep on the emulated clock and date
 * formatting with Java SimpleDateFormat patterns.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { bytesOf, isDate, signedBytes, type Runtime, type Subset } from './runtime';
import { formatPattern } from './time-zone';

type UtilitiesApi = GoogleAppsScript.Utilities.Utilities;
type BlobApi = GoogleAppsScript.Base.Blob;

/** Apps Script refuses a sleep longer than five minutes. */
const MAX_SLEEP_MS = 300_000;

const names = <T extends string>(...values: T[]): Readonly<Record<T, T>> =>
  Object.freeze(Object.fromEntries(values.map((value) => [value, value])) as Record<T, T>);

export const CHARSET = names('US_ASCII', 'UTF_8');
export const DIGEST_ALGORITHM = names('MD2', 'MD5', 'SHA_1', 'SHA_256', 'SHA_384', 'SHA_512');
export const MAC_ALGORITHM = names('HMAC_MD5', 'HMAC_SHA_1', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512');

const NODE_DIGEST: Record<string, string> = {
  MD5: 'md5',
  SHA_1: 'sha1',
  SHA_256: 'sha256',
  SHA_384: 'sha384',
  SHA_512: 'sha512',
};

const NODE_HMAC: Record<string, string> = {
  HMAC_MD5: 'md5',
  HMAC_SHA_1: 'sha1',
  HMAC_SHA_256: 'sha256',
  HMAC_SHA_384: 'sha384',
  HMAC_SHA_512: 'sha512',
};

/** Bytes of a string in an Apps Script Charset (UTF-8 unless US_ASCII). */
function encode(text: string, charset: unknown): Uint8Array {
  if (String(charset) === 'US_ASCII') return Uint8Array.from(text, (char) => (char.charCodeAt(0) < 128 ? char.charCodeAt(0) : 63));
  return new TextEncoder().encode(text);
}

/** Bytes of a script value that is a string or a Byte[]. */
function bytesFrom(value: unknown, charset?: unknown): Uint8Array {
  if (typeof value === 'string') return encode(value, charset);
  if (Array.isArray(value)) return bytesOf(value as number[]);
  throw new TypeError(`Utilities emulation: expected a string or a byte array, got ${typeof value}`);
}

function decodeCharset(bytes: Uint8Array, charset: unknown): string {
  const name = charset === undefined || charset === null ? 'utf-8' : String(charset) === 'US_ASCII' ? 'ascii' : String(charset) === 'UTF_8' ? 'utf-8' : String(charset);
  return new TextDecoder(name).decode(bytes);
}

export class EmulatedBlob
  implements
    Subset<
      BlobApi,
      | 'getBytes'
      | 'setBytes'
      | 'getDataAsString'
      | 'setDataFromString'
      | 'getContentType'
      | 'setContentType'
      | 'getName'
      | 'setName'
      | 'copyBlob'
      | 'isGoogleType'
    >
{
  constructor(
    private readonly rt: Runtime,
    private bytes: Uint8Array,
    private contentType: string | null,
    private name: string | null,
  ) {}

  getBytes(): number[] {
    return this.rt.track('Blob.getBytes', () => signedBytes(this.bytes));
  }

  setBytes(data: number[]): EmulatedBlob {
    return this.rt.track('Blob.setBytes', () => {
      this.bytes = bytesOf(data);
      return this;
    });
  }

  getDataAsString(charset?: string): string {
    return this.rt.track('Blob.getDataAsString', () => {
      try {
        return decodeCharset(this.bytes, charset);
      } catch {
        throw this.rt.exception(`Invalid argument: charset (${String(charset)})`);
      }
    });
  }

  setDataFromString(string: string, charset?: string): EmulatedBlob {
    return this.rt.track('Blob.setDataFromString', () => {
      if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
        throw new Error(`Blob emulation: setDataFromString supports UTF-8 only, got ${charset}`);
      }
      this.bytes = new TextEncoder().encode(String(string));
      return this;
    });
  }

  getContentType(): string | null {
    return this.rt.track('Blob.getContentType', () => this.contentType);
  }

  setContentType(contentType: string | null): EmulatedBlob {
    return this.rt.track('Blob.setContentType', () => {
      this.contentType = contentType;
      return this;
    });
  }

  getName(): string | null {
    return this.rt.track('Blob.getName', () => this.name);
  }

  setName(name: string): EmulatedBlob {
    return this.rt.track('Blob.setName', () => {
      this.name = String(name);
      return this;
    });
  }

  copyBlob(): EmulatedBlob {
    return this.rt.track('Blob.copyBlob', () => new EmulatedBlob(this.rt, Uint8Array.from(this.bytes), this.contentType, this.name));
  }

  isGoogleType(): boolean {
    return this.rt.track('Blob.isGoogleType', () => false);
  }

  /** Returns the blob's bytes, for other emulated services. */
  raw(): Uint8Array {
    return this.bytes;
  }
}

export class EmulatedUtilities
  implements
    Subset<
      UtilitiesApi,
      | 'computeHmacSha256Signature'
      | 'computeHmacSignature'
      | 'computeDigest'
      | 'base64Encode'
      | 'base64EncodeWebSafe'
      | 'base64Decode'
      | 'base64DecodeWebSafe'
      | 'newBlob'
      | 'getUuid'
      | 'sleep'
      | 'formatDate'
      | 'formatString'
    >
{
  readonly Charset = CHARSET;
  readonly DigestAlgorithm = DIGEST_ALGORITHM;
  readonly MacAlgorithm = MAC_ALGORITHM;

  constructor(private readonly rt: Runtime) {}

  computeHmacSha256Signature(value: string | number[], key: string | number[], charset?: unknown): number[] {
    return this.rt.track('Utilities.computeHmacSha256Signature', () => this.hmac('sha256', value, key, charset));
  }

  computeHmacSignature(algorithm: unknown, value: string | number[], key: string | number[], charset?: unknown): number[] {
    return this.rt.track('Utilities.computeHmacSignature', () => {
      const name = NODE_HMAC[String(algorithm)];
      if (name === undefined) throw this.rt.exception(`Invalid argument: algorithm (${String(algorithm)})`);
      return this.hmac(name, value, key, charset);
    });
  }

  computeDigest(algorithm: unknown, value: string | number[], charset?: unknown): number[] {
    return this.rt.track('Utilities.computeDigest', () => {
      const name = NODE_DIGEST[String(algorithm)];
      if (name === undefined) throw this.rt.exception(`Invalid argument: algorithm (${String(algorithm)})`);
      return signedBytes(createHash(name).update(bytesFrom(value, charset)).digest());
    });
  }

  base64Encode(data: string | number[], charset?: unknown): string {
    return this.rt.track('Utilities.base64Encode', () => Buffer.from(bytesFrom(data, charset)).toString('base64'));
  }

  /** Base64url with '=' padding kept. */
  base64EncodeWebSafe(data: string | number[], charset?: unknown): string {
    return this.rt.track('Utilities.base64EncodeWebSafe', () =>
      Buffer.from(bytesFrom(data, charset)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_'),
    );
  }

  base64Decode(encoded: string, _charset?: unknown): number[] {
    return this.rt.track('Utilities.base64Decode', () => this.decode(encoded, /^[A-Za-z0-9+/]*={0,2}$/));
  }

  base64DecodeWebSafe(encoded: string, _charset?: unknown): number[] {
    return this.rt.track('Utilities.base64DecodeWebSafe', () => this.decode(encoded, /^[A-Za-z0-9_-]*={0,2}$/));
  }

  newBlob(data: string | number[], contentType?: string, name?: string): EmulatedBlob {
    return this.rt.track('Utilities.newBlob', () => {
      const type = contentType ?? (typeof data === 'string' ? 'text/plain' : null);
      return new EmulatedBlob(this.rt, bytesFrom(data), type, name ?? null);
    });
  }

  getUuid(): string {
    return this.rt.track('Utilities.getUuid', () => randomUUID());
  }

  /** Advances the emulated clock by `milliseconds`. */
  sleep(milliseconds: number): void {
    this.rt.track('Utilities.sleep', () => {
      if (typeof milliseconds !== 'number' || milliseconds < 0 || milliseconds > MAX_SLEEP_MS) {
        throw this.rt.exception(`Invalid argument: milliseconds (${String(milliseconds)}); the maximum is ${MAX_SLEEP_MS}`);
      }
      this.rt.clock.advance(milliseconds);
    });
  }

  formatDate(date: GoogleAppsScript.Base.Date, timeZone: string, format: string): string {
    return this.rt.track('Utilities.formatDate', () => {
      if (!isDate(date)) throw this.rt.exception('Invalid argument: date');
      const ms = date.getTime();
      try {
        return formatPattern(ms, String(timeZone), String(format));
      } catch (error) {
        // Java reads an unknown time zone id as GMT.
        if (error instanceof RangeError) return formatPattern(ms, 'Etc/GMT', String(format));
        throw error;
      }
    });
  }

  /** sprintf-style formatting of %s, %d and %%. */
  formatString(template: string, ...args: unknown[]): string {
    return this.rt.track('Utilities.formatString', () => {
      let index = 0;
      return String(template).replace(/%[sd%]/g, (token) => {
        if (token === '%%') return '%';
        const value = args[index++];
        return token === '%d' ? String(Math.trunc(Number(value))) : String(value);
      });
    });
  }

  private hmac(algorithm: string, value: unknown, key: unknown, charset: unknown): number[] {
    const mac = createHmac(algorithm, bytesFrom(key, charset)).update(bytesFrom(value, charset)).digest();
    return signedBytes(mac);
  }

  private decode(encoded: string, alphabet: RegExp): number[] {
    const compact = String(encoded).replace(/\s+/g, '');
    // Missing padding is accepted here. Whether Apps Script accepts it was not checked.
    if (!alphabet.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
      throw this.rt.exception('Could not decode string.');
    }
    return signedBytes(new Uint8Array(Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64')));
  }
}
