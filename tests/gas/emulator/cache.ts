/**
 * The emulated CacheService: script and user caches whose entries expire on the emulated clock,
 * with Apps Script's key and value size limits.
 */
import type { Runtime, Subset } from './runtime';

type CacheApi = GoogleAppsScript.Cache.Cache;
type CacheServiceApi = GoogleAppsScript.Cache.CacheService;

/** Published limits: keys up to 250 characters, values up to 100 KB, expiry up to 6 hours. */
const KEY_LIMIT = 250;
const VALUE_LIMIT_BYTES = 100 * 1024;
const DEFAULT_EXPIRY_SECONDS = 600;
const MAX_EXPIRY_SECONDS = 21600;

const encoder = new TextEncoder();

export class CacheStore {
  readonly entries = new Map<string, { value: string; expiresAt: number }>();
}

export class EmulatedCache
  implements Subset<CacheApi, 'get' | 'getAll' | 'put' | 'putAll' | 'remove' | 'removeAll'>
{
  constructor(
    private readonly rt: Runtime,
    private readonly store: CacheStore,
  ) {}

  get(key: string): string | null {
    return this.rt.track('Cache.get', () => this.read(String(key)));
  }

  getAll(keys: string[]): Record<string, string> {
    return this.rt.track('Cache.getAll', () => {
      const out: Record<string, string> = {};
      for (const key of keys) {
        const value = this.read(String(key));
        if (value !== null) out[String(key)] = value;
      }
      return out;
    });
  }

  put(key: string, value: string, expirationInSeconds?: number): void {
    this.rt.track('Cache.put', () => this.write(key, value, expirationInSeconds));
  }

  putAll(values: Record<string, string>, expirationInSeconds?: number): void {
    this.rt.track('Cache.putAll', () => {
      for (const [key, value] of Object.entries(values)) this.write(key, value, expirationInSeconds);
    });
  }

  remove(key: string): void {
    this.rt.track('Cache.remove', () => {
      this.store.entries.delete(String(key));
    });
  }

  removeAll(keys: string[]): void {
    this.rt.track('Cache.removeAll', () => {
      for (const key of keys) this.store.entries.delete(String(key));
    });
  }

  private read(key: string): string | null {
    const entry = this.store.entries.get(key);
    if (entry === undefined) return null;
    if (entry.expiresAt <= this.rt.clock.now()) {
      this.store.entries.delete(key);
      return null;
    }
    return entry.value;
  }

  private write(key: unknown, value: unknown, expirationInSeconds: number | undefined): void {
    const text = String(value);
    if (String(key).length > KEY_LIMIT) throw this.rt.exception('Argument too large: key');
    if (encoder.encode(text).length > VALUE_LIMIT_BYTES) throw this.rt.exception('Argument too large: value');
    const seconds = Math.min(expirationInSeconds ?? DEFAULT_EXPIRY_SECONDS, MAX_EXPIRY_SECONDS);
    this.store.entries.set(String(key), { value: text, expiresAt: this.rt.clock.now() + seconds * 1000 });
  }
}

export class EmulatedCacheService
  implements Subset<CacheServiceApi, 'getScriptCache' | 'getUserCache' | 'getDocumentCache'>
{
  constructor(
    private readonly rt: Runtime,
    private readonly script: CacheStore,
    private readonly user: CacheStore,
  ) {}

  getScriptCache(): EmulatedCache {
    return this.rt.track('CacheService.getScriptCache', () => new EmulatedCache(this.rt, this.script));
  }

  getUserCache(): EmulatedCache {
    return this.rt.track('CacheService.getUserCache', () => new EmulatedCache(this.rt, this.user));
  }

  /** Null, as for any script that is not bound to a document. */
  getDocumentCache(): null {
    return this.rt.track('CacheService.getDocumentCache', () => null);
  }
}
