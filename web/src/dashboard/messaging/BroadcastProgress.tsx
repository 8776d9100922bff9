/**
 * How a send to a list is going, asked of the node every two seconds while a worker walks
 * the list or its messages are about to go (broadcast(id)): the members the list held,
 * how many a message was queued for, held for the quiet hours or skipped for want of
 * consent, and where its messages are now, with a link to them in the delivery log.
 */
import { Alert, Anchor, Badge, Group, Loader, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { IconArrowForwardUp } from '@tabler/icons-react';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../../gql/node';
import { formatInteger } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { Figure, StatusBadge } from './common';
import { broadcastStatusKey, stillMoving } from './preview';
import { MESSAGE_STATUSES } from './status';

export const POLL_MS = 2000;

const Progress = graphql(`
  query DashboardBroadcastProgress($id: ID!) {
    broadcast(id: $id) {
      id
      status
      total
      queued
      skippedNoConsent
      held
      reason
      finishedAt
      deliveries {
        status
        count
      }
    }
  }
`);

const STATUS_COLOR: Record<string, string> = { done: 'teal.9', failed: 'red.9' };

export function BroadcastProgress({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const n = (value: number) => formatInteger(value, i18n.language);
  const [{ data, error }, reread] = useQuery({
    query: Progress,
    variables: { id },
    requestPolicy: 'network-only',
  });
  const found = data?.broadcast ?? null;
  const moving = found === null || stillMoving(found);

  useEffect(() => {
    if (!moving) return;
    const timer = setInterval(() => {
      reread({ requestPolicy: 'network-only' });
    }, POLL_MS);
    return () => {
      clearInterval(timer);
    };
  }, [moving, reread]);

  if (error && !found) {
    return (
      <Alert color="red" role="alert">
        {t('messaging.failed')}
      </Alert>
    );
  }
  if (!found) return <Loader aria-label={t('messaging.loading')} />;
  const deliveries = MESSAGE_STATUSES.flatMap((status) => {
    const count = found.deliveries.find((d) => d.status === status)?.count ?? 0;
    return count > 0 ? [{ status, count }] : [];
  });
  return (
    <Stack gap="md" data-testid="send-progress">
      <Group justify="space-between" gap="xs">
        <Title order={3} size="h4">
          {t('messaging.progress.title')}
        </Title>
        <Group gap="xs" aria-live="polite">
          {moving ? <Loader size="xs" aria-hidden /> : null}
          <Badge
            variant="outline"
            tt="none"
            color={STATUS_COLOR[found.status] ?? 'blue.9'}
            data-testid="send-progress-status"
            data-status={found.status}
          >
            {t(broadcastStatusKey(found.status))}
          </Badge>
        </Group>
      </Group>
      <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="sm">
        <Figure label={t('messaging.progress.total')} testId="progress-total">
          <Bdi>{n(found.total)}</Bdi>
        </Figure>
        <Figure label={t('messaging.progress.queued')} testId="progress-queued">
          <Bdi>{n(found.queued)}</Bdi>
        </Figure>
        <Figure label={t('messaging.progress.held')} testId="progress-held">
          <Bdi>{n(found.held)}</Bdi>
        </Figure>
        <Figure label={t('messaging.progress.skipped')} testId="progress-skipped">
          <Bdi>{n(found.skippedNoConsent)}</Bdi>
        </Figure>
      </SimpleGrid>
      {found.reason ? (
        <Alert color="red" role="alert">
          {t('messaging.progress.reason', { reason: found.reason })}
        </Alert>
      ) : null}
      <Paper withBorder p="sm" radius="md">
        <Stack gap="xs">
          <Text size="sm" fw={600}>
            {t('messaging.progress.deliveries')}
          </Text>
          {deliveries.length === 0 ? (
            <Text size="sm" c="dimmed">
              {t('messaging.progress.noDeliveries')}
            </Text>
          ) : (
            <Group gap={6} data-testid="progress-deliveries">
              {deliveries.map(({ status, count }) => (
                <StatusBadge key={status} status={status} count={count} />
              ))}
            </Group>
          )}
        </Stack>
      </Paper>
      <Anchor component={Link} to={`/messages?batch=${encodeURIComponent(found.id)}`} data-testid="progress-log">
        <Group gap={4} component="span">
          <IconArrowForwardUp size={18} aria-hidden />
          {t('messaging.progress.log')}
        </Group>
      </Anchor>
    </Stack>
  );
}
