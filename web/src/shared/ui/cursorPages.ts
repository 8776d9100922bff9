/**
 * Paging on the server by cursor: the cursors of the pages before this one (null: the
 * first page), the step forward (to the page after a row's cursor) and back.
 */
import { useState } from 'react';

export interface CursorPages {
  /** The cursor the current page starts after (or before, for lists newest first). */
  cursor: string | null;
  /** Whether this is the first page. */
  first: boolean;
  forward: (lastCursor: string) => void;
  back: () => void;
}

export function useCursorPages(): CursorPages {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  return {
    cursor: cursors[cursors.length - 1] ?? null,
    first: cursors.length === 1,
    forward: (lastCursor) => {
      setCursors((seen) => [...seen, lastCursor]);
    },
    back: () => {
      setCursors((seen) => seen.slice(0, -1));
    },
  };
}
