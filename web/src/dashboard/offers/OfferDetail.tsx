/**
 * One offer: its document in words (who, on which purchase, what it gives, its limits),
 * its status and history, and for managers the steps of its life — edit a draft, activate
 * it (below margin the node refuses until a manager says why, which is kept), stop it —
 * then how shoppers answered it.
 */
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  List,
  Stack,
  Text,
  Textarea,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/node';
import type { DashboardOfferQuery } from '../../gql/node/graphql';
import { formatInteger, formatJalaliDateTime } from '../../shared/format';
import { SHOP_MANAGE } from '../../shared/scopes';
import { mayUse, useSession } from '../../shared/ui/session-context';
import { useClub } from './club';
import { type Said, sayCondition, sayLimits, sayReward, type Words } from './describe';
import { ProblemAlert } from '../../shared/ui/ProblemAlert';
import { OfferReport } from './OfferReport';

const OfferById = graphql(`
  query DashboardOffer($id: ID!) {
    offer(id: $id) {
      id
      kind
      status
      nameFa
      nameEn
      document
      createdAt
      createdBy
      activatedAt
      activatedBy
      overrideReason
      stoppedAt
    }
  }
`);

const Activate = graphql(`
  mutation DashboardActivateOffer($id: ID!, $overrideReason: String) {
    activateOffer(id: $id, overrideReason: $overrideReason) {
      __typename
      ... on OfferActivated {
        granted
        control
      }
      ... on BelowMargin {
        groups
      }
      ... on Problem {
        code
      }
    }
  }
`);

const Stop = graphql(`
  mutation DashboardStopOffer($id: ID!) {
    stopOffer(id: $id) {
      __typename
      ... on ShopOffer {
        id
        status
      }
      ... on Problem {
        code
      }
    }
  }
`);

type Offer = NonNullable<DashboardOfferQuery['offer']>;

export const STATUS_COLOR: Record<string, string> = { draft: 'gray.8', active: 'teal.9', stopped: 'red.9' };

function SaidList({ said }: { said: Said }) {
  return (
    <List size="sm" withPadding>
      <SaidChild said={said} />
    </List>
  );
}

function SaidChild({ said }: { said: Said }) {
  return (
    <List.Item>
      {said.text}
      {said.children ? (
        <List size="sm" withPadding>
          {said.children.map((child, i) => (
            <SaidChild key={String(i)} said={child} />
          ))}
        </List>
      ) : null}
    </List.Item>
  );
}

function Summary({ offer }: { offer: Offer }) {
  const { t, i18n } = useTranslation();
  const club = useClub();
  const words: Words = {
    t: (key, values = {}) => t(key as never, values),
    lang: i18n.language,
    groupName: club.groupName,
    tierName: club.tierName,
  };
  const doc = (offer.document ?? {}) as Record<string, unknown>;
  const part = (name: 'audience' | 'when', none: string) => (
    <Stack gap={4}>
      <Title order={4} size="h5">
        {t(`offers.part.${name}`)}
      </Title>
      {doc[name] ? <SaidList said={sayCondition(doc[name], words)} /> : <Text size="sm">{none}</Text>}
    </Stack>
  );
  const limits = sayLimits(doc, words);
  return (
    <Card withBorder padding="lg" data-testid="offer-summary">
      <Stack gap="md">
        {part('audience', t('offers.say.everyone'))}
        {part('when', t('offers.say.anyPurchase'))}
        <Stack gap={4}>
          <Title order={4} size="h5">
            {t('offers.section.reward')}
          </Title>
          <Text size="sm">{sayReward(doc.reward, words)}</Text>
        </Stack>
        {limits.length ? (
          <Stack gap={4}>
            <Title order={4} size="h5">
              {t('offers.section.limits')}
            </Title>
            <List size="sm" withPadding>
              {limits.map((line) => (
                <List.Item key={line}>{line}</List.Item>
              ))}
            </List>
          </Stack>
        ) : null}
      </Stack>
    </Card>
  );
}

function History({ offer }: { offer: Offer }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const at = (value: string) => formatJalaliDateTime(value, lang);
  return (
    <Stack gap={4} data-testid="offer-history">
      <Text size="sm">{t('offers.detail.created', { at: at(offer.createdAt), by: offer.createdBy })}</Text>
      {offer.activatedAt ? (
        <Text size="sm">
          {t('offers.detail.activatedAt', { at: at(offer.activatedAt), by: offer.activatedBy ?? '' })}
        </Text>
      ) : null}
      {offer.overrideReason ? (
        <Text size="sm" data-testid="offer-override">
          {t('offers.detail.override', { reason: offer.overrideReason })}
        </Text>
      ) : null}
      {offer.stoppedAt ? <Text size="sm">{t('offers.detail.stoppedAt', { at: at(offer.stoppedAt) })}</Text> : null}
    </Stack>
  );
}

function Actions({ offer, onDone }: { offer: Offer; onDone: () => void }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const club = useClub();
  const [activating, activate] = useMutation(Activate);
  const [stopping, stop] = useMutation(Stop);
  const [below, setBelow] = useState<string[] | null>(null);
  const [reason, setReason] = useState('');
  const [confirmStop, setConfirmStop] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const go = (overrideReason: string | null) => {
    setProblem(null);
    void activate({ id: offer.id, overrideReason }).then((result) => {
      const answer = result.data?.activateOffer;
      if (answer?.__typename === 'OfferActivated') {
        setBelow(null);
        setNotice(
          offer.kind === 'one_time'
            ? t('offers.detail.launched', {
                granted: formatInteger(answer.granted, lang),
                control: formatInteger(answer.control, lang),
              })
            : t('offers.detail.activated'),
        );
        onDone();
      } else if (answer?.__typename === 'BelowMargin') {
        setBelow(answer.groups);
      } else {
        setProblem((answer && 'code' in answer ? answer.code : null) ?? 'UNKNOWN');
      }
    });
  };
  const end = () => {
    setProblem(null);
    void stop({ id: offer.id }).then((result) => {
      const answer = result.data?.stopOffer;
      setConfirmStop(false);
      if (answer?.__typename === 'ShopOffer') {
        setNotice(t('offers.detail.stopped'));
        onDone();
      } else {
        setProblem((answer && 'code' in answer ? answer.code : null) ?? 'UNKNOWN');
      }
    });
  };
  const draft = offer.status === 'draft';
  return (
    <Card withBorder padding="lg">
      <Stack gap="sm">
        <Group gap="sm" wrap="wrap">
          {draft ? (
            <>
              <Button component={Link} to={`/offers/${offer.id}/edit`} variant="default">
                {t('offers.detail.edit')}
              </Button>
              <Button onClick={() => { go(null); }} loading={activating.fetching && below === null} data-testid="offer-activate">
                {t('offers.detail.activate')}
              </Button>
            </>
          ) : null}
          {offer.status !== 'stopped' && !confirmStop ? (
            <Button variant="outline" color="red.9" onClick={() => { setConfirmStop(true); }} data-testid="offer-stop">
              {t(draft ? 'offers.detail.drop' : 'offers.detail.stop')}
            </Button>
          ) : null}
        </Group>
        {confirmStop ? (
          <Alert color="red" variant="light" data-testid="offer-stop-confirm">
            <Stack gap="xs">
              <Text size="sm">{t(draft ? 'offers.detail.dropConfirm' : 'offers.detail.stopConfirm')}</Text>
              <Group gap="sm">
                <Button color="red.9" onClick={end} loading={stopping.fetching} data-testid="offer-stop-yes">
                  {t(draft ? 'offers.detail.drop' : 'offers.detail.stop')}
                </Button>
                <Button variant="default" onClick={() => { setConfirmStop(false); }}>
                  {t('offers.detail.cancel')}
                </Button>
              </Group>
            </Stack>
          </Alert>
        ) : null}
        {below ? (
          <Alert color="red" variant="light" data-testid="offer-below-margin">
            <Stack gap="sm">
              <Text size="sm" fw={700}>
                {t('offers.detail.belowMargin', { groups: below.map(club.groupName).join(t('offers.listSeparator')) })}
              </Text>
              <Textarea
                label={t('offers.detail.reason')}
                description={t('offers.detail.reasonHint')}
                autosize
                minRows={2}
                value={reason}
                onChange={(e) => {
                  setReason(e.currentTarget.value);
                }}
              />
              <div>
                <Button
                  color="red.9"
                  disabled={reason.trim().length < 3}
                  loading={activating.fetching}
                  onClick={() => { go(reason.trim()); }}
                  data-testid="offer-activate-anyway"
                >
                  {t('offers.detail.activateAnyway')}
                </Button>
              </div>
            </Stack>
          </Alert>
        ) : null}
        {notice ? (
          <Text role="status" c="teal.9" data-testid="offer-notice">
            {notice}
          </Text>
        ) : null}
        <ProblemAlert code={problem} />
      </Stack>
    </Card>
  );
}

export function OfferDetail() {
  const { t, i18n } = useTranslation();
  const { id = '' } = useParams();
  const session = useSession();
  const [{ data, fetching, error }, reload] = useQuery({
    query: OfferById,
    variables: { id },
    requestPolicy: 'cache-and-network',
  });
  const [reportKey, setReportKey] = useState(0);
  const offer = data?.offer;
  if (!offer) {
    return (
      <Text role="status">
        {fetching ? t('offers.loading') : error ? t('offers.failed') : t('offers.notFound')}
      </Text>
    );
  }
  const name = (i18n.language === 'fa' ? offer.nameFa : offer.nameEn) || offer.nameFa;
  return (
    <Stack gap="lg">
      <Group justify="space-between" wrap="wrap">
        <Title order={2}>{name}</Title>
        <Anchor component={Link} to="/offers">
          {t('offers.detail.all')}
        </Anchor>
      </Group>
      <Group gap="xs">
        <Badge variant="outline" tt="none" color="blue.9">
          {t(`offers.kind.${offer.kind === 'one_time' ? 'one_time' : 'permanent'}`)}
        </Badge>
        <Badge variant="outline" tt="none" color={STATUS_COLOR[offer.status] ?? 'gray.8'} data-testid="offer-status">
          {t(`offers.status.${offer.status === 'active' || offer.status === 'stopped' ? offer.status : 'draft'}`)}
        </Badge>
      </Group>
      <History offer={offer} />
      <Summary offer={offer} />
      {mayUse(session, SHOP_MANAGE) && offer.status !== 'stopped' ? (
        <Actions
          offer={offer}
          onDone={() => {
            reload({ requestPolicy: 'network-only' });
            setReportKey((n) => n + 1);
          }}
        />
      ) : null}
      {offer.status !== 'draft' ? <OfferReport key={reportKey} id={offer.id} /> : null}
    </Stack>
  );
}
