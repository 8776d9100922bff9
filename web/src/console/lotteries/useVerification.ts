/**
 * "Verify" a drawn lottery: read its published frozen list a page at a time (the public
 * `lotteryTickets`), hand it and the published record to a Web Worker that re-runs the
 * draw (fairDraw.ts), and say match or mismatch; or ask the hub to re-run it
 * (`verifyLottery`).
 */
import { useCallback, useState } from 'react';
import { useClient } from 'urql';

import { graphql } from '../../gql/hub';
import type { Difference, Entrant, PublishedRecord } from './fairDraw';

const TicketPage = graphql(`
  query ConsoleLotteryTickets($id: String!, $after: Int!, $first: Int!) {
    lotteryTickets(lotteryId: $id, after: $after, first: $first) {
      position
      entrantId
      tickets
    }
  }
`);

const ServerVerify = graphql(`
  query ConsoleVerifyLottery($id: String!) {
    verifyLottery(lotteryId: $id) {
      __typename
      ... on LotteryVerification {
        entrants
        matches
        differences
      }
      ... on HubProblem {
        code
      }
    }
  }
`);

const PAGE = 10_000;

export type Verification =
  | { kind: 'idle' }
  | { kind: 'reading'; read: number; total: number }
  | { kind: 'running' }
  | { kind: 'match'; where: 'browser' | 'server'; entrants: number }
  | { kind: 'mismatch'; where: 'browser' | 'server'; differences: string[] }
  | { kind: 'failed' };

function runInWorker(record: PublishedRecord, entrants: Entrant[]): Promise<Difference[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./verify.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (event: MessageEvent<{ ok: boolean; differences?: Difference[]; error?: string }>) => {
      worker.terminate();
      if (event.data.ok && event.data.differences) resolve(event.data.differences);
      else reject(new Error(event.data.error ?? 'the worker failed'));
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(event.message));
    };
    worker.postMessage({ record, entrants });
  });
}

export function useVerification(id: string, record: unknown) {
  const client = useClient();
  const [state, setState] = useState<Verification>({ kind: 'idle' });

  const inBrowser = useCallback(() => {
    const published = record as PublishedRecord;
    const total = published.entrants ?? 0;
    const run = async () => {
      const entrants: Entrant[] = [];
      for (;;) {
        setState({ kind: 'reading', read: entrants.length, total });
        const page = await client
          .query(TicketPage, { id, after: entrants.length, first: PAGE }, { requestPolicy: 'network-only' })
          .toPromise();
        if (page.error || !page.data) throw new Error('the ticket list could not be read');
        const rows = page.data.lotteryTickets;
        entrants.push(...rows.map((r): Entrant => [r.entrantId, r.tickets]));
        if (rows.length < PAGE) break;
      }
      setState({ kind: 'running' });
      const differences = await runInWorker(published, entrants);
      setState(
        differences.length
          ? {
              kind: 'mismatch',
              where: 'browser',
              differences: differences.map((d) => `${d.part}: ${d.published} ≠ ${d.recomputed}`),
            }
          : { kind: 'match', where: 'browser', entrants: entrants.length },
      );
    };
    run().catch(() => {
      setState({ kind: 'failed' });
    });
  }, [client, id, record]);

  const onServer = useCallback(() => {
    setState({ kind: 'running' });
    client
      .query(ServerVerify, { id }, { requestPolicy: 'network-only' })
      .toPromise()
      .then((answer) => {
        const result = answer.data?.verifyLottery;
        if (result?.__typename !== 'LotteryVerification') {
          setState({ kind: 'failed' });
          return;
        }
        setState(
          result.matches
            ? { kind: 'match', where: 'server', entrants: result.entrants }
            : { kind: 'mismatch', where: 'server', differences: result.differences },
        );
      })
      .catch(() => {
        setState({ kind: 'failed' });
      });
  }, [client, id]);

  return { state, inBrowser, onServer };
}
