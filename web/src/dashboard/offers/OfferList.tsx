/**
 * The shop's offers, newest first, a page at a time from the server: each one's name, kind,
 * status and when and by whom it went live, filtered by status; managers start a new one.
 */
import { Anchor, Badge, Button, Group, Loader, SegmentedControl, Stack, Table, Text, Title } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../../gql/node';
import { formatJalaliDateTime } from '../../shared/format';
import { SHOP_MANAGE } from '../../shared/scopes';
import { useCursorPages } from '../../shared/ui/cursorPages';
import { mayUse, useSession } from '../../shared/ui/session-context';
import { STATUS_COLOR } from './OfferDetail';

const PAGE = 20;
const STATUSES = ['all', 'draft', 'active', 'stopped'] as const;
type Status = (typeof STATUSES)[number];

const Offers = graphql(`
  query DashboardOffers($status: String, $first: Int!, $after: ID) {
    offers(status: $status, first: $first, after: $after) {
      items {
        id
        kind
        status
        nameFa
        nameEn
        activatedAt
        activatedBy
      }
      nextAfter
    }
  }
`);

function Rows({ status }: { status: Status }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const pages = useCursorPages();
  const [{ data, fetching, error }] = useQuery({
    query: Offers,
    variables: { status: status === 'all' ? null : status, first: PAGE, after: pages.cursor },
    requestPolicy: 'cache-and-network',
  });
  const page = data?.offers;
  if (error) {
    return (
      <Text role="alert" c="red.9">
        {t('offers.failed')}
      </Text>
    );
  }
  if (!page) return fetching ? <Loader aria-label={t('offers.loading')} /> : null;
  return (
    <Stack gap="sm">
      <Table.ScrollContainer minWidth={620}>
        <Table striped highlightOnHover data-testid="offer-list">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('offers.list.name')}</Table.Th>
              <Table.Th>{t('offers.list.kind')}</Table.Th>
              <Table.Th>{t('offers.list.status')}</Table.Th>
              <Table.Th>{t('offers.list.activated')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {page.items.map((offer) => (
              <Table.Tr key={offer.id} data-testid="offer-row">
                <Table.Td>
                  <Anchor component={Link} to={offer.id}>
                    {(lang === 'fa' ? offer.nameFa : offer.nameEn) || offer.nameFa}
                  </Anchor>
                </Table.Td>
                <Table.Td>{t(`offers.kind.${offer.kind === 'one_time' ? 'one_time' : 'permanent'}`)}</Table.Td>
                <Table.Td>
                  <Badge variant="outline" tt="none" color={STATUS_COLOR[offer.status] ?? 'gray.8'}>
                    {t(`offers.status.${offer.status === 'active' || offer.status === 'stopped' ? offer.status : 'draft'}`)}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  {offer.activatedAt
                    ? t('offers.list.activatedBy', {
                        at: formatJalaliDateTime(offer.activatedAt, lang),
                        by: offer.activatedBy ?? '',
                      })
                    : t('offers.list.notActivated')}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {page.items.length === 0 ? <Text c="dimmed">{t('offers.list.empty')}</Text> : null}
      <Group justify="space-between">
        <Button variant="default" disabled={pages.first || fetching} onClick={pages.back}>
          {t('offers.list.newer')}
        </Button>
        <Button
          variant="default"
          disabled={!page.nextAfter || fetching}
          onClick={() => {
            if (page.nextAfter) pages.forward(page.nextAfter);
          }}
          data-testid="offers-older"
        >
          {t('offers.list.older')}
        </Button>
      </Group>
    </Stack>
  );
}

export function OfferList() {
  const { t } = useTranslation();
  const session = useSession();
  const [status, setStatus] = useState<Status>('all');
  return (
    <Stack gap="md">
      <Group justify="space-between" wrap="wrap">
        <Title order={2}>{t('offers.title')}</Title>
        {mayUse(session, SHOP_MANAGE) ? (
          <Button component={Link} to="new" leftSection={<IconPlus size={18} aria-hidden />} data-testid="offer-new">
            {t('offers.list.new')}
          </Button>
        ) : null}
      </Group>
      <Text size="sm" c="dimmed">
        {t('offers.list.hint')}
      </Text>
      <SegmentedControl
        aria-label={t('offers.list.filter')}
        value={status}
        onChange={(value) => {
          setStatus(value);
        }}
        data={STATUSES.map((value) => ({ value, label: t(`offers.list.show.${value}`) }))}
        style={{ alignSelf: 'flex-start' }}
      />
      <Rows key={status} status={status} />
    </Stack>
  );
}
