/** Giving a mall user another mall role: their sessions end, the new role applies at their next sign-in. */
import { Text } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';

import { graphql } from '../../gql/hub';
import { Dialog, DialogForm, type Problem } from '../overview/parts';
import { isMallRole, RoleSelect, type MallRole } from './CreateUser';
import type { UserRow } from './ResetPassword';

const ChangeMallUserRole = graphql(`
  mutation ConsoleChangeMallUserRole($id: ID!, $role: StaffRole!) {
    changeStaffRole(id: $id, role: $role) {
      __typename
      ... on StaffAccount {
        id
        role
      }
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

export function ChangeRole({ user, onClose }: { user: UserRow; onClose: () => void }) {
  const { t } = useTranslation();
  const [role, setRole] = useState<MallRole>(isMallRole(user.role) ? user.role : 'MALL_MARKETING');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [{ fetching }, change] = useMutation(ChangeMallUserRole);
  async function submit() {
    const result = (await change({ id: user.id, role })).data?.changeStaffRole;
    if (!result) setProblem({ code: 'UNKNOWN' });
    else if (result.__typename !== 'StaffAccount') setProblem(result);
    else onClose();
  }
  return (
    <Dialog onClose={onClose} title={t('mallUsers.role.title', { name: user.username })}>
      <DialogForm
        onSubmit={() => void submit()}
        onCancel={onClose}
        submitLabel={t('mallUsers.role.submit')}
        fetching={fetching}
        problem={problem}
      >
        <Text size="sm">{t('mallUsers.role.explain')}</Text>
        <RoleSelect value={role} onChange={setRole} error={undefined} />
      </DialogForm>
    </Dialog>
  );
}
