/**
 * Mall users: the mall's own accounts a page at a time (username, role, since, state),
 * creating one (mall admin, marketing or finance), disabling and enabling it, and
 * resetting its password (typed, or chosen by the hub and shown once). Disabling or a
 * reset ends every session of the account at once.
 */
import { Badge, Button, Group, Stack, Table, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { formatJalaliDate } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { ScrollTable } from '../../shared/settlement/ScrollTable';
import { HeadRow, NoAnswer, PAGE_SIZE, Pager, ProblemText, type Problem } from '../overview/parts';
import { CreateUser, roleKey } from './CreateUser';
import { ChangeRole } from './ChangeRole';
import { ResetPassword, type UserRow } from './ResetPassword';

const MallUserPageQuery = graphql(`
  query ConsoleMallUserPage($first: Int!, $offset: Int!) {
    mallUserPage(first: $first, offset: $offset) {
      __typename
      ... on MallUserPage {
        total
        items {
          id
          username
          role
          createdAt
          active
        }
      }
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

const DisableAccount = graphql(`
  mutation ConsoleDisableMallUser($id: ID!) {
    disableStaffAccount(id: $id) {
      __typename
      ... on StaffAccount {
        id
        active
      }
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

const EnableAccount = graphql(`
  mutation ConsoleEnableMallUser($id: ID!) {
    enableStaffAccount(id: $id) {
      __typename
      ... on StaffAccount {
        id
        active
      }
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

type UserDialog = { kind: 'create' } | { kind: 'reset' | 'role'; user: UserRow };

export function UsersPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [offset, setOffset] = useState(0);
  const [dialog, setDialog] = useState<UserDialog | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [{ data, fetching, error }, refetch] = useQuery({
    query: MallUserPageQuery,
    variables: { first: PAGE_SIZE, offset },
  });
  const [disabling, disable] = useMutation(DisableAccount);
  const [enabling, enable] = useMutation(EnableAccount);
  const page = data?.mallUserPage;
  const reload = () => {
    refetch({ requestPolicy: 'network-only' });
  };
  const closeDialog = () => {
    setDialog(null);
    reload();
  };
  async function toggle(user: UserRow) {
    const result = user.active
      ? (await disable({ id: user.id })).data?.disableStaffAccount
      : (await enable({ id: user.id })).data?.enableStaffAccount;
    if (!result) setProblem({ code: 'UNKNOWN' });
    else if (result.__typename !== 'StaffAccount') setProblem(result);
    else {
      setProblem(null);
      reload();
    }
  }
  return (
    <Stack gap="md">
      <Group justify="space-between" wrap="wrap">
        <Title order={2}>{t('mallUsers.title')}</Title>
        <Button
          onClick={() => {
            setDialog({ kind: 'create' });
          }}
        >
          {t('mallUsers.create.open')}
        </Button>
      </Group>
      <ProblemText problem={problem} />
      {!page ? (
        <NoAnswer fetching={fetching} failed={!!error} />
      ) : page.__typename !== 'MallUserPage' ? (
        <ProblemText problem={page} />
      ) : (
        <>
          <ScrollTable minWidth={640} label={t('mallUsers.title')}>
            <Table striped withTableBorder data-testid="users">
              <HeadRow
                columns={[
                  t('mallUsers.column.username'),
                  t('mallUsers.column.role'),
                  t('mallUsers.column.since'),
                  t('mallUsers.column.state'),
                  t('mallOverview.common.actions'),
                ]}
              />
              <Table.Tbody>
                {page.items.map((user) => (
                  <Table.Tr key={user.id} data-testid={`user-${user.username}`}>
                    <Table.Td>
                      <Bdi>{user.username}</Bdi>
                    </Table.Td>
                    <Table.Td>{t(roleKey(user.role))}</Table.Td>
                    <Table.Td>{formatJalaliDate(user.createdAt, lang, 'medium')}</Table.Td>
                    <Table.Td>
                      <Badge variant="outline" tt="none" color={user.active ? 'teal.9' : 'red.9'}>
                        {t(user.active ? 'mallUsers.active' : 'mallUsers.disabled')}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Group gap="xs" wrap="nowrap">
                        <Button
                          size="xs"
                          variant="outline"
                          color={user.active ? 'red.9' : 'teal.9'}
                          loading={disabling.fetching || enabling.fetching}
                          aria-label={t(user.active ? 'mallUsers.disableLabel' : 'mallUsers.enableLabel', {
                            name: user.username,
                          })}
                          onClick={() => void toggle(user)}
                        >
                          {t(user.active ? 'mallUsers.disable' : 'mallUsers.enable')}
                        </Button>
                        <Button
                          size="xs"
                          variant="default"
                          aria-label={t('mallUsers.role.label', { name: user.username })}
                          onClick={() => {
                            setDialog({ kind: 'role', user });
                          }}
                        >
                          {t('mallUsers.role.open')}
                        </Button>
                        <Button
                          size="xs"
                          variant="default"
                          aria-label={t('mallUsers.reset.label', { name: user.username })}
                          onClick={() => {
                            setDialog({ kind: 'reset', user });
                          }}
                        >
                          {t('mallUsers.reset.open')}
                        </Button>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
          <Pager total={page.total} offset={offset} onOffset={setOffset} />
        </>
      )}
      {dialog?.kind === 'create' ? <CreateUser onClose={closeDialog} /> : null}
      {dialog?.kind === 'reset' ? <ResetPassword user={dialog.user} onClose={closeDialog} /> : null}
      {dialog?.kind === 'role' ? <ChangeRole user={dialog.user} onClose={closeDialog} /> : null}
    </Stack>
  );
}
