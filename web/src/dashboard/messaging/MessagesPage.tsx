/**
 * The dashboard's messages, for anyone on the shop's staff: the delivery log, and the
 * preview of a message before the shop changes its text. Which one shows is in the
 * address (?view=preview), beside the log's filters, so a link opens the same view.
 */
import { Stack, Tabs, Title } from '@mantine/core';
import { IconDeviceMobileMessage, IconList } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';

import { MessageLog } from './MessageLog';
import { TemplatePreview } from './TemplatePreview';

type View = 'log' | 'preview';

export function MessagesPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const view: View = params.get('view') === 'preview' ? 'preview' : 'log';
  return (
    <Stack gap="md">
      <Title order={2}>{t('messaging.title')}</Title>
      <Tabs
        value={view}
        onChange={(value) => {
          setParams(
            (before) => {
              const next = new URLSearchParams(before);
              if (value === 'preview') next.set('view', 'preview');
              else next.delete('view');
              return next;
            },
            { replace: true },
          );
        }}
        keepMounted={false}
      >
        <Tabs.List aria-label={t('messaging.tabs.label')} mb="md">
          <Tabs.Tab value="log" leftSection={<IconList size={16} aria-hidden />} data-testid="tab-log">
            {t('messaging.tabs.log')}
          </Tabs.Tab>
          <Tabs.Tab value="preview" leftSection={<IconDeviceMobileMessage size={16} aria-hidden />} data-testid="tab-preview">
            {t('messaging.tabs.preview')}
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="log">
          <MessageLog />
        </Tabs.Panel>
        <Tabs.Panel value="preview">
          <TemplatePreview />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
