/**
 * Resetting a mall user's password: type a new one, or leave it empty and the hub
 * chooses one, shown here once. Every session of the account ends either way.
 */
import { Alert, Button, Code, Group, PasswordInput, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';

import { graphql } from '../../gql/hub';
import type { StaffRole } from '../../gql/hub/graphql';
import { Dialog, DialogForm, fieldError, type Problem } from '../overview/parts';

export interface UserRow {
  id: string;
  username: string;
  role: StaffRole;
  active: boolean;
}

/** The alert's title in the text's colour: yellow on light yellow is too faint to read. */
const READABLE_TITLE = { title: { color: 'var(--mantine-color-text)' } };

const ResetMallUserPassword = graphql(`
  mutation ConsoleResetMallUserPassword($id: ID!, $newPassword: String) {
    resetStaffPassword(id: $id, newPassword: $newPassword) {
      __typename
      ... on PasswordReset {
        generatedPassword
      }
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

export function ResetPassword({ user, onClose }: { user: UserRow; onClose: () => void }) {
  const { t } = useTranslation();
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<{ generated: string | null } | null>(null);
  const [{ fetching }, reset] = useMutation(ResetMallUserPassword);
  async function submit() {
    const result = (await reset({ id: user.id, newPassword: password || null })).data
      ?.resetStaffPassword;
    if (!result) setProblem({ code: 'UNKNOWN' });
    else if (result.__typename !== 'PasswordReset') setProblem(result);
    else setDone({ generated: result.generatedPassword ?? null });
  }
  return (
    <Dialog onClose={onClose} title={t('mallUsers.reset.title', { name: user.username })}>
      {done ? (
        <Stack data-testid="password-reset">
          <Text>{t('mallUsers.reset.done')}</Text>
          {done.generated ? (
            <Alert color="yellow" variant="light" styles={READABLE_TITLE} title={t('mallUsers.reset.generatedTitle')}>
              <Code block dir="ltr" data-testid="generated-password">
                {done.generated}
              </Code>
            </Alert>
          ) : null}
          <Group justify="flex-end">
            <Button onClick={onClose}>{t('mallUsers.reset.close')}</Button>
          </Group>
        </Stack>
      ) : (
        <DialogForm
          onSubmit={() => void submit()}
          onCancel={onClose}
          submitLabel={t('mallUsers.reset.submit')}
          fetching={fetching}
          problem={problem}
          danger
        >
          <Text size="sm">{t('mallUsers.reset.explain')}</Text>
          <PasswordInput
            label={t('mallUsers.reset.newPassword')}
            description={t('mallUsers.reset.newPasswordHint')}
            autoComplete="new-password"
            value={password}
            error={fieldError(t, problem, 'newPassword')}
            onChange={(event) => {
              setPassword(event.currentTarget.value);
            }}
          />
        </DialogForm>
      )}
    </Dialog>
  );
}
