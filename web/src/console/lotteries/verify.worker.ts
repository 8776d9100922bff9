/**
 * The browser's own re-run of a drawn lottery, off the page's thread: the page sends the
 * published record and frozen list it read from the hub, the worker answers with every
 * disagreement it finds (none: the draw stands).
 */
import { type Entrant, type PublishedRecord, verifyDraw } from './fairDraw';

interface Scope {
  onmessage: ((event: MessageEvent<{ record: PublishedRecord; entrants: Entrant[] }>) => void) | null;
  postMessage: (message: unknown) => void;
}

const scope = self as unknown as Scope;

scope.onmessage = (event) => {
  const { record, entrants } = event.data;
  verifyDraw(record, entrants).then(
    (differences) => {
      scope.postMessage({ ok: true, differences });
    },
    (error: unknown) => {
      scope.postMessage({ ok: false, error: String(error) });
    },
  );
};
