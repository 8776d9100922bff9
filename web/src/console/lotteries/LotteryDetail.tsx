/**
 * One lottery, from its commitment to its published winners: the seed's commitment
 * (public from the start), the public value entered once before the draw, the draw on the
 * hub's worker with its stage and progress (read from the hub, so leaving the page and
 * coming back shows where it is), the winners, and "verify": the browser re-runs the draw
 * in a Web Worker from the published record and frozen list alone, or asks the hub to.
 */
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  Group,
  List,
  Progress,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useCallback, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { ScrollTable } from '../../shared/settlement/ScrollTable';
import { formatInteger, formatJalaliDateTime } from '../../shared/format';
import { asProblem, type Problem, ProblemAlert, usePolling, useShopNames } from '../campaigns/common';
import { useVerification, type Verification } from './useVerification';

const LotteryQuery = graphql(`
  query ConsoleLottery($id: String!) {
    lottery(lotteryId: $id) {
      id
      nameFa
      nameEn
      startsAt
      endsAt
      drawAt
      prizes
      commitment
      publicValue
      status
      stage
      progressPct
      listDigest
      entrants
      totalTickets
      seedHex
      algorithm
      record
      winners {
        place
        entrantId
        tickets
        prizeFa
        prizeEn
        sponsor
        claimedByShop
      }
    }
  }
`);

const SetPublicValue = graphql(`
  mutation ConsoleSetPublicValue($id: String!, $value: String!) {
    setLotteryPublicValue(lotteryId: $id, value: $value) {
      __typename
      ... on LotteryView {
        id
        publicValue
      }
      ... on HubProblem {
        code
        message
        field
      }
    }
  }
`);

const DrawLottery = graphql(`
  mutation ConsoleDrawLottery($id: String!) {
    drawLottery(lotteryId: $id) {
      __typename
      ... on LotteryView {
        id
        status
        stage
        progressPct
      }
      ... on HubProblem {
        code
        message
      }
    }
  }
`);

const POLL_MS = 1500;
const RUNNING_STAGES = new Set(['queued', 'freezing', 'frozen', 'drawn']);

function PublicValueForm({ id, onSet }: { id: string; onSet: () => void }) {
  const { t } = useTranslation();
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [{ fetching }, save] = useMutation(SetPublicValue);
  const submit = async () => {
    const { data } = await save({ id, value });
    const result = data?.setLotteryPublicValue;
    if (result?.__typename === 'LotteryView') {
      setProblem(null);
      onSet();
      return;
    }
    setProblem(result ? asProblem(result) : { code: 'UNKNOWN' });
  };
  return (
    <Stack
      gap="xs"
      component="form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <TextInput
        id="public-value"
        label={t('mallLotteries.publicValue.label')}
        description={t('mallLotteries.publicValue.hint')}
        value={value}
        onChange={(e) => {
          setValue(e.currentTarget.value);
        }}
      />
      <ProblemAlert problem={problem} />
      <Group>
        <Button type="submit" loading={fetching} variant="default">
          {t('mallLotteries.publicValue.save')}
        </Button>
      </Group>
    </Stack>
  );
}

function VerifyPanel({ id, record }: { id: string; record: unknown }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { state, inBrowser, onServer } = useVerification(id, record);
  const message = (v: Verification) => {
    switch (v.kind) {
      case 'reading':
        return t('mallLotteries.verify.reading', {
          read: formatInteger(v.read, lang),
          total: formatInteger(v.total, lang),
        });
      case 'running':
        return t('mallLotteries.verify.running');
      case 'match':
        return v.where === 'browser'
          ? t('mallLotteries.verify.matchBrowser', { entrants: formatInteger(v.entrants, lang) })
          : t('mallLotteries.verify.matchServer', { entrants: formatInteger(v.entrants, lang) });
      case 'mismatch':
        return v.where === 'browser' ? t('mallLotteries.verify.mismatchBrowser') : t('mallLotteries.verify.mismatchServer');
      case 'failed':
        return t('mallLotteries.verify.failed');
      default:
        return null;
    }
  };
  const busy = state.kind === 'reading' || state.kind === 'running';
  const text = message(state);
  return (
    <Card withBorder padding="md">
      <Title order={3} size="h4" mb="xs">
        {t('mallLotteries.verify.title')}
      </Title>
      <Text size="sm" mb="sm">
        {t('mallLotteries.verify.explain')}
      </Text>
      <Group>
        <Button onClick={inBrowser} loading={busy} data-testid="verify-browser">
          {t('mallLotteries.verify.inBrowser')}
        </Button>
        <Button variant="default" onClick={onServer} disabled={busy} data-testid="verify-server">
          {t('mallLotteries.verify.onServer')}
        </Button>
      </Group>
      <div aria-live="polite">
        {text ? (
          <Alert
            mt="sm"
            color={state.kind === 'match' ? 'teal' : state.kind === 'mismatch' || state.kind === 'failed' ? 'red' : 'blue'}
            variant="light"
            data-testid="verify-result"
            data-result={state.kind}
          >
            <Text size="sm">{text}</Text>
            {state.kind === 'mismatch' ? (
              <List size="xs" mt="xs">
                {state.differences.map((d) => (
                  <List.Item key={d}>
                    <Code>{d}</Code>
                  </List.Item>
                ))}
              </List>
            ) : null}
          </Alert>
        ) : null}
      </div>
    </Card>
  );
}

export function LotteryDetail() {
  const { lotteryId = '' } = useParams();
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { name } = useShopNames();
  const [{ data, fetching }, reexecute] = useQuery({ query: LotteryQuery, variables: { id: lotteryId } });
  const [drawing, draw] = useMutation(DrawLottery);
  const [problem, setProblem] = useState<Problem | null>(null);
  const refresh = useCallback(() => {
    reexecute({ requestPolicy: 'network-only' });
  }, [reexecute]);
  const lottery = data?.lottery;
  const running = !!lottery && RUNNING_STAGES.has(lottery.stage);
  usePolling(running, refresh, POLL_MS);
  if (!lottery) return fetching ? null : <Text>{t('mallLotteries.notFound')}</Text>;

  const startDraw = async () => {
    const { data: answer } = await draw({ id: lottery.id });
    const result = answer?.drawLottery;
    setProblem(result && result.__typename !== 'LotteryView' ? asProblem(result) : null);
    refresh();
  };
  const drawn = lottery.status === 'drawn';
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={2}>{lang === 'fa' ? lottery.nameFa : lottery.nameEn || lottery.nameFa}</Title>
        <Anchor component={Link} to="..">
          {t('mallLotteries.back')}
        </Anchor>
      </Group>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder padding="md">
          <Title order={3} size="h4" mb="xs">
            {t('mallLotteries.detail.about')}
          </Title>
          <Text size="sm">
            {t('mallLotteries.detail.when', {
              starts: formatJalaliDateTime(lottery.startsAt, lang),
              ends: formatJalaliDateTime(lottery.endsAt, lang),
            })}
          </Text>
          <Text size="sm">{t('mallLotteries.detail.drawAt', { at: formatJalaliDateTime(lottery.drawAt, lang) })}</Text>
          <Text size="sm" mt="xs" fw={600}>
            {t('mallLotteries.detail.commitment')}
          </Text>
          <Code block dir="ltr" data-testid="commitment" style={{ overflowWrap: 'anywhere', whiteSpace: 'normal' }}>
            {lottery.commitment}
          </Code>
          <Text size="xs" c="dimmed">
            {t('mallLotteries.detail.commitmentHint')}
          </Text>
        </Card>
        <Card withBorder padding="md" data-testid="draw-card">
          <Title order={3} size="h4" mb="xs">
            {t('mallLotteries.draw.title')}
          </Title>
          {lottery.publicValue === null ? (
            lottery.status === 'open' ? (
              <PublicValueForm id={lottery.id} onSet={refresh} />
            ) : null
          ) : (
            <Text size="sm">
              {t('mallLotteries.publicValue.entered')} <Code dir="auto">{lottery.publicValue}</Code>
            </Text>
          )}
          <Group mt="sm" gap="xs">
            <Badge variant="filled" color={drawn ? 'teal.9' : running ? 'blue.8' : 'gray.8'} data-testid="draw-stage">
              {t(`mallLotteries.stage.${lottery.stage}`, lottery.stage)}
            </Badge>
            <Text size="sm" aria-live="polite">
              {t('mallLotteries.draw.progress', { pct: formatInteger(lottery.progressPct, lang) })}
            </Text>
          </Group>
          <Progress
            value={lottery.progressPct}
            animated={running}
            striped={running}
            my="xs"
            aria-label={t('mallLotteries.draw.progressLabel')}
            data-testid="draw-progress"
          />
          {lottery.status === 'open' && !running ? (
            <Button
              onClick={() => void startDraw()}
              loading={drawing.fetching}
              disabled={lottery.publicValue === null}
              data-testid="draw"
            >
              {t('mallLotteries.draw.start')}
            </Button>
          ) : null}
          {running ? (
            <Group gap="xs" mt="xs">
              <Text size="xs" c="dimmed">
                {t('mallLotteries.draw.leave')}
              </Text>
              <Button size="xs" variant="default" onClick={() => void startDraw()} loading={drawing.fetching}>
                {t('mallLotteries.draw.again')}
              </Button>
            </Group>
          ) : null}
          <ProblemAlert problem={problem} />
        </Card>
      </SimpleGrid>
      {drawn ? (
        <>
          <Card withBorder padding="md">
            <Title order={3} size="h4" mb="xs">
              {t('mallLotteries.published.title')}
            </Title>
            <Text size="sm">
              {t('mallLotteries.published.counts', {
                entrants: formatInteger(lottery.entrants ?? 0, lang),
                tickets: formatInteger(lottery.totalTickets ?? 0, lang),
              })}
            </Text>
            <Text size="xs" fw={600} mt="xs">
              {t('mallLotteries.published.seed')}
            </Text>
            <Code block dir="ltr" style={{ overflowWrap: 'anywhere', whiteSpace: 'normal' }}>
              {lottery.seedHex}
            </Code>
            <Text size="xs" fw={600} mt="xs">
              {t('mallLotteries.published.digest')}
            </Text>
            <Code block dir="ltr" style={{ overflowWrap: 'anywhere', whiteSpace: 'normal' }}>
              {lottery.listDigest}
            </Code>
            <ScrollTable minWidth={600} label={t('mallLotteries.published.winners')}>
              <Table data-testid="winners">
                <Table.Caption>{t('mallLotteries.published.winners')}</Table.Caption>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">{t('mallLotteries.published.place')}</Table.Th>
                    <Table.Th scope="col">{t('mallLotteries.published.entrant')}</Table.Th>
                    <Table.Th scope="col">{t('mallLotteries.published.tickets')}</Table.Th>
                    <Table.Th scope="col">{t('mallLotteries.published.prize')}</Table.Th>
                    <Table.Th scope="col">{t('mallLotteries.published.handedOver')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {lottery.winners.map((w) => (
                    <Table.Tr key={w.place}>
                      <Table.Td>{formatInteger(w.place, lang)}</Table.Td>
                      <Table.Td>
                        <Code dir="ltr" title={w.entrantId}>
                          {w.entrantId.slice(0, 12)}…
                        </Code>
                      </Table.Td>
                      <Table.Td>{formatInteger(w.tickets, lang)}</Table.Td>
                      <Table.Td>
                        {lang === 'fa' ? w.prizeFa : w.prizeEn || w.prizeFa}
                        {w.sponsor ? (
                          <Text size="xs" c="dimmed">
                            {t('mallLotteries.published.sponsor', { shop: name(w.sponsor) })}
                          </Text>
                        ) : null}
                      </Table.Td>
                      <Table.Td>{w.claimedByShop ? name(w.claimedByShop) : t('mallLotteries.published.notYet')}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollTable>
            {lottery.winners.length === 0 ? <Text c="dimmed">{t('mallLotteries.published.none')}</Text> : null}
          </Card>
          <VerifyPanel id={lottery.id} record={lottery.record} />
        </>
      ) : null}
    </Stack>
  );
}
