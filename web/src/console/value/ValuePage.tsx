/**
 * Network value for mall management: the pooled point's value over time (mall admin sets
 * the next one), what is outstanding by issuing shop (the liability), and what expires on
 * the coming days unless spent. Charts sit in a left-to-right box with a table beside them.
 */
import {
  Box,
  Button,
  Card,
  Group,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  Bar,
  BarChart,
  CartesianGrid,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import {
  formatInteger,
  formatJalaliDate,
  formatJalaliDateTime,
  formatToman,
  parseTomanInput,
  rialForApi,
} from '../../shared/format';
import { SCOPE } from '../../shared/scopes';
import { Bdi, Toman } from '../../shared/ui/Bdi';
import { ProblemAlert } from '../../shared/ui/ProblemAlert';
import { mayUse, useSession } from '../../shared/ui/session-context';

const ValueReport = graphql(`
  query ConsoleValueReport($days: Int!) {
    pointValues {
      rialPerPoint
      effectiveFrom
      setBy
    }
    networkValueReport(days: $days) {
      byIssuer {
        shop
        outstanding {
          ...Outstanding
        }
      }
      expiring {
        day
        outstanding {
          ...Outstanding
        }
      }
    }
  }
  fragment Outstanding on ValueOutstanding {
    pooledPoints
    pooledPointsRial
    generalCreditRial
    targetedCreditRial
    totalRial
  }
`);

const SetPointValue = graphql(`
  mutation ConsoleSetPointValue($rial: Rial!) {
    setPointValue(rialPerPoint: $rial) {
      __typename
      ... on PointValue {
        rialPerPoint
      }
      ... on InvalidInput {
        code
        field
      }
    }
  }
`);

const AHEAD = ['30', '90'] as const;

function PointValueForm({ onSet }: { onSet: () => void }) {
  const { t } = useTranslation();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [state, set] = useMutation(SetPointValue);
  const submit = () => {
    setProblem(null);
    const rial = parseTomanInput(text);
    if (rial === null || rial <= 0n) {
      setError(t('mallValue.point.bad'));
      return;
    }
    setError(null);
    void set({ rial: rialForApi(rial) }).then((result) => {
      const answer = result.data?.setPointValue;
      if (!answer || result.error) setProblem('UNKNOWN');
      else if (answer.__typename === 'InvalidInput') setProblem(answer.code);
      else {
        setText('');
        onSet();
      }
    });
  };
  return (
    <Stack gap="xs">
      <Group align="flex-end" wrap="wrap">
        <TextInput
          label={t('mallValue.point.new')}
          description={t('mallValue.point.newHint')}
          inputMode="decimal"
          value={text}
          error={error}
          onChange={(e) => {
            setText(e.currentTarget.value);
          }}
        />
        <Button onClick={submit} loading={state.fetching}>
          {t('mallValue.point.set')}
        </Button>
      </Group>
      <ProblemAlert code={problem} />
    </Stack>
  );
}

export function ValuePage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const session = useSession();
  const [ahead, setAhead] = useState<(typeof AHEAD)[number]>('30');
  const [{ data, fetching, error }, reload] = useQuery({
    query: ValueReport,
    variables: { days: Number(ahead) },
    requestPolicy: 'cache-and-network',
  });
  const number = (value: unknown) => formatInteger(Number(value), lang);
  const toman = (rial: number) => Math.trunc(rial / 10);
  const report = data?.networkValueReport;
  const values = data?.pointValues ?? [];
  const total = report?.byIssuer.reduce((sum, i) => sum + i.outstanding.totalRial, 0) ?? 0;
  return (
    <Stack gap="lg">
      <Title order={2}>{t('mallValue.title')}</Title>
      {error ? (
        <Text role="alert" c="red.9">
          {t('mallValue.failed')}
        </Text>
      ) : null}
      {!data ? <Text role="status">{fetching ? t('mallValue.loading') : ''}</Text> : null}
      <Card withBorder padding="lg">
        <Stack gap="sm">
          <Title order={3} size="h4">
            {t('mallValue.point.title')}
          </Title>
          {values.length ? (
            <Table.ScrollContainer minWidth={480}>
              <Table striped data-testid="point-values">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('mallValue.point.from')}</Table.Th>
                    <Table.Th>{t('mallValue.point.value')}</Table.Th>
                    <Table.Th>{t('mallValue.point.by')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {values.map((v) => (
                    <Table.Tr key={v.effectiveFrom}>
                      <Table.Td>{formatJalaliDateTime(v.effectiveFrom, lang)}</Table.Td>
                      <Table.Td>
                        <Toman rial={v.rialPerPoint} />
                      </Table.Td>
                      <Table.Td>
                        <Bdi>{v.setBy}</Bdi>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          ) : (
            <Text size="sm">{t('mallValue.point.default')}</Text>
          )}
          {mayUse(session, [SCOPE.mallAdmin]) ? (
            <PointValueForm
              onSet={() => {
                reload({ requestPolicy: 'network-only' });
              }}
            />
          ) : null}
        </Stack>
      </Card>
      {report ? (
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
          <Card withBorder padding="lg">
            <Stack gap="sm">
              <Title order={3} size="h4">
                {t('mallValue.issuers.title')}
              </Title>
              <Text data-testid="liability-total">
                {t('mallValue.issuers.total')} <Toman rial={total} />
              </Text>
              {report.byIssuer.length === 0 ? (
                <Text size="sm">{t('mallValue.issuers.none')}</Text>
              ) : (
                <Table.ScrollContainer minWidth={520}>
                  <Table striped data-testid="issuers">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>{t('mallValue.issuers.shop')}</Table.Th>
                        <Table.Th>{t('mallValue.issuers.points')}</Table.Th>
                        <Table.Th>{t('mallValue.issuers.credit')}</Table.Th>
                        <Table.Th>{t('mallValue.issuers.totalColumn')}</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {report.byIssuer.map(({ shop, outstanding: o }) => (
                        <Table.Tr key={shop}>
                          <Table.Td>
                            <Bdi>{shop}</Bdi>
                          </Table.Td>
                          <Table.Td>
                            {t('mallValue.issuers.pointsWorth', {
                              points: number(o.pooledPoints),
                              toman: formatToman(o.pooledPointsRial, lang),
                            })}
                          </Table.Td>
                          <Table.Td>
                            <Toman rial={o.generalCreditRial + o.targetedCreditRial} />
                          </Table.Td>
                          <Table.Td>
                            <Toman rial={o.totalRial} />
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
            </Stack>
          </Card>
          <Card withBorder padding="lg">
            <Stack gap="sm">
              <Group justify="space-between" wrap="wrap">
                <Title order={3} size="h4">
                  {t('mallValue.expiring.title')}
                </Title>
                <SegmentedControl
                  aria-label={t('mallValue.expiring.ahead')}
                  value={ahead}
                  onChange={(value) => {
                    setAhead(value === '90' ? '90' : '30');
                  }}
                  data={AHEAD.map((days) => ({
                    value: days,
                    label: t('mallValue.expiring.days', { days: number(days) }),
                  }))}
                />
              </Group>
              {report.expiring.length === 0 ? (
                <Text size="sm">{t('mallValue.expiring.none')}</Text>
              ) : (
                <>
                  <Box dir="ltr" h={220} aria-hidden>
                    <ResponsiveContainer width="100%" height="100%">
                      <BarChart
                        accessibilityLayer={false}
                        data={report.expiring.map((e) => ({
                          day: formatJalaliDate(e.day, lang, 'short'),
                          value: toman(e.outstanding.totalRial),
                        }))}
                      >
                        <CartesianGrid strokeDasharray="3 3" />
                        <XAxis dataKey="day" tick={{ fontSize: 11 }} />
                        <YAxis tickFormatter={number} width={80} tick={{ fontSize: 11 }} />
                        <Tooltip formatter={number} />
                        <Bar
                          isAnimationActive={false}
                          dataKey="value"
                          name={t('mallValue.expiring.toman')}
                          fill="var(--mantine-color-orange-8)"
                        />
                      </BarChart>
                    </ResponsiveContainer>
                  </Box>
                  <Table.ScrollContainer minWidth={360}>
                    <Table data-testid="expiring">
                      <Table.Thead>
                        <Table.Tr>
                          <Table.Th>{t('mallValue.expiring.day')}</Table.Th>
                          <Table.Th>{t('mallValue.expiring.value')}</Table.Th>
                        </Table.Tr>
                      </Table.Thead>
                      <Table.Tbody>
                        {report.expiring.map((e) => (
                          <Table.Tr key={e.day}>
                            <Table.Td>{formatJalaliDate(e.day, lang)}</Table.Td>
                            <Table.Td>
                              <Toman rial={e.outstanding.totalRial} />
                            </Table.Td>
                          </Table.Tr>
                        ))}
                      </Table.Tbody>
                    </Table>
                  </Table.ScrollContainer>
                </>
              )}
            </Stack>
          </Card>
        </SimpleGrid>
      ) : null}
    </Stack>
  );
}
