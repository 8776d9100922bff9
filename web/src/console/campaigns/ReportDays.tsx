/**
 * A campaign's days so far (Tehran days, the latest 92 at most): sales at the shops that
 * accepted against the same weekday of the four weeks before (lines), and what that day's
 * rewards cost (bars, on their own axis) — drawn left to right, in toman, and read out to
 * screen readers as a table of the same figures (the chart is one image to them).
 */
import { Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import {
  Bar,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';

import { formatInteger, formatJalaliDate } from '../../shared/format';
import { ChartBox } from '../overview/parts';
import { ChartTable } from '../../shared/ui/ChartTable';

export interface CampaignDay {
  day: string;
  salesRial: number;
  baselineRial: number;
  rewards: number;
  costRial: number;
}

/** Room above and below the plot (its sides are the axes'). */
const CHART_MARGIN = { top: 8, bottom: 8 };

const toman = (rial: number) => Number(BigInt(rial) / 10n);

export function ReportDays({ days }: { days: readonly CampaignDay[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const number = (value: unknown) => formatInteger(Number(value), lang);
  const date = (value: unknown) => formatJalaliDate(String(value), lang, 'short');
  const first = days[0];
  const last = days[days.length - 1];
  if (!first || !last) {
    return (
      <Text size="sm" c="dimmed" data-testid="campaign-days">
        {t('mallCampaigns.report.days.none')}
      </Text>
    );
  }
  const rows = days.map((d) => ({
    day: d.day,
    sales: toman(d.salesRial),
    baseline: toman(d.baselineRial),
    cost: toman(d.costRial),
    rewards: d.rewards,
  }));
  const names = {
    sales: t('mallCampaigns.report.days.sales'),
    baseline: t('mallCampaigns.report.days.baseline'),
    cost: t('mallCampaigns.report.days.cost'),
    rewards: t('mallCampaigns.report.days.rewards'),
  };
  return (
    <div data-testid="campaign-days">
      <Title order={4} size="h5" mt="md" mb="xs">
        {t('mallCampaigns.report.days.title')}
      </Title>
      <ChartBox
        label={t('mallCampaigns.report.days.chart', {
          from: date(first.day),
          to: date(last.day),
          n: number(days.length),
        })}
      >
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart data={rows} margin={CHART_MARGIN} accessibilityLayer={false}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="day" tickFormatter={date} minTickGap={16} tick={{ fontSize: 11 }} />
            <YAxis yAxisId="sales" tickFormatter={number} width={90} tick={{ fontSize: 11 }} />
            <YAxis
              yAxisId="cost"
              orientation="right"
              allowDecimals={false}
              tickFormatter={number}
              width={72}
              tick={{ fontSize: 11 }}
            />
            <Tooltip labelFormatter={date} formatter={number} />
            <Legend />
            <Bar
              yAxisId="cost"
              dataKey="cost"
              name={names.cost}
              fill="var(--mantine-color-orange-8)"
              isAnimationActive={false}
            />
            <Line
              yAxisId="sales"
              dataKey="baseline"
              name={names.baseline}
              stroke="var(--mantine-color-gray-7)"
              strokeDasharray="5 3"
              dot={false}
              isAnimationActive={false}
            />
            <Line
              yAxisId="sales"
              dataKey="sales"
              name={names.sales}
              stroke="var(--mantine-color-indigo-8)"
              dot={false}
              isAnimationActive={false}
            />
          </ComposedChart>
        </ResponsiveContainer>
      </ChartBox>
      <ChartTable
        caption={t('mallCampaigns.report.days.table')}
        headers={[t('mallCampaigns.report.days.day'), names.sales, names.baseline, names.rewards, names.cost]}
        rows={rows.map((row) => ({
          key: row.day,
          cells: [
            formatJalaliDate(row.day, lang),
            number(row.sales),
            number(row.baseline),
            number(row.rewards),
            number(row.cost),
          ],
        }))}
      />
    </div>
  );
}
