/**
 * The offer's own fields, apart from its conditions: its kind and names; what it gives
 * (extra credit, a discount, bonus points, fixed credit, perhaps only on some product
 * groups); and its limits (how long a one-time grant lasts, uses per member and in all, a
 * budget, the control group's share). Each field shows its error.
 */
import { Card, Checkbox, Group, Radio, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import type { Club } from './club';
import type { FieldErrors, OfferForm } from './form';
import { errorText } from './paths';

interface Props {
  form: OfferForm;
  club: Club;
  errors: FieldErrors;
  onChange: (form: OfferForm, field: string) => void;
}

type TextKey = { [K in keyof OfferForm]: OfferForm[K] extends string ? K : never }[keyof OfferForm];

/** The form's field name of each text key (as errors and paths name it). */
const FIELD: Partial<Record<TextKey, string>> = {
  extraCredit: 'reward.extraCredit',
  discount: 'reward.discount',
  bonusPoints: 'reward.bonusPoints',
  fixedCredit: 'reward.fixedCredit',
  perMember: 'caps.perMember',
  totalUses: 'caps.totalUses',
  budget: 'caps.budget',
};

export function Section({ title, hint, children }: { title: string; hint?: string; children: ReactNode }) {
  return (
    <Card withBorder padding="lg">
      <Stack gap="md">
        <Title order={3} size="h4">
          {title}
        </Title>
        {hint ? (
          <Text size="sm" c="dimmed">
            {hint}
          </Text>
        ) : null}
        {children}
      </Stack>
    </Card>
  );
}

export function OfferHead({ form, errors, onChange }: Omit<Props, 'club'>) {
  const { t, i18n } = useTranslation();
  const error = (field: string) => errorText(errors[field], i18n.language, (key) => t(key as never));
  return (
    <Section title={t('offers.section.offer')}>
      <Radio.Group
        label={t('offers.field.kind')}
        value={form.kind}
        error={error('kind')}
        onChange={(value) => {
          onChange({ ...form, kind: value }, 'kind');
        }}
      >
        <Stack gap="xs" mt="xs">
          {(['permanent', 'one_time'] as const).map((kind) => (
            <Radio
              key={kind}
              value={kind}
              label={t(`offers.kind.${kind}`)}
              description={t(`offers.kindHint.${kind}`)}
            />
          ))}
        </Stack>
      </Radio.Group>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        {(['nameFa', 'nameEn'] as const).map((field) => (
          <TextInput
            key={field}
            label={t(`offers.field.${field}`)}
            dir={field === 'nameFa' ? 'rtl' : 'ltr'}
            value={form[field]}
            error={error(field)}
            onChange={(e) => {
              onChange({ ...form, [field]: e.currentTarget.value }, field);
            }}
          />
        ))}
      </SimpleGrid>
    </Section>
  );
}

export function OfferTerms({ form, club, errors, onChange }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const error = (field: string) => errorText(errors[field], lang, (key) => t(key as never));
  const input = (key: TextKey, label: string, hint?: string) => {
    const field = FIELD[key] ?? key;
    return (
      <TextInput
        label={label}
        description={hint}
        inputMode="decimal"
        value={form[key]}
        error={error(field)}
        onChange={(e) => {
          onChange({ ...form, [key]: e.currentTarget.value }, field);
        }}
      />
    );
  };
  const oneTime = form.kind === 'one_time';
  const rewardError = error('reward');
  return (
    <>
      <Section title={t('offers.section.reward')} hint={t('offers.section.rewardHint')}>
        {rewardError ? (
          <Text c="red.9" size="sm" role="alert" data-field="reward">
            {rewardError}
          </Text>
        ) : null}
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
          {input('extraCredit', t('offers.field.extraCredit'), t('offers.field.percentHint'))}
          {input('discount', t('offers.field.discount'), t('offers.field.percentHint'))}
          {input('bonusPoints', t('offers.field.bonusPoints'))}
          {input('fixedCredit', t('offers.field.fixedCredit'), t('offers.field.tomanHint'))}
        </SimpleGrid>
        <Checkbox.Group
          label={t('offers.field.rewardGroups')}
          description={t('offers.field.rewardGroupsHint')}
          value={form.rewardGroups}
          error={error('reward.groups')}
          onChange={(value) => {
            onChange({ ...form, rewardGroups: value }, 'reward.groups');
          }}
        >
          <Group gap="md" mt={6} wrap="wrap">
            {club.groups.map((g) => (
              <Checkbox
                key={g.code}
                value={g.code}
                label={(lang === 'fa' ? g.nameFa : g.nameEn) || g.code}
              />
            ))}
          </Group>
        </Checkbox.Group>
      </Section>
      <Section title={t('offers.section.limits')}>
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
          {oneTime ? input('validDays', t('offers.field.validDays'), t('offers.field.validDaysHint')) : null}
          {input('perMember', t('offers.field.perMember'), t('offers.field.emptyNoCap'))}
          {input('totalUses', t('offers.field.totalUses'), t('offers.field.emptyNoCap'))}
          {input('budget', t('offers.field.budget'), t('offers.field.budgetHint'))}
          {oneTime
            ? input('controlShare', t('offers.field.controlShare'), t('offers.field.controlShareHint'))
            : null}
        </SimpleGrid>
      </Section>
    </>
  );
}
