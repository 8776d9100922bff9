/**
 * A message of any kind as a member's phone would show it, before the shop changes a
 * text: the kind, the language and, if typed, the shop's own text, asked of the node a
 * moment after the typing stops (messagePreview renders it with example values and the
 * shop's name). Shown: the parts as the phone receives them, how full each is, the
 * encoding, the cost of one message, and what is wrong with the text at its field.
 */
import { Alert, Paper, SegmentedControl, Select, SimpleGrid, Stack, Text, Textarea, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/node';
import { Toman } from '../../shared/ui/Bdi';
import { ProblemAlert } from '../../shared/ui/ProblemAlert';
import { Figure, PhoneParts } from './common';
import { langDirection } from './preview';
import { type ShopKind, SHOP_KINDS, kindKey } from './status';

export const TYPING_PAUSE_MS = 400;

const Preview = graphql(`
  query DashboardMessagePreview($kind: String!, $lang: String!, $template: String) {
    messagePreview(kind: $kind, lang: $lang, template: $template) {
      __typename
      ... on MessagePreview {
        kind
        lang
        line
        text
        segments {
          encoding
          units
          parts
          perPart
        }
        partTexts
        costRial
        templateUsed
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

type Lang = 'fa' | 'en';

export function TemplatePreview() {
  const { t, i18n } = useTranslation();
  const [kind, setKind] = useState<ShopKind>('welcome');
  const [lang, setLang] = useState<Lang>('fa');
  const [template, setTemplate] = useState('');
  const [typed] = useDebouncedValue(template, TYPING_PAUSE_MS);
  const [{ data, fetching, error }] = useQuery({
    query: Preview,
    variables: { kind, lang, template: typed.trim() === '' ? null : typed },
  });
  const result = data?.messagePreview;
  const shown = result?.__typename === 'MessagePreview' ? result : null;
  const problems = shown?.problems ?? [];
  const said = problems.map((p) => (i18n.language === 'fa' ? p.messageFa : p.messageEn)).join(' ');

  return (
    <Stack gap="md">
      <Title order={3} size="h4">
        {t('messaging.preview.title')}
      </Title>
      <Text size="sm" c="dimmed">
        {t('messaging.preview.hint')}
      </Text>
      <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
        <Select
          label={t('messaging.preview.kind')}
          data={SHOP_KINDS.map((value) => ({ value, label: t(kindKey(value)) }))}
          value={kind}
          allowDeselect={false}
          onChange={(value) => {
            if (value) setKind(value);
          }}
          data-testid="preview-kind"
        />
        <Stack gap={4}>
          <Text size="sm" fw={500} id="preview-lang-label">
            {t('messaging.lang.label')}
          </Text>
          <SegmentedControl
            aria-labelledby="preview-lang-label"
            value={lang}
            onChange={(value) => {
              setLang(value === 'en' ? 'en' : 'fa');
            }}
            data={(['fa', 'en'] as const).map((value) => ({ value, label: t(`messaging.lang.${value}`) }))}
            style={{ alignSelf: 'flex-start' }}
          />
        </Stack>
      </SimpleGrid>
      <Textarea
        label={t('messaging.preview.custom')}
        description={t('messaging.preview.customHint')}
        value={template}
        onChange={(event) => {
          setTemplate(event.currentTarget.value);
        }}
        error={typed === template && said ? said : null}
        autosize
        minRows={3}
        maxRows={10}
        dir={langDirection(lang)}
        lang={lang}
        data-testid="preview-template"
      />
      {error ? (
        <Alert color="red" role="alert">
          {t('messaging.failed')}
        </Alert>
      ) : null}
      {result?.__typename === 'InvalidInput' ? <ProblemAlert code={result.code} /> : null}
      {shown ? (
        <Paper withBorder p="md" radius="md" aria-busy={fetching || typed !== template} data-testid="message-preview">
          <Stack gap="sm">
            <Text size="sm" c="dimmed" aria-live="polite">
              {fetching || typed !== template
                ? t('messaging.preview.checking')
                : typed.trim() === ''
                  ? t(`messaging.preview.line.${shown.line === 'promotional' ? 'promotional' : 'service'}`)
                  : t(shown.templateUsed ? 'messaging.preview.yoursShown' : 'messaging.preview.defaultShown')}
            </Text>
            <PhoneParts partTexts={shown.partTexts} segments={shown.segments} lang={shown.lang} />
            <Figure label={t('messaging.preview.cost')} testId="preview-cost">
              <Toman rial={shown.costRial} />
            </Figure>
          </Stack>
        </Paper>
      ) : fetching ? (
        <Text c="dimmed">{t('messaging.loading')}</Text>
      ) : null}
    </Stack>
  );
}
