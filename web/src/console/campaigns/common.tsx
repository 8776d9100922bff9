/**
 * What the campaign and lottery sections share: the shops to invite (the directory), a
 * typed problem as a sentence (with the field at fault), a page of a table, a query
 * re-asked while something runs on the server.
 */
import { Alert, Anchor, Group, MultiSelect, Pagination, Stack, Text, Title } from '@mantine/core';
import { type ReactNode, useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { formatInteger } from '../../shared/format';
import { problemMessage } from '../../shared/i18n/problems';

export const PAGE_SIZE = 10;

const DirectoryShops = graphql(`
  query ConsoleEventShops {
    directory {
      slug
      nameFa
      nameEn
    }
  }
`);

export function useShopNames(): { options: { value: string; label: string }[]; name: (slug: string) => string } {
  const { i18n } = useTranslation();
  const [{ data }] = useQuery({ query: DirectoryShops });
  const shops = data?.directory ?? [];
  const label = (s: { nameFa: string; nameEn: string; slug: string }) =>
    (i18n.language === 'fa' ? s.nameFa : s.nameEn) || s.slug;
  return {
    options: shops.map((s) => ({ value: s.slug, label: label(s) })),
    name: (slug) => {
      const shop = shops.find((s) => s.slug === slug);
      return shop ? label(shop) : slug;
    },
  };
}

export function ShopPicker({
  id,
  label,
  value,
  onChange,
  error,
  description,
  disabled = false,
}: {
  id: string;
  label: string;
  value: string[];
  onChange: (shops: string[]) => void;
  error?: string | null | undefined;
  description?: string | undefined;
  disabled?: boolean;
}) {
  const { options } = useShopNames();
  return (
    <MultiSelect
      id={id}
      label={label}
      description={description}
      data={options}
      value={value}
      onChange={onChange}
      searchable
      disabled={disabled}
      error={error}
    />
  );
}

/** A mutation's answer when it is a problem: its code, message and field. */
export interface Problem {
  code: string;
  message?: string | undefined;
  field?: string | null;
}

export function asProblem(result: { __typename?: string } & Record<string, unknown>): Problem | null {
  if (typeof result.code !== 'string') return null;
  return {
    code: result.code,
    message: typeof result.message === 'string' ? result.message : undefined,
    field: typeof result.field === 'string' ? result.field : null,
  };
}

/** The problem as a sentence in the page's language, the server's detail under it. */
export function ProblemAlert({ problem }: { problem: Problem | null }) {
  const { t } = useTranslation();
  if (!problem) return null;
  return (
    <Alert color="red" variant="light" role="alert" data-testid="problem">
      <Text size="sm">{problemMessage(t, problem.code)}</Text>
      {problem.field ? (
        <Text size="xs" c="dimmed">
          {t('mallCampaigns.problemField', { field: t(`mallCampaigns.fieldName.${problem.field}`, problem.field) })}
        </Text>
      ) : null}
    </Alert>
  );
}

/** The page numbers under a table, with where the rows shown stand. */
export function Pager({
  page,
  total,
  onPage,
}: {
  page: number;
  total: number;
  onPage: (page: number) => void;
}) {
  const { t, i18n } = useTranslation();
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  return (
    <Group justify="space-between">
      <Text size="sm" c="dimmed">
        {t('mallCampaigns.rows', { total: formatInteger(total, i18n.language) })}
      </Text>
      {pages > 1 ? (
        <Pagination
          total={pages}
          value={page}
          onChange={onPage}
          getControlProps={(control) => ({
            'aria-label': t(`mallCampaigns.pager.${control}`),
          })}
          getItemProps={(n) => ({ 'aria-label': t('mallCampaigns.pager.page', { page: formatInteger(n, i18n.language) }) })}
        />
      ) : null}
    </Group>
  );
}

/** Re-ask a query every `ms` while `active` (a draw running, a budget being spent). */
export function usePolling(active: boolean, refresh: () => void, ms: number) {
  useEffect(() => {
    if (!active) return undefined;
    const timer = window.setInterval(refresh, ms);
    return () => { window.clearInterval(timer); };
  }, [active, refresh, ms]);
}

/** The share of a budget spent, 0-100 (whole percent, cut down). */
export function spentPercent(spentRial: number, budgetRial: number): number {
  if (budgetRial <= 0) return 0;
  return Math.min(100, Math.floor((spentRial * 100) / budgetRial));
}

/** A section's "new" page: its title, a way back to the list, and the form. */
export function NewPage({ title, back, children }: { title: string; back: string; children: ReactNode }) {
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={2}>{title}</Title>
        <Anchor component={Link} to="..">
          {back}
        </Anchor>
      </Group>
      {children}
    </Stack>
  );
}
