/**
 * The shop dashboard on the shop's own node (served at /dashboard/): signed in through the
 * hub (SessionGate), then its sections under one router — the till, today's figures,
 * members, messages, offers, the club's policy, the network, settlement, staff — each shown in the navigation
 * and opened only for the roles that may use it, with a line about the server at the foot.
 */
import {
  IconAdjustments,
  IconCashRegister,
  IconChartBar,
  IconDiscount,
  IconMessages,
  IconNetwork,
  IconReceipt,
  IconUserShield,
  IconUsers,
} from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';

import { graphql } from '../gql/node';
import { SHOP_BOOKS, SHOP_MANAGE, SHOP_OPERATE, SHOP_STAFF } from '../shared/scopes';
import { FaceNav, guardOf, type Section } from '../shared/ui/FaceNav';
import { ServerFooter } from '../shared/ui/FaceShell';
import { SessionGate } from '../shared/ui/SessionGate';
import { mayUse, useSession } from '../shared/ui/session-context';
import { MembersPage } from './members/MembersPage';
import { MessagesPage } from './messaging/MessagesPage';
import { NetworkPage } from './network/NetworkPage';
import { OffersPage } from './offers/OffersPage';
import { PolicyPage } from './policy/PolicyPage';
import { SettlementPage } from './settlement/SettlementPage';
import { StaffPage } from './staff/StaffPage';
import { Till } from './till/Till';
import { TodayPage } from './today/TodayPage';

const DashboardServerInfo = graphql(`
  query DashboardServerInfo {
    serverInfo {
      role
      version
      shop
    }
  }
`);

const SECTIONS = [
  { to: '', label: 'dashboard.nav.till', icon: IconCashRegister, scopes: SHOP_OPERATE },
  { to: 'today', label: 'today.title', icon: IconChartBar, scopes: SHOP_STAFF },
  { to: 'members', label: 'members.title', icon: IconUsers, scopes: SHOP_STAFF },
  { to: 'messages', label: 'messaging.title', icon: IconMessages, scopes: SHOP_STAFF },
  { to: 'offers', label: 'offers.title', icon: IconDiscount, scopes: SHOP_STAFF },
  { to: 'policy', label: 'policy.title', icon: IconAdjustments, scopes: SHOP_MANAGE },
  { to: 'network', label: 'shopNetwork.title', icon: IconNetwork, scopes: SHOP_MANAGE },
  { to: 'settlement', label: 'shopSettlement.title', icon: IconReceipt, scopes: SHOP_BOOKS },
  { to: 'staff', label: 'staff.title', icon: IconUserShield, scopes: SHOP_MANAGE },
] as const satisfies readonly Section[];

const guarded = guardOf(SECTIONS);

/** The till for whoever may operate it; an auditor starts at today's figures. */
function Start({ shop }: { shop: string }) {
  const session = useSession();
  if (!mayUse(session, SHOP_OPERATE)) return <Navigate to="/today" replace />;
  return <Till shop={shop} />;
}

function Sections({ shop, footer }: { shop: string; footer: ReactNode }) {
  const { t } = useTranslation();
  return (
    <BrowserRouter basename="/dashboard">
      <FaceNav label={t('dashboard.nav.label')} sections={SECTIONS} />
      <Routes>
        <Route index element={<Start shop={shop} />} />
        <Route path="today" element={guarded('today', <TodayPage />)} />
        <Route path="members/*" element={guarded('members', <MembersPage />)} />
        <Route path="messages" element={guarded('messages', <MessagesPage />)} />
        <Route path="offers/*" element={guarded('offers', <OffersPage />)} />
        <Route path="policy" element={guarded('policy', <PolicyPage />)} />
        <Route path="network" element={guarded('network', <NetworkPage />)} />
        <Route path="settlement" element={guarded('settlement', <SettlementPage />)} />
        <Route path="staff" element={guarded('staff', <StaffPage />)} />
        <Route path="*" element={<Navigate to="/" replace />} />
      </Routes>
      {footer}
    </BrowserRouter>
  );
}

export function Home() {
  const [{ data, fetching, error }] = useQuery({ query: DashboardServerInfo });
  const info = data?.serverInfo;
  const footer = (
    <ServerFooter
      fetching={fetching}
      failed={!!error}
      version={info?.version}
      shop={info?.shop}
    />
  );
  return (
    <SessionGate face="dashboard">
      <Sections shop={info?.shop ?? ''} footer={footer} />
    </SessionGate>
  );
}
