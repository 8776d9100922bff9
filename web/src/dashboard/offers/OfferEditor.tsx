/**
 * The offer editor (managers): a new offer, or a draft's changes, built in a form — its
 * kind and names, who gets it and on which purchase (rows of conditions), what it gives and
 * its limits — checked by the node as the form changes: each problem at its field, and
 * once the offer is whole, what it costs and leaves (the profit check and the backtest).
 * Saving keeps it as a draft; it goes live from its own page.
 */
import { Anchor, Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/node';
import { localDigits } from '../../shared/format';
import { type BasketForm, basketErrors, DEFAULT_BASKET_TOMAN, DEFAULT_DAYS, useOfferCheck } from './check';
import { useClub } from './club';
import { ConditionBuilder } from './ConditionBuilder';
import { documentOf, emptyForm, formOf, MEMBER_KINDS, type OfferForm, PURCHASE_KINDS } from './form';
import { OfferHead, OfferTerms } from './OfferFields';
import { ProblemAlert } from '../../shared/ui/ProblemAlert';
import { errorsOfProblems, errorText, type OfferProblem, shownErrors } from './paths';
import { ProfitCheck } from './ProfitCheck';

const OfferToEdit = graphql(`
  query DashboardOfferToEdit($id: ID!) {
    offer(id: $id) {
      id
      status
      document
    }
  }
`);

const Create = graphql(`
  mutation DashboardCreateOffer($document: JSON!) {
    createOffer(document: $document) {
      __typename
      ... on ShopOffer {
        id
      }
      ... on InvalidOffer {
        problems {
          path
          code
          messageEn
          messageFa
        }
      }
      ... on Problem {
        code
      }
    }
  }
`);

const Update = graphql(`
  mutation DashboardUpdateOffer($id: ID!, $document: JSON!) {
    updateOffer(id: $id, document: $document) {
      __typename
      ... on ShopOffer {
        id
      }
      ... on InvalidOffer {
        problems {
          path
          code
          messageEn
          messageFa
        }
      }
      ... on Problem {
        code
      }
    }
  }
`);

type Saved =
  | { __typename: 'ShopOffer'; id: string }
  | { __typename: 'InvalidOffer'; code: string; problems: OfferProblem[] }
  | { __typename: string; code?: string };

const WHEN_KINDS = [...PURCHASE_KINDS, ...MEMBER_KINDS] as const;

function Editor({ initial, id }: { initial: OfferForm; id?: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const navigate = useNavigate();
  const club = useClub();
  const [form, setForm] = useState(initial);
  const [touched, setTouched] = useState<ReadonlySet<string>>(() => new Set());
  const [submitted, setSubmitted] = useState(false);
  const [basket, setBasket] = useState<BasketForm>(() => ({
    amount: localDigits(DEFAULT_BASKET_TOMAN, lang),
    group: '',
    days: localDigits(DEFAULT_DAYS, lang),
  }));
  const [refused, setRefused] = useState<{ key: string; problems: readonly OfferProblem[] } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [creating, create] = useMutation(Create);
  const [updating, update] = useMutation(Update);

  const built = useMemo(() => documentOf(form), [form]);
  const document = 'document' in built ? built.document : null;
  const key = document === null ? null : JSON.stringify(document);
  const check = useOfferCheck(document, basket, club.groups[0]?.code);
  // The node's problems with this very document (the live check's, or a refused save's);
  // the page's own reading of a field goes first.
  const nodeProblems =
    check.state === 'problems' ? check.problems : refused?.key === key ? refused.problems : [];
  const errors = { ...errorsOfProblems(nodeProblems, form), ...('errors' in built ? built.errors : {}) };
  const shown = shownErrors(errors, touched, submitted);
  const formError = errorText(shown.form, lang, (k) => t(k as never));

  const change = (next: OfferForm, field: string) => {
    setForm(next);
    setTouched((before) => new Set(before).add(field));
    setProblem(null);
  };
  const done = (answer: Saved | undefined) => {
    if (answer?.__typename === 'ShopOffer' && 'id' in answer) {
      void navigate(`/offers/${answer.id}`);
    } else if (answer?.__typename === 'InvalidOffer' && 'problems' in answer && key !== null) {
      setRefused({ key, problems: answer.problems });
      setProblem(answer.code);
    } else {
      setProblem((answer && 'code' in answer ? answer.code : null) ?? 'UNKNOWN');
    }
  };
  const save = () => {
    setSubmitted(true);
    if (document === null) {
      setProblem('INVALID_INPUT');
      return;
    }
    if (id) void update({ id, document }).then((r) => { done(r.data?.updateOffer); });
    else void create({ document }).then((r) => { done(r.data?.createOffer); });
  };

  return (
    <Stack gap="lg">
      <Group justify="space-between" wrap="wrap">
        <Title order={2}>{t(id ? 'offers.editor.editTitle' : 'offers.editor.newTitle')}</Title>
        <Anchor component={Link} to={id ? `/offers/${id}` : '/offers'}>
          {t('offers.editor.back')}
        </Anchor>
      </Group>
      <OfferHead form={form} errors={shown} onChange={change} />
      <ConditionBuilder
        part="audience"
        group={form.audience}
        kinds={MEMBER_KINDS}
        club={club}
        errors={shown}
        onChange={(audience, field) => {
          change({ ...form, audience }, field);
        }}
      />
      <ConditionBuilder
        part="when"
        group={form.when}
        kinds={WHEN_KINDS}
        club={club}
        errors={shown}
        onChange={(when, field) => {
          change({ ...form, when }, field);
        }}
      />
      <OfferTerms form={form} club={club} errors={shown} onChange={change} />
      <ProfitCheck
        check={check}
        basket={basket}
        basketErrors={basketErrors(basket)}
        club={club}
        problems={Object.keys(errors).length}
        onBasket={setBasket}
        onReveal={() => {
          setSubmitted(true);
        }}
      />
      <Card withBorder padding="lg">
        <Stack gap="sm">
          {formError ? (
            <Text c="red.9" size="sm" role="alert">
              {formError}
            </Text>
          ) : null}
          <Group wrap="wrap">
            <Button onClick={save} loading={creating.fetching || updating.fetching} data-testid="offer-save">
              {t('offers.editor.save')}
            </Button>
            <Text size="sm" c="dimmed">
              {t('offers.editor.saveHint')}
            </Text>
          </Group>
          <ProblemAlert code={problem} />
        </Stack>
      </Card>
    </Stack>
  );
}

/** A new offer. */
export function NewOffer() {
  return <Editor initial={emptyForm()} />;
}

/** A draft's changes (an offer already live is stopped and another made instead). */
export function EditOffer() {
  const { t, i18n } = useTranslation();
  const { id = '' } = useParams();
  const [{ data, fetching, error }] = useQuery({
    query: OfferToEdit,
    variables: { id },
    requestPolicy: 'network-only',
  });
  const offer = data?.offer;
  if (!offer) {
    return (
      <Text role="status">
        {fetching ? t('offers.loading') : error ? t('offers.failed') : t('offers.notFound')}
      </Text>
    );
  }
  if (offer.status !== 'draft') {
    return (
      <Stack gap="sm">
        <Text>{t('offers.editor.notDraft')}</Text>
        <Anchor component={Link} to={`/offers/${offer.id}`}>
          {t('offers.editor.back')}
        </Anchor>
      </Stack>
    );
  }
  return <Editor key={offer.id} id={offer.id} initial={formOf(offer.document, i18n.language)} />;
}
