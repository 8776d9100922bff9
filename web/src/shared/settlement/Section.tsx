/** A titled part of a settlement page, and the button that asks the server for more rows. */
import { Button, Paper, Stack, Title, type TitleOrder } from '@mantine/core';
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

/** Shown while the last page asked for came back full: the next page may hold more. */
export function MoreButton(props: {
  shown: number;
  asked: number;
  fetching: boolean;
  label: string;
  onMore: () => void;
}) {
  if (props.shown < props.asked) return null;
  return (
    <Button variant="subtle" loading={props.fetching} onClick={props.onMore}>
      {props.label}
    </Button>
  );
}
