/**
 * A closed period: every participant's position, the payment instructions, any shop's
 * statement (its lines paged by the hub), the audit (the period recomputed from its
 * captures and journal) and corrections, which the next close books.
 */
import {
  Alert,
  Badge,
  Button,
  Group,
  Select,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { formatInteger, formatJalaliDateTime } from '../../shared/format';
import {
  LINES_PER_PAGE,
  PeriodSpan,
  StatementView,
} from '../../shared/settlement/StatementView';
import { Bdi, Toman } from '../../shared/ui/Bdi';
import { ProblemAlert, problemCode, useShops } from './common';
import { CorrectionForm } from './CorrectionForm';
import { ScrollTable } from '../../shared/settlement/ScrollTable';
import { Section } from '../../shared/settlement/Section';

const Period = graphql(`
  query MallSettlementPeriod($id: Int!) {
    settlementPeriod(id: $id) {
      id
      startsAt
      endsAt
      status
      closedAt
      closedBy
      captures
      digest
      positions {
        party
        receivableRial
        feesRial
        payableRial
        campaignRial
        breakageRial
        coveredRial
        positionRial
      }
      instructions {
        party
        direction
        amountRial
        kind
      }
    }
  }
`);

const Statement = graphql(`
  query MallSettlementStatement($periodId: Int!, $shop: String!, $first: Int!, $offset: Int!) {
    settlementStatement(periodId: $periodId, shop: $shop) {
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
      ... on HubProblem {
        code
      }
    }
  }
`);

const Audit = graphql(`
  query MallSettlementAudit($periodId: Int!) {
    settlementAudit(periodId: $periodId) {
      periodId
      differences
    }
  }
`);

function ShopStatement({ periodId, shop }: { periodId: number; shop: string }) {
  const { t } = useTranslation();
  const [offset, setOffset] = useState(0);
  const [{ data, fetching }] = useQuery({
    query: Statement,
    variables: { periodId, shop, first: LINES_PER_PAGE, offset },
  });
  const result = data?.settlementStatement;
  if (fetching && !result) return <Text c="dimmed">{t('mallSettlement.loading')}</Text>;
  if (!result) return null;
  if (result.__typename === 'SettlementStatement') {
    return <StatementView statement={result} offset={offset} onOffset={setOffset} />;
  }
  return <ProblemAlert code={problemCode(result)} />;
}

function AuditResult({ periodId }: { periodId: number }) {
  const { t, i18n } = useTranslation();
  const [asked, setAsked] = useState(false);
  const [{ data, fetching, error }, run] = useQuery({
    query: Audit,
    variables: { periodId },
    pause: !asked,
    requestPolicy: 'network-only',
  });
  const differences = data?.settlementAudit.differences;
  return (
    <Stack gap="sm">
      <Group>
        <Button
          variant="outline"
          loading={fetching}
          onClick={() => {
            if (asked) run({ requestPolicy: 'network-only' });
            setAsked(true);
          }}
        >
          {t('mallSettlement.audit.run')}
        </Button>
      </Group>
      {error ? <ProblemAlert code="UNKNOWN" /> : null}
      {differences === undefined ? null : differences.length === 0 ? (
        <Alert color="teal" variant="light" role="status" data-testid="audit-result">
          {t('mallSettlement.audit.agrees')}
        </Alert>
      ) : (
        <Alert color="red" variant="light" role="alert" data-testid="audit-result">
          <Text size="sm" fw={600}>
            {t('mallSettlement.audit.differs', {
              n: formatInteger(differences.length, i18n.language),
            })}
          </Text>
          <Stack gap={2} component="ul">
            {differences.map((line) => (
              <Text size="xs" component="li" key={line}>
                <Bdi>{line}</Bdi>
              </Text>
            ))}
          </Stack>
        </Alert>
      )}
    </Stack>
  );
}

export function PeriodDetail() {
  const { t, i18n } = useTranslation();
  const id = Number(useParams().id);
  const { nameOf } = useShops();
  const [shop, setShop] = useState<string | null>(null);
  const [{ data, fetching }] = useQuery({
    query: Period,
    variables: { id },
    pause: !Number.isSafeInteger(id),
  });
  const period = data?.settlementPeriod;
  const back = (
    <Button component={Link} to=".." relative="path" variant="subtle" size="compact-sm">
      {t('mallSettlement.back')}
    </Button>
  );
  if (!period) {
    return (
      <Stack gap="sm">
        {back}
        <Text c="dimmed">{fetching ? t('mallSettlement.loading') : t('mallSettlement.noSuchPeriod')}</Text>
      </Stack>
    );
  }
  const shops = period.positions.map((p) => p.party).filter((p) => p !== 'mall' && p !== 'fund');
  const parties = period.positions.map((p) => p.party);

  return (
    <Stack gap="md">
      <Group justify="space-between" wrap="wrap">
        <Title order={3} size="h3">
          {t('mallSettlement.periodTitle', { id: formatInteger(period.id, i18n.language) })}
        </Title>
        {back}
      </Group>
      <Text size="sm">
        <PeriodSpan startsAt={period.startsAt} endsAt={period.endsAt} />{' '}
        <Badge color={period.status === 'closed' ? 'teal.9' : 'gray.7'}>
          {period.status === 'closed' ? t('mallSettlement.closed') : t('mallSettlement.open')}
        </Badge>
      </Text>
      {period.closedAt ? (
        <Text size="sm" c="dimmed">
          {t('mallSettlement.closedBy', {
            when: formatJalaliDateTime(period.closedAt, i18n.language),
            who: period.closedBy ?? '',
          })}
        </Text>
      ) : null}

      <Section id="positions-title" title={t('mallSettlement.positions.title')} order={4}>
        {period.positions.length === 0 ? (
          <Text c="dimmed">{t('mallSettlement.positions.none')}</Text>
        ) : (
          <ScrollTable minWidth={860} label={t('mallSettlement.positions.title')}>
            <Table striped data-testid="positions">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('mallSettlement.positions.party')}</Table.Th>
                  <Table.Th>{t('mallSettlement.positions.receivable')}</Table.Th>
                  <Table.Th>{t('mallSettlement.positions.fees')}</Table.Th>
                  <Table.Th>{t('mallSettlement.positions.payable')}</Table.Th>
                  <Table.Th>{t('mallSettlement.positions.campaign')}</Table.Th>
                  <Table.Th>{t('mallSettlement.positions.breakage')}</Table.Th>
                  <Table.Th>{t('mallSettlement.positions.covered')}</Table.Th>
                  <Table.Th>{t('mallSettlement.positions.position')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {period.positions.map((p) => (
                  <Table.Tr key={p.party}>
                    <Table.Td>{nameOf(p.party)}</Table.Td>
                    <Table.Td>
                      <Toman rial={p.receivableRial} />
                    </Table.Td>
                    <Table.Td>
                      <Toman rial={p.feesRial} />
                    </Table.Td>
                    <Table.Td>
                      <Toman rial={p.payableRial} />
                    </Table.Td>
                    <Table.Td>
                      <Toman rial={p.campaignRial} />
                    </Table.Td>
                    <Table.Td>
                      <Toman rial={p.breakageRial} />
                    </Table.Td>
                    <Table.Td>
                      <Toman rial={p.coveredRial} />
                    </Table.Td>
                    <Table.Td fw={600}>
                      <Toman rial={p.positionRial} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
        )}
      </Section>

      <Section id="instructions-title" title={t('mallSettlement.instructions.title')} order={4}>
        {period.instructions.length === 0 ? (
          <Text c="dimmed">{t('mallSettlement.instructions.none')}</Text>
        ) : (
          <Table striped data-testid="instructions">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('mallSettlement.instructions.party')}</Table.Th>
                <Table.Th>{t('mallSettlement.instructions.direction')}</Table.Th>
                <Table.Th>{t('mallSettlement.instructions.amount')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {period.instructions.map((i) => (
                <Table.Tr key={`${i.party}:${i.direction}:${i.kind}`}>
                  <Table.Td>{nameOf(i.party)}</Table.Td>
                  <Table.Td>
                    {i.direction === 'to_fund'
                      ? t('mallSettlement.instructions.toFund')
                      : t('mallSettlement.instructions.fromFund')}
                  </Table.Td>
                  <Table.Td>
                    <Toman rial={i.amountRial} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Section>

      <Section id="statements-title" title={t('mallSettlement.statements.title')} order={4}>
        <Select
          label={t('mallSettlement.statements.shop')}
          placeholder={t('mallSettlement.statements.choose')}
          data={shops.map((slug) => ({ value: slug, label: nameOf(slug) }))}
          value={shop}
          onChange={setShop}
          maw={360}
          data-testid="statement-shop"
        />
        {shop ? <ShopStatement key={shop} periodId={period.id} shop={shop} /> : null}
      </Section>

      <Section id="audit-title" title={t('mallSettlement.audit.title')} order={4}>
        <Text size="sm">{t('mallSettlement.audit.explain')}</Text>
        <AuditResult periodId={period.id} />
      </Section>

      <Section id="correction-title" title={t('mallSettlement.correction.title')} order={4}>
        <Text size="sm">{t('mallSettlement.correction.explain')}</Text>
        <CorrectionForm parties={parties.filter((p) => p !== 'fund')} nameOf={nameOf} />
      </Section>
    </Stack>
  );
}
