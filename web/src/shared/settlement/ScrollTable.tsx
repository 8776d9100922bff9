/**
 * A wide table that scrolls sideways on a narrow screen (a 768 px tablet) inside its own
 * region, which the keyboard can reach and scroll (axe: scrollable-region-focusable).
 */
import { Table } from '@mantine/core';
import type { ReactNode } from 'react';

export function ScrollTable(props: { minWidth: number; label: string; children: ReactNode }) {
  return (
    <Table.ScrollContainer
      minWidth={props.minWidth}
      type="native"
      tabIndex={0}
      role="region"
      aria-label={props.label}
    >
      {props.children}
    </Table.ScrollContainer>
  );
}
