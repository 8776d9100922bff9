/** A member's tags: shown to all staff, added and removed by managers, one at a time. */
import { Alert, Badge, Button, CloseButton, Group, Stack, Text, TextInput } from '@mantine/core';
import { type SubmitEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';

import { graphql } from '../../gql/node';
import { problemMessage } from '../../shared/i18n/problems';

const AddTag = graphql(`
  mutation DashboardAddMemberTag($id: ID!, $tag: String!) {
    addMemberTag(memberId: $id, tag: $tag) {
      __typename
      ... on Member {
        id
        tags
      }
      ... on Problem {
        code
      }
    }
  }
`);

const RemoveTag = graphql(`
  mutation DashboardRemoveMemberTag($id: ID!, $tag: String!) {
    removeMemberTag(memberId: $id, tag: $tag) {
      __typename
      ... on Member {
        id
        tags
      }
      ... on Problem {
        code
      }
    }
  }
`);

export function TagEditor(props: { memberId: string; tags: string[]; editable: boolean }) {
  const { t } = useTranslation();
  const [tag, setTag] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching: adding }, add] = useMutation(AddTag);
  const [{ fetching: removing }, remove] = useMutation(RemoveTag);

  const answered = (result: { __typename?: string; code?: string } | undefined) => {
    if (result?.__typename === 'Member') {
      setProblem(null);
      return true;
    }
    setProblem(result?.code ?? 'UNKNOWN');
    return false;
  };

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (!tag.trim()) return;
    const answer = await add({ id: props.memberId, tag: tag.trim() });
    if (answered(answer.data?.addMemberTag)) setTag('');
  };

  return (
    <Stack gap="xs">
      <Text size="sm" fw={500}>
        {t('members.tags.title')}
      </Text>
      <Group gap={6} data-testid="member-tags">
        {props.tags.length === 0 && (
          <Text size="sm" c="dimmed">
            {t('members.tags.none')}
          </Text>
        )}
        {props.tags.map((name) => (
          <Badge
            key={name}
            variant="default"
            size="lg"
            rightSection={
              props.editable ? (
                <CloseButton
                  size="xs"
                  disabled={removing}
                  aria-label={t('members.tags.remove', { tag: name })}
                  onClick={() =>
                    void remove({ id: props.memberId, tag: name }).then((a) =>
                      answered(a.data?.removeMemberTag),
                    )
                  }
                />
              ) : null
            }
          >
            {name}
          </Badge>
        ))}
      </Group>
      {props.editable && (
        <form onSubmit={(event) => void submit(event)}>
          <Group gap="xs" align="end">
            <TextInput
              label={t('members.tags.new')}
              value={tag}
              maxLength={40}
              onChange={(e) => {
                setTag(e.currentTarget.value);
              }}
              data-testid="tag-input"
            />
            <Button type="submit" variant="default" loading={adding}>
              {t('members.tags.add')}
            </Button>
          </Group>
        </form>
      )}
      {problem && (
        <Alert color="red" variant="light" role="alert">
          {problemMessage(t, problem)}
        </Alert>
      )}
    </Stack>
  );
}
