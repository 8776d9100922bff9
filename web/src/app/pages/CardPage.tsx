/**
 * The network card: the QR code a till scans and the card's number (her phone) to read
 * out, both large, black on white, one tap from every page.
 */
import { Card, Center, Stack, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { formatPhone, localDigits, parseMobile } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { QrCode } from '../../shared/ui/QrCode';
import { LoadFailed, Loading } from '../common';

const ShopperCard = graphql(`
  query ShopperCard {
    me {
      pseudonym
      card {
        number
        qrPayload
      }
    }
  }
`);

export function CardPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [{ data, fetching, error }] = useQuery({ query: ShopperCard });
  const card = data?.me?.card;
  return (
    <Stack gap="md" maw={640}>
      <Title order={2}>{t('shopper.card.title')}</Title>
      {card ? (
        <Card
          withBorder
          padding="lg"
          radius="lg"
          style={{ background: '#ffffff', color: '#000000', borderColor: '#000000' }}
        >
          <Stack align="center" gap="md">
            <Center>
              <QrCode value={card.qrPayload} label={t('shopper.card.qrLabel')} size={264} />
            </Center>
            <Text size="sm" fw={600} c="#000000">
              {t('shopper.card.number')}
            </Text>
            <Text
              fz={30}
              fw={800}
              c="#000000"
              data-testid="card-number"
              style={{ letterSpacing: '0.04em' }}
            >
              <Bdi>{localDigits(formatPhone(parseMobile(card.number) ?? card.number, lang), lang)}</Bdi>
            </Text>
            <Text size="sm" c="#000000" ta="center">
              {t('shopper.card.hint')}
            </Text>
          </Stack>
        </Card>
      ) : fetching ? (
        <Loading />
      ) : error ? (
        <LoadFailed />
      ) : (
        <Text>{t('shopper.card.none')}</Text>
      )}
    </Stack>
  );
}
