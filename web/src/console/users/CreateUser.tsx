/** Creating a mall user: a username, a password of 10-128 characters, and a mall role. */
import { PasswordInput, Select, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';

import { graphql } from '../../gql/hub';
import type { StaffRole } from '../../gql/hub/graphql';
import { Dialog, DialogForm, fieldError, type Problem } from '../overview/parts';

const CreateMallUser = graphql(`
  mutation ConsoleCreateMallUser($input: CreateStaffAccountInput!) {
    createStaffAccount(input: $input) {
      __typename
      ... on StaffAccount {
        id
        username
      }
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

export const MALL_ROLES = ['MALL_ADMIN', 'MALL_MARKETING', 'MALL_FINANCE'] as const satisfies readonly StaffRole[];
export type MallRole = (typeof MALL_ROLES)[number];

export function roleKey(role: StaffRole) {
  switch (role) {
    case 'MALL_ADMIN':
      return 'mallUsers.role.admin' as const;
    case 'MALL_MARKETING':
      return 'mallUsers.role.marketing' as const;
    case 'MALL_FINANCE':
      return 'mallUsers.role.finance' as const;
    default:
      return 'mallUsers.role.staff' as const;
  }
}

export function isMallRole(value: string | null): value is MallRole {
  return (MALL_ROLES as readonly (string | null)[]).includes(value);
}

export function CreateUser({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<MallRole>('MALL_MARKETING');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [{ fetching }, create] = useMutation(CreateMallUser);
  async function submit() {
    const result = (await create({ input: { username: username.trim(), password, role } })).data
      ?.createStaffAccount;
    if (!result) setProblem({ code: 'UNKNOWN' });
    else if (result.__typename !== 'StaffAccount') setProblem(result);
    else onClose();
  }
  return (
    <Dialog onClose={onClose} title={t('mallUsers.create.title')}>
      <DialogForm
        onSubmit={() => void submit()}
        onCancel={onClose}
        submitLabel={t('mallUsers.create.submit')}
        fetching={fetching}
        problem={problem}
      >
        <TextInput
          label={t('mallUsers.field.username')}
          description={t('mallUsers.field.usernameHint')}
          required
          dir="ltr"
          autoComplete="off"
          value={username}
          error={fieldError(t, problem, 'username')}
          onChange={(event) => {
            setUsername(event.currentTarget.value);
          }}
        />
        <PasswordInput
          label={t('mallUsers.field.password')}
          description={t('mallUsers.field.passwordHint')}
          required
          autoComplete="new-password"
          value={password}
          error={fieldError(t, problem, 'password')}
          onChange={(event) => {
            setPassword(event.currentTarget.value);
          }}
        />
        <RoleSelect value={role} onChange={setRole} error={fieldError(t, problem, 'role')} />
      </DialogForm>
    </Dialog>
  );
}

/** A mall role, chosen among the three. */
export function RoleSelect({
  value,
  onChange,
  error,
}: {
  value: MallRole;
  onChange: (role: MallRole) => void;
  error: string | undefined;
}) {
  const { t } = useTranslation();
  return (
    <Select
      label={t('mallUsers.field.role')}
      required
      allowDeselect={false}
      data={MALL_ROLES.map((role) => ({ value: role, label: t(roleKey(role)) }))}
      value={value}
      error={error}
      onChange={(role) => {
        if (isMallRole(role)) onChange(role);
      }}
    />
  );
}
