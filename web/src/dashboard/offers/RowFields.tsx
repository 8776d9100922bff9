/**
 * One condition row's own fields, by its kind: a comparison and a number (toman for
 * amounts), choices among the club's tiers and product groups, tags, days, dates and hours,
 * or — for a condition the rows cannot show — its JSON text. Each field shows its error.
 */
import { Checkbox, Group, NativeSelect, Stack, Textarea, TextInput } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import type { Club, Named } from './club';
import { type ConditionRow, isCompare, MEMBERSHIP_TYPES, MONEY_KINDS, type Op, OPS } from './form';

export const WEEKDAYS = ['0', '1', '2', '3', '4', '5', '6'] as const;

interface Props {
  row: ConditionRow;
  club: Club;
  error: (field: string) => string | null;
  onRow: (patch: Partial<ConditionRow>, field: string) => void;
}

const WIDE = { flex: '1 1 12rem', minWidth: '10rem' };

export function RowFields({ row, club, error, onRow }: Props) {
  const { t, i18n } = useTranslation();
  const named = (item: Named) => (i18n.language === 'fa' ? item.nameFa : item.nameEn) || item.code;
  const text = (
    field: keyof ConditionRow,
    label: string,
    options: { hint?: string; placeholder?: string; ltr?: boolean } = {},
  ) => (
    <TextInput
      style={WIDE}
      label={label}
      description={options.hint}
      placeholder={options.placeholder}
      dir={options.ltr ? 'ltr' : undefined}
      inputMode={options.ltr ? undefined : 'decimal'}
      value={String(row[field])}
      error={error(field)}
      onChange={(e) => {
        onRow({ [field]: e.currentTarget.value }, field);
      }}
    />
  );
  const choices = (label: string, options: { value: string; label: string }[]) => (
    <Checkbox.Group
      style={WIDE}
      label={label}
      value={row.choices}
      error={error('choices')}
      onChange={(value) => {
        onRow({ choices: value }, 'choices');
      }}
    >
      <Group gap="md" mt={6} wrap="wrap">
        {options.map((option) => (
          <Checkbox key={option.value} value={option.value} label={option.label} />
        ))}
      </Group>
    </Checkbox.Group>
  );
  const groupSelect = (
    <NativeSelect
      style={WIDE}
      label={t('offers.field.group')}
      value={row.group}
      error={error('group')}
      data={club.groups.map((g) => ({ value: g.code, label: named(g) }))}
      onChange={(e) => {
        onRow({ group: e.currentTarget.value }, 'group');
      }}
    />
  );

  if (isCompare(row.kind)) {
    const money = MONEY_KINDS.includes(row.kind);
    const unit = money ? 'toman' : row.kind === 'visits' ? 'count' : 'days';
    return (
      <>
        <NativeSelect
          style={{ flex: '0 1 10rem' }}
          label={t('offers.field.op')}
          value={row.op}
          data={OPS.map((op) => ({ value: op, label: t(`offers.op.${op}`) }))}
          onChange={(e) => {
            onRow({ op: e.currentTarget.value as Op }, 'op');
          }}
        />
        {text('value', t(`offers.field.${unit}`))}
        {row.kind === 'average_basket_rial'
          ? text('lastVisits', t('offers.field.lastVisits'), { hint: t('offers.field.lastVisitsHint') })
          : null}
      </>
    );
  }
  switch (row.kind) {
    case 'tier':
      return choices(
        t('offers.field.tiers'),
        club.tiers.map((tier) => ({ value: tier.code, label: named(tier) })),
      );
    case 'membership_type':
      return choices(
        t('offers.field.membership'),
        MEMBERSHIP_TYPES.map((type) => ({ value: type, label: t(`offers.membership.${type}`) })),
      );
    case 'basket_has_group':
      return choices(
        t('offers.field.groups'),
        club.groups.map((g) => ({ value: g.code, label: named(g) })),
      );
    case 'weekday':
      return choices(
        t('offers.field.weekdays'),
        WEEKDAYS.map((day) => ({ value: day, label: t(`offers.weekday.${day}`) })),
      );
    case 'tag':
      return text('tags', t('offers.field.tags'), { hint: t('offers.field.tagsHint'), ltr: false });
    case 'never_bought_group':
      return groupSelect;
    case 'bought_group':
      return (
        <>
          {groupSelect}
          {text('withinDays', t('offers.field.withinDays'), { hint: t('offers.field.withinDaysHint') })}
        </>
      );
    case 'birthday_within':
      return (
        <>
          {text('daysBefore', t('offers.field.daysBefore'))}
          {text('daysAfter', t('offers.field.daysAfter'))}
        </>
      );
    case 'joined':
      return (
        <>
          {text('after', t('offers.field.joinedAfter'), { placeholder: t('offers.field.datePlaceholder'), ltr: true })}
          {text('before', t('offers.field.joinedBefore'), { placeholder: t('offers.field.datePlaceholder'), ltr: true })}
        </>
      );
    case 'hours':
      return (
        <>
          {text('start', t('offers.field.start'), { placeholder: t('offers.field.hourPlaceholder'), ltr: true })}
          {text('end', t('offers.field.end'), { placeholder: t('offers.field.hourPlaceholder'), ltr: true })}
        </>
      );
    case 'json':
      return (
        <Stack gap={4} style={{ flex: '1 1 100%' }}>
          <Textarea
            label={t('offers.field.json')}
            description={t('offers.field.jsonHint')}
            dir="ltr"
            autosize
            minRows={2}
            value={row.json}
            error={error('json')}
            onChange={(e) => {
              onRow({ json: e.currentTarget.value }, 'json');
            }}
          />
        </Stack>
      );
  }
  return null;
}
