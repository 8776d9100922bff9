/**
 * The GraphQL client of every face: its own server's `/graphql` (the hub for app and
 * console, the shop's node for the dashboard), same origin. Operations are typed from the
 * committed SDL by graphql-codegen (src/gql/hub, src/gql/node).
 *
 * No token is ever held here or in any storage: a signed-in browser is known to its server
 * by an HttpOnly session cookie only (the backend-for-frontend sign-in sets it), which the
 * server accepts only with the custom CSRF header sent on every call below.
 *
 * When the server answers a call with 401 — the session was signed out elsewhere, expired,
 * or its staff member disabled — the open page hears it at once (`onSessionLost`) instead
 * of showing errors until it is reloaded: the session gate checks again and sends the
 * visitor to sign in.
 */
import { cacheExchange, Client, type CombinedError, fetchExchange, mapExchange } from 'urql';

import { CSRF_HEADERS } from '../session/session';

export const GRAPHQL_PATH = '/graphql';

const LOST = 'session-lost';
const events = new EventTarget();

/** Calls `listener` each time the server refuses a call for want of a session; returns the
 * function that stops listening. */
export function onSessionLost(listener: () => void): () => void {
  events.addEventListener(LOST, listener);
  return () => {
    events.removeEventListener(LOST, listener);
  };
}

/** Whether an answer's error is the server refusing the session (HTTP 401). */
export function isSessionRefusal(error: CombinedError): boolean {
  const response: unknown = error.response;
  return response instanceof Response && response.status === 401;
}

export function createGraphQLClient(url: string = GRAPHQL_PATH): Client {
  return new Client({
    url,
    exchanges: [
      cacheExchange,
      mapExchange({
        onError(error) {
          if (isSessionRefusal(error)) events.dispatchEvent(new Event(LOST));
        },
      }),
      fetchExchange,
    ],
    fetchOptions: { credentials: 'same-origin', headers: { ...CSRF_HEADERS } },
    preferGetMethod: false,
  });
}
