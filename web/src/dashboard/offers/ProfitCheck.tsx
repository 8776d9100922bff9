/**
 * What the offer in the form costs and leaves, as the node works it out while the form
 * changes: per product group the margin, the club's own credit (its highest tier), the
 * offer and what is left (below the margin in red, and said in words); a basket with and
 * without the offer; and the backtest over the node's own purchases of the last days.
 */
import {
  Alert,
  Button,
  Card,
  Group,
  Loader,
  NativeSelect,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import { formatInteger, formatToman } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { ProblemAlert } from '../../shared/ui/ProblemAlert';
import type { BasketForm, CheckResult, CheckState } from './check';
import type { Club } from './club';
import type { FieldErrors } from './form';
import { formatBp } from './numbers';
import { errorText } from './paths';

interface Props {
  check: CheckState;
  basket: BasketForm;
  basketErrors: FieldErrors;
  club: Club;
  /** How many of the form's fields have a problem (0: none). */
  problems: number;
  onBasket: (basket: BasketForm) => void;
  onReveal: () => void;
}

/** Below the margin: red and bold (red.9 keeps AA contrast), and said in words beside it. */
const BELOW = { c: 'red.9', fw: 700 } as const;

function Money({ rial, below = false }: { rial: number; below?: boolean }) {
  const { t, i18n } = useTranslation();
  return (
    <Text span inherit {...(below ? BELOW : {})}>
      <Bdi>{formatToman(rial, i18n.language)}</Bdi> {t('money.toman')}
    </Text>
  );
}

function Margins({ result, club }: { result: CheckResult; club: Club }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  return (
    <Stack gap="xs">
      <Title order={4} size="h5">
        {t('offers.check.groups')}
      </Title>
      <Table.ScrollContainer minWidth={520}>
        <Table striped data-testid="check-groups">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('offers.check.group')}</Table.Th>
              <Table.Th>{t('offers.check.margin')}</Table.Th>
              <Table.Th>{t('offers.check.clubCredit')}</Table.Th>
              <Table.Th>{t('offers.check.offer')}</Table.Th>
              <Table.Th>{t('offers.check.left')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {result.groupMargins.map((g) => (
              <Table.Tr key={g.group} data-testid="check-group" data-below={g.belowMargin ? 'yes' : 'no'}>
                <Table.Td>{club.groupName(g.group)}</Table.Td>
                <Table.Td>
                  <Bdi>{formatBp(g.marginBp, lang)}</Bdi>
                </Table.Td>
                <Table.Td>
                  <Bdi>{formatBp(g.clubCreditBp, lang)}</Bdi>
                </Table.Td>
                <Table.Td>
                  <Bdi>{formatBp(g.offerBp, lang)}</Bdi>
                </Table.Td>
                <Table.Td>
                  <Text span size="sm" {...(g.belowMargin ? BELOW : {})}>
                    <Bdi>{formatBp(g.leftBp, lang)}</Bdi>
                    {g.belowMargin ? ` ${t('offers.check.belowMargin')}` : ''}
                  </Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

type Figure =
  | 'basketRial'
  | 'marginRial'
  | 'discountRial'
  | 'clubCreditRial'
  | 'offerCreditRial'
  | 'bonusPoints'
  | 'leftRial';
const FIGURES: Figure[] = [
  'basketRial',
  'marginRial',
  'discountRial',
  'clubCreditRial',
  'offerCreditRial',
  'bonusPoints',
  'leftRial',
];

function Basket({ result }: { result: CheckResult }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const cell = (side: CheckResult['basketWith'], figure: Figure) =>
    figure === 'bonusPoints' ? (
      <Bdi>{formatInteger(side.bonusPoints, lang)}</Bdi>
    ) : (
      <Money rial={side[figure]} below={figure === 'leftRial' && side.leftRial < 0} />
    );
  return (
    <Stack gap="xs">
      <Title order={4} size="h5">
        {t('offers.check.basket')}
      </Title>
      <Table.ScrollContainer minWidth={420}>
        <Table striped data-testid="check-basket">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('offers.check.figure')}</Table.Th>
              <Table.Th>{t('offers.check.without')}</Table.Th>
              <Table.Th>{t('offers.check.with')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {FIGURES.map((figure) => (
              <Table.Tr key={figure}>
                <Table.Th scope="row" fw={500}>
                  {t(`offers.check.${figure}`)}
                </Table.Th>
                <Table.Td>{cell(result.basketWithout, figure)}</Table.Td>
                <Table.Td>{cell(result.basketWith, figure)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Text size="sm" data-testid="check-cost">
        {t('offers.check.cost', { cost: formatToman(result.basketCostRial, lang) })}
      </Text>
    </Stack>
  );
}

function Backtest({ result }: { result: CheckResult }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const b = result.backtest;
  const count = (n: number) => <Bdi>{formatInteger(n, lang)}</Bdi>;
  const stats: [string, ReactNode][] = [
    ['membersReached', count(b.membersReached)],
    ['purchasesAffected', count(b.purchasesAffected)],
    ['salesAffected', <Money key="s" rial={b.salesAffectedRial} />],
    ['discount', <Money key="d" rial={b.discountRial} />],
    ['credit', <Money key="c" rial={b.creditRial} />],
    ['bonusPoints', count(b.bonusPoints)],
    ['marginLeft', <Money key="m" rial={b.marginLeftRial} below={b.marginLeftRial < 0} />],
  ];
  return (
    <Stack gap="xs" data-testid="check-backtest">
      <Title order={4} size="h5">
        {t('offers.check.backtest')}
      </Title>
      <Text size="sm">
        {t('offers.check.backtestOver', {
          days: formatInteger(b.days, lang),
          seen: formatInteger(b.purchasesSeen, lang),
        })}
      </Text>
      <SimpleGrid cols={{ base: 2, md: 4 }} spacing="sm">
        {stats.map(([name, value]) => (
          <Card key={name} withBorder padding="sm" data-testid={`backtest-${name}`}>
            <Text size="xs" c="dimmed">
              {t(`offers.check.bt.${name}` as never)}
            </Text>
            <Text fw={700}>{value}</Text>
          </Card>
        ))}
      </SimpleGrid>
    </Stack>
  );
}

export function ProfitCheck({ check, basket, basketErrors, club, problems, onBasket, onReveal }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const error = (field: string) => errorText(basketErrors[field], lang, (key) => t(key as never));
  const result = check.state === 'done' ? check.result : null;
  const below = result?.belowMarginGroups ?? [];
  return (
    <Card withBorder padding="lg" data-testid="profit-check">
      <Stack gap="md">
        <Title order={3} size="h4">
          {t('offers.check.title')}
        </Title>
        <Text size="sm" c="dimmed">
          {t('offers.check.hint')}
        </Text>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <TextInput
            label={t('offers.check.basketAmount')}
            inputMode="decimal"
            value={basket.amount}
            error={error('amount')}
            onChange={(e) => {
              onBasket({ ...basket, amount: e.currentTarget.value });
            }}
          />
          <NativeSelect
            label={t('offers.check.basketGroup')}
            value={basket.group || club.groups[0]?.code || ''}
            data={club.groups.map((g) => ({ value: g.code, label: club.groupName(g.code) }))}
            onChange={(e) => {
              onBasket({ ...basket, group: e.currentTarget.value });
            }}
          />
          <TextInput
            label={t('offers.check.days')}
            inputMode="numeric"
            value={basket.days}
            error={error('days')}
            onChange={(e) => {
              onBasket({ ...basket, days: e.currentTarget.value });
            }}
          />
        </SimpleGrid>
        {check.state === 'checking' ? (
          <Group gap="xs" role="status">
            <Loader size="xs" aria-hidden />
            <Text size="sm">{t('offers.check.checking')}</Text>
          </Group>
        ) : null}
        {check.state === 'incomplete' || check.state === 'problems' ? (
          <Group gap="sm" data-testid="check-incomplete">
            <Text size="sm" role="status">
              {problems > 0
                ? t('offers.check.problems', { shown: formatInteger(problems, lang) })
                : t('offers.check.incomplete')}
            </Text>
            {problems > 0 ? (
              <Button variant="subtle" size="compact-sm" onClick={onReveal}>
                {t('offers.check.reveal')}
              </Button>
            ) : null}
          </Group>
        ) : null}
        {check.state === 'failed' ? (
          <Text size="sm" c="red.9" role="alert">
            {t('offers.check.failed')}
          </Text>
        ) : null}
        {check.state === 'refused' ? <ProblemAlert code={check.code} /> : null}
        {below.length > 0 ? (
          <Alert color="red" variant="light" title={t('offers.check.belowTitle')} data-testid="check-below">
            {t('offers.check.belowText', { groups: below.map(club.groupName).join(t('offers.listSeparator')) })}
          </Alert>
        ) : null}
        {result ? (
          <>
            <Margins result={result} club={club} />
            <Basket result={result} />
            <Backtest result={result} />
          </>
        ) : null}
      </Stack>
    </Card>
  );
}
