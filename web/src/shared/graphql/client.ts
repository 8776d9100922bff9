/**
 * The GraphQL client of every face: its own server's `/graphql` (the hub for app and
 * console, the shop's node for the dashboard), same origin. Operations are typed from the
 * committed SDL by graphql-codegen (src/gql/hub, src/gql/node).
 *
 * No token is ever held here or in any storage: a signed-in browser is known to its server
 * by an HttpOnly session cookie only (the backend-for-frontend sign-in sets it), which the
 * server accepts only with the custom CSRF header sent on every call below.
 */
import { cacheExchange, Client, fetchExchange } from 'urql';

import { CSRF_HEADERS } from '../session/session';

export const GRAPHQL_PATH = '/graphql';

export function createGraphQLClient(url: string = GRAPHQL_PATH): Client {
  return new Client({
    url,
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: { credentials: 'same-origin', headers: { ...CSRF_HEADERS } },
    preferGetMethod: false,
  });
}
