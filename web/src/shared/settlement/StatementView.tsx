/**
 * A shop's settlement statement for a closed period, as both staff faces show it: the mall
 * console (any shop's, from the hub) and the shop's dashboard (its own, through its node).
 * Both schemas give the same fields; amounts are integer Rial shown in toman, moments in
 * the Jalali calendar. The lines are paged by the server: the page holding the statement
 * asks for `LINES_PER_PAGE` lines from `offset` and gets `lineCount`, the lines in all,
 * with the totals over every line. Its strings are `shopSettlement.statement.*`.
 */
import {
  Badge,
  Group,
  Pagination,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { useTranslation } from 'react-i18next';

import { formatInteger, formatJalaliDateTime, formatToman } from '../format';
import { Bdi, Code, Toman } from '../ui/Bdi';
import { ScrollTable } from './ScrollTable';

export interface StatementLineData {
  kind: string;
  ref: string;
  at: string;
  receipt: string;
  issuer: string;
  redeemer: string;
  grossRial: number;
  feeRial: number;
  netRial: number;
  memo: string;
}

export interface StatementData {
  periodId: number;
  startsAt: string;
  endsAt: string;
  closedAt: string;
  shop: string;
  shopNameFa: string;
  shopNameEn: string;
  funding: string;
  grossReceivableRial: number;
  feesRial: number;
  grossPayableRial: number;
  coveredByPrepaymentRial: number;
  correctionsRial: number;
  positionRial: number;
  digest: string;
  /** How many lines the statement has in all: `lines` is one page of them. */
  lineCount: number;
  lines: readonly StatementLineData[];
  payments: readonly { payer: string; payee: string; amountRial: number; kind: string }[];
}

/** Lines a page of the statement shows (what the page asks the server for). */
export const LINES_PER_PAGE = 15;
const LINE_KINDS = ['redeemed_here', 'spent_elsewhere', 'campaign_share', 'breakage'] as const;
const PAYMENT_KINDS = ['settlement', 'sponsorship', 'prepaid_topup'] as const;

function known<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

function Figure({ label, rial, testId }: { label: string; rial: number; testId?: string }) {
  return (
    <Paper withBorder p="sm" radius="md" data-testid={testId}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={600}>
        <Toman rial={rial} />
      </Text>
    </Paper>
  );
}

/** A period's start and end in the page's language: «۱۴۰۵/۹/۱۳، ۰۰:۰۰ – ۱۴۰۵/۹/۱۴، ۰۰:۰۰». */
export function PeriodSpan({ startsAt, endsAt }: { startsAt: string; endsAt: string }) {
  const { i18n } = useTranslation();
  return (
    <Bdi dir="auto">
      {formatJalaliDateTime(startsAt, i18n.language)} – {formatJalaliDateTime(endsAt, i18n.language)}
    </Bdi>
  );
}

/** Which lines are shown and the pages of them: «Lines 16–30 of 42» and the page numbers. */
function LinePager({
  total,
  offset,
  onOffset,
}: {
  total: number;
  offset: number;
  onOffset: (offset: number) => void;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const pages = Math.max(1, Math.ceil(total / LINES_PER_PAGE));
  return (
    <Group justify="space-between" wrap="wrap" gap="xs">
      <Text size="sm" c="dimmed" data-testid="statement-lines-shown">
        {t('shopSettlement.statement.linesShown', {
          first: formatInteger(Math.min(total, offset + 1), lang),
          last: formatInteger(Math.min(total, offset + LINES_PER_PAGE), lang),
          total: formatInteger(total, lang),
        })}
      </Text>
      {pages > 1 ? (
        <Pagination
          total={pages}
          value={Math.floor(offset / LINES_PER_PAGE) + 1}
          onChange={(page) => {
            onOffset((page - 1) * LINES_PER_PAGE);
          }}
          size="sm"
          aria-label={t('shopSettlement.statement.linePages')}
          getControlProps={(control) => ({
            'aria-label': t(`shopSettlement.statement.page.${control}`),
          })}
          getItemProps={(page) => ({
            'aria-label': t('shopSettlement.statement.page.number', {
              page: formatInteger(page, lang),
            }),
            children: formatInteger(page, lang),
          })}
        />
      ) : null}
    </Group>
  );
}

/**
 * The statement with one page of its lines; `onOffset` asks the server for another page
 * (`offset` is the first line shown, counted from 0).
 */
export function StatementView({
  statement,
  offset,
  onOffset,
}: {
  statement: StatementData;
  offset: number;
  onOffset: (offset: number) => void;
}) {
  const { t, i18n } = useTranslation();
  const name = i18n.language === 'fa' ? statement.shopNameFa : statement.shopNameEn;
  const position = statement.positionRial;
  const kind = (value: string) =>
    known(LINE_KINDS, value) ? t(`shopSettlement.statement.kind.${value}`) : value;
  const paymentKind = (value: string) =>
    known(PAYMENT_KINDS, value) ? t(`shopSettlement.statement.paymentKind.${value}`) : value;

  return (
    <Stack gap="md" data-testid="statement" data-shop={statement.shop}>
      <Group justify="space-between" wrap="wrap">
        <Title order={4} size="h4">
          {t('shopSettlement.statement.heading', { shop: name })}
        </Title>
        <Badge color="teal.9">
          {statement.funding === 'prepaid'
            ? t('shopSettlement.statement.prepaid')
            : t('shopSettlement.statement.postpaid')}
        </Badge>
      </Group>
      <Text size="sm">
        {t('shopSettlement.statement.period')} <PeriodSpan {...statement} />
      </Text>
      <SimpleGrid cols={{ base: 2, md: 3 }} spacing="sm">
        <Figure label={t('shopSettlement.statement.receivable')} rial={statement.grossReceivableRial} />
        <Figure label={t('shopSettlement.statement.fees')} rial={statement.feesRial} />
        <Figure label={t('shopSettlement.statement.payable')} rial={statement.grossPayableRial} />
        <Figure label={t('shopSettlement.statement.covered')} rial={statement.coveredByPrepaymentRial} />
        <Figure label={t('shopSettlement.statement.corrections')} rial={statement.correctionsRial} />
        <Figure label={t('shopSettlement.statement.position')} rial={position} testId="statement-position" />
      </SimpleGrid>
      <Text size="sm" fw={600} c={position < 0 ? 'red.9' : 'teal.9'}>
        {position > 0
          ? t('shopSettlement.statement.owedToShop', {
              amount: formatToman(position, i18n.language),
            })
          : position < 0
            ? t('shopSettlement.statement.owedByShop', {
                amount: formatToman(-position, i18n.language),
              })
            : t('shopSettlement.statement.even')}
      </Text>

      <Title order={5} size="h5">
        {t('shopSettlement.statement.payments')}
      </Title>
      {statement.payments.length === 0 ? (
        <Text size="sm" c="dimmed">
          {t('shopSettlement.statement.noPayments')}
        </Text>
      ) : (
        <ScrollTable minWidth={480} label={t('shopSettlement.statement.payments')}>
          <Table striped data-testid="statement-payments">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('shopSettlement.statement.payer')}</Table.Th>
                <Table.Th>{t('shopSettlement.statement.payee')}</Table.Th>
                <Table.Th>{t('shopSettlement.statement.amount')}</Table.Th>
                <Table.Th>{t('shopSettlement.statement.paymentKindLabel')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {statement.payments.map((p) => (
                <Table.Tr key={`${p.payer}>${p.payee}:${p.kind}`}>
                  <Table.Td>
                    <Bdi>{p.payer}</Bdi>
                  </Table.Td>
                  <Table.Td>
                    <Bdi>{p.payee}</Bdi>
                  </Table.Td>
                  <Table.Td>
                    <Toman rial={p.amountRial} />
                  </Table.Td>
                  <Table.Td>{paymentKind(p.kind)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}

      <Title order={5} size="h5">
        {t('shopSettlement.statement.lines', { n: formatInteger(statement.lineCount, i18n.language) })}
      </Title>
      {statement.lineCount === 0 ? (
        <Text size="sm" c="dimmed">
          {t('shopSettlement.statement.noLines')}
        </Text>
      ) : (
        <>
          <ScrollTable minWidth={720} label={t('shopSettlement.statement.linesRegion')}>
            <Table striped data-testid="statement-lines">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('shopSettlement.statement.when')}</Table.Th>
                  <Table.Th>{t('shopSettlement.statement.kindLabel')}</Table.Th>
                  <Table.Th>{t('shopSettlement.statement.receipt')}</Table.Th>
                  <Table.Th>{t('shopSettlement.statement.issuer')}</Table.Th>
                  <Table.Th>{t('shopSettlement.statement.redeemer')}</Table.Th>
                  <Table.Th>{t('shopSettlement.statement.gross')}</Table.Th>
                  <Table.Th>{t('shopSettlement.statement.fee')}</Table.Th>
                  <Table.Th>{t('shopSettlement.statement.net')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {statement.lines.map((line) => (
                  <Table.Tr key={`${line.ref}:${line.receipt}:${line.kind}`}>
                    <Table.Td>
                      <Bdi>{formatJalaliDateTime(line.at, i18n.language)}</Bdi>
                    </Table.Td>
                    <Table.Td>
                      {kind(line.kind)}
                      {line.memo ? (
                        <Text size="xs" c="dimmed">
                          {line.memo}
                        </Text>
                      ) : null}
                    </Table.Td>
                    <Table.Td>
                      <Bdi>{line.receipt}</Bdi>
                    </Table.Td>
                    <Table.Td>
                      <Bdi>{line.issuer}</Bdi>
                    </Table.Td>
                    <Table.Td>
                      <Bdi>{line.redeemer}</Bdi>
                    </Table.Td>
                    <Table.Td>
                      <Toman rial={line.grossRial} />
                    </Table.Td>
                    <Table.Td>
                      <Toman rial={line.feeRial} />
                    </Table.Td>
                    <Table.Td>
                      <Toman rial={line.netRial} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
          <LinePager total={statement.lineCount} offset={offset} onOffset={onOffset} />
        </>
      )}
      <Text size="xs" c="dimmed">
        {t('shopSettlement.statement.digest')} <Code value={statement.digest} />
      </Text>
    </Stack>
  );
}
