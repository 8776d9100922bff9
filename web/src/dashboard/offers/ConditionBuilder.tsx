/**
 * A list of conditions combined with all or any: a row per condition, each with its kind,
 * its fields and an optional "not", a button to remove it and one to add another.
 */
import {
  ActionIcon,
  Button,
  Card,
  Checkbox,
  Fieldset,
  Group,
  NativeSelect,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';

import { formatInteger } from '../../shared/format';
import type { Club } from './club';
import {
  type Combine,
  type ConditionGroup,
  type ConditionRow,
  EMPTY_ROW,
  type FieldErrors,
  type LeafKind,
  type Part,
  type RowKind,
} from './form';
import { errorText } from './paths';
import { RowFields } from './RowFields';

interface Props {
  part: Part;
  group: ConditionGroup;
  kinds: readonly LeafKind[];
  club: Club;
  errors: FieldErrors;
  onChange: (group: ConditionGroup, field: string) => void;
}

const GROUP_KINDS: readonly string[] = ['bought_group', 'never_bought_group'];

export function ConditionBuilder({ part, group, kinds, club, errors, onChange }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const error = (field: string) => errorText(errors[field], lang, (key) => t(key as never));
  const setRows = (rows: ConditionRow[], field: string) => {
    onChange({ ...group, rows }, field);
  };
  const fresh = (kind: RowKind, not = false): ConditionRow => ({
    ...EMPTY_ROW,
    kind,
    not,
    group: GROUP_KINDS.includes(kind) ? (club.groups[0]?.code ?? '') : '',
  });
  const partError = error(part);
  return (
    <Card withBorder padding="lg">
      <Stack gap="md">
        <Title order={3} size="h4">
          {t(`offers.part.${part}`)}
        </Title>
        <Text size="sm" c="dimmed">
          {t(`offers.part.${part}Hint`)}
        </Text>
        {partError ? (
          <Text c="red.9" size="sm" role="alert" data-field={part}>
            {partError}
          </Text>
        ) : null}
        {group.rows.length > 1 ? (
          <NativeSelect
            label={t('offers.builder.combine')}
            value={group.combine}
            data={(['all', 'any'] as const).map((c) => ({ value: c, label: t(`offers.builder.${c}`) }))}
            onChange={(e) => {
              onChange({ ...group, combine: e.currentTarget.value as Combine }, `${part}.combine`);
            }}
            style={{ maxWidth: '24rem' }}
          />
        ) : null}
        {group.rows.map((row, i) => {
          const at = `${part}.${String(i)}`;
          const number = formatInteger(i + 1, lang);
          const setRow = (patch: Partial<ConditionRow>, field: string) => {
            setRows(
              group.rows.map((r, j) => (j === i ? { ...r, ...patch } : r)),
              `${at}.${field}`,
            );
          };
          const rowError = error(at);
          const options = row.kind === 'json' ? [...kinds, 'json' as const] : kinds;
          return (
            <Fieldset
              key={String(i)}
              legend={t('offers.builder.row', { row: number })}
              data-testid={`${part}-row`}
              variant="filled"
            >
              <Group align="flex-start" wrap="wrap" gap="sm">
                <NativeSelect
                  style={{ flex: '1 1 14rem', minWidth: '12rem' }}
                  label={t('offers.builder.kind')}
                  value={row.kind}
                  data={options.map((kind) => ({ value: kind, label: t(`offers.condition.${kind}`) }))}
                  onChange={(e) => {
                    const kind = e.currentTarget.value as RowKind;
                    setRows(
                      group.rows.map((r, j) => (j === i ? fresh(kind, r.not) : r)),
                      `${at}.kind`,
                    );
                  }}
                />
                <RowFields
                  row={row}
                  club={club}
                  error={(field) => error(`${at}.${field}`)}
                  onRow={setRow}
                />
                <Checkbox
                  mt={32}
                  label={t('offers.builder.not')}
                  checked={row.not}
                  onChange={(e) => {
                    setRow({ not: e.currentTarget.checked }, 'not');
                  }}
                />
                <ActionIcon
                  mt={28}
                  variant="subtle"
                  color="red.9"
                  size="lg"
                  aria-label={t('offers.builder.remove', { row: number })}
                  onClick={() => {
                    setRows(
                      group.rows.filter((_, j) => j !== i),
                      part,
                    );
                  }}
                >
                  <IconTrash size={18} aria-hidden />
                </ActionIcon>
              </Group>
              {rowError ? (
                <Text c="red.9" size="sm" mt="xs" role="alert" data-field={at}>
                  {rowError}
                </Text>
              ) : null}
            </Fieldset>
          );
        })}
        {group.rows.length === 0 ? (
          <Text size="sm">{t(`offers.part.${part}None`)}</Text>
        ) : null}
        <div>
          <Button
            variant="default"
            leftSection={<IconPlus size={16} aria-hidden />}
            onClick={() => {
              setRows([...group.rows, fresh(kinds[0] ?? 'visits')], `${part}.add`);
            }}
            data-testid={`${part}-add`}
          >
            {t('offers.builder.add')}
          </Button>
        </div>
      </Stack>
    </Card>
  );
}
