/**
 * The mall management console on the hub (served at /console/): signed in through the hub
 * (SessionGate), then its sections under one router — overview, shops, partnerships,
 * campaigns, lotteries, settlement, network value, mall users, the hub's own messages, what
 * shops sent on the mall's account — each shown in the navigation and opened only for the
 * mall roles that may use it.
 */
import {
  IconAffiliate,
  IconBuildingStore,
  IconCoins,
  IconLayoutDashboard,
  IconMessage2,
  IconMessages,
  IconReceipt,
  IconSpeakerphone,
  IconTicket,
  IconUsersGroup,
} from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';

import { graphql } from '../gql/hub';
import { SCOPE } from '../shared/scopes';
import { FaceNav, guardOf, type Section } from '../shared/ui/FaceNav';
import { ServerFooter } from '../shared/ui/FaceShell';
import { SessionGate } from '../shared/ui/SessionGate';
import { CampaignsPage } from './campaigns/CampaignsPage';
import { LotteriesPage } from './lotteries/LotteriesPage';
import { MessagesLogPage } from './messages-log/MessagesLogPage';
import { OverviewPage } from './overview/OverviewPage';
import { PartnershipsPage } from './partnerships/PartnershipsPage';
import { RelayLogPage } from './relay-log/RelayLogPage';
import { SettlementPage } from './settlement/SettlementPage';
import { ShopsPage } from './shops/ShopsPage';
import { UsersPage } from './users/UsersPage';
import { ValuePage } from './value/ValuePage';

const ConsoleServerInfo = graphql(`
  query ConsoleServerInfo {
    serverInfo {
      role
      version
    }
  }
`);

const EVERY_MALL_ROLE = [
  SCOPE.mallAdmin,
  SCOPE.mallReports,
  SCOPE.mallCampaigns,
  SCOPE.mallSettlement,
] as const;

const SECTIONS = [
  { to: '', label: 'mallOverview.title', icon: IconLayoutDashboard, scopes: EVERY_MALL_ROLE },
  { to: 'shops', label: 'mallShops.title', icon: IconBuildingStore, scopes: [SCOPE.mallAdmin] },
  {
    to: 'partnerships',
    label: 'mallPartnerships.title',
    icon: IconAffiliate,
    scopes: [SCOPE.mallAdmin, SCOPE.mallReports],
  },
  {
    to: 'campaigns',
    label: 'mallCampaigns.title',
    icon: IconSpeakerphone,
    scopes: [SCOPE.mallCampaigns],
  },
  { to: 'lotteries', label: 'mallLotteries.title', icon: IconTicket, scopes: [SCOPE.mallCampaigns] },
  {
    to: 'settlement',
    label: 'mallSettlement.title',
    icon: IconReceipt,
    scopes: [SCOPE.mallSettlement],
  },
  { to: 'value', label: 'mallValue.title', icon: IconCoins, scopes: [SCOPE.mallAdmin, SCOPE.mallReports] },
  { to: 'users', label: 'mallUsers.title', icon: IconUsersGroup, scopes: [SCOPE.mallAdmin] },
  { to: 'messages', label: 'mallMessages.title', icon: IconMessage2, scopes: [SCOPE.mallAdmin] },
  { to: 'shop-messages', label: 'mallRelayed.title', icon: IconMessages, scopes: [SCOPE.mallAdmin] },
] as const satisfies readonly Section[];

const guarded = guardOf(SECTIONS);

function Sections({ footer }: { footer: ReactNode }) {
  const { t } = useTranslation();
  return (
    <BrowserRouter basename="/console">
      <FaceNav label={t('mall.nav.label')} sections={SECTIONS} />
      <Routes>
        <Route index element={guarded('', <OverviewPage />)} />
        <Route path="shops/*" element={guarded('shops', <ShopsPage />)} />
        <Route path="partnerships" element={guarded('partnerships', <PartnershipsPage />)} />
        <Route path="campaigns/*" element={guarded('campaigns', <CampaignsPage />)} />
        <Route path="lotteries/*" element={guarded('lotteries', <LotteriesPage />)} />
        <Route path="settlement/*" element={guarded('settlement', <SettlementPage />)} />
        <Route path="value" element={guarded('value', <ValuePage />)} />
        <Route path="users" element={guarded('users', <UsersPage />)} />
        <Route path="messages" element={guarded('messages', <MessagesLogPage />)} />
        <Route path="shop-messages" element={guarded('shop-messages', <RelayLogPage />)} />
        <Route path="*" element={<Navigate to="/" replace />} />
      </Routes>
      {footer}
    </BrowserRouter>
  );
}

export function Home() {
  const [{ data, fetching, error }] = useQuery({ query: ConsoleServerInfo });
  const footer = (
    <ServerFooter fetching={fetching} failed={!!error} version={data?.serverInfo.version} />
  );
  return (
    <SessionGate face="console">
      <Sections footer={footer} />
    </SessionGate>
  );
}
