/**
 * The shop's members: a search (phone, name, card; ي/ی and ك/ک alike on the server) and
 * filters, one page at a time from the server (cursor paging: the cursors seen are kept to
 * step back), and for managers the same filtered list as a CSV or XLSX file, or a message
 * sent to it.
 */
import {
  Alert,
  Badge,
  Button,
  Group,
  Loader,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { IconDownload, IconSearch } from '@tabler/icons-react';
import { type SubmitEvent, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../../gql/node';
import { formatInteger, formatJalaliDate } from '../../shared/format';
import { problemMessage } from '../../shared/i18n/problems';
import { SHOP_MANAGE } from '../../shared/scopes';
import { downloadFile } from '../../shared/settlement/download';
import { Bdi, Code, Phone, Toman } from '../../shared/ui/Bdi';
import { mayUse, useSession } from '../../shared/ui/session-context';
import { SendToMembers } from '../messaging/SendToMembers';
import { useLocalName } from '../till/common';
import {
  badDates,
  DATE_FIELDS,
  EMPTY_FILTER,
  exportPath,
  type FilterForm,
  filterVariables,
  type MemberFilterVariables,
  type MembershipKind,
} from './filters';

const PAGE = 25;

const Search = graphql(`
  query DashboardMemberSearch($filter: MemberFilterInput, $first: Int!, $after: String) {
    memberSearch(filter: $filter, first: $first, after: $after) {
      __typename
      ... on MemberSearchPage {
        totalCount
        hasNextPage
        endCursor
        items {
          lastVisitAt
          member {
            id
            name
            phone
            cardCode
            membershipType
            tags
            tier {
              current {
                code
                nameFa
                nameEn
              }
            }
            balances {
              points
              creditRial
            }
          }
        }
      }
      ... on InvalidInput {
        code
        problems {
          field
          message
        }
      }
    }
  }
`);

const Tiers = graphql(`
  query DashboardMemberTiers {
    clubPolicy {
      version
      tiers {
        code
        nameFa
        nameEn
      }
    }
  }
`);

const KINDS: MembershipKind[] = ['INDIVIDUAL', 'COMPANY', 'EMPLOYEE'];

function Filters(props: { initial: FilterForm; onApply: (form: FilterForm) => void }) {
  const { t } = useTranslation();
  const localName = useLocalName();
  const [form, setForm] = useState(props.initial);
  const [checked, setChecked] = useState(false);
  const [{ data: policy }] = useQuery({ query: Tiers });
  const wrong = badDates(form);
  const set = (patch: Partial<FilterForm>) => {
    setForm((before) => ({ ...before, ...patch }));
  };

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    setChecked(true);
    if (wrong.length === 0) props.onApply(form);
  };

  return (
    <Paper withBorder p="md" radius="md" component="form" onSubmit={submit} role="search">
      <Stack gap="sm">
        <Group align="end" wrap="wrap">
          <TextInput
            style={{ flex: '1 1 18rem' }}
            label={t('members.search.label')}
            description={t('members.search.hint')}
            value={form.search}
            onChange={(e) => {
              set({ search: e.currentTarget.value });
            }}
            data-testid="member-search"
          />
          <Button type="submit" leftSection={<IconSearch size={18} aria-hidden />}>
            {t('members.search.submit')}
          </Button>
          <Button
            variant="subtle"
            onClick={() => {
              setForm(EMPTY_FILTER);
              setChecked(false);
              props.onApply(EMPTY_FILTER);
            }}
          >
            {t('members.search.clear')}
          </Button>
        </Group>
        <SimpleGrid cols={{ base: 2, md: 4 }} spacing="sm">
          <Select
            label={t('members.filter.tier')}
            placeholder={t('members.filter.any')}
            clearable
            data={(policy?.clubPolicy.tiers ?? []).map((tier) => ({
              value: tier.code,
              label: localName(tier),
            }))}
            value={form.tier}
            onChange={(value) => {
              set({ tier: value });
            }}
          />
          <Select
            label={t('members.filter.membershipType')}
            placeholder={t('members.filter.any')}
            clearable
            data={KINDS.map((kind) => ({ value: kind, label: t(`members.kind.${kind}`) }))}
            value={form.membershipType}
            onChange={(value) => {
              set({ membershipType: value });
            }}
          />
          <TextInput
            label={t('members.filter.tag')}
            value={form.tag}
            onChange={(e) => {
              set({ tag: e.currentTarget.value });
            }}
          />
          {DATE_FIELDS.map((name) => (
            <TextInput
              key={name}
              label={t(`members.filter.${name}`)}
              placeholder={t('members.filter.datePlaceholder')}
              dir="ltr"
              value={form[name]}
              error={checked && wrong.includes(name) ? t('members.filter.badDate') : null}
              onChange={(e) => {
                set({ [name]: e.currentTarget.value });
              }}
            />
          ))}
        </SimpleGrid>
      </Stack>
    </Paper>
  );
}

function ExportButtons({ variables }: { variables: MemberFilterVariables }) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState<'csv' | 'xlsx' | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const save = async (kind: 'csv' | 'xlsx') => {
    setBusy(kind);
    setProblem(null);
    setProblem(await downloadFile(exportPath(kind, variables), `members.${kind}`));
    setBusy(null);
  };
  return (
    <Stack gap="xs">
      <Group gap="xs">
        {(['csv', 'xlsx'] as const).map((kind) => (
          <Button
            key={kind}
            variant="default"
            leftSection={<IconDownload size={18} aria-hidden />}
            loading={busy === kind}
            disabled={busy !== null}
            onClick={() => void save(kind)}
            data-testid={`export-${kind}`}
          >
            {t(`members.export.${kind}`)}
          </Button>
        ))}
      </Group>
      {problem && (
        <Alert color="red" variant="light" role="alert" data-testid="problem">
          {problemMessage(t, problem)}
        </Alert>
      )}
    </Stack>
  );
}

export function MemberList() {
  const { t, i18n } = useTranslation();
  const localName = useLocalName();
  const session = useSession();
  const [form, setForm] = useState(EMPTY_FILTER);
  // The cursors of the pages before this one: a step back pops one.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const variables = useMemo(() => filterVariables(form), [form]);
  const after = cursors[cursors.length - 1] ?? null;
  const [{ data, fetching, error }] = useQuery({
    query: Search,
    variables: { filter: variables, first: PAGE, after },
  });
  const result = data?.memberSearch;
  const page = result?.__typename === 'MemberSearchPage' ? result : null;
  const lang = i18n.language;

  return (
    <Stack gap="md">
      <Group justify="space-between" align="end" wrap="wrap">
        <Title order={2}>{t('members.title')}</Title>
        <Group gap="xs" align="start" wrap="wrap">
          <SendToMembers filter={variables} />
          {mayUse(session, SHOP_MANAGE) && <ExportButtons variables={variables} />}
        </Group>
      </Group>
      <Filters
        initial={form}
        onApply={(next) => {
          setForm(next);
          setCursors([null]);
        }}
      />
      {error && (
        <Alert color="red" role="alert">
          {t('members.failed')}
        </Alert>
      )}
      {result?.__typename === 'InvalidInput' && (
        <Alert color="red" role="alert" data-testid="problem">
          {problemMessage(t, result.code)}
        </Alert>
      )}
      {fetching && !page && <Loader aria-label={t('members.loading')} />}
      {page && (
        <Stack gap="sm">
          <Text size="sm" aria-live="polite" data-testid="member-count">
            {t('members.list.count', { count: page.totalCount, shown: formatInteger(page.totalCount, lang) })}
          </Text>
          <Table.ScrollContainer minWidth={640}>
            <Table striped highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('members.list.name')}</Table.Th>
                  <Table.Th>{t('members.list.phone')}</Table.Th>
                  <Table.Th>{t('members.list.tier')}</Table.Th>
                  <Table.Th>{t('members.list.points')}</Table.Th>
                  <Table.Th>{t('members.list.credit')}</Table.Th>
                  <Table.Th>{t('members.list.lastVisit')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map(({ member, lastVisitAt }) => (
                  <Table.Tr key={member.id} data-testid="member-row">
                    <Table.Td>
                      <Link to={member.id}>{member.name ?? t('members.noName')}</Link>
                      <Text size="xs" c="dimmed">
                        <Code value={member.cardCode} />
                      </Text>
                      {member.tags.length > 0 && (
                        <Group gap={4} mt={2}>
                          {member.tags.map((tag) => (
                            <Badge key={tag} size="sm" variant="outline" tt="none" color="teal.9">
                              {tag}
                            </Badge>
                          ))}
                        </Group>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Phone e164={member.phone} />
                    </Table.Td>
                    <Table.Td>{localName(member.tier.current)}</Table.Td>
                    <Table.Td>
                      <Bdi>{formatInteger(member.balances.points, lang)}</Bdi>
                    </Table.Td>
                    <Table.Td>
                      <Toman rial={member.balances.creditRial} />
                    </Table.Td>
                    <Table.Td>
                      {lastVisitAt ? formatJalaliDate(lastVisitAt, lang, 'medium') : t('members.never')}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {page.items.length === 0 && <Text c="dimmed">{t('members.list.empty')}</Text>}
          <Group justify="space-between">
            <Button
              variant="default"
              disabled={cursors.length < 2 || fetching}
              onClick={() => {
                setCursors((before) => before.slice(0, -1));
              }}
            >
              {t('members.list.previous')}
            </Button>
            <Button
              variant="default"
              disabled={!page.hasNextPage || fetching}
              onClick={() => {
                setCursors((before) => [...before, page.endCursor]);
              }}
              data-testid="next-page"
            >
              {t('members.list.next')}
            </Button>
          </Group>
        </Stack>
      )}
    </Stack>
  );
}
