import { gql } from 'urql';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createGraphQLClient, onSessionLost } from './client';

const QUERY = gql`
  {
    serverInfo {
      version
    }
  }
`;

function answering(status: number, body: unknown) {
  return vi.fn(() =>
    Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })),
  );
}

describe('the GraphQL client', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('tells the page at once when the server refuses the session', async () => {
    vi.stubGlobal('fetch', answering(401, { detail: 'not signed in' }));
    const heard = vi.fn();
    const stop = onSessionLost(heard);
    const result = await createGraphQLClient('http://face.test/graphql').query(QUERY, {}).toPromise();
    stop();
    expect(result.error?.response).toBeInstanceOf(Response);
    expect(heard).toHaveBeenCalledTimes(1);
  });

  it('says nothing for other failures or after the page stops listening', async () => {
    const heard = vi.fn();
    const stop = onSessionLost(heard);
    vi.stubGlobal('fetch', answering(500, { errors: [{ message: 'boom' }] }));
    await createGraphQLClient('http://face.test/graphql').query(QUERY, {}).toPromise();
    vi.stubGlobal('fetch', answering(200, { data: null, errors: [{ message: 'needs a scope' }] }));
    await createGraphQLClient('http://face.test/graphql').query(QUERY, {}).toPromise();
    expect(heard).not.toHaveBeenCalled();
    stop();
    vi.stubGlobal('fetch', answering(401, {}));
    await createGraphQLClient('http://face.test/graphql').query(QUERY, {}).toPromise();
    expect(heard).not.toHaveBeenCalled();
  });
});
