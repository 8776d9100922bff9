/** A titled part of a settlement page, and the buttons that page a list on the server. */
import { Button, Group, Paper, Stack, Title, type TitleOrder } from '@mantine/core';
import type { ReactNode } from 'react';

export function Section(props: {
  id: string;
  title: string;
  order?: TitleOrder;
  children: ReactNode;
}) {
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby={props.id}>
      <Stack gap="sm">
        <Title order={props.order ?? 3} size="h4" id={props.id}>
          {props.title}
        </Title>
        {props.children}
      </Stack>
    </Paper>
  );
}

/**
 * Newer and older pages of a list the server gives newest first, a page at a time, without
 * a total: each page asks for one row more than it shows, so whether an older page exists
 * is known without asking for it.
 */
export function NewerOlder(props: {
  offset: number;
  pageSize: number;
  /** Rows the server answered for this page (up to `pageSize + 1`). */
  answered: number;
  fetching: boolean;
  labels: { newer: string; older: string; group: string };
  onOffset: (offset: number) => void;
}) {
  const older = props.answered > props.pageSize;
  if (props.offset === 0 && !older) return null;
  return (
    <Group gap="sm" role="group" aria-label={props.labels.group}>
      <Button
        variant="subtle"
        disabled={props.offset === 0}
        onClick={() => {
          props.onOffset(Math.max(0, props.offset - props.pageSize));
        }}
      >
        {props.labels.newer}
      </Button>
      <Button
        variant="subtle"
        disabled={!older}
        loading={props.fetching}
        onClick={() => {
          props.onOffset(props.offset + props.pageSize);
        }}
      >
        {props.labels.older}
      </Button>
    </Group>
  );
}
