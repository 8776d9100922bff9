/**
 * Settlement in the mall console (mall finance, `mall:settlement`): the periods and closing
 * the open one (with its progress), a closed period's positions, payment instructions,
 * every shop's statement, audit and corrections (`periods/<id>`), the versioned policy
 * (`policy`) and the shops' prepaid deposits (`deposits`). Each part has its own address,
 * so a page left and opened again shows what the server says now.
 */
import { Button, Group, Stack, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Navigate, NavLink, Route, Routes, useLocation } from 'react-router';

import { DepositsPanel } from './DepositsPanel';
import { PeriodDetail } from './PeriodDetail';
import { PeriodsPanel } from './PeriodsPanel';
import { PolicyPanel } from './PolicyPanel';

const PARTS = [
  { to: '', label: 'mallSettlement.tabs.periods' },
  { to: 'policy', label: 'mallSettlement.tabs.policy' },
  { to: 'deposits', label: 'mallSettlement.tabs.deposits' },
] as const;

function Parts() {
  const { t } = useTranslation();
  const here = useLocation().pathname.replace(/\/+$/, '').split('/settlement')[1] ?? '';
  return (
    <Group gap="xs" component="nav" aria-label={t('mallSettlement.tabs.label')}>
      {PARTS.map((part) => {
        const active = here === (part.to ? `/${part.to}` : '') || (part.to === '' && here.startsWith('/periods'));
        return (
          <Button
            key={part.to}
            component={NavLink}
            to={part.to ? `/settlement/${part.to}` : '/settlement'}
            end
            variant={active ? 'filled' : 'default'}
            aria-current={active ? 'page' : undefined}
            size="sm"
          >
            {t(part.label)}
          </Button>
        );
      })}
    </Group>
  );
}

export function SettlementPage() {
  const { t } = useTranslation();
  return (
    <Stack gap="lg">
      <Title order={2}>
        {t('mallSettlement.title')}
      </Title>
      <Parts />
      <Routes>
        <Route index element={<PeriodsPanel />} />
        <Route path="periods/:id" element={<PeriodDetail />} />
        <Route path="policy" element={<PolicyPanel />} />
        <Route path="deposits" element={<DepositsPanel />} />
        <Route path="*" element={<Navigate to="/settlement" replace />} />
      </Routes>
    </Stack>
  );
}
