/**
 * The shop's settlement (managers and auditors): the network's periods, newest first and
 * paged by the node (which asks the hub), newer and older pages; a closed period's
 * statement for this shop — the figures, the payment instructions that concern it and its
 * lines with their receipts, a page at a time from the node — and the same statement as
 * CSV or PDF with every line, rendered by the node.
 */
import { Alert, Badge, Button, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/node';
import { formatInteger, formatJalaliDateTime } from '../../shared/format';
import { problemMessage } from '../../shared/i18n/problems';
import { downloadFile } from '../../shared/settlement/download';
import {
  LINES_PER_PAGE,
  PeriodSpan,
  StatementView,
} from '../../shared/settlement/StatementView';
import { Bdi } from '../../shared/ui/Bdi';
import { ScrollTable } from '../../shared/settlement/ScrollTable';
import { NewerOlder, Section } from '../../shared/settlement/Section';

const Periods = graphql(`
  query ShopSettlementPeriods($first: Int!, $offset: Int!) {
    settlementPeriods(first: $first, offset: $offset) {
      id
      label
      startsAt
      endsAt
      status
      closedAt
      csvPath
      pdfPath
    }
  }
`);

const Statement = graphql(`
  query ShopSettlementStatement($periodId: Int!, $first: Int!, $offset: Int!) {
    settlementStatement(periodId: $periodId) {
      __typename
      ... on SettlementStatement {
        periodId
        startsAt
        endsAt
        closedAt
        shop
        shopNameFa
        shopNameEn
        funding
        grossReceivableRial
        feesRial
        grossPayableRial
        coveredByPrepaymentRial
        correctionsRial
        positionRial
        digest
        lineCount
        lines(first: $first, offset: $offset) {
          kind
          ref
          at
          receipt
          issuer
          redeemer
          grossRial
          feeRial
          netRial
          memo
        }
        payments {
          payer
          payee
          amountRial
          kind
        }
      }
      ... on HubAnswer {
        code
      }
    }
  }
`);

const PAGE = 12;
/** Codes the node itself answers when the hub cannot be asked. */
const NODE_CODES = ['HUB_UNAVAILABLE', 'NOT_CONNECTED', 'csrf_header_required'] as const;

function useProblemText() {
  const { t } = useTranslation();
  return (code: string) =>
    (NODE_CODES as readonly string[]).includes(code)
      ? t(`shopSettlement.problem.${code as (typeof NODE_CODES)[number]}`)
      : problemMessage(t, code);
}

type Period = { id: number; csvPath?: string | null; pdfPath?: string | null };

function Downloads({ period }: { period: Period }) {
  const { t } = useTranslation();
  const sentence = useProblemText();
  const [busy, setBusy] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const save = async (path: string, kind: string) => {
    setBusy(kind);
    setProblem(null);
    setProblem(await downloadFile(path, `statement-${period.id}.${kind}`));
    setBusy(null);
  };
  return (
    <Stack gap="xs">
      <Group gap="sm">
        {period.csvPath ? (
          <Button
            variant="outline"
            loading={busy === 'csv'}
            onClick={() => void save(period.csvPath ?? '', 'csv')}
          >
            {t('shopSettlement.downloadCsv')}
          </Button>
        ) : null}
        {period.pdfPath ? (
          <Button
            variant="outline"
            loading={busy === 'pdf'}
            onClick={() => void save(period.pdfPath ?? '', 'pdf')}
          >
            {t('shopSettlement.downloadPdf')}
          </Button>
        ) : null}
      </Group>
      {problem ? (
        <Alert color="red" variant="light" role="alert">
          {sentence(problem)}
        </Alert>
      ) : null}
    </Stack>
  );
}

function ShopStatement({ period }: { period: Period }) {
  const { t } = useTranslation();
  const sentence = useProblemText();
  const [offset, setOffset] = useState(0);
  const [{ data, fetching, error }] = useQuery({
    query: Statement,
    variables: { periodId: period.id, first: LINES_PER_PAGE, offset },
  });
  const result = data?.settlementStatement;
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="statement-title">
      <Stack gap="md">
        <Group justify="space-between" wrap="wrap">
          <Title order={3} size="h4" id="statement-title">
            {t('shopSettlement.statementTitle')}
          </Title>
          <Downloads period={period} />
        </Group>
        {fetching && !result ? <Text c="dimmed">{t('shopSettlement.loading')}</Text> : null}
        {error ? (
          <Alert color="red" variant="light" role="alert">
            {problemMessage(t, 'UNKNOWN')}
          </Alert>
        ) : null}
        {result?.__typename === 'HubAnswer' ? (
          <Alert color="red" variant="light" role="alert">
            {sentence(result.code)}
          </Alert>
        ) : null}
        {result?.__typename === 'SettlementStatement' ? (
          <StatementView statement={result} offset={offset} onOffset={setOffset} />
        ) : null}
      </Stack>
    </Paper>
  );
}

export function SettlementPage() {
  const { t, i18n } = useTranslation();
  const [offset, setOffset] = useState(0);
  const [chosen, setChosen] = useState<Period | null>(null);
  // One more than shown: whether older periods exist.
  const [{ data, fetching }] = useQuery({
    query: Periods,
    variables: { first: PAGE + 1, offset },
  });
  const answered = data?.settlementPeriods ?? [];
  const periods = answered.slice(0, PAGE);

  return (
    <Stack gap="lg">
      <Title order={2}>
        {t('shopSettlement.title')}
      </Title>
      <Text c="dimmed">{t('shopSettlement.intro')}</Text>
      <Section id="periods-title" title={t('shopSettlement.periods')}>
        {periods.length === 0 ? (
          <Text c="dimmed">
            {fetching ? t('shopSettlement.loading') : t('shopSettlement.noPeriods')}
          </Text>
        ) : (
          <ScrollTable minWidth={560} label={t('shopSettlement.periods')}>
            <Table striped highlightOnHover data-testid="periods">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('shopSettlement.period')}</Table.Th>
                  <Table.Th>{t('shopSettlement.status')}</Table.Th>
                  <Table.Th>{t('shopSettlement.closedAt')}</Table.Th>
                  <Table.Th>{t('shopSettlement.actions')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {periods.map((period) => (
                  <Table.Tr key={period.id} data-period={period.id}>
                    <Table.Td>
                      <PeriodSpan startsAt={period.startsAt} endsAt={period.endsAt} />
                    </Table.Td>
                    <Table.Td>
                      <Badge color={period.status === 'closed' ? 'teal.9' : 'gray.7'}>
                        {period.status === 'closed'
                          ? t('shopSettlement.closed')
                          : t('shopSettlement.open')}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      {period.closedAt ? (
                        <Bdi>{formatJalaliDateTime(period.closedAt, i18n.language)}</Bdi>
                      ) : null}
                    </Table.Td>
                    <Table.Td>
                      {period.status === 'closed' ? (
                        <Button
                          size="compact-sm"
                          variant={chosen?.id === period.id ? 'filled' : 'outline'}
                          onClick={() => {
                            setChosen(period);
                          }}
                          aria-label={t('shopSettlement.viewOf', { id: formatInteger(period.id, i18n.language) })}
                        >
                          {t('shopSettlement.view')}
                        </Button>
                      ) : null}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
        )}
        <NewerOlder
          offset={offset}
          pageSize={PAGE}
          answered={answered.length}
          fetching={fetching}
          labels={{
            newer: t('shopSettlement.newer'),
            older: t('shopSettlement.older'),
            group: t('shopSettlement.periodPages'),
          }}
          onOffset={setOffset}
        />
      </Section>
      {chosen ? <ShopStatement key={chosen.id} period={chosen} /> : null}
    </Stack>
  );
}
