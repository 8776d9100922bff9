/**
 * What the messaging pages share: a message status as a badge (colour, icon and words),
 * and a text as a phone receives it — its SMS parts in order, each in a bubble with how
 * much of its part it fills — with its encoding and number of parts.
 */
import { Badge, Group, Paper, SimpleGrid, Stack, Text, VisuallyHidden } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import type { MessageStatus } from '../../gql/node/graphql';
import { formatInteger } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { encodingKey, langDirection, phoneParts } from './preview';
import { statusBadge } from './status';

export function StatusBadge({ status, count }: { status: MessageStatus; count?: number }) {
  const { t, i18n } = useTranslation();
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
      {count === undefined ? null : (
        <>
          {' '}
          <Bdi>{formatInteger(count, i18n.language)}</Bdi>
        </>
      )}
    </Badge>
  );
}

/** A label over a figure, as the previews show their numbers. */
export function Figure({
  label,
  children,
  testId,
  plain = false,
}: {
  label: string;
  children: ReactNode;
  testId?: string;
  /** Words rather than a number: not in bold. */
  plain?: boolean;
}) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={plain ? 400 : 700} size={plain ? 'sm' : 'md'} data-testid={testId}>
        {children}
      </Text>
    </Stack>
  );
}

export interface Segments {
  encoding: string;
  units: number;
  parts: number;
  perPart: number;
}

/** The text's parts as the phone shows them, one bubble each, in the message's direction. */
export function PhoneParts({
  partTexts,
  segments,
  lang,
}: {
  partTexts: readonly string[];
  segments: Segments;
  lang: string;
}) {
  const { t, i18n } = useTranslation();
  const n = (value: number) => formatInteger(value, i18n.language);
  const parts = phoneParts(partTexts, segments.encoding, segments.perPart);
  return (
    <Stack gap="sm" data-testid="phone-parts">
      <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="xs">
        <Figure label={t('messaging.parts.count')} testId="parts-count">
          <Bdi>{n(segments.parts)}</Bdi>
        </Figure>
        <Figure label={t('messaging.parts.encoding')} testId="parts-encoding" plain>
          {t(encodingKey(segments.encoding))}
        </Figure>
      </SimpleGrid>
      {parts.length === 0 ? (
        <Text c="dimmed">{t('messaging.parts.none')}</Text>
      ) : (
        <Stack component="ol" gap="xs" m={0} p={0} style={{ listStyle: 'none' }} aria-label={t('messaging.parts.phone')}>
          {parts.map((part) => (
            <li key={part.n} data-testid="phone-part">
              <Paper bg="gray.1" p="sm" radius="lg" maw={420}>
                <Group justify="space-between" gap="xs" mb={4}>
                  <Text size="xs" c="dimmed">
                    {t('messaging.parts.part', { n: n(part.n), total: n(parts.length) })}
                  </Text>
                  <Text size="xs" c="dimmed" data-testid="part-units">
                    <VisuallyHidden>{t('messaging.parts.unitsLabel')}: </VisuallyHidden>
                    {t('messaging.parts.units', { units: n(part.units), limit: n(part.limit) })}
                  </Text>
                </Group>
                <Text lang={lang} dir={langDirection(lang)} style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }} data-testid="part-text">
                  {part.text}
                </Text>
              </Paper>
            </li>
          ))}
        </Stack>
      )}
    </Stack>
  );
}
