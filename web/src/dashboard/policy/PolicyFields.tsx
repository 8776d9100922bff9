/**
 * The policy form's fields, section by section; each shows its own error (a catalogue key
 * from the page's check or from the node's problem at that field).
 */
import {
  ActionIcon,
  Button,
  Card,
  Checkbox,
  NativeSelect,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { IconTrash } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import { formatInteger } from '../../shared/format';
import {
  EMPTY_GROUP,
  EMPTY_TIER,
  type FieldErrors,
  type GroupDraft,
  type PolicyDraft,
  type TierBasis,
  type TierDraft,
} from './draft';

interface Props {
  draft: PolicyDraft;
  errors: FieldErrors;
  onChange: (draft: PolicyDraft) => void;
}

type TextKey = {
  [K in keyof PolicyDraft]: PolicyDraft[K] extends string ? K : never;
}[keyof PolicyDraft];

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Card withBorder padding="lg">
      <Stack gap="md">
        <Title order={3} size="h4">
          {title}
        </Title>
        {children}
      </Stack>
    </Card>
  );
}

export function PolicyFields({ draft, errors, onChange }: Props) {
  const { t } = useTranslation();
  const error = (field: string) => (errors[field] ? t(errors[field] as never) : null);
  const input = (field: TextKey, label: string, hint?: string) => (
    <TextInput
      label={label}
      description={hint}
      inputMode="decimal"
      value={draft[field]}
      error={error(field)}
      data-field={field}
      onChange={(e) => {
        onChange({ ...draft, [field]: e.currentTarget.value });
      }}
    />
  );
  return (
    <>
      <Section title={t('policy.section.club')}>
        <Switch
          label={t('policy.openClub')}
          description={t('policy.openClubHint')}
          checked={draft.openClub}
          onChange={(e) => {
            onChange({ ...draft, openClub: e.currentTarget.checked });
          }}
        />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          {input('welcomePoints', t('policy.welcomePoints'))}
          {input('welcomeCredit', t('policy.welcomeCredit'), t('policy.inToman'))}
        </SimpleGrid>
      </Section>
      <Section title={t('policy.section.earning')}>
        <Text size="sm" c="dimmed">
          {t('policy.earningHint')}
        </Text>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          {input('credit', t('policy.creditPercent'))}
          {input('points', t('policy.points'))}
          {input('per', t('policy.per'), t('policy.inToman'))}
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          {input('maxPoints', t('policy.maxPoints'), t('policy.emptyNoCap'))}
          {input('maxCredit', t('policy.maxCredit'), t('policy.emptyNoCap'))}
          {input('maxCreditSpend', t('policy.maxCreditSpend'))}
        </SimpleGrid>
      </Section>
      <Groups draft={draft} error={error} onChange={onChange} />
      <Tiers draft={draft} error={error} onChange={onChange} />
      <Section title={t('policy.section.punch')}>
        <Switch
          label={t('policy.punch')}
          checked={draft.punch}
          onChange={(e) => {
            onChange({ ...draft, punch: e.currentTarget.checked });
          }}
        />
        {draft.punch ? (
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            {input('punchEvery', t('policy.punchEvery'))}
            {input('punchPoints', t('policy.punchPoints'))}
            {input('punchCredit', t('policy.punchCredit'), t('policy.inToman'))}
          </SimpleGrid>
        ) : null}
      </Section>
      <Section title={t('policy.section.validity')}>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          {input('pointsDays', t('policy.pointsDays'), t('policy.emptyForever'))}
          {input('creditDays', t('policy.creditDays'), t('policy.emptyForever'))}
        </SimpleGrid>
      </Section>
    </>
  );
}

interface ListProps {
  draft: PolicyDraft;
  error: (field: string) => string | null;
  onChange: (draft: PolicyDraft) => void;
}

function cell(
  label: string,
  value: string,
  fieldError: string | null,
  field: string,
  set: (value: string) => void,
) {
  return (
    <Table.Td>
      <TextInput
        aria-label={label}
        value={value}
        error={fieldError}
        data-field={field}
        onChange={(e) => {
          set(e.currentTarget.value);
        }}
      />
    </Table.Td>
  );
}

function Groups({ draft, error, onChange }: ListProps) {
  const { t, i18n } = useTranslation();
  const set = (i: number, patch: Partial<GroupDraft>) => {
    onChange({ ...draft, groups: draft.groups.map((g, j) => (j === i ? { ...g, ...patch } : g)) });
  };
  const columns = ['code', 'nameFa', 'nameEn', 'margin', 'own', 'credit', 'points', 'per'] as const;
  return (
    <Section title={t('policy.section.groups')}>
      <Text size="sm" c="dimmed">
        {t('policy.groupsHint')}
      </Text>
      {error('groups') ? (
        <Text c="red.8" size="sm" role="alert">
          {error('groups')}
        </Text>
      ) : null}
      <Table.ScrollContainer minWidth={980}>
        <Table verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              {columns.map((c) => (
                <Table.Th key={c}>{t(`policy.group.${c}`)}</Table.Th>
              ))}
              <Table.Th>
                <VisuallyHidden>{t('policy.remove')}</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {draft.groups.map((g, i) => {
              const row = formatInteger(i + 1, i18n.language);
              const at = (c: string) => `groups.${String(i)}.${c}`;
              const label = (c: string) => t('policy.ofRow', { what: t(`policy.group.${c}` as never), row });
              return (
                <Table.Tr key={String(i)}>
                  {cell(label('code'), g.code, error(at('code')), at('code'), (code) => {
                    set(i, { code });
                  })}
                  {cell(label('nameFa'), g.nameFa, error(at('nameFa')), at('nameFa'), (nameFa) => {
                    set(i, { nameFa });
                  })}
                  {cell(label('nameEn'), g.nameEn, error(at('nameEn')), at('nameEn'), (nameEn) => {
                    set(i, { nameEn });
                  })}
                  {cell(label('margin'), g.margin, error(at('margin')), at('margin'), (margin) => {
                    set(i, { margin });
                  })}
                  <Table.Td>
                    <Checkbox
                      aria-label={label('own')}
                      checked={g.own}
                      onChange={(e) => {
                        set(i, { own: e.currentTarget.checked });
                      }}
                    />
                  </Table.Td>
                  {g.own ? (
                    <>
                      {cell(label('credit'), g.credit, error(at('credit')), at('credit'), (credit) => {
                        set(i, { credit });
                      })}
                      {cell(label('points'), g.points, error(at('points')), at('points'), (points) => {
                        set(i, { points });
                      })}
                      {cell(label('per'), g.per, error(at('per')), at('per'), (per) => {
                        set(i, { per });
                      })}
                    </>
                  ) : (
                    <Table.Td colSpan={3}>
                      <Text size="sm" c="dimmed">
                        {t('policy.group.default')}
                      </Text>
                    </Table.Td>
                  )}
                  <Table.Td>
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label={t('policy.removeGroup', { row })}
                      onClick={() => {
                        onChange({ ...draft, groups: draft.groups.filter((_, j) => j !== i) });
                      }}
                    >
                      <IconTrash size={18} aria-hidden />
                    </ActionIcon>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <div>
        <Button
          variant="default"
          onClick={() => {
            onChange({ ...draft, groups: [...draft.groups, { ...EMPTY_GROUP }] });
          }}
        >
          {t('policy.addGroup')}
        </Button>
      </div>
    </Section>
  );
}

function Tiers({ draft, error, onChange }: ListProps) {
  const { t, i18n } = useTranslation();
  const set = (i: number, patch: Partial<TierDraft>) => {
    onChange({ ...draft, tiers: draft.tiers.map((x, j) => (j === i ? { ...x, ...patch } : x)) });
  };
  const spend = draft.tierBasis === 'spend_12m';
  const columns = ['code', 'nameFa', 'nameEn', spend ? 'spend' : 'threshold', 'multiplier'] as const;
  return (
    <Section title={t('policy.section.tiers')}>
      <NativeSelect
        label={t('policy.tierBasis')}
        value={draft.tierBasis}
        onChange={(e) => {
          onChange({ ...draft, tierBasis: e.currentTarget.value as TierBasis });
        }}
        data={[
          { value: 'earned_points', label: t('policy.basis.earned_points') },
          { value: 'spend_12m', label: t('policy.basis.spend_12m') },
        ]}
      />
      <Text size="sm" c="dimmed">
        {t('policy.tiersHint')}
      </Text>
      {error('tiers') ? (
        <Text c="red.8" size="sm" role="alert">
          {error('tiers')}
        </Text>
      ) : null}
      <Table.ScrollContainer minWidth={760}>
        <Table verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              {columns.map((c) => (
                <Table.Th key={c}>{t(`policy.tier.${c}`)}</Table.Th>
              ))}
              <Table.Th>
                <VisuallyHidden>{t('policy.remove')}</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {draft.tiers.map((tier, i) => {
              const row = formatInteger(i + 1, i18n.language);
              const at = (c: string) => `tiers.${String(i)}.${c}`;
              const label = (c: string) => t('policy.ofRow', { what: t(`policy.tier.${c}` as never), row });
              return (
                <Table.Tr key={String(i)}>
                  {cell(label('code'), tier.code, error(at('code')), at('code'), (code) => {
                    set(i, { code });
                  })}
                  {cell(label('nameFa'), tier.nameFa, error(at('nameFa')), at('nameFa'), (nameFa) => {
                    set(i, { nameFa });
                  })}
                  {cell(label('nameEn'), tier.nameEn, error(at('nameEn')), at('nameEn'), (nameEn) => {
                    set(i, { nameEn });
                  })}
                  {cell(
                    label(spend ? 'spend' : 'threshold'),
                    tier.threshold,
                    error(at('threshold')),
                    at('threshold'),
                    (threshold) => {
                      set(i, { threshold });
                    },
                  )}
                  {cell(
                    label('multiplier'),
                    tier.multiplier,
                    error(at('multiplier')),
                    at('multiplier'),
                    (multiplier) => {
                      set(i, { multiplier });
                    },
                  )}
                  <Table.Td>
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label={t('policy.removeTier', { row })}
                      onClick={() => {
                        onChange({ ...draft, tiers: draft.tiers.filter((_, j) => j !== i) });
                      }}
                    >
                      <IconTrash size={18} aria-hidden />
                    </ActionIcon>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <div>
        <Button
          variant="default"
          onClick={() => {
            onChange({ ...draft, tiers: [...draft.tiers, { ...EMPTY_TIER }] });
          }}
        >
          {t('policy.addTier')}
        </Button>
      </div>
    </Section>
  );
}
