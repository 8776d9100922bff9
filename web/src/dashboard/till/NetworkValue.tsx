/**
 * Paying part of a sale with the shopper's network value (points and credit from across
 * the mall, kept at the hub): the shopper's redemption grant — the QR in her app, scanned,
 * or its digits typed, or a code the hub texts her — lets the till hold value for this
 * receipt; the purchase then captures it. A hold the sale does not use is released.
 */
import { Badge, Button, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { type SubmitEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/node';
import { readGrantCode } from '../../shared/format/shopper';
import { Toman } from '../../shared/ui/Bdi';
import { ScanButton } from '../../shared/ui/ScanButton';
import { ProblemAlert } from './common';

const HasNetworkValue = graphql(`
  query TillNetworkValue($phone: String!) {
    networkValue(phone: $phone) {
      __typename
      ... on NetworkValue {
        hasValue
      }
    }
  }
`);

const HoldNetworkValue = graphql(`
  mutation TillHoldNetworkValue($input: HoldNetworkValueInput!) {
    holdNetworkValue(input: $input) {
      __typename
      ... on NetworkHold {
        id
        heldRial
        status
      }
      ... on HubAnswer {
        hubCode: code
      }
      ... on Problem {
        code
      }
    }
  }
`);

const RequestCode = graphql(`
  mutation TillRequestNetworkValueCode($phone: String!, $maxRial: Rial) {
    requestNetworkValueCode(phone: $phone, maxRial: $maxRial) {
      __typename
      ... on RedemptionCodeSent {
        expiresAt
      }
      ... on HubAnswer {
        hubCode: code
      }
      ... on Problem {
        code
      }
    }
  }
`);

export interface Hold {
  id: string;
  heldRial: number;
}

/** A hub's answer as a problem code the catalogue has a sentence for. */
function hubProblem(hubCode: string): string {
  return hubCode === 'HUB_UNAVAILABLE' || hubCode === 'NOT_CONNECTED'
    ? 'NETWORK_VALUE_UNAVAILABLE'
    : hubCode;
}

export function NetworkValue(props: {
  phone: string;
  receiptId: string;
  /** What is left to pay after credit: the most a hold may take. */
  dueRial: number | null;
  hold: Hold | null;
  onHold: (hold: Hold) => void;
  onRelease: () => void;
  releasing: boolean;
}) {
  const { t } = useTranslation();
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [codeSent, setCodeSent] = useState(false);
  const [badCode, setBadCode] = useState(false);
  const [{ data }] = useQuery({ query: HasNetworkValue, variables: { phone: props.phone } });
  const [{ fetching: holding }, hold] = useMutation(HoldNetworkValue);
  const [{ fetching: sending }, request] = useMutation(RequestCode);
  const known = data?.networkValue;
  const hasValue = known?.__typename === 'NetworkValue' ? known.hasValue : null;

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    setProblem(null);
    const grantCode = readGrantCode(code);
    setBadCode(grantCode === null);
    if (grantCode === null || !props.dueRial) return;
    const answer = await hold({
      input: {
        phone: props.phone,
        amountRial: props.dueRial,
        receiptId: props.receiptId,
        grantCode,
        partial: true,
      },
    });
    const result = answer.data?.holdNetworkValue;
    if (result?.__typename === 'NetworkHold') {
      setCode('');
      props.onHold({ id: result.id, heldRial: result.heldRial });
    } else if (result?.__typename === 'HubAnswer') {
      setProblem(hubProblem(result.hubCode));
    } else {
      setProblem(result && 'code' in result ? result.code : 'UNKNOWN');
    }
  };

  const sendCode = async () => {
    setProblem(null);
    const answer = await request({ phone: props.phone, maxRial: props.dueRial });
    const result = answer.data?.requestNetworkValueCode;
    if (result?.__typename === 'RedemptionCodeSent') {
      setCodeSent(true);
    } else if (result?.__typename === 'HubAnswer') {
      setProblem(hubProblem(result.hubCode));
    } else {
      setProblem(result && 'code' in result ? result.code : 'UNKNOWN');
    }
  };

  return (
    <Stack gap="xs" component="section" aria-labelledby="network-title">
      <Group gap="xs">
        <Title order={3} size="h5" id="network-title">
          {t('till.network.title')}
        </Title>
        {hasValue === null ? null : (
          <Badge variant="outline" color={hasValue ? 'teal.9' : 'gray.7'}>
            {hasValue ? t('till.network.has') : t('till.network.none')}
          </Badge>
        )}
      </Group>
      {props.hold ? (
        <Group gap="sm">
          <Text size="sm" data-testid="network-held">
            {t('till.network.held')} <Toman rial={props.hold.heldRial} />
          </Text>
          <Button
            variant="default"
            size="compact-sm"
            onClick={props.onRelease}
            loading={props.releasing}
          >
            {t('till.network.release')}
          </Button>
        </Group>
      ) : (
        <form onSubmit={(event) => void submit(event)} noValidate>
          <Group gap="sm" align="end" wrap="wrap">
            <TextInput
              label={t('till.network.code')}
              description={codeSent ? t('till.network.codeSent') : t('till.network.codeHint')}
              value={code}
              onChange={(event) => {
                setCode(event.currentTarget.value);
                setBadCode(false);
              }}
              error={badCode ? t('till.network.codeInvalid') : undefined}
              dir="ltr"
              autoComplete="off"
              style={{ flexGrow: 1 }}
            />
            <Button type="submit" variant="default" loading={holding} disabled={!props.dueRial}>
              {t('till.network.hold')}
            </Button>
            <ScanButton
              onRead={(scanned) => {
                setCode(scanned);
              }}
              labels={{
                open: t('till.scan.open'),
                title: t('till.scan.grantTitle'),
                hint: t('till.scan.hint'),
                failed: t('till.scan.failed'),
                close: t('till.scan.close'),
              }}
            />
            <Button variant="subtle" onClick={() => void sendCode()} loading={sending}>
              {t('till.network.sendCode')}
            </Button>
          </Group>
        </form>
      )}
      <ProblemAlert code={problem} />
    </Stack>
  );
}
