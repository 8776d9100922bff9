/**
 * Registering a shop: its slug, directory details and (optionally) its node's address.
 * The hub answers with the node's client id and secret; the secret is shown here once
 * (the hub keeps only its hash), with the command that gives it to the node. Closing
 * the dialog forgets it.
 */
import { Alert, Button, Code, CopyButton, Group, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';

import { graphql } from '../../gql/hub';
import { Dialog, DialogForm, fieldError, type Problem } from '../overview/parts';
import { detailsInput, ShopFields, type Details } from './ShopDetails';

/** The alert's title in the text's colour: yellow on light yellow is too faint to read. */
const READABLE_TITLE = { title: { color: 'var(--mantine-color-text)' } };

const RegisterShopMutation = graphql(`
  mutation ConsoleRegisterShop($input: RegisterShopInput!) {
    registerShop(input: $input) {
      __typename
      ... on ShopRegistered {
        clientId
        clientSecret
        shop {
          slug
        }
      }
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

interface Registered {
  slug: string;
  clientId: string;
  clientSecret: string;
}

/** The CLI command a node's operator runs (it asks for the secret, kept out of history). */
export function connectCommand(slug: string, clientId: string): string {
  return `mallnet node-connect --shop ${slug} --client-id ${clientId}`;
}

function Copyable({ label, value, testId }: { label: string; value: string; testId: string }) {
  const { t } = useTranslation();
  return (
    <Stack gap={4}>
      <Text size="sm" fw={600}>
        {label}
      </Text>
      <Group gap="xs" wrap="nowrap" align="flex-start">
        <Code block dir="ltr" data-testid={testId} style={{ flex: 1, wordBreak: 'break-all' }}>
          {value}
        </Code>
        <CopyButton value={value}>
          {({ copied, copy }) => (
            <Button size="xs" variant="default" onClick={copy}>
              {t(copied ? 'mallOverview.common.copied' : 'mallOverview.common.copy')}
            </Button>
          )}
        </CopyButton>
      </Group>
    </Stack>
  );
}

function Credentials({ registered, onClose }: { registered: Registered; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Stack data-testid="registered">
      <Alert color="yellow" variant="light" styles={READABLE_TITLE} title={t('mallShops.register.onceTitle')}>
        <Text c="dark.9">{t('mallShops.register.once')}</Text>
      </Alert>
      <Copyable label={t('mallShops.register.clientId')} value={registered.clientId} testId="client-id" />
      <Copyable
        label={t('mallShops.register.clientSecret')}
        value={registered.clientSecret}
        testId="client-secret"
      />
      <Copyable
        label={t('mallShops.register.command')}
        value={connectCommand(registered.slug, registered.clientId)}
        testId="connect-command"
      />
      <Text size="sm">{t('mallShops.register.commandHint')}</Text>
      <Group justify="flex-end">
        <Button onClick={onClose}>{t('mallShops.register.stored')}</Button>
      </Group>
    </Stack>
  );
}

export function RegisterShop({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const [slug, setSlug] = useState('');
  const [nodeUrl, setNodeUrl] = useState('');
  const [details, setDetails] = useState<Details>({
    nameFa: '',
    nameEn: '',
    category: 'other',
    floor: '',
    unit: '',
  });
  const [problem, setProblem] = useState<Problem | null>(null);
  const [registered, setRegistered] = useState<Registered | null>(null);
  const [{ fetching }, register] = useMutation(RegisterShopMutation);
  async function submit() {
    const input = { slug: slug.trim(), nodeUrl: nodeUrl.trim() || null, ...detailsInput(details) };
    const result = (await register({ input })).data?.registerShop;
    if (!result) setProblem({ code: 'UNKNOWN' });
    else if (result.__typename !== 'ShopRegistered') setProblem(result);
    else {
      setProblem(null);
      setRegistered({ slug: result.shop.slug, clientId: result.clientId, clientSecret: result.clientSecret });
    }
  }
  return (
    <Dialog
      onClose={onClose}
      title={t(registered ? 'mallShops.register.doneTitle' : 'mallShops.register.title')}
      size="lg"
      closeOnClickOutside={!registered}
    >
      {registered ? (
        <Credentials registered={registered} onClose={onClose} />
      ) : (
        <DialogForm
          onSubmit={() => void submit()}
          onCancel={onClose}
          submitLabel={t('mallShops.register.submit')}
          fetching={fetching}
          problem={problem}
        >
          <TextInput
            label={t('mallShops.field.slug')}
            description={t('mallShops.field.slugHint')}
            required
            dir="ltr"
            value={slug}
            error={fieldError(t, problem, 'slug')}
            onChange={(event) => {
              setSlug(event.currentTarget.value);
            }}
          />
          <ShopFields value={details} onChange={setDetails} problem={problem} />
          <TextInput
            label={t('mallShops.field.nodeUrl')}
            description={t('mallShops.field.nodeUrlHint')}
            dir="ltr"
            type="url"
            value={nodeUrl}
            error={fieldError(t, problem, 'nodeUrl')}
            onChange={(event) => {
              setNodeUrl(event.currentTarget.value);
            }}
          />
        </DialogForm>
      )}
    </Dialog>
  );
}
