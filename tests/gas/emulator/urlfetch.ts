/**
 * The emulated UrlFetchApp. It serves the Gmail REST API (https://gmail.googleapis.com/gmail/v1)
 * from the emulated mailbox and reads of Sheets values (https://sheets.googleapis.com/v4) from
 * the emulated spreadsheets, authorized by the script's OAuth token, and refuses every other
 * address without opening a socket. fetchAll is charged one request's latency plus a small
 * overhead, because Apps Script runs its requests concurrently.
 */
import { GmailApiError, type GmailBackend } from './gmail';
import { signedBytes, type Runtime, type Subset } from './runtime';
import { sheetsRest } from './sheets-api';
import type { SpreadsheetStore } from './sheet-store';
import { EmulatedBlob } from './utilities';

type HttpResponseApi = GoogleAppsScript.URL_Fetch.HTTPResponse;
type UrlFetchAppApi = GoogleAppsScript.URL_Fetch.UrlFetchApp;

const GMAIL_HOSTS = new Set(['gmail.googleapis.com', 'www.googleapis.com']);
const GMAIL_PREFIX = '/gmail/v1/users/';
const SHEETS_HOST = 'sheets.googleapis.com';
const SHEETS_PREFIX = '/v4/spreadsheets/';
/** Query parameters of the Gmail API that may repeat. */
const LIST_PARAMETERS = new Set(['metadataHeaders', 'labelIds', 'historyTypes']);

interface HttpResult {
  code: number;
  headers: Record<string, string>;
  body: string;
}

export class EmulatedHttpResponse
  implements
    Subset<HttpResponseApi, 'getResponseCode' | 'getContentText' | 'getHeaders' | 'getAllHeaders' | 'getContent' | 'getBlob'>
{
  constructor(
    private readonly rt: Runtime,
    private readonly result: HttpResult,
  ) {}

  getResponseCode(): number {
    return this.rt.track('HTTPResponse.getResponseCode', () => this.result.code);
  }

  getContentText(charset?: string): string {
    return this.rt.track('HTTPResponse.getContentText', () => {
      if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
        return new TextDecoder(charset).decode(new TextEncoder().encode(this.result.body));
      }
      return this.result.body;
    });
  }

  /** Header names in the server's casing, as Apps Script returns them. */
  getHeaders(): Record<string, string> {
    return this.rt.track('HTTPResponse.getHeaders', () => ({ ...this.result.headers }));
  }

  getAllHeaders(): Record<string, string> {
    return this.rt.track('HTTPResponse.getAllHeaders', () => ({ ...this.result.headers }));
  }

  getContent(): number[] {
    return this.rt.track('HTTPResponse.getContent', () => signedBytes(new TextEncoder().encode(this.result.body)));
  }

  getBlob(): EmulatedBlob {
    return this.rt.track(
      'HTTPResponse.getBlob',
      () => new EmulatedBlob(this.rt, new TextEncoder().encode(this.result.body), this.result.headers['Content-Type'] ?? null, null),
    );
  }
}

function option(params: unknown, name: string): unknown {
  if (params === null || typeof params !== 'object') return undefined;
  return (params as Record<string, unknown>)[name];
}

function jsonResult(code: number, value: unknown): HttpResult {
  return {
    code,
    headers: { 'Content-Type': 'application/json; charset=UTF-8' },
    body: code === 204 ? '' : JSON.stringify(value, null, 2),
  };
}

function errorResult(code: number, message: string, reason: string, status: string): HttpResult {
  return jsonResult(code, { error: { code, message, errors: [{ message, domain: 'global', reason }], status } });
}

export class EmulatedUrlFetchApp implements Subset<UrlFetchAppApi, 'fetch' | 'fetchAll' | 'getRequest'> {
  constructor(
    private readonly rt: Runtime,
    private readonly backend: GmailBackend,
    /** The token ScriptApp.getOAuthToken() hands out; requests must carry it. */
    private readonly oauthToken: string,
    private readonly spreadsheets: SpreadsheetStore,
  ) {}

  fetch(url: string, params?: GoogleAppsScript.URL_Fetch.URLFetchRequestOptions): EmulatedHttpResponse {
    return this.rt.track('UrlFetchApp.fetch', () => {
      this.checkAddress(String(url));
      return this.finish(String(url), params, this.perform(String(url), params));
    });
  }

  /** Runs the requests together: the clock advances by one fetch plus the fetchAll overhead. */
  fetchAll(requests: (GoogleAppsScript.URL_Fetch.URLFetchRequest | string)[]): EmulatedHttpResponse[] {
    const latencyMs = this.rt.latencyOf('UrlFetchApp.fetch') + this.rt.latencyOf('UrlFetchApp.fetchAll');
    return this.rt.track(
      'UrlFetchApp.fetchAll',
      () => {
        if (!Array.isArray(requests)) throw this.rt.exception('Invalid argument: requests');
        const normalized = requests.map((request) =>
          typeof request === 'string' ? { url: request, params: undefined } : { url: String(request.url), params: request },
        );
        // One request that cannot be sent fails the whole batch, with no per-request results.
        for (const request of normalized) this.checkAddress(request.url);
        return normalized.map((request) => this.finish(request.url, request.params, this.perform(request.url, request.params)));
      },
      { latencyMs },
    );
  }

  getRequest(url: string, params?: GoogleAppsScript.URL_Fetch.URLFetchRequestOptions): GoogleAppsScript.URL_Fetch.URLFetchRequest {
    return this.rt.track('UrlFetchApp.getRequest', () => ({
      url: String(url),
      method: (option(params, 'method') as GoogleAppsScript.URL_Fetch.HttpMethod | undefined) ?? 'get',
      headers: { ...((option(params, 'headers') as Record<string, string> | undefined) ?? {}) },
      payload: (option(params, 'payload') as string | undefined) ?? '',
    }));
  }

  private checkAddress(url: string): void {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw this.rt.exception(`Invalid argument: ${url}`);
    }
    const gmail = GMAIL_HOSTS.has(parsed.hostname) && parsed.pathname.startsWith(GMAIL_PREFIX);
    const sheets = parsed.hostname === SHEETS_HOST && parsed.pathname.startsWith(SHEETS_PREFIX);
    if (parsed.protocol !== 'https:' || !(gmail || sheets)) {
      throw this.rt.exception(
        `Address unavailable: ${url} (the emulated UrlFetchApp serves only the Gmail API at https://gmail.googleapis.com/gmail/v1/ and Sheets values at https://sheets.googleapis.com/v4/spreadsheets/)`,
      );
    }
  }

  private finish(url: string, params: unknown, result: HttpResult): EmulatedHttpResponse {
    if (result.code >= 400 && option(params, 'muteHttpExceptions') !== true) {
      const origin = new URL(url).origin;
      throw this.rt.exception(
        `Request failed for ${origin} returned code ${result.code}. Truncated server response: ${result.body.slice(0, 250)} (use muteHttpExceptions option to examine full response)`,
      );
    }
    return new EmulatedHttpResponse(this.rt, result);
  }

  private perform(url: string, params: unknown): HttpResult {
    const headers = (option(params, 'headers') ?? {}) as Record<string, unknown>;
    const authorization = Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
    if (authorization === undefined) {
      return errorResult(
        401,
        'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        'required',
        'UNAUTHENTICATED',
      );
    }
    if (String(authorization) !== `Bearer ${this.oauthToken}`) {
      return errorResult(
        401,
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        'authError',
        'UNAUTHENTICATED',
      );
    }
    const parsed = new URL(url);
    const method = String(option(params, 'method') ?? 'get').toLowerCase();
    if (parsed.hostname === SHEETS_HOST) {
      const path = parsed.pathname.slice(SHEETS_PREFIX.length).split('/').map(decodeURIComponent);
      const result = sheetsRest(this.spreadsheets, method, path, parsed.searchParams);
      return jsonResult(result.code, result.body);
    }
    const [userId = '', ...path] = parsed.pathname.slice(GMAIL_PREFIX.length).split('/').map(decodeURIComponent);
    const query: Record<string, unknown> = {};
    for (const key of new Set(parsed.searchParams.keys())) {
      const values = parsed.searchParams.getAll(key);
      if (LIST_PARAMETERS.has(key)) query[key] = values;
      else if (key === 'maxResults') query[key] = Number(values[0]);
      else if (key === 'includeSpamTrash') query[key] = values[0] === 'true';
      else query[key] = values[0];
    }
    try {
      this.backend.checkUser(userId);
      return this.route(method, path, query, params);
    } catch (error) {
      if (error instanceof GmailApiError) return errorResult(error.code, error.message, error.reason, error.status);
      throw error;
    }
  }

  private body(params: unknown): unknown {
    const payload = option(params, 'payload');
    if (payload === undefined || payload === null || payload === '') return {};
    if (typeof payload !== 'string') throw new GmailApiError(400, 'Invalid JSON payload received. Expected a JSON object.', 'invalid');
    try {
      return JSON.parse(payload) as unknown;
    } catch {
      throw new GmailApiError(400, 'Invalid JSON payload received.', 'invalid');
    }
  }

  private route(method: string, path: string[], query: Record<string, unknown>, params: unknown): HttpResult {
    const [collection, id, action] = path;
    const route = `${method} ${collection ?? ''}${id === undefined ? '' : '/{id}'}${action === undefined ? '' : `/${action}`}`;
    const backend = this.backend;
    switch (route) {
      case 'get profile':
        return jsonResult(200, backend.profile());
      case 'get history':
        return jsonResult(200, backend.listHistory(query));
      case 'get messages':
        return jsonResult(200, backend.listMessages(query));
      case 'get labels':
        return jsonResult(200, backend.listLabels());
      case 'post labels':
        return jsonResult(200, backend.createLabel(this.body(params)));
      case 'get threads/{id}':
        return jsonResult(200, backend.getThread(id, query, 'rest'));
      case 'post messages/{id}':
        if (id === 'send') return jsonResult(200, backend.send(this.body(params), undefined));
        if (id === 'batchModify') {
          backend.batchModify(this.body(params));
          return jsonResult(204, undefined);
        }
        break;
      case 'get messages/{id}':
        return jsonResult(200, backend.getMessage(id, query, 'rest'));
      case 'post messages/{id}/modify':
        return jsonResult(200, backend.modify(id, this.body(params)));
      default:
        break;
    }
    return errorResult(404, `Method ${method.toUpperCase()} /${path.join('/')} is not emulated.`, 'notFound', 'NOT_FOUND');
  }
}
