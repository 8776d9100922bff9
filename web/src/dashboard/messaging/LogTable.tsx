/**
 * One page of the delivery log: a table on wide screens, a card per message on a phone
 * (nine columns do not fit 390 px). Each message shows when it was made, its kind, its
 * channel and line, the recipient with the middle of the number hidden (as the node sends
 * it), its status in colour *and* words, why it failed or was skipped, its SMS parts and
 * cost; its text opens under it, so the list stays short.
 */
import { Button, Card, Group, Paper, Stack, Table, Text } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { IconChevronDown, IconChevronUp } from '@tabler/icons-react';
import { Fragment, type ReactNode, useState } from 'react';
import { useTranslation } from 'react-i18next';

import type { DashboardMessageLogQuery } from '../../gql/node/graphql';
import { formatInteger, formatJalaliDateTime, localDigits } from '../../shared/format';
import { Bdi, Code, Toman } from '../../shared/ui/Bdi';
import { StatusBadge } from './common';
import { textDirection } from './preview';
import { channelKey, kindKey } from './status';

export type LoggedMessage = DashboardMessageLogQuery['messages']['items'][number];

function useOpen() {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (id: string) => {
    setOpen((before) => {
      const next = new Set(before);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  };
  return { open, toggle };
}

function TextToggle({ open, onClick }: { open: boolean; onClick: () => void }) {
  const { t } = useTranslation();
  const Chevron = open ? IconChevronUp : IconChevronDown;
  return (
    <Button
      variant="subtle"
      size="compact-sm"
      aria-expanded={open}
      rightSection={<Chevron size={16} aria-hidden />}
      onClick={onClick}
      data-testid="message-toggle"
    >
      {t(open ? 'messaging.log.hideText' : 'messaging.log.showText')}
    </Button>
  );
}

function MessageText({ text }: { text: string }) {
  return (
    <Paper bg="gray.1" p="sm" radius="lg" maw={520}>
      <Text size="sm" dir={textDirection(text)} style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }} data-testid="message-text">
        {text}
      </Text>
    </Paper>
  );
}

/** The cells every layout shows, computed once per message. */
function useCells(message: LoggedMessage): Record<'time' | 'kind' | 'channel' | 'to' | 'reason' | 'parts' | 'cost', ReactNode> {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  return {
    time: <Bdi dir="auto">{formatJalaliDateTime(message.createdAt, lang)}</Bdi>,
    kind: t(kindKey(message.kind)),
    channel: (
      <Stack gap={0}>
        <Text size="sm">{t(channelKey(message.medium))}</Text>
        <Text size="xs" c="dimmed">
          {t(message.line === 'promotional' ? 'messaging.log.line.promotional' : 'messaging.log.line.service')}
        </Text>
      </Stack>
    ),
    to: (
      <Stack gap={0}>
        {/* The node names no chat for Telegram: just the channel, in the reader's words. */}
        {message.medium === 'telegram' ? t('messaging.log.telegramChat') : <Bdi>{localDigits(message.to, lang)}</Bdi>}
        {message.member ? (
          <Text size="xs" c="dimmed">
            {message.member.name ? <>{message.member.name} · </> : null}
            <Code value={message.member.cardCode} />
          </Text>
        ) : null}
      </Stack>
    ),
    reason: message.reason ? (
      <Text size="sm" dir={textDirection(message.reason)} style={{ overflowWrap: 'anywhere' }}>
        {message.reason}
      </Text>
    ) : (
      t('messaging.log.noReason')
    ),
    parts: <Bdi>{formatInteger(message.parts, lang)}</Bdi>,
    cost: message.costRial === null ? t('messaging.log.noCost') : <Toman rial={message.costRial} />,
  };
}

function WideRow({ message, open, onToggle }: { message: LoggedMessage; open: boolean; onToggle: () => void }) {
  const cells = useCells(message);
  return (
    <Fragment>
      <Table.Tr data-testid="message-row" data-status={message.status}>
        <Table.Td>{cells.time}</Table.Td>
        <Table.Td>{cells.kind}</Table.Td>
        <Table.Td>{cells.channel}</Table.Td>
        <Table.Td>{cells.to}</Table.Td>
        <Table.Td>
          <StatusBadge status={message.status} />
        </Table.Td>
        <Table.Td>{cells.reason}</Table.Td>
        <Table.Td>{cells.parts}</Table.Td>
        <Table.Td>{cells.cost}</Table.Td>
        <Table.Td>
          <TextToggle open={open} onClick={onToggle} />
        </Table.Td>
      </Table.Tr>
      {open ? (
        <Table.Tr>
          <Table.Td colSpan={9}>
            <MessageText text={message.text} />
          </Table.Td>
        </Table.Tr>
      ) : null}
    </Fragment>
  );
}

function Line({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Group gap="xs" wrap="nowrap" align="start">
      <Text size="xs" c="dimmed" w="6rem" style={{ flexShrink: 0 }}>
        {label}
      </Text>
      <div style={{ minWidth: 0, fontSize: 'var(--mantine-font-size-sm)' }}>{children}</div>
    </Group>
  );
}

function PhoneCard({ message, open, onToggle }: { message: LoggedMessage; open: boolean; onToggle: () => void }) {
  const { t } = useTranslation();
  const cells = useCells(message);
  return (
    <Card withBorder radius="md" p="sm" component="li" data-testid="message-row" data-status={message.status}>
      <Stack gap={6}>
        <Group justify="space-between" gap="xs">
          <Text size="sm" fw={600}>
            {cells.kind}
          </Text>
          <StatusBadge status={message.status} />
        </Group>
        <Line label={t('messaging.log.time')}>{cells.time}</Line>
        <Line label={t('messaging.log.channel')}>{cells.channel}</Line>
        <Line label={t('messaging.log.to')}>{cells.to}</Line>
        {message.reason ? <Line label={t('messaging.log.reason')}>{cells.reason}</Line> : null}
        <Line label={t('messaging.log.parts')}>{cells.parts}</Line>
        <Line label={t('messaging.log.cost')}>{cells.cost}</Line>
        <Group>
          <TextToggle open={open} onClick={onToggle} />
        </Group>
        {open ? <MessageText text={message.text} /> : null}
      </Stack>
    </Card>
  );
}

export function LogTable({ items }: { items: readonly LoggedMessage[] }) {
  const { t } = useTranslation();
  const { open, toggle } = useOpen();
  const phone = useMediaQuery('(max-width: 40em)');
  if (items.length === 0) return null;
  if (phone) {
    return (
      <Stack component="ul" gap="xs" m={0} p={0} style={{ listStyle: 'none' }} data-testid="message-log">
        {items.map((message) => (
          <PhoneCard
            key={message.id}
            message={message}
            open={open.has(message.id)}
            onToggle={() => {
              toggle(message.id);
            }}
          />
        ))}
      </Stack>
    );
  }
  return (
    <Table.ScrollContainer minWidth={900}>
      <Table striped highlightOnHover verticalSpacing="xs" data-testid="message-log">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('messaging.log.time')}</Table.Th>
            <Table.Th>{t('messaging.log.kind')}</Table.Th>
            <Table.Th>{t('messaging.log.channel')}</Table.Th>
            <Table.Th>{t('messaging.log.to')}</Table.Th>
            <Table.Th>{t('messaging.log.status')}</Table.Th>
            <Table.Th>{t('messaging.log.reason')}</Table.Th>
            <Table.Th>{t('messaging.log.parts')}</Table.Th>
            <Table.Th>{t('messaging.log.cost')}</Table.Th>
            <Table.Th>{t('messaging.log.text')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((message) => (
            <WideRow
              key={message.id}
              message={message}
              open={open.has(message.id)}
              onToggle={() => {
                toggle(message.id);
              }}
            />
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
