/**
 * The till's one field for finding a shopper: a mobile number, a club card code, or what a
 * handheld scanner types from the network card QR (it ends with Enter) — or the camera.
 */
import { Button, Group, Paper, Stack, TextInput } from '@mantine/core';
import { IconSearch } from '@tabler/icons-react';
import { type SubmitEvent, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useClient } from 'urql';

import { graphql } from '../../gql/node';
import { readShopper } from '../../shared/format/shopper';
import { ScanButton } from '../../shared/ui/ScanButton';
import { type MemberView, ProblemAlert, problemCode } from './common';

const FindMember = graphql(`
  query TillFindMember($ref: MemberRefInput!) {
    member(ref: $ref) {
      __typename
      ...TillMember
      ... on Problem {
        code
      }
    }
  }
`);

export type Found =
  | { kind: 'member'; member: MemberView }
  | { kind: 'notMember'; phone: string | null };

export function FindShopper(props: {
  onFound: (found: Found) => void;
  /** Changes when the till is ready for the next shopper: the field takes the focus. */
  focusKey: number;
}) {
  const { t } = useTranslation();
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => {
    field.current?.focus();
  }, [props.focusKey]);
  const client = useClient();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [unreadable, setUnreadable] = useState(false);

  const find = async (typed: string) => {
    const refs = readShopper(typed);
    setProblem(null);
    setUnreadable(refs.length === 0);
    if (refs.length === 0) return;
    setBusy(true);
    try {
      for (const ref of refs) {
        const answer = await client
          .query(FindMember, { ref }, { requestPolicy: 'network-only' })
          .toPromise();
        const result = answer.data?.member;
        if (!result) {
          setProblem('UNKNOWN');
          return;
        }
        if (result.__typename === 'Member') {
          setText('');
          props.onFound({ kind: 'member', member: result });
          return;
        }
        const code = problemCode(result);
        if (code !== 'MEMBER_NOT_FOUND') {
          setProblem(code);
          return;
        }
      }
      const phone = refs.find((ref) => 'phone' in ref);
      setText('');
      props.onFound({ kind: 'notMember', phone: phone && 'phone' in phone ? phone.phone : null });
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    void find(text);
  };

  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="find-title">
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          <TextInput
            ref={field}
            id="find-shopper"
            label={<span id="find-title">{t('till.find.label')}</span>}
            description={t('till.find.hint')}
            value={text}
            onChange={(event) => {
              setText(event.currentTarget.value);
              setUnreadable(false);
            }}
            error={unreadable ? t('till.find.unreadable') : undefined}
            autoComplete="off"
            inputMode="text"
            dir="auto"
            size="md"
          />
          <Group gap="sm">
            <Button type="submit" loading={busy} leftSection={<IconSearch size={18} aria-hidden />}>
              {t('till.find.submit')}
            </Button>
            <ScanButton
              onRead={(scanned) => {
                setText(scanned);
                void find(scanned);
              }}
              labels={{
                open: t('till.scan.open'),
                title: t('till.scan.cardTitle'),
                hint: t('till.scan.hint'),
                failed: t('till.scan.failed'),
                close: t('till.scan.close'),
              }}
            />
          </Group>
          <ProblemAlert code={problem} />
        </Stack>
      </form>
    </Paper>
  );
}
