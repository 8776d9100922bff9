/**
 * A new joint campaign: names, Jalali start and end (Tehran time), the shops invited, the
 * budget in toman (sent as Rial), who bears the cost — by which rule, and whether sponsors
 * (shops invited or not) pay it instead of the shops that accept — and the rewards. The
 * hub's typed problem comes back as a sentence, its field marked.
 */
import {
  Button,
  Card,
  Fieldset,
  Group,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  TextInput,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';

import { graphql } from '../../gql/hub';
import { parseTomanInput } from '../../shared/format';
import { asProblem, type Problem, ProblemAlert, ShopPicker } from './common';
import { JalaliDateTimePicker } from './JalaliDateTimePicker';
import { jalaliInTehran, type Moment, momentText } from './jalaliMoment';

const CreateCampaign = graphql(`
  mutation ConsoleCreateCampaign($input: CampaignInput!) {
    createCampaign(input: $input) {
      __typename
      ... on CampaignView {
        id
      }
      ... on HubProblem {
        code
        message
        field
      }
    }
  }
`);

const COST_RULES = ['equal', 'sales_share', 'mall'] as const;
const DAY_MS = 86_400_000;

/** A day at 10:00 Tehran time, `days` from now. */
export function defaultMoment(days: number, hour = 10): Moment {
  return { ...jalaliInTehran(new Date(Date.now() + days * DAY_MS)), hour, minute: 0 };
}

function tomanToRial(text: string): number | null {
  if (!text.trim()) return null;
  const rial = parseTomanInput(text);
  return rial === null || rial <= 0n ? null : Number(rial);
}

export function CampaignForm({ onCreated }: { onCreated: (id: string) => void }) {
  const { t } = useTranslation();
  const [nameFa, setNameFa] = useState('');
  const [nameEn, setNameEn] = useState('');
  const [starts, setStarts] = useState<Moment>(() => defaultMoment(1));
  const [ends, setEnds] = useState<Moment>(() => defaultMoment(8));
  const [shops, setShops] = useState<string[]>([]);
  const [budget, setBudget] = useState('');
  const [costRule, setCostRule] = useState<string>('equal');
  const [sponsors, setSponsors] = useState<string[]>([]);
  const [multiplier, setMultiplier] = useState<number | string>(1.5);
  const [visitShops, setVisitShops] = useState<number | string>('');
  const [visitPoints, setVisitPoints] = useState<number | string>('');
  const [spendMin, setSpendMin] = useState('');
  const [spendCredit, setSpendCredit] = useState('');
  const [validDays, setValidDays] = useState<number | string>(30);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [{ fetching }, create] = useMutation(CreateCampaign);

  const budgetRial = tomanToRial(budget);
  const at = (field: string) => (problem?.field === field ? problem.message : null);

  const submit = async () => {
    if (budgetRial === null) {
      setProblem({ code: 'INVALID_INPUT', field: 'budgetRial', message: t('mallCampaigns.form.budgetHint') });
      return;
    }
    const reward: Record<string, number> = {
      pooledMultiplierBp: Math.round(Number(multiplier || 1) * 10_000),
      creditValidDays: Number(validDays || 30),
    };
    if (visitShops !== '') reward.visitBonusShops = Number(visitShops);
    if (visitPoints !== '') reward.visitBonusPoints = Number(visitPoints);
    const minRial = tomanToRial(spendMin);
    const creditRial = tomanToRial(spendCredit);
    if (minRial !== null) reward.spendMinRial = minRial;
    if (creditRial !== null) reward.spendCreditRial = creditRial;
    const { data, error } = await create({
      input: {
        nameFa,
        nameEn,
        starts: momentText(starts),
        ends: momentText(ends),
        shops,
        reward,
        budgetRial,
        costRule,
        // The mall pays alone: sponsors picked before it was chosen are not sent.
        sponsors: costRule === 'mall' ? [] : sponsors,
      },
    });
    const result = data?.createCampaign;
    if (result?.__typename === 'CampaignView') {
      setProblem(null);
      onCreated(result.id);
      return;
    }
    setProblem(result ? asProblem(result) : { code: error ? 'UNKNOWN' : 'UNKNOWN' });
  };

  return (
    <Card withBorder padding="lg" component="form" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
      <Stack gap="md">
        <Title order={3}>{t('mallCampaigns.form.title')}</Title>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            id="campaign-name-fa"
            label={t('mallCampaigns.form.nameFa')}
            value={nameFa}
            onChange={(e) => { setNameFa(e.currentTarget.value); }}
            error={at('nameFa')}
            required
            dir="rtl"
          />
          <TextInput
            id="campaign-name-en"
            label={t('mallCampaigns.form.nameEn')}
            value={nameEn}
            onChange={(e) => { setNameEn(e.currentTarget.value); }}
            dir="ltr"
          />
          <JalaliDateTimePicker
            id="campaign-starts"
            label={t('mallCampaigns.form.starts')}
            value={starts}
            onChange={setStarts}
            error={at('starts')}
          />
          <JalaliDateTimePicker
            id="campaign-ends"
            label={t('mallCampaigns.form.ends')}
            value={ends}
            onChange={setEnds}
            error={at('ends') ?? at('endsAt')}
          />
        </SimpleGrid>
        <ShopPicker
          id="campaign-shops"
          label={t('mallCampaigns.form.shops')}
          value={shops}
          onChange={setShops}
          error={at('shops')}
        />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            id="campaign-budget"
            label={t('mallCampaigns.form.budget')}
            description={t('mallCampaigns.form.budgetHint')}
            value={budget}
            onChange={(e) => { setBudget(e.currentTarget.value); }}
            error={at('budgetRial')}
            inputMode="numeric"
            dir="ltr"
            required
          />
          <Select
            id="campaign-cost-rule"
            label={t('mallCampaigns.form.costRule')}
            data={COST_RULES.map((rule) => ({ value: rule, label: t(`mallCampaigns.costRule.${rule}`) }))}
            value={costRule}
            onChange={(v) => { setCostRule(v ?? 'equal'); }}
            allowDeselect={false}
            error={at('costRule')}
          />
        </SimpleGrid>
        <ShopPicker
          id="campaign-sponsors"
          label={t('mallCampaigns.form.sponsors')}
          description={t(costRule === 'mall' ? 'mallCampaigns.form.sponsorsMall' : 'mallCampaigns.form.sponsorsHint')}
          value={costRule === 'mall' ? [] : sponsors}
          onChange={setSponsors}
          disabled={costRule === 'mall'}
          error={at('sponsors')}
        />
        <Fieldset legend={t('mallCampaigns.form.rewards')}>
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <NumberInput
              id="campaign-multiplier"
              label={t('mallCampaigns.form.multiplier')}
              value={multiplier}
              onChange={setMultiplier}
              min={1}
              max={10}
              step={0.25}
              decimalScale={2}
              error={at('reward')}
            />
            <NumberInput
              id="campaign-visit-shops"
              label={t('mallCampaigns.form.visitShops')}
              value={visitShops}
              onChange={setVisitShops}
              min={2}
              max={100}
            />
            <NumberInput
              id="campaign-visit-points"
              label={t('mallCampaigns.form.visitPoints')}
              value={visitPoints}
              onChange={setVisitPoints}
              min={0}
            />
            <TextInput
              id="campaign-spend-min"
              label={t('mallCampaigns.form.spendMin')}
              value={spendMin}
              onChange={(e) => { setSpendMin(e.currentTarget.value); }}
              inputMode="numeric"
              dir="ltr"
            />
            <TextInput
              id="campaign-spend-credit"
              label={t('mallCampaigns.form.spendCredit')}
              value={spendCredit}
              onChange={(e) => { setSpendCredit(e.currentTarget.value); }}
              inputMode="numeric"
              dir="ltr"
            />
            <NumberInput
              id="campaign-valid-days"
              label={t('mallCampaigns.form.validDays')}
              value={validDays}
              onChange={setValidDays}
              min={1}
              max={3650}
            />
          </SimpleGrid>
        </Fieldset>
        <ProblemAlert problem={problem} />
        <Group justify="flex-end">
          <Button type="submit" loading={fetching}>
            {t('mallCampaigns.form.create')}
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}
