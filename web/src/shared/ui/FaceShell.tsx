/**
 * The frame of every face: a header with the product's and the face's names and the
 * language switch, a notice while the device is offline, then the page. Logical properties only (inline-start/end), so it is
 * the same layout mirrored in Persian.
 */
import { Container, Group, Stack, Text, Title } from '@mantine/core';
import { type ReactNode, useEffect } from 'react';
import { Trans, useTranslation } from 'react-i18next';

import { localDigits } from '../format';
import { LanguageSwitch } from './LanguageSwitch';
import { OfflineNotice } from './OfflineNotice';

export type Face = 'app' | 'console' | 'dashboard';

export function FaceShell({
  face,
  account,
  children,
}: {
  face: Face;
  /** Who is signed in and the sign-out button (`SessionGate`), beside the language. */
  account?: ReactNode;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  const title = t(`face.${face}.title`);
  const product = t('product.name');
  useEffect(() => {
    document.title = `${title} · ${product}`;
  }, [title, product]);
  return (
    <>
      <header style={{ borderBlockEnd: '1px solid var(--mantine-color-gray-3)' }}>
        <Container size="lg" py="sm">
          <Group justify="space-between" wrap="wrap" gap="xs">
            <Stack gap={0}>
              <Text size="sm" c="dimmed">
                {product}
              </Text>
              <Title order={1} size="h3">
                {title}
              </Title>
            </Stack>
            <Group gap="sm" wrap="wrap">
              {account}
              <LanguageSwitch />
            </Group>
          </Group>
        </Container>
      </header>
      <Container component="main" size="lg" py="lg">
        <OfflineNotice />
        {children}
      </Container>
    </>
  );
}

/** The server's answer to the face's first query, as one line. */
export function ServerLine(props: {
  fetching: boolean;
  failed: boolean;
  version?: string | undefined;
  shop?: string | null | undefined;
}) {
  const { t, i18n } = useTranslation();
  if (props.fetching) return t('server.checking');
  if (props.failed || !props.version) return t('server.unreachable');
  const isolated = { bdi: <bdi dir="ltr" /> };
  const version = (
    <Trans
      i18nKey="server.version"
      values={{ version: localDigits(props.version, i18n.language) }}
      components={isolated}
    />
  );
  if (!props.shop) return version;
  return (
    <>
      <Trans i18nKey="server.shop" values={{ shop: props.shop }} components={isolated} /> ·{' '}
      {version}
    </>
  );
}

/** The server line as the foot of a face's pages. */
export function ServerFooter(props: Parameters<typeof ServerLine>[0]) {
  return (
    <footer style={{ marginBlockStart: 'var(--mantine-spacing-xl)' }}>
      <Text size="xs" c="dimmed" role="status">
        <ServerLine {...props} />
      </Text>
    </footer>
  );
}
