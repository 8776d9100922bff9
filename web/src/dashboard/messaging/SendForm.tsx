/**
 * The send dialog's form: the text and its language, and beside them what sending it
 * would do now, asked of the node a moment after the typing stops (broadcastPreview,
 * nothing sent): how many members the list holds, how many would receive it (offers
 * consent, and SMS or Telegram) and how, who gets nothing, whether the quiet hours would
 * hold it and until when (Tehran time), the text as a member receives it with its SMS
 * parts, and the estimated cost. What is wrong with the text shows at its field; "Send"
 * is offered only for a text the node has just previewed without a problem.
 */
import { Alert, Badge, Button, Group, Paper, SegmentedControl, SimpleGrid, Stack, Text, Textarea } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useRef, useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/node';
import { formatInteger, formatJalaliDate, formatToman, localDigits } from '../../shared/format';
import { newTillKey } from '../../shared/format/shopper';
import { Bdi, Toman } from '../../shared/ui/Bdi';
import { ProblemAlert } from '../../shared/ui/ProblemAlert';
import type { MemberFilterVariables } from '../members/filters';
import { Figure } from './common';
import { costLine, encodingKey, filterFields, langDirection } from './preview';
import { TYPING_PAUSE_MS } from './TemplatePreview';

const Preview = graphql(`
  query DashboardBroadcastPreview($filter: MemberFilterInput!, $text: String!, $lang: String!) {
    broadcastPreview(filter: $filter, text: $text, lang: $lang) {
      __typename
      ... on BroadcastPreview {
        matched
        recipients
        bySms
        byTelegram
        lackingConsent
        campaignsOff
        quietNow
        sendsAt
        sendsAtTehran
        text
        segments {
          encoding
          units
          parts
          perPart
        }
        partPriceRial
        costRial
        problems {
          field
          code
          messageEn
          messageFa
        }
      }
      ... on InvalidInput {
        code
      }
    }
  }
`);

const Send = graphql(`
  mutation DashboardSendToMembers($filter: MemberFilterInput!, $text: String!, $lang: String!, $idempotencyKey: String!) {
    sendToMembers(filter: $filter, text: $text, lang: $lang, idempotencyKey: $idempotencyKey) {
      __typename
      ... on Broadcast {
        id
      }
      ... on InvalidInput {
        code
        problems {
          field
          message
        }
      }
      ... on IdempotencyConflict {
        code
      }
      ... on SendLimit {
        code
      }
    }
  }
`);

type Lang = 'fa' | 'en';

function FilterSummary({ filter }: { filter: MemberFilterVariables }) {
  const { t, i18n } = useTranslation();
  const fields = filterFields(filter);
  if (fields.length === 0) return <Text size="sm">{t('messaging.send.everyone')}</Text>;
  const shown = (name: string, value: string) => {
    if (name === 'membershipType') return t(`members.kind.${value as 'INDIVIDUAL' | 'COMPANY' | 'EMPLOYEE'}`);
    if (/(From|To)$/.test(name)) return formatJalaliDate(value, i18n.language, 'medium');
    return value;
  };
  return (
    <Stack gap={4}>
      <Text size="sm">{t('messaging.send.filtered')}</Text>
      <Group gap={6} data-testid="send-filter">
        {fields.map(([name, value]) => (
          <Badge key={name} variant="outline" tt="none" color="gray.8">
            {name === 'search' ? t('members.search.label') : t(`members.filter.${name}`)}:{' '}
            <bdi>{shown(name, value)}</bdi>
          </Badge>
        ))}
      </Group>
    </Stack>
  );
}

export function SendForm({
  filter,
  onSent,
  onCancel,
}: {
  filter: MemberFilterVariables;
  onSent: (broadcastId: string) => void;
  onCancel: () => void;
}) {
  const { t, i18n } = useTranslation();
  const ui = i18n.language;
  const n = (value: number) => formatInteger(value, ui);
  // One send per opening of the dialog: the same key on every click of it.
  const [key] = useState(() => newTillKey('broadcast'));
  const [text, setText] = useState('');
  const [lang, setLang] = useState<Lang>('fa');
  const [refused, setRefused] = useState<string | null>(null);
  const [typed] = useDebouncedValue(text, TYPING_PAUSE_MS);
  const [{ data, fetching, error }] = useQuery({ query: Preview, variables: { filter, text: typed, lang } });
  const [{ fetching: sending }, send] = useMutation(Send);
  const clicked = useRef(false);

  const result = data?.broadcastPreview;
  const preview = result?.__typename === 'BroadcastPreview' ? result : null;
  const current = !fetching && typed === text;
  const problems = current && text.trim() !== '' ? (preview?.problems ?? []) : [];
  const said = problems.map((p) => (ui === 'fa' ? p.messageFa : p.messageEn)).join(' ');
  const sample = preview?.text ?? null;
  const segments = preview?.segments ?? null;
  const ready =
    current &&
    preview !== null &&
    sample !== null &&
    problems.length === 0 &&
    text.trim() !== '' &&
    preview.recipients > 0 &&
    !preview.campaignsOff;

  const submit = async () => {
    if (!ready || clicked.current) return;
    clicked.current = true;
    setRefused(null);
    const answer = await send({ filter, text, lang, idempotencyKey: key });
    clicked.current = false;
    const made = answer.data?.sendToMembers;
    if (made?.__typename === 'Broadcast') {
      onSent(made.id);
      return;
    }
    if (made?.__typename === 'IdempotencyConflict') setRefused('conflict');
    else if (made?.__typename === 'InvalidInput' || made?.__typename === 'SendLimit') {
      setRefused(made.code);
    }
    else setRefused('failed');
  };

  const cost = preview ? costLine(preview) : null;
  return (
    <Stack gap="md" data-testid="send-form">
      <FilterSummary filter={filter} />
      <Textarea
        label={t('messaging.send.text')}
        description={t('messaging.send.textHint')}
        value={text}
        onChange={(event) => {
          setText(event.currentTarget.value);
        }}
        error={said || null}
        autosize
        minRows={3}
        maxRows={8}
        dir={langDirection(lang)}
        lang={lang}
        required
        data-autofocus
        data-testid="send-text"
      />
      <Stack gap={4}>
        <Text size="sm" fw={500} id="send-lang-label">
          {t('messaging.lang.label')}
        </Text>
        <SegmentedControl
          aria-labelledby="send-lang-label"
          value={lang}
          onChange={(value) => {
            setLang(value === 'en' ? 'en' : 'fa');
          }}
          data={(['fa', 'en'] as const).map((value) => ({ value, label: t(`messaging.lang.${value}`) }))}
          style={{ alignSelf: 'flex-start' }}
        />
      </Stack>
      {error ? (
        <Alert color="red" role="alert">
          {t('messaging.failed')}
        </Alert>
      ) : null}
      {result?.__typename === 'InvalidInput' ? <ProblemAlert code={result.code} /> : null}
      {preview ? (
        <Paper withBorder p="md" radius="md" aria-busy={!current} data-testid="send-preview">
          <Stack gap="sm">
            <Text size="sm" c="dimmed" aria-live="polite">
              {current ? null : t('messaging.send.counting')}
            </Text>
            <SimpleGrid cols={{ base: 2, sm: 3 }} spacing="sm">
              <Figure label={t('messaging.send.matched')} testId="send-matched">
                <Bdi>{n(preview.matched)}</Bdi>
              </Figure>
              <Figure label={t('messaging.send.recipients')} testId="send-recipients">
                <Bdi>{n(preview.recipients)}</Bdi>
              </Figure>
              <Figure label={t('messaging.send.lacking')} testId="send-lacking">
                <Bdi>{n(preview.lackingConsent)}</Bdi>
              </Figure>
              <Figure label={t('messaging.send.bySms')} testId="send-sms">
                <Bdi>{n(preview.bySms)}</Bdi>
              </Figure>
              <Figure label={t('messaging.send.byTelegram')} testId="send-telegram">
                <Bdi>{n(preview.byTelegram)}</Bdi>
              </Figure>
            </SimpleGrid>
            {preview.lackingConsent > 0 ? (
              <Text size="xs" c="dimmed">
                {t('messaging.send.lackingHint')}
              </Text>
            ) : null}
            {preview.campaignsOff ? (
              <Alert color="red" role="alert" data-testid="send-campaigns-off">
                {t('messaging.send.campaignsOff')}
              </Alert>
            ) : preview.recipients === 0 ? (
              <Alert color="yellow" data-testid="send-nobody">
                {t('messaging.send.noRecipients')}
              </Alert>
            ) : null}
            {preview.quietNow ? (
              <Alert color="violet" data-testid="send-quiet">
                <Trans
                  i18nKey="messaging.send.quiet"
                  values={{
                    time: localDigits(preview.sendsAtTehran, ui),
                    day: formatJalaliDate(preview.sendsAt, ui, 'long'),
                  }}
                  components={{ bdi: <bdi dir="ltr" /> }}
                />
              </Alert>
            ) : null}
            {sample !== null && segments !== null ? (
              <Stack gap="xs">
                <Text size="sm" fw={600}>
                  {t('messaging.send.sample')}
                </Text>
                <Paper bg="gray.1" p="sm" radius="lg" maw={420}>
                  <Text lang={lang} dir={langDirection(lang)} style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }} data-testid="send-sample">
                    {sample}
                  </Text>
                </Paper>
                <SimpleGrid cols={{ base: 2, sm: 3 }} spacing="sm">
                  <Figure label={t('messaging.parts.count')} testId="send-parts">
                    <Bdi>{n(segments.parts)}</Bdi>
                  </Figure>
                  <Figure label={t('messaging.send.units')} testId="send-units">
                    {t('messaging.parts.units', {
                      units: n(segments.units),
                      limit: n(segments.parts * segments.perPart),
                    })}
                  </Figure>
                  <Figure label={t('messaging.parts.encoding')} plain>
                    {t(encodingKey(segments.encoding))}
                  </Figure>
                </SimpleGrid>
              </Stack>
            ) : null}
            {cost && sample !== null ? (
              <Stack gap={2} data-testid="send-cost">
                <Text size="sm" fw={600}>
                  {t('messaging.send.cost')}: <Toman rial={cost.totalRial} />
                </Text>
                {cost.adds && cost.sms > 0 ? (
                  <Text size="sm" c="dimmed" data-testid="send-cost-line">
                    <Trans
                      i18nKey="messaging.send.costLine"
                      values={{ sms: n(cost.sms), parts: n(cost.parts), price: formatToman(cost.partPriceRial, ui) }}
                      components={{ bdi: <bdi dir="ltr" /> }}
                    />
                  </Text>
                ) : null}
                {preview.byTelegram > 0 ? (
                  <Text size="xs" c="dimmed">
                    {t('messaging.send.telegramFree')}
                  </Text>
                ) : null}
              </Stack>
            ) : null}
          </Stack>
        </Paper>
      ) : fetching ? (
        <Text c="dimmed">{t('messaging.send.counting')}</Text>
      ) : null}
      {refused === 'failed' ? (
        <Alert color="red" role="alert" data-testid="problem">
          {t('messaging.send.failed')}
        </Alert>
      ) : refused === 'conflict' ? (
        <Alert color="red" role="alert" data-testid="problem">
          {t('messaging.send.conflict')}
        </Alert>
      ) : (
        <ProblemAlert code={refused} />
      )}
      <Group justify="flex-end" gap="sm">
        <Button variant="default" onClick={onCancel}>
          {t('messaging.send.cancel')}
        </Button>
        <Button
          onClick={() => void submit()}
          disabled={!ready}
          loading={sending}
          data-testid="send-submit"
        >
          {t('messaging.send.submit')}
        </Button>
      </Group>
    </Stack>
  );
}
