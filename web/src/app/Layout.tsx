/**
 * The shopper app's frame inside the face's header: the pages' navigation (a row of links
 * at desktop width; a tab bar at the bottom at phone width, with the rarer pages under
 * "More"), the page, and a small footer line saying whether the hub answers. The card is
 * one tap from every page in both.
 */
import { Box, Button, Group, Menu, Text } from '@mantine/core';
import {
  IconBuildingStore,
  IconCreditCard,
  IconDots,
  IconGift,
  IconHistory,
  IconHome,
  IconQrcode,
  IconTicket,
  IconUsersGroup,
  type Icon,
} from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink, Outlet, useLocation, useNavigate } from 'react-router';

import classes from './layout.module.css';

type PageKey =
  | 'home'
  | 'card'
  | 'pay'
  | 'history'
  | 'offers'
  | 'shops'
  | 'clubs'
  | 'lotteries';

interface Destination {
  key: PageKey;
  to: string;
  icon: Icon;
}

const MAIN: Destination[] = [
  { key: 'home', to: '/', icon: IconHome },
  { key: 'card', to: '/card', icon: IconQrcode },
  { key: 'pay', to: '/pay', icon: IconCreditCard },
  { key: 'history', to: '/history', icon: IconHistory },
];
const MORE: Destination[] = [
  { key: 'offers', to: '/offers', icon: IconGift },
  { key: 'shops', to: '/shops', icon: IconBuildingStore },
  { key: 'clubs', to: '/clubs', icon: IconUsersGroup },
  { key: 'lotteries', to: '/lotteries', icon: IconTicket },
];

/** The links as a row, for a wide screen. */
function HeaderNav() {
  const { t } = useTranslation();
  return (
    <nav aria-label={t('shopper.nav.label')}>
      <Group gap={4} wrap="wrap" mb="lg" visibleFrom="sm">
        {[...MAIN, ...MORE].map(({ key, to, icon: TabIcon }) => (
          <NavLink key={key} to={to} end={to === '/'} style={{ textDecoration: 'none' }}>
            {({ isActive }) => (
              <Button
                component="span"
                variant={isActive ? 'outline' : 'subtle'}
                fw={isActive ? 700 : 500}
                leftSection={<TabIcon size={18} aria-hidden />}
              >
                {t(`shopper.nav.${key}`)}
              </Button>
            )}
          </NavLink>
        ))}
      </Group>
    </nav>
  );
}

/** The tab bar at the bottom, for a phone. */
function TabBar() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const inMore = MORE.some(({ to }) => pathname === to || pathname.startsWith(`${to}/`));
  return (
    <nav aria-label={t('shopper.nav.tabs')} className={classes.tabBar ?? ''}>
      <ul className={classes.tabs ?? ''}>
        {MAIN.map(({ key, to, icon: TabIcon }) => (
          <li key={key}>
            <NavLink to={to} end={to === '/'} className={classes.tab ?? ''}>
              <TabIcon size={24} aria-hidden />
              {t(`shopper.nav.${key}`)}
            </NavLink>
          </li>
        ))}
        <li>
          <Menu position="top-end" withinPortal>
            <Menu.Target>
              <button
                type="button"
                className={classes.tab ?? ''}
                aria-current={inMore ? 'page' : undefined}
              >
                <IconDots size={24} aria-hidden />
                {t('shopper.nav.more')}
              </button>
            </Menu.Target>
            <Menu.Dropdown>
              {MORE.map(({ key, to, icon: TabIcon }) => (
                <Menu.Item
                  key={key}
                  leftSection={<TabIcon size={18} aria-hidden />}
                  onClick={() => {
                    void navigate(to);
                  }}
                >
                  {t(`shopper.nav.${key}`)}
                </Menu.Item>
              ))}
            </Menu.Dropdown>
          </Menu>
        </li>
      </ul>
    </nav>
  );
}

export function Layout({ status }: { status: ReactNode }) {
  return (
    <div className={classes.page ?? ''}>
      <HeaderNav />
      <Outlet />
      <footer>
        <Text size="xs" c="dimmed" role="status" mt="xl">
          {status}
        </Text>
      </footer>
      <Box hiddenFrom="sm">
        <TabBar />
      </Box>
    </div>
  );
}
