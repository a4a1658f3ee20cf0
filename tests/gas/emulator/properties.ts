/**
 * The emulated PropertiesService: script and user property stores with Apps Script's size
 * limits, every method call counted.
 */
import type { Runtime, Subset } from './runtime';

type PropertiesApi = GoogleAppsScript.Properties.Properties;
type PropertiesServiceApi = GoogleAppsScript.Properties.PropertiesService;

/** Apps Script's published limit per property value: 9 KB. */
export const PROPERTY_VALUE_LIMIT_BYTES = 9 * 1024;
/** Apps Script's published limit per property store: 500 KB, keys and values together. */
export const PROPERTY_STORE_LIMIT_BYTES = 500 * 1024;

const encoder = new TextEncoder();

function byteLength(text: string): number {
  return encoder.encode(text).length;
}

/** The contents of one property store, readable by tests without counting calls. */
export class PropertyStore {
  private readonly entries = new Map<string, string>();

  get(key: string): string | null {
    return this.entries.get(key) ?? null;
  }

  set(key: string, value: string): void {
    this.entries.set(key, value);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  toObject(): Record<string, string> {
    return Object.fromEntries(this.entries);
  }

  /** Bytes the store would hold with `changes` applied (null deletes a key). */
  sizeWith(changes: Record<string, string | null>): number {
    const merged = new Map(this.entries);
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) merged.delete(key);
      else merged.set(key, value);
    }
    let total = 0;
    for (const [key, value] of merged) total += byteLength(key) + byteLength(value);
    return total;
  }
}

export class EmulatedProperties
  implements
    Subset<
      PropertiesApi,
      | 'getProperty'
      | 'setProperty'
      | 'getProperties'
      | 'setProperties'
      | 'deleteProperty'
      | 'deleteAllProperties'
      | 'getKeys'
    >
{
  constructor(
    private readonly rt: Runtime,
    private readonly store: PropertyStore,
  ) {}

  getProperty(key: string): string | null {
    return this.rt.track('Properties.getProperty', () => this.store.get(String(key)));
  }

  setProperty(key: string, value: string): EmulatedProperties {
    return this.rt.track('Properties.setProperty', () => {
      const [checkedKey, checkedValue] = this.check(key, value);
      this.checkStoreSize({ [checkedKey]: checkedValue });
      this.store.set(checkedKey, checkedValue);
      return this;
    });
  }

  getProperties(): Record<string, string> {
    return this.rt.track('Properties.getProperties', () => this.store.toObject());
  }

  setProperties(properties: Record<string, string>, deleteAllOthers?: boolean): EmulatedProperties {
    return this.rt.track('Properties.setProperties', () => {
      if (properties === null || typeof properties !== 'object') throw this.rt.exception('Invalid argument: properties');
      const checked = Object.entries(properties).map(([key, value]) => this.check(key, value));
      const changes: Record<string, string | null> = {};
      if (deleteAllOthers === true) for (const key of this.store.keys()) changes[key] = null;
      for (const [key, value] of checked) changes[key] = value;
      this.checkStoreSize(changes);
      if (deleteAllOthers === true) this.store.clear();
      for (const [key, value] of checked) this.store.set(key, value);
      return this;
    });
  }

  deleteProperty(key: string): EmulatedProperties {
    return this.rt.track('Properties.deleteProperty', () => {
      this.store.delete(String(key));
      return this;
    });
  }

  deleteAllProperties(): EmulatedProperties {
    return this.rt.track('Properties.deleteAllProperties', () => {
      this.store.clear();
      return this;
    });
  }

  getKeys(): string[] {
    return this.rt.track('Properties.getKeys', () => this.store.keys());
  }

  private check(key: unknown, value: unknown): [string, string] {
    if (key === null || key === undefined || String(key) === '') throw this.rt.exception('Invalid argument: key');
    if (value === null || value === undefined) throw this.rt.exception('Invalid argument: value');
    const text = String(value);
    // 9 KB is Google's published limit. A 2023 measurement (tanaikech.github.io) found larger values accepted.
    if (byteLength(text) > PROPERTY_VALUE_LIMIT_BYTES) throw this.rt.exception('Argument too large: value');
    return [String(key), text];
  }

  private checkStoreSize(changes: Record<string, string | null>): void {
    if (this.store.sizeWith(changes) > PROPERTY_STORE_LIMIT_BYTES) {
      throw this.rt.exception('You have exceeded the property storage quota. Please remove some properties and try again.');
    }
  }
}

export class EmulatedPropertiesService
  implements Subset<PropertiesServiceApi, 'getScriptProperties' | 'getUserProperties' | 'getDocumentProperties'>
{
  constructor(
    private readonly rt: Runtime,
    private readonly script: PropertyStore,
    private readonly user: PropertyStore,
  ) {}

  getScriptProperties(): EmulatedProperties {
    return this.rt.track('PropertiesService.getScriptProperties', () => new EmulatedProperties(this.rt, this.script));
  }

  getUserProperties(): EmulatedProperties {
    return this.rt.track('PropertiesService.getUserProperties', () => new EmulatedProperties(this.rt, this.user));
  }

  /** Null, as for any script that is not bound to a document. */
  getDocumentProperties(): null {
    return this.rt.track('PropertiesService.getDocumentProperties', () => null);
  }
}
