/**
 * Pieces the mall console's tables and forms share: loading and failure lines, a pager
 * over a server-paged list (numbered pages of `PAGE_SIZE` rows), a typed problem as a
 * sentence (with the field it concerns), a status badge and a chart's left-to-right box.
 */
import { Box, Button, Group, Loader, Modal, Pagination, Stack, Table, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import { formatInteger } from '../../shared/format';
import { problemMessage } from '../../shared/i18n/problems';
import { Bdi } from '../../shared/ui/Bdi';
import { ProblemAlert } from '../../shared/ui/ProblemAlert';

export const PAGE_SIZE = 20;

export function Loading() {
  const { t } = useTranslation();
  return (
    <Group gap="xs" role="status">
      <Loader size="sm" aria-hidden />
      <Text>{t('mallOverview.common.loading')}</Text>
    </Group>
  );
}

export function LoadFailed() {
  const { t } = useTranslation();
  return (
    <Text c="red.9" role="alert">
      {t('mallOverview.common.loadFailed')}
    </Text>
  );
}

/** What a query without an answer yet shows: loading, or its failure as a sentence. */
export function NoAnswer({ fetching, failed }: { fetching: boolean; failed: boolean }) {
  return fetching ? <Loading /> : failed ? <LoadFailed /> : null;
}

/** A table's header row of column names. */
export function HeadRow({ columns }: { columns: readonly string[] }) {
  return (
    <Table.Thead>
      <Table.Tr>
        {columns.map((column) => (
          <Table.Th key={column}>{column}</Table.Th>
        ))}
      </Table.Tr>
    </Table.Thead>
  );
}

/** A typed problem of the hub (`code`, optional `field`) as a sentence. */
export interface Problem {
  code: string;
  field?: string | null | undefined;
  message?: string | null | undefined;
}

export function ProblemText({ problem }: { problem: Problem | null }) {
  return <ProblemAlert code={problem?.code} />;
}

/** A problem's sentence when it concerns `field`, for a form input's `error`. */
export function fieldError(
  t: ReturnType<typeof useTranslation>['t'],
  problem: Problem | null,
  field: string,
): string | undefined {
  return problem?.field === field ? problemMessage(t, problem.code) : undefined;
}

/** The pages of a server-paged list, with "rows a–b of n". */
export function Pager({
  total,
  offset,
  onOffset,
  pageSize = PAGE_SIZE,
}: {
  total: number;
  offset: number;
  onOffset: (offset: number) => void;
  pageSize?: number;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(total, offset + pageSize);
  return (
    <Group justify="space-between" wrap="wrap" gap="xs">
      <Text size="sm" c="dimmed">
        {t('mallOverview.common.rows', {
          first: formatInteger(first, lang),
          last: formatInteger(last, lang),
          total: formatInteger(total, lang),
        })}
      </Text>
      {pages > 1 ? (
        <Pagination
          total={pages}
          value={Math.floor(offset / pageSize) + 1}
          onChange={(page) => {
            onOffset((page - 1) * pageSize);
          }}
          size="sm"
          getControlProps={(control) => ({
            'aria-label': t(`mallOverview.common.page.${control}`),
          })}
          getItemProps={(page) => ({
            'aria-label': t('mallOverview.common.page.number', { page: formatInteger(page, lang) }),
            children: formatInteger(page, lang),
          })}
        />
      ) : null}
    </Group>
  );
}

/** Charts draw left to right whatever the page's direction (their axes are numbers). */
export function ChartBox({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Box dir="ltr" h={240} w="100%" role="img" aria-label={label} data-testid="chart">
      {children}
    </Box>
  );
}

/** A count in the page's digits, isolated in its text. */
export function Count({ value }: { value: number }) {
  const { i18n } = useTranslation();
  return <Bdi>{formatInteger(value, i18n.language)}</Bdi>;
}

/** A console dialog: a modal whose close button says what it does. */
export function Dialog({
  title,
  onClose,
  children,
  size,
  closeOnClickOutside = true,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  size?: string;
  closeOnClickOutside?: boolean;
}) {
  const { t } = useTranslation();
  return (
    <Modal
      opened
      onClose={onClose}
      title={title}
      closeOnClickOutside={closeOnClickOutside}
      closeButtonProps={{ 'aria-label': t('mallOverview.common.close') }}
      {...(size ? { size } : {})}
    >
      {children}
    </Modal>
  );
}

/** A dialog's form: its fields, the problem the hub answered, Cancel and the action. */
export function DialogForm({
  onSubmit,
  onCancel,
  submitLabel,
  fetching,
  problem,
  danger = false,
  children,
}: {
  onSubmit: () => void;
  onCancel: () => void;
  submitLabel: string;
  fetching: boolean;
  problem: Problem | null;
  danger?: boolean;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit();
      }}
    >
      <Stack>
        {children}
        <ProblemText problem={problem} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('mallOverview.common.cancel')}
          </Button>
          <Button type="submit" loading={fetching} {...(danger ? { color: 'red.9' } : {})}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
