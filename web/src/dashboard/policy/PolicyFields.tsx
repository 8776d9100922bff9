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

type Texts<T> = { [K in keyof T]: T[K] extends string ? K : never }[keyof T] & string;

interface RowsProps<T> {
  list: 'groups' | 'tiers';
  items: T[];
  empty: T;
  columns: readonly string[];
  minWidth: number;
  error: (field: string) => string | null;
  onItems: (items: T[]) => void;
  /** One row's cells: ``input`` gives a text cell for a field, ``label`` a field's name. */
  cells: (
    item: T,
    input: (field: Texts<T>, column?: string) => ReactNode,
    set: (patch: Partial<T>) => void,
    label: (column: string) => string,
  ) => ReactNode;
}

const LIST_KEYS = {
  groups: { header: 'policy.group', remove: 'policy.removeGroup', add: 'policy.addGroup' },
  tiers: { header: 'policy.tier', remove: 'policy.removeTier', add: 'policy.addTier' },
} as const;

/** A list of the policy (product groups, tiers) as a table of inputs: a row per item, each
 * field's error under it, a button to remove a row and one to add another. */
function Rows<T extends object>(props: RowsProps<T>) {
  const { list, items, error, onItems } = props;
  const { t, i18n } = useTranslation();
  const keys = LIST_KEYS[list];
  const header = (column: string) => t(`${keys.header}.${column}` as never);
  return (
    <>
      {error(list) ? (
        <Text c="red.9" size="sm" role="alert">
          {error(list)}
        </Text>
      ) : null}
      <Table.ScrollContainer minWidth={props.minWidth}>
        <Table verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              {props.columns.map((c) => (
                <Table.Th key={c}>{header(c)}</Table.Th>
              ))}
              <Table.Th>
                <VisuallyHidden>{t('policy.remove')}</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((item, i) => {
              const row = formatInteger(i + 1, i18n.language);
              const label = (column: string) => t('policy.ofRow', { what: header(column), row });
              const set = (patch: Partial<T>) => {
                onItems(items.map((x, j) => (j === i ? { ...x, ...patch } : x)));
              };
              const input = (field: Texts<T>, column: string = field) => {
                const at = `${list}.${String(i)}.${field}`;
                return (
                  <Table.Td>
                    <TextInput
                      aria-label={label(column)}
                      value={String(item[field])}
                      error={error(at)}
                      data-field={at}
                      onChange={(e) => {
                        set({ [field]: e.currentTarget.value } as Partial<T>);
                      }}
                    />
                  </Table.Td>
                );
              };
              return (
                <Table.Tr key={String(i)}>
                  {props.cells(item, input, set, label)}
                  <Table.Td>
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label={t(keys.remove, { row })}
                      onClick={() => {
                        onItems(items.filter((_, j) => j !== i));
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
            onItems([...items, { ...props.empty }]);
          }}
        >
          {t(keys.add)}
        </Button>
      </div>
    </>
  );
}

function Groups({ draft, error, onChange }: ListProps) {
  const { t } = useTranslation();
  return (
    <Section title={t('policy.section.groups')}>
      <Text size="sm" c="dimmed">
        {t('policy.groupsHint')}
      </Text>
      <Rows<GroupDraft>
        list="groups"
        items={draft.groups}
        empty={EMPTY_GROUP}
        columns={['code', 'nameFa', 'nameEn', 'margin', 'own', 'credit', 'points', 'per']}
        minWidth={980}
        error={error}
        onItems={(groups) => {
          onChange({ ...draft, groups });
        }}
        cells={(g, input, set, label) => (
          <>
            {input('code')}
            {input('nameFa')}
            {input('nameEn')}
            {input('margin')}
            <Table.Td>
              <Checkbox
                aria-label={label('own')}
                checked={g.own}
                onChange={(e) => {
                  set({ own: e.currentTarget.checked });
                }}
              />
            </Table.Td>
            {g.own ? (
              <>
                {input('credit')}
                {input('points')}
                {input('per')}
              </>
            ) : (
              <Table.Td colSpan={3}>
                <Text size="sm" c="dimmed">
                  {t('policy.group.default')}
                </Text>
              </Table.Td>
            )}
          </>
        )}
      />
    </Section>
  );
}

function Tiers({ draft, error, onChange }: ListProps) {
  const { t } = useTranslation();
  const threshold = draft.tierBasis === 'spend_12m' ? 'spend' : 'threshold';
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
      <Rows<TierDraft>
        list="tiers"
        items={draft.tiers}
        empty={EMPTY_TIER}
        columns={['code', 'nameFa', 'nameEn', threshold, 'multiplier']}
        minWidth={760}
        error={error}
        onItems={(tiers) => {
          onChange({ ...draft, tiers });
        }}
        cells={(_tier, input) => (
          <>
            {input('code')}
            {input('nameFa')}
            {input('nameEn')}
            {input('threshold', threshold)}
            {input('multiplier')}
          </>
        )}
      />
    </Section>
  );
}
