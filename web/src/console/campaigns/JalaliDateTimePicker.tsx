/**
 * A Jalali date and a time of day in Tehran, picked on a month grid (Saturday first) or
 * typed: the campaign and lottery forms send the hub `1405/09/14 10:00` (`momentText`).
 */
import {
  ActionIcon,
  Group,
  Popover,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  UnstyledButton,
} from '@mantine/core';
import { IconCalendar, IconChevronLeft, IconChevronRight } from '@tabler/icons-react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

import { formatInteger, formatJalaliDate } from '../../shared/format';
import { parseJalaliDate } from '../../shared/format/dates';
import { Bdi } from '../../shared/ui/Bdi';
import {
  gregorianOf,
  type Moment,
  monthGrid,
  parseClock,
  shiftMonth,
  tehranInstant,
} from './jalaliMoment';
import { getDate, getMonth, getYear } from 'date-fns-jalali';

const WEEKDAYS = ['sat', 'sun', 'mon', 'tue', 'wed', 'thu', 'fri'] as const;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

export function JalaliDateTimePicker({
  id,
  label,
  value,
  onChange,
  error,
}: {
  id: string;
  label: string;
  value: Moment;
  onChange: (value: Moment) => void;
  error?: string | null | undefined;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [open, setOpen] = useState(false);
  const [shown, setShown] = useState({ year: value.year, month: value.month });
  const [dateText, setDateText] = useState(`${value.year}/${pad(value.month)}/${pad(value.day)}`);
  const [clockText, setClockText] = useState(`${pad(value.hour)}:${pad(value.minute)}`);
  const [typedWrong, setTypedWrong] = useState<'date' | 'clock' | null>(null);

  const pick = (day: number) => {
    const next = { ...value, year: shown.year, month: shown.month, day };
    setDateText(`${next.year}/${pad(next.month)}/${pad(next.day)}`);
    setTypedWrong(null);
    onChange(next);
    setOpen(false);
  };
  const typeDate = (text: string) => {
    setDateText(text);
    const date = parseJalaliDate(text);
    if (!date) { setTypedWrong('date'); return; }
    setTypedWrong(null);
    const day = { year: getYear(date), month: getMonth(date) + 1, day: getDate(date) };
    setShown({ year: day.year, month: day.month });
    onChange({ ...value, ...day });
  };
  const typeClock = (text: string) => {
    setClockText(text);
    const clock = parseClock(text);
    if (!clock) { setTypedWrong('clock'); return; }
    setTypedWrong(null);
    onChange({ ...value, ...clock });
  };
  const monthName = formatJalaliDate(gregorianOf({ ...shown, day: 1 }), lang, 'long')
    .replace(/^[\d۰-۹]+\s*/, '');
  const problem =
    typedWrong === 'date'
      ? t('mallCampaigns.picker.badDate')
      : typedWrong === 'clock'
        ? t('mallCampaigns.picker.badTime')
        : (error ?? null);

  return (
    <Stack gap={4}>
      <Group gap="xs" align="flex-end" wrap="nowrap">
        <TextInput
          id={id}
          label={label}
          description={t('mallCampaigns.picker.dateHint')}
          value={dateText}
          onChange={(e) => { typeDate(e.currentTarget.value); }}
          error={problem}
          dir="ltr"
          style={{ flex: 1 }}
        />
        <Popover opened={open} onChange={setOpen} position="bottom" withArrow trapFocus>
          <Popover.Target>
            <ActionIcon
              variant="light"
              size="lg"
              mb={problem ? 24 : 0}
              aria-label={t('mallCampaigns.picker.open', { label })}
              onClick={() => { setOpen((o) => !o); }}
              data-testid={`${id}-calendar`}
            >
              <IconCalendar size={18} />
            </ActionIcon>
          </Popover.Target>
          <Popover.Dropdown>
            <Group justify="space-between" mb="xs">
              <ActionIcon
                variant="subtle"
                aria-label={t('mallCampaigns.picker.previous')}
                onClick={() => { setShown(shiftMonth(shown.year, shown.month, -1)); }}
              >
                {lang === 'fa' ? <IconChevronRight size={16} /> : <IconChevronLeft size={16} />}
              </ActionIcon>
              <Text fw={600} aria-live="polite">
                {monthName}
              </Text>
              <ActionIcon
                variant="subtle"
                aria-label={t('mallCampaigns.picker.next')}
                onClick={() => { setShown(shiftMonth(shown.year, shown.month, 1)); }}
              >
                {lang === 'fa' ? <IconChevronLeft size={16} /> : <IconChevronRight size={16} />}
              </ActionIcon>
            </Group>
            <SimpleGrid cols={7} spacing={2} verticalSpacing={2}>
              {WEEKDAYS.map((d) => (
                <Text key={d} size="xs" c="dimmed" ta="center">
                  {t(`mallCampaigns.picker.weekday.${d}`)}
                </Text>
              ))}
              {monthGrid(shown.year, shown.month)
                .flat()
                .map((day, i) => {
                  if (day === null) return <span key={`blank-${i}`} />;
                  const chosen =
                    shown.year === value.year && shown.month === value.month && day === value.day;
                  return (
                    <UnstyledButton
                      key={day}
                      onClick={() => {
                        pick(day);
                      }}
                      aria-label={formatJalaliDate(gregorianOf({ ...shown, day }), lang, 'full')}
                      aria-pressed={chosen}
                      data-day={day}
                      style={{
                        textAlign: 'center',
                        padding: '4px 0',
                        borderRadius: 4,
                        minInlineSize: 32,
                        background: chosen ? 'var(--mantine-color-blue-8)' : undefined,
                        color: chosen ? 'white' : undefined,
                      }}
                    >
                      {formatInteger(day, lang)}
                    </UnstyledButton>
                  );
                })}
            </SimpleGrid>
          </Popover.Dropdown>
        </Popover>
        <TextInput
          id={`${id}-time`}
          label={t('mallCampaigns.picker.time')}
          value={clockText}
          onChange={(e) => { typeClock(e.currentTarget.value); }}
          dir="ltr"
          w={90}
          mb={problem ? 24 : 0}
        />
      </Group>
      <Text size="xs" c="dimmed">
        {t('mallCampaigns.picker.shown', {
          when: formatJalaliDate(gregorianOf(value), lang, 'full'),
        })}{' '}
        <Bdi>{new Intl.DateTimeFormat(lang === 'fa' ? 'fa-IR' : 'en-GB', {
          hour: '2-digit',
          minute: '2-digit',
          hourCycle: 'h23',
          timeZone: 'Asia/Tehran',
        }).format(tehranInstant(value))}</Bdi>
      </Text>
    </Stack>
  );
}
