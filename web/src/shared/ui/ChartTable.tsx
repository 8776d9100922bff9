/**
 * A chart's figures as a table only screen readers meet: the charts themselves are drawn
 * without their accessibility layer (recharts'), so this is what they read instead — a
 * caption, the column headers if any, and a row per point, its first cell the row's header.
 */
import { VisuallyHidden } from '@mantine/core';
import type { ReactNode } from 'react';

export interface ChartRow {
  key: string;
  cells: readonly ReactNode[];
}

export function ChartTable(props: { caption: string; headers?: readonly string[]; rows: readonly ChartRow[] }) {
  return (
    <VisuallyHidden>
      <table>
        <caption>{props.caption}</caption>
        {props.headers && (
          <thead>
            <tr>
              {props.headers.map((header) => (
                <th key={header} scope="col">
                  {header}
                </th>
              ))}
            </tr>
          </thead>
        )}
        <tbody>
          {props.rows.map(({ key, cells: [first, ...rest] }) => (
            <tr key={key}>
              <th scope="row">{first}</th>
              {rest.map((cell, i) => (
                <td key={i}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </VisuallyHidden>
  );
}
