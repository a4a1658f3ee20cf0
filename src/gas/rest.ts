/** Requests to Google REST APIs for UrlFetchApp, authorized by the script's OAuth token. */

export type FetchRequest = GoogleAppsScript.URL_Fetch.URLFetchRequest;

/**
 * Builds a GET request, or a POST of `payload` as JSON. HTTP errors come back as responses, so
 * that a batch in UrlFetchApp.fetchAll reports each request's status.
 */
export function restRequest(token: string, url: string, payload?: object): FetchRequest {
  const request: FetchRequest = {
    url,
    method: payload === undefined ? 'get' : 'post',
    headers: { Authorization: `Bearer ${token}` },
    muteHttpExceptions: true,
  };
  if (payload !== undefined) {
    request.contentType = 'application/json';
    request.payload = JSON.stringify(payload);
  }
  return request;
}
