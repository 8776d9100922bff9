/**
 * One page of the hub's delivery log: a table on wide screens, a card per message on a
 * phone (eight columns do not fit 390 px). Each message shows when it was sent (Jalali,
 * Tehran time), its kind, the recipient with the middle of the number hidden (as the hub
 * sends it), its status in colour *and* icon *and* words, why it failed, its SMS parts,
 * its cost in toman, and its text (codes masked by the hub).
 */
import { Badge, Card, Group, Stack, Table, Text } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import type { ConsoleHubMessageLogQuery, MessageStatus } from '../../gql/hub/graphql';
import { formatInteger, formatJalaliDateTime, localDigits } from '../../shared/format';
import { ScrollTable } from '../../shared/settlement/ScrollTable';
import { Bdi, Toman } from '../../shared/ui/Bdi';
import { kindKey, statusBadge } from './log';

export type HubMessageRow = ConsoleHubMessageLogQuery['hubMessages']['items'][number];

type Cell = 'time' | 'kind' | 'to' | 'status' | 'reason' | 'parts' | 'cost' | 'text';
const COLUMNS: readonly Cell[] = ['time', 'kind', 'to', 'status', 'reason', 'parts', 'cost', 'text'];

export function StatusBadge({ status }: { status: MessageStatus }) {
  const { t } = useTranslation();
  const { color, icon: StatusIcon, label } = statusBadge(status);
  return (
    <Badge
      variant="outline"
      tt="none"
      color={color}
      leftSection={<StatusIcon size={14} aria-hidden />}
      data-testid="message-status"
      data-status={status}
    >
      {t(label)}
    </Badge>
  );
}

/** The cells every layout shows, computed once per message. */
function useCells(message: HubMessageRow): Record<Cell, ReactNode> {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  return {
    time: <Bdi dir="auto">{formatJalaliDateTime(message.createdAt, lang)}</Bdi>,
    kind: t(kindKey(message.kind)),
    to: <Bdi>{localDigits(message.to, lang)}</Bdi>,
    status: <StatusBadge status={message.status} />,
    reason: message.reason ? (
      <Text size="sm" dir="auto" style={{ overflowWrap: 'anywhere' }}>
        {message.reason}
      </Text>
    ) : (
      t('mallMessages.noReason')
    ),
    parts: <Bdi>{formatInteger(message.parts, lang)}</Bdi>,
    cost: message.costRial === null ? t('mallMessages.noCost') : <Toman rial={message.costRial} />,
    text: (
      <Text
        size="sm"
        dir="auto"
        maw={360}
        style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}
        data-testid="message-text"
      >
        {message.text}
      </Text>
    ),
  };
}

function WideRow({ message }: { message: HubMessageRow }) {
  const cells = useCells(message);
  return (
    <Table.Tr data-testid="message-row" data-status={message.status}>
      {COLUMNS.map((column) => (
        <Table.Td key={column}>{cells[column]}</Table.Td>
      ))}
    </Table.Tr>
  );
}

export function Line({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Group gap="xs" wrap="nowrap" align="start">
      <Text size="xs" c="dimmed" w="5.5rem" style={{ flexShrink: 0 }}>
        {label}
      </Text>
      <div style={{ minWidth: 0 }}>{children}</div>
    </Group>
  );
}

function PhoneCard({ message }: { message: HubMessageRow }) {
  const { t } = useTranslation();
  const cells = useCells(message);
  return (
    <Card withBorder radius="md" p="sm" component="li" data-testid="message-row" data-status={message.status}>
      <Stack gap={6}>
        <Group justify="space-between" gap="xs">
          <Text size="sm" fw={600}>
            {cells.kind}
          </Text>
          {cells.status}
        </Group>
        <Line label={t('mallMessages.column.time')}>{cells.time}</Line>
        <Line label={t('mallMessages.column.to')}>{cells.to}</Line>
        {message.reason ? <Line label={t('mallMessages.column.reason')}>{cells.reason}</Line> : null}
        <Line label={t('mallMessages.column.parts')}>{cells.parts}</Line>
        <Line label={t('mallMessages.column.cost')}>{cells.cost}</Line>
        <Line label={t('mallMessages.column.text')}>{cells.text}</Line>
      </Stack>
    </Card>
  );
}

export function LogTable({ items }: { items: readonly HubMessageRow[] }) {
  const { t } = useTranslation();
  const phone = useMediaQuery('(max-width: 40em)');
  if (items.length === 0) return null;
  if (phone) {
    return (
      <Stack component="ul" gap="xs" m={0} p={0} style={{ listStyle: 'none' }} data-testid="message-log">
        {items.map((message) => (
          <PhoneCard key={message.id} message={message} />
        ))}
      </Stack>
    );
  }
  return (
    <ScrollTable minWidth={960} label={t('mallMessages.title')}>
      <Table striped withTableBorder verticalSpacing="xs" data-testid="message-log">
        <Table.Thead>
          <Table.Tr>
            {COLUMNS.map((column) => (
              <Table.Th key={column}>{t(`mallMessages.column.${column}`)}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((message) => (
            <WideRow key={message.id} message={message} />
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}
