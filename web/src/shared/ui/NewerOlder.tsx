/**
 * The two buttons under a list paged by cursor, newest first: back to newer rows, on to
 * older ones (after the page's last cursor). The labels come translated by the caller.
 */
import { Button, Group } from '@mantine/core';

import type { CursorPages } from './cursorPages';

export interface NewerOlderProps {
  pages: CursorPages;
  page: { hasNextPage: boolean; endCursor?: string | null };
  fetching: boolean;
  newer: string;
  older: string;
  olderTestId?: string;
}

export function NewerOlder({ pages, page, fetching, newer, older, olderTestId }: NewerOlderProps) {
  return (
    <Group justify="space-between">
      <Button variant="default" disabled={pages.first || fetching} onClick={pages.back}>
        {newer}
      </Button>
      <Button
        variant="default"
        disabled={!page.hasNextPage || !page.endCursor || fetching}
        onClick={() => {
          if (page.endCursor) pages.forward(page.endCursor);
        }}
        data-testid={olderTestId}
      >
        {older}
      </Button>
    </Group>
  );
}
