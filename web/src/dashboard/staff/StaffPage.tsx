/**
 * The shop's staff (managers): who they are, their role and whether they may sign in; add
 * someone, change a role, disable or enable an account, reset a password (the hub chooses
 * it and it is shown here once). Accounts live at the hub: the node asks it, and what the
 * hub or an unreachable hub says reads as a sentence. Disabling, a reset or a new role ends
 * that person's sessions, here too once the node has heard from the hub.
 */
import {
  Alert,
  Button,
  Card,
  Group,
  NativeSelect,
  PasswordInput,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/node';
import type { StaffRowFragment } from '../../gql/node/graphql';
import { formatJalaliDate } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { type CursorPages, useCursorPages } from '../../shared/ui/cursorPages';
import {
  type AccountErrors,
  answerKey,
  checkAccount,
  cleanUsername,
  type NewAccount,
  ROLES,
  type Role,
} from './account';

graphql(`
  fragment StaffRow on StaffAccount {
    id
    username
    role
    createdAt
    disabledAt
    active
  }
`);

graphql(`
  fragment StaffAnswer on StaffResult {
    __typename
    ... on StaffAccount {
      ...StaffRow
    }
    ... on HubAnswer {
      code
    }
  }
`);

const StaffList = graphql(`
  query DashboardStaffAccounts($first: Int!, $after: String) {
    staffAccounts(first: $first, after: $after) {
      __typename
      ... on StaffAccountList {
        items {
          ...StaffRow
        }
        hasMore
      }
      ... on HubAnswer {
        code
      }
    }
  }
`);

const Create = graphql(`
  mutation DashboardCreateStaff($input: NewStaffInput!) {
    createStaffAccount(input: $input) {
      ...StaffAnswer
    }
  }
`);

const Disable = graphql(`
  mutation DashboardDisableStaff($id: ID!) {
    disableStaffAccount(id: $id) {
      ...StaffAnswer
    }
  }
`);

const Enable = graphql(`
  mutation DashboardEnableStaff($id: ID!) {
    enableStaffAccount(id: $id) {
      ...StaffAnswer
    }
  }
`);

const ChangeRole = graphql(`
  mutation DashboardChangeStaffRole($id: ID!, $role: StaffRole!) {
    changeStaffRole(id: $id, role: $role) {
      ...StaffAnswer
    }
  }
`);

const Reset = graphql(`
  mutation DashboardResetStaffPassword($id: ID!) {
    resetStaffPassword(id: $id) {
      __typename
      ... on StaffPasswordReset {
        generatedPassword
        account {
          ...StaffRow
        }
      }
      ... on HubAnswer {
        code
      }
    }
  }
`);

const PAGE = 50;

type Answer =
  | { __typename: 'StaffAccount' | 'StaffPasswordReset' }
  | { __typename: 'HubAnswer'; code: string };

/** What was done, kept as a catalogue key and names so it follows a change of language. */
interface Notice {
  key: 'created' | 'roleChanged' | 'disabledDone' | 'enabledDone' | 'resetDone';
  username: string;
  role?: Role;
}

type Done = (problem: string | null, success: Notice | null) => void;

/** What a mutation's answer means: null when done, else the sentence's catalogue key. */
function refusedKey(answer: Answer | undefined, failed: boolean): string | null {
  if (!answer || failed) return answerKey(null);
  return answer.__typename === 'HubAnswer' ? answerKey(answer.code) : null;
}

function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function StaffPage() {
  const { t } = useTranslation();
  const pages = useCursorPages();
  const [{ data, fetching, error }, reload] = useQuery({
    query: StaffList,
    variables: { first: PAGE, after: pages.cursor },
  });
  const [notice, setNotice] = useState<Notice | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [password, setPassword] = useState<{ username: string; password: string } | null>(null);
  const done: Done = (key, success) => {
    setProblem(key);
    setNotice(key === null ? success : null);
    if (key === null) reload({ requestPolicy: 'network-only' });
  };
  const list = data?.staffAccounts;
  return (
    <Stack gap="lg">
      <Title order={2}>{t('staff.title')}</Title>
      {password ? (
        <Alert
          color="yellow"
          variant="light"
          title={t('staff.newPasswordTitle')}
          data-testid="new-password"
        >
          <Stack gap="xs">
            <Text size="sm">{t('staff.newPasswordFor', { username: password.username })}</Text>
            <Text size="lg" fw={700} data-testid="new-password-value">
              {/* As the hub wrote it: Latin digits, left to right, never translated. */}
              <bdi dir="ltr" translate="no" style={{ fontFamily: 'monospace' }}>
                {password.password}
              </bdi>
            </Text>
            <Text size="sm">{t('staff.newPasswordOnce')}</Text>
            <div>
              <Button
                variant="default"
                size="xs"
                onClick={() => {
                  setPassword(null);
                }}
              >
                {t('staff.newPasswordDone')}
              </Button>
            </div>
          </Stack>
        </Alert>
      ) : null}
      {notice ? (
        <Text role="status" c="teal.9" data-testid="staff-notice">
          {t(`staff.${notice.key}`, {
            username: notice.username,
            role: notice.role ? t(`staff.role.${notice.role}`) : '',
          })}
        </Text>
      ) : null}
      {problem ? (
        <Alert color="red" variant="light" role="alert" data-testid="problem">
          {t(problem as never)}
        </Alert>
      ) : null}
      <CreateForm onDone={done} />
      <Card withBorder padding="lg">
        <Stack gap="md">
          <Title order={3} size="h4">
            {t('staff.listTitle')}
          </Title>
          {list?.__typename === 'StaffAccountList' ? (
            <StaffTable
              items={list.items}
              pages={pages}
              hasMore={list.hasMore}
              onDone={done}
              onPassword={(username, generated) => {
                setPassword({ username, password: generated });
              }}
            />
          ) : list?.__typename === 'HubAnswer' ? (
            <Text role="alert" c="red.9">
              {t(answerKey(list.code) as never)}
            </Text>
          ) : (
            <Text role="status">
              {fetching ? t('staff.loading') : error ? t('staff.failed') : ''}
            </Text>
          )}
        </Stack>
      </Card>
    </Stack>
  );
}

function CreateForm({ onDone }: { onDone: Done }) {
  const { t } = useTranslation();
  const [account, setAccount] = useState<NewAccount>({
    username: '',
    password: '',
    role: 'OPERATOR',
  });
  const [errors, setErrors] = useState<AccountErrors>({});
  const [creating, create] = useMutation(Create);
  const submit = () => {
    const found = checkAccount(account);
    setErrors(found);
    if (Object.keys(found).length) return;
    const input = { ...account, username: cleanUsername(account.username) };
    void create({ input }).then((result) => {
      const key = refusedKey(result.data?.createStaffAccount, !!result.error);
      if (key === 'staff.error.taken') {
        setErrors({ username: key });
        onDone(null, null);
        return;
      }
      if (key === null) setAccount({ username: '', password: '', role: account.role });
      onDone(
        key,
        { key: 'created', username: input.username, role: input.role },
      );
    });
  };
  return (
    <Card withBorder padding="lg">
      <Stack gap="md">
        <Title order={3} size="h4">
          {t('staff.createTitle')}
        </Title>
        <Group grow align="flex-start" wrap="wrap">
          <TextInput
            label={t('staff.username')}
            description={t('staff.usernameHint')}
            autoComplete="off"
            value={account.username}
            error={errors.username ? t(errors.username as never) : null}
            onChange={(e) => {
              setAccount({ ...account, username: e.currentTarget.value });
            }}
          />
          <PasswordInput
            label={t('staff.password')}
            description={t('staff.passwordHint')}
            autoComplete="new-password"
            value={account.password}
            error={errors.password ? t(errors.password as never) : null}
            onChange={(e) => {
              setAccount({ ...account, password: e.currentTarget.value });
            }}
          />
          <NativeSelect
            label={t('staff.role.label')}
            value={account.role}
            onChange={(e) => {
              const role = e.currentTarget.value;
              if (isRole(role)) setAccount({ ...account, role });
            }}
            data={ROLES.map((r) => ({ value: r, label: t(`staff.role.${r}`) }))}
          />
        </Group>
        <div>
          <Button onClick={submit} loading={creating.fetching}>
            {t('staff.create')}
          </Button>
        </div>
      </Stack>
    </Card>
  );
}

interface RowProps {
  onDone: Done;
  onPassword: (username: string, password: string) => void;
}

/** A page of the staff (the server pages them by username), with the steps between pages. */
function StaffTable({
  items,
  pages,
  hasMore,
  ...props
}: RowProps & { items: StaffRowFragment[]; pages: CursorPages; hasMore: boolean }) {
  const { t } = useTranslation();
  if (items.length === 0 && pages.first) return <Text>{t('staff.none')}</Text>;
  const last = items[items.length - 1]?.username;
  return (
    <Stack gap="sm">
      <Table.ScrollContainer minWidth={720}>
        <Table striped verticalSpacing="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('staff.username')}</Table.Th>
              <Table.Th>{t('staff.role.label')}</Table.Th>
              <Table.Th>{t('staff.status')}</Table.Th>
              <Table.Th>{t('staff.since')}</Table.Th>
              <Table.Th>{t('staff.actions')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((account) => (
              <StaffRow key={account.id} account={account} {...props} />
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {!pages.first || hasMore ? (
        <Group justify="space-between">
          <Button variant="default" size="compact-sm" disabled={pages.first} onClick={pages.back}>
            {t('staff.page.previous')}
          </Button>
          <Button
            variant="default"
            size="compact-sm"
            disabled={!hasMore || last === undefined}
            onClick={() => {
              if (last) pages.forward(last);
            }}
          >
            {t('staff.page.next')}
          </Button>
        </Group>
      ) : null}
    </Stack>
  );
}

function StaffRow({ account, onDone, onPassword }: RowProps & { account: StaffRowFragment }) {
  const { t, i18n } = useTranslation();
  const [role, setRole] = useState(account.role);
  const [disabling, disable] = useMutation(Disable);
  const [enabling, enable] = useMutation(Enable);
  const [changing, change] = useMutation(ChangeRole);
  const [resetting, reset] = useMutation(Reset);
  const who = account.username;
  return (
    <Table.Tr data-testid="staff-row" data-username={who} data-active={String(account.active)}>
      <Table.Td>
        <Bdi>{who}</Bdi>
      </Table.Td>
      <Table.Td>
        <Group gap="xs" wrap="nowrap">
          <NativeSelect
            aria-label={t('staff.roleOf', { username: who })}
            value={role}
            onChange={(e) => {
              setRole(e.currentTarget.value);
            }}
            data={ROLES.map((r) => ({ value: r, label: t(`staff.role.${r}`) }))}
          />
          {role !== account.role && isRole(role) ? (
            <Button
              size="xs"
              loading={changing.fetching}
              onClick={() => {
                void change({ id: account.id, role }).then((result) => {
                  const key = refusedKey(result.data?.changeStaffRole, !!result.error);
                  if (key !== null) setRole(account.role);
                  onDone(key, { key: 'roleChanged', username: who, role });
                });
              }}
            >
              {t('staff.changeRole')}
            </Button>
          ) : null}
        </Group>
      </Table.Td>
      <Table.Td>
        <Text size="sm" fw={600} c={account.active ? 'teal.9' : 'gray.8'}>
          {t(account.active ? 'staff.active' : 'staff.disabled')}
        </Text>
      </Table.Td>
      <Table.Td>{formatJalaliDate(account.disabledAt ?? account.createdAt, i18n.language)}</Table.Td>
      <Table.Td>
        <Group gap="xs" wrap="nowrap">
          {account.active ? (
            <Button
              size="xs"
              variant="default"
              loading={disabling.fetching}
              aria-label={t('staff.disableOf', { username: who })}
              onClick={() => {
                void disable({ id: account.id }).then((result) => {
                  onDone(
                    refusedKey(result.data?.disableStaffAccount, !!result.error),
                    { key: 'disabledDone', username: who },
                  );
                });
              }}
            >
              {t('staff.disable')}
            </Button>
          ) : (
            <Button
              size="xs"
              variant="default"
              loading={enabling.fetching}
              aria-label={t('staff.enableOf', { username: who })}
              onClick={() => {
                void enable({ id: account.id }).then((result) => {
                  onDone(
                    refusedKey(result.data?.enableStaffAccount, !!result.error),
                    { key: 'enabledDone', username: who },
                  );
                });
              }}
            >
              {t('staff.enable')}
            </Button>
          )}
          <Button
            size="xs"
            variant="default"
            loading={resetting.fetching}
            aria-label={t('staff.resetOf', { username: who })}
            onClick={() => {
              void reset({ id: account.id }).then((result) => {
                const answer = result.data?.resetStaffPassword;
                onDone(
                  refusedKey(answer, !!result.error),
                  { key: 'resetDone', username: who },
                );
                if (answer?.__typename === 'StaffPasswordReset' && answer.generatedPassword) {
                  onPassword(who, answer.generatedPassword);
                }
              });
            }}
          >
            {t('staff.reset')}
          </Button>
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}
