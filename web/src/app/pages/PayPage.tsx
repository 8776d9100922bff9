/**
 * Pay with network value: pick the shop, or scan the till's shop code ("mallnet:shop:<slug>",
 * taken only for a shop in the directory; anything else scanned is refused with a sentence
 * and never followed), seeing what she can spend there, then an amount in
 * toman or "as much as possible", her PIN (set it first, twice, on first use), then a
 * one-time payment code for that shop — its QR code and digits, large, with the time left
 * — which the page watches every two seconds until the till has used it (paid: how much,
 * and the balance now) or it expired (a new one is one tap away).
 */
import {
  Alert,
  Button,
  Card,
  Group,
  NativeSelect,
  PasswordInput,
  Radio,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { type SyntheticEvent, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import type { ShopperPayQuery } from '../../gql/hub/graphql';
import {
  formatCountdown,
  normalizeDigits,
  parseTomanInput,
  rialForApi,
  secondsLeft,
} from '../../shared/format';
import { problemMessage } from '../../shared/i18n/problems';
import { Bdi, Code, Toman } from '../../shared/ui/Bdi';
import { readShopCode } from '../../shared/format/shopCode';
import { QrCode } from '../../shared/ui/QrCode';
import { ScanButton } from '../../shared/ui/ScanButton';
import { LoadFailed, Loading, PointsAmount } from '../common';
import { shopName, useCategoryName } from '../../shared/shops';
import { spendableAt } from '../spendable';

const ShopperPay = graphql(`
  query ShopperPay {
    hasRedemptionPin
    directory {
      slug
      nameFa
      nameEn
      category
      acceptsPooledPoints
      acceptsGeneralCredit
    }
    me {
      pseudonym
      wallet {
        pooledPoints
        pooledValueRial
        totalValueRial
        credit {
          kind
          availableRial
          everywhere
          spendableAt {
            slug
          }
          acceptedCategory
        }
      }
    }
  }
`);

/** Her balance once paid: a document of its own, so no answer of the pay form is reused. */
const ShopperBalanceAfter = graphql(`
  query ShopperBalanceAfter {
    me {
      pseudonym
      wallet {
        totalValueRial
      }
    }
  }
`);

const SetShopperPin = graphql(`
  mutation SetShopperPin($pin: String!) {
    setRedemptionPin(pin: $pin) {
      __typename
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

const IssueShopperGrant = graphql(`
  mutation IssueShopperGrant($pin: String!, $maxRial: Rial, $shop: String) {
    issueRedemptionGrant(pin: $pin, maxRial: $maxRial, shop: $shop) {
      __typename
      ... on RedemptionGrant {
        id
        digits
        qrPayload
        expiresAt
        maxRial
      }
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

const ShopperGrantStatus = graphql(`
  query ShopperGrantStatus($id: String!) {
    myRedemptionGrant(id: $id) {
      id
      status
      expiresAt
      usedAt
      shop {
        slug
        nameFa
        nameEn
      }
      heldAt {
        slug
        nameFa
        nameEn
      }
      heldRial
      capturedRial
      paid
    }
  }
`);

type PayData = ShopperPayQuery;
type Shop = PayData['directory'][number];
type Wallet = NonNullable<PayData['me']>['wallet'];

interface Grant {
  id: string;
  digits: string;
  qrPayload: string;
  expiresAt: string;
  maxRial?: number | null | undefined;
}

const PIN = /^[0-9]{4,6}$/;

/** First use: the PIN, typed twice. */
function SetPin({ onSet }: { onSet: () => void }) {
  const { t } = useTranslation();
  const [pin, setPin] = useState('');
  const [again, setAgain] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching }, setRedemptionPin] = useMutation(SetShopperPin);
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    const typed = normalizeDigits(pin.trim());
    if (!PIN.test(typed)) {
      setProblem(t('shopper.pay.pinShape'));
      return;
    }
    if (typed !== normalizeDigits(again.trim())) {
      setProblem(t('shopper.pay.pinMismatch'));
      return;
    }
    setProblem(null);
    void setRedemptionPin({ pin: typed }).then((result) => {
      const answer = result.data?.setRedemptionPin;
      if (!answer || result.error) setProblem(problemMessage(t, null));
      else if (answer.__typename !== 'RedemptionPinSet') setProblem(problemMessage(t, answer.code));
      else onSet();
    });
  };
  return (
    <Card withBorder padding="md" component="form" onSubmit={submit} aria-labelledby="pin-title">
      <Stack gap="sm">
        <Title order={3} id="pin-title">
          {t('shopper.pay.setPinTitle')}
        </Title>
        <Text size="sm">{t('shopper.pay.setPinIntro')}</Text>
        <PasswordInput
          label={t('shopper.pay.newPin')}
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={6}
          value={pin}
          onChange={(event) => {
            setPin(event.currentTarget.value);
          }}
          required
          withAsterisk={false}
        />
        <PasswordInput
          label={t('shopper.pay.newPinAgain')}
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={6}
          value={again}
          onChange={(event) => {
            setAgain(event.currentTarget.value);
          }}
          required
          withAsterisk={false}
        />
        {problem ? (
          <Text c="red.9" role="alert">
            {problem}
          </Text>
        ) : null}
        <Group>
          <Button type="submit" loading={fetching}>
            {t('shopper.pay.savePin')}
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => {
      setNow(Date.now());
    }, 1000);
    return () => {
      window.clearInterval(timer);
    };
  }, [active]);
  return now;
}

/** The payment code on screen, watched until used or expired. */
function ShowGrant({
  grant,
  shop,
  onAgain,
  onDone,
}: {
  grant: Grant;
  shop: Shop | undefined;
  onAgain: () => void;
  onDone: () => void;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [{ data }, poll] = useQuery({
    query: ShopperGrantStatus,
    variables: { id: grant.id },
    requestPolicy: 'network-only',
  });
  const status = data?.myRedemptionGrant;
  const now = useNow(true);
  const left = secondsLeft(status?.expiresAt ?? grant.expiresAt, now);
  const paid = status?.paid === true;
  const expired = !paid && (status?.status === 'expired' || (left === 0 && status?.status !== 'used'));
  const watching = !paid && !expired;
  useEffect(() => {
    if (!watching) return;
    const timer = window.setInterval(() => {
      poll({ requestPolicy: 'network-only' });
    }, 2000);
    return () => {
      window.clearInterval(timer);
    };
  }, [watching, poll]);
  // Paid: the balance shown below comes from the hub again, not from before the payment.
  const [{ data: after }] = useQuery({
    query: ShopperBalanceAfter,
    requestPolicy: 'network-only',
    pause: !paid,
  });

  if (paid) {
    const captured = status.capturedRial;
    return (
      <Card withBorder padding="lg" data-testid="paid">
        <Stack gap="sm" align="center">
          <Title order={3} c="teal.9">
            {t('shopper.pay.paid')}
          </Title>
          <Text fz="xl" fw={700}>
            <Toman rial={captured} />
          </Text>
          {status.shop ? <Text>{shopName(status.shop, lang)}</Text> : null}
          {after?.me ? (
            <Text>
              {t('shopper.pay.balanceNow')} <Toman rial={after.me.wallet.totalValueRial} />
            </Text>
          ) : null}
          <Button onClick={onDone}>{t('shopper.pay.newPayment')}</Button>
        </Stack>
      </Card>
    );
  }
  if (expired) {
    return (
      <Card withBorder padding="lg" data-testid="expired">
        <Stack gap="sm" align="center">
          <Title order={3}>{t('shopper.pay.expired')}</Title>
          <Text>{t('shopper.pay.expiredHint')}</Text>
          <Group>
            <Button onClick={onAgain}>{t('shopper.pay.again')}</Button>
            <Button variant="default" onClick={onDone}>
              {t('shopper.pay.cancel')}
            </Button>
          </Group>
        </Stack>
      </Card>
    );
  }
  const held = status?.heldAt && status.heldRial > 0 ? status : null;
  return (
    <Card
      withBorder
      padding="lg"
      data-testid="grant"
      style={{ background: '#ffffff', color: '#000000', borderColor: '#000000' }}
    >
      <Stack gap="sm" align="center">
        <Title order={3} c="#000000">
          {shop ? t('shopper.pay.codeFor', { shop: shopName(shop, lang) }) : t('shopper.pay.code')}
        </Title>
        <QrCode value={grant.qrPayload} label={t('shopper.pay.qrLabel')} size={240} />
        <Text fz={34} fw={800} c="#000000" data-testid="grant-digits" style={{ letterSpacing: '0.12em' }}>
          <Code value={grant.digits} />
        </Text>
        <Text fw={600} c="#000000" data-testid="countdown" aria-live="off">
          {t('shopper.pay.timeLeft')} <Bdi>{formatCountdown(left, lang)}</Bdi>
        </Text>
        {grant.maxRial != null ? (
          <Text size="sm" c="#000000">
            {t('shopper.pay.atMost')} <Toman rial={grant.maxRial} />
          </Text>
        ) : null}
        <Text size="sm" c="#000000" ta="center" role="status">
          {held?.heldAt
            ? t('shopper.pay.heldAt', { shop: shopName(held.heldAt, lang) })
            : t('shopper.pay.showTill')}
        </Text>
        <Button variant="default" onClick={onDone}>
          {t('shopper.pay.cancel')}
        </Button>
      </Stack>
    </Card>
  );
}

function Spendable({ wallet, shop }: { wallet: Wallet; shop: Shop }) {
  const { t } = useTranslation();
  const here = spendableAt(wallet, shop);
  if (here.points === 0 && here.creditRial === 0) {
    return <Text c="red.9">{t('shopper.pay.nothingHere')}</Text>;
  }
  return (
    <Stack gap={2} data-testid="spendable">
      <Text size="sm" fw={600}>
        {t('shopper.pay.spendableHere')}
      </Text>
      {here.points > 0 ? (
        <Text>
          <PointsAmount points={here.points} /> (<Toman rial={here.pointsRial} />)
        </Text>
      ) : null}
      {here.creditRial > 0 ? (
        <Text>
          {t('shopper.pay.credit')} <Toman rial={here.creditRial} />
        </Text>
      ) : null}
    </Stack>
  );
}

export function PayPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const categoryName = useCategoryName();
  // What she can spend is never read from a cache.
  const [{ data, fetching, error }, refetch] = useQuery({
    query: ShopperPay,
    requestPolicy: 'network-only',
  });
  const [shopSlug, setShopSlug] = useState('');
  const [mode, setMode] = useState<'max' | 'amount'>('max');
  const [amount, setAmount] = useState('');
  const [pin, setPin] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [scanProblem, setScanProblem] = useState<string | null>(null);
  const [grant, setGrant] = useState<Grant | null>(null);
  const [{ fetching: issuing }, issueGrant] = useMutation(IssueShopperGrant);

  if (!data) return (
    <Stack gap="md" maw={640}>
      <Title order={2}>{t('shopper.pay.title')}</Title>
      {fetching ? <Loading /> : error ? <LoadFailed /> : null}
    </Stack>
  );
  const shops = [...data.directory].sort((a, b) =>
    shopName(a, lang).localeCompare(shopName(b, lang), lang),
  );
  const shop = shops.find((s) => s.slug === shopSlug);
  const wallet = data.me?.wallet;

  /** A scanned till code chooses its shop when the directory has it; nothing else does. */
  const scanned = (text: string) => {
    const slug = readShopCode(text);
    if (slug === null) {
      setScanProblem(t('shopper.pay.scan.notShop'));
    } else if (!shops.some((s) => s.slug === slug)) {
      setScanProblem(t('shopper.pay.scan.unknownShop'));
    } else {
      setScanProblem(null);
      setProblem(null);
      setShopSlug(slug);
    }
  };

  const issue = (event?: SyntheticEvent) => {
    event?.preventDefault();
    setProblem(null);
    if (!shop) {
      setProblem(t('shopper.pay.pickShop'));
      return;
    }
    let maxRial: number | null = null;
    if (mode === 'amount') {
      const rial = parseTomanInput(amount);
      if (rial === null || rial <= 0n) {
        setProblem(t('shopper.pay.amountShape'));
        return;
      }
      try {
        maxRial = rialForApi(rial);
      } catch {
        setProblem(t('shopper.pay.amountShape'));
        return;
      }
    }
    const typed = normalizeDigits(pin.trim());
    if (!PIN.test(typed)) {
      setProblem(t('shopper.pay.pinShape'));
      return;
    }
    void issueGrant({ pin: typed, maxRial, shop: shop.slug }).then((result) => {
      const answer = result.data?.issueRedemptionGrant;
      if (!answer || result.error) {
        setProblem(problemMessage(t, null));
      } else if (answer.__typename === 'RedemptionGrant') {
        setPin('');
        setGrant(answer);
      } else {
        setProblem(problemMessage(t, answer.code));
      }
    });
  };

  return (
    <Stack gap="md" maw={640}>
      <Title order={2}>{t('shopper.pay.title')}</Title>
      {grant ? (
        <ShowGrant
          grant={grant}
          shop={shop}
          onAgain={() => {
            setGrant(null);
          }}
          onDone={() => {
            setGrant(null);
            setAmount('');
            refetch({ requestPolicy: 'network-only' });
          }}
        />
      ) : !data.hasRedemptionPin ? (
        <SetPin
          onSet={() => {
            refetch({ requestPolicy: 'network-only' });
          }}
        />
      ) : (
        <Card withBorder padding="md" component="form" onSubmit={issue} noValidate>
          <Stack gap="md">
            <Group align="flex-end" gap="sm">
              <NativeSelect
                label={t('shopper.pay.shop')}
                value={shopSlug}
                onChange={(event) => {
                  setShopSlug(event.currentTarget.value);
                  setScanProblem(null);
                }}
                data={[
                  { value: '', label: t('shopper.pay.pickShop') },
                  ...shops.map((s) => ({
                    value: s.slug,
                    label: `${shopName(s, lang)} · ${categoryName(s.category)}`,
                  })),
                ]}
                style={{ flex: '1 1 14rem' }}
              />
              <ScanButton
                onRead={scanned}
                labels={{
                  open: t('shopper.pay.scan.open'),
                  title: t('shopper.pay.scan.title'),
                  hint: t('shopper.pay.scan.hint'),
                  failed: t('shopper.pay.scan.failed'),
                  close: t('shopper.pay.scan.close'),
                }}
              />
            </Group>
            {scanProblem ? (
              <Text c="red.9" role="alert" data-testid="scan-problem">
                {scanProblem}
              </Text>
            ) : null}
            {shop && wallet ? <Spendable wallet={wallet} shop={shop} /> : null}
            <Radio.Group
              label={t('shopper.pay.amount')}
              value={mode}
              onChange={(value) => {
                setMode(value === 'amount' ? 'amount' : 'max');
              }}
            >
              <Stack gap="xs" mt="xs">
                <Radio value="max" label={t('shopper.pay.asMuch')} />
                <Radio value="amount" label={t('shopper.pay.atMostAmount')} />
              </Stack>
            </Radio.Group>
            {mode === 'amount' ? (
              <TextInput
                label={t('shopper.pay.amountToman')}
                inputMode="decimal"
                value={amount}
                onChange={(event) => {
                  setAmount(event.currentTarget.value);
                }}
                rightSection={<Text size="xs">{t('money.toman')}</Text>}
                rightSectionWidth={56}
              />
            ) : null}
            <PasswordInput
              label={t('shopper.pay.pin')}
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={6}
              value={pin}
              onChange={(event) => {
                setPin(event.currentTarget.value);
              }}
            />
            {problem ? (
              <Alert color="red" variant="outline" role="alert">
                <Text c="red.9">{problem}</Text>
              </Alert>
            ) : null}
            <Group>
              <Button type="submit" loading={issuing} size="md">
                {t('shopper.pay.makeCode')}
              </Button>
            </Group>
          </Stack>
        </Card>
      )}
    </Stack>
  );
}
