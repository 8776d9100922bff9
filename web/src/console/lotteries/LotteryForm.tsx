/**
 * A new lottery: names, when it opens, closes and is drawn (Jalali, Tehran time), the
 * shops invited, how purchases earn tickets, and its prizes with their sponsors (a shop
 * taking part gives and hands over the prize). The hub publishes the seed's commitment at
 * once.
 */
import {
  ActionIcon,
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
import { IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';

import { graphql } from '../../gql/hub';
import { parseTomanInput } from '../../shared/format';
import { defaultMoment } from '../campaigns/CampaignForm';
import { asProblem, type Problem, ProblemAlert, ShopPicker, useShopNames } from '../campaigns/common';
import { JalaliDateTimePicker } from '../campaigns/JalaliDateTimePicker';
import { type Moment, momentText } from '../campaigns/jalaliMoment';

const CreateLottery = graphql(`
  mutation ConsoleCreateLottery($input: LotteryInput!) {
    createLottery(input: $input) {
      __typename
      ... on LotteryView {
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

interface PrizeRow {
  count: number | string;
  descriptionFa: string;
  descriptionEn: string;
  sponsor: string | null;
}

const EMPTY_PRIZE: PrizeRow = { count: 1, descriptionFa: '', descriptionEn: '', sponsor: null };

export function LotteryForm({ onCreated }: { onCreated: (id: string) => void }) {
  const { t } = useTranslation();
  const { name } = useShopNames();
  const [nameFa, setNameFa] = useState('');
  const [nameEn, setNameEn] = useState('');
  const [starts, setStarts] = useState<Moment>(() => defaultMoment(1));
  const [ends, setEnds] = useState<Moment>(() => defaultMoment(15));
  const [drawAt, setDrawAt] = useState<Moment>(() => defaultMoment(16, 18));
  const [shops, setShops] = useState<string[]>([]);
  const [perTicket, setPerTicket] = useState('100000');
  const [bonusPerShop, setBonusPerShop] = useState<number | string>(0);
  const [maxPerShopper, setMaxPerShopper] = useState<number | string>('');
  const [prizes, setPrizes] = useState<PrizeRow[]>([EMPTY_PRIZE]);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [{ fetching }, create] = useMutation(CreateLottery);
  const at = (field: string) => (problem?.field === field ? problem.message : null);

  const setPrize = (index: number, change: Partial<PrizeRow>) => {
    setPrizes(prizes.map((p, i) => (i === index ? { ...p, ...change } : p)));
  };

  const submit = async () => {
    const rial = parseTomanInput(perTicket);
    if (rial === null || rial <= 0n) {
      setProblem({ code: 'INVALID_INPUT', field: 'rules', message: t('mallLotteries.form.perTicketHint') });
      return;
    }
    const rules: Record<string, number> = {
      rialPerTicket: Number(rial),
      bonusPerShop: Number(bonusPerShop || 0),
    };
    if (maxPerShopper !== '') rules.maxPerShopper = Number(maxPerShopper);
    const { data } = await create({
      input: {
        nameFa,
        nameEn,
        starts: momentText(starts),
        ends: momentText(ends),
        drawAt: momentText(drawAt),
        shops,
        rules,
        prizes: prizes.map((p) => ({
          count: Number(p.count || 0),
          descriptionFa: p.descriptionFa,
          descriptionEn: p.descriptionEn,
          ...(p.sponsor ? { sponsor: p.sponsor } : {}),
        })),
      },
    });
    const result = data?.createLottery;
    if (result?.__typename === 'LotteryView') {
      setProblem(null);
      onCreated(result.id);
      return;
    }
    setProblem(result ? asProblem(result) : { code: 'UNKNOWN' });
  };

  return (
    <Card
      withBorder
      padding="lg"
      component="form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <Stack gap="md">
        <Title order={3}>{t('mallLotteries.form.title')}</Title>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            id="lottery-name-fa"
            label={t('mallLotteries.form.nameFa')}
            value={nameFa}
            onChange={(e) => {
              setNameFa(e.currentTarget.value);
            }}
            error={at('nameFa')}
            required
            dir="rtl"
          />
          <TextInput
            id="lottery-name-en"
            label={t('mallLotteries.form.nameEn')}
            value={nameEn}
            onChange={(e) => {
              setNameEn(e.currentTarget.value);
            }}
            dir="ltr"
          />
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <JalaliDateTimePicker id="lottery-starts" label={t('mallLotteries.form.starts')} value={starts} onChange={setStarts} error={at('starts')} />
          <JalaliDateTimePicker id="lottery-ends" label={t('mallLotteries.form.ends')} value={ends} onChange={setEnds} error={at('ends')} />
          <JalaliDateTimePicker id="lottery-draw-at" label={t('mallLotteries.form.drawAt')} value={drawAt} onChange={setDrawAt} error={at('drawAt')} />
        </SimpleGrid>
        <ShopPicker id="lottery-shops" label={t('mallLotteries.form.shops')} value={shops} onChange={setShops} error={at('shops')} />
        <Fieldset legend={t('mallLotteries.form.rules')}>
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <TextInput
              id="lottery-per-ticket"
              label={t('mallLotteries.form.perTicket')}
              description={t('mallLotteries.form.perTicketHint')}
              value={perTicket}
              onChange={(e) => {
                setPerTicket(e.currentTarget.value);
              }}
              error={at('rules')}
              inputMode="numeric"
              dir="ltr"
            />
            <NumberInput id="lottery-bonus" label={t('mallLotteries.form.bonusPerShop')} value={bonusPerShop} onChange={setBonusPerShop} min={0} max={1000} />
            <NumberInput id="lottery-max" label={t('mallLotteries.form.maxPerShopper')} value={maxPerShopper} onChange={setMaxPerShopper} min={1} />
          </SimpleGrid>
        </Fieldset>
        <Fieldset legend={t('mallLotteries.form.prizes')}>
          <Stack gap="sm">
            {prizes.map((prize, index) => (
              <Group key={index} align="flex-end" gap="xs" wrap="wrap">
                <NumberInput
                  id={`prize-${index}-count`}
                  label={t('mallLotteries.form.prizeCount')}
                  value={prize.count}
                  onChange={(count) => {
                    setPrize(index, { count });
                  }}
                  min={1}
                  w={90}
                />
                <TextInput
                  id={`prize-${index}-fa`}
                  label={t('mallLotteries.form.prizeFa')}
                  value={prize.descriptionFa}
                  onChange={(e) => {
                    setPrize(index, { descriptionFa: e.currentTarget.value });
                  }}
                  dir="rtl"
                  style={{ flex: 1, minInlineSize: 160 }}
                />
                <TextInput
                  id={`prize-${index}-en`}
                  label={t('mallLotteries.form.prizeEn')}
                  value={prize.descriptionEn}
                  onChange={(e) => {
                    setPrize(index, { descriptionEn: e.currentTarget.value });
                  }}
                  dir="ltr"
                  style={{ flex: 1, minInlineSize: 160 }}
                />
                <Select
                  id={`prize-${index}-sponsor`}
                  label={t('mallLotteries.form.sponsor')}
                  placeholder={t('mallLotteries.form.noSponsor')}
                  data={shops.map((slug) => ({ value: slug, label: name(slug) }))}
                  value={prize.sponsor}
                  onChange={(sponsor) => {
                    setPrize(index, { sponsor });
                  }}
                  clearable
                  w={180}
                />
                <ActionIcon
                  variant="subtle"
                  color="red.9"
                  size="lg"
                  aria-label={t('mallLotteries.form.removePrize')}
                  disabled={prizes.length === 1}
                  onClick={() => {
                    setPrizes(prizes.filter((_, i) => i !== index));
                  }}
                >
                  <IconTrash size={18} />
                </ActionIcon>
              </Group>
            ))}
            <Group>
              <Button
                variant="default"
                onClick={() => {
                  setPrizes([...prizes, EMPTY_PRIZE]);
                }}
              >
                {t('mallLotteries.form.addPrize')}
              </Button>
            </Group>
          </Stack>
        </Fieldset>
        <ProblemAlert problem={problem} />
        <Group justify="flex-end">
          <Button type="submit" loading={fetching}>
            {t('mallLotteries.form.create')}
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}
