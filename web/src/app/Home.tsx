/**
 * The shopper app (served by the hub at /app/): signed in through the hub (SessionGate),
 * then its pages under one router — home, card, pay, history, offers, lotteries, clubs,
 * shops —
 * with the hub's version in a small footer line.
 */
import { useQuery } from 'urql';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';

import { graphql } from '../gql/hub';
import { ServerLine } from '../shared/ui/FaceShell';
import { SessionGate } from '../shared/ui/SessionGate';
import { Layout } from './Layout';
import { CardPage } from './pages/CardPage';
import { ClubsPage } from './pages/ClubsPage';
import { HistoryPage } from './pages/HistoryPage';
import { HomePage } from './pages/HomePage';
import { LotteriesPage } from './pages/LotteriesPage';
import { OffersPage } from './pages/OffersPage';
import { PayPage } from './pages/PayPage';
import { ShopsPage } from './pages/ShopsPage';

const AppServerInfo = graphql(`
  query AppServerInfo {
    serverInfo {
      role
      version
    }
  }
`);

function Pages() {
  const [{ data, fetching, error }] = useQuery({ query: AppServerInfo });
  const status = (
    <ServerLine fetching={fetching} failed={!!error} version={data?.serverInfo.version} />
  );
  return (
    <BrowserRouter basename="/app">
      <Routes>
        <Route element={<Layout status={status} />}>
          <Route index element={<HomePage />} />
          <Route path="card" element={<CardPage />} />
          <Route path="pay" element={<PayPage />} />
          <Route path="history" element={<HistoryPage />} />
          <Route path="offers" element={<OffersPage />} />
          <Route path="lotteries" element={<LotteriesPage />} />
          <Route path="clubs" element={<ClubsPage />} />
          <Route path="shops" element={<ShopsPage />} />
          <Route path="*" element={<Navigate to="/" replace />} />
        </Route>
      </Routes>
    </BrowserRouter>
  );
}

/** The shopper app's root (booted by main.tsx). */
export function Home() {
  return (
    <SessionGate face="app">
      <Pages />
    </SessionGate>
  );
}
