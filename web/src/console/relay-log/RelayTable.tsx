/**
 * One page of what the hub relayed for shops: a table on wide screens, a card per message
 * on a phone. Each message shows when the hub took it (Jalali, Tehran time), the shop, its
 * kind and medium, the recipient masked as the hub sends it, its status with the delivery
 * log's badge, why it failed, its SMS parts and its cost in toman. The hub keeps no text.
 */
import { Card, Group, Stack, Table, Text } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import type { ConsoleRelayedMessagesQuery } from '../../gql/hub/graphql';
import { formatInteger, formatJalaliDateTime, localDigits } from '../../shared/format';
import { ScrollTable } from '../../shared/settlement/ScrollTable';
import { Bdi, Toman } from '../../shared/ui/Bdi';
import { Line, StatusBadge } from '../messages-log/LogTable';
import { mediumKey, relayedKindKey } from './relayed';

export type RelayedRow = ConsoleRelayedMessagesQuery['relayedMessages']['items'][number];

type Cell = 'time' | 'shop' | 'kind' | 'medium' | 'to' | 'status' | 'reason' | 'parts' | 'cost';
const COLUMNS: readonly Cell[] = ['time', 'shop', 'kind', 'medium', 'to', 'status', 'reason', 'parts', 'cost'];

function useCells(message: RelayedRow, shopName: (slug: string) => string): Record<Cell, ReactNode> {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  return {
    time: <Bdi dir="auto">{formatJalaliDateTime(message.createdAt, lang)}</Bdi>,
    shop: shopName(message.shop),
    kind: t(relayedKindKey(message.kind)),
    medium: t(mediumKey(message.medium)),
    to: message.medium === 'telegram' ? t('mallRelayed.medium.telegram') : <Bdi>{localDigits(message.to, lang)}</Bdi>,
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
  };
}

interface RowProps {
  message: RelayedRow;
  shopName: (slug: string) => string;
}

function WideRow({ message, shopName }: RowProps) {
  const cells = useCells(message, shopName);
  return (
    <Table.Tr data-testid="relayed-row" data-status={message.status}>
      {COLUMNS.map((column) => (
        <Table.Td key={column}>{cells[column]}</Table.Td>
      ))}
    </Table.Tr>
  );
}

function PhoneCard({ message, shopName }: RowProps) {
  const { t } = useTranslation();
  const cells = useCells(message, shopName);
  return (
    <Card withBorder radius="md" p="sm" component="li" data-testid="relayed-row" data-status={message.status}>
      <Stack gap={6}>
        <Group justify="space-between" gap="xs">
          <Text size="sm" fw={600}>
            {cells.shop}
          </Text>
          {cells.status}
        </Group>
        <Line label={t('mallRelayed.column.time')}>{cells.time}</Line>
        <Line label={t('mallRelayed.column.kind')}>
          {cells.kind} · {cells.medium}
        </Line>
        <Line label={t('mallRelayed.column.to')}>{cells.to}</Line>
        {message.reason ? <Line label={t('mallRelayed.column.reason')}>{cells.reason}</Line> : null}
        <Line label={t('mallRelayed.column.parts')}>{cells.parts}</Line>
        <Line label={t('mallRelayed.column.cost')}>{cells.cost}</Line>
      </Stack>
    </Card>
  );
}

export function RelayTable({ items, shopName }: { items: readonly RelayedRow[]; shopName: (slug: string) => string }) {
  const { t } = useTranslation();
  const phone = useMediaQuery('(max-width: 40em)');
  if (items.length === 0) return null;
  if (phone) {
    return (
      <Stack component="ul" gap="xs" m={0} p={0} style={{ listStyle: 'none' }} data-testid="relayed-log">
        {items.map((message) => (
          <PhoneCard key={message.id} message={message} shopName={shopName} />
        ))}
      </Stack>
    );
  }
  return (
    <ScrollTable minWidth={960} label={t('mallRelayed.log.title')}>
      <Table striped withTableBorder verticalSpacing="xs" data-testid="relayed-log">
        <Table.Thead>
          <Table.Tr>
            {COLUMNS.map((column) => (
              <Table.Th key={column}>{t(`mallRelayed.column.${column}`)}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((message) => (
            <WideRow key={message.id} message={message} shopName={shopName} />
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}
