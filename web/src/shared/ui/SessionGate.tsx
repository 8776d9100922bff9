/**
 * A face that needs someone signed in: asks its server who is (never a token), sends a
 * visitor without a session to the server's sign-in (`/<face>/login`), and shows who is
 * signed in with a sign-out button in the face's header. When the check fails because the
 * device is offline it says so (not "failed") and checks again once the device is back online.
 */
import { Button, Group, Stack, Text } from '@mantine/core';
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';

import { localDigits } from '../format';
import { onSessionLost } from '../graphql/client';
import {
  fetchSession,
  loginUrl,
  loginUrlBackTo,
  type Session,
  type SessionFace,
  signOut,
} from '../session/session';
import { FaceShell } from './FaceShell';
import { SessionContext } from './session-context';
import { isOnline } from './OfflineNotice';

type State =
  | { kind: 'checking' }
  | { kind: 'failed' }
  | { kind: 'offline' }
  | { kind: 'signedOut' }
  | { kind: 'redirecting' }
  | { kind: 'signedIn'; session: Extract<Session, { signedIn: true }> };

/** "Signed in as …" (the name isolated, in the page's digits) and the sign-out button. */
export function AccountBar(props: { name: string | null; onSignOut: () => void }) {
  const { t, i18n } = useTranslation();
  const who = props.name ? (
    <Trans
      i18nKey="session.signedInAs"
      values={{ name: localDigits(props.name, i18n.language) }}
      components={{ bdi: <bdi dir="ltr" /> }}
    />
  ) : (
    t('session.signedIn')
  );
  return (
    <Group gap="xs" wrap="nowrap">
      <Text size="sm" data-testid="signed-in">
        {who}
      </Text>
      <Button variant="subtle" size="compact-sm" onClick={props.onSignOut}>
        {t('session.signOut')}
      </Button>
    </Group>
  );
}

export function SessionGate({ face, children }: { face: SessionFace; children: ReactNode }) {
  const { t } = useTranslation();
  const [state, setState] = useState<State>({ kind: 'checking' });
  // Bumped to check again (when the device comes back online).
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    fetchSession(face).then(
      (session) => {
        if (!live) return;
        if (session.signedIn) {
          setState({ kind: 'signedIn', session });
        } else {
          setState({ kind: 'redirecting' });
          window.location.assign(loginUrlBackTo(session.loginUrl, window.location.pathname));
        }
      },
      () => {
        if (live) setState({ kind: isOnline() ? 'failed' : 'offline' });
      },
    );
    return () => {
      live = false;
    };
  }, [face, attempt]);
  // A call the server refused for want of a session: check again now (and so be sent to
  // sign in), not on the next reload.
  useEffect(
    () =>
      onSessionLost(() => {
        setState({ kind: 'checking' });
        setAttempt((n) => n + 1);
      }),
    [],
  );
  const offline = state.kind === 'offline';
  useEffect(() => {
    if (!offline) return;
    const retry = () => {
      setState({ kind: 'checking' });
      setAttempt((n) => n + 1);
    };
    window.addEventListener('online', retry);
    return () => {
      window.removeEventListener('online', retry);
    };
  }, [offline]);
  const leave = useCallback(() => {
    signOut(face).then(
      () => {
        setState({ kind: 'signedOut' });
      },
      () => {
        setState({ kind: 'failed' });
      },
    );
  }, [face]);
  if (state.kind === 'signedIn') {
    const account = <AccountBar name={state.session.name} onSignOut={leave} />;
    return (
      <SessionContext.Provider value={state.session}>
        <FaceShell face={face} account={account}>
          {children}
        </FaceShell>
      </SessionContext.Provider>
    );
  }
  const line = {
    checking: t('session.checking'),
    redirecting: t('session.redirecting'),
    failed: t('session.failed'),
    offline: t('offline.session'),
    signedOut: t('session.signedOut'),
  }[state.kind];
  return (
    <FaceShell face={face}>
      <Stack gap="md">
        <Text role="status">{line}</Text>
        {state.kind === 'signedOut' || state.kind === 'failed' ? (
          <Group>
            <Button component="a" href={loginUrl(face)}>
              {t('session.signIn')}
            </Button>
          </Group>
        ) : null}
      </Stack>
    </FaceShell>
  );
}
